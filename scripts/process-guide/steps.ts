/**
 * A process's steps as a numbered list: what each step type does, who works it, its form,
 * outcomes and deadlines, where it goes next, and any setting the guide has no words for yet.
 */

import { LOOKUP_SOURCE_INFO } from '../../lang/lookup';
import { ruleOf } from '../../lang/check-in';
import type { CheckInSpec, DefinitionSpec, StepSpec } from '../../lang/definition';
import { SHOWN_FORM_FIELD } from '../../lang/definition';
import { allSteps } from '../../lang/steps';
import { STATUS_LABELS } from './labels';
import { code } from './markdown';
import {
  deadlineLines,
  durationText,
  fieldLabel,
  formText,
  recipientsText,
  roleLabel,
  selectorText,
  stepRef,
  unitRefText,
  unitTypeText,
} from './phrases';
import type { Process } from './processes';

/** Fields each step type is rendered from; others (added to the language later) are listed as they are. */
const RENDERED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  task: ['candidates', 'form', 'outcomes', 'onReturn', 'announce', 'deadlines', 'checkIn'],
  claim: [
    'direction',
    'candidates',
    'claimants',
    'within',
    'onUnclaimed',
    'announce',
    'deadlines',
    'checkIn',
  ],
  timer: ['duration', 'until', 'after'],
  decision: ['branches', 'otherwise'],
  notify: ['template', 'to'],
  feedback: ['within', 'from', 'invite', 'template'],
  publish: ['title', 'show', 'photos'],
  subprocess: ['definition', 'data', 'forEach', 'unit', 'wait'],
  parallel: ['join', 'branches'],
  repeat: ['times', 'every', 'dates', 'steps'],
  lookup: ['source', 'period', 'unit', 'max'],
  grant: ['post', 'unit', 'person', 'newPerson', 'account'],
  end: ['status'],
  evaluation: [
    'orders',
    'criteria',
    'groups',
    'orderRating',
    'responsible',
    'within',
    'at',
    'deadlines',
  ],
  recurrence: ['cases', 'place', 'threshold', 'definition'],
  assessment: ['cases', 'subjects', 'figures', 'weight', 'review'],
};
const COMMON_FIELDS = ['id', 'name', 'type', 'next'];

/** A step's location check-in (签到) in words. */
function checkInText(spec: CheckInSpec, on: 'completion' | 'report-in'): string {
  const rule = ruleOf(spec)!;
  const limit =
    rule.withinMeters === null
      ? ''
      : `; within ${rule.withinMeters} m of the case's place, farther is flagged`;
  return `Check-in (签到): the phone's location with each ${on}, ${rule.required ? 'required' : 'optional'}${limit}`;
}

export function stepLines(
  spec: DefinitionSpec,
  step: StepSpec,
  steps: ReadonlyMap<string, StepSpec>,
  processes: ReadonlyMap<string, Process>,
): string[] {
  const details: string[] = [];
  const generic = step as unknown as Record<string, unknown> & { type: string };
  let summary = '';
  switch (step.type) {
    case 'task': {
      summary = 'a human task (办理任务): claimed (签收), then completed with an outcome';
      details.push(`Who: ${step.candidates.map((c) => selectorText(spec, c)).join('; or ')}`);
      if (step.form) details.push(`Form: ${formText(step.form.fields)}`);
      details.push(
        `Outcomes: ${step.outcomes
          .map(
            (o) =>
              `${code(o.id)} ${o.name}${o.requiresComment ? ' (comment required)' : ''}${o.next !== undefined ? ` → ${stepRef(steps, o.next)}` : ''}`,
          )
          .join('; ')}`,
      );
      if (step.onReturn !== undefined) {
        details.push(`Returned (退单): goes to ${stepRef(steps, step.onReturn)}`);
      }
      if (!step.announce) details.push('No assignment mail (announce: false).');
      if (step.checkIn !== undefined) details.push(checkInText(step.checkIn, 'completion'));
      for (const d of step.deadlines) details.push(...deadlineLines(spec, d, true));
      break;
    }
    case 'claim': {
      const { min } = step.claimants;
      const max =
        typeof step.claimants.max === 'object'
          ? `the number ${code(step.claimants.max.expression)} gives`
          : step.claimants.max;
      const how =
        max === 'all'
          ? 'a roll-call (点名报到): every candidate is to report by claiming'
          : max === 1
            ? 'the first claim takes it'
            : `${min}–${max} claimants`;
      summary = `a claim pool (认领, ${step.direction === 'offer' ? 'offer: a resource is offered' : 'demand: a need is offered'}); ${how}`;
      details.push(`Who: ${step.candidates.map((c) => selectorText(spec, c)).join('; and ')}`);
      details.push(
        `Open ${step.within !== undefined ? `for ${durationText(step.within)}` : `until ${max === 'all' ? 'everyone has claimed' : `${max} claimed`}`}${step.onUnclaimed !== undefined ? `; with fewer than ${min} claimant${min === 1 ? '' : 's'} then → ${stepRef(steps, step.onUnclaimed)}` : ''}`,
      );
      if (!step.announce) details.push('No announcement mail (announce: false).');
      if (step.checkIn !== undefined) details.push(checkInText(step.checkIn, 'report-in'));
      for (const d of step.deadlines) details.push(...deadlineLines(spec, d, true));
      break;
    }
    case 'timer':
      summary =
        step.duration !== undefined
          ? `waits ${durationText(step.duration)}`
          : step.after !== undefined
            ? `waits until ${durationText(step.after)} after ${code(step.until ?? '?')}`
            : `waits until ${code(step.until ?? '?')}`;
      break;
    case 'decision':
      summary = 'a decision (条件分支)';
      for (const b of step.branches) details.push(`if ${code(b.when)} → ${stepRef(steps, b.next)}`);
      details.push(`otherwise → ${stepRef(steps, step.otherwise)}`);
      break;
    case 'notify':
      summary = `mails ${recipientsText(spec, step.to)} (template ${code(step.template)})`;
      break;
    case 'feedback': {
      const named = (step.from ?? []).filter((r) => r !== 'requester');
      const raters =
        step.from === undefined
          ? 'the requester'
          : [
              ...(step.from.includes('requester') ? ['the requester'] : []),
              ...(named.length > 0 ? [recipientsText(spec, named)] : []),
            ].join(' or ');
      summary = `${raters} rates the service 1–5 within ${durationText(step.within)} (the first rating counts; no rating by then is recorded as none)`;
      details.push(
        step.invite !== undefined
          ? `Invitation: ${recipientsText(spec, step.invite)} (mail ${code(step.template)})`
          : named.length > 0
            ? `Invitation: the raters named (mail ${code(step.template)})`
            : 'No invitation mail: a dispatcher records the rating (`POST /api/v1/cases/:id/rating`).',
      );
      break;
    }
    case 'publish': {
      summary = `publishes the case on the public board (公示) as “${step.title}”`;
      const shown = step.show.map((name) => {
        const ref = SHOWN_FORM_FIELD.exec(name);
        if (ref !== null) {
          // A task's form field: its label as that task's form gives it.
          const source = allSteps(spec).find((s) => s.step.id === ref[1])?.step;
          const form = source?.type === 'task' ? source.form : undefined;
          const field = form?.fields.find((f) => f.name === ref[2]);
          return `${code(name)} ${field?.label ?? ''}${field?.personal ? ' (masked)' : ''}`.trim();
        }
        const field = spec.input.fields.find((f) => f.name === name);
        return `${fieldLabel(spec, name)}${field?.personal ? ' (masked)' : ''}`;
      });
      details.push(`Shows: ${shown.length > 0 ? shown.join(', ') : 'the outcome only'}`);
      if (step.photos) details.push("Photos: the case's photos too (metadata removed)");
      break;
    }
    case 'subprocess': {
      const child = processes.get(step.definition);
      const childName = child ? `[${child.spec.name}](#${step.definition})` : code(step.definition);
      const forEach =
        step.forEach === undefined
          ? 'one case'
          : typeof step.forEach === 'string'
            ? `one case per value of ${code(step.forEach)}`
            : `one case per ${unitTypeText(step.forEach.units.type)} unit within ${unitRefText(spec, step.forEach.units.within)}`;
      summary = `starts ${forEach} of ${childName} (${code(step.definition)})${step.wait ? ' and waits for them to end' : ', without waiting'}`;
      if (step.unit !== undefined) details.push(`Child unit: ${code(step.unit)}`);
      const data = Object.entries(step.data);
      if (data.length > 0) {
        details.push(`Child data: ${data.map(([k, v]) => `${code(k)} = ${code(v)}`).join('; ')}`);
      }
      break;
    }
    case 'parallel':
      summary = `runs ${step.branches.length} branches at once (并行), ${step.join === 'all' ? 'waiting for all of them' : step.join === 'any' ? 'until the first finishes (the others are cancelled)' : `until ${step.join.atLeast} of them finish (the others are cancelled)`}`;
      break;
    case 'end':
      summary = `ends the case: ${STATUS_LABELS[step.status] ?? step.status}`;
      break;
    case 'repeat':
      summary =
        step.dates !== undefined
          ? `runs its block once per date of ${code(step.dates)} (重复执行, at most 24), each on its date`
          : `runs its block ${step.times ?? 0} times (重复执行)${step.every !== undefined ? `, ${durationText(step.every)} from one start to the next` : ', one after the other'}`;
      break;
    case 'evaluation': {
      summary = 'an evaluation round (评单评议): the orders of the period are scored';
      details.push(
        `Orders closed from ${code(step.orders.from)} to ${code(step.orders.to)}${step.orders.definitions ? ` of ${step.orders.definitions.map(code).join(', ')}` : ' of the service orders (processes with an acceptance and a feedback step)'}`,
      );
      details.push(
        `Criteria (1–5 each): ${step.criteria.map((c) => `${code(c.id)} ${c.name}`).join(', ')}`,
      );
      for (const g of step.groups) {
        const scorers =
          g.meeting !== undefined
            ? `a 评单会 per ${g.meeting.unitsOfType}: its host (${code(g.meeting.host)} of the ${g.meeting.unitsOfType}) records the meeting's collective scores of the orders there`
            : g.scorers === 'requester'
              ? 'whoever filed each order'
              : g.scorers === 'served'
                ? "each order's resident served (its requester, when a resident's account filed it)"
                : (g.scorers ?? []).map((s) => selectorText(spec, s)).join('; ');
        details.push(`Group ${code(g.id)} ${g.name}, weight ${g.weight}%: ${scorers}`);
      }
      if (step.orderRating) {
        details.push(
          `The requester's own rating counts as a score of ${code(step.orderRating.group)}`,
        );
      }
      details.push(`Results per unit answered for by ${roleLabel(spec, step.responsible)}`);
      details.push(
        `Closes ${step.within !== undefined ? `after ${durationText(step.within)}` : `on ${code(step.at ?? '?')}`}; scorers score through \`/api/v1/evaluations/:roundId\``,
      );
      for (const d of step.deadlines) details.push(...deadlineLines(spec, d, true));
      break;
    }
    case 'recurrence': {
      const child = processes.get(step.definition);
      const childName = child ? `[${child.spec.name}](#${step.definition})` : code(step.definition);
      summary = `finds the recurring requests (未诉先办): ${step.threshold} or more of one category at one ${unitTypeText(step.place)} open a case of ${childName} (${code(step.definition)}) there`;
      details.push(
        `Requests received from ${code(step.cases.from)} to ${code(step.cases.to)} of ${step.cases.definitions.map(code).join(', ')}, under the case's unit`,
      );
      break;
    }
    case 'assessment': {
      summary =
        "the street's assessment of the departments (条块考核): each serving department's figures are weighed into a score, the leadership reviews and may veto";
      details.push(
        `Cases received from ${code(step.cases.from)} to ${code(step.cases.to)} of ${step.cases.definitions.map(code).join(', ')}, filed at or below the case's unit (or started by a case filed there)`,
      );
      details.push(`Assessed: the serving units of type ${code(step.subjects)}`);
      details.push(
        `Score 0–100: ${step.figures.map((f) => `${code(f.figure)} ${f.weight}%`).join(', ')} (a rate with nothing to divide by is left out, the others renormalised)`,
      );
      details.push(`The street's weight in each department's annual score: ${step.weight}%`);
      details.push(
        `Review ${step.review.name ?? ''} by ${step.review.candidates.map((s) => selectorText(spec, s)).join('; ')}: confirm, veto departments (一票否决) each with a reason; then one annual assessment record (kind \`department\`) per department`,
      );
      for (const d of step.review.deadlines) details.push(...deadlineLines(spec, d, true));
      break;
    }
    case 'lookup':
      summary = `reads ${code(step.source)} into the case (读取登记数据): ${LOOKUP_SOURCE_INFO[step.source].description}`;
      {
        // What this source reads (lang/lookup.ts): only dual-report-members reads people up to `max`.
        const parts = [
          ...(step.unit !== undefined ? [`Unit ${code(step.unit)}`] : []),
          ...(step.period !== undefined ? [`Year ${code(step.period)}`] : []),
          ...(step.source === 'dual-report-members'
            ? [`at most ${step.max} people (more fail the case)`]
            : []),
        ];
        const holds = LOOKUP_SOURCE_INFO[step.source].properties
          .filter((p) => p !== 'status' && p !== 'source')
          .map((p) => `\`${p}\``)
          .join(', ');
        details.push(
          [...parts, `\`steps.${step.id}\` holds ${holds}`]
            .map((p, i) => (i === 0 ? p.charAt(0).toUpperCase() + p.slice(1) : p))
            .join('; '),
        );
      }
      break;
    case 'grant':
      summary = `grants the post ${roleLabel(spec, step.post)} in ${unitRefText(spec, step.unit)} in the org data (登记到组织架构)`;
      if (step.person !== undefined) details.push(`To the person ${code(step.person)}`);
      if (step.newPerson !== undefined) {
        details.push(
          `${step.person !== undefined ? 'When that gives nobody, to' : 'To'} a new person recorded from the case: name ${code(step.newPerson.name)}${step.newPerson.phone !== undefined ? `, phone ${code(step.newPerson.phone)}` : ''}${step.newPerson.email !== undefined ? `, email ${code(step.newPerson.email)}` : ''}`,
        );
      }
      if (step.account === 'requester') {
        details.push(
          "Linked to the requester's sign-in account when a resident filed it from their own (the account's person, if it has one, is the one granted; a link taking another person's account is refused and said)",
        );
      }
      details.push(
        `\`steps.${step.id}\` holds \`personId\`, \`unitId\`, \`post\`, \`created\`${step.account !== undefined ? ', `account`' : ''}; an unknown unit or person fails the case`,
      );
      break;
    default:
      summary = `a step of type ${code(generic.type)}`;
  }
  const known = [...COMMON_FIELDS, ...(RENDERED_FIELDS[generic.type] ?? [])];
  for (const [key, value] of Object.entries(generic).sort(([a], [b]) => a.localeCompare(b))) {
    if (known.includes(key) || value === undefined) continue;
    details.push(`${code(key)}: ${code(JSON.stringify(value))}`);
  }
  const next =
    'next' in step && step.next !== undefined ? ` Then → ${stepRef(steps, step.next)}.` : '';
  const lines = [`**${step.name}** (${code(step.id)}, ${generic.type}): ${summary}.${next}`];
  for (const d of details) {
    lines.push(d.startsWith('  - ') ? `  ${d}` : `- ${d}`);
  }
  if (step.type === 'repeat') {
    lines.push('- Each time:');
    const blockSteps = new Map(step.steps.map((s) => [s.id, s as StepSpec]));
    step.steps.forEach((s, j) => {
      const [first, ...rest] = stepLines(spec, s, blockSteps, processes);
      lines.push(`  ${j + 1}. ${first}`, ...rest.map((l) => `     ${l}`));
    });
  }
  if (step.type === 'parallel') {
    step.branches.forEach((branch, i) => {
      lines.push(`- Branch ${i + 1}, **${branch.name}**:`);
      const branchSteps = new Map(branch.steps.map((s) => [s.id, s as StepSpec]));
      branch.steps.forEach((s, j) => {
        const [first, ...rest] = stepLines(spec, s, branchSteps, processes);
        lines.push(`  ${j + 1}. ${first}`, ...rest.map((l) => `     ${l}`));
      });
    });
  }
  return lines;
}

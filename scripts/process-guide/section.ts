/**
 * One process's section of the guide: who starts it, its schedule, its parents, input,
 * categories, deadlines, steps, points, other settings and its worked example.
 */

import type { DemoCounty } from './demo-county';
import { exampleLines } from './example';
import { ROLE_LABELS } from '../../common/roles';
import type { ScheduleSpec } from '../../lang/definition';
import { WEEKDAYS } from '../../lang/definition';
import { unitTypesOf } from '../../lang/vocabulary';
import { code, joinLines, unfold } from './markdown';
import { deadlineLines, fieldTable, selectorText, stepRef } from './phrases';
import type { Process, StartedBy } from './processes';
import { stepLines } from './steps';

export function processSection(
  process: Process,
  processes: ReadonlyMap<string, Process>,
  startedBy: readonly StartedBy[],
  demo: DemoCounty,
): string[] {
  const { spec } = process;
  const lines: string[] = [
    `<a id="${spec.key}"></a>`,
    '',
    `### ${spec.name}`,
    '',
    `Key ${code(spec.key)} · file [\`definitions/${process.file}\`](../definitions/${process.file})`,
    '',
  ];
  if (spec.description !== undefined) lines.push(unfold(spec.description), '');
  if (process.header.length > 0) lines.push(`> ${joinLines(process.header)}`, '');

  lines.push(
    `**Who starts it:** ${spec.starters.map((r) => `${r} ${ROLE_LABELS[r]}`).join(', ')}.`,
  );
  if (spec.schedule !== undefined) {
    const s = spec.schedule;
    const month = s.month !== undefined ? ` in month ${s.month} of each ${s.every}` : '';
    const unit =
      s.unitsOfType !== undefined
        ? `, one case for each ${unitTypesOf(s.unitsOfType).join(' and each ')}${s.under !== undefined ? ` under ${code(s.under)} (${demo.unitName(s.under)})` : ' of the org tree'}`
        : s.unit !== undefined
          ? ` for ${code(s.unit)} (${demo.unitName(s.unit)})`
          : ' for the whole org tree';
    const data = Object.keys(s.data).length > 0 ? ` with data ${code(JSON.stringify(s.data))}` : '';
    lines.push(
      '',
      `**Schedule:** every ${s.every}${month}${dayOf(s)} at ${s.at} Beijing time${unit}${data} (a Temporal Schedule; also startable through the API).`,
    );
  }
  if (startedBy.length > 0) {
    const parents = startedBy.map(
      ({ parent, step }) =>
        `[${parent.spec.name}](#${parent.spec.key}) (step ${code(step.id)} ${step.name}${step.forEach !== undefined ? ', one case each' : ''})`,
    );
    lines.push('', `**Started as a sub-process by:** ${parents.join('; ')}.`);
  }
  if (spec.open311 !== undefined && spec.open311 !== false) {
    lines.push('', '**Open311:** offered as a GeoReport v2 service (`/open311/v2`).');
  }
  if (spec.roles.length > 0) {
    lines.push(
      '',
      `**Declared post roles:** ${spec.roles.map((r) => `${code(r.key)} ${r.label}`).join(', ')}.`,
    );
  }
  lines.push('', '#### Input', '', ...fieldTable(spec.input.fields));
  if (spec.categories !== undefined) {
    lines.push(
      '',
      '**Categories** (send one as `category`):',
      '',
      ...spec.categories.map(
        (c) =>
          `- ${code(c.code)} ${c.name}${c.group !== undefined ? ` (${c.group})` : ''}${c.description !== undefined ? `: ${c.description}` : ''}`,
      ),
    );
  }
  if (spec.deadlines.length > 0) {
    lines.push('', '**Case deadlines** (办结时限):', '');
    for (const d of spec.deadlines) {
      const [first, ...rest] = deadlineLines(spec, d, false);
      lines.push(`- ${first}`, ...rest);
    }
  }
  lines.push('', '#### Steps', '');
  const steps = new Map(spec.steps.map((s) => [s.id, s]));
  if (spec.start !== undefined) lines.push(`Starts at ${stepRef(steps, spec.start)}.`, '');
  spec.steps.forEach((step, i) => {
    const [first, ...rest] = stepLines(spec, step, steps, processes);
    // Continuation lines line up under the item's text: 3 spaces after "9. ", 4 after "10. ".
    const indent = ' '.repeat(`${i + 1}. `.length);
    lines.push(`${i + 1}. ${first}`, ...rest.map((l) => `${indent}${l}`));
  });
  if (spec.points !== undefined && spec.points.length > 0) {
    lines.push('', '**Points** (积分):', '');
    for (const rule of spec.points) {
      const to =
        rule.to === undefined ? ['assignee'] : Array.isArray(rule.to) ? rule.to : [rule.to];
      const whom = to
        .map((t) => (typeof t === 'string' ? `the ${t}` : selectorText(spec, t)))
        .join('; ');
      lines.push(
        `- ${typeof rule.points === 'number' ? rule.points : `${code(rule.points.expression)} (rounded)`} points to ${whom} when ${stepRef(steps, rule.when.step)}${rule.when.outcome !== undefined ? ` completes with ${code(rule.when.outcome)}` : ' completes'}: ${rule.reason}`,
      );
    }
  }
  if (spec.result !== undefined) {
    lines.push('', '**Handed to the case that started it** (`result`, section 6.10.1):', '');
    lines.push(
      `- outcome: ${spec.result.outcome !== undefined ? code(spec.result.outcome) : 'the id of the end step it closed at'}`,
    );
    for (const [name, source] of Object.entries(spec.result.data ?? {})) {
      lines.push(`- ${code(name)}: ${code(source)}`);
    }
  }
  const rendered = new Set([
    'key',
    'result',
    'name',
    'description',
    'categories',
    'open311',
    'starters',
    'roles',
    'input',
    'deadlines',
    'start',
    'steps',
    'schedule',
    'points',
  ]);
  const others = Object.entries(spec).filter(([k, v]) => !rendered.has(k) && v !== undefined);
  if (others.length > 0) {
    lines.push('', '**Other settings:**', '');
    for (const [k, v] of others.sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`- ${code(k)}: ${code(JSON.stringify(v))}`);
    }
  }
  lines.push(
    '',
    '#### Try it with the demo county',
    '',
    ...exampleLines(process, processes, demo),
    '',
  );
  return lines;
}

const ORDINALS = ['first', 'second', 'third', 'fourth'];

/** The day part of a schedule in words: ", on day 5", ", on the first wednesday", ", on friday". */
function dayOf(s: ScheduleSpec): string {
  const weekday = typeof s.weekday === 'number' ? WEEKDAYS[s.weekday - 1] : s.weekday;
  if (s.week !== undefined && weekday !== undefined) {
    return `, on the ${ORDINALS[s.week - 1]} ${weekday}`;
  }
  if (weekday !== undefined) return `, on ${weekday}`;
  if (s.every === 'day') return '';
  return `, on day ${s.day ?? 1}`;
}

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { format } from 'prettier/standalone';
import * as markdownPlugin from 'prettier/plugins/markdown';
import { validateCaseData } from '../lang/case-data';
import type {
  DeadlineSpec,
  DefinitionSpec,
  FieldSpec,
  PeopleSelector,
  RecipientSpec,
  StepSpec,
  UnitRef,
} from '../lang/definition';
import { BUILTIN_POST_ROLES } from '../lang/vocabulary';
import { validateDefinitionSource } from '../lang/source';
import { evaluateCondition } from '../lang/expression';
import type { UnitRelation } from '../common/org-tree';
import {
  childrenByParent,
  OrgTree,
  resolveEscalationTarget,
  unitsAtOrBelow,
} from '../common/org-tree';
import { allSteps } from '../lang/steps';
import type { DemoAccount } from '../demo/county';
import { DEMO_DECLARED_ROLES, DEMO_PASSWORD, generateDemoCounty } from '../demo/county';
import { createMailRenderer } from '../mail/renderer';

/**
 * Writes `docs/process-library.md` (`npm run process-guide`): a guide to every process shipped in
 * `definitions/`, generated from the definitions themselves (parsed and validated as publishing
 * does), with a worked example per process against the demo county. A unit test fails when the
 * committed guide differs from what this generates, so run it after changing a definition.
 * Deterministic: no clock, files and groups in a fixed order.
 */

const ROOT = path.resolve(__dirname, '..');
const DEFINITIONS_DIR = path.join(ROOT, 'definitions');
export const PROCESS_GUIDE_PATH = path.join(ROOT, 'docs', 'process-library.md');

/** Which section each process goes under; anything not listed goes under 其他. */
const GROUPS: ReadonlyArray<{ title: string; keys: readonly string[] }> = [
  {
    title: '居民诉求与服务',
    keys: [
      'resident-request',
      'four-step-service',
      'grid-event',
      'property-54321',
      'order-service',
      'three-orders',
    ],
  },
  {
    title: '共建与认领',
    keys: [
      'closed-loop-demand',
      'three-lists',
      'three-lists-resource',
      'micro-wish',
      'whistle-call',
    ],
  },
  {
    title: '督办与周期性工作',
    keys: [
      'dispute-screening',
      'quarterly-round',
      'evaluation-round',
      'secretary-project',
      'work-admission',
      'emergency-activation',
    ],
  },
  {
    title: '系统流程',
    keys: ['whistle-department', 'dispute-report', 'quarterly-community', 'emergency-compound'],
  },
];
const OTHER_GROUP = '其他';

/** The demo unit a case of each process is started for (default: 文化路社区). */
const EXAMPLE_UNITS: Readonly<Record<string, string>> = {
  'resident-request': 'demo-wenhualu-g1-c1-b1-e1-f3',
  'grid-event': 'demo-wenhualu-g1',
  'property-54321': 'demo-wenhualu-g1-c1',
  'dispute-report': 'demo-wenhualu-g1',
  'dispute-screening': 'demo-chengguan',
  'quarterly-round': 'demo-chengguan',
  'evaluation-round': 'demo-chengguan',
  'emergency-compound': 'demo-wenhualu-g1-c1',
  'three-lists-resource': 'demo-cb-peoples-hospital',
  'whistle-department': 'demo-dept-housing',
};
const DEFAULT_EXAMPLE_UNIT = 'demo-wenhualu';

/** Example values by field name (checked against each field like any other value). */
const SAMPLE_VALUES: Readonly<Record<string, unknown>> = {
  title: '小区南门路灯损坏',
  description: '小区南门两盏路灯不亮，夜间出行不便。',
  location: '文化路惠民小区南门',
  address: '惠民小区 1 号楼 1 单元 301',
  contactEmail: 'resident@example.com',
  reporterEmail: 'resident@example.com',
  residentName: '王秀英',
  wish: '为独居老人更换一台电饭煲',
  reason: '暴雨红色预警，启动防汛应急响应',
  year: 2026,
  quarterEnd: '2026-06-30',
  period: '2026-06-01',
  departments: ['demo-dept-housing', 'demo-dept-urban-management'],
  requestingUnit: 'demo-dept-civil-affairs',
  caller: 'demo-wenhualu',
  lead: true,
};
/** Per process, where a generic value would read oddly. */
const PROCESS_SAMPLES: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'closed-loop-demand': {
    title: '老旧小区加装电梯政策宣讲',
    description: '向居民宣讲加装电梯补贴政策。',
  },
  'three-lists': { title: '老年人助餐服务', description: '为辖区 80 岁以上独居老人提供助餐。' },
  'three-lists-resource': { title: '义诊进社区', description: '每月一次，内科、眼科医生坐诊。' },
  'work-admission': {
    title: '垃圾分类入户宣传',
    description: '组织网格员入户发放垃圾分类宣传册。',
  },
  'four-step-service': { title: '办理居住证明' },
};

const ROLE_LABELS: Readonly<Record<string, string>> = {
  admin: '管理员',
  dispatcher: '派单员',
  staff: '工作人员',
  resident: '居民',
  system: '系统（API key）',
};
const UNIT_TYPE_LABELS: Readonly<Record<string, string>> = {
  county: '县/区',
  street: '街道',
  community: '社区',
  grid: '网格',
  compound: '小区',
  building: '楼栋',
  entrance: '单元',
  floor: '楼层',
  cobuilding: '共建单位',
  department: '职能部门',
};
const STATUS_LABELS: Readonly<Record<string, string>> = {
  closed: 'closed (办结)',
  rejected: 'rejected (不予受理)',
  cancelled: 'cancelled (撤销)',
};
/** Which starter role is tried first for the example: the least privileged that may start it. */
const STARTER_PREFERENCE = ['resident', 'staff', 'dispatcher', 'admin'] as const;

interface Process {
  file: string;
  spec: DefinitionSpec;
  header: string[];
}

interface StartedBy {
  parent: Process;
  step: StepSpec & { type: 'subprocess' };
}

// ── loading ─────────────────────────────────────────────────────────────────────────────────

function loadProcesses(): Process[] {
  const knownTemplates = createMailRenderer().templateNames;
  const files = readdirSync(DEFINITIONS_DIR)
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json'))
    .sort();
  return files.map((file) => {
    const text = readFileSync(path.join(DEFINITIONS_DIR, file), 'utf8');
    const result = validateDefinitionSource(text, file.endsWith('.json') ? 'json' : 'yaml', {
      knownTemplates,
    });
    if (!result.ok) {
      const problems = result.problems
        .map((p) => `  ${p.line ?? '?'}:${p.column ?? '?'} ${p.path}: ${p.message}`)
        .join('\n');
      throw new Error(`definitions/${file} is not valid:\n${problems}`);
    }
    return { file, spec: result.spec, header: headerComment(text) };
  });
}

/** The `#` lines at the top of a file, without the editor's schema line. */
function headerComment(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) break;
    if (line.startsWith('# yaml-language-server:')) continue;
    lines.push(line.replace(/^#\s?/, '').trim());
  }
  return lines;
}

/** Chinese characters and punctuation (—“”…), between which a line break is no space. */
const CJK = /[\u2014\u2018-\u201d\u2026\u3000-\u9fff\uff00-\uffef]/;

/** YAML folds `>-` lines with a space; between two Chinese characters it is none. */
function unfold(text: string): string {
  return text
    .trim()
    .replace(/(\S) (?=\S)/g, (m, before: string, offset: number) =>
      CJK.test(before) && CJK.test(text.trim()[offset + 2] ?? '') ? before : m,
    );
}

/** Joins wrapped lines into a paragraph: a space only between two non-CJK characters. */
function joinLines(lines: readonly string[]): string {
  return lines
    .filter((l) => l.length > 0)
    .reduce((text, line) => {
      if (text.length === 0) return line;
      const glue = CJK.test(text.at(-1)!) && CJK.test(line[0]!) ? '' : ' ';
      return text + glue + line;
    }, '');
}

// ── the demo county ─────────────────────────────────────────────────────────────────────────

class DemoCounty {
  readonly county = generateDemoCounty();
  readonly tree = new OrgTree(this.county.units, this.county.posts);
  private readonly children = childrenByParent(this.county.units);

  /** A unit's name; below a compound, with the compound's (惠民小区 1号楼 1单元 3层). */
  unitName(id: string): string {
    if (!this.tree.has(id)) return id;
    const chain = this.tree.ancestry(id);
    const compound = chain.findIndex((u) => u.type === 'compound');
    return (compound > 0 ? chain.slice(0, compound + 1) : chain.slice(0, 1))
      .reverse()
      .map((u) => u.name)
      .join(' ');
  }

  account(username: string): DemoAccount {
    const account = this.county.accounts.find((a) => a.username === username);
    if (!account) throw new Error(`no demo account "${username}"`);
    return account;
  }

  /** The units an account may file cases for; null: any (admins, residents). */
  scopeOf(account: DemoAccount): Set<string> | null {
    if (account.roles.includes('admin') || account.roles.includes('resident')) return null;
    return unitsAtOrBelow(this.children, account.unitIds);
  }

  /** The account that starts the example: the least privileged, narrowest one that may. */
  starter(spec: DefinitionSpec, unitId: string): DemoAccount | null {
    for (const role of STARTER_PREFERENCE) {
      if (!spec.starters.includes(role)) continue;
      const fitting = this.county.accounts
        .filter((a) => a.roles.includes(role))
        .map((a) => ({ account: a, scope: this.scopeOf(a) }))
        .filter(({ scope }) => scope === null || scope.has(unitId))
        .sort((a, b) => (a.scope?.size ?? Infinity) - (b.scope?.size ?? Infinity));
      if (fitting.length > 0) return fitting[0]!.account;
    }
    return null;
  }

  /** The narrowest dispatcher account whose scope covers a unit (to hand a task to). */
  dispatcherFor(unitId: string): DemoAccount | null {
    const fitting = this.county.accounts
      .filter((a) => a.roles.includes('dispatcher'))
      .map((a) => ({ account: a, scope: this.scopeOf(a) }))
      .filter(({ scope }) => scope !== null && scope.has(unitId))
      .sort((a, b) => a.scope!.size - b.scope!.size);
    return fitting[0]?.account ?? null;
  }

  /** Units of a type at or below one, parents' children in id order (as the fan-out finds them). */
  unitsOfType(type: string, withinId: string): string[] {
    if (!this.tree.has(withinId)) return [];
    return this.tree
      .descendants(withinId)
      .filter((u) => u.type === type)
      .map((u) => u.id);
  }

  /** The people a role selector means for a case of `caseUnitId` (null when it cannot tell). */
  people(
    selector: PeopleSelector,
    caseUnitId: string,
    data: Record<string, unknown>,
  ): string[] | null {
    if ('person' in selector) return [selector.person];
    if (!('role' in selector)) return null;
    const ref = 'unit' in selector ? selector.unit : selector.under;
    const base = this.baseOf(ref, caseUnitId, data);
    if (base === null) return null;
    const relation = relationOf(ref);
    if ('unit' in selector) {
      return resolveEscalationTarget(this.tree, base, relation, selector.role)?.people ?? [];
    }
    const under = this.tree.relate(base, relation);
    if (!under) return [];
    return this.unitsOfType(selector.unitsOfType, under.id).flatMap((u) =>
      this.tree.holders(u, selector.role),
    );
  }

  private baseOf(ref: UnitRef, caseUnitId: string, data: Record<string, unknown>): string | null {
    if (typeof ref === 'string') return ref === 'assignee' ? null : caseUnitId;
    if (ref.of === 'case') return caseUnitId;
    if (ref.of === 'assignee' || 'expression' in ref.of) return null;
    const value = data[ref.of.field];
    return typeof value === 'string' && this.tree.has(value) ? value : null;
  }
}

function relationOf(ref: UnitRef): UnitRelation {
  const at =
    typeof ref === 'string' ? (ref === 'case' || ref === 'assignee' ? 'self' : ref) : ref.at;
  if (at === 'self') return { kind: 'self' };
  if (at === 'parent') return { kind: 'parent' };
  return { kind: 'nearest', type: at };
}

// ── rendering helpers ───────────────────────────────────────────────────────────────────────

const code = (s: string | number): string => {
  const text = String(s);
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
};
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function roleLabel(spec: DefinitionSpec, role: string): string {
  const label =
    spec.roles.find((r) => r.key === role)?.label ??
    BUILTIN_POST_ROLES[role] ??
    DEMO_DECLARED_ROLES.find((r) => r.key === role)?.label;
  return label === undefined ? code(role) : `${label} (${code(role)})`;
}

function unitTypeText(type: string): string {
  const label = UNIT_TYPE_LABELS[type];
  return label === undefined ? code(type) : `${type} ${label}`;
}

function fieldLabel(spec: DefinitionSpec, name: string): string {
  const field = spec.input.fields.find((f) => f.name === name);
  return field ? `${code(name)} ${field.label}` : code(name);
}

function unitRefText(spec: DefinitionSpec, ref: UnitRef): string {
  if (typeof ref === 'string') {
    if (ref === 'case') return "the case's unit";
    if (ref === 'assignee') return "the assignee's unit";
    if (ref === 'parent') return "the parent of the case's unit";
    return `the case's ${unitTypeText(ref)}`;
  }
  const of =
    ref.of === 'case'
      ? "the case's unit"
      : ref.of === 'assignee'
        ? "the assignee's unit"
        : 'field' in ref.of
          ? `the unit in ${fieldLabel(spec, ref.of.field)}`
          : `the unit ${code(ref.of.expression)}`;
  if (ref.at === 'self') return of;
  if (ref.at === 'parent') return `the parent of ${of}`;
  return `the ${unitTypeText(ref.at)} of ${of}`;
}

function selectorText(spec: DefinitionSpec, selector: PeopleSelector): string {
  if ('role' in selector && 'unit' in selector) {
    return `${roleLabel(spec, selector.role)} of ${unitRefText(spec, selector.unit)}`;
  }
  if ('role' in selector) {
    return `every ${roleLabel(spec, selector.role)} of the ${unitTypeText(selector.unitsOfType)} units under ${unitRefText(spec, selector.under)}`;
  }
  if ('person' in selector) return `the person ${code(selector.person)}`;
  if ('expression' in selector) return `the person(s) given by ${code(selector.expression)}`;
  if ('claimantsOf' in selector) return `whoever claimed ${code(selector.claimantsOf)}`;
  return code(JSON.stringify(selector));
}

function recipientText(spec: DefinitionSpec, recipient: RecipientSpec): string {
  if (recipient === 'assignee') return 'the assignee';
  if (recipient === 'candidates') return 'the candidates (the assignee once claimed)';
  if (recipient === 'unacknowledged') return 'the candidates who have not reported yet';
  if (typeof recipient === 'string') return code(recipient);
  if ('field' in recipient) return `the address in ${fieldLabel(spec, recipient.field)}`;
  if ('address' in recipient) return code(recipient.address);
  return selectorText(spec, recipient);
}

function recipientsText(spec: DefinitionSpec, value: RecipientSpec | RecipientSpec[]): string {
  return (Array.isArray(value) ? value : [value]).map((r) => recipientText(spec, r)).join('; ');
}

const ISO_DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const ISO_UNITS = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'];

/** `PT30M` → `30 minutes (PT30M)`; working time is already words. */
function durationText(duration: string): string {
  const match = ISO_DURATION.exec(duration);
  if (!match) return duration;
  const parts = ISO_UNITS.flatMap((unit, i) => {
    const n = match[i + 1];
    return n === undefined ? [] : [`${n} ${unit}${n === '1' ? '' : 's'}`];
  });
  return parts.length > 0 ? `${parts.join(' ')} (${code(duration)})` : code(duration);
}

function stepRef(steps: ReadonlyMap<string, StepSpec>, id: string): string {
  const step = steps.get(id);
  return step ? `${code(id)} ${step.name}` : code(id);
}

function deadlineLines(spec: DefinitionSpec, deadline: DeadlineSpec, onStep: boolean): string[] {
  const when =
    deadline.within !== undefined
      ? `within ${durationText(deadline.within)}`
      : `on ${code(deadline.at ?? '?')} (the end of that day, Beijing time, for a date)`;
  const stops = onStep
    ? deadline.stopsOn === 'claim'
      ? 'stops when claimed (签收)'
      : 'stops when completed (办结)'
    : 'stops when the case ends';
  const head = `Deadline **${deadline.name}** (${code(deadline.id)}): ${when}; ${stops}${deadline.pausable ? '' : '; keeps running while the case is paused'}.`;
  const lines = [head];
  for (const r of deadline.reminders) {
    lines.push(
      `  - reminder ${durationText(r.before)} before: ${recipientsText(spec, r.notify)} (mail ${code(r.template)})`,
    );
  }
  for (const e of deadline.escalations) {
    const at = e.after === undefined ? 'at the deadline' : `${durationText(e.after)} after it`;
    lines.push(
      `  - escalation ${at}: ${recipientsText(spec, e.notify)} (mail ${code(e.template)}${e.reassign ? ', and the task is handed to them' : ''})`,
    );
  }
  return lines;
}

function fieldTypeText(field: FieldSpec): string {
  return field.multiple ? `list of ${field.type}` : field.type;
}

function fieldLimits(field: FieldSpec): string {
  const limits: string[] = [];
  if (field.options) limits.push(`one of: ${field.options.join('、')}`);
  if (field.maxLength !== undefined) limits.push(`at most ${field.maxLength} characters`);
  if (field.min !== undefined) limits.push(`≥ ${field.min}`);
  if (field.max !== undefined) limits.push(`≤ ${field.max}`);
  if (field.multiple) limits.push(`at most ${field.maxItems ?? 50} values`);
  return limits.join('; ');
}

function fieldTable(fields: readonly FieldSpec[]): string[] {
  if (fields.length === 0) return ['No input fields.'];
  return [
    '| field | label | type | required | options / limits | personal |',
    '| --- | --- | --- | --- | --- | --- |',
    ...fields.map(
      (f) =>
        `| ${code(f.name)} | ${cell(f.label)} | ${fieldTypeText(f)} | ${f.required ? 'yes' : ''} | ${cell(fieldLimits(f))} | ${f.personal ? 'yes (masked in public)' : ''} |`,
    ),
  ];
}

function formText(fields: readonly FieldSpec[]): string {
  return fields
    .map((f) => {
      const extras = [fieldTypeText(f), f.required ? 'required' : '', fieldLimits(f)].filter(
        (s) => s.length > 0,
      );
      return `${code(f.name)} ${f.label} (${extras.join(', ')})`;
    })
    .join('; ');
}

// ── steps ───────────────────────────────────────────────────────────────────────────────────

/** Fields each step type is rendered from; others (added to the language later) are listed as they are. */
const RENDERED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  task: ['candidates', 'form', 'outcomes', 'onReturn', 'announce', 'deadlines'],
  claim: ['direction', 'candidates', 'claimants', 'within', 'onUnclaimed', 'announce', 'deadlines'],
  timer: ['duration', 'until'],
  decision: ['branches', 'otherwise'],
  notify: ['template', 'to'],
  feedback: ['within', 'invite', 'template'],
  publish: ['title', 'show'],
  subprocess: ['definition', 'data', 'forEach', 'unit', 'wait'],
  parallel: ['join', 'branches'],
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
};
const COMMON_FIELDS = ['id', 'name', 'type', 'next'];

function stepLines(
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
      for (const d of step.deadlines) details.push(...deadlineLines(spec, d, true));
      break;
    }
    case 'claim': {
      const { min, max } = step.claimants;
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
      for (const d of step.deadlines) details.push(...deadlineLines(spec, d, true));
      break;
    }
    case 'timer':
      summary =
        step.duration !== undefined
          ? `waits ${durationText(step.duration)}`
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
    case 'feedback':
      summary = `the requester rates the service 1–5 within ${durationText(step.within)} (no rating by then is recorded as none)`;
      details.push(
        step.invite !== undefined
          ? `Invitation: ${recipientsText(spec, step.invite)} (mail ${code(step.template)})`
          : 'No invitation mail: a dispatcher records the rating (`POST /api/v1/cases/:id/rating`).',
      );
      break;
    case 'publish': {
      summary = `publishes the case on the public board (公示) as “${step.title}”`;
      const shown = step.show.map((name) => {
        const field = spec.input.fields.find((f) => f.name === name);
        return `${fieldLabel(spec, name)}${field?.personal ? ' (masked)' : ''}`;
      });
      details.push(`Shows: ${shown.length > 0 ? shown.join(', ') : 'the outcome only'}`);
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
      summary = `runs ${step.branches.length} branches at once (并行), ${step.join === 'all' ? 'waiting for all of them' : 'until the first finishes (the others are cancelled)'}`;
      break;
    case 'end':
      summary = `ends the case: ${STATUS_LABELS[step.status] ?? step.status}`;
      break;
    case 'evaluation': {
      summary = 'an evaluation round (评单评议): the orders of the period are scored';
      details.push(
        `Orders closed from ${code(step.orders.from)} to ${code(step.orders.to)}${step.orders.definitions ? ` of ${step.orders.definitions.map(code).join(', ')}` : ' of every other process'}`,
      );
      details.push(
        `Criteria (1–5 each): ${step.criteria.map((c) => `${code(c.id)} ${c.name}`).join(', ')}`,
      );
      for (const g of step.groups) {
        const scorers =
          g.scorers === 'requester'
            ? 'whoever filed each order'
            : g.scorers.map((s) => selectorText(spec, s)).join('; ');
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

// ── the example ─────────────────────────────────────────────────────────────────────────────

function sampleValue(key: string, field: FieldSpec, unitId: string): unknown {
  const known = PROCESS_SAMPLES[key]?.[field.name] ?? SAMPLE_VALUES[field.name];
  if (known !== undefined) {
    return field.multiple && !Array.isArray(known) ? [known] : known;
  }
  let value: unknown;
  switch (field.type) {
    case 'string':
      value = field.options?.[0] ?? `示例${field.label}`;
      break;
    case 'text':
      value = field.options?.[0] ?? `示例：${field.label}`;
      break;
    case 'integer':
    case 'number':
      value = Math.min(field.max ?? Infinity, Math.max(field.min ?? 1, 1));
      break;
    case 'boolean':
      value = true;
      break;
    case 'email':
      value = 'resident@example.com';
      break;
    case 'phone':
      value = '010-00000000';
      break;
    case 'date':
      value = '2026-12-31';
      break;
    case 'datetime':
      value = '2026-06-01T09:00:00+08:00';
      break;
    case 'unit':
      value = unitId;
      break;
    default:
      value = `示例${field.label}`;
  }
  if (typeof value === 'string' && field.maxLength !== undefined) {
    value = value.slice(0, field.maxLength);
  }
  return field.multiple ? [value] : value;
}

/** Required fields and e-mail addresses (so the mails go somewhere), checked as the API checks them. */
function sampleData(
  key: string,
  fields: readonly FieldSpec[],
  unitId: string,
  prefix: 'data' | 'form',
  alsoRequired: readonly string[] = [],
): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const field of fields) {
    if (field.required || field.type === 'email' || alsoRequired.includes(field.name))
      data[field.name] = sampleValue(key, field, unitId);
  }
  const checked = validateCaseData(fields, data, prefix);
  if (!checked.ok) {
    const problems = checked.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    throw new Error(`${key}: the example ${prefix} is not valid: ${problems}`);
  }
  return data;
}

type WorkStep = StepSpec & { type: 'task' | 'claim' };

interface FirstWork {
  process: Process;
  unitId: string;
  data: Record<string, unknown>;
  steps: WorkStep[];
  /** How the work is reached: through a sub-process step of the started case. */
  via?: StepSpec & { type: 'subprocess' };
  /** When no task opens at once: the step that waits. */
  waitsAt?: StepSpec;
}

/** The task or pool steps that open first for the example case (several after a parallel). */
function firstWork(
  process: Process,
  unitId: string,
  data: Record<string, unknown>,
  processes: ReadonlyMap<string, Process>,
  demo: DemoCounty,
): FirstWork {
  const { spec } = process;
  const byId = new Map(spec.steps.map((s, i) => [s.id, i]));
  let index = spec.start !== undefined ? (byId.get(spec.start) ?? 0) : 0;
  for (let guard = 0; guard < spec.steps.length + 1; guard++) {
    const step = spec.steps[index];
    if (!step) break;
    const goTo = (id: string | undefined) => (id !== undefined ? (byId.get(id) ?? -1) : index + 1);
    switch (step.type) {
      case 'task':
      case 'claim':
        return { process, unitId, data, steps: [step] };
      case 'notify':
      case 'publish':
        index = goTo(step.next);
        continue;
      case 'decision': {
        const scope = {
          data,
          steps: {},
          case: { unitId, receivedAt: '2026-06-01T09:00:00+08:00' },
        };
        const taken = step.branches.find((b) => {
          try {
            return evaluateCondition(b.when, scope);
          } catch {
            return false;
          }
        });
        index = goTo(taken?.next ?? step.otherwise);
        continue;
      }
      case 'parallel': {
        const firsts = step.branches
          .map((b) => b.steps[0])
          .filter((s): s is WorkStep => s?.type === 'task' || s?.type === 'claim');
        return firsts.length > 0
          ? { process, unitId, data, steps: firsts }
          : { process, unitId, data, steps: [], waitsAt: step };
      }
      case 'subprocess': {
        const child = processes.get(step.definition);
        if (!child) return { process, unitId, data, steps: [], waitsAt: step };
        const childUnits =
          step.forEach !== undefined && typeof step.forEach === 'object'
            ? demo.unitsOfType(step.forEach.units.type, unitId)
            : step.unit === 'item' && typeof step.forEach === 'string'
              ? (() => {
                  const list = data[step.forEach.replace(/^data\./, '')];
                  return Array.isArray(list) ? list.map(String) : [];
                })()
              : [unitId];
        const childData = sampleData(child.spec.key, child.spec.input.fields, unitId, 'data');
        // The first unit of the fan-out whose task a demo account works, else the first.
        const options = childUnits.map((u) => firstWork(child, u, childData, processes, demo));
        const chosen = options.find((o) => workerFor(o, demo) !== null) ?? options[0];
        if (!chosen || chosen.steps.length === 0) {
          return { process, unitId, data, steps: [], waitsAt: step };
        }
        return { ...chosen, via: step };
      }
      default:
        return { process, unitId, data, steps: [], waitsAt: step };
    }
  }
  return { process, unitId, data, steps: [] };
}

/** A demo account among the candidates of the first work steps, with its step. */
function workerFor(
  work: FirstWork,
  demo: DemoCounty,
): { account: DemoAccount; step: WorkStep } | null {
  for (const step of work.steps) {
    const people = new Set<string>();
    for (const selector of step.candidates) {
      for (const person of demo.people(selector, work.unitId, work.data) ?? []) people.add(person);
    }
    const account = demo.county.accounts.find((a) => people.has(a.personId));
    if (account) return { account, step };
  }
  return null;
}

function shellJson(value: unknown): string {
  return `'${JSON.stringify(value).replace(/'/g, "'\\''")}'`;
}

function loginLine(variable: string, username: string): string[] {
  return [
    `${variable}=$(curl -s $API/auth/login -H 'Content-Type: application/json' \\`,
    `  -d '{"username":"${username}","password":"${DEMO_PASSWORD}"}' | jq -r .token)`,
  ];
}

/** The example case of a process: its unit, its data and the demo account that starts it. */
function exampleStart(process: Process, demo: DemoCounty) {
  const { spec } = process;
  const unitId = EXAMPLE_UNITS[spec.key] ?? DEFAULT_EXAMPLE_UNIT;
  if (!demo.tree.has(unitId)) throw new Error(`${spec.key}: no demo unit "${unitId}"`);
  const data =
    spec.schedule !== undefined && Object.keys(spec.schedule.data).length > 0
      ? { ...spec.schedule.data }
      : sampleData(spec.key, spec.input.fields, unitId, 'data');
  const checked = validateCaseData(spec.input.fields, data);
  if (!checked.ok) throw new Error(`${spec.key}: the example data is not valid`);
  return { unitId, data, starter: demo.starter(spec, unitId) };
}

/**
 * Each process's example start as the guide shows it (the request body and the demo account),
 * for the test that starts every one of them against the demo county.
 */
export function guideExamples(): Array<{
  key: string;
  username: string | null;
  body: Record<string, unknown>;
}> {
  const demo = new DemoCounty();
  return loadProcesses().map((process) => {
    const { spec } = process;
    const { unitId, data, starter } = exampleStart(process, demo);
    const body: Record<string, unknown> = { definitionKey: spec.key, unitId };
    if (spec.categories !== undefined) body.category = spec.categories[0]!.code;
    body.data = data;
    return { key: spec.key, username: starter?.username ?? null, body };
  });
}

function exampleLines(
  process: Process,
  processes: ReadonlyMap<string, Process>,
  demo: DemoCounty,
): string[] {
  const { spec } = process;
  const { unitId, data, starter } = exampleStart(process, demo);
  const lines: string[] = [];
  if (!starter) {
    lines.push(
      `No demo account may start it (starters: ${spec.starters.join(', ')}); use the admin API key (\`Authorization: Bearer $(cat .stack/data/admin-api-key)\`) as a system.`,
    );
    return lines;
  }
  const body: Record<string, unknown> = { definitionKey: spec.key, unitId };
  if (spec.categories !== undefined) body.category = spec.categories[0]!.code;
  body.data = data;
  lines.push(
    `Start it as \`${starter.username}\` (${starter.persona}) for ${demo.unitName(unitId)} (\`${unitId}\`):`,
    '',
    '```sh',
    ...loginLine('TOKEN', starter.username),
    `CASE=$(curl -s $API/cases -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`,
    `  -H 'Idempotency-Key: guide-${spec.key}-1' \\`,
    `  -d ${shellJson(body)} | jq -r .id)`,
  );
  const work = firstWork(process, unitId, data, processes, demo);
  const worker = workerFor(work, demo);
  const step = worker?.step ?? work.steps[0];
  const after = [
    '',
    '# the case: its status, current step, timeline and deadlines',
    'curl -s $API/cases/$CASE -H "Authorization: Bearer $TOKEN" | jq',
    '```',
  ];
  if (!step) {
    lines.push(...after);
    const waits = work.waitsAt;
    if (waits === undefined || waits.type === 'end') {
      lines.push('', 'No human task: the case runs to its end by itself.');
    } else {
      lines.push(
        '',
        `No task opens at once: the case first reaches **${waits.name}** (${code(waits.id)}, ${waits.type}).`,
      );
    }
    return lines;
  }
  const inChild = work.via !== undefined;
  const spec2 = work.process.spec;
  const select = inChild
    ? `select(.definitionKey == "${spec2.key}" and .stepId == "${step.id}")`
    : `select(.stepId == "${step.id}")`;
  const caseFilter = inChild ? '' : '&caseId=$CASE';
  const asToken = (username: string, variable: string): string[] =>
    username === starter.username ? [`${variable}=$TOKEN`] : loginLine(variable, username);
  lines.push(
    '',
    inChild
      ? `# the first task is in a ${spec2.key} case (for ${work.unitId}): ${step.name} (${step.id})`
      : `# the first task: ${step.name} (${step.id})`,
  );
  const notes: string[] = [];
  // Who completes it: a demo account among the candidates, or one a dispatcher hands it to (转派).
  let holder: DemoAccount | null = worker?.account ?? null;
  if (worker) {
    lines.push(
      ...asToken(worker.account.username, 'WORKER'),
      'sleep 2 # the task opens a moment after the case starts',
      `TASK=$(curl -s "$API/tasks?view=available${caseFilter}" -H "Authorization: Bearer $WORKER" | jq -r '[.items[] | ${select}][0].id')`,
      `curl -s -X POST $API/tasks/$TASK/claim -H "Authorization: Bearer $WORKER" -H 'Content-Type: application/json' -d '{}'`,
    );
    notes.push(
      `\`${worker.account.username}\` (${worker.account.persona}) is among the candidates of **${step.name}**${inChild ? ` in the ${code(spec2.key)} case for ${demo.unitName(work.unitId)}` : ''}.`,
    );
  } else {
    const candidates = step.candidates.map((c) => selectorText(spec2, c)).join('; ');
    lines.push(
      ...asToken('demo-admin', 'ADMIN'),
      'sleep 2 # the task opens a moment after the case starts',
      `TASK=$(curl -s "$API/tasks?view=scope${caseFilter}" -H "Authorization: Bearer $ADMIN" | jq -r '[.items[] | ${select}][0].id')`,
    );
    holder = step.type === 'task' ? demo.dispatcherFor(work.unitId) : null;
    if (holder) {
      lines.push(
        `curl -s -X POST $API/tasks/$TASK/reassign -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \\`,
        `  -d '{"personId":"${holder.personId}","reason":"演示：转派给演示账号"}'`,
        ...asToken(holder.username, 'WORKER'),
      );
      notes.push(
        `No demo account holds the post that works **${step.name}** (${candidates}), so the admin hands it (转派) to \`${holder.username}\` (${holder.persona}), who then holds it.`,
      );
    } else {
      lines.push(
        `curl -s $API/tasks/$TASK -H "Authorization: Bearer $ADMIN" | jq '{name, status, candidates}'`,
      );
      notes.push(
        `No demo account is among the candidates of **${step.name}** (${candidates}); the task view lists who is, and a pool cannot be handed over (转派), so sign in as one of them to claim it.`,
      );
    }
  }
  if (holder && step.type === 'task') {
    const outcome = step.outcomes[0]!;
    const complete: Record<string, unknown> = { outcome: outcome.id };
    complete.form = step.form
      ? sampleData(spec2.key, step.form.fields, work.unitId, 'form', outcome.requires)
      : {};
    if (outcome.requiresComment) complete.comment = '已按要求办理';
    lines.push(
      `curl -s -X POST $API/tasks/$TASK/complete -H "Authorization: Bearer $WORKER" -H 'Content-Type: application/json' \\`,
      `  -d ${shellJson(complete)}`,
    );
  }
  lines.push(...after);
  if (step.type === 'claim') {
    notes.push(
      step.claimants.max === 'all'
        ? 'Claiming is reporting (报到): the roll-call closes when everyone has reported or its window ends.'
        : step.claimants.max === 1
          ? 'The first claim closes the pool and the case moves on.'
          : `The pool stays open for up to ${step.claimants.max} claimants or until its window ends; a dispatcher may close it early with \`/complete\`.`,
    );
  }
  lines.push('', notes.join(' '));
  return lines;
}

// ── the guide ───────────────────────────────────────────────────────────────────────────────

function groupOf(key: string): string {
  return GROUPS.find((g) => g.keys.includes(key))?.title ?? OTHER_GROUP;
}

function processSection(
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
    `**Who starts it:** ${spec.starters.map((r) => `${r} ${ROLE_LABELS[r] ?? ''}`.trim()).join(', ')}.`,
  );
  if (spec.schedule !== undefined) {
    const s = spec.schedule;
    const month = s.month !== undefined ? ` in month ${s.month} of each ${s.every}` : '';
    const unit =
      s.unit !== undefined
        ? ` for ${code(s.unit)} (${demo.unitName(s.unit)})`
        : ' for the whole org tree';
    const data = Object.keys(s.data).length > 0 ? ` with data ${code(JSON.stringify(s.data))}` : '';
    lines.push(
      '',
      `**Schedule:** every ${s.every}${month}, on day ${s.day} at ${s.at} Beijing time${unit}${data} (a Temporal Schedule; also startable through the API).`,
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
    lines.push(`${i + 1}. ${first}`, ...rest.map((l) => `   ${l}`));
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
        `- ${rule.points} points to ${whom} when ${stepRef(steps, rule.when.step)}${rule.when.outcome !== undefined ? ` completes with ${code(rule.when.outcome)}` : ' completes'}: ${rule.reason}`,
      );
    }
  }
  const rendered = new Set([
    'key',
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

function intro(demo: DemoCounty): string[] {
  const accounts = demo.county.accounts.map(
    (a) => `| \`${a.username}\` | ${a.roles.join(', ')} | ${cell(a.persona)} |`,
  );
  return [
    '# Process library (流程库)',
    '',
    '<!-- Generated by `npm run process-guide` from definitions/*.yaml; do not edit by hand. A unit test fails when it is stale. -->',
    '',
    'Every process shipped in [`definitions/`](../definitions/), what it does, who starts and works it, its deadlines and escalation, and how to try it against the demo county. The language itself is described in [`docs/definition-language.md`](definition-language.md); the API in the OpenAPI docs at <http://127.0.0.1:3000/docs> while `npm start` runs.',
    '',
    '## Running the examples',
    '',
    '`npm start` starts the local stack, the worker and the API, publishes these definitions and loads the demo county (桐川县) into an empty store. An admin API key is created on first run in `.stack/data/admin-api-key`. The demo accounts all sign in with the password **`' +
      DEMO_PASSWORD +
      '`**:',
    '',
    '| username | role | who |',
    '| --- | --- | --- |',
    ...accounts,
    '',
    'The generic flow: sign in (`POST /api/v1/auth/login`, a bearer token back), start a case (`POST /api/v1/cases` with `definitionKey`, `unitId`, `data` and an `Idempotency-Key`), list the tasks you may claim (`GET /api/v1/tasks?view=available`), claim one (`POST /api/v1/tasks/:id/claim`, 签收), complete it with an outcome and its form (`POST /api/v1/tasks/:id/complete`, 办结), and read the case with its timeline and deadlines (`GET /api/v1/cases/:id`). Steps run in the order listed unless a step names where to go; a task must be claimed before it is completed. The examples use `curl` and `jq`, with:',
    '',
    '```sh',
    'API=http://127.0.0.1:3000/api/v1',
    '```',
    '',
    'Deadlines in working time (`5 working days`) follow the working calendar (China’s holidays and 调休); ISO durations (`PT30M`) are calendar time. Escalation offsets count from the deadline.',
    '',
  ];
}

export async function generateProcessGuide(): Promise<string> {
  const list = loadProcesses();
  const processes = new Map(list.map((p) => [p.spec.key, p]));
  const demo = new DemoCounty();
  const startedBy = new Map<string, StartedBy[]>();
  for (const parent of list) {
    for (const { step } of allSteps(parent.spec)) {
      if (step.type !== 'subprocess') continue;
      const entries = startedBy.get(step.definition) ?? [];
      entries.push({ parent, step });
      startedBy.set(step.definition, entries);
    }
  }
  const groupTitles = [...GROUPS.map((g) => g.title), OTHER_GROUP];
  const grouped = groupTitles
    .map((title) => ({
      title,
      members: list
        .filter((p) => groupOf(p.spec.key) === title)
        .sort((a, b) => a.spec.key.localeCompare(b.spec.key)),
    }))
    .filter((g) => g.members.length > 0);

  const lines = intro(demo);
  lines.push('## Contents', '');
  for (const group of grouped) {
    lines.push(`- ${group.title}`);
    for (const p of group.members)
      lines.push(`  - [${p.spec.name}](#${p.spec.key}) (${code(p.spec.key)})`);
  }
  lines.push('');
  for (const group of grouped) {
    lines.push(`## ${group.title}`, '');
    for (const p of group.members) {
      lines.push(...processSection(p, processes, startedBy.get(p.spec.key) ?? [], demo));
    }
  }
  const markdown = lines.join('\n');
  const prettierrc = JSON.parse(
    readFileSync(path.join(ROOT, '.prettierrc.json'), 'utf8'),
  ) as Record<string, unknown>;
  return format(markdown, { ...prettierrc, parser: 'markdown', plugins: [markdownPlugin] });
}

async function main(): Promise<void> {
  const text = await generateProcessGuide();
  writeFileSync(PROCESS_GUIDE_PATH, text);
  process.stdout.write(
    `process guide written to ${path.relative(process.cwd(), PROCESS_GUIDE_PATH)}\n`,
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

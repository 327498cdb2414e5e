/**
 * How the parts of a definition read in the guide: roles, unit references, people selectors, mail
 * recipients, durations, deadlines with their reminders and escalations, and input fields.
 */

import type {
  DeadlineSpec,
  DefinitionSpec,
  FieldSpec,
  PeopleSelector,
  RecipientSpec,
  StepSpec,
  UnitRef,
} from '../../lang/definition';
import { BUILTIN_POST_ROLES, PAIRING_KIND_LABELS, UNIT_TYPE_LABELS } from '../../lang/vocabulary';
import type { UnitType } from '../../lang/vocabulary';
import { DEMO_DECLARED_ROLES } from '../../demo/county';
import { cell, code } from './markdown';

export function roleLabel(spec: DefinitionSpec, role: string): string {
  const label =
    spec.roles.find((r) => r.key === role)?.label ??
    BUILTIN_POST_ROLES[role] ??
    DEMO_DECLARED_ROLES.find((r) => r.key === role)?.label;
  return label === undefined ? code(role) : `${label} (${code(role)})`;
}

export function unitTypeText(type: string): string {
  return Object.hasOwn(UNIT_TYPE_LABELS, type)
    ? `${type} ${UNIT_TYPE_LABELS[type as UnitType].zh}`
    : code(type);
}

export function fieldLabel(spec: DefinitionSpec, name: string): string {
  const field = spec.input.fields.find((f) => f.name === name);
  return field ? `${code(name)} ${field.label}` : code(name);
}

export function unitRefText(spec: DefinitionSpec, ref: UnitRef): string {
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
  if (typeof ref.at === 'object') return `${upText(ref.at.up, ref.at.types)} above ${of}`;
  return `the ${unitTypeText(ref.at)} of ${of}`;
}

/** "the 2nd unit", "the 1st community or street": the k-th unit above, by its types. */
function upText(rank: number, types: readonly UnitType[] | undefined): string {
  const nth = rank === 1 ? '1st' : rank === 2 ? '2nd' : rank === 3 ? '3rd' : `${rank}th`;
  return `the ${nth} ${types === undefined ? 'unit' : types.map(unitTypeText).join(' or ')}`;
}

export function selectorText(spec: DefinitionSpec, selector: PeopleSelector): string {
  if ('role' in selector && 'unit' in selector) {
    const unit = selector.unit;
    if (typeof unit === 'object' && 'catalogue' in unit) {
      const fallback =
        unit.otherwise === undefined
          ? ''
          : typeof unit.otherwise === 'object' && 'role' in unit.otherwise
            ? `, else ${roleLabel(spec, unit.otherwise.role)} of ${unitRefText(spec, unit.otherwise.unit)}`
            : `, else of ${unitRefText(spec, unit.otherwise)}`;
      return `${roleLabel(spec, selector.role)} of the unit the dispatch catalogue names for ${code(unit.catalogue)}${fallback}`;
    }
    return `${roleLabel(spec, selector.role)} of ${unitRefText(spec, unit)}`;
  }
  if ('requester' in selector) {
    return `the requester, by their own account (no account: ${roleLabel(spec, selector.otherwise.role)} of ${unitRefText(spec, selector.otherwise.unit)})`;
  }
  if ('onDuty' in selector) {
    const otherwise =
      selector.role === undefined
        ? 'every post holder there'
        : `${roleLabel(spec, selector.role)} there`;
    return `whoever the duty rota of ${unitRefText(spec, selector.onDuty)} has on duty (nobody rostered: ${otherwise})`;
  }
  if ('pairedWith' in selector) {
    const kinds = selector.kind === undefined ? [] : [selector.kind].flat();
    const kindText =
      kinds.length === 0
        ? ''
        : ` (${kinds.map((k) => PAIRING_KIND_LABELS[k]?.zh ?? code(k)).join(', ')})`;
    const below = selector.andBelow ? ' or a unit below it' : '';
    return `the people paired with ${unitRefText(spec, selector.pairedWith)}${below}${kindText}, and ${roleLabel(spec, selector.role ?? 'liaison')} of each unit paired with it`;
  }
  if ('chain' in selector) {
    const types =
      selector.unitTypes === undefined
        ? 'every unit'
        : `every ${selector.unitTypes.map(unitTypeText).join(', ')} unit`;
    return `${roleLabel(spec, selector.role)} of ${types} below ${unitRefText(spec, selector.under)}, level by level`;
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

export function recipientsText(
  spec: DefinitionSpec,
  value: RecipientSpec | RecipientSpec[],
): string {
  return (Array.isArray(value) ? value : [value]).map((r) => recipientText(spec, r)).join('; ');
}

const ISO_DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const ISO_UNITS = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'];

/** `PT30M` → `30 minutes (PT30M)`; working time is already words. */
export function durationText(duration: string): string {
  const match = ISO_DURATION.exec(duration);
  if (!match) return duration;
  const parts = ISO_UNITS.flatMap((unit, i) => {
    const n = match[i + 1];
    return n === undefined ? [] : [`${n} ${unit}${n === '1' ? '' : 's'}`];
  });
  return parts.length > 0 ? `${parts.join(' ')} (${code(duration)})` : code(duration);
}

export function stepRef(steps: ReadonlyMap<string, StepSpec>, id: string): string {
  const step = steps.get(id);
  return step ? `${code(id)} ${step.name}` : code(id);
}

export function deadlineLines(
  spec: DefinitionSpec,
  deadline: DeadlineSpec,
  onStep: boolean,
): string[] {
  const when =
    deadline.within !== undefined
      ? `within ${durationText(deadline.within)}${deadline.from === 'case' ? " of the case's receipt" : ''}`
      : deadline.after !== undefined
        ? `${durationText(deadline.after)} after ${code(deadline.at ?? '?')} (from the end of that day, Beijing time, for a date)`
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
    if ('upTree' in e) {
      const ladder = e.upTree;
      const from =
        typeof ladder.from === 'object' ? { of: ladder.from.of, at: 'self' as const } : ladder.from;
      const first =
        ladder.after === undefined ? 'at the deadline' : `${durationText(ladder.after)} after it`;
      lines.push(
        `  - escalation up the tree, ${first} and every ${durationText(ladder.every)} after: ${roleLabel(spec, ladder.role)} of each of the ${ladder.levels} ${ladder.types === undefined ? 'units' : ladder.types.map(unitTypeText).join(' or ')} above ${unitRefText(spec, from)}, until the root (mail ${code(ladder.template)})`,
      );
      continue;
    }
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
  if (field.default !== undefined) limits.push(`default ${code(field.default)}`);
  return limits.join('; ');
}

export function fieldTable(fields: readonly FieldSpec[]): string[] {
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

export function formText(fields: readonly FieldSpec[]): string {
  return fields
    .map((f) => {
      const extras = [fieldTypeText(f), f.required ? 'required' : '', fieldLimits(f)].filter(
        (s) => s.length > 0,
      );
      return `${code(f.name)} ${f.label} (${extras.join(', ')})`;
    })
    .join('; ');
}

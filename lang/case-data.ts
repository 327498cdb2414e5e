import type { FieldSpec } from './definition';
import { ATTACHMENT_ID } from './names';
import { evaluateValue, ExpressionError } from './expression';

/**
 * Case data and task forms checked against a definition's fields.
 *
 * Written by hand rather than with zod because it runs inside the workflow sandbox (Update
 * validators check forms synchronously) as well as in the API: the sandbox evaluates a workflow's
 * imports for every case it starts, and building zod's classes and a schema per validation cost
 * more than the interpreter itself there. It must stay deterministic: no clock, no locale.
 */

export interface FieldProblem {
  path: string;
  message: string;
}

/** The most values a `multiple` field takes when the definition does not say. */
export const DEFAULT_MAX_ITEMS = 50;

/** Unit and person ids as the org import accepts them. */
const UNIT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const PHONE = /^\+?[0-9][0-9 -]{4,19}$/;
/** A pragmatic address check (the mail relay has the last word): local@domain.tld, no spaces. */
const EMAIL =
  /^(?!\.)(?!.*\.\.)[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(?:Z|([+-])([01]\d|2[0-3]):([0-5]\d))$/;

/** Paths as callers read them: `data.departments[1]`, `form.finding`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

/** Checks case data against the definition's fields; problems carry paths such as `data.category`. */
export function validateCaseData(
  fields: readonly FieldSpec[],
  data: unknown,
  prefix: 'data' | 'form' = 'data',
): { ok: true; data: Record<string, unknown> } | { ok: false; problems: FieldProblem[] } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return {
      ok: false,
      problems: [{ path: prefix, message: `must be an object, got ${kindOf(data)}` }],
    };
  }
  const given = data as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const clean: Record<string, unknown> = {};
  const known = new Set(fields.map((f) => f.name));
  for (const field of fields) {
    const path = formatPath([prefix, field.name]);
    const value = Object.hasOwn(given, field.name) ? given[field.name] : undefined;
    if (value === undefined) {
      if (field.required) problems.push({ path, message: 'required' });
      continue;
    }
    const checked = field.multiple ? checkList(field, value, path) : checkValue(field, value, path);
    if ('problems' in checked) problems.push(...checked.problems);
    else clean[field.name] = checked.value;
  }
  for (const key of Object.keys(given)) {
    if (!known.has(key)) {
      problems.push({ path: formatPath([prefix, key]), message: 'unknown field for this process' });
    }
  }
  return problems.length === 0 ? { ok: true, data: clean } : { ok: false, problems };
}

/** The case as an input field's `default` sees it (`case.<fact>`), as steps see it later. */
export interface CaseStartFacts {
  id: string;
  unitId: string | null;
  channel: string;
  /** The process key. */
  definition: string;
  /** The instant the case was received or its schedule fired, ISO 8601. */
  receivedAt: string;
}

/**
 * The data with each input field's `default` (an expression over `case`: 项目年度
 * `year(case.receivedAt)`) filled in where the start left the field out or null. A default that
 * fails, gives null or gives a value its field refuses is not filled in: the field stays missing,
 * and the start's own check says so when the field is required. Pure and sandbox-safe: a
 * schedule's fire computes the same values whenever it replays.
 */
export function withInputDefaults(
  fields: readonly FieldSpec[],
  data: Record<string, unknown>,
  facts: CaseStartFacts,
): Record<string, unknown> {
  let filled: Record<string, unknown> | null = null;
  for (const field of fields) {
    if (field.default === undefined || (data[field.name] ?? null) !== null) continue;
    const value = evaluateDefault(field.default, facts);
    if (value === null) continue;
    const checked = checkValue(field, value, field.name);
    if ('problems' in checked) continue;
    filled ??= { ...data };
    filled[field.name] = checked.value;
  }
  return filled ?? data;
}

function evaluateDefault(source: string, facts: CaseStartFacts): unknown {
  try {
    // evaluateValue gives null for a type error on this case (a default over a missing fact).
    return evaluateValue(source, { case: { ...facts } });
  } catch (err) {
    // Validated definitions compile; an unvalidated one's bad default is simply not there.
    if (err instanceof ExpressionError) return null;
    throw err;
  }
}

/**
 * A task form's prefill (预填): each form field's `default` evaluated over the case as the task
 * opens (`steps.basis.people`, a lookup's result), kept where the value is one its field accepts
 * (a list for a `multiple` field). A default that fails, gives null or a value the field refuses
 * is left out: the person fills that field in. Pure and sandbox-safe: the interpreter computes it
 * from the case's state, so a replay computes the same.
 */
export function formPrefill(
  fields: readonly FieldSpec[],
  scope: Record<string, unknown>,
): Record<string, unknown> | null {
  let prefill: Record<string, unknown> | null = null;
  for (const field of fields) {
    if (field.default === undefined || field.type === 'photo') continue;
    let value: unknown;
    try {
      value = evaluateValue(field.default, scope);
    } catch (err) {
      if (err instanceof ExpressionError) continue;
      throw err;
    }
    if (value === null || value === undefined) continue;
    const checked = field.multiple
      ? checkList(field, value, field.name)
      : checkValue(field, value, field.name);
    if ('problems' in checked) continue;
    prefill ??= {};
    prefill[field.name] = checked.value;
  }
  return prefill;
}

type Checked = { value: unknown } | { problems: FieldProblem[] };

function checkList(field: FieldSpec, value: unknown, path: string): Checked {
  if (!Array.isArray(value)) {
    return { problems: [{ path, message: `must be a list of values, got ${kindOf(value)}` }] };
  }
  if (field.required && value.length === 0) {
    return { problems: [{ path, message: 'give at least one value' }] };
  }
  const maxItems = field.maxItems ?? DEFAULT_MAX_ITEMS;
  if (value.length > maxItems) {
    return { problems: [{ path, message: `at most ${maxItems} values, got ${value.length}` }] };
  }
  const problems: FieldProblem[] = [];
  const values = value.map((item: unknown, i) => {
    const checked = checkValue(field, item, `${path}[${i}]`);
    if ('problems' in checked) problems.push(...checked.problems);
    return 'value' in checked ? checked.value : item;
  });
  return problems.length > 0 ? { problems } : { value: values };
}

function checkValue(field: FieldSpec, value: unknown, path: string): Checked {
  const problem = (message: string): Checked => ({ problems: [{ path, message }] });
  switch (field.type) {
    case 'string':
    case 'text': {
      if (typeof value !== 'string') return problem(`must be text, got ${kindOf(value)}`);
      const text = value.trim();
      if (field.required && text.length === 0) return problem('must not be empty');
      const maxLength = field.maxLength ?? (field.type === 'text' ? 5000 : 200);
      if (text.length > maxLength) {
        return problem(`at most ${maxLength} characters, got ${text.length}`);
      }
      if (field.options && !field.options.includes(text)) {
        return problem(`must be one of: ${field.options.join(', ')}`);
      }
      return { value: text };
    }
    case 'email':
      return typeof value === 'string' && value.length <= 254 && EMAIL.test(value)
        ? { value }
        : problem('must be an email address such as name@example.org');
    case 'phone':
      return typeof value === 'string' && PHONE.test(value)
        ? { value }
        : problem('a phone number such as 13800138000');
    case 'date':
      return typeof value === 'string' && isIsoDate(value)
        ? { value }
        : problem('must be a date as YYYY-MM-DD, such as 2026-10-01');
    case 'datetime':
      return typeof value === 'string' && isIsoDateTime(value)
        ? { value }
        : problem('must be a date and time with its offset, such as 2026-05-01T09:30:00+08:00');
    case 'unit':
      return typeof value === 'string' && UNIT_ID.test(value)
        ? { value }
        : problem('a unit id of the org tree');
    case 'person':
      return typeof value === 'string' && UNIT_ID.test(value)
        ? { value }
        : problem('a person id of the org tree');
    case 'photo':
      return typeof value === 'string' && ATTACHMENT_ID.test(value)
        ? { value }
        : problem('the id of a photo attached to the case (att- and 24 hex digits)');
    case 'boolean':
      return typeof value === 'boolean'
        ? { value }
        : problem(`must be true or false, got ${kindOf(value)}`);
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return problem(`must be a number, got ${kindOf(value)}`);
      }
      if (field.type === 'integer' && !Number.isInteger(value))
        return problem('must be a whole number');
      if (field.min !== undefined && value < field.min)
        return problem(`must be at least ${field.min}`);
      if (field.max !== undefined && value > field.max)
        return problem(`must be at most ${field.max}`);
      return { value };
    }
  }
}

function isRealDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  // Date.UTC is pure (no clock, no time zone), so this is safe in the workflow sandbox.
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

function isIsoDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  return match !== null && isRealDay(Number(match[1]), Number(match[2]), Number(match[3]));
}

function isIsoDateTime(value: string): boolean {
  const match = ISO_DATETIME.exec(value);
  return match !== null && isRealDay(Number(match[1]), Number(match[2]), Number(match[3]));
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : typeof value;
}

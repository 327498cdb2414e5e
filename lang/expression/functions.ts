/**
 * The built-in functions an expression may call (`len`, `contains`, `startsWith`, `endsWith`,
 * `isEmpty`, `lower`, `upper`, `number`, `date`, `year`, `addDays`, `addMonths`), each with its arity,
 * which the parser checks.
 */

import { dateText, localDate, shiftDate, yearOfDay } from './dates';
import type { Fail } from './values';
import { describe, includes, kindOf } from './values';

export interface FunctionSpec {
  readonly arity: number;
  readonly apply: (args: readonly unknown[], fail: Fail) => unknown;
}

const DECIMAL_TEXT = /^\s*-?\d+(\.\d+)?\s*$/;

// A Map, not an object literal, so `toString(x)` cannot find Object.prototype.toString.
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  [
    'len',
    {
      arity: 1,
      apply: ([value], fail) => {
        if (typeof value === 'string') return Array.from(value).length;
        if (Array.isArray(value)) return value.length;
        return fail(`len() needs a string or a list, got ${describe(value)}`);
      },
    },
  ],
  [
    'contains',
    { arity: 2, apply: ([haystack, needle], fail) => includes(haystack, needle, 'contains', fail) },
  ],
  [
    'startsWith',
    {
      arity: 2,
      apply: ([text, prefix], fail) =>
        affix(text, prefix, 'startsWith', fail, (s, p) => s.startsWith(p)),
    },
  ],
  [
    'endsWith',
    {
      arity: 2,
      apply: ([text, suffix], fail) =>
        affix(text, suffix, 'endsWith', fail, (s, p) => s.endsWith(p)),
    },
  ],
  [
    'isEmpty',
    {
      arity: 1,
      apply: ([value], fail) => {
        const kind = kindOf(value);
        if (kind === 'null') return true;
        if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
        if (kind === 'object' && typeof value === 'object' && value !== null) {
          return Object.keys(value).length === 0;
        }
        return fail(`isEmpty() needs a string, a list, an object or null, got ${describe(value)}`);
      },
    },
  ],
  [
    'lower',
    {
      arity: 1,
      apply: ([value], fail) =>
        typeof value === 'string'
          ? value.toLowerCase()
          : fail(`lower() needs a string, got ${describe(value)}`),
    },
  ],
  [
    'upper',
    {
      arity: 1,
      apply: ([value], fail) =>
        typeof value === 'string'
          ? value.toUpperCase()
          : fail(`upper() needs a string, got ${describe(value)}`),
    },
  ],
  [
    'number',
    {
      arity: 1,
      apply: ([value], fail) => {
        if (typeof value === 'number') return value;
        if (typeof value === 'string' && DECIMAL_TEXT.test(value)) return Number(value.trim());
        return fail(
          typeof value === 'string'
            ? 'number() needs a decimal number such as 12 or -0.5, got a string that is not one'
            : `number() needs a number or a string, got ${describe(value)}`,
        );
      },
    },
  ],
  [
    'date',
    {
      arity: 1,
      apply: ([value], fail) =>
        value === null || value === undefined ? null : dateText(localDate(value, 'date', fail).day),
    },
  ],
  [
    'year',
    {
      arity: 1,
      apply: ([value], fail) =>
        value === null || value === undefined
          ? null
          : yearOfDay(localDate(value, 'year', fail).day),
    },
  ],
  [
    'addDays',
    { arity: 2, apply: ([value, days], fail) => shiftDate(value, days, 'addDays', fail) },
  ],
  [
    'addMonths',
    { arity: 2, apply: ([value, months], fail) => shiftDate(value, months, 'addMonths', fail) },
  ],
]);

function affix(
  text: unknown,
  part: unknown,
  name: string,
  fail: Fail,
  test: (text: string, part: string) => boolean,
): boolean {
  if (typeof part !== 'string')
    return fail(`${name}() needs a string to look for, got ${describe(part)}`);
  if (text === null || text === undefined) return false;
  if (typeof text !== 'string')
    return fail(`${name}() needs a string or null, got ${describe(text)}`);
  return test(text, part);
}

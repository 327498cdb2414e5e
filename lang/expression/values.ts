/**
 * The values an expression works on (what JSON holds: null, booleans, numbers, strings, lists and
 * plain objects) and what the operators do to them: property reads, truth, equality, ordering,
 * arithmetic and membership. Every type error goes through a {@link Fail}, which knows where in
 * the source the failing operator is.
 */

/** Throws an {@link EvaluationError} at the position of the node being evaluated. */
export type Fail = (reason: string) => never;

export type ArithmeticOperator = '+' | '-' | '*' | '/' | '%';

type ValueKind = 'null' | 'boolean' | 'number' | 'string' | 'list' | 'object' | 'unsupported';

const DESCRIPTIONS: Readonly<Record<ValueKind, string>> = {
  null: 'null',
  boolean: 'a boolean',
  number: 'a number',
  string: 'a string',
  list: 'a list',
  object: 'an object',
  unsupported: 'an unsupported value',
};

export function kindOf(value: unknown): ValueKind {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'object':
      if (Array.isArray(value)) return 'list';
      return isPlainObject(value) ? 'object' : 'unsupported';
    default:
      return 'unsupported';
  }
}

/** The type of a value for error messages; never the value itself, which may be personal data. */
export function describe(value: unknown): string {
  return DESCRIPTIONS[kindOf(value)];
}

/**
 * An object literal or `Object.create(null)`: its prototype is null or a root prototype
 * (Object.prototype of whichever realm made it), so class instances, Maps and Dates are not.
 */
function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/** An own data property, or null when absent; getters are never run. */
export function readOwn(container: object, key: string, fail: Fail): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(container, key);
  if (descriptor === undefined) return null;
  if (!('value' in descriptor)) return fail(`property '${key}' is an accessor, not data`);
  const value: unknown = descriptor.value;
  return value === undefined ? null : value;
}

export function readMember(value: unknown, key: string, fail: Fail): unknown {
  const kind = kindOf(value);
  if (kind === 'null') return null;
  if (kind === 'object' && typeof value === 'object' && value !== null) {
    return readOwn(value, key, fail);
  }
  return fail(`cannot read property '${key}' of ${describe(value)}`);
}

export function truth(value: unknown, operator: string, fail: Fail): boolean {
  if (value === true) return true;
  if (value === false || value === null || value === undefined) return false;
  return fail(`'${operator}' needs true, false or null, got ${describe(value)}`);
}

function isScalarKind(kind: ValueKind): boolean {
  return kind === 'boolean' || kind === 'number' || kind === 'string';
}

export function equals(left: unknown, right: unknown, operator: string, fail: Fail): boolean {
  const leftKind = kindOf(left);
  const rightKind = kindOf(right);
  if (leftKind === 'null' || rightKind === 'null') return leftKind === rightKind;
  if (isScalarKind(leftKind) && isScalarKind(rightKind)) return left === right;
  return fail(
    `'${operator}' compares strings, numbers, booleans and null, got ${describe(left)} and ${describe(right)}`,
  );
}

export function compare(
  operator: '<' | '<=' | '>' | '>=',
  left: unknown,
  right: unknown,
  fail: Fail,
): boolean {
  let less: boolean;
  let greater: boolean;
  if (typeof left === 'number' && typeof right === 'number') {
    less = left < right;
    greater = left > right;
  } else if (typeof left === 'string' && typeof right === 'string') {
    less = left < right;
    greater = left > right;
  } else {
    return fail(
      `'${operator}' compares two numbers or two strings, got ${describe(left)} and ${describe(right)}`,
    );
  }
  switch (operator) {
    case '<':
      return less;
    case '<=':
      return less || left === right;
    case '>':
      return greater;
    case '>=':
      return greater || left === right;
  }
}

export function arithmetic(
  operator: ArithmeticOperator,
  left: unknown,
  right: unknown,
  fail: Fail,
): number | string {
  if (operator === '+' && typeof left === 'string' && typeof right === 'string') {
    return left + right;
  }
  if (typeof left !== 'number' || typeof right !== 'number') {
    const wanted = operator === '+' ? 'two numbers or two strings' : 'two numbers';
    return fail(`'${operator}' needs ${wanted}, got ${describe(left)} and ${describe(right)}`);
  }
  if ((operator === '/' || operator === '%') && right === 0) return fail('division by zero');
  const result = calculate(operator, left, right);
  return Number.isFinite(result) ? result : fail(`'${operator}' did not give a finite number`);
}

function calculate(operator: ArithmeticOperator, left: number, right: number): number {
  switch (operator) {
    case '+':
      return left + right;
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      return left / right;
    case '%':
      return left % right;
  }
}

/** `needle in haystack`: list membership by `==`, substring in a string, nothing in null. */
export function includes(
  haystack: unknown,
  needle: unknown,
  operator: string,
  fail: Fail,
): boolean {
  if (haystack === null || haystack === undefined) return false;
  if (Array.isArray(haystack)) {
    const items: readonly unknown[] = haystack;
    return items.some((item) => equals(needle, item, operator, fail));
  }
  if (typeof haystack === 'string') {
    if (typeof needle === 'string') return haystack.includes(needle);
    return fail(`'${operator}' looks for a string in a string, got ${describe(needle)}`);
  }
  return fail(`'${operator}' looks in a list, a string or null, got ${describe(haystack)}`);
}

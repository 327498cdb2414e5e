/**
 * The expression language of process definitions: conditions such as
 * `data.category == 'repair' && form.urgent` or `outcome in ['done', 'partly']`, and value
 * expressions such as `data.appointmentAt`. Evaluated inside Temporal's workflow sandbox, so this
 * module imports nothing, never turns text into code, reads no clock and no randomness: the same
 * source and scope always give the same result.
 *
 * Grammar, lowest precedence first (`{ }` repeats, `[ ]` is optional):
 *
 *     expression = or [ "?" expression ":" expression ]
 *     or         = and { ( "||" | "or" ) and }
 *     and        = equality { ( "&&" | "and" ) equality }
 *     equality   = relation [ ( "==" | "!=" ) relation ]
 *     relation   = sum [ ( "<" | "<=" | ">" | ">=" | "in" | "not" "in" ) sum ]
 *     sum        = product { ( "+" | "-" ) product }
 *     product    = unary { ( "*" | "/" | "%" ) unary }
 *     unary      = ( "!" | "not" | "-" ) unary | postfix
 *     postfix    = primary { "." word | "[" string "]" }
 *     primary    = number | string | "true" | "false" | "null" | "[" [ items ] "]"
 *                | function "(" [ items ] ")" | name | "(" expression ")"
 *     items      = expression { "," expression }
 *
 * Numbers are decimal (`12`, `0.5`); strings take single or double quotes, with `\'`, `\"` and
 * `\\` as the only escapes. Names and property words are letters (any script), digits and `_`.
 * Comparisons do not chain (`a < b < c` is a syntax error), and a negation directly left of a
 * comparison (`!a == b`) must be parenthesised one way or the other.
 *
 * Values are what JSON holds: null, booleans, numbers, strings, lists and plain objects.
 * - `a.b` and `a['b']` read own data properties of plain objects only; a missing property, or
 *   any property of null, is null. Reading a property of anything else is an error.
 *   `__proto__`, `constructor` and `prototype` are rejected when the expression is compiled.
 * - `==` / `!=` are strict equality of null, booleans, numbers and strings; null equals only
 *   null. Comparing a list or object with anything but null is an error.
 * - `<` `<=` `>` `>=` take two numbers or two strings (compared by UTF-16 code units); anything
 *   else, null included, is an error.
 * - `+` `-` `*` `/` `%` take numbers (`+` also joins two strings); division by zero and results
 *   that are not finite are errors.
 * - `!`, `&&`, `||` and the `?` of a ternary take true, false or null (null counts as false, so
 *   a missing flag is off) and always give a boolean; `&&`, `||` and `?:` skip the operand they
 *   do not need. Any other operand is an error rather than JavaScript truthiness.
 * - `x in list` is true when an element equals `x` (as `==`); `s in text` finds a substring;
 *   nothing is in null.
 * - Functions: len(string | list), contains(haystack, needle) (same as `needle in haystack`),
 *   startsWith(s, prefix), endsWith(s, suffix) (false for null s), isEmpty(x) (true for null,
 *   '', [] and {}), lower(s), upper(s), number(n | decimal string); dates: date(x) (the Beijing
 *   calendar date of a date or an instant), year(x) (its calendar year, a number), addDays(x, n),
 *   addMonths(x, n) (null gives null).
 *
 * Errors: {@link ExpressionError} when compiling (with the character offset), and
 * {@link EvaluationError} when a value has the wrong type at run time. Limits: 1000 characters
 * and 32 levels of nesting, so a hostile definition cannot exhaust the stack.
 *
 * This file is the module's public face; the folder holds its parts: tokens.ts (the tokenizer),
 * parser.ts (the grammar above, with the checks made before any data is seen), syntax.ts (the
 * tree and the paths it reads), evaluate.ts (the tree compiled into closures), values.ts (what
 * the operators do to values), functions.ts and dates.ts (the built-in functions), errors.ts and
 * limits.ts. None of them imports anything outside this folder (a test holds them to that).
 */

import { EvaluationError, ExpressionError } from './errors';
import type { ExpressionScope } from './evaluate';
import { compileNode } from './evaluate';
import { MAX_SOURCE_LENGTH } from './limits';
import { Parser } from './parser';
import { ambiguousConditionals, collectPaths } from './syntax';
import { tokenize } from './tokens';
import { describe } from './values';

export { EvaluationError, ExpressionError } from './errors';
export type { ExpressionScope } from './evaluate';
export { EXPRESSION_LIMITS } from './limits';

/** Compiled conditions kept by {@link evaluateCondition}; definitions hold far fewer. */
const CONDITION_CACHE_SIZE = 500;

export interface CompileOptions {
  /** Root names the expression may read; when omitted any name is accepted (and reads null). */
  readonly roots?: ReadonlySet<string>;
}

export interface CompiledExpression {
  readonly source: string;
  /** Dotted member paths the expression reads, in order of appearance (`data.category`). */
  readonly paths: string[];
  /** The value of the expression over `scope`; throws {@link EvaluationError} on a type error. */
  evaluate(scope: ExpressionScope): unknown;
}

/**
 * Compiles `source` once for repeated evaluation. Throws {@link ExpressionError} on bad syntax,
 * unknown functions, names outside `options.roots`, forbidden property names or exceeded limits.
 */
export function compileExpression(
  source: string,
  options: CompileOptions = {},
): CompiledExpression {
  if (typeof source !== 'string') {
    throw new ExpressionError('an expression must be a string', 0, String(source));
  }
  if (source.length > MAX_SOURCE_LENGTH) {
    throw new ExpressionError(
      `expression is ${source.length} characters long, the limit is ${MAX_SOURCE_LENGTH}`,
      MAX_SOURCE_LENGTH,
      source,
    );
  }
  const ast = new Parser(source, tokenize(source), options.roots).parse();
  const evaluator = compileNode(ast, source);
  const paths = new Set<string>();
  collectPaths(ast, paths);
  return Object.freeze({
    source,
    paths: [...paths],
    evaluate: (scope: ExpressionScope): unknown => evaluator(scope),
  });
}

/**
 * Evaluates a definition condition. Compiled forms are cached by source (bounded, least recently
 * used first out). Throws {@link ExpressionError} for an invalid source and
 * {@link EvaluationError} on a type error or when the result is not a boolean.
 */
export function evaluateCondition(source: string, scope: ExpressionScope): boolean {
  const result = cachedCompile(source).evaluate(scope);
  if (typeof result !== 'boolean') {
    throw new EvaluationError(
      `condition "${source}" evaluated to ${describe(result)}, expected true or false`,
      source,
      0,
    );
  }
  return result;
}

/**
 * Evaluates an expression whose value feeds a lookup (a unit id, person ids, a list to fan out
 * over): a type error on this case's data gives null, like a missing value, rather than stopping
 * the case. Validated definitions never fail to compile, so an {@link ExpressionError} still throws.
 */
export function evaluateValue(source: string, scope: ExpressionScope): unknown {
  try {
    return cachedCompile(source).evaluate(scope);
  } catch (err) {
    if (err instanceof EvaluationError) return null;
    throw err;
  }
}

/** Null when `source` compiles against `roots`, otherwise the error message (with its offset). */
export function checkExpression(
  source: string,
  roots: ReadonlySet<string> | readonly string[],
): string | null {
  try {
    compileExpression(source, { roots: new Set(roots) });
    return null;
  } catch (error) {
    if (error instanceof ExpressionError) return error.message;
    throw error;
  }
}

/**
 * Readings of `source` that are valid but ambiguous (unparenthesised conditionals), each as a
 * message with its position, for the validator; [] for a source that does not compile (the
 * syntax error is {@link checkExpression}'s to report).
 */
export function expressionAmbiguities(source: string): string[] {
  try {
    if (typeof source !== 'string' || source.length > MAX_SOURCE_LENGTH) return [];
    const ast = new Parser(source, tokenize(source), undefined).parse();
    return ambiguousConditionals(ast).map((a) => `${a.message} at ${a.position}`);
  } catch (error) {
    if (error instanceof ExpressionError) return [];
    throw error;
  }
}

// A pure memo of a pure function: sharing it between workflows (V8 context reuse) is harmless.
const conditionCache = new Map<string, CompiledExpression>();

function cachedCompile(source: string): CompiledExpression {
  const cached = conditionCache.get(source);
  if (cached !== undefined) {
    conditionCache.delete(source);
    conditionCache.set(source, cached);
    return cached;
  }
  const compiled = compileExpression(source);
  if (conditionCache.size >= CONDITION_CACHE_SIZE) {
    const oldest = conditionCache.keys().next();
    if (oldest.done !== true) conditionCache.delete(oldest.value);
  }
  conditionCache.set(source, compiled);
  return compiled;
}

/**
 * Bounds on what an expression may be, so a hostile definition cannot exhaust the stack or the
 * parser's time. Checked while compiling (see parser.ts and index.ts).
 */

export const MAX_SOURCE_LENGTH = 1000;
/** Parentheses, list brackets, call arguments, unary operators and ternary branches. */
export const MAX_NESTING_DEPTH = 32;

export const EXPRESSION_LIMITS: Readonly<{ maxSourceLength: number; maxNestingDepth: number }> =
  Object.freeze({ maxSourceLength: MAX_SOURCE_LENGTH, maxNestingDepth: MAX_NESTING_DEPTH });

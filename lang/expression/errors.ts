/** The two ways an expression fails: when it is compiled, and when it meets the wrong data. */

/** The source is not a valid expression: fix the definition. */
export class ExpressionError extends Error {
  constructor(
    /** The problem without its position, e.g. `unknown function "foo"`. */
    readonly reason: string,
    /** 0-based character offset of the problem in the source. */
    readonly position: number,
    readonly source: string,
  ) {
    super(`${reason} at ${position}`);
    this.name = 'ExpressionError';
  }
}

/** A valid expression met a value it cannot work with: the definition does not fit the data. */
export class EvaluationError extends Error {
  constructor(
    message: string,
    readonly source: string,
    /** 0-based character offset of the operator, function or property that failed. */
    readonly position: number,
  ) {
    super(message);
    this.name = 'EvaluationError';
  }
}

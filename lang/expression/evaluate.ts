/**
 * Evaluation: the syntax tree compiled into closures over a scope. What each operator does to
 * its values is in values.ts, what each function does in functions.ts.
 */

import { EvaluationError } from './errors';
import type { BinaryOperator, Node } from './syntax';
import type { Fail } from './values';
import {
  arithmetic,
  compare,
  describe,
  equals,
  includes,
  readMember,
  readOwn,
  truth,
} from './values';

/** The names an expression can read, e.g. `{ data, form, outcome, steps, case }`. */
export type ExpressionScope = Readonly<Record<string, unknown>>;

type Evaluator = (scope: ExpressionScope) => unknown;

/** Turns the tree into closures once, so evaluation does no dispatch on node kinds. */
export function compileNode(node: Node, source: string): Evaluator {
  const { pos } = node;
  const fail: Fail = (reason) => {
    throw new EvaluationError(`${reason} at ${pos} in "${source}"`, source, pos);
  };
  switch (node.kind) {
    case 'literal': {
      const { value } = node;
      return () => value;
    }
    case 'list': {
      const { items } = node;
      if (items.every((item) => item.kind === 'literal')) {
        const constant = Object.freeze(
          items.map((item) => (item.kind === 'literal' ? item.value : null)),
        );
        return () => constant;
      }
      const evaluators = items.map((item) => compileNode(item, source));
      return (scope) => evaluators.map((evaluate) => evaluate(scope));
    }
    case 'name': {
      const { name } = node;
      return (scope) => readOwn(scope, name, fail);
    }
    case 'member': {
      const object = compileNode(node.object, source);
      const { key } = node;
      return (scope) => readMember(object(scope), key, fail);
    }
    case 'group':
      return compileNode(node.inner, source);
    case 'not': {
      const operand = compileNode(node.operand, source);
      return (scope) => !truth(operand(scope), '!', fail);
    }
    case 'negate': {
      const operand = compileNode(node.operand, source);
      return (scope) => {
        const value = operand(scope);
        return typeof value === 'number'
          ? -value
          : fail(`'-' needs a number, got ${describe(value)}`);
      };
    }
    case 'logical': {
      const left = compileNode(node.left, source);
      const right = compileNode(node.right, source);
      const { op } = node;
      return op === '&&'
        ? (scope) => truth(left(scope), op, fail) && truth(right(scope), op, fail)
        : (scope) => truth(left(scope), op, fail) || truth(right(scope), op, fail);
    }
    case 'conditional': {
      const test = compileNode(node.test, source);
      const consequent = compileNode(node.consequent, source);
      const alternate = compileNode(node.alternate, source);
      return (scope) => (truth(test(scope), '?', fail) ? consequent(scope) : alternate(scope));
    }
    case 'binary': {
      const left = compileNode(node.left, source);
      const right = compileNode(node.right, source);
      const apply = BINARY_OPERATIONS[node.op];
      return (scope) => apply(left(scope), right(scope), fail);
    }
    case 'call': {
      const args = node.args.map((arg) => compileNode(arg, source));
      const { fn } = node;
      return (scope) =>
        fn.apply(
          args.map((arg) => arg(scope)),
          fail,
        );
    }
  }
}

const BINARY_OPERATIONS: Readonly<
  Record<BinaryOperator, (left: unknown, right: unknown, fail: Fail) => unknown>
> = {
  '==': (left, right, fail) => equals(left, right, '==', fail),
  '!=': (left, right, fail) => !equals(left, right, '!=', fail),
  '<': (left, right, fail) => compare('<', left, right, fail),
  '<=': (left, right, fail) => compare('<=', left, right, fail),
  '>': (left, right, fail) => compare('>', left, right, fail),
  '>=': (left, right, fail) => compare('>=', left, right, fail),
  in: (left, right, fail) => includes(right, left, 'in', fail),
  'not in': (left, right, fail) => !includes(right, left, 'not in', fail),
  '+': (left, right, fail) => arithmetic('+', left, right, fail),
  '-': (left, right, fail) => arithmetic('-', left, right, fail),
  '*': (left, right, fail) => arithmetic('*', left, right, fail),
  '/': (left, right, fail) => arithmetic('/', left, right, fail),
  '%': (left, right, fail) => arithmetic('%', left, right, fail),
};

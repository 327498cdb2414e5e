/**
 * The syntax tree the parser builds and the evaluator compiles, and the static reading of it:
 * which dotted member paths an expression reads (`steps.review.outcome`).
 */

import type { FunctionSpec } from './functions';
import type { ArithmeticOperator } from './values';

export type EqualityOperator = '==' | '!=';
export type RelationalOperator = '<' | '<=' | '>' | '>=' | 'in' | 'not in';
export type BinaryOperator = EqualityOperator | RelationalOperator | ArithmeticOperator;

export type Node =
  | { readonly kind: 'literal'; readonly pos: number; readonly value: Scalar }
  | { readonly kind: 'list'; readonly pos: number; readonly items: readonly Node[] }
  | { readonly kind: 'name'; readonly pos: number; readonly name: string }
  | { readonly kind: 'member'; readonly pos: number; readonly object: Node; readonly key: string }
  | { readonly kind: 'group'; readonly pos: number; readonly inner: Node }
  | { readonly kind: 'not'; readonly pos: number; readonly operand: Node }
  | { readonly kind: 'negate'; readonly pos: number; readonly operand: Node }
  | {
      readonly kind: 'binary';
      readonly pos: number;
      readonly op: BinaryOperator;
      readonly left: Node;
      readonly right: Node;
    }
  | {
      readonly kind: 'logical';
      readonly pos: number;
      readonly op: '&&' | '||';
      readonly left: Node;
      readonly right: Node;
    }
  | {
      readonly kind: 'conditional';
      readonly pos: number;
      readonly test: Node;
      readonly consequent: Node;
      readonly alternate: Node;
    }
  | {
      readonly kind: 'call';
      readonly pos: number;
      readonly name: string;
      readonly fn: FunctionSpec;
      readonly args: readonly Node[];
    };

export type Scalar = null | boolean | number | string;

/** The longest chain of names and properties rooted at a name (`steps.review.outcome`). */
function staticPath(node: Node): string | null {
  if (node.kind === 'name') return node.name;
  if (node.kind === 'group') return staticPath(node.inner);
  if (node.kind !== 'member') return null;
  const base = staticPath(node.object);
  return base === null ? null : `${base}.${node.key}`;
}

export function collectPaths(node: Node, into: Set<string>): void {
  const path = staticPath(node);
  if (path !== null) {
    into.add(path);
    return;
  }
  for (const child of childrenOf(node)) collectPaths(child, into);
}

function childrenOf(node: Node): readonly Node[] {
  switch (node.kind) {
    case 'literal':
    case 'name':
      return [];
    case 'list':
      return node.items;
    case 'call':
      return node.args;
    case 'member':
      return [node.object];
    case 'group':
      return [node.inner];
    case 'not':
    case 'negate':
      return [node.operand];
    case 'binary':
    case 'logical':
      return [node.left, node.right];
    case 'conditional':
      return [node.test, node.consequent, node.alternate];
  }
}

/** Arithmetic operators: a sum or product as the condition of `?` is almost always a slip. */
const ARITHMETIC: ReadonlySet<string> = new Set(['+', '-', '*', '/', '%']);

/**
 * Conditionals whose unparenthesised parts can be read two ways, for the validator to refuse
 * (runtime compilation still accepts them, so a definition published before this check keeps
 * running as it always has): `a ? b : c == d` is `a ? b : (c == d)`, although a writer may mean
 * `(a ? b : c) == d`; `'x' + a ? b : c` is `('x' + a) ? b : c`. Each with its 0-based position.
 */
export function ambiguousConditionals(
  node: Node,
  into: Array<{ message: string; position: number }> = [],
): Array<{ message: string; position: number }> {
  if (node.kind === 'conditional') {
    const { test, alternate } = node;
    if (test.kind === 'binary' && ARITHMETIC.has(test.op)) {
      into.push({
        position: test.pos,
        message:
          `the condition before "?" is the whole "… ${test.op} …": add parentheses, ` +
          `"(… ${test.op} …) ? … : …" if that is meant, or "… ${test.op} (… ? … : …)"`,
      });
    }
    if (alternate.kind === 'binary' || alternate.kind === 'logical') {
      const op = alternate.op;
      into.push({
        position: alternate.pos,
        message:
          `everything after ":" is the value otherwise, "${op}" included: add parentheses, ` +
          `"(… ? … : …) ${op} …" to apply "${op}" to the result, or "… ? … : (… ${op} …)"`,
      });
    }
  }
  for (const child of childrenOf(node)) ambiguousConditionals(child, into);
  return into;
}

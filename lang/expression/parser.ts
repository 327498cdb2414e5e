/**
 * The parser: recursive descent over the tokens, one method per rule of the grammar written out
 * in index.ts. Besides syntax it checks what can be checked before any data is seen: known
 * functions and their argument counts, names outside the allowed roots, forbidden property
 * names, and the nesting limit.
 */

import { ExpressionError } from './errors';
import { FUNCTIONS } from './functions';
import { MAX_NESTING_DEPTH } from './limits';
import type { BinaryOperator, EqualityOperator, Node, RelationalOperator, Scalar } from './syntax';
import type { Punctuator, Token } from './tokens';

const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const LITERAL_WORDS: ReadonlyMap<string, Scalar> = new Map<string, Scalar>([
  ['true', true],
  ['false', false],
  ['null', null],
]);
const OPERATOR_WORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'in']);

/** Recursive descent over the token list; one method per grammar rule. */
export class Parser {
  private index = 0;
  private depth = 0;
  private readonly end: Token;

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
    private readonly roots: ReadonlySet<string> | undefined,
  ) {
    this.end = { kind: 'end', pos: source.length };
  }

  parse(): Node {
    if (this.peek().kind === 'end') throw this.error('expression is empty', 0);
    const node = this.parseExpression();
    const rest = this.peek();
    if (rest.kind !== 'end') throw this.unexpected(rest);
    return node;
  }

  private parseExpression(): Node {
    const test = this.parseOr();
    const question = this.peek();
    if (!isPunctuator(question, '?')) return test;
    this.index += 1;
    const consequent = this.nested(() => this.parseExpression());
    this.expect(':');
    const alternate = this.nested(() => this.parseExpression());
    return { kind: 'conditional', pos: question.pos, test, consequent, alternate };
  }

  private parseOr(): Node {
    let left = this.parseAnd();
    for (;;) {
      const token = this.peek();
      if (!isPunctuator(token, '||') && !isWord(token, 'or')) return left;
      this.index += 1;
      left = { kind: 'logical', pos: token.pos, op: '||', left, right: this.parseAnd() };
    }
  }

  private parseAnd(): Node {
    let left = this.parseEquality();
    for (;;) {
      const token = this.peek();
      if (!isPunctuator(token, '&&') && !isWord(token, 'and')) return left;
      this.index += 1;
      left = { kind: 'logical', pos: token.pos, op: '&&', left, right: this.parseEquality() };
    }
  }

  private parseEquality(): Node {
    const left = this.parseRelation();
    const token = this.peek();
    const op = equalityOperator(token);
    if (op === null) return left;
    this.rejectAmbiguousNegation(left, token, op);
    this.index += 1;
    const right = this.parseRelation();
    const after = this.peek();
    if (equalityOperator(after) !== null) {
      throw this.error('comparisons cannot be chained, add parentheses', after.pos);
    }
    return { kind: 'binary', pos: token.pos, op, left, right };
  }

  private parseRelation(): Node {
    const left = this.parseSum();
    const token = this.peek();
    const op = this.relationalOperator();
    if (op === null) return left;
    this.rejectAmbiguousNegation(left, token, op);
    this.index += op === 'not in' ? 2 : 1;
    const right = this.parseSum();
    if (this.relationalOperator() !== null) {
      throw this.error('comparisons cannot be chained, add parentheses', this.peek().pos);
    }
    return { kind: 'binary', pos: token.pos, op, left, right };
  }

  private parseSum(): Node {
    let left = this.parseProduct();
    for (;;) {
      const token = this.peek();
      if (!isPunctuator(token, '+') && !isPunctuator(token, '-')) return left;
      this.index += 1;
      left = { kind: 'binary', pos: token.pos, op: token.value, left, right: this.parseProduct() };
    }
  }

  private parseProduct(): Node {
    let left = this.parseUnary();
    for (;;) {
      const token = this.peek();
      if (!isPunctuator(token, '*') && !isPunctuator(token, '/') && !isPunctuator(token, '%')) {
        return left;
      }
      this.index += 1;
      left = { kind: 'binary', pos: token.pos, op: token.value, left, right: this.parseUnary() };
    }
  }

  private parseUnary(): Node {
    const token = this.peek();
    if (isPunctuator(token, '!') || isWord(token, 'not')) {
      this.index += 1;
      return { kind: 'not', pos: token.pos, operand: this.nested(() => this.parseUnary()) };
    }
    if (isPunctuator(token, '-')) {
      this.index += 1;
      const operand = this.nested(() => this.parseUnary());
      if (operand.kind === 'literal' && typeof operand.value === 'number') {
        return { kind: 'literal', pos: token.pos, value: -operand.value };
      }
      return { kind: 'negate', pos: token.pos, operand };
    }
    return this.parsePostfix();
  }

  private parsePostfix(): Node {
    let node = this.parsePrimary();
    for (;;) {
      const token = this.peek();
      if (isPunctuator(token, '.')) {
        this.index += 1;
        const key = this.next();
        if (key.kind !== 'word') {
          throw this.error(
            `expected a property name after '.', found ${describeToken(key)}`,
            key.pos,
          );
        }
        this.rejectForbiddenName(key.value, key.pos);
        node = { kind: 'member', pos: key.pos, object: node, key: key.value };
      } else if (isPunctuator(token, '[')) {
        this.index += 1;
        const key = this.next();
        if (key.kind !== 'string') {
          throw this.error(
            `expected a quoted property name after '[', found ${describeToken(key)}`,
            key.pos,
          );
        }
        this.rejectForbiddenName(key.value, key.pos);
        this.expect(']');
        node = { kind: 'member', pos: key.pos, object: node, key: key.value };
      } else {
        return node;
      }
    }
  }

  private parsePrimary(): Node {
    const token = this.next();
    switch (token.kind) {
      case 'number':
      case 'string':
        return { kind: 'literal', pos: token.pos, value: token.value };
      case 'word':
        return this.parseWord(token);
      case 'punctuator':
        if (token.value === '(') {
          const inner = this.nested(() => this.parseExpression());
          this.expect(')');
          return { kind: 'group', pos: token.pos, inner };
        }
        if (token.value === '[') {
          return { kind: 'list', pos: token.pos, items: this.parseItems(']') };
        }
        throw this.unexpected(token);
      case 'end':
        throw this.unexpected(token);
    }
  }

  private parseWord(token: Token & { kind: 'word' }): Node {
    const word = token.value;
    const literal = LITERAL_WORDS.get(word);
    if (literal !== undefined) return { kind: 'literal', pos: token.pos, value: literal };
    if (OPERATOR_WORDS.has(word)) throw this.unexpected(token);
    this.rejectForbiddenName(word, token.pos);
    if (isPunctuator(this.peek(), '(')) {
      const fn = FUNCTIONS.get(word);
      if (fn === undefined) {
        const known = [...FUNCTIONS.keys()].join(', ');
        throw this.error(`unknown function "${word}" (known: ${known})`, token.pos);
      }
      this.index += 1;
      const args = this.parseItems(')');
      if (args.length !== fn.arity) {
        const expected = `${fn.arity} argument${fn.arity === 1 ? '' : 's'}`;
        throw this.error(`${word}() takes ${expected}, got ${args.length}`, token.pos);
      }
      return { kind: 'call', pos: token.pos, name: word, fn, args };
    }
    if (this.roots !== undefined && !this.roots.has(word)) {
      const known = [...this.roots].sort().join(', ');
      throw this.error(
        `unknown name "${word}" (known: ${known === '' ? 'none' : known})`,
        token.pos,
      );
    }
    return { kind: 'name', pos: token.pos, name: word };
  }

  /** Comma-separated expressions up to `close`; the opening bracket is already consumed. */
  private parseItems(close: ')' | ']'): Node[] {
    const items: Node[] = [];
    if (isPunctuator(this.peek(), close)) {
      this.index += 1;
      return items;
    }
    for (;;) {
      items.push(this.nested(() => this.parseExpression()));
      const token = this.next();
      if (isPunctuator(token, close)) return items;
      if (!isPunctuator(token, ',')) {
        throw this.error(`expected ',' or '${close}', found ${describeToken(token)}`, token.pos);
      }
    }
  }

  private nested(parse: () => Node): Node {
    this.depth += 1;
    if (this.depth > MAX_NESTING_DEPTH) {
      // Point at the bracket, operator or separator that opened the level too many.
      const opener = this.tokens[this.index - 1] ?? this.peek();
      throw this.error(`expression nests deeper than ${MAX_NESTING_DEPTH} levels`, opener.pos);
    }
    const node = parse();
    this.depth -= 1;
    return node;
  }

  private relationalOperator(): RelationalOperator | null {
    const token = this.peek();
    if (token.kind === 'punctuator') {
      const { value } = token;
      return value === '<' || value === '<=' || value === '>' || value === '>=' ? value : null;
    }
    if (isWord(token, 'in')) return 'in';
    if (isWord(token, 'not') && isWord(this.peek(1), 'in')) return 'not in';
    return null;
  }

  /** `!a == b` reads as `!(a == b)` to some and `(!a) == b` to others: make the author say. */
  private rejectAmbiguousNegation(left: Node, token: Token, op: BinaryOperator): void {
    if (left.kind !== 'not') return;
    throw this.error(
      `ambiguous negation before '${op}': write !(a ${op} b) or (!a) ${op} b`,
      token.pos,
    );
  }

  private rejectForbiddenName(name: string, pos: number): void {
    if (FORBIDDEN_NAMES.has(name)) throw this.error(`name "${name}" is not allowed`, pos);
  }

  private expect(value: Punctuator): void {
    const token = this.next();
    if (!isPunctuator(token, value)) {
      throw this.error(`expected '${value}', found ${describeToken(token)}`, token.pos);
    }
  }

  private peek(offset = 0): Token {
    return this.tokens[this.index + offset] ?? this.end;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index += 1;
    return token;
  }

  private unexpected(token: Token): ExpressionError {
    return this.error(`unexpected ${describeToken(token)}`, token.pos);
  }

  private error(reason: string, pos: number): ExpressionError {
    return new ExpressionError(reason, pos, this.source);
  }
}

function isPunctuator<P extends Punctuator>(
  token: Token,
  value: P,
): token is { kind: 'punctuator'; value: P; pos: number } {
  return token.kind === 'punctuator' && token.value === value;
}

function isWord(token: Token, value: string): boolean {
  return token.kind === 'word' && token.value === value;
}

function equalityOperator(token: Token): EqualityOperator | null {
  if (token.kind !== 'punctuator') return null;
  return token.value === '==' || token.value === '!=' ? token.value : null;
}

function describeToken(token: Token): string {
  switch (token.kind) {
    case 'number':
      return `number ${token.value}`;
    case 'string':
      return `string ${JSON.stringify(token.value)}`;
    case 'word':
      return `"${token.value}"`;
    case 'punctuator':
      return `'${token.value}'`;
    case 'end':
      return 'end of input';
  }
}

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
 *   calendar date of a date or an instant), addDays(x, n), addMonths(x, n) (null gives null).
 *
 * Errors: {@link ExpressionError} when compiling (with the character offset), and
 * {@link EvaluationError} when a value has the wrong type at run time. Limits: 1000 characters
 * and 32 levels of nesting, so a hostile definition cannot exhaust the stack.
 */

const MAX_SOURCE_LENGTH = 1000;
/** Parentheses, list brackets, call arguments, unary operators and ternary branches. */
const MAX_NESTING_DEPTH = 32;
/** Compiled conditions kept by {@link evaluateCondition}; definitions hold far fewer. */
const CONDITION_CACHE_SIZE = 500;

export const EXPRESSION_LIMITS: Readonly<{ maxSourceLength: number; maxNestingDepth: number }> =
  Object.freeze({ maxSourceLength: MAX_SOURCE_LENGTH, maxNestingDepth: MAX_NESTING_DEPTH });

/** The names an expression can read, e.g. `{ data, form, outcome, steps, case }`. */
export type ExpressionScope = Readonly<Record<string, unknown>>;

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

// ---------------------------------------------------------------------------------------------
// Tokens

const PUNCTUATORS = [
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
  '?',
  ':',
  '!',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
] as const;
type Punctuator = (typeof PUNCTUATORS)[number];
const PUNCTUATOR_SET: ReadonlySet<string> = new Set(PUNCTUATORS);

function isPunctuatorText(text: string): text is Punctuator {
  return PUNCTUATOR_SET.has(text);
}

type Token =
  | { readonly kind: 'number'; readonly value: number; readonly pos: number }
  | { readonly kind: 'string'; readonly value: string; readonly pos: number }
  | { readonly kind: 'word'; readonly value: string; readonly pos: number }
  | { readonly kind: 'punctuator'; readonly value: Punctuator; readonly pos: number }
  | { readonly kind: 'end'; readonly pos: number };

const WHITESPACE: ReadonlySet<string> = new Set([' ', '\t', '\n', '\r']);
const ESCAPABLE: ReadonlySet<string> = new Set(["'", '"', '\\']);
const IDENTIFIER_START = /^[\p{L}_]$/u;
const IDENTIFIER_PART = /^[\p{L}\p{N}_]$/u;
/** Lone `=`, `&` and `|` are likely typos of the doubled operator. */
const TYPO_HINTS: Readonly<Record<string, string>> = { '=': '==', '&': '&&', '|': '||' };

function isDigit(ch: string): boolean {
  return ch.length === 1 && ch >= '0' && ch <= '9';
}

/** The whole code point at `index` (one or two UTF-16 units), or '' past the end. */
function codePointAt(source: string, index: number): string {
  const codePoint = source.codePointAt(index);
  return codePoint === undefined ? '' : String.fromCodePoint(codePoint);
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source.charAt(i);
    if (WHITESPACE.has(ch)) {
      i += 1;
    } else if (isDigit(ch)) {
      i = readNumber(source, i, tokens);
    } else if (ch === "'" || ch === '"') {
      i = readString(source, i, tokens);
    } else if (IDENTIFIER_START.test(codePointAt(source, i))) {
      i = readWord(source, i, tokens);
    } else {
      const pair = source.slice(i, i + 2);
      const text = isPunctuatorText(pair) ? pair : ch;
      if (!isPunctuatorText(text)) {
        const hint = TYPO_HINTS[ch];
        const shown = JSON.stringify(codePointAt(source, i));
        throw new ExpressionError(
          hint === undefined
            ? `unexpected character ${shown}`
            : `unexpected '${ch}' (use '${hint}')`,
          i,
          source,
        );
      }
      tokens.push({ kind: 'punctuator', value: text, pos: i });
      i += text.length;
    }
  }
  tokens.push({ kind: 'end', pos: source.length });
  return tokens;
}

function readNumber(source: string, start: number, tokens: Token[]): number {
  let i = start;
  while (isDigit(source.charAt(i))) i += 1;
  if (source.charAt(i) === '.') {
    if (!isDigit(source.charAt(i + 1))) {
      throw new ExpressionError("expected a digit after '.' in a number", i + 1, source);
    }
    i += 1;
    while (isDigit(source.charAt(i))) i += 1;
  }
  const following = codePointAt(source, i);
  if (following === '.' || IDENTIFIER_PART.test(following)) {
    throw new ExpressionError(`unexpected ${JSON.stringify(following)} after a number`, i, source);
  }
  const value = Number(source.slice(start, i));
  if (!Number.isFinite(value)) throw new ExpressionError('number is too large', start, source);
  tokens.push({ kind: 'number', value, pos: start });
  return i;
}

function readString(source: string, start: number, tokens: Token[]): number {
  const quote = source.charAt(start);
  const parts: string[] = [];
  let i = start + 1;
  while (i < source.length) {
    const ch = source.charAt(i);
    if (ch === quote) {
      tokens.push({ kind: 'string', value: parts.join(''), pos: start });
      return i + 1;
    }
    if (ch === '\\') {
      const escaped = source.charAt(i + 1);
      if (escaped === '') break;
      if (!ESCAPABLE.has(escaped)) {
        throw new ExpressionError(
          `unknown escape '\\${codePointAt(source, i + 1)}' (only \\', \\" and \\\\ are escapes)`,
          i,
          source,
        );
      }
      parts.push(escaped);
      i += 2;
    } else {
      parts.push(ch);
      i += 1;
    }
  }
  throw new ExpressionError('unterminated string', start, source);
}

function readWord(source: string, start: number, tokens: Token[]): number {
  let i = start;
  for (let ch = codePointAt(source, i); IDENTIFIER_PART.test(ch); ch = codePointAt(source, i)) {
    i += ch.length;
  }
  tokens.push({ kind: 'word', value: source.slice(start, i), pos: start });
  return i;
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

type EqualityOperator = '==' | '!=';
type RelationalOperator = '<' | '<=' | '>' | '>=' | 'in' | 'not in';
type ArithmeticOperator = '+' | '-' | '*' | '/' | '%';
type BinaryOperator = EqualityOperator | RelationalOperator | ArithmeticOperator;

type Node =
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

type Scalar = null | boolean | number | string;

const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const LITERAL_WORDS: ReadonlyMap<string, Scalar> = new Map<string, Scalar>([
  ['true', true],
  ['false', false],
  ['null', null],
]);
const OPERATOR_WORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'in']);

/** Recursive descent over the token list; one method per grammar rule. */
class Parser {
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

/** The longest chain of names and properties rooted at a name (`steps.review.outcome`). */
function staticPath(node: Node): string | null {
  if (node.kind === 'name') return node.name;
  if (node.kind === 'group') return staticPath(node.inner);
  if (node.kind !== 'member') return null;
  const base = staticPath(node.object);
  return base === null ? null : `${base}.${node.key}`;
}

function collectPaths(node: Node, into: Set<string>): void {
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

// ---------------------------------------------------------------------------------------------
// Evaluation

type Evaluator = (scope: ExpressionScope) => unknown;
/** Throws an {@link EvaluationError} at the position of the node being evaluated. */
type Fail = (reason: string) => never;

/** Turns the tree into closures once, so evaluation does no dispatch on node kinds. */
function compileNode(node: Node, source: string): Evaluator {
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

interface FunctionSpec {
  readonly arity: number;
  readonly apply: (args: readonly unknown[], fail: Fail) => unknown;
}

const DECIMAL_TEXT = /^\s*-?\d+(\.\d+)?\s*$/;

// A Map, not an object literal, so `toString(x)` cannot find Object.prototype.toString.
const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
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
    'addDays',
    { arity: 2, apply: ([value, days], fail) => shiftDate(value, days, 'addDays', fail) },
  ],
  [
    'addMonths',
    { arity: 2, apply: ([value, months], fail) => shiftDate(value, months, 'addMonths', fail) },
  ],
]);

// ── Dates (日期) ────────────────────────────────────────────────────────────────────────────────
// Pure calendar arithmetic on ISO 8601 text, with no clock: the same case always gives the same
// dates. A date is `YYYY-MM-DD`; an instant carries its offset. Calendar days are Beijing days
// (UTC+8, no daylight saving), as everywhere in the engine.

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
// Its own copy of common/beijing.ts: this module imports nothing (a test holds it to that).
const BEIJING_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 24 * 3600_000;

/** A date or an instant as a Beijing calendar date plus, for an instant, its time of day. */
function localDate(
  value: unknown,
  name: string,
  fail: Fail,
): { day: number; timeOfDayMs: number | null } {
  if (typeof value === 'string') {
    const date = DATE_TEXT.exec(value);
    if (date) {
      const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
      if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)) {
        return { day: dayNumber(year, month, day), timeOfDayMs: null };
      }
    } else if (INSTANT_TEXT.test(value)) {
      // Date.parse reads the text; it never looks at the clock.
      const at = Date.parse(value);
      if (!Number.isNaN(at)) {
        const local = at + BEIJING_OFFSET_MS;
        const timeOfDayMs = ((local % DAY_MS) + DAY_MS) % DAY_MS;
        return { day: (local - timeOfDayMs) / DAY_MS, timeOfDayMs };
      }
    }
  }
  return fail(
    `${name}() needs a date (2026-05-01) or an instant with its offset (2026-05-01T09:00:00+08:00), got ${describe(value)}`,
  );
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (March-based years: leap day last). */
function dayNumber(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The date of a day number (the inverse of {@link dayNumber}). */
function dateOfDay(dayNo: number): [number, number, number] {
  const z = dayNo + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear =
    dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function dateText(dayNo: number): string {
  const [year, month, day] = dateOfDay(dayNo);
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/**
 * `addDays(x, n)` / `addMonths(x, n)`: a date gives a date; an instant gives the instant at the
 * same Beijing time of day, written with +08:00. A month step keeps the day of the month, or the
 * month's last day when it has fewer (2026-01-31 plus one month is 2026-02-28). Null gives null.
 */
function shiftDate(value: unknown, amount: unknown, name: string, fail: Fail): unknown {
  if (value === null || value === undefined) return null;
  if (typeof amount !== 'number' || !Number.isInteger(amount) || Math.abs(amount) > 10_000) {
    return fail(
      `${name}() needs a whole number from -10000 to 10000 as its second argument, got ${describe(amount)}`,
    );
  }
  const { day, timeOfDayMs } = localDate(value, name, fail);
  let shifted: number;
  if (name === 'addDays') {
    shifted = day + amount;
  } else {
    const [year, month, dayOfMonth] = dateOfDay(day);
    const months = year * 12 + (month - 1) + amount;
    const [y, m] = [Math.floor(months / 12), (months % 12) + 1];
    shifted = dayNumber(y, m, Math.min(dayOfMonth, daysInMonth(y, m)));
  }
  if (timeOfDayMs === null) return dateText(shifted);
  const seconds = Math.floor(timeOfDayMs / 1000);
  const time = `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
  return `${dateText(shifted)}T${time}+08:00`;
}

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

function kindOf(value: unknown): ValueKind {
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
function describe(value: unknown): string {
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
function readOwn(container: object, key: string, fail: Fail): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(container, key);
  if (descriptor === undefined) return null;
  if (!('value' in descriptor)) return fail(`property '${key}' is an accessor, not data`);
  const value: unknown = descriptor.value;
  return value === undefined ? null : value;
}

function readMember(value: unknown, key: string, fail: Fail): unknown {
  const kind = kindOf(value);
  if (kind === 'null') return null;
  if (kind === 'object' && typeof value === 'object' && value !== null) {
    return readOwn(value, key, fail);
  }
  return fail(`cannot read property '${key}' of ${describe(value)}`);
}

function truth(value: unknown, operator: string, fail: Fail): boolean {
  if (value === true) return true;
  if (value === false || value === null || value === undefined) return false;
  return fail(`'${operator}' needs true, false or null, got ${describe(value)}`);
}

function isScalarKind(kind: ValueKind): boolean {
  return kind === 'boolean' || kind === 'number' || kind === 'string';
}

function equals(left: unknown, right: unknown, operator: string, fail: Fail): boolean {
  const leftKind = kindOf(left);
  const rightKind = kindOf(right);
  if (leftKind === 'null' || rightKind === 'null') return leftKind === rightKind;
  if (isScalarKind(leftKind) && isScalarKind(rightKind)) return left === right;
  return fail(
    `'${operator}' compares strings, numbers, booleans and null, got ${describe(left)} and ${describe(right)}`,
  );
}

function compare(
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

function arithmetic(
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
function includes(haystack: unknown, needle: unknown, operator: string, fail: Fail): boolean {
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

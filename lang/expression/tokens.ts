/**
 * The tokenizer: expression source to numbers, strings, words and punctuators, each with its
 * character offset. Rejects characters and escapes the language does not have.
 */

import { ExpressionError } from './errors';

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
export type Punctuator = (typeof PUNCTUATORS)[number];
const PUNCTUATOR_SET: ReadonlySet<string> = new Set(PUNCTUATORS);

function isPunctuatorText(text: string): text is Punctuator {
  return PUNCTUATOR_SET.has(text);
}

export type Token =
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

export function tokenize(source: string): Token[] {
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

import type { CST, Document, Node as YamlNode } from 'yaml';
import {
  Composer,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  YAMLParseError,
} from 'yaml';
import { z } from 'zod';
import type { DefinitionSpec } from './definition';
import type { DefinitionProblem, ValidationOptions } from './check';
import { validateDefinition } from './check';
import * as language from './definition';

/**
 * Definitions as authors write them: YAML or JSON text. Parses the text, runs the language's
 * validator, and points every problem at its line and column so an editor or a CI log can show
 * it in place. Also produces the JSON Schema editors use to complete and check these files.
 */

export type SourceFormat = 'yaml' | 'json';

/** 1-based, in UTF-16 code units (what editors count). */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A problem with where it is in the text, when that is known. */
export interface SourceProblem extends DefinitionProblem {
  line?: number;
  column?: number;
}

/**
 * Limits on a definition's text, checked before the expensive work so that no request holds the
 * event loop for long: the API checks definitions on it (validate, drafts, publish, the console's
 * editor). Chosen, not derived: the largest shipped definition (definitions/*.yaml, 8 KB, about
 * 250 lines) has 786 syntax marks and nests 7 lists and maps deep, so the limits leave room for
 * definitions six times larger while the worst text they accept checks in tens of milliseconds
 * (bench/definition-validation.ts; most of it is the yaml library's lexer and parser).
 *
 * Syntax marks are the characters YAML and JSON build structure from (line breaks, `,` `[` `]`
 * `{` `}` `-` `:` `?` `#` `&` `*` `!` `|` `>` and quotes), counted over the raw text before the
 * parser runs: every key, list item and bracket needs at least one, so the count bounds the
 * parser's work. It over-counts prose that uses them, which a definition has little of.
 */
export const MAX_SYNTAX_MARKS = 5_000;

/**
 * Lists and maps inside each other. Checked on the parser's token tree (which the yaml library
 * builds without recursion) before the nodes are composed, which recurses: 1,000 nested `[` ran
 * it out of stack and left the process unable to compile regular expressions. MongoDB stores at
 * most 100 levels, so a definition could not be stored much deeper anyway.
 */
export const MAX_NESTING_DEPTH = 64;

type ParsedSource = { ok: true; raw: unknown } | { ok: false; problems: SourceProblem[] };

/** Parses YAML or JSON text; syntax errors (and duplicate keys) come back as located problems. */
export function parseDefinitionSource(text: string, format: SourceFormat): ParsedSource {
  return parse(text, format).result;
}

/**
 * Where the node at a problem path (`steps[2].to.field`, `input.fields[1].name`) starts, or the
 * nearest enclosing node that exists (a missing key points at its object). Null when the text
 * does not parse into anything to point at.
 */
export function locate(text: string, format: SourceFormat, path: string): SourcePosition | null {
  const { document, lineCounter } = parse(text, format);
  return locateIn(document, lineCounter, path);
}

/**
 * Parses and validates a definition, reporting every problem at once (syntax first; otherwise
 * schema, then references, reachability, expressions, roles, templates and field names), each
 * with its path and, where the path exists in the text, its line and column.
 */
export function validateDefinitionSource(
  text: string,
  format: SourceFormat,
  options: ValidationOptions,
): { ok: true; spec: DefinitionSpec } | { ok: false; problems: SourceProblem[] } {
  const { result, document, lineCounter } = parse(text, format);
  if (!result.ok) return result;
  const validated = validateDefinition(result.raw, options);
  if (validated.ok) return validated;
  return {
    ok: false,
    problems: validated.problems.map((problem) => ({
      ...problem,
      ...locateIn(document, lineCounter, problem.path),
    })),
  };
}

interface Parsed {
  result: ParsedSource;
  /** Null when the text was refused before it was parsed into nodes (a limit). */
  document: Document | null;
  lineCounter: LineCounter;
}

function parse(text: string, format: SourceFormat): Parsed {
  const lineCounter = new LineCounter();
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const refuse = (problem: SourceProblem): Parsed => ({
    result: { ok: false, problems: [problem] },
    document: null,
    lineCounter,
  });

  const marks = countSyntaxMarks(text);
  if (marks > MAX_SYNTAX_MARKS) {
    return refuse({
      path: '',
      message: `The definition is too large to check: it has ${marks.toLocaleString('en')} syntax marks (line breaks, keys, list items, brackets); at most ${MAX_SYNTAX_MARKS.toLocaleString('en')} are accepted`,
    });
  }
  // JSON is YAML 1.2 as far as structure goes, so one parser gives positions for both; values of
  // a JSON file still come from JSON.parse, which alone rejects what YAML would let through
  // (comments, unquoted strings, trailing commas).
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const deep = firstTooDeep(tokens);
  if (deep !== null) {
    return refuse({
      path: '',
      message: `The definition nests lists and maps more than ${MAX_NESTING_DEPTH} levels deep; at most ${MAX_NESTING_DEPTH} are accepted`,
      ...at(deep),
    });
  }
  const document = composeDocument(tokens, text.length);
  const yamlProblems = (errors: Document['errors']): SourceProblem[] =>
    errors.map((error) => ({
      path: '',
      message: `${format === 'json' ? 'JSON' : 'YAML'} syntax: ${error.message}`,
      ...at(error.pos[0]),
    }));

  if (format === 'yaml') {
    if (document.errors.length > 0) {
      return {
        result: { ok: false, problems: yamlProblems(document.errors) },
        document,
        lineCounter,
      };
    }
    try {
      return { result: { ok: true, raw: document.toJS() as unknown }, document, lineCounter };
    } catch (err) {
      // toJS refuses alias bombs (a few lines that expand to millions of nodes).
      const problem = { path: '', message: `YAML: ${(err as Error).message}` };
      return { result: { ok: false, problems: [problem] }, document, lineCounter };
    }
  }

  const bom = text.startsWith('\uFEFF') ? 1 : 0;
  const body = text.slice(bom);
  let raw: unknown;
  try {
    raw = JSON.parse(body) as unknown;
  } catch (err) {
    const found = findJsonSyntaxError(body);
    const problem: SourceProblem = found
      ? { path: '', message: `JSON syntax: ${found.message}`, ...at(found.offset + bom) }
      : { path: '', message: `JSON syntax: ${(err as Error).message}` };
    return { result: { ok: false, problems: [problem] }, document, lineCounter };
  }
  // JSON.parse keeps the last of two equal keys without a word; say so, as YAML does.
  const duplicates = document.errors.filter((e) => e.code === 'DUPLICATE_KEY');
  if (duplicates.length > 0) {
    return { result: { ok: false, problems: yamlProblems(duplicates) }, document, lineCounter };
  }
  return { result: { ok: true, raw }, document, lineCounter };
}

/** YAML's and JSON's structure characters, by char code (see MAX_SYNTAX_MARKS). */
const SYNTAX_MARKS = new Uint8Array(128);
for (const c of '\n,[]{}-:?#&*!|>"\'') SYNTAX_MARKS[c.charCodeAt(0)] = 1;

/** How many syntax marks the text has: one pass over the characters, no parsing. */
function countSyntaxMarks(text: string): number {
  let marks = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) marks += SYNTAX_MARKS[c]!;
  }
  return marks;
}

/**
 * The offset of the first list or map nested deeper than MAX_NESTING_DEPTH in the parser's token
 * tree, or null. Walks with its own stack: the point is not to recurse.
 */
function firstTooDeep(tokens: readonly CST.Token[]): number | null {
  const stack: Array<{ token: CST.Token; depth: number }> = tokens.map((token) => ({
    token,
    depth: 0,
  }));
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { token, depth } = next;
    switch (token.type) {
      case 'document':
        if (token.value) stack.push({ token: token.value, depth });
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        if (depth + 1 > MAX_NESTING_DEPTH) return token.offset;
        for (const item of token.items) {
          if (item.key) stack.push({ token: item.key, depth: depth + 1 });
          if (item.value) stack.push({ token: item.value, depth: depth + 1 });
        }
        break;
      }
      default:
        break;
    }
  }
  return null;
}

/**
 * The first document of the tokens, as parseDocument makes it, but in time linear in the number
 * of keys: the yaml library checks each key against every earlier key of its map (10,000 keys
 * took seconds), so its check is off and a set per map finds duplicate keys instead, reported
 * with the library's code and message.
 */
function composeDocument(tokens: readonly CST.Token[], length: number): Document {
  const composer = new Composer({ uniqueKeys: false, prettyErrors: false });
  let document: Document | null = null;
  for (const composed of composer.compose(tokens, true, length)) {
    if (!document) {
      document = composed;
    } else {
      document.errors.push(
        new YAMLParseError(
          composed.range.slice(0, 2) as [number, number],
          'MULTIPLE_DOCS',
          'Source contains multiple documents; please use YAML.parseAllDocuments()',
        ),
      );
      break;
    }
  }
  // compose(…, true) always ends with a document.
  const doc = document!;
  const duplicates = duplicateKeyErrors(doc.contents);
  if (duplicates.length > 0) {
    doc.errors.push(...duplicates);
    doc.errors.sort((a, b) => a.pos[0] - b.pos[0]);
  }
  return doc;
}

/** A key equal to an earlier scalar key of the same map, as the yaml library compares them. */
function duplicateKeyErrors(root: unknown): YAMLParseError[] {
  const errors: YAMLParseError[] = [];
  const pending: unknown[] = [root];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const { key } = pair;
        if (isScalar(key) && !Number.isNaN(key.value)) {
          if (seen.has(key.value)) {
            const start = key.range?.[0] ?? 0;
            errors.push(
              new YAMLParseError([start, start + 1], 'DUPLICATE_KEY', 'Map keys must be unique'),
            );
          }
          seen.add(key.value);
        }
        pending.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      pending.push(...node.items);
    }
  }
  return errors;
}

/** `steps[2].to.field` → `['steps', 2, 'to', 'field']`. */
export function pathSegments(path: string): Array<string | number> {
  const segments: Array<string | number> = [];
  for (const match of path.matchAll(/\[(\d+)\]|([^.[\]]+)/g)) {
    segments.push(match[1] !== undefined ? Number(match[1]) : match[2]!);
  }
  return segments;
}

function locateIn(
  document: Document | null,
  lineCounter: LineCounter,
  path: string,
): SourcePosition | null {
  if (!document) return null;
  const offset = offsetOf(document, pathSegments(path));
  if (offset === null) return null;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

/**
 * Walks the document along the path as far as it exists. A scalar points at its value; a key
 * whose value is a collection (or nothing) points at the key, where the reader's eye goes; a
 * list item points at its first character.
 */
function offsetOf(document: Document, segments: ReadonlyArray<string | number>): number | null {
  let node = resolve(document, document.contents);
  if (!node) return null;
  let offset = node.range?.[0] ?? null;
  for (const segment of segments) {
    if (typeof segment === 'number' && isSeq(node)) {
      const item = resolve(document, node.items[segment]);
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else if (typeof segment === 'string' && isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === segment,
      );
      if (!pair) break;
      const keyOffset = isScalar(pair.key) ? (pair.key.range?.[0] ?? offset) : offset;
      const value = resolve(document, pair.value);
      if (!value) {
        offset = keyOffset;
        break;
      }
      node = value;
      offset = isCollection(value) ? keyOffset : (value.range?.[0] ?? keyOffset);
    } else {
      break;
    }
  }
  return offset;
}

/** The node itself, or what an alias (`*name`) stands for. */
function resolve(document: Document, node: unknown): YamlNode | null {
  if (isAlias(node)) return node.resolve(document) ?? null;
  if (isScalar(node) || isCollection(node)) return node;
  return null;
}

/** Thrown inside the recogniser to stop at the first error. */
class JsonSyntaxStop extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Where strict JSON first goes wrong, for a line and column: JSON.parse has decided that the text
 * is not JSON, but its messages carry a position only sometimes, and differently across Node
 * versions. A recogniser over RFC 8259 that builds no values.
 */
export function findJsonSyntaxError(text: string): { offset: number; message: string } | null {
  let i = 0;

  function fail(expected: string): never {
    const found =
      i >= text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(text[i])}`;
    throw new JsonSyntaxStop(i, `${found}, expected ${expected}`);
  }
  function space(): void {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  }
  function string(): void {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) fail('a closing "');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail('a closing " (control characters must be escaped)');
      if (c !== 0x5c) {
        i++;
      } else if (/^["\\/bfnrt]$/.test(text[i + 1] ?? '')) {
        i += 2;
      } else if (/^u[0-9A-Fa-f]{4}$/.test(text.slice(i + 1, i + 6))) {
        i += 6;
      } else {
        i++;
        fail('an escape such as \\n, \\" or \\u00e9');
      }
    }
  }
  let depth = 0;
  function members(close: '}' | ']', member: () => void): void {
    // It recurses; the caller has checked the depth, but a recogniser should not need that.
    if (++depth > MAX_NESTING_DEPTH) {
      throw new JsonSyntaxStop(i, `nesting deeper than ${MAX_NESTING_DEPTH} levels`);
    }
    i++; // the opening bracket
    space();
    if (text[i] === close) {
      i++;
      depth--;
      return;
    }
    for (;;) {
      member();
      space();
      if (text[i] === close) {
        i++;
        depth--;
        return;
      }
      if (text[i] !== ',') fail(`"," or "${close}"`);
      i++;
    }
  }
  function value(): void {
    space();
    const c = text[i];
    if (c === '{') {
      members('}', () => {
        space();
        if (text[i] !== '"') fail('a property name in double quotes');
        string();
        space();
        if (text[i] !== ':') fail('":"');
        i++;
        value();
      });
      return;
    }
    if (c === '[') return members(']', value);
    if (c === '"') return string();
    const literal = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(
      text.slice(i),
    );
    if (!literal) fail('a value');
    i += literal[0].length;
  }

  try {
    value();
    space();
    if (i < text.length) fail('the end of the document');
    return null;
  } catch (err) {
    if (err instanceof JsonSyntaxStop) return { offset: err.offset, message: err.message };
    throw err;
  }
}

/** Where the schema lives for editors that resolve `$id`s; the API serves the same document. */
export const DEFINITION_SCHEMA_ID = 'urn:governance-flow:schema:definition';

/**
 * The JSON Schema of a definition file, from the same zod schema the validator uses: editors
 * complete keys and step types and flag shape errors as you type. As authors write them, so
 * defaults are optional (`io: 'input'`). Draft-07, which every YAML and JSON editor understands.
 * It checks shape only: references, reachability, expressions, roles and templates are the
 * validator's (POST /api/v1/definitions/validate).
 */
export function definitionJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(language.definitionSchema, {
    io: 'input',
    target: 'draft-07',
    unrepresentable: 'any',
    reused: 'inline',
    metadata: new LanguageRegistry(namedParts()),
  });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: DEFINITION_SCHEMA_ID,
    title: 'Process definition',
    description:
      'A governance process: its input fields, who may start it, its deadlines and its steps. One file per process; publishing it makes a new immutable version.',
    ...rest,
  };
}

/**
 * Every exported part of the language (`taskStepSchema` → `taskStep`), so the schema's
 * definitions carry readable names and a part used in many places is written once.
 */
function namedParts(): Map<z.core.$ZodType, string> {
  const names = new Map<z.core.$ZodType, string>();
  for (const [name, value] of Object.entries(language)) {
    if (name !== 'definitionSchema' && name.endsWith('Schema') && value instanceof z.ZodType) {
      names.set(value, name.slice(0, -'Schema'.length));
    }
  }
  return names;
}

/** zod's global metadata (descriptions given with `.meta()`), plus an id for each named part. */
class LanguageRegistry extends z.core.$ZodRegistry<z.core.GlobalMeta> {
  constructor(private readonly names: ReadonlyMap<z.core.$ZodType, string>) {
    super();
  }

  override get<S extends z.core.$ZodType>(schema: S): z.core.GlobalMeta | undefined {
    const meta = z.globalRegistry.get(schema);
    const id = this.names.get(schema);
    return id === undefined ? meta : { ...meta, id };
  }
}

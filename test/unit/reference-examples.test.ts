import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadShippedCalendarYears } from '../../calendars';
import { FIELD_TYPES, stepSchema } from '../../lang/definition';
import { BUILTIN_POST_ROLES } from '../../lang/vocabulary';
import type { SourceProblem } from '../../lang/source';
import { validateDefinitionSource } from '../../lang/source';
import { planDeadline } from '../../common/sla';
import { createWorkingCalendar } from '../../common/working-calendar';
import { createMailRenderer } from '../../mail/renderer';

/**
 * The definition-language reference must stay true: every complete example in it validates, every
 * error it shows is the validator's actual output, its working-calendar table matches the SLA
 * arithmetic, and the processes written from it alone (test/fixtures/processes) validate too.
 */

const ROOT = path.join(__dirname, '..', '..');
const DOC_PATH = path.join(ROOT, 'docs', 'definition-language.md');
const PROCESS_DIR = path.join(ROOT, 'test', 'fixtures', 'processes');

const options = { knownTemplates: createMailRenderer().templateNames };
const doc = readFileSync(DOC_PATH, 'utf8');

interface CodeBlock {
  /** The info string after the opening fence, e.g. `yaml` or `yaml invalid`. */
  info: string;
  text: string;
  /** 1-based line of the opening fence in the document, for failure messages. */
  line: number;
}

/** Fenced code blocks (```) of a Markdown text, in order. Indented fences inside lists count. */
function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) {
      body.push(lines[j]!.slice(Math.min(indent, lines[j]!.length - lines[j]!.trimStart().length)));
    }
    blocks.push({ info: open[2]!.trim(), text: `${body.join('\n')}\n`, line: i + 1 });
    i = j;
  }
  return blocks;
}

/** A complete definition: a `yaml` block whose first line that is not a comment is `key: …`. */
function isFullExample(block: CodeBlock): boolean {
  if (block.info !== 'yaml') return false;
  const first = block.text.split('\n').find((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  return first?.startsWith('key:') === true;
}

function problemsOf(text: string): SourceProblem[] {
  const result = validateDefinitionSource(text, 'yaml', options);
  return result.ok ? [] : result.problems;
}

const blocks = codeBlocks(doc);
const fullExamples = blocks.filter(isFullExample);

describe('docs/definition-language.md: complete examples', () => {
  it('when the reference is read, then it holds the annotated examples the issue asks for', () => {
    // Arrange
    const keys = fullExamples.map((b) => /^key:\s*(\S+)/m.exec(b.text)?.[1]);

    // Act
    const unique = new Set(keys);

    // Assert
    expect(keys).toEqual(
      expect.arrayContaining([
        'property-54321',
        'hotline-response',
        'demand-claim',
        'street-service-desk', // categories and Open311 (section 3.1)
      ]),
    );
    expect(unique.size).toBe(keys.length);
  });

  it.each(fullExamples.map((b) => [b.line, b] as const))(
    'when the example at line %i is validated, then it is valid',
    (_line, block) => {
      // Arrange
      const text = block.text;

      // Act
      const problems = problemsOf(text);

      // Assert
      expect(problems).toEqual([]);
    },
  );
});

describe('docs/definition-language.md: the validator output it shows', () => {
  const invalid = blocks.flatMap((block, i) =>
    block.info === 'yaml invalid' ? [[block.line, block, blocks[i + 1]] as const] : [],
  );

  it('when the reference is read, then it shows invalid examples with their output', () => {
    // Arrange
    const followers = invalid.map(([, , next]) => next?.info);

    // Act
    const count = invalid.length;

    // Assert
    expect(count).toBeGreaterThanOrEqual(2);
    expect(followers.every((info) => info === 'json')).toBe(true);
  });

  it.each(invalid)(
    'when the invalid example at line %i is validated, then the problems are those shown after it',
    (_line, block, output) => {
      // Arrange
      const shown = JSON.parse(output!.text) as { error: { details: SourceProblem[] } };

      // Act
      const problems = problemsOf(block.text);

      // Assert
      expect(problems).toEqual(shown.error.details);
    },
  );
});

describe('docs/definition-language.md: the working-calendar table', () => {
  /** Rows such as | `8 working hours` | 2025-10-09 16:00 | … of the table from 30 Sep 15:00. */
  const rows = [...doc.matchAll(/^\| `([^`]+)`\s*\|\s*(\d{4}-\d{2}-\d{2} \d{2}:\d{2})\s*\|/gm)].map(
    (m) => [m[1]!, m[2]!] as const,
  );
  const calendar = createWorkingCalendar(loadShippedCalendarYears());

  it('when the reference is read, then the table compares calendar and working durations', () => {
    // Arrange
    const durations = rows.map(([within]) => within);

    // Act
    const compared = ['1 working day', '8 working hours'].filter((d) => durations.includes(d));

    // Assert
    expect(compared).toHaveLength(2);
  });

  it.each(rows)(
    'when "%s" runs from Tuesday 2025-09-30 15:00 Beijing time, then it is due at %s',
    (within, due) => {
      // Arrange
      const startedAt = new Date('2025-09-30T15:00:00+08:00').toISOString();

      // Act
      const plan = planDeadline(calendar, { within, reminders: [], escalations: [] }, startedAt);

      // Assert
      expect(plan.dueAt).toBe(new Date(`${due.replace(' ', 'T')}:00+08:00`).toISOString());
    },
  );
});

describe('docs/definition-language.md: coverage of the language', () => {
  it('when the reference is read, then it names every step type, field type and built-in post role', () => {
    // Arrange
    const stepTypes = stepSchema.options.map((option) => option.shape.type.value);

    // Act
    const missing = [
      ...stepTypes.filter((type) => !new RegExp(`^### 6\\.\\d+ \`${type}\` — `, 'm').test(doc)),
      ...FIELD_TYPES.filter((type) => !doc.includes(`| \`${type}\``)),
      ...Object.entries(BUILTIN_POST_ROLES)
        .filter(([key, label]) => !new RegExp(`\\| \`${key}\`\\s*\\| ${label}\\s*\\|`).test(doc))
        .map(([key]) => key),
    ];

    // Assert
    expect(missing).toEqual([]);
  });
});

describe('test/fixtures/processes: processes written from the reference alone', () => {
  const files = readdirSync(PROCESS_DIR).filter((f) => /\.ya?ml$/.test(f));

  it('when the folder is read, then it holds the street-whistle process (吹哨报到)', () => {
    // Arrange
    const expected = 'street-whistle.yaml';

    // Act
    const found = files.includes(expected);

    // Assert
    expect(found).toBe(true);
  });

  it.each(files)('when %s is validated, then it is valid and its key is its file name', (file) => {
    // Arrange
    const text = readFileSync(path.join(PROCESS_DIR, file), 'utf8');

    // Act
    const result = validateDefinitionSource(text, 'yaml', options);

    // Assert
    expect(result.ok ? [] : result.problems).toEqual([]);
    expect(result.ok && result.spec.key).toBe(file.replace(/\.ya?ml$/, ''));
  });
});

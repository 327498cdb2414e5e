import type { ErrorDetail } from '../services/errors';
import { AppError } from '../services/errors';
import type { DefinitionSummary } from '../services/definitions';
import type { DefinitionSpec, StepSpec, StepType } from '../lang/definition';
import type { SourceFormat, SourceProblem } from '../lang/source';
import { locate } from '../lang/source';
import { allSteps, startStepId, successorsOf } from '../lang/steps';
import type { DiagramLabels } from './diagram-graph';
import { renderDiagram } from './diagram';
import { formatInstant } from './format';
import type { Translate } from './i18n';
import { BASE } from './pipeline';

/** View models of the definition pages: the editor with its problems, the steps, the diagram. */

export const STEP_TYPES: readonly StepType[] = [
  'task',
  'claim',
  'timer',
  'decision',
  'parallel',
  'notify',
  'feedback',
  'publish',
  'subprocess',
  'end',
  'evaluation',
  'recurrence',
  'assessment',
  'repeat',
  'lookup',
  'grant',
];

export function stepTypeLabel(t: Translate, type: string): string {
  return (STEP_TYPES as readonly string[]).includes(type) ? t(`admin.stepType.${type}`) : type;
}

export function diagramLabels(t: Translate): DiagramLabels {
  return {
    type: (type) => stepTypeLabel(t, type),
    otherwise: t('admin.diagram.otherwise'),
    returned: t('admin.diagram.returned'),
    unclaimed: t('admin.diagram.unclaimed'),
    join: (join) =>
      join === 'all'
        ? t('admin.diagram.joinAll')
        : join === 'any'
          ? t('admin.diagram.joinAny')
          : t('admin.diagram.joinAtLeast', { n: join.atLeast }),
    repeat: (step) =>
      step.dates !== undefined
        ? t('admin.diagram.repeatDates', { list: step.dates })
        : step.every !== undefined
          ? t('admin.diagram.repeatEvery', { n: step.times ?? 0, every: step.every })
          : t('admin.diagram.repeatTimes', { n: step.times ?? 0 }),
    start: t('admin.diagram.start'),
  };
}

/** The diagram of a spec, as SVG markup built (and escaped) by console/diagram.ts. */
export function diagramOf(spec: DefinitionSpec, t: Translate, idPrefix: string): string {
  return renderDiagram(spec, {
    idPrefix,
    title: t('admin.def.diagramTitle', { name: spec.name }),
    labels: diagramLabels(t),
  });
}

export interface StepRow {
  id: string;
  name: string;
  type: string;
  /** The parallel branch holding the step, if any. */
  branch: string;
  next: string;
  isStart: boolean;
  isEnd: boolean;
}

/** Every step (branches included) with where it may go, for the table beside the diagram. */
export function stepRows(spec: DefinitionSpec, t: Translate): StepRow[] {
  const start = startStepId(spec);
  const branchOf = new Map<StepSpec, string>();
  for (const step of spec.steps) {
    // A repeated block is shown as its repeat step's one branch.
    if (step.type === 'repeat') for (const inner of step.steps) branchOf.set(inner, step.name);
    if (step.type !== 'parallel') continue;
    for (const branch of step.branches) {
      for (const inner of branch.steps) branchOf.set(inner, `${step.name} / ${branch.name}`);
    }
  }
  const names = new Map(allSteps(spec).map(({ step }) => [step.id, step.name]));
  // Top-level steps in order, each parallel step followed by the steps of its branches.
  const entries = allSteps(spec);
  const ordered = entries
    .filter(({ list }) => !list.isBranch)
    .flatMap((entry) => [
      entry,
      ...entries.filter(({ list }) => list.path.startsWith(`steps[${entry.index}].`)),
    ]);
  return ordered.map(({ step, list, index }) => {
    const { targets, fallsThrough } = successorsOf(step);
    const following = list.steps[index + 1];
    const next = [...new Set(targets)].map((id) => names.get(id) ?? id);
    if (fallsThrough) {
      next.push(
        following ? following.name : list.isBranch ? t('admin.def.branchEnds') : t('common.none'),
      );
    }
    const goesTo =
      step.type === 'end'
        ? t(`admin.endStatus.${step.status}`)
        : step.type === 'parallel'
          ? t('admin.def.parallelNext', {
              n: step.branches.length,
              next: next.join(t('admin.def.listSeparator')),
            })
          : next.join(t('admin.def.listSeparator'));
    return {
      id: step.id,
      name: step.name,
      type: stepTypeLabel(t, step.type),
      branch: branchOf.get(step) ?? '',
      next: goesTo,
      isStart: !list.isBranch && step.id === start,
      isEnd: step.type === 'end',
    };
  });
}

/** A source shown with its line numbers (the definition page, a version). */
export function numberedLines(source: string): Array<{ n: number; text: string }> {
  return splitLines(source).map((text, i) => ({ n: i + 1, text }));
}

function splitLines(source: string): string[] {
  return source.replace(/\r\n?/g, '\n').split('\n');
}

export interface ProblemView {
  path: string;
  message: string;
  line: number | null;
  column: number | null;
  /** The lines around the problem, its own marked, with a caret under its column. */
  excerpt: Array<{ n: number; text: string; hit: boolean; caret: string }>;
}

/** How many problems get an excerpt; the rest are listed with their line and column only. */
const EXCERPTS = 20;

/** A service's problems, each at its line with the source around it. */
export function problemViews(
  details: readonly ErrorDetail[],
  source: string,
): { problems: ProblemView[]; lines: Set<number> } {
  const lines = splitLines(source);
  const errorLines = new Set<number>();
  const problems = details.map((detail, i): ProblemView => {
    const { line, column } = detail as SourceProblem;
    const at = typeof line === 'number' && line >= 1 && line <= lines.length ? line : null;
    if (at !== null) errorLines.add(at);
    const excerpt: ProblemView['excerpt'] = [];
    if (at !== null && i < EXCERPTS) {
      for (let n = Math.max(1, at - 2); n <= Math.min(lines.length, at + 2); n++) {
        excerpt.push({
          n,
          text: lines[n - 1]!,
          hit: n === at,
          caret: n === at && typeof column === 'number' ? `${' '.repeat(column - 1)}^` : '',
        });
      }
    }
    return {
      path: detail.path,
      message: detail.message,
      line: at,
      column: at !== null && typeof column === 'number' ? column : null,
      excerpt,
    };
  });
  // The reader's eye goes down the file: problems in line order, those without a line first.
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { problems, lines: errorLines };
}

/** The numbers in the editor's gutter, one per line (and a few spare), error lines marked. */
export function gutterOf(
  source: string,
  errorLines: ReadonlySet<number>,
): { rows: number; gutter: Array<{ n: number; error: boolean }> } {
  const count = splitLines(source).length;
  const rows = Math.min(Math.max(count + 2, 24), 2000);
  return {
    rows,
    gutter: Array.from({ length: rows }, (_, i) => ({ n: i + 1, error: errorLines.has(i + 1) })),
  };
}

/** A short skeleton shown as the placeholder of an empty editor. */
export const NEW_DEFINITION_PLACEHOLDER = `key: my-process
name: 我的流程
starters: [resident, staff]
input:
  fields:
    - { name: description, label: 诉求内容, type: text, required: true }
steps:
  - id: handle
    name: 办理
    type: task
    candidates: [{ role: officer, unit: case }]
  - id: closed
    name: 办结
    type: end`;

export function isSourceFormat(value: string): value is SourceFormat {
  return value === 'yaml' || value === 'json';
}

/** A row of the definitions list. */
export function summaryRow(d: DefinitionSummary, t: Translate) {
  return {
    key: d.key,
    href: definitionPath(d.key),
    name: d.name,
    latestVersion: d.latestVersion,
    status: d.status,
    statusLabel: t(`admin.status.${d.status}`),
    publishedAt: formatInstant(d.publishedAt),
    hasDraft: d.hasDraft,
  };
}

export function definitionPath(key: string): string {
  return `${BASE}/admin/definitions/${encodeURIComponent(key)}`;
}

/** A problem with the definition's key, pointed at the `key:` line as the validator would. */
export function keyProblem(message: string, source: string, format: SourceFormat): AppError {
  const detail: ErrorDetail = { path: 'key', message, ...locate(source, format, 'key') };
  return new AppError('unprocessable', message, [detail]);
}

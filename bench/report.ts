/**
 * Figures for the engine-overhead benchmark: latency samples and percentiles, the comparison
 * table, and a per-case profile read from workflow histories (activities, workflow tasks,
 * Updates), which says where a side spends its time inside Temporal.
 */

export const OPS = ['start', 'ready', 'claim', 'complete', 'case'] as const;
export type Op = (typeof OPS)[number];

export const OP_MEANING: Record<Op, string> = {
  start: 'the start call (POST /api/v1/cases, or client.workflow.start)',
  ready: 'from the previous call until the next task shows as open in the read model (polled)',
  claim: 'the claim call (HTTP, or executeUpdate)',
  complete: 'the complete call (HTTP, or executeUpdate)',
  case: 'one whole case: start to workflow closed',
};

export class Samples {
  private readonly values = new Map<Op, number[]>();

  add(op: Op, ms: number): void {
    const list = this.values.get(op) ?? [];
    list.push(ms);
    this.values.set(op, list);
  }

  async time<T>(op: Op, action: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await action();
    this.add(op, performance.now() - started);
    return result;
  }

  /** Nearest-rank percentile in ms; NaN without samples. */
  percentile(op: Op, p: number): number {
    const sorted = [...(this.values.get(op) ?? [])].sort((a, b) => a - b);
    if (sorted.length === 0) return NaN;
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
    return sorted[rank - 1]!;
  }

  count(op: Op): number {
    return this.values.get(op)?.length ?? 0;
  }
}

export interface SideResult {
  name: string;
  cases: number;
  wallMs: number;
  samples: Samples;
  caseIds: string[];
  /** CPU time (ms) each process of the run spent during this side's batches, by process name. */
  cpuMs: Map<string, number>;
}

export function casesPerSecond(side: SideResult): number {
  return side.cases / (side.wallMs / 1000);
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '–';
}

function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * The comparison: each side's throughput and p50/p99 per operation, with the ratios engine ÷
 * baseline (API and client) and engine via API ÷ engine via client (what the API adds).
 */
export function comparisonTable(api: SideResult, client: SideResult, base: SideResult): string {
  const header = [
    '',
    'engine/API',
    'engine/client',
    'baseline',
    'API÷base',
    'client÷base',
    'API÷client',
  ];
  const row = (label: string, values: [number, number, number], digits: number): string[] => [
    label,
    fixed(values[0], digits),
    fixed(values[1], digits),
    fixed(values[2], digits),
    ratio(values[0], values[2]),
    ratio(values[1], values[2]),
    ratio(values[0], values[1]),
  ];
  const rows: string[][] = [
    row('cases/s', [casesPerSecond(api), casesPerSecond(client), casesPerSecond(base)], 2),
  ];
  for (const op of OPS) {
    for (const p of [50, 99]) {
      rows.push(
        row(
          `${op} p${p} (ms)`,
          [
            api.samples.percentile(op, p),
            client.samples.percentile(op, p),
            base.samples.percentile(op, p),
          ],
          1,
        ),
      );
    }
  }
  return renderTable(header, rows);
}

/** The bench's own process (the drivers): its row is left out of the engine's figure. */
export const DRIVERS_PROCESS = 'drivers (bench process)';

/**
 * CPU per case, by process: the sides take turns, so what a process used during a side's batches
 * is that side's work (plus what idles in the background, alike for all). With a drivers' row, a
 * last row sums the others: what the side itself cost, without the harness driving it.
 */
export function cpuTable(sides: readonly SideResult[]): string {
  const names = [...new Set(sides.flatMap((s) => [...s.cpuMs.keys()]))];
  const perCase = (side: SideResult, ms: number) => ms / Math.max(1, side.cases);
  const total = (side: SideResult) => [...side.cpuMs.values()].reduce((a, b) => a + b, 0);
  const base = sides[sides.length - 1]!;
  const row = (label: string, of: (side: SideResult) => number): string[] => [
    label,
    ...sides.map((side) => fixed(perCase(side, of(side)), 1)),
    ...sides.slice(0, -1).map((side) => ratio(perCase(side, of(side)), perCase(base, of(base)))),
  ];
  const rows = names.map((name) => row(`${name} CPU ms / case`, (s) => s.cpuMs.get(name) ?? 0));
  rows.push(row('all CPU ms / case', total));
  if (names.includes(DRIVERS_PROCESS)) {
    rows.push(
      row(
        'all but the drivers CPU ms / case',
        (s) => total(s) - (s.cpuMs.get(DRIVERS_PROCESS) ?? 0),
      ),
    );
  }
  const header = [
    '',
    ...sides.map((s) => s.name),
    ...sides.slice(0, -1).map((s) => `${s.name}÷${base.name}`),
  ];
  return renderTable(header, rows);
}

/**
 * Store commands per case, one line per side: the total, then each `command collection` the side's
 * database received, most first. `commands` is keyed `database command collection` (bench/host.ts);
 * a side's `cases` are all it ran (warm-up included), the count being cumulative.
 */
export function storeCommandLines(
  commands: Readonly<Record<string, number>>,
  sides: ReadonlyArray<{ name: string; database: string; cases: number }>,
): string[] {
  return sides.map(({ name, database, cases }) => {
    const entries = Object.entries(commands)
      .filter(([key]) => key.startsWith(`${database} `))
      .map(([key, count]) => [key.slice(database.length + 1), count / Math.max(1, cases)] as const)
      .sort((a, b) => b[1] - a[1]);
    const total = entries.reduce((sum, [, perCase]) => sum + perCase, 0);
    const parts = entries.map(([what, perCase]) => `${what} ${perCase.toFixed(1)}`);
    return `${name}: ${total.toFixed(1)} store commands per case (${parts.join(', ')})`;
  });
}

/**
 * CPU time (user + system, ms) from the text of `/proc/<pid>/stat`. The fields after the
 * parenthesised command name (which may hold spaces) start with the state, field 3: utime and
 * stime are fields 14 and 15, in clock ticks of 1/100 s on every Linux this runs on.
 */
export function cpuMsOfProcStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error('not a /proc/<pid>/stat line');
  return ticks * 10;
}

/**
 * What `/proc/<pid>/stat` says about a process's family: its parent's pid (field 4) and the CPU
 * time (ms) of its children that have exited and been waited for (cutime + cstime, 16 and 17).
 */
export function familyOfProcStat(stat: string): { ppid: number; reapedChildrenMs: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const ticks = Number(fields[13]) + Number(fields[14]);
  if (!Number.isInteger(ppid) || !Number.isFinite(ticks)) {
    throw new Error('not a /proc/<pid>/stat line');
  }
  return { ppid, reapedChildrenMs: ticks * 10 };
}

// --- Workflow history profile -------------------------------------------------------------

type LongLike = number | string | { toString(): string } | null | undefined;

interface EventLike {
  eventId?: LongLike;
  eventTime?: { seconds?: LongLike; nanos?: number | null } | null;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskStartedEventAttributes?: { scheduledEventId?: LongLike } | null;
  activityTaskCompletedEventAttributes?: { scheduledEventId?: LongLike } | null;
  workflowTaskScheduledEventAttributes?: object | null;
  workflowTaskCompletedEventAttributes?: { scheduledEventId?: LongLike } | null;
  workflowExecutionUpdateAcceptedEventAttributes?: object | null;
}

export interface HistoryLike {
  events?: EventLike[] | null;
}

function num(value: LongLike): number {
  return value === null || value === undefined ? 0 : Number(String(value));
}

function timeMs(event: EventLike): number {
  return num(event.eventTime?.seconds) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
}

interface ActivityFigures {
  count: number;
  queuedMs: number;
  runMs: number;
}

/** Sizes of the read-model documents of the sampled cases, as stored (BSON bytes). */
export interface StoredDocuments {
  caseBytes: number;
  taskBytes: number;
  tasks: number;
}

export interface HistoryProfile {
  histories: number;
  documents: StoredDocuments;
  events: number;
  workflowTasks: number;
  workflowTaskMs: number;
  updates: number;
  activities: Map<string, ActivityFigures>;
}

/** Sums what the histories of a side's cases show; {@link profileTable} prints per-case means. */
export function profileHistories(
  histories: readonly HistoryLike[],
  documents: StoredDocuments,
): HistoryProfile {
  const profile: HistoryProfile = {
    histories: histories.length,
    documents,
    events: 0,
    workflowTasks: 0,
    workflowTaskMs: 0,
    updates: 0,
    activities: new Map(),
  };
  for (const history of histories) {
    const events = history.events ?? [];
    const byId = new Map(events.map((e) => [num(e.eventId), e]));
    const startedAt = new Map<number, number>();
    profile.events += events.length;
    for (const event of events) {
      if (event.workflowExecutionUpdateAcceptedEventAttributes) profile.updates += 1;
      const wft = event.workflowTaskCompletedEventAttributes;
      if (wft) {
        const scheduled = byId.get(num(wft.scheduledEventId));
        profile.workflowTasks += 1;
        if (scheduled) profile.workflowTaskMs += timeMs(event) - timeMs(scheduled);
      }
      const started = event.activityTaskStartedEventAttributes;
      if (started) startedAt.set(num(started.scheduledEventId), timeMs(event));
      const completed = event.activityTaskCompletedEventAttributes;
      if (completed) {
        const scheduledId = num(completed.scheduledEventId);
        const scheduled = byId.get(scheduledId);
        const name =
          scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? 'unknown';
        const figures = profile.activities.get(name) ?? { count: 0, queuedMs: 0, runMs: 0 };
        const scheduledAt = scheduled ? timeMs(scheduled) : timeMs(event);
        const start = startedAt.get(scheduledId) ?? scheduledAt;
        figures.count += 1;
        figures.queuedMs += start - scheduledAt;
        figures.runMs += timeMs(event) - start;
        profile.activities.set(name, figures);
      }
    }
  }
  return profile;
}

/** Per-case means of each side's profile, one column per side. */
export function profileTable(sides: ReadonlyArray<[string, HistoryProfile]>): string {
  const per = (p: HistoryProfile, value: number) => value / Math.max(1, p.histories);
  const names = [...new Set(sides.flatMap(([, p]) => [...p.activities.keys()]))].sort();
  const rows: string[][] = [
    ['cases sampled', ...sides.map(([, p]) => String(p.histories))],
    ['history events / case', ...sides.map(([, p]) => fixed(per(p, p.events), 1))],
    ['workflow tasks / case', ...sides.map(([, p]) => fixed(per(p, p.workflowTasks), 1))],
    [
      'workflow task mean (ms)',
      ...sides.map(([, p]) => fixed(p.workflowTaskMs / Math.max(1, p.workflowTasks), 1)),
    ],
    ['updates / case', ...sides.map(([, p]) => fixed(per(p, p.updates), 1))],
    [
      'case document (bytes, closed)',
      ...sides.map(([, p]) => fixed(per(p, p.documents.caseBytes), 0)),
    ],
    [
      'task document (bytes, closed)',
      ...sides.map(([, p]) => fixed(p.documents.taskBytes / Math.max(1, p.documents.tasks), 0)),
    ],
    [
      'activities / case',
      ...sides.map(([, p]) =>
        fixed(
          per(
            p,
            [...p.activities.values()].reduce((sum, a) => sum + a.count, 0),
          ),
          1,
        ),
      ),
    ],
  ];
  for (const name of names) {
    rows.push([
      `  ${name} / case`,
      ...sides.map(([, p]) => fixed(per(p, p.activities.get(name)?.count ?? 0), 1)),
    ]);
    rows.push([
      `  ${name} queued+run mean (ms)`,
      ...sides.map(([, p]) => {
        const a = p.activities.get(name);
        return a ? `${fixed(a.queuedMs / a.count, 1)}+${fixed(a.runMs / a.count, 1)}` : '–';
      }),
    ]);
  }
  rows.push([
    'activity time / case (ms)',
    ...sides.map(([, p]) =>
      fixed(
        per(
          p,
          [...p.activities.values()].reduce((sum, a) => sum + a.queuedMs + a.runMs, 0),
        ),
        1,
      ),
    ),
  ]);
  return renderTable(['', ...sides.map(([name]) => name)], rows);
}

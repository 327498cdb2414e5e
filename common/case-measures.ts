import type { CaseMetrics, TimelineEntry } from './case';
import { BEIJING_OFFSET_MS } from '../lang/beijing';

/**
 * What a case counts for in the metrics (接单率, 响应率, 办结率, 满意度…), kept on the case document
 * as numbers so a `$group` with `$sum` adds them up on MongoDB and FerretDB alike (neither `$cond`
 * nor `$lookup` is needed at query time). Flags are 0 or 1; durations are whole minutes.
 *
 * The interpreter feeds every timeline entry it records to a {@link CaseMeasures}, so the figures
 * follow the same events the case's timeline shows; {@link measureTimeline} computes them from a
 * stored timeline for cases projected before they existed.
 */

export const METRIC_FIELDS = [
  'received',
  'accepted',
  'respondedInTime',
  'completed',
  'completedOnTime',
  'rejected',
  'overdue',
  'escalated',
  'escalations',
  'returned',
  'arbitrated',
  'rated',
  'ratingScore',
  'satisfied',
  'ratingMissing',
  'responseMinutes',
  'handlingMinutes',
] as const satisfies ReadonlyArray<keyof CaseMetrics>;

export type MetricField = (typeof METRIC_FIELDS)[number];

/** The Beijing calendar month of an instant, `YYYY-MM`. */
export function beijingMonth(instant: number): string {
  return new Date(instant + BEIJING_OFFSET_MS).toISOString().slice(0, 7);
}

/** A score at or above this counts as satisfied (满意). */
export const SATISFIED_FROM = 4;

type Observed = Pick<TimelineEntry, 'type' | 'at' | 'detail'>;

/** Accumulates one case's metrics from its timeline entries, in order. Pure and deterministic. */
export class CaseMeasures {
  private startedAt: number | null = null;
  private acceptedAt: number | null = null;
  private missedBeforeAcceptance = false;
  private readonly counts: CaseMetrics = {
    received: 1,
    accepted: 0,
    respondedInTime: 0,
    completed: 0,
    completedOnTime: 0,
    rejected: 0,
    overdue: 0,
    escalated: 0,
    escalations: 0,
    returned: 0,
    arbitrated: 0,
    rated: 0,
    ratingScore: 0,
    satisfied: 0,
    ratingMissing: 0,
    responseMinutes: 0,
    handlingMinutes: 0,
    month: '',
  };
  private changed = true;

  /** Takes one timeline entry into account; returns whether any figure changed. */
  observe(entry: Observed): boolean {
    // Runs for every entry the interpreter records: a field-by-field compare, no serialising.
    const before = { ...this.counts };
    this.apply(entry);
    const changed = (Object.keys(before) as Array<keyof CaseMetrics>).some(
      (field) => before[field] !== this.counts[field],
    );
    this.changed ||= changed;
    return changed;
  }

  /** The figures, and whether they changed since the last call (so a write can leave them out). */
  take(): { metrics: CaseMetrics; changed: boolean } {
    const changed = this.changed;
    this.changed = false;
    return { metrics: { ...this.counts }, changed };
  }

  snapshot(): CaseMetrics {
    return { ...this.counts };
  }

  private apply({ type, at, detail }: Observed): void {
    const when = Date.parse(at);
    const c = this.counts;
    switch (type) {
      case 'case.started':
        if (this.startedAt === null && !Number.isNaN(when)) {
          this.startedAt = when;
          c.month = beijingMonth(when);
        }
        return;
      case 'task.claimed':
      case 'task.completed':
        this.accept(when);
        return;
      case 'task.reassigned':
        // An escalation or a dispatcher handing the task to people is taking it on for the case.
        if (detail?.to !== undefined || detail?.people !== undefined) this.accept(when);
        return;
      case 'task.returned':
        c.returned += 1;
        return;
      case 'case.arbitrated':
        c.arbitrated = 1;
        return;
      case 'deadline.missed':
        c.overdue = 1;
        c.completedOnTime = 0;
        if (this.acceptedAt === null) this.missedBeforeAcceptance = true;
        c.respondedInTime = c.accepted && !this.missedBeforeAcceptance ? 1 : 0;
        return;
      case 'deadline.escalated':
        c.escalated = 1;
        c.escalations += 1;
        return;
      case 'feedback.rated': {
        const score = typeof detail?.score === 'number' ? detail.score : 0;
        c.rated = score > 0 ? 1 : 0;
        c.ratingScore = score;
        c.satisfied = score >= SATISFIED_FROM ? 1 : 0;
        c.ratingMissing = 0;
        return;
      }
      case 'feedback.missing':
        if (!c.rated) c.ratingMissing = 1;
        return;
      case 'case.closed': {
        const status = detail?.status;
        c.completed = status === 'closed' ? 1 : 0;
        c.rejected = status === 'rejected' ? 1 : 0;
        c.completedOnTime = c.completed && !c.overdue ? 1 : 0;
        c.handlingMinutes = c.completed ? this.minutesSinceStart(when) : 0;
        return;
      }
      default:
        return;
    }
  }

  private accept(when: number): void {
    if (this.acceptedAt !== null) return;
    this.acceptedAt = when;
    this.counts.accepted = 1;
    this.counts.respondedInTime = this.missedBeforeAcceptance ? 0 : 1;
    this.counts.responseMinutes = this.minutesSinceStart(when);
  }

  private minutesSinceStart(when: number): number {
    if (this.startedAt === null || Number.isNaN(when)) return 0;
    return Math.max(0, Math.round((when - this.startedAt) / 60_000));
  }
}

/**
 * The figures as the case document stores them: zeros left out (a `$sum` counts a missing field
 * as nothing, on MongoDB and FerretDB alike), because on FerretDB every write costs in proportion
 * to the document and most flags of most cases are 0.
 */
export function storedMetrics(metrics: CaseMetrics): Partial<CaseMetrics> {
  return Object.fromEntries(
    Object.entries(metrics).filter(([, value]) => value !== 0 && value !== ''),
  );
}

/** The metrics of a stored timeline (for cases projected before the figures were kept). */
export function measureTimeline(timeline: readonly Observed[]): CaseMetrics {
  const measures = new CaseMeasures();
  for (const entry of timeline) measures.observe(entry);
  return measures.snapshot();
}

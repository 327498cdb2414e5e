import type { CaseMetrics, TimelineEntry } from './case';
import { BEIJING_OFFSET_MS } from '../lang/beijing';
import type { MeasuresSpec } from '../lang/definition';

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
  'dispatched',
  'accepted',
  'respondedInTime',
  'completed',
  'completedOnTime',
  'resolved',
  'explained',
  'excluded',
  'due',
  'rejected',
  'overdue',
  'escalated',
  'escalations',
  'returned',
  'returnedCase',
  'ratingInvited',
  'arbitrated',
  'rated',
  'ratingScore',
  'satisfied',
  'ratingMissing',
  'responseMinutes',
  'handlingMinutes',
  'disputesFound',
  'disputesResolved',
] as const satisfies ReadonlyArray<keyof CaseMetrics>;

export type MetricField = (typeof METRIC_FIELDS)[number];

/** The Beijing calendar month of an instant, `YYYY-MM`. */
export function beijingMonth(instant: number): string {
  return new Date(instant + BEIJING_OFFSET_MS).toISOString().slice(0, 7);
}

/** A score at or above this counts as satisfied (满意). */
export const SATISFIED_FROM = 4;

type Observed = Pick<TimelineEntry, 'type' | 'at' | 'detail'> & { stepId?: string | undefined };

type Match = { step: string; outcome?: string | undefined };

function matches(list: readonly Match[] | undefined, stepId: string | undefined, outcome: unknown) {
  return (list ?? []).some(
    (m) => m.step === stepId && (m.outcome === undefined || m.outcome === outcome),
  );
}

function zeroMetrics(): CaseMetrics {
  return {
    received: 1,
    dispatched: 0,
    accepted: 0,
    respondedInTime: 0,
    completed: 0,
    completedOnTime: 0,
    resolved: 0,
    explained: 0,
    excluded: 0,
    due: 0,
    rejected: 0,
    overdue: 0,
    escalated: 0,
    escalations: 0,
    returned: 0,
    returnedCase: 0,
    ratingInvited: 0,
    arbitrated: 0,
    rated: 0,
    ratingScore: 0,
    satisfied: 0,
    ratingMissing: 0,
    responseMinutes: 0,
    handlingMinutes: 0,
    disputesFound: 0,
    disputesResolved: 0,
    month: '',
  };
}

/**
 * Accumulates one case's metrics from its timeline entries, in order. Pure and deterministic.
 *
 * The definition's `measures` block (lang/definition.ts, docs/definition-language.md section 3.5)
 * says which step is the handler's acceptance, which deadline is the 办结时限, which outcomes are
 * 解决 or 解释说明 and what is 不予受理. Without it (or a part of it) the defaults are the engine's
 * earlier reading: the first human action is the acceptance, every case is dispatched when
 * received, any missed deadline makes the case late, a case closed `closed` is completed (and
 * resolved), a case closed `rejected` is excluded.
 */
export class CaseMeasures {
  private startedAt: number | null = null;
  private acceptedAt: number | null = null;
  private missedBeforeAcceptance = false;
  /** The 办结时限 passed (only the declared one, or any deadline without a declaration). */
  private completionMissed = false;
  /** The last resolved/explained outcome: which, when, and whether the 办结时限 had passed. */
  private outcome: { resolved: boolean; at: number; late: boolean } | null = null;
  private closed = false;
  private readonly counts: CaseMetrics = zeroMetrics();
  private changed = true;

  constructor(private readonly spec: MeasuresSpec = {}) {
    // Without a declared acceptance step every case received counts as dispatched.
    if (spec.acceptance === undefined) this.counts.dispatched = 1;
  }

  /** Takes one timeline entry into account; returns whether any figure changed. */
  observe(entry: Observed): boolean {
    return this.changing(() => this.apply(entry));
  }

  /**
   * The dispute figures of a dispute process (the definition's `measures.disputes`, evaluated by
   * the workflow on the case's data as it closes); not negative, whole numbers.
   */
  disputes(found: number, resolved: number): boolean {
    return this.changing(() => {
      if (this.counts.excluded) return;
      this.counts.disputesFound = wholeOrZero(found);
      this.counts.disputesResolved = wholeOrZero(resolved);
    });
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

  /** Everything it has accumulated, as plain data (a case run carries it when it continues as new). */
  state(): Record<string, unknown> {
    return {
      startedAt: this.startedAt,
      acceptedAt: this.acceptedAt,
      missedBeforeAcceptance: this.missedBeforeAcceptance,
      completionMissed: this.completionMissed,
      outcome: this.outcome,
      closed: this.closed,
      counts: { ...this.counts },
    };
  }

  /** Goes on from a {@link state} taken earlier, as if it had observed the same entries. */
  restore(state: Record<string, unknown>): void {
    this.startedAt = typeof state.startedAt === 'number' ? state.startedAt : null;
    this.acceptedAt = typeof state.acceptedAt === 'number' ? state.acceptedAt : null;
    this.missedBeforeAcceptance = state.missedBeforeAcceptance === true;
    this.completionMissed = state.completionMissed === true;
    const outcome = state.outcome as { resolved: boolean; at: number; late: boolean } | null;
    this.outcome =
      outcome && typeof outcome.at === 'number'
        ? { resolved: outcome.resolved === true, at: outcome.at, late: outcome.late === true }
        : null;
    this.closed = state.closed === true;
    Object.assign(this.counts, state.counts);
  }

  private changing(change: () => void): boolean {
    // Runs for every entry the interpreter records: a field-by-field compare, no serialising.
    const before = { ...this.counts };
    change();
    // The counts' own keys: a figure set only on some cases (supervised) appears after the change.
    const changed = (Object.keys(this.counts) as Array<keyof CaseMetrics>).some(
      (field) => before[field] !== this.counts[field],
    );
    this.changed ||= changed;
    return changed;
  }

  private isAcceptanceStep(stepId: string | undefined): boolean {
    const steps = this.spec.acceptance;
    return steps === undefined || (stepId !== undefined && steps.includes(stepId));
  }

  private apply({ type, at, detail, stepId }: Observed): void {
    const when = Date.parse(at);
    const c = this.counts;
    if (type === 'case.started') {
      if (this.startedAt === null && !Number.isNaN(when)) {
        this.startedAt = when;
        c.month = beijingMonth(when);
      }
      return;
    }
    if (c.excluded) {
      // 不予受理 counts nowhere but in `received`, `excluded` and how it ended.
      if (type === 'case.closed') c.rejected = detail?.status === 'rejected' ? 1 : 0;
      return;
    }
    const declared = this.spec.acceptance !== undefined;
    switch (type) {
      case 'task.opened':
        if (declared && this.isAcceptanceStep(stepId)) c.dispatched = 1;
        return;
      case 'task.claimed':
        if (this.isAcceptanceStep(stepId)) this.accept(when);
        return;
      case 'task.completed':
        if (this.isAcceptanceStep(stepId)) this.accept(when);
        this.completedTask(stepId, detail?.outcome, when);
        return;
      case 'task.reassigned':
        // Without a declared acceptance, an escalation or a dispatcher handing the task to people
        // is taking it on for the case; with one, only the handler's own 接单 counts.
        if (!declared && (detail?.to !== undefined || detail?.people !== undefined)) {
          this.accept(when);
        }
        return;
      case 'claim.closed':
        // A roll-call's people report on its roster, not on the timeline (ARCHITECTURE decision
        // 8): only its close says how many did. A declared acceptance roll-call closed with
        // anybody reported is accepted as it closes (a roll-call recorded with a claim per
        // person was accepted at the first claim already). Without a declaration the first human
        // action stays that of a task, as before.
        if (declared && this.isAcceptanceStep(stepId) && Number(detail?.claimants) > 0) {
          this.accept(when);
        }
        return;
      case 'task.returned':
        c.returned += 1;
        c.returnedCase = 1;
        return;
      case 'case.arbitrated':
        c.arbitrated = 1;
        return;
      case 'deadline.missed':
        this.missed(stepId, detail?.deadline);
        return;
      case 'deadline.escalated':
        c.escalated = 1;
        c.escalations += 1;
        return;
      case 'step.entered':
        if (detail?.stepType === 'feedback') c.ratingInvited = 1;
        return;
      case 'supervision.opened':
        // Only on cases with a slip, so the figures of every other case keep their shape.
        c.supervised = 1;
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
      case 'case.closed':
        this.close(stepId, detail?.status, when);
        return;
      default:
        return;
    }
  }

  private missed(stepId: string | undefined, deadline: unknown): void {
    const c = this.counts;
    c.overdue = 1;
    const { acceptanceDeadline, completionDeadline } = this.spec;
    if (
      this.acceptedAt === null &&
      this.isAcceptanceStep(stepId) &&
      isOrAny(acceptanceDeadline, deadline)
    ) {
      this.missedBeforeAcceptance = true;
      c.respondedInTime = 0;
    }
    if (isOrAny(completionDeadline, deadline)) {
      this.completionMissed = true;
      // Past its 办结时限 a case counts against 办结率 whether it is done or not.
      c.due = 1;
      if (!this.closed) c.completedOnTime = 0;
    }
  }

  private completedTask(stepId: string | undefined, outcome: unknown, when: number): void {
    const { resolved, explained, excluded, extended } = this.spec;
    if (matches(excluded, stepId, outcome)) {
      this.exclude();
      return;
    }
    // Set only on cases with an extension, so the figures of every other case keep their shape.
    if (matches(extended, stepId, outcome)) this.counts.extended = 1;
    const isResolved = matches(resolved, stepId, outcome);
    if (isResolved || matches(explained, stepId, outcome)) {
      this.outcome = { resolved: isResolved, at: when, late: this.completionMissed };
    }
  }

  private close(stepId: string | undefined, status: unknown, when: number): void {
    const c = this.counts;
    const { resolved, explained, excluded } = this.spec;
    this.closed = true;
    if (excluded === undefined ? status === 'rejected' : matches(excluded, stepId, undefined)) {
      this.exclude();
      c.rejected = status === 'rejected' ? 1 : 0;
      return;
    }
    c.rejected = status === 'rejected' ? 1 : 0;
    const byOutcome = resolved !== undefined || explained !== undefined;
    const done = status === 'closed' && (!byOutcome || this.outcome !== null);
    c.completed = done ? 1 : 0;
    c.resolved = done && (!byOutcome || this.outcome!.resolved) ? 1 : 0;
    c.explained = done && byOutcome && !this.outcome!.resolved ? 1 : 0;
    const late = byOutcome && this.outcome !== null ? this.outcome.late : this.completionMissed;
    c.completedOnTime = done && !late ? 1 : 0;
    if (done) c.due = 1;
    const finishedAt = byOutcome && this.outcome !== null ? this.outcome.at : when;
    c.handlingMinutes = done ? this.minutesSinceStart(finishedAt) : 0;
  }

  /** 不予受理: the case leaves every denominator (only `received` and `excluded` remain). */
  private exclude(): void {
    const { month, rejected } = this.counts;
    Object.assign(this.counts, zeroMetrics(), { month, rejected, excluded: 1 });
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

/** Whether a missed deadline is the declared one (one of them), or any when none is declared. */
function isOrAny(declared: string | readonly string[] | undefined, deadline: unknown): boolean {
  if (declared === undefined) return true;
  return typeof declared === 'string' ? deadline === declared : declared.includes(String(deadline));
}

function wholeOrZero(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
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
export function measureTimeline(timeline: readonly Observed[], spec?: MeasuresSpec): CaseMetrics {
  const measures = new CaseMeasures(spec);
  for (const entry of timeline) measures.observe(entry);
  return measures.snapshot();
}

import { CancellationScope } from '@temporalio/workflow';
import type {
  Actor,
  CaseOpening,
  CaseStatus,
  CurrentStep,
  DeadlineView,
  PublicationView,
  RatingView,
  TaskSnapshot,
  TimelineEntry,
  TimelineEventType,
} from '../common/case';
import { CaseMeasures } from '../common/case-measures';
import { ServedTracker } from '../common/case-served';
import type { MeasuresSpec, StepSpec } from '../lang/definition';
import { applies, appliesSince2026_12, CHANGES, CHANGES_SINCE_2026_12 } from './patches';
import { localStore, store } from './stubs';

export const ENGINE: Actor = { kind: 'system', id: 'engine' };

/**
 * Steps whose own timeline entries say when they began and how they ended: a task or claim step
 * (`task.opened`, then `task.completed`, `task.returned` or `task.cancelled`) and an end step
 * (`case.closed`, with its step). They record no `step.entered`, nor a `step.completed` without
 * figures: every write rewrites the case document, so each entry costs every later write.
 */
function speaksForItself(step: StepSpec): boolean {
  return (
    (step.type === 'task' || step.type === 'claim' || step.type === 'end') &&
    applies(CHANGES.stepEntriesImplied)
  );
}

export type Detail = Record<string, string | number | boolean | readonly string[]>;

export interface CaseStateView {
  status: CaseStatus;
  currentStep: CurrentStep | null;
  revision: number;
}

/** Anything whose state the read model shows and that changes over time (a task). */
export interface Projected {
  snapshot(): Omit<TaskSnapshot, 'version'>;
}

/**
 * The workflow's view of its case document: collects timeline entries and changed tasks and hands
 * them to the projection activity in revision order. Flushes are chained, so the main loop, clocks
 * and Update handlers may all flush without two revisions racing; each runs outside any
 * cancellation scope, so a cancelled parallel branch still records why it stopped.
 */
export class CaseProjection {
  private revision = 0;
  private seq = 0;
  private pending: TimelineEntry[] = [];
  private status: CaseStatus = 'open';
  private currentStep: CurrentStep | null = null;
  private readonly changedTasks = new Map<string, Projected>();
  private readonly taskVersions = new Map<string, number>();
  private deadlines: (() => DeadlineView[]) | null = null;
  private deadlinesChanged = false;
  private rating: RatingView | undefined;
  private raterUserIds: string[] | undefined;
  private publication: PublicationView | undefined;
  /** The case's metric figures, fed by every entry recorded (rebuilt the same way on replay). */
  private readonly measures: CaseMeasures;
  /** Who served (the acceptance step's holders), fed by every task snapshot written. */
  private readonly served: ServedTracker;
  private chain: Promise<void> = Promise.resolve();
  /** The case document's opening, held for the next write (see {@link openWithNextWrite}). */
  private heldOpening: CaseOpening | undefined;
  /** The local activity in flight (a people lookup or a write), if any: see {@link inLocalTurn}. */
  private localTurn: Promise<unknown> = Promise.resolve();

  /** A retried case writes on top of the document its failed run left (see CaseResume). */
  private readonly resumed: boolean;

  constructor(
    private readonly caseId: string,
    resume?: { revision: number; seq: number },
    /** The definition's `measures` block (from the snapshot in the input: deterministic). */
    measures?: MeasuresSpec,
    /** A run continued as new goes on writing where the last one stopped, figures and all. */
    continued?: { revision: number; seq: number; measures: Record<string, unknown> },
  ) {
    this.measures = new CaseMeasures(measures);
    this.served = new ServedTracker(measures?.acceptance);
    this.resumed = resume !== undefined;
    const from = resume ?? continued;
    if (from) {
      this.revision = from.revision;
      this.seq = from.seq;
    }
    if (continued) {
      this.measures.restore(continued.measures);
      this.served.restore(continued.measures.served);
    }
  }

  /**
   * What the next run needs to go on writing this document (workflows/continuation.ts), asked
   * after its last flush returned with nothing else running. Null while anything is unwritten:
   * entries, tasks, a rating or deadlines waiting for a flush.
   */
  carry(): { revision: number; seq: number; measures: Record<string, unknown> } | null {
    const idle =
      this.pending.length === 0 &&
      this.changedTasks.size === 0 &&
      !this.deadlinesChanged &&
      this.rating === undefined &&
      this.raterUserIds === undefined &&
      this.publication === undefined &&
      this.heldOpening === undefined;
    if (!idle) return null;
    const measures = { ...this.measures.state(), served: this.served.state() };
    return { revision: this.revision, seq: this.seq, measures };
  }

  /** The step the case is in, if any (a failure is recorded against it). */
  get currentStepId(): string | null {
    return this.currentStep?.id ?? null;
  }

  view(): CaseStateView {
    return { status: this.status, currentStep: this.currentStep, revision: this.revision };
  }

  record(
    type: TimelineEventType,
    actor: Actor,
    stepId?: string,
    detail?: Detail,
    via?: string,
  ): void {
    const entry: TimelineEntry = {
      seq: ++this.seq,
      type,
      at: new Date().toISOString(),
      actor,
      ...(stepId !== undefined ? { stepId } : {}),
      ...(via !== undefined ? { via } : {}),
      ...(detail !== undefined ? { detail } : {}),
    };
    this.pending.push(entry);
    this.measures.observe(entry);
  }

  enter(step: StepSpec): void {
    this.currentStep = { id: step.id, name: step.name, type: step.type };
    if (!speaksForItself(step)) {
      this.record('step.entered', ENGINE, step.id, { stepType: step.type });
    }
  }

  /**
   * The step a run continued as new is in again (a `parallel` whose branches were carried): the
   * document shows it as current, and no `step.entered` is recorded a second time.
   */
  reenter(step: StepSpec): void {
    this.currentStep = { id: step.id, name: step.name, type: step.type };
  }

  /** The version of a task's document last written by this run or carried into it (0: none). */
  taskVersionOf(id: string): number {
    return this.taskVersions.get(id) ?? 0;
  }

  /** A task carried from the previous run: its next write goes on from the version it wrote. */
  restoreTaskVersion(id: string, version: number): void {
    this.taskVersions.set(id, version);
  }

  /** A step finished; its `summary` (a fan-out's figures) goes on the entry. */
  leave(step: StepSpec, summary: Detail | undefined): void {
    if (!speaksForItself(step) || summary !== undefined) {
      this.record('step.completed', ENGINE, step.id, summary);
    }
  }

  /** A dispute process's figures for 化解率, evaluated as the case closes (before {@link close}). */
  measureDisputes(found: number, resolved: number): void {
    this.measures.disputes(found, resolved);
  }

  close(status: CaseStatus, stepId: string): void {
    this.status = status;
    this.currentStep = null;
    this.record('case.closed', ENGINE, stepId, { status });
  }

  taskChanged(id: string, task: Projected): void {
    this.changedTasks.set(id, task);
  }

  /** Where the current SLA clocks come from; read at each flush after {@link deadlinesChangedNow}. */
  trackDeadlines(source: () => DeadlineView[]): void {
    this.deadlines = source;
  }

  deadlinesChangedNow(): void {
    this.deadlinesChanged = true;
  }

  rated(rating: RatingView): void {
    this.rating = rating;
  }

  /** The accounts a feedback step invites to rate ([] when it ends): see CaseProgress. */
  ratersChanged(userIds: string[]): void {
    this.raterUserIds = userIds;
  }

  published(publication: PublicationView): void {
    this.publication = publication;
  }

  /**
   * Runs a local activity once the one in flight has finished. Local activities resolve in the
   * order they finish on a first run but in the order they were scheduled on replay, so two at
   * once (a write beside a people lookup, parallel branches, a clock escalating beside the main
   * path) could let a replay take a different path: the people lookups and the local writes take
   * turns here.
   */
  inLocalTurn<T>(run: () => Promise<T>): Promise<T> {
    const turn = this.localTurn.then(run);
    this.localTurn = turn.catch(() => undefined);
    return turn;
  }

  /**
   * The case document is inserted by the next write rather than by one of its own: a case whose
   * first step opens a task writes its opening together with that task (one write fewer a case).
   */
  openWithNextWrite(opening: CaseOpening): void {
    this.heldOpening = opening;
  }

  flush(extra: { opening?: CaseOpening; closedAt?: string; reopen?: true } = {}): Promise<void> {
    const next = this.chain.then(() => CancellationScope.nonCancellable(() => this.write(extra)));
    // A failed write fails the workflow task anyway; keep the chain usable for the next caller.
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async write(extra: {
    opening?: CaseOpening;
    closedAt?: string;
    reopen?: true;
  }): Promise<void> {
    if (this.heldOpening !== undefined) {
      extra = { ...extra, opening: this.heldOpening };
      this.heldOpening = undefined;
    }
    const dirty =
      this.pending.length > 0 ||
      this.changedTasks.size > 0 ||
      this.deadlinesChanged ||
      this.rating !== undefined ||
      this.raterUserIds !== undefined ||
      this.publication !== undefined ||
      extra.opening !== undefined ||
      extra.closedAt !== undefined ||
      extra.reopen !== undefined;
    if (!dirty) return;
    const events = this.pending;
    this.pending = [];
    const tasks = [...this.changedTasks.values()].map((task) => {
      const snapshot = task.snapshot();
      const version = (this.taskVersions.get(snapshot.id) ?? 0) + 1;
      this.taskVersions.set(snapshot.id, version);
      this.served.observe(snapshot);
      return { ...snapshot, version };
    });
    const servedBy = this.served.take();
    this.changedTasks.clear();
    const deadlines = this.deadlinesChanged && this.deadlines ? this.deadlines() : undefined;
    this.deadlinesChanged = false;
    const rating = this.rating;
    const raterUserIds = this.raterUserIds;
    const publication = this.publication;
    this.rating = undefined;
    this.raterUserIds = undefined;
    this.publication = undefined;
    const { metrics, changed: metricsChanged } = this.measures.take();
    const progress: Parameters<typeof store.recordCaseProgress>[0] = {
      caseId: this.caseId,
      revision: ++this.revision,
      status: this.status,
      currentStep: this.currentStep,
      events,
      ...extra,
      ...(tasks.length > 0 ? { tasks } : {}),
      ...(deadlines !== undefined ? { deadlines } : {}),
      ...(rating !== undefined ? { rating } : {}),
      ...(raterUserIds !== undefined ? { raterUserIds } : {}),
      ...(publication !== undefined ? { publication } : {}),
      // A retried run saw only its own part of the timeline: the figures stay as first written.
      ...(metricsChanged && !this.resumed ? { metrics } : {}),
      ...(servedBy !== null ? { servedBy } : {}),
    };
    // Cases recorded before the change write through regular activities, as they did.
    if (appliesSince2026_12(CHANGES_SINCE_2026_12.localProjectionWrites)) {
      await this.inLocalTurn(() => localStore.recordCaseProgress(progress));
    } else {
      await store.recordCaseProgress(progress);
    }
  }
}

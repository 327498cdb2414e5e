import type {
  Candidate,
  CheckInRecord,
  RosterFigures,
  SupervisionFacts,
  TaskSnapshot,
  TaskStatus,
} from '../common/case';
import type { ClaimStepSpec, TaskStepSpec } from '../lang/definition';
import type { Clock } from './clocks';
import { applies, CHANGES } from './patches';
import type { CaseProjection, Projected } from './projection';
import { ENGINE } from './projection';
import type { TaskContext } from './recipients';
import { isRollCall } from './roll-call';

/**
 * What a task needs of the case it belongs to: the case run (workflows/run.ts) is one. Named here
 * rather than imported, so the run can hold its tasks without the two importing each other.
 */
export interface TaskHost {
  readonly caseId: string;
  readonly caseUnitId: string | null;
  readonly input: { readonly definition: { readonly key: string } };
  readonly projection: CaseProjection;
}

/**
 * A human task or a claim pool while it runs: who may act, who holds it, what it ended with.
 * Update handlers change it (after their validators accepted the request); the step runner waits
 * for it to be done.
 */
export class TaskRuntime implements Projected, TaskContext {
  status: TaskStatus = 'open';
  assignee: Candidate | null = null;
  claimants: Candidate[] = [];
  outcome: string | null = null;
  form: Record<string, unknown> = {};
  comment: string | null = null;
  /** The step to go to when done, when not the default successor. */
  target: string | undefined;
  done = false;
  closedAt: string | null = null;
  readonly clocks: Clock[] = [];
  /** How often each account gave this task back (released it, or returned it to the pool). */
  readonly releases = new Map<string, number>();
  /**
   * A roster roll-call's figures (workflows/steps/task.ts): `expected` from its opening, all
   * three once it closed; null for every other task. Its people are never in this object.
   */
  roster: RosterFigures | null = null;
  /** A roster roll-call is being closed (by its wait or a dispatcher): the other waits for it. */
  closing = false;
  /**
   * A roster roll-call closed with people missing: the instant by which its clocks' levels came
   * due while it was open; they still fire when its clocks stop (Clock.stop). Null otherwise.
   */
  owesLevelsDueBy: string | null = null;
  /** When a roster roll-call's window ends (its step's `within`); null without one. */
  rosterWindowEndsAt: string | null = null;
  /** A supervision slip's facts (workflows/supervision.ts); null for every other task. */
  supervision: SupervisionFacts | null = null;
  /** The check-in (签到) the task was completed with; null without one. */
  checkIn: CheckInRecord | null = null;
  /** The form its fields' defaults prefill (预填), computed as it opened; null without defaults. */
  prefill: Record<string, unknown> | null = null;

  constructor(
    private readonly run: TaskHost,
    readonly id: string,
    readonly step: TaskStepSpec | ClaimStepSpec,
    public candidates: Candidate[],
    public unitId: string | null,
    readonly openedAt: string,
  ) {}

  get name(): string {
    return this.step.name;
  }

  get kind(): 'task' | 'claim' {
    return this.step.type;
  }

  /** A pool's capacity computed from the case when it opened (`claimants.max: { expression }`). */
  capacity: number | null = null;

  get maxClaimants(): number {
    if (this.step.type !== 'claim') return 1;
    const { max } = this.step.claimants;
    if (typeof max === 'object') return this.capacity ?? this.step.claimants.min;
    // A roll-call closes when every candidate has claimed.
    if (max !== 'all') return max;
    return this.roster ? this.roster.expected : this.candidates.length;
  }

  /** A roll-call (`claimants.max: all`): every candidate is to claim (报到). */
  get rollCall(): boolean {
    return isRollCall(this.step);
  }

  snapshot(): Omit<TaskSnapshot, 'version'> {
    return {
      id: this.id,
      caseId: this.run.caseId,
      definitionKey: this.run.input.definition.key,
      caseUnitId: this.run.caseUnitId,
      stepId: this.step.id,
      name: this.step.name,
      kind: this.supervision ? 'supervision' : this.kind,
      status: this.status,
      candidates: this.candidates,
      assignee: this.assignee,
      claimants: this.claimants,
      maxClaimants: this.maxClaimants,
      outcomes:
        this.step.type === 'task'
          ? this.step.outcomes.map((o) => ({
              id: o.id,
              name: o.name,
              requiresComment: o.requiresComment,
            }))
          : [],
      outcome: this.outcome,
      deadlines: this.clocks.map((c) => c.view()),
      openedAt: this.openedAt,
      closedAt: this.closedAt,
      ...(this.roster ? { roster: { ...this.roster } } : {}),
      ...(this.supervision ? { supervision: { ...this.supervision } } : {}),
      ...(this.checkIn ? { checkIn: { ...this.checkIn } } : {}),
      ...(this.prefill ? { prefill: this.prefill } : {}),
    };
  }

  isOpen(): boolean {
    return this.status === 'open' || this.status === 'claimed';
  }

  changed(): void {
    this.run.projection.taskChanged(this.id, this);
    this.run.projection.deadlinesChangedNow();
  }

  stopClocks(on: 'claim' | 'complete'): void {
    for (const clock of this.clocks) {
      if (on === 'complete' || clock.spec.stopsOn === 'claim') {
        clock.stop(this.owesLevelsDueBy ?? undefined);
      }
    }
  }

  finish(status: TaskStatus, target?: string): void {
    this.status = status;
    this.done = true;
    this.target = target;
    this.closedAt = new Date().toISOString();
    this.stopClocks('complete');
    this.changed();
  }

  /**
   * Escalation with reassignment: the people the ladder reached take the task over (上级接办).
   *
   * When one person with an account is reached, the task is theirs (`claimed`) and that counts
   * as their claim (签收): the task's `stopsOn: claim` clocks stop, as after a dispatcher's 转派 to
   * one person. The supervisor cannot claim a task already assigned to them, so a 签收 clock left
   * running would escalate "not accepted" up the ladder about a task its holder has accepted;
   * whether they finish in time is the `stopsOn: complete` clock's job, which keeps running.
   * Reaching several people (or a pool) only replaces the candidates: nobody holds the task, so
   * a 签收 clock still running keeps running for them, its deadline unchanged (not restarted).
   */
  onEscalation(people: readonly Candidate[]): void {
    if (!this.isOpen()) return;
    this.candidates = [...people];
    const single = people.length === 1 && people[0]!.userId !== null ? people[0]! : null;
    this.assignee = this.kind === 'task' ? single : this.assignee;
    this.status = this.assignee ? 'claimed' : 'open';
    // Cases from before the patch kept their claim clocks running, as recorded.
    if (this.kind === 'task' && single && applies(CHANGES.escalationReassignClaims)) {
      this.stopClocks('claim');
    }
    this.run.projection.record('task.reassigned', ENGINE, this.step.id, {
      task: this.id,
      people: people.length,
      by: 'escalation',
    });
    this.changed();
  }
}

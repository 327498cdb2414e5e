import type { Candidate, ServedBy, TaskSnapshot, TimelineEntry } from './case';

export type { ServedBy };

/*
 * Who served a case (接单/签收, {@link ServedBy}): the unit(s) and person(s) holding the task of
 * the definition's acceptance step (`measures.acceptance`, docs/definition-language.md section
 * 3.5), or, without a declaration, of the first human task anybody took on. Ids only. The metrics
 * read it with `attribution=served` (services/metrics.ts), so a co-building unit, a department or
 * a property company is measured on the cases it served, wherever they were filed.
 */

export type Seen = Pick<
  TaskSnapshot,
  'id' | 'stepId' | 'kind' | 'status' | 'assignee' | 'claimants'
> & {
  roster?: unknown;
};

/**
 * Follows the case's task snapshots, in the order the projection writes them, and keeps who holds
 * the acceptance step's task(s). Pure and deterministic (it runs in the workflow; no commands).
 *
 * Per task, the people holding it (its assignee and a claim pool's claimants) replace what it had:
 * a task released back to its pool (open, nobody holding it) drops them, a returned or cancelled
 * task keeps whoever held it last. Without a declared acceptance only the first task taken on
 * counts. Supervision slips (督办单) and roster roll-calls never count.
 */
export class ServedTracker {
  /** Holders per task id, in the order the tasks were first taken on. */
  private readonly holders = new Map<string, Candidate[]>();
  private changed = false;

  constructor(private readonly acceptance: readonly string[] | undefined) {}

  /** Takes one task snapshot into account; returns whether who served changed. */
  observe(task: Seen): boolean {
    if (task.kind === 'supervision' || task.roster !== undefined) return false;
    if (this.acceptance !== undefined) {
      if (!this.acceptance.includes(task.stepId)) return false;
    } else if (this.holders.size > 0 && !this.holders.has(task.id)) {
      return false;
    }
    const people = [...(task.assignee ? [task.assignee] : []), ...task.claimants];
    const before = JSON.stringify(this.view());
    if (people.length > 0) this.holders.set(task.id, people);
    else if (task.status === 'open') this.holders.delete(task.id);
    const changed = JSON.stringify(this.view()) !== before;
    this.changed ||= changed;
    return changed;
  }

  /** Who served so far (empty lists before anybody took the task on). */
  view(): ServedBy {
    const unitIds: string[] = [];
    const personIds: string[] = [];
    for (const people of this.holders.values()) {
      for (const person of people) {
        if (!unitIds.includes(person.unitId)) unitIds.push(person.unitId);
        if (!personIds.includes(person.personId)) personIds.push(person.personId);
      }
    }
    return { unitIds, personIds };
  }

  /** Who served, when it changed since the last call (so a write can leave it out). */
  take(): ServedBy | null {
    if (!this.changed) return null;
    this.changed = false;
    return this.view();
  }

  /** Plain data a run continued as new carries (inside the measures' state). */
  state(): Array<[string, Candidate[]]> {
    return [...this.holders.entries()];
  }

  restore(state: unknown): void {
    if (!Array.isArray(state)) return;
    for (const entry of state) {
      if (Array.isArray(entry) && typeof entry[0] === 'string' && Array.isArray(entry[1])) {
        this.holders.set(entry[0], entry[1] as Candidate[]);
      }
    }
  }
}

/** Timeline events by which a person takes a task on (or is handed it): the order of taking. */
const TAKING_EVENTS: ReadonlySet<string> = new Set([
  'task.claimed',
  'task.reassigned',
  'task.completed',
  'task.returned',
]);

/**
 * Who served a case projected before `servedBy` was recorded, from what its documents keep: each
 * task as last stored, taken through the same {@link ServedTracker} the projection feeds, in the
 * order the timeline shows the tasks first taken on (a task never taken on, after them, in the
 * order it opened). The stored task is its last snapshot, so it gives what the projection gave
 * for a closed case: a completed task is held by whoever completed it. (A task returned and left
 * unheld keeps nobody here, where the live tracker kept its last holder.)
 */
export function servedByOfStored(
  acceptance: readonly string[] | undefined,
  timeline: readonly Pick<TimelineEntry, 'type' | 'detail'>[],
  tasks: readonly Seen[],
): ServedBy {
  const firstTaken = new Map<string, number>();
  timeline.forEach((entry, at) => {
    const taskId = entry.detail?.task;
    if (TAKING_EVENTS.has(entry.type) && typeof taskId === 'string' && !firstTaken.has(taskId)) {
      firstTaken.set(taskId, at);
    }
  });
  const order = (task: Seen) => firstTaken.get(task.id) ?? Number.MAX_SAFE_INTEGER;
  // Array.prototype.sort is stable: tasks never taken on keep the order they were given in.
  const tracker = new ServedTracker(acceptance);
  for (const task of [...tasks].sort((a, b) => order(a) - order(b))) tracker.observe(task);
  return tracker.view();
}

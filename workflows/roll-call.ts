import type { Candidate } from '../common/case';
import type { ClaimStepSpec, StepSpec, TaskStepSpec } from '../lang/definition';

/**
 * Roll-calls (点名报到): a claim pool with `claimants: { max: all }`, where every candidate is
 * expected to claim (报到) and the pool closes once all have, or when its window ends. Pure
 * helpers shared by the pool runner, the SLA clocks (reminders to those still missing, escalation
 * mails naming them) and the sub-process step (a fan-out's figures per unit). Person ids only:
 * names are looked up by the mail activity and never enter the history, the timeline or logs.
 */

/** The figures of one roll-call: how many were called, how many reported, how many did not. */
export interface RollCallFigures {
  expected: number;
  acknowledged: number;
  missing: number;
  /** Roll-calls that had nobody to call (a compound with no post holders); absent when none. */
  unstaffed?: number;
}

/** Whether a task or claim step is a roll-call: a pool every candidate must claim. */
export function isRollCall(step: StepSpec | TaskStepSpec | ClaimStepSpec): step is ClaimStepSpec {
  return step.type === 'claim' && step.claimants.max === 'all';
}

/** The candidates who have not claimed (not acknowledged) yet, in the candidates' order. */
export function unacknowledged(task: {
  candidates: readonly Candidate[];
  claimants?: readonly Candidate[];
}): Candidate[] {
  const claimed = new Set((task.claimants ?? []).map((c) => c.personId));
  return task.candidates.filter((c) => !claimed.has(c.personId));
}

export function figuresOf(task: {
  candidates: readonly Candidate[];
  claimants?: readonly Candidate[];
}): RollCallFigures {
  const missing = unacknowledged(task).length;
  return {
    expected: task.candidates.length,
    acknowledged: task.candidates.length - missing,
    missing,
  };
}

/**
 * What a roll-call's reminder and escalation mails add to their context: the figures, and (for
 * the mail activity to turn into names) the person ids of those still missing.
 */
export function rollCallMailFacts(task: {
  candidates: readonly Candidate[];
  claimants?: readonly Candidate[];
  rollCall?: boolean;
}): { context: RollCallFigures; nameLists: { missingNames: string[] } } | null {
  if (task.rollCall !== true) return null;
  return {
    context: figuresOf(task),
    nameLists: { missingNames: unacknowledged(task).map((c) => c.personId) },
  };
}

/**
 * A child case's roll-call figures, when its result carries them (the case ran a roll-call);
 * null for any other result, so fan-outs of other processes keep their summary as it was.
 */
export function childRollCall(result: unknown): RollCallFigures | null {
  const figures = (result as { rollCall?: Partial<RollCallFigures> } | null)?.rollCall;
  if (
    typeof figures?.expected !== 'number' ||
    typeof figures.acknowledged !== 'number' ||
    typeof figures.missing !== 'number'
  ) {
    return null;
  }
  return {
    expected: figures.expected,
    acknowledged: figures.acknowledged,
    missing: figures.missing,
    ...(typeof figures.unstaffed === 'number' && figures.unstaffed > 0
      ? { unstaffed: figures.unstaffed }
      : {}),
  };
}

/** The figures of a fan-out over units, summed over the children that ran a roll-call. */
export function totalOf(figures: ReadonlyArray<RollCallFigures | null>): RollCallFigures | null {
  const present = figures.filter((f): f is RollCallFigures => f !== null);
  if (present.length === 0) return null;
  const unstaffed = present.reduce((n, f) => n + (f.unstaffed ?? 0), 0);
  return {
    expected: present.reduce((n, f) => n + f.expected, 0),
    acknowledged: present.reduce((n, f) => n + f.acknowledged, 0),
    missing: present.reduce((n, f) => n + f.missing, 0),
    ...(unstaffed > 0 ? { unstaffed } : {}),
  };
}

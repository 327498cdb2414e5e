import { sleep } from '@temporalio/workflow';
import type { StepSpec } from '../../lang/definition';
import { parseDurationMs, parseSlaDuration } from '../../lang/duration';
import { evaluateValue } from '../../lang/expression';
import { deadlineInstant, instantAfter } from '../clocks';
import type { Detail } from '../projection';
import { ENGINE } from '../projection';
import type { CaseRun } from '../run';
import { lookups } from '../stubs';

/**
 * The `timer` step: waits until an instant (`until`), for a calendar duration, or for a working
 * time duration the `planDeadline` activity turns into an instant (the calendar is data); with
 * `after`, until that long after the instant `until` gives.
 */
export async function runTimer(run: CaseRun, step: Extract<StepSpec, { type: 'timer' }>) {
  await run.projection.flush();
  let waitMs: number;
  /** False when `until` gave no instant: the timer fires at once, and its entry says why. */
  let resolved = true;
  if (step.until !== undefined && step.after !== undefined) {
    // `after` an instant or a date (from the end of that day, as a deadline's `at`), in the case
    // unit's working calendar.
    const base = deadlineInstant(evaluateValue(step.until, run.expressionScope()));
    resolved = base !== null;
    waitMs = resolved ? (await instantAfter(base!, step.after, run.caseUnitId)) - Date.now() : 0;
  } else if (step.until !== undefined) {
    const value = evaluateValue(step.until, run.expressionScope());
    const at = typeof value === 'string' ? Date.parse(value) : NaN;
    resolved = !Number.isNaN(at);
    waitMs = resolved ? at - Date.now() : 0;
  } else if (parseSlaDuration(step.duration!).kind === 'calendar') {
    waitMs = parseDurationMs(step.duration!);
  } else {
    const plan = await lookups.planDeadline({
      policy: { within: step.duration!, reminders: [], escalations: [] },
      startedAt: new Date().toISOString(),
      pauses: [],
    });
    waitMs = Date.parse(plan.dueAt!) - Date.now();
  }
  // The instant the wait resolved to, beside what the definition said (an expression, a duration).
  const dueAt = new Date(Date.now() + Math.max(0, waitMs)).toISOString();
  const detail = {
    ...(step.duration !== undefined ? { duration: step.duration } : { until: step.until! }),
    ...(step.after !== undefined ? { after: step.after } : {}),
    ...(resolved ? { at: dueAt } : { at: dueAt, unresolved: true }),
  };
  if (waitMs > 0) {
    // While it sleeps, a branch of a `parallel` may be carried to a next run (the due instant).
    run.park({ kind: 'timer', stepId: step.id, dueAt, detail });
    try {
      await sleep(waitMs);
    } finally {
      run.unpark(step.id);
    }
  }
  run.projection.record('timer.fired', ENGINE, step.id, detail);
}

/**
 * A timer step carried across a continue-as-new inside a `parallel` branch: it sleeps what is
 * left until the instant it resolved to in the earlier run (not its whole duration again) and
 * records the `timer.fired` it would have.
 */
export async function resumeTimer(
  run: CaseRun,
  step: Extract<StepSpec, { type: 'timer' }>,
  carried: { dueAt: string; detail: Record<string, unknown> },
): Promise<void> {
  // The detail this step built in the earlier run (`runTimer` above), carried as plain data.
  const detail = carried.detail as Detail;
  const waitMs = Date.parse(carried.dueAt) - Date.now();
  if (waitMs > 0) {
    run.park({ kind: 'timer', stepId: step.id, dueAt: carried.dueAt, detail });
    try {
      await sleep(waitMs);
    } finally {
      run.unpark(step.id);
    }
  }
  run.projection.record('timer.fired', ENGINE, step.id, detail);
}

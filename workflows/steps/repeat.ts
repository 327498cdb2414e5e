import { sleep } from '@temporalio/workflow';
import type { RepeatStepSpec } from '../../lang/definition';
import { parseDurationMs, parseSlaDuration } from '../../lang/duration';
import { evaluateValue } from '../../lang/expression';
import { MAX_REPEAT_ITERATIONS, repeatedList } from '../../lang/steps';
import { repeatingBlocks } from '../patches';
import type { CaseRun, StepResult } from '../run';
import { lookups } from '../stubs';
import type { RunList } from './parallel';

/**
 * The `repeat` step (docs 6.15): its block runs once per iteration, `times` times `every` apart
 * (from one iteration's start to the next) or once per date of the list `dates` gives, each
 * starting at its date. At most {@link MAX_REPEAT_ITERATIONS}: the block runs in this history
 * (it is not a top-level loop that continues as new), so its size stays bounded.
 *
 * While an iteration runs, `steps.<id>` holds its `index` (1 = the first) and `item` (its date);
 * each iteration starts with the block's own `steps.<…>` cleared, and leaves what they hold in
 * `iterations['<n>'].steps`, so every iteration's results stay addressable after the step.
 */
export async function runRepeat(run: CaseRun, step: RepeatStepSpec, runList: RunList) {
  if (!repeatingBlocks()) return;
  const list = repeatedList(step, 'steps');
  const blockIds = step.steps.map((s) => s.id);
  const items = iterationItems(run, step);
  const iterations: NonNullable<StepResult['iterations']> = {};
  let previousStart: string | null = null;
  for (const [i, item] of items.entries()) {
    await run.projection.flush();
    if (step.dates !== undefined) await waitUntil(item);
    else if (previousStart !== null && step.every !== undefined) {
      await waitAfter(step.every, previousStart);
    }
    previousStart = new Date().toISOString();
    for (const id of blockIds) delete run.steps[id];
    run.steps[step.id] = { index: i + 1, item, count: i, iterations: { ...iterations } };
    await runList(run, list, list.steps[0]!.id);
    const left: Record<string, StepResult> = {};
    for (const id of blockIds) {
      const result = run.steps[id];
      if (result !== undefined) left[id] = result;
    }
    iterations[String(i + 1)] = { index: i + 1, item, steps: left };
  }
  const last = iterations[String(items.length)];
  run.steps[step.id] = {
    index: last?.index ?? 0,
    item: last?.item ?? null,
    count: items.length,
    iterations,
  };
}

/** One item per iteration: `times` nulls, or the first 24 values of the `dates` list. */
function iterationItems(run: CaseRun, step: RepeatStepSpec): unknown[] {
  if (step.dates === undefined) return Array.from({ length: step.times ?? 0 }, () => null);
  const value = evaluateValue(step.dates, run.expressionScope());
  return Array.isArray(value) ? value.slice(0, MAX_REPEAT_ITERATIONS) : [];
}

/**
 * Waits for an iteration's date, as a timer's `until` does: an instant as given, a date at
 * midnight UTC (08:00 Beijing time); a past date or anything else starts it at once.
 */
async function waitUntil(item: unknown): Promise<void> {
  const at = typeof item === 'string' ? Date.parse(item) : NaN;
  const waitMs = Number.isNaN(at) ? 0 : at - Date.now();
  if (waitMs > 0) await sleep(waitMs);
}

/** Waits until `every` after the previous iteration started (at once when that has passed). */
async function waitAfter(every: string, previousStart: string): Promise<void> {
  let dueMs: number;
  if (parseSlaDuration(every).kind === 'calendar') {
    dueMs = Date.parse(previousStart) + parseDurationMs(every);
  } else {
    const plan = await lookups.planDeadline({
      policy: { within: every, reminders: [], escalations: [] },
      startedAt: previousStart,
      pauses: [],
    });
    dueMs = Date.parse(plan.dueAt!);
  }
  const waitMs = dueMs - Date.now();
  if (waitMs > 0) await sleep(waitMs);
}

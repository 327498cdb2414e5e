import { condition } from '@temporalio/workflow';
import type { StepSpec } from '../../lang/definition';
import { ENGINE } from '../projection';
import { asList } from '../recipients';
import type { CaseRun } from '../run';
import { outcomeName } from '../run';
import { lookups } from '../stubs';

/**
 * The `feedback` step: invites the requester to rate the case and waits for the rating (the
 * `rate` Update, workflows/handlers.ts) until its window ends; no rating is recorded as none.
 */
export async function runFeedback(
  run: CaseRun,
  step: Extract<StepSpec, { type: 'feedback' }>,
  visit: number,
): Promise<void> {
  run.feedback = { stepId: step.id, rating: null };
  await run.projection.flush();
  if (step.invite !== undefined) {
    // The requester reads the outcome's name (已办结), never its id; 已办理 when no task decided.
    const outcome = outcomeName(run) ?? '已办理';
    await run.notify({
      recipients: asList(step.invite),
      template: step.template,
      keyBase: `${run.caseId}:${step.id}:${visit}:invite`,
      stepId: step.id,
      task: null,
      context: { caseId: run.caseId, processName: run.spec.name, outcome },
    });
  }
  const plan = await lookups.planDeadline({
    policy: { within: step.within, reminders: [], escalations: [] },
    startedAt: new Date().toISOString(),
    pauses: [],
  });
  const feedback = run.feedback;
  const waitMs = Date.parse(plan.dueAt!) - Date.now();
  const rated = waitMs > 0 && (await condition(() => feedback.rating !== null, waitMs));
  if (!rated && feedback.rating === null) {
    // No rating is recorded as none, never as a default score.
    feedback.rating = { score: null, comment: null, at: new Date().toISOString() };
    run.projection.record('feedback.missing', ENGINE, step.id);
    run.projection.rated(feedback.rating);
  }
  // `visits`: how often this step has run (its latest visit's number), so a definition can count
  // its reopens (重办次数) in a decision, e.g. `steps.callback.visits <= 2`.
  run.steps[step.id] = { rating: feedback.rating!.score, visits: visit };
  run.feedback = null;
}

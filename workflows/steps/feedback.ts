import { condition } from '@temporalio/workflow';
import type { PeopleSelector, RecipientSpec, StepSpec } from '../../lang/definition';
import { ENGINE } from '../projection';
import { asList } from '../recipients';
import type { CaseRun } from '../run';
import { outcomeName } from '../run';
import { lookups } from '../stubs';
import { appliesSince2026_11, CHANGES_SINCE_2026_11 } from '../patches';

type FeedbackStep = Extract<StepSpec, { type: 'feedback' }>;

/**
 * The `feedback` step: invites the requester (or the raters it names, `from`) to rate the case
 * and waits for the rating (the `rate` Update, workflows/handlers.ts) until its window ends; no
 * rating is recorded as none. With several raters the first rating given is the case's rating.
 */
export async function runFeedback(run: CaseRun, step: FeedbackStep, visit: number): Promise<void> {
  run.feedback = { stepId: step.id, rating: null };
  const named = namedRaters(step);
  // `from` exists only in definitions published with it, so no recorded case reaches this; the
  // combined marker still guards the lookup, as every new command does (workflows/patches.ts).
  if (step.from !== undefined && appliesSince2026_11(CHANGES_SINCE_2026_11.feedbackRaters)) {
    const found = named.length > 0 ? await run.resolvePeople(named, null) : { people: [] };
    const userIds = [
      ...new Set(found.people.flatMap((p) => (p.userId !== null ? [p.userId] : []))),
    ];
    run.feedback.raters = { userIds, requester: step.from.includes('requester') };
    run.projection.ratersChanged(userIds);
  }
  await run.projection.flush();
  const invite: readonly RecipientSpec[] | null =
    step.invite !== undefined
      ? asList(step.invite)
      : run.feedback.raters !== undefined && named.length > 0
        ? named
        : null;
  if (invite !== null) {
    // The requester reads the outcome's name (已办结), never its id; 已办理 when no task decided.
    const outcome = outcomeName(run) ?? '已办理';
    await run.notify({
      recipients: invite,
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
  // The raters named for this step may no longer rate the case once it is rated or over.
  if (feedback.raters !== undefined) run.projection.ratersChanged([]);
  // `visits`: how often this step has run (its latest visit's number), so a definition can count
  // its reopens (重办次数) in a decision, e.g. `steps.callback.visits <= 2`.
  run.steps[step.id] = { rating: feedback.rating!.score, visits: visit };
  run.feedback = null;
}

/** The people selectors of a step's `from` (not `requester`). */
function namedRaters(step: FeedbackStep): PeopleSelector[] {
  return (step.from ?? []).filter((r): r is PeopleSelector => r !== 'requester');
}

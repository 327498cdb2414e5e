import { BEIJING_ISO_OFFSET } from '../../lang/beijing';
import {
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  sleep,
} from '@temporalio/workflow';
import type { CaseActivities } from '../../activities';
import type { Candidate } from '../../common/case';
import type { EvaluationStepSpec } from '../../lang/definition';
import type { RoundGroup, ScoreRequest, ScoreResult } from '../../common/evaluation';
import { SCORE_CLOSE_GRACE_MS, scoreProblems } from '../../common/evaluation';
import { evaluateValue } from '../../lang/expression';
import { lookups } from '../stubs';
import { actorOf, reject } from '../callers';
import { Clock, deadlineAfter, deadlineInstant, plansAfter, runnableDeadline } from '../clocks';
import { ENGINE } from '../projection';
import type { TaskContext } from '../recipients';
import type { CaseRun, EvaluationRun } from '../run';
import { EVALUATION_SCORES_VIA_API, EVALUATION_SERVICE_ORDERS } from '../patches';
import { closeCase } from './end';

/**
 * The `evaluation` step (评单评议): opens a round over the orders closed in a period, waits while
 * it is open (its deadlines remind and escalate as any task's do), and at its closing instant
 * freezes the weighted results. The orders and results are written by activities
 * (activities/evaluations.ts). The scores are written by the API, one document per scorer and
 * order, while `now < closesAt`; the workflow waits a grace period past the closing instant
 * (SCORE_CLOSE_GRACE_MS, chosen 60 s, longer than the API's write budget plus the clock skew it
 * tolerates) before its closing activity reads them, so the history does not grow with the
 * scores (docs/definition-language.md 6.12). Rounds recorded before that (no
 * `EVALUATION_SCORES_VIA_API` marker) take the scores as Updates, close without the grace
 * period, and the workflow keeps whether the round is open for their validator.
 */

/** Opening selects up to a few thousand orders; give it time, and never retry a refusal. */
const rounds = proxyActivities<CaseActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const DAY_START = /^\d{4}-\d{2}-\d{2}$/;

/** A period's first instant: a date means the start of that day, Beijing time. */
export function startInstant(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const at = DAY_START.test(value)
    ? Date.parse(`${value}T00:00:00${BEIJING_ISO_OFFSET}`)
    : Date.parse(value);
  return Number.isNaN(at) ? null : at;
}

export async function runEvaluation(
  run: CaseRun,
  step: EvaluationStepSpec,
  visit: number,
): Promise<void> {
  const scope = run.expressionScope();
  const openedAt = new Date().toISOString();
  const refuse = async (detail: Record<string, string | number>, message: string) => {
    run.projection.record('evaluation.refused', ENGINE, step.id, detail);
    await closeCase(run, step.id, 'failed');
    throw ApplicationFailure.nonRetryable(message, 'EvaluationRefused');
  };
  const from = startInstant(evaluateValue(step.orders.from, scope));
  const to = deadlineInstant(evaluateValue(step.orders.to, scope));
  if (from === null || to === null || to <= from) {
    await refuse(
      { reason: 'period' },
      `Step "${step.id}": orders.from and orders.to must give dates or instants, from before to`,
    );
  }
  let closesAtMs: number | null;
  if (step.within !== undefined) {
    const plan = await lookups.planDeadline({
      policy: { within: step.within, reminders: [], escalations: [] },
      startedAt: openedAt,
      pauses: [],
    });
    closesAtMs = Date.parse(plan.dueAt!);
  } else {
    closesAtMs = deadlineInstant(evaluateValue(step.at!, scope));
  }
  if (closesAtMs === null) {
    await refuse({ reason: 'closing' }, `Step "${step.id}": at gives no date or instant`);
  }

  // The selector groups' people, found now (with 兜底 like any task's candidates) and kept.
  const groups: RoundGroup[] = [];
  const everyone: Candidate[] = [];
  for (const group of step.groups) {
    // `requester` and `served`: each order's own scorer, found per order (no people now).
    const perOrder = typeof group.scorers === 'string';
    // A 评单会 group: the hosts of each meeting unit under the round's (no 兜底: a unit without
    // a host holds no meeting). Only definitions with a meeting group look this up, so rounds
    // recorded before replay the same commands.
    const selectors =
      group.meeting !== undefined
        ? [
            {
              role: group.meeting.host,
              unitsOfType: group.meeting.unitsOfType,
              under: 'case' as const,
            },
          ]
        : typeof group.scorers === 'string'
          ? null
          : (group.scorers ?? null);
    const scorers = selectors === null ? [] : (await run.resolvePeople(selectors, null)).people;
    for (const person of scorers) {
      if (!everyone.some((p) => p.personId === person.personId)) everyone.push(person);
    }
    groups.push({
      id: group.id,
      name: group.name,
      weight: group.weight,
      requester: perOrder,
      ...(group.scorers === 'served' ? { residentsOnly: true } : {}),
      ...(group.meeting !== undefined ? { meeting: { ...group.meeting } } : {}),
      scorers,
    });
  }
  // Scores via the API (kept out of the history); rounds recorded before take them as Updates.
  const viaApi = patched(EVALUATION_SCORES_VIA_API);
  // Without a list, the service orders; rounds recorded before score every process but theirs.
  const serviceOrders = patched(EVALUATION_SERVICE_ORDERS);
  const opened = await rounds.openEvaluationRound({
    roundId: run.caseId,
    stepId: step.id,
    definitionKey: run.input.definition.key,
    unitId: run.caseUnitId,
    from: new Date(from!).toISOString(),
    to: new Date(to!).toISOString(),
    definitions: step.orders.definitions ?? null,
    ...(serviceOrders ? { processes: 'service-orders' as const } : {}),
    criteria: step.criteria,
    groups,
    orderRatingGroup: step.orderRating?.group ?? null,
    responsibleRole: step.responsible,
    closesAt: new Date(closesAtMs!).toISOString(),
    openedAt,
    ...(viaApi ? { scoresVia: 'api' as const } : {}),
  });
  if (opened.refused) {
    await refuse(
      { reason: 'too-many-orders', items: opened.items },
      `Step "${step.id}" found more orders than one round scores: start rounds for smaller units (each street)`,
    );
  }
  const state: EvaluationRun = {
    stepId: step.id,
    criteria: step.criteria,
    groups: step.groups.map((g) => g.id),
    closesAtMs: closesAtMs!,
    closed: false,
    pending: 0,
    viaApi,
  };
  run.evaluation = state;
  run.projection.record('evaluation.opened', ENGINE, step.id, {
    items: opened.items,
    scorers: everyone.length,
    closesAt: new Date(closesAtMs!).toISOString(),
  });

  // Deadlines while the round is open: reminders reach the selector groups' people.
  const context: TaskContext = {
    id: `${run.caseId}.${step.id}.${visit}`,
    name: step.name,
    unitId: run.caseUnitId,
    candidates: everyone,
    assignee: null,
  };
  const clocks: Clock[] = [];
  for (const deadline of step.deadlines) {
    const runnable = plansAfter(deadline)
      ? await deadlineAfter(deadline, openedAt, scope, run.caseUnitId)
      : runnableDeadline(deadline, openedAt, scope);
    if (runnable === null) continue;
    clocks.push(new Clock(`${context.id}/${deadline.id}`, runnable, openedAt, step.id, context));
  }
  await run.projection.flush();
  const clockRuns = clocks.map((clock) => run.startClock(clock));

  const waitMs = closesAtMs! - Date.now();
  if (waitMs > 0) await sleep(waitMs);
  state.closed = true;
  for (const clock of clocks) clock.stop();
  if (clocks.length > 0) run.projection.deadlinesChangedNow();
  await Promise.all(clockRuns);
  // Scores accepted before the close are written before the results are computed.
  await condition(() => state.pending === 0);
  // Scores written by the API: every one it accepted (checked before closesAt, written within
  // its budget) is stored before this wait ends. Only rounds with the marker: older histories
  // replay without this timer.
  if (state.viaApi) await sleep(SCORE_CLOSE_GRACE_MS);
  const closed = await rounds.closeEvaluationRound({
    roundId: run.caseId,
    closedAt: new Date().toISOString(),
  });
  run.projection.record('evaluation.closed', ENGINE, step.id, {
    items: closed.items,
    scored: closed.scored,
    missing: closed.missing,
  });
  const result = { status: 'closed', count: closed.items, ...closed };
  run.steps[step.id] = result;
  run.evaluation = null;
}

/** The score Update's handler: records the scores, then the case's timeline entry. */
export async function recordScores(run: CaseRun, request: ScoreRequest): Promise<ScoreResult> {
  const state = run.evaluation!;
  state.pending++;
  try {
    const result = await rounds.recordEvaluationScores({
      ...request,
      roundId: run.caseId,
      at: new Date().toISOString(),
    });
    run.projection.record(
      'evaluation.scored',
      actorOf(request.actor),
      state.stepId,
      { group: request.group, items: request.entries.length },
      request.actor.via,
    );
    await run.projection.flush();
    return result;
  } finally {
    state.pending--;
  }
}

/** The score Update's validator: open rounds only, known groups, every criterion a whole number 1–5. */
export function validateScores(run: CaseRun, request: ScoreRequest): void {
  if (run.closed) reject('conflict', 'The case is closed');
  const state = run.evaluation;
  if (!state || state.closed || Date.now() >= state.closesAtMs) {
    reject('conflict', 'The round is not open for scoring');
  }
  if (state.viaApi) {
    reject('conflict', 'This round takes its scores through the API, not as Updates');
  }
  if (!state.groups.includes(request.group)) {
    reject('invalid', `Unknown scorer group "${request.group}"`, [
      { path: 'group', message: `one of ${state.groups.join(', ')}` },
    ]);
  }
  if (!Array.isArray(request.entries) || request.entries.length === 0) {
    reject('invalid', 'No scores', [{ path: 'scores', message: 'at least one' }]);
  }
  const problems = scoreProblems(request.entries, state.criteria);
  if (problems.length > 0) reject('invalid', 'The scores are not valid', problems);
}

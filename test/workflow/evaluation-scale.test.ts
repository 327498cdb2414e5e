import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { temporal } from '@temporalio/proto';
import type { Principal } from '../../services/auth';
import { createEvaluationService } from '../../services/evaluations';
import { createScopeResolver } from '../../services/scope';
import { AppError } from '../../services/errors';
import type { RoundResults } from '../../common/evaluation';
import type { SlaTestBed } from '../support/sla-cases';
import { useSlaTestBed } from '../support/sla-cases';

/**
 * An evaluation round at scale (issue 14): a few hundred orders and three scorer groups, every
 * score submitted through the API's service (one document per scorer and order, never an Update
 * to the round's workflow), many scorers of one order at the same moment, the results computed
 * from the stored scores at the close (a grace period after the closing instant), and the round's
 * history as small as a round without a single score. Late and repeated submissions as the API
 * answers them.
 */
let bed: SlaTestBed;

useSlaTestBed('evaluation-scale', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;
/** Chosen: enough orders that one Update per score would dwarf the history it leaves now. */
const ORDERS = 300;
/** Chosen: a round of the shipped definition without scores records well under this. */
const MAX_EVENTS = 150;
/** Chosen: liaisons scoring the same order at the same moment, each its own request. */
const SAME_ORDER_SCORERS = 20;

function user(id: string, roles: Principal['roles']): Principal {
  return { kind: 'user', id, roles, unitIds: [] };
}

describe('an evaluation round of a few hundred orders (issue 14)', () => {
  it('when three groups score every order through the service and 20 scorers score one order at once, then every score counts, the history stays small, a repeat changes nothing, a write past its budget is undone (503) and a late score is refused (409)', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const { Unit, Person, Post, Case, EvaluationRound, EvaluationScore } = bed.db.models;
    const now = new Date(await bed.now());
    const cobuilding = `${org.street.id}-cb`;
    await Unit.create({
      _id: cobuilding,
      name: '县医院',
      type: 'cobuilding',
      parentId: org.street.id,
      updatedAt: now,
    });
    const liaison = org.gridWorker2;
    const organisation = org.gridWorker;
    await Post.create([
      {
        _id: `${cobuilding}:liaison:${liaison.personId}`,
        unitId: cobuilding,
        role: 'liaison',
        personId: liaison.personId,
      },
      {
        _id: `${org.community.id}:social-organisation:${organisation.personId}`,
        unitId: org.community.id,
        role: 'social-organisation',
        personId: organisation.personId,
      },
    ]);
    await Person.updateOne({ _id: liaison.personId }, { $set: { name: '联络员' } });
    const crowd: Array<Awaited<ReturnType<SlaTestBed['addPerson']>>> = [];
    for (let i = 0; i < SAME_ORDER_SCORERS; i++) {
      crowd.push(await bed.addPerson(`liaison-${i}`, `联络员${i}`, [[cobuilding, 'liaison']]));
    }
    const tag = org.street.id;
    const resident = `usr_resident_${tag}`;
    // A resident's own account: the residents served score the orders it filed.
    await bed.db.models.User.create({
      _id: resident,
      username: resident,
      displayName: '居民',
      passwordHash: 'unused',
      roles: ['resident'],
      createdAt: now,
    });
    const ids = Array.from({ length: ORDERS }, (_, i) => `${tag}-o${String(i).padStart(4, '0')}`);
    await Case.insertMany(
      ids.map((id, i) => ({
        _id: id,
        revision: 5,
        status: 'closed',
        definitionKey: 'order-service',
        definitionVersion: 1,
        definitionName: '订单服务',
        data: {},
        createdBy: { kind: 'user', id: resident },
        unitId: i % 2 === 0 ? org.grid.id : org.community.id,
        channel: 'api',
        requestHash: 'h',
        createdAt: new Date(now.getTime() - 31 * DAY),
        updatedAt: now,
        closedAt: new Date(now.getTime() - 30 * DAY + i * 1000),
        rating: null,
      })),
    );
    const raw = YAML.parse(
      readFileSync(
        path.join(__dirname, '..', '..', 'definitions', 'evaluation-round.yaml'),
        'utf8',
      ),
    ) as Record<string, unknown>;
    const definition = bed.definition(raw);
    const evaluations = createEvaluationService({
      models: bed.db.models,
      temporal: bed.env.client,
      callTimeoutMs: 10_000,
      scope: createScopeResolver(bed.db.models),
    });
    const residents = user(resident, ['resident']);
    const units = user(liaison.userId, ['staff']);
    const organisations = user(organisation.userId, ['staff']);
    const v = (n: number) => ({ quality: n, duration: n, satisfaction: n });
    const refusal = (err: unknown) =>
      err instanceof AppError ? { kind: err.kind, message: err.message } : err;

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, definition, org.street.id);
      await kase.waitForEvents('evaluation.opened', 1);
      const roundId = kase.caseId;
      const started = Date.now();
      // The residents: ten orders per request (each request one Update before this change).
      for (let i = 0; i < ids.length; i += 10) {
        await evaluations.submitScores(
          residents,
          roundId,
          { scores: ids.slice(i, i + 10).map((item) => ({ item, values: v(5) })) },
          undefined,
        );
      }
      const residentsMs = Date.now() - started;
      // The two selector groups: a page of 50 orders per request.
      for (let i = 0; i < ids.length; i += 50) {
        const page = ids.slice(i, i + 50);
        await evaluations.submitScores(
          units,
          roundId,
          { group: 'units', scores: page.map((item) => ({ item, values: v(4) })) },
          undefined,
        );
        await evaluations.submitScores(
          organisations,
          roundId,
          { group: 'organisations', scores: page.map((item) => ({ item, values: v(3) })) },
          undefined,
        );
      }
      // Many liaisons score the first order at the same moment: different documents, no loss.
      await Promise.all(
        crowd.map((p) =>
          evaluations.submitScores(
            user(p.userId, ['staff']),
            roundId,
            { group: 'units', scores: [{ item: ids[0]!, values: v(4) }] },
            undefined,
          ),
        ),
      );
      const submitMs = Date.now() - started;
      // A request whose writes end past the budget undoes them and answers 503.
      const slow = createEvaluationService({
        models: bed.db.models,
        temporal: bed.env.client,
        callTimeoutMs: 10_000,
        scope: createScopeResolver(bed.db.models),
        // Past `closesAt + budget` now: every write is late (the round closes in 15 working days).
        scoreWriteBudgetMs: -60 * DAY,
      });
      const overBudget = await slow
        .submitScores(
          residents,
          roundId,
          // A correction of a stored score and a first score of the same scorer.
          { scores: [{ item: ids[2]!, values: v(1) }] },
          undefined,
        )
        .then(
          () => 'accepted',
          (err: unknown) =>
            err instanceof AppError ? [err.kind, err.retryAfterSeconds, err.message] : err,
        );
      const crowdOverBudget = await slow
        .submitScores(
          user(crowd[0]!.userId, ['staff']),
          roundId,
          { group: 'units', scores: [{ item: ids[1]!, values: v(1) }] },
          undefined,
        )
        .then(
          () => 'accepted',
          (err: unknown) => (err instanceof AppError ? err.kind : err),
        );
      // The same submission twice: the second changes nothing.
      const repeated = await evaluations.submitScores(
        residents,
        roundId,
        { scores: [{ item: ids[0]!, values: v(5) }] },
        'same-key',
      );
      const progress = await evaluations.roundProgress(user('admin', ['admin']), roundId);
      await bed.skipTo(now.getTime() + 30 * DAY);
      const [closed] = await kase.waitForEvents('evaluation.closed', 1);
      const late = await evaluations
        .submitScores(residents, roundId, { scores: [{ item: ids[1]!, values: v(1) }] }, undefined)
        .then(
          () => 'accepted',
          (err: unknown) => refusal(err),
        );
      const stored = await EvaluationScore.countDocuments({ roundId });
      const history = await kase.handle.fetchHistory();
      const round = await EvaluationRound.findById(roundId).lean();
      return {
        roundId,
        closed,
        late,
        history,
        round,
        repeated,
        progress,
        submitMs,
        residentsMs,
        stored,
        overBudget,
        crowdOverBudget,
      };
    });

    // Assert
    const events = outcome.history.events?.length ?? 0;
    const bytes = temporal.api.history.v1.History.encode(outcome.history).finish().length;
    // Measured figures, for docs/definition-language.md 6.12.
    console.log(
      `evaluation round: ${ORDERS} orders, ${ORDERS * 3 + SAME_ORDER_SCORERS} scores in ${ORDERS / 10 + 12 + SAME_ORDER_SCORERS} requests (${outcome.submitMs} ms, residents ${outcome.residentsMs} ms); history ${events} events, ${bytes} bytes`,
    );
    expect(events).toBeLessThan(MAX_EVENTS);
    // Not one Update: the scores never reached the round's workflow.
    expect(
      outcome.history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes),
    ).toHaveLength(0);
    expect(outcome.repeated).toEqual({ roundId: outcome.roundId, group: 'residents', recorded: 1 });
    expect(outcome.progress.groups.map((g) => [g.id, g.scores, g.scoredItems])).toEqual([
      ['residents', ORDERS, ORDERS],
      ['representatives', 0, 0],
      ['meeting', 0, 0],
      ['units', ORDERS + SAME_ORDER_SCORERS, ORDERS],
      ['organisations', ORDERS, ORDERS],
    ]);
    expect(outcome.closed?.detail).toEqual({ items: ORDERS, scored: ORDERS, missing: 0 });
    const results = outcome.round!.results as RoundResults;
    // Every order: residents 5 ×35 + units 4 ×20 + organisations 3 ×15, over 70 (no resident
    // representative scored, no 评单会 recorded) → 4.29 (4.2857…).
    expect(results.overall).toMatchObject({
      items: ORDERS,
      scored: ORDERS,
      missing: 0,
      score: 4.29,
    });
    expect(results.overall.groups).toEqual([
      { id: 'residents', scores: ORDERS, mean: 5 },
      { id: 'representatives', scores: 0, mean: null },
      { id: 'meeting', scores: 0, mean: null },
      { id: 'units', scores: ORDERS + SAME_ORDER_SCORERS, mean: 4 },
      { id: 'organisations', scores: ORDERS, mean: 3 },
    ]);
    expect(outcome.late).toEqual({
      kind: 'conflict',
      message: `Round ${outcome.roundId} has closed; its results are frozen`,
    });
    expect(outcome.overBudget).toEqual([
      'unavailable',
      5,
      expect.stringMatching(
        new RegExp(
          `^Round ${outcome.roundId}: the scores were stored more than .+ and were undone`,
        ),
      ),
    ]);
    expect(outcome.crowdOverBudget).toBe('unavailable');
    // One document per scorer and order: the repeat replaced its own, the crowd's all stayed; the
    // writes past the budget were undone (the correction back to 5, the new score gone), so the
    // means above are untouched.
    expect(outcome.stored).toBe(ORDERS * 3 + SAME_ORDER_SCORERS);
    expect(outcome.round!.closingAt).not.toBeNull();
  }, 600_000);
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { CaseStateView } from '../../workflows/projection';
import type { RoundResults } from '../../common/evaluation';
import { EVALUATION_SCORE_UPDATE } from '../../common/evaluation';
import { createEvaluationService } from '../../services/evaluations';
import { createScopeResolver } from '../../services/scope';
import { AppError } from '../../services/errors';
import type { Principal } from '../../services/auth';
import { BEIJING_OFFSET_MS } from '../../lang/beijing';
import type { RunningCase, SlaTestBed } from '../support/sla-cases';
import { actor, mailsOf, SUBJECT, useSlaTestBed } from '../support/sla-cases';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { figuresOf } from '../../services/metrics';

/**
 * The shipped 半年评单评议 (definitions/evaluation-round.yaml) on the time-skipping server: the
 * round opens over the orders the street closed in the half year before it, the co-building
 * unit's liaison scores, the 10-working-day deadline escalates to the street's secretary, the
 * round closes after 15 working days with the requester's ratings counted for the residents, the
 * results are frozen, and the secretary's evaluation meeting closes the case.
 */
let bed: SlaTestBed;

useSlaTestBed('evaluation-round', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;

describe('半年评单评议 (evaluation-round)', () => {
  it('when a unit scores and the round runs its 15 working days, then the results are frozen and the meeting closes it', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const { Unit, Person, Post, Case, EvaluationRound } = bed.db.models;
    const now = new Date(await bed.now());
    const cobuilding = `${org.street.id}-cb`;
    await Unit.create({
      _id: cobuilding,
      name: '县医院',
      type: 'cobuilding',
      parentId: org.street.id,
      updatedAt: now,
    });
    const liaison = { ...org.gridWorker2 };
    await Post.create({
      _id: `${cobuilding}:liaison:${liaison.personId}`,
      unitId: cobuilding,
      role: 'liaison',
      personId: liaison.personId,
    });
    await Person.updateOne({ _id: liaison.personId }, { $set: { name: '联络员' } });
    const order = (id: string, unitId: string, daysAgo: number, score: number | null) => ({
      _id: id,
      revision: 5,
      status: 'closed',
      definitionKey: 'order-service',
      definitionVersion: 1,
      definitionName: '订单服务',
      data: {},
      createdBy: { kind: 'user', id: 'usr_resident' },
      unitId,
      channel: 'api',
      requestHash: 'h',
      createdAt: new Date(now.getTime() - (daysAgo + 1) * DAY),
      updatedAt: now,
      closedAt: new Date(now.getTime() - daysAgo * DAY),
      rating: score === null ? null : { score, comment: null, at: now.toISOString() },
    });
    const tag = org.street.id;
    await Case.create([
      order(`${tag}-o1`, org.grid.id, 30, 5),
      order(`${tag}-o2`, org.community.id, 60, null),
      // Closed today: after the period (it ended yesterday), so not in this round.
      order(`${tag}-o3`, org.community.id, 0, 4),
    ]);
    const raw = YAML.parse(
      readFileSync(
        path.join(__dirname, '..', '..', 'definitions', 'evaluation-round.yaml'),
        'utf8',
      ),
    ) as Record<string, unknown>;
    const definition = bed.definition(raw);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, definition, org.street.id);
      const [opened] = await kase.waitForEvents('evaluation.opened', 1);
      // Scores go through the API's service, which writes them to the store (not an Update).
      const evaluations = createEvaluationService({
        models: bed.db.models,
        temporal: bed.env.client,
        callTimeoutMs: 10_000,
        scope: createScopeResolver(bed.db.models),
      });
      await evaluations.submitScores(
        { kind: 'user', id: liaison.userId, roles: ['staff'], unitIds: [] },
        kase.caseId,
        {
          group: 'units',
          scores: [
            { item: `${tag}-o1`, values: { quality: 4, duration: 4, satisfaction: 4 } },
            { item: `${tag}-o2`, values: { quality: 3, duration: 2, satisfaction: 4 } },
          ],
        },
        undefined,
      );
      // A round opened on today's interpreter refuses the Update older rounds take scores by.
      const update = await kase.handle
        .executeUpdate(EVALUATION_SCORE_UPDATE, {
          args: [
            {
              actor: actor(liaison),
              group: 'units',
              entries: [
                { itemId: `${tag}-o1`, values: { quality: 1, duration: 1, satisfaction: 1 } },
              ],
            },
          ],
        })
        .then(
          () => 'accepted',
          (err: unknown) => (err as { cause?: Error }).cause?.message,
        );
      await bed.skipTo(now.getTime() + 30 * DAY);
      const [closed] = await kase.waitForEvents('evaluation.closed', 1);
      const meeting = kase.taskId('meeting');
      await kase.waitForTask('the evaluation meeting', meeting, () => true);
      await kase.claim(meeting, org.streetSecretary);
      await kase.complete(meeting, org.streetSecretary, 'reported', { summary: '测评通报' });
      const result = (await kase.handle.result()) as CaseStateView;
      const doc = await kase.doc();
      const round = await EvaluationRound.findById(kase.caseId).lean();
      return { opened, closed, result, doc, round, update };
    });

    // Assert
    expect(outcome.result.status).toBe('closed');
    expect(outcome.update).toContain('This round takes its scores through the API, not as Updates');
    // The liaison, and the community's secretary who hosts its 评单会.
    expect(outcome.opened?.detail).toMatchObject({ items: 2, scorers: 2 });
    expect(outcome.closed?.detail).toEqual({ items: 2, scored: 2, missing: 0 });
    expect(outcome.doc.timeline.some((e) => e.type === 'deadline.escalated')).toBe(true);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    const results = outcome.round!.results as RoundResults;
    // o1: residents (its rating 5) ×35 + units 4 ×20, over 55 → 4.64 (4.636…); o2: units 3 only.
    expect(results.items.map((i) => [i.itemId, i.score])).toEqual([
      [`${tag}-o2`, 3],
      [`${tag}-o1`, 4.64],
    ]);
    expect(results.units.map((u) => [u.unitId, u.score])).toEqual([
      [org.street.id, 3.82],
      [org.community.id, 3.82],
      [org.grid.id, 4.64],
    ]);
    expect(results.secretaries.map((s) => [s.name, s.score])).toEqual([
      [org.streetSecretary.name, 3.82],
      [org.communitySecretary.name, 3.82],
    ]);
    // No 评单会 was recorded: the group is missing, not zero.
    expect(results.meetings).toEqual([]);
  });

  it('when a community holds its 评单会, then its host records the collective scores once, others are refused, and the results carry the meeting', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const { Unit, Post, Case, EvaluationRound } = bed.db.models;
    const now = new Date(await bed.now());
    const cobuilding = `${org.street.id}-cb`;
    await Unit.create({
      _id: cobuilding,
      name: '县医院',
      type: 'cobuilding',
      parentId: org.street.id,
      updatedAt: now,
    });
    const liaison = { ...org.gridWorker2 };
    await Post.create({
      _id: `${cobuilding}:liaison:${liaison.personId}`,
      unitId: cobuilding,
      role: 'liaison',
      personId: liaison.personId,
    });
    const tag = org.street.id;
    const order = (id: string, unitId: string, daysAgo: number, score: number | null) => ({
      _id: id,
      revision: 5,
      status: 'closed',
      definitionKey: 'order-service',
      definitionVersion: 1,
      definitionName: '订单服务',
      data: {},
      createdBy: { kind: 'user', id: 'usr_resident' },
      unitId,
      channel: 'api',
      requestHash: 'h',
      createdAt: new Date(now.getTime() - (daysAgo + 1) * DAY),
      updatedAt: now,
      closedAt: new Date(now.getTime() - daysAgo * DAY),
      rating: score === null ? null : { score, comment: null, at: now.toISOString() },
      servedBy: { unitIds: [cobuilding], personIds: [liaison.personId] },
    });
    await Case.create([
      order(`${tag}-o1`, org.grid.id, 30, 5),
      order(`${tag}-o2`, org.community.id, 60, null),
    ]);
    const definition = bed.definition(
      YAML.parse(
        readFileSync(
          path.join(__dirname, '..', '..', 'definitions', 'evaluation-round.yaml'),
          'utf8',
        ),
      ) as Record<string, unknown>,
    );
    const principal = (userId: string): Principal => ({
      kind: 'user',
      id: userId,
      roles: ['staff'],
      unitIds: [],
    });
    const host = principal(org.communitySecretary.userId);
    const heldOn = new Date(Date.now() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
    const meeting = (scores: Array<{ item: string; values: Record<string, number> }>) => ({
      unitId: org.community.id,
      heldOn,
      representatives: 6,
      residents: 4,
      minutes: '个人讲述：居民代表逐单讲述；集体评议：一致认可楼道清理及时。',
      scores,
    });
    const all = (v: number) => ({ quality: v, duration: v, satisfaction: v });
    const refusal = (err: unknown) =>
      err instanceof AppError ? `${err.kind}: ${err.message}` : String(err);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, definition, org.street.id);
      await kase.waitForEvents('evaluation.opened', 1);
      const evaluations = createEvaluationService({
        models: bed.db.models,
        temporal: bed.env.client,
        callTimeoutMs: 10_000,
        scope: createScopeResolver(bed.db.models),
      });
      const first = await evaluations.recordMeeting(
        host,
        kase.caseId,
        meeting([
          { item: `${tag}-o1`, values: all(1) },
          { item: `${tag}-o2`, values: all(2) },
        ]),
      );
      // Recorded again: the record and its scores are replaced, o2's score removed.
      const again = await evaluations.recordMeeting(
        host,
        kase.caseId,
        meeting([{ item: `${tag}-o1`, values: { quality: 5, duration: 4, satisfaction: 3 } }]),
      );
      const byLiaison = await evaluations
        .recordMeeting(principal(liaison.userId), kase.caseId, meeting([]))
        .then(() => 'accepted', refusal);
      const oneByOne = await evaluations
        .submitScores(
          host,
          kase.caseId,
          { group: 'meeting', scores: [{ item: `${tag}-o1`, values: all(5) }] },
          undefined,
        )
        .then(() => 'accepted', refusal);
      await bed.skipTo(now.getTime() + 30 * DAY);
      await kase.waitForEvents('evaluation.closed', 1);
      const afterClose = await evaluations
        .recordMeeting(host, kase.caseId, meeting([{ item: `${tag}-o1`, values: all(1) }]))
        .then(() => 'accepted', refusal);
      const task = kase.taskId('meeting');
      await kase.waitForTask('the evaluation meeting', task, () => true);
      await kase.claim(task, org.streetSecretary);
      await kase.complete(task, org.streetSecretary, 'reported', { summary: '测评通报' });
      await kase.handle.result();
      const round = await EvaluationRound.findById(kase.caseId).lean();
      return { first, again, byLiaison, oneByOne, afterClose, round };
    });

    // Assert
    expect(outcome.first).toMatchObject({ group: 'meeting', recorded: 2, removed: 0 });
    expect(outcome.again).toMatchObject({ group: 'meeting', recorded: 1, removed: 1 });
    expect(outcome.byLiaison).toMatch(/^forbidden: Only the host/);
    expect(outcome.oneByOne).toMatch(/^unprocessable: .*评单会/);
    expect(outcome.afterClose).toMatch(/^conflict: .*has closed/);
    const results = outcome.round!.results as RoundResults;
    // o1: residents (its rating 5) ×35 + the meeting's 4 (5, 4, 3) ×15, over 50 → 4.7.
    expect(results.items.map((i) => [i.itemId, i.score])).toEqual([
      [`${tag}-o2`, null],
      [`${tag}-o1`, 4.7],
    ]);
    expect(results.overall.groups.find((g) => g.id === 'meeting')).toEqual({
      id: 'meeting',
      scores: 1,
      mean: 4,
    });
    // Attributed to who served, like any group's scores.
    expect(results.servedUnits!.map((u) => [u.unitId, u.score])).toEqual([[cobuilding, 4.7]]);
    expect(results.meetings).toEqual([
      {
        group: 'meeting',
        unitId: org.community.id,
        unitName: org.community.name,
        hostPersonId: org.communitySecretary.personId,
        hostName: org.communitySecretary.name,
        heldOn,
        representatives: 6,
        residents: 4,
        minutes: '个人讲述：居民代表逐单讲述；集体评议：一致认可楼道清理及时。',
        orders: 1,
        recordedAt: expect.any(String) as string,
      },
    ]);
  });
});

describe('半年评单评议的考核指标 (evaluation-round rates)', () => {
  it('when rounds hold their meeting in time, after meeting_10d, never, or are refused for their period, then each carries its flags and the summed rates are exact, also after a replay', async () => {
    // Arrange: a street with its secretary; no orders are needed for the round's own figures
    const org = await bed.seedOrg();
    await bed.addPerson('county-secretary', '县委书记', [[org.county, 'secretary']]);
    const round = bed.shipped('evaluation-round.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const start = (data: Record<string, unknown> = {}) =>
        bed.startCase(queue, round, org.street.id, data);
      const meetingOpened = (kase: RunningCase) =>
        kase.waitForTask('the evaluation meeting', kase.taskId('meeting'), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const meetingHeld = async (kase: RunningCase) => {
        const meeting = kase.taskId('meeting');
        await kase.claim(meeting, org.streetSecretary);
        await kase.complete(meeting, org.streetSecretary, 'reported', { summary: '测评通报' });
        return kase.waitForDoc('the round closed', (d) => d.status !== 'open');
      };
      // 1. the meeting held as soon as the round closes; 2. held after meeting_10d; 3. never held
      const meetingOnTime = await start();
      const meetingLate = await start();
      const noMeeting = await start();
      // 4. refused: the period ends before it starts (the case fails, no round opens)
      const refused = await start({ periodFrom: '2026-06-30', periodTo: '2026-01-01' });
      const refusedDoc = await refused.waitForDoc('the refused round', (d) => d.status !== 'open');

      const [opened] = await meetingOnTime.waitForEvents('evaluation.opened', 1);
      await bed.skipTo(Date.parse(String(opened!.detail?.closesAt)) + 2 * 60_000);
      const docs = [await meetingHeld(meetingOnTime)];
      const task = await meetingOpened(meetingLate);
      await meetingOpened(noMeeting);
      await bed.skipTo(Date.parse(task.deadlines[0]!.dueAt!) + 60_000);
      await meetingLate.waitForEvents('deadline.escalated', 1, { deadline: 'meeting_10d' });
      await noMeeting.waitForEvents('deadline.escalated', 1, { deadline: 'meeting_10d' });
      docs.push(await meetingHeld(meetingLate), await noMeeting.doc(), refusedDoc);
      return { docs, cases: [meetingOnTime, meetingLate, noMeeting, refused] };
    });

    // Assert: the flags each round carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'open', 'failed']);
    // `acceptance: []`: nobody takes a round on, so none is dispatched or accepted (a round is
    // in no 接单率, 响应率 or 督办率 denominator).
    expect(metrics.map((m) => [m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1], // score_10d passed, but the 办结时限 is meeting_10d
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0], // past meeting_10d, still open
      [0, 0, 0, 0, 0], // failed before any deadline: in no part of 办结率
    ]);
    // score_10d escalates to the street's secretary on every round that opened
    expect(metrics.map((m) => [m.escalated, m.overdue, m.excluded, m.rejected])).toEqual([
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [0, 0, 0, 0],
    ]);
    // The rates, summed as the metrics service sums them. A round has no 不予受理 (a refused
    // round fails, it is not excluded), no 解释说明 and no rating step: excluded, explained and
    // the rating figures cannot be reached; nor can 接单率, 响应率, 督办率 or 退单率 (nothing is
    // dispatched).
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: null, // nothing dispatched
      responseRate: null,
      completionRate: 0.6667, // 2 meetings reported of 3 due
      resolutionRate: 0.6667, // 已通报 is 解决
      onTimeRate: 0.5, // 1 of 2 within meeting_10d
      satisfactionRate: null,
      participationRate: null,
      visitRate: 0, // 0 rated of 2 completed: the formula has a denominator, no rating can come
      disputeResolutionRate: null,
      supervisionRate: null, // escalations ÷ dispatched: nothing dispatched (3 escalated, above)
      returnRate: null,
      overdueRate: 0.75,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, round.spec.measures)).toEqual(metrics[i]);
    }
  });
});

import { randomBytes } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import type { AwardPointsRequest } from '../../activities/points';
import type { CaseStateView } from '../../workflows/projection';
import type { SlaTestBed } from '../support/sla-cases';
import { useSlaTestBed } from '../support/sla-cases';
import { testStack, testDataConverter } from '../support/test-stack';

/**
 * Points (积分) of the shipped 微心愿 process: the member who fulfils a wish earns the rule's
 * points once, in the ledger, with where they earned them (the community) and their own unit
 * (双报到) — also when the award activity's completion is lost and it runs again, and when the
 * finished workflow is replayed.
 */
let bed: SlaTestBed;

useSlaTestBed('points', (ready) => {
  bed = ready;
});

describe('积分 (points) when a micro-wish is fulfilled', () => {
  it('when the member who claimed a wish fulfils it, then the rule’s 10 points are written once to their ledger, even after a lost activity completion and a replay', async () => {
    // Arrange: a community, and a co-building unit under the street the member works for
    const org = await bed.seedOrg();
    const hospital = (await bed.addUnit('cobuilding', '县人民医院', org.street)).id;
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const member = await bed.addPerson('member', '高党员', [
      [org.community, 'party-member'],
      [hospital, 'officer'],
    ]);
    const activities = bed.activities();
    // The first attempt writes the ledger, then its completion is lost: Temporal runs it again.
    const attempts: AwardPointsRequest[] = [];
    const awardPoints = async (request: AwardPointsRequest) => {
      attempts.push(request);
      const result = await activities.awardPoints(request);
      if (attempts.length === 1) throw new Error('worker lost before the completion was reported');
      return result;
    };
    const taskQueue = `points-${randomBytes(4).toString('hex')}`;
    const worker = await Worker.create({
      connection: bed.env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: testStack().workflowBundlePath },
      dataConverter: testDataConverter(),
      activities: { ...activities, awardPoints },
    });

    // Act
    const outcome = await worker.runUntil(async () => {
      const kase = await bed.startCase(taskQueue, bed.shipped('micro-wish.yaml'), org.grid.id, {
        wish: '想要一台收音机',
        category: '陪伴关爱',
        residentName: '王秀兰',
      });
      const review = kase.taskId('review');
      await kase.waitForTask('the review', review, () => true);
      await kase.claim(review, dispatcher);
      await kase.complete(review, dispatcher, 'listed');
      const pool = kase.taskId('pool');
      await kase.waitForTask('the pool', pool, () => true);
      await kase.claim(pool, member);
      const fulfil = kase.taskId('fulfil');
      await kase.waitForTask('the fulfilment', fulfil, () => true);
      await kase.claim(fulfil, member);
      await kase.complete(fulfil, member, 'fulfilled', { summary: '已送上收音机' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(5);
      const result = (await kase.handle.result()) as CaseStateView;
      return { kase, result, history: await kase.handle.fetchHistory() };
    });
    // A retry of the same award once more, as a worker crashing later would cause
    const again = await activities.awardPoints(attempts[0]!);
    // The whole case replayed on the current interpreter
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: testStack().workflowBundlePath },
        dataConverter: testDataConverter(),
      },
      outcome.history,
      outcome.kase.caseId,
    );
    const entries = await bed.db.models.PointsEntry.find({ caseId: outcome.kase.caseId }).lean();

    // Assert
    expect(outcome.result.status).toBe('closed');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toEqual(attempts[1]);
    expect(attempts[0]!.awards).toEqual([
      { personId: member.personId, ruleIndex: 0, points: 10, reason: '完成微心愿' },
    ]);
    expect(again).toEqual({ awarded: 0, already: 1, unknown: 0 });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      _id: `earn:${outcome.kase.caseId}:${outcome.kase.taskId('fulfil')}:${member.personId}:0`,
      personId: member.personId,
      kind: 'earn',
      delta: 10,
      reason: '完成微心愿',
      unitId: org.grid.id,
      communityId: org.community.id,
      homeUnitIds: [hospital],
      taskId: outcome.kase.taskId('fulfil'),
      stepId: 'fulfil',
      definitionKey: 'micro-wish',
    });
    // Nobody else earned anything: the dispatcher's review names no rule
    expect(await bed.db.models.PointsEntry.countDocuments({ personId: dispatcher.personId })).toBe(
      0,
    );
  });
});

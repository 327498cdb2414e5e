import { rebuildRollups } from '../../activities/metric-rollups';
import { backfillServedBy } from '../../activities/served-backfill';
import { unpackRollupParts } from '../../common/metric-rollup';
import type { CaseStateView } from '../../workflows/projection';
import type { SlaTestBed } from '../support/sla-cases';
import { useSlaTestBed } from '../support/sla-cases';

/**
 * Who served a case (servedBy, common/case-served.ts) as the projection records it: in the
 * shipped 三单 process (definitions/three-orders.yaml) the community dispatcher's 派单 comes
 * first, and the declared acceptance step (党员接单) names who served: here a party member of a
 * co-building unit (驻区单位) that reports to the community. And the backfill for cases projected
 * before servedBy was recorded (activities/served-backfill.ts), against what the projection wrote.
 */
let bed: SlaTestBed;

useSlaTestBed('served-by', (ready) => {
  bed = ready;
});

describe('who served (servedBy)', () => {
  it("when a co-building unit's party member accepts and serves an order the community dispatched, then the case records that unit and member as who served it, not the dispatcher", async () => {
    // Arrange: the community's dispatcher, and a party member posted in a co-building unit
    const org = await bed.seedOrg();
    const cobuilding = await bed.addUnit('cobuilding', '供电公司', org.community);
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const member = await bed.addPerson('member', '高党员', [[cobuilding, 'party-member']]);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, bed.shipped('three-orders.yaml'), org.grid.id, {
        channel: '入户走访',
        category: '环境治理',
        description: '楼道堆放杂物',
        group: '空巢老人',
        address: '西六巷 3 号',
      });
      const dispatch = kase.taskId('dispatch');
      await kase.waitForTask('the dispatch task', dispatch, () => true);
      await kase.claim(dispatch, dispatcher);
      await kase.complete(dispatch, dispatcher, 'dispatched', {
        memberId: member.personId,
        note: '请联系处理',
      });
      const afterDispatch = await kase.doc();
      const take = kase.taskId('take_named');
      await kase.waitForTask('the order to reach the member', take, () => true);
      await kase.claim(take, member);
      await kase.complete(take, member, 'resolved', { result: '已清理' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(5);
      const result = (await kase.handle.result()) as CaseStateView;
      return { result, afterDispatch, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.result.status).toBe('closed');
    // The dispatcher's 派单 is not serving: nothing recorded until the member took the order.
    expect(outcome.afterDispatch.servedBy).toBeUndefined();
    expect(outcome.doc.servedBy).toEqual({
      unitIds: [cobuilding.id],
      personIds: [member.personId],
    });
  });
});

describe('the servedBy backfill (npm run rebuild-rollups)', () => {
  it('when closed cases lose their servedBy, then the backfill computes the same from their tasks and timeline, writes it once, and the rebuilt figures per serving unit are the same again', async () => {
    // Arrange: a 三单 order served by a co-building unit's member (declared acceptance), and a
    // grid request served by its grid worker (no declaration: the first task taken on)
    const org = await bed.seedOrg();
    const cobuilding = await bed.addUnit('cobuilding', '自来水公司', org.community);
    const dispatcher = await bed.addPerson('dispatcher', '孙派单', [[org.community, 'dispatcher']]);
    const member = await bed.addPerson('member', '钱党员', [[cobuilding, 'party-member']]);
    const orders = bed.shipped('three-orders.yaml');
    const request = bed.serviceDefinition(`grid-request-${org.grid.id}`, []);
    await bed.publish(orders);
    await bed.publish(request);
    const caseIds = await bed.withWorker(async (queue) => {
      const order = await bed.startCase(queue, orders, org.grid.id, {
        channel: '入户走访',
        category: '环境治理',
        description: '井盖松动',
        group: '空巢老人',
        address: '西六巷 5 号',
      });
      const dispatch = order.taskId('dispatch');
      await order.waitForTask('the dispatch task', dispatch, () => true);
      await order.claim(dispatch, dispatcher);
      await order.complete(dispatch, dispatcher, 'dispatched', {
        memberId: member.personId,
        note: '请联系处理',
      });
      const take = order.taskId('take_named');
      await order.waitForTask('the order to reach the member', take, () => true);
      await order.claim(take, member);
      await order.complete(take, member, 'resolved', { result: '已修复' });
      await order.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await order.rate(4);
      await order.handle.result();
      const served = await bed.openTask(queue, org, request);
      await served.kase.claim(served.taskId, org.gridWorker);
      await served.kase.complete(served.taskId, org.gridWorker, 'done', {});
      await served.kase.handle.result();
      await order.waitForDoc('the order closed', (d) => d.status === 'closed');
      await served.kase.waitForDoc('the request closed', (d) => d.status === 'closed');
      return [order.caseId, served.kase.caseId];
    });
    const { Case, MetricRollup } = bed.db.models;
    const servedOf = async () =>
      (
        await Case.find({ _id: { $in: caseIds } }, { servedBy: 1 })
          .sort({ _id: 1 })
          .lean()
      ).map((d): unknown[] => [d._id, d.servedBy ?? null]);
    const servingRollups = async () =>
      (
        await MetricRollup.find(
          { by: 'served', unitId: { $in: [cobuilding.id, org.grid.id] } },
          { parts: 1, partsJson: 1 },
        )
          .sort({ _id: 1 })
          .lean()
      ).map((r): unknown[] => [r._id, unpackRollupParts(r)]);
    const projected = await servedOf();
    await rebuildRollups(bed.db.models);
    const projectedFigures = await servingRollups();

    // Act: strip servedBy as an older version left it, then backfill (twice) and rebuild
    await Case.collection.updateMany(
      { _id: { $in: caseIds as never[] } },
      { $unset: { servedBy: '' } },
    );
    await rebuildRollups(bed.db.models);
    const strippedFigures = await servingRollups();
    const first = await backfillServedBy(bed.db.models);
    const backfilled = await servedOf();
    const again = await backfillServedBy(bed.db.models);
    await rebuildRollups(bed.db.models);
    const rebuiltFigures = await servingRollups();

    // Assert: the projection's own answer, and the figures per serving unit with it
    const expected: Array<[string, unknown]> = [
      [caseIds[0]!, { unitIds: [cobuilding.id], personIds: [member.personId] }],
      [caseIds[1]!, { unitIds: [org.grid.id], personIds: [org.gridWorker.personId] }],
    ];
    expect(projected).toEqual(expected.sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    expect(projectedFigures.length).toBeGreaterThanOrEqual(2);
    expect(strippedFigures).toEqual([]);
    expect(first.written).toBe(2);
    expect(backfilled).toEqual(projected);
    expect(again.written).toBe(0);
    expect(rebuiltFigures).toEqual(projectedFigures);
  });
});

import type { CaseStateView } from '../../workflows/projection';
import type { SlaTestBed } from '../support/sla-cases';
import { useSlaTestBed } from '../support/sla-cases';

/**
 * Who served a case (servedBy, common/case-served.ts) as the projection records it: in the
 * shipped 三单 process (definitions/three-orders.yaml) the community dispatcher's 派单 comes
 * first, and the declared acceptance step (党员接单) names who served: here a party member of a
 * co-building unit (驻区单位) that reports to the community.
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

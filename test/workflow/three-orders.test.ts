import { CASE_UPDATES } from '../../common/case';
import { figuresOf } from '../../services/metrics';
import type { CaseStateView } from '../../workflows/projection';
import { beijingText, bj } from '../support/beijing';
import { uniqueAddress } from '../support/harness';
import type { SeededPerson, SlaTestBed } from '../support/sla-cases';
import {
  actor,
  eventsOf,
  expectFiredAt,
  mailsOf,
  SUBJECT,
  useSlaTestBed,
  stepsEntered,
} from '../support/sla-cases';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';

/**
 * The shipped 三单 process (definitions/three-orders.yaml): a resident places an order
 * (群众点单), the community dispatches it to a named reporting party member or to all of them
 * (社区派单), a member accepts and serves it (党员接单), the resident hears back and rates it; an
 * order nobody accepts within a working day is escalated to the community dispatcher.
 */
let bed: SlaTestBed;

useSlaTestBed('three-orders', (ready) => {
  bed = ready;
});

/** The process under test, as shipped (definitions/three-orders.yaml). */
const shipped = () => bed.shipped('three-orders.yaml');

const DAY = 24 * 3600_000;

const order = {
  channel: '入户走访',
  category: '环境治理',
  description: '西六巷垃圾清运不及时，楼道堆放杂物',
  group: '空巢老人',
  address: '西六巷 3 号',
};

describe('三单闭环 (three-orders)', () => {
  it('when the community dispatches an order to a named party member, then the member accepts and serves it and the resident hears back and rates it', async () => {
    // Arrange: the community's dispatcher and two reporting party members
    const org = await bed.seedOrg();
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const member = await bed.addPerson('member', '高党员', [[org.community, 'party-member']]);
    const other = await bed.addPerson('member-2', '罗党员', [[org.community, 'party-member']]);
    const contactEmail = uniqueAddress('resident');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.grid.id, {
        ...order,
        contactEmail,
      });
      const dispatch = kase.taskId('dispatch');
      await kase.waitForTask('the dispatch task', dispatch, () => true);
      await kase.claim(dispatch, dispatcher);
      await kase.complete(dispatch, dispatcher, 'dispatched', {
        memberId: member.personId,
        note: '请联系环卫所协调清运',
      });
      const take = kase.taskId('take_named');
      const taken = await kase.waitForTask('the order to reach the member', take, () => true);
      await kase.claim(take, member);
      await kase.complete(take, member, 'resolved', { result: '已协调清运并清理楼道' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(5);
      const result = (await kase.handle.result()) as CaseStateView;
      return { kase, taken, result, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.taken.candidates.map((c) => c.personId)).toEqual([member.personId]);
    expect(outcome.result.status).toBe('closed');
    const timeline = outcome.doc.timeline;
    expect(stepsEntered(timeline)).toEqual([
      'acknowledge',
      'dispatch',
      'target',
      'take_named',
      'publicise',
      'reply',
      'closed',
    ]);
    // 单单有回音: the result is on the public board, the address masked
    expect(outcome.doc.publication?.fields.map((f) => f.label)).toEqual([
      '诉求类别',
      '诉求内容',
      '地址',
    ]);
    expect(JSON.stringify(outcome.doc.publication)).not.toContain(order.address);
    // 接单: the member's claim is on the timeline, before the completion
    expect(
      timeline
        .filter((e) => e.stepId === 'take_named' && e.type.startsWith('task.'))
        .map((e) => e.type),
    ).toEqual(['task.opened', 'task.claimed', 'task.completed']);
    expect(eventsOf(timeline, 'feedback.rated')[0]?.detail).toEqual({ score: 5 });
    // Mails: the receipt and the result (回音) to the resident, the order to the named member only
    const resident = { ...member, email: contactEmail };
    const residentMails = await mailsOf(resident);
    expect(residentMails).toHaveLength(2);
    expect(residentMails.map((m) => m.text).join('\n')).toContain('已办结');
    expect(await mailsOf(member, SUBJECT.assigned)).toHaveLength(1);
    expect(await mailsOf(other)).toHaveLength(0);
  });

  it('when an order open to every party member is not accepted within 1 working day, then the members are reminded 2 hours before and the community dispatcher is escalated to', async () => {
    // Arrange: a quiet week; the order is dispatched on Monday at 10:00 without a name
    const org = await bed.seedOrg();
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const member = await bed.addPerson('member', '高党员', [[org.community, 'party-member']]);
    const other = await bed.addPerson('member-2', '罗党员', [[org.community, 'party-member']]);
    const monday = await bed.quietMonday();
    const tuesday = beijingText(bj(`${monday} 10:00`).getTime() + DAY).slice(0, 10);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:55`));
      const kase = await bed.startCase(queue, shipped(), org.grid.id, order);
      const dispatch = kase.taskId('dispatch');
      await kase.waitForTask('the dispatch task', dispatch, () => true);
      await bed.skipTo(bj(`${monday} 10:00`));
      await kase.claim(dispatch, dispatcher);
      await kase.complete(dispatch, dispatcher, 'dispatched', { memberId: '' });
      const take = kase.taskId('take_open');
      const opened = await kase.waitForTask('the open order', take, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${tuesday} 10:01`));
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      const [missed] = await kase.waitForEvents('deadline.missed', 1);
      return { kase, opened, escalated, reminded, missed };
    });

    // Assert: both members were offered it and reminded at 08:00; at 10:00 the dispatcher is told
    expect(outcome.opened.candidates.map((c) => c.personId).sort()).toEqual(
      [member.personId, other.personId].sort(),
    );
    const acceptBy = outcome.opened.deadlines.find((d) => d.key.endsWith('/accept_1d'))!;
    expect(beijingText(acceptBy.dueAt!)).toBe(`${tuesday} 10:00`);
    expectFiredAt(outcome.reminded!.at, bj(`${tuesday} 08:00`).getTime());
    expectFiredAt(outcome.missed!.at, bj(`${tuesday} 10:00`).getTime());
    expectFiredAt(outcome.escalated!.at, bj(`${tuesday} 10:00`).getTime());
    expect(outcome.escalated!.detail).toMatchObject({
      deadline: 'accept_1d',
      level: 1,
      unitId: org.community.id,
    });
    expect(await mailsOf(member, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(other, SUBJECT.reminder)).toHaveLength(1);
    const [toDispatcher] = await mailsOf(dispatcher, SUBJECT.escalated);
    expect(toDispatcher?.subject).toContain('第 1 级督办');
    expect(toDispatcher?.text).toContain('该任务目前尚无人签收');
    const outbox = await bed.db.models.Outbox.find({
      caseId: outcome.kase.caseId,
      template: 'task-escalated',
    }).lean();
    expect(outbox.map((m) => m.to)).toEqual([dispatcher.email]);
  });
});

describe('三单闭环 measures (接单率, 响应率, 办结率, 解决率…)', () => {
  it('when known orders run (refused, resolved, explained, accepted late but closed on time, rated unsatisfied), then every declared rate comes out exactly, also after a replay', async () => {
    // Arrange: a quiet week; one named party member serves every order
    const org = await bed.seedOrg();
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const member = await bed.addPerson('member', '高党员', [[org.community, 'party-member']]);
    const monday = await bed.quietMonday();
    const tuesday = beijingText(bj(`${monday} 10:00`).getTime() + DAY).slice(0, 10);

    // Act
    type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
    const cases: Kase[] = []; // every order as started, in the order of the documents returned
    const docs = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:00`));
      const dispatched = async (kase: Kase, outcome = 'dispatched') => {
        const dispatch = kase.taskId('dispatch');
        await kase.waitForTask('the dispatch task', dispatch, () => true);
        await kase.claim(dispatch, dispatcher);
        await completeWithComment(
          kase,
          dispatch,
          dispatcher,
          outcome,
          outcome === 'dispatched' ? { memberId: member.personId } : {},
          '不属于社区服务范围',
        );
      };
      // Closed as read from the document: awaiting a workflow result would let the test
      // server skip time to the next timer of any case.
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const served = async (kase: Kase, outcome: 'resolved' | 'explained', score: number) => {
        const take = kase.taskId('take_named');
        await kase.waitForTask('the order at the member', take, () => true);
        await kase.claim(take, member);
        await completeWithComment(kase, take, member, outcome, { result: '已上门处理' }, '已说明');
        await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
        await kase.rate(score);
        return closed(kase);
      };
      const start = async () => {
        const kase = await bed.startCase(queue, shipped(), org.grid.id, order);
        cases.push(kase);
        return kase;
      };
      const orderServed = async (outcome: 'resolved' | 'explained', score: number) => {
        const kase = await start();
        await dispatched(kase);
        return served(kase, outcome, score);
      };

      // 1. refused at dispatch (不予受理)
      const refused = await start();
      await dispatched(refused, 'reject');
      // 2. resolved on time, rated 5; 3. explained, rated 4; 5. resolved, rated 2
      const done = [
        await closed(refused),
        await orderServed('resolved', 5),
        await orderServed('explained', 4),
        await orderServed('resolved', 2),
      ];
      // 4. accepted a day late (accept_1d missed and escalated), served within serve_5d
      await bed.skipTo(bj(`${monday} 10:00`));
      const late = await start();
      await dispatched(late);
      await late.waitForTask('the late order', late.taskId('take_named'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${tuesday} 10:05`));
      await late.waitForEvents('deadline.escalated', 1, { deadline: 'accept_1d' });
      return [...done, await served(late, 'resolved', 5)];
    });

    // Assert: the flags each order carries
    const metrics = docs.map(flagsOf);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 0, 0, 0],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 1, 0, 1, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
    ]);
    // The rates, summed as the metrics service sums them
    const sums = summedFlags(metrics);
    expect(figuresOf(sums).rates).toEqual({
      acceptanceRate: 1, // 4 accepted of 4 dispatched (the refused order is in no denominator)
      responseRate: 0.75, // 3 accepted before accept_1d passed
      completionRate: 1, // 4 completed of 4 due
      resolutionRate: 0.75, // 已解释说明 is 办结, not 解决
      onTimeRate: 1, // the late acceptance still closed within serve_5d
      satisfactionRate: 0.75, // 5, 4, 5 satisfied; 2 not
      participationRate: 1, // 4 rated of 4 asked
      visitRate: 1, // 4 rated of 4 completed
      disputeResolutionRate: null,
      supervisionRate: 0.25, // the late one escalated to the dispatcher
      returnRate: 0,
      overdueRate: 0.25,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = shipped().spec.measures;
    for (const [i, kase] of cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

/** Completes a task with a comment (不予受理 and 已解释说明 require one). */
async function completeWithComment(
  kase: Awaited<ReturnType<SlaTestBed['startCase']>>,
  taskId: string,
  person: SeededPerson,
  outcome: string,
  form: Record<string, unknown>,
  comment: string,
): Promise<void> {
  await kase.handle.executeUpdate(CASE_UPDATES.complete, {
    args: [{ taskId, actor: actor(person), outcome, form, comment }],
  });
}

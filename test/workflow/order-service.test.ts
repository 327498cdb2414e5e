import type { CaseStateView } from '../../workflows/projection';
import { uniqueAddress } from '../support/harness';
import type { SlaTestBed } from '../support/sla-cases';
import {
  eventsOf,
  expectFiredAt,
  mailsOf,
  SUBJECT,
  useSlaTestBed,
  stepsEntered,
} from '../support/sla-cases';

/**
 * The shipped 订单式服务 process (definitions/order-service.yaml): an individual need dispatched
 * within 1 hour and answered by a party-member volunteer within 4 hours; a public-service order
 * sorted in the week and put to the joint meeting, which names the co-building unit that serves
 * it; and the 1-hour and 4-hour limits escalated to the community party secretary when missed.
 */
let bed: SlaTestBed;

useSlaTestBed('order-service', (ready) => {
  bed = ready;
});

/** The process under test, as shipped (definitions/order-service.yaml). */
const shipped = () => bed.shipped('order-service.yaml');

const HOUR = 3600_000;
const MINUTE = 60_000;

const need = {
  source: '小区微信群',
  kind: '个性需求',
  category: '便民代办',
  description: '独居老人需要代购降压药并代缴水费',
  address: '东关小区 2 号楼',
};

describe('订单式服务 (order-service)', () => {
  it('when an individual need is dispatched and a volunteer answers it, then the resident scores the order and the case closes', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const member = await bed.addPerson('member', '高党员', [[org.community, 'party-member']]);
    const volunteer = await bed.addPerson('volunteer', '红马甲', [[org.community, 'volunteer']]);
    const contactEmail = uniqueAddress('resident');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.community.id, {
        ...need,
        contactEmail,
      });
      const dispatch = kase.taskId('dispatch_personal');
      await kase.waitForTask('the dispatch', dispatch, () => true);
      await kase.claim(dispatch, dispatcher);
      await kase.complete(dispatch, dispatcher, 'dispatched');
      const serve = kase.taskId('volunteer');
      const offered = await kase.waitForTask('the volunteer task', serve, () => true);
      await kase.claim(serve, volunteer);
      await kase.complete(serve, volunteer, 'resolved', { result: '药已送到，水费已缴' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(5);
      const result = (await kase.handle.result()) as CaseStateView;
      return { offered, result, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.offered.candidates.map((c) => c.personId).sort()).toEqual(
      [member.personId, volunteer.personId].sort(),
    );
    expect(outcome.result.status).toBe('closed');
    const timeline = outcome.doc.timeline;
    expect(stepsEntered(timeline)).toEqual([
      'acknowledge',
      'triage',
      'dispatch_personal',
      'volunteer',
      'rate',
      'closed',
    ]);
    expect(eventsOf(timeline, 'decision.taken')[0]?.detail).toMatchObject({
      next: 'dispatch_personal',
    });
    expect(eventsOf(timeline, 'deadline.missed')).toHaveLength(0);
    expect(eventsOf(timeline, 'feedback.rated')[0]?.detail).toEqual({ score: 5 });
    const residentMails = await mailsOf({ ...member, email: contactEmail });
    expect(residentMails).toHaveLength(2); // receipt and the scoring invitation
    expect(residentMails.map((m) => m.text).join('\n')).toContain('已解决');
    expect(await mailsOf(dispatcher, SUBJECT.assigned)).toHaveLength(1);
    expect(await mailsOf(volunteer, SUBJECT.assigned)).toHaveLength(1);
  });

  it('when a public-service order is put to the joint meeting, then it waits for the meeting, the meeting names the unit, and the unit’s liaison serves it', async () => {
    // Arrange: a co-building unit under the street with a liaison
    const org = await bed.seedOrg();
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const unitId = (await bed.addUnit('cobuilding', '住建局机关', org.street.id)).id;
    const liaison = await bed.addPerson('liaison', '郑联络', [[unitId, 'liaison']]);
    const order = {
      ...need,
      kind: '公共服务',
      category: '设施维修',
      description: '小区路灯损坏多处',
    };

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.community.id, order);
      const sort = kase.taskId('sort');
      await kase.waitForTask('the weekly sorting', sort, () => true);
      await kase.claim(sort, dispatcher);
      const meetingAt = (await bed.now()) + 3 * 24 * HOUR;
      await kase.complete(sort, dispatcher, 'meeting', {
        meetingAt: new Date(meetingAt).toISOString(),
      });
      await kase.waitForEvents('step.entered', 1, { stepType: 'timer' });
      const early = await kase.task(kase.taskId('meeting'));
      await bed.skipTo(meetingAt + MINUTE);
      const [fired] = await kase.waitForEvents('timer.fired', 1);
      const meeting = kase.taskId('meeting');
      await kase.waitForTask('the meeting task', meeting, () => true);
      await kase.claim(meeting, org.communitySecretary);
      await kase.complete(meeting, org.communitySecretary, 'decided', {
        unitId,
        plan: '住建局牵头更换路灯',
      });
      const serve = kase.taskId('unit_serve');
      const served = await kase.waitForTask('the unit task', serve, () => true);
      await kase.claim(serve, liaison);
      await kase.complete(serve, liaison, 'resolved', { result: '已更换路灯 6 盏' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(4);
      const result = (await kase.handle.result()) as CaseStateView;
      return { early, fired, meetingAt, served, result, doc: await kase.doc() };
    });

    // Assert: nothing before the meeting; the unit the meeting named serves
    expect(outcome.early).toBeNull();
    expectFiredAt(outcome.fired!.at, outcome.meetingAt);
    // …and its entry names the instant the expression resolved to, not only the expression
    expect(outcome.fired!.detail).toMatchObject({ at: new Date(outcome.meetingAt).toISOString() });
    expect(outcome.served.candidates.map((c) => c.personId)).toEqual([liaison.personId]);
    expect(outcome.result.status).toBe('closed');
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'acknowledge',
      'triage',
      'sort',
      'meeting_wait',
      'meeting',
      'unit_serve',
      'rate',
      'closed',
    ]);
    expect(await mailsOf(liaison, SUBJECT.assigned)).toHaveLength(1);
  });

  it('when an individual need is not dispatched within 1 hour nor answered within 4 hours, then the community party secretary is escalated to at each limit', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const volunteer = await bed.addPerson('volunteer', '红马甲', [[org.community, 'volunteer']]);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.community.id, need);
      const dispatch = kase.taskId('dispatch_personal');
      const opened = await kase.waitForTask('the dispatch', dispatch, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      const dispatchDue = opened.openedAt.getTime() + HOUR;
      await bed.skipTo(dispatchDue + MINUTE);
      const [late] = await kase.waitForEvents('deadline.escalated', 1, { deadline: 'dispatch_1h' });
      // Dispatched 10 minutes late; nobody answers it
      await bed.skipTo(dispatchDue + 10 * MINUTE);
      await kase.claim(dispatch, dispatcher);
      await kase.complete(dispatch, dispatcher, 'dispatched');
      const serve = kase.taskId('volunteer');
      const offered = await kase.waitForTask('the volunteer task', serve, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      const respondDue = offered.openedAt.getTime() + 4 * HOUR;
      await bed.skipTo(respondDue + MINUTE);
      const [unanswered] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'respond_4h',
      });
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      return { kase, dispatchDue, late, respondDue, unanswered, reminded };
    });

    // Assert: 1 hour after intake, then 4 hours after dispatch, each to the community secretary
    expectFiredAt(outcome.late!.at, outcome.dispatchDue);
    expect(outcome.late!.detail).toMatchObject({ level: 1, unitId: org.community.id });
    expectFiredAt(outcome.reminded!.at, outcome.respondDue - HOUR);
    expect(await mailsOf(volunteer, SUBJECT.reminder)).toHaveLength(1);
    expectFiredAt(outcome.unanswered!.at, outcome.respondDue);
    expect(outcome.unanswered!.detail).toMatchObject({ level: 1, unitId: org.community.id });
    const toSecretary = await mailsOf(org.communitySecretary, SUBJECT.escalated);
    expect(toSecretary.map((m) => m.text.includes('1小时内派发'))).toContain(true);
    expect(toSecretary.map((m) => m.text.includes('4小时内响应解决'))).toContain(true);
    const outbox = await bed.db.models.Outbox.find({
      caseId: outcome.kase.caseId,
      template: 'task-escalated',
    }).lean();
    expect(outbox.map((m) => m.to)).toEqual([
      org.communitySecretary.email,
      org.communitySecretary.email,
    ]);
  });
});

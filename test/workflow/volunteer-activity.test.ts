import { figuresOf } from '../../services/metrics';
import { bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import type { SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import {
  claimAndComplete,
  expectFiredAt,
  mailsOf,
  plusDays,
  stepsEntered,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 志愿服务活动 (definitions/volunteer-activity.yaml) on the time-skipping server with
 * the real activities: volunteers sign up until the places are taken, the case waits for the
 * activity, those who signed up check in, and the dispatcher confirms the service's length: each
 * volunteer who checked in earns one point per hour in the points ledger, those who did not
 * nothing. Missed: a confirmation not given within 2 working days goes to the community's
 * secretary.
 */
let bed: SlaTestBed;

useSlaTestBed('volunteer-activity', (ready) => {
  bed = ready;
});

interface VolunteerOrg extends SeededOrg {
  volunteers: SeededPerson[];
  dispatcher: SeededPerson;
}

async function volunteerOrg(): Promise<VolunteerOrg> {
  const org = await bed.seedOrg();
  const volunteers = [];
  for (const label of ['v1', 'v2', 'v3']) {
    volunteers.push(await bed.addPerson(label, `志愿者${label}`, [[org.community, 'volunteer']]));
  }
  return {
    ...org,
    volunteers,
    dispatcher: await bed.addPerson('dispatcher', '社区派单员', [[org.community, 'dispatcher']]),
  };
}

function activity(activityAt: string) {
  return {
    title: '周五志愿服务日：楼道清理',
    description: '清理惠民小区楼道堆物。',
    activityAt,
    places: 2,
  };
}

describe('志愿服务活动 (volunteer-activity)', () => {
  it('when two volunteers fill the places and one checks in, then the 3.5 hours the dispatcher types in earn that one 4 points (hours, rounded) and the other none', async () => {
    // Arrange
    const org = await volunteerOrg();
    const [first, second] = org.volunteers as [SeededPerson, SeededPerson, SeededPerson];
    const monday = await bed.quietMonday();
    const activityAt = `${plusDays(monday, 4)}T14:00:00+08:00`;
    const definition = bed.shipped('volunteer-activity.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.community.id, activity(activityAt));
      const signup = kase.taskId('signup');
      await kase.waitForTask('报名', signup, () => true);
      await kase.acknowledge(signup, first);
      await kase.acknowledge(signup, second);
      await kase.waitForEvents('claim.closed', 1, { reason: 'full' });
      await bed.skipTo(Date.parse(activityAt) + 60_000);
      const checkin = kase.taskId('checkin');
      const checkinTask = await kase.waitForTask('签到', checkin, () => true);
      await kase.acknowledge(checkin, first);
      await bed.skipTo(Date.parse(activityAt) + 5 * 3600_000);
      const confirm = kase.taskId('confirm');
      await kase.waitForTask('确认服务时长', confirm, () => true);
      await claimAndComplete(kase, confirm, org.dispatcher, 'held', {
        note: '清理 3 栋楼道',
        hours: 3.5,
      });
      const doc = await kase.waitForDoc('closed', (d) => d.status === 'closed');
      const entries = await bed.db.models.PointsEntry.find({ caseId: kase.caseId }).lean();
      return { doc, checkinTask, entries };
    });

    // Assert: only those who signed up were called to check in
    expect(outcome.checkinTask.candidates.map((c) => c.personId).sort()).toEqual(
      [first.personId, second.personId].sort(),
    );
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'signup',
      'start',
      'checkin',
      'confirm',
      'closed',
    ]);
    // …and the hours went to the one who checked in
    expect(outcome.entries.map((e) => [e.personId, e.delta, e.reason])).toEqual([
      [first.personId, 4, '志愿服务时长'],
    ]);
  });

  it('when the dispatcher does not confirm the hours within 2 working days, then the community’s secretary is told', async () => {
    // Arrange
    const org = await volunteerOrg();
    const monday = await bed.quietMonday();
    const activityAt = `${plusDays(monday, 1)}T09:00:00+08:00`;
    const definition = bed.shipped('volunteer-activity.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.community.id, activity(activityAt));
      const signup = kase.taskId('signup');
      await kase.waitForTask('报名', signup, () => true);
      await kase.acknowledge(signup, org.volunteers[0]!);
      await kase.acknowledge(signup, org.volunteers[1]!);
      await bed.skipTo(Date.parse(activityAt) + 60_000);
      const checkin = kase.taskId('checkin');
      await kase.waitForTask('签到', checkin, () => true);
      await kase.acknowledge(checkin, org.volunteers[0]!);
      await kase.acknowledge(checkin, org.volunteers[1]!);
      const confirm = await kase.waitForTask('确认服务时长', kase.taskId('confirm'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(confirm.dueAt!.getTime() + 60_000);
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1);
      return { confirm, escalated };
    });

    // Assert
    expectFiredAt(outcome.escalated!.at, outcome.confirm.dueAt!.getTime());
    expect(outcome.escalated!.detail?.unitId).toBe(org.community.id);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(1);
  });
});

describe('志愿服务活动 measures (接单率, 办结率, 按期办结率, 督办率…)', () => {
  it('when known activities run (confirmed at once, confirmed after confirm_2d, not held, nobody signed up, never confirmed), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: one place per activity, so one sign-up fills it and one check-in closes the pool
    const org = await volunteerOrg();
    const [volunteer] = org.volunteers as [SeededPerson, SeededPerson, SeededPerson];
    const monday = await bed.quietMonday();
    const tuesday = bj(`${plusDays(monday, 1)} 09:00`).getTime();
    const definition = bed.shipped('volunteer-activity.yaml');
    const onePlace = { ...activity(new Date(tuesday).toISOString()), places: 1 };

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
      const start = () => bed.startCase(queue, definition, org.community.id, onePlace);
      const signUp = async (kase: Kase) => {
        await kase.waitForTask('报名', kase.taskId('signup'), () => true);
        await kase.acknowledge(kase.taskId('signup'), volunteer);
        await kase.waitForEvents('claim.closed', 1, { reason: 'full' });
      };
      const checkIn = async (kase: Kase) => {
        await kase.waitForTask('签到', kase.taskId('checkin'), () => true);
        await kase.acknowledge(kase.taskId('checkin'), volunteer);
      };
      const confirmTask = (kase: Kase) =>
        kase.waitForTask('确认服务时长', kase.taskId('confirm'), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const confirm = (kase: Kase, outcome: string, hours?: number, comment?: string) =>
        claimAndComplete(
          kase,
          kase.taskId('confirm'),
          org.dispatcher,
          outcome,
          { note: '已开展', ...(hours !== undefined ? { hours } : {}) },
          comment,
        );
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      // 1. confirmed at once (4 h); 2. confirmed after confirm_2d (2 h); 3. nobody checks in and
      // the dispatcher reports it not held; 4. nobody signs up; 5. never confirmed
      const onTime = await start();
      const late = await start();
      const notHeld = await start();
      const noSignUp = await start();
      const unconfirmed = await start();
      for (const kase of [onTime, late, notHeld, unconfirmed]) await signUp(kase);
      await noSignUp.waitForTask('报名', noSignUp.taskId('signup'), () => true);
      await bed.skipTo(tuesday + 60_000);
      for (const kase of [onTime, late, unconfirmed]) await checkIn(kase);
      await confirmTask(onTime);
      await confirm(onTime, 'held', 4);
      const lateConfirm = await confirmTask(late);
      await confirmTask(unconfirmed);
      // The check-in window (4 h) ends with nobody: the dispatcher still confirms, as not held
      await bed.skipTo(tuesday + 4 * 3600_000 + 2 * 60_000);
      await confirmTask(notHeld);
      await confirm(notHeld, 'not_held', undefined, '雨天取消');
      // Past confirm_2d (and the 3-day sign-up window)
      await bed.skipTo(lateConfirm.dueAt!.getTime() + 3 * 3600_000);
      await late.waitForEvents('deadline.escalated', 1, { deadline: 'confirm_2d' });
      await unconfirmed.waitForEvents('deadline.escalated', 1, { deadline: 'confirm_2d' });
      await confirm(late, 'held', 2);
      const docs = [
        await closed(onTime),
        await closed(late),
        await closed(notHeld),
        await closed(noSignUp),
        await unconfirmed.doc(),
      ];
      return { docs, cases: [onTime, late, notHeld, noSignUp, unconfirmed] };
    });

    // Assert: the flags each activity carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'cancelled',
      'cancelled',
      'open',
    ]);
    // No `acceptance` is declared: every activity is dispatched when posted, and the first sign-up
    // (the volunteers' taking it on) is its acceptance; no deadline runs before it.
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 0, 0],
      [0, 1, 1, 1],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.8, // 4 activities somebody signed up for, of 5 posted
      responseRate: 0.8, // the same 4: the sign-up window is no deadline, so none is late
      completionRate: 0.6667, // 2 confirmed of 3 due (the not-held one was cancelled within its limit)
      resolutionRate: 0.6667, // no 解释说明 outcome: the 2 confirmed are resolved
      onTimeRate: 0.5, // 1 of 2 confirmed within confirm_2d
      satisfactionRate: null, // no feedback step: nobody rates an activity
      participationRate: null,
      visitRate: 0, // 0 rated of 2 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.4, // 2 escalated to the secretary of 5 posted
      returnRate: 0, // no step can be sent back
      overdueRate: 0.4, // 2 past confirm_2d of 5 posted (none refused: the process has no refusal)
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = definition.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

import { bj } from '../support/beijing';
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
  it('when two volunteers fill the places and one checks in, then the dispatcher’s half day earns that one 4 points (hours) and the other none', async () => {
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
      await claimAndComplete(kase, confirm, org.dispatcher, 'h4', { note: '清理 3 栋楼道' });
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
      [first.personId, 4, '志愿服务4小时'],
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

import { figuresOf } from '../../services/metrics';
import { beijingText, bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import type {
  RunningCase,
  SeededOrg,
  SeededPerson,
  SeededUnit,
  SlaTestBed,
} from '../support/sla-cases';
import {
  claimAndComplete,
  eventsOf,
  expectFiredAt,
  mailsOf,
  plusDays,
  stepsEntered,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 在职党员“双报到” (definitions/dual-report.yaml) on the time-skipping server with the
 * real activities: a department's party member registers with the community they live in, the
 * community's dispatcher records it, the member signs the service commitment, and the member's
 * own unit's secretary gets the receipt. Missed: an unsigned commitment is told, after a reminder,
 * to the community's secretary and the member's unit's secretary (双向督导).
 */
let bed: SlaTestBed;

useSlaTestBed('dual-report', (ready) => {
  bed = ready;
});

interface DualOrg extends SeededOrg {
  department: SeededUnit;
  departmentSecretary: SeededPerson;
  member: SeededPerson;
  dispatcher: SeededPerson;
}

async function dualOrg(): Promise<DualOrg> {
  const org = await bed.seedOrg();
  const department = await bed.addUnit('department', '民政局', org.county);
  return {
    ...org,
    department,
    departmentSecretary: await bed.addPerson('dept-secretary', '民政局党组书记', [
      [department, 'secretary'],
    ]),
    member: await bed.addPerson('member', '在职党员', [[department, 'officer']]),
    dispatcher: await bed.addPerson('dispatcher', '社区派单员', [[org.community, 'dispatcher']]),
  };
}

async function register(kase: RunningCase, org: DualOrg): Promise<void> {
  await kase.waitForTask('报到登记', kase.taskId('register'), () => true);
  await claimAndComplete(kase, kase.taskId('register'), org.dispatcher, 'registered', {});
}

function registration(org: DualOrg) {
  return {
    member: org.member.personId,
    workUnit: org.department.id,
    services: ['政策宣传', '关爱帮扶'],
  };
}

describe('在职党员“双报到” (dual-report)', () => {
  it('when the community registers the member and the member signs the commitment, then the member’s unit gets the receipt', async () => {
    // Arrange
    const org = await dualOrg();
    const monday = await bed.quietMonday();
    const definition = bed.shipped('dual-report.yaml');

    // Act
    const doc = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.community.id, registration(org));
      await register(kase, org);
      await kase.waitForTask('服务承诺', kase.taskId('commit'), () => true);
      await claimAndComplete(kase, kase.taskId('commit'), org.member, 'committed', {
        post: '关爱帮扶',
        commitment: '每月至少参加两次社区志愿服务。',
      });
      return kase.waitForDoc('closed', (d) => d.status === 'closed');
    });

    // Assert
    expect(stepsEntered(doc.timeline)).toEqual([
      'register',
      'party_post',
      'commit',
      'receipt',
      'closed',
    ]);
    expect(await mailsOf(org.departmentSecretary, '报到回执')).toHaveLength(1);
    // …registering gave the member the community's party-member post in the org data
    const posts = await bed.db.models.Post.find({ personId: org.member.personId }).lean();
    expect(posts.map((p) => [p.unitId, p.role]).sort()).toContainEqual([
      org.community.id,
      'party-member',
    ]);
    const [granted] = eventsOf(doc.timeline, 'org.granted');
    expect(granted!.detail).toMatchObject({ personId: org.member.personId, created: false });
  });

  it('when the member does not sign within 10 working days, then the member is reminded and the community’s and the unit’s secretaries are told', async () => {
    // Arrange
    const org = await dualOrg();
    const monday = await bed.quietMonday();
    const definition = bed.shipped('dual-report.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.community.id, registration(org));
      await register(kase, org);
      const commit = await kase.waitForTask('服务承诺', kase.taskId('commit'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${plusDays(monday, 15)} 10:00`));
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1);
      return { commit, escalated };
    });

    // Assert
    expect(beijingText(outcome.commit.dueAt!)).toBe(`${plusDays(monday, 14)} 09:30`);
    expectFiredAt(outcome.escalated!.at, outcome.commit.dueAt!.getTime());
    expect(outcome.commit.candidates.map((c) => c.personId)).toEqual([org.member.personId]);
    expect(await mailsOf(org.member, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.departmentSecretary, SUBJECT.escalated)).toHaveLength(1);
  });
});

describe('在职党员“双报到” measures (接单率, 响应率, 办结率, 按期办结率…)', () => {
  it('when known registrations run (signed at once, declined, registered late then signed on time, signed after commit_10d, never signed), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: one member per case would be the limit; the test starts its cases directly
    const org = await dualOrg();
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();
    const definition = bed.shipped('dual-report.yaml');
    const DAY = 24 * 3600_000;

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = () => bed.startCase(queue, definition, org.community.id, registration(org));
      const commit = async (kase: RunningCase) => {
        await kase.waitForTask('服务承诺', kase.taskId('commit'), () => true);
        await claimAndComplete(kase, kase.taskId('commit'), org.member, 'committed', {
          post: '政策宣传',
          commitment: '每月参加两次志愿服务。',
        });
      };
      const planned = (kase: RunningCase, step: string) =>
        kase.waitForTask(step, kase.taskId(step), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      // 1. registered and signed at once
      const signed = await start();
      await register(signed, org);
      await commit(signed);
      // 2. declined: not living in the community (不予受理)
      const declined = await start();
      await declined.waitForTask('报到登记', declined.taskId('register'), () => true);
      await claimAndComplete(
        declined,
        declined.taskId('register'),
        org.dispatcher,
        'declined',
        {},
        '非本社区居住',
      );
      const done = [await closed(signed), await closed(declined)];
      // 3. registered after register_5d, then signed at once
      const lateRegistration = await start();
      await planned(lateRegistration, 'register');
      // 4. signed after commit_10d; 5. never signed
      const lateCommitment = await start();
      await register(lateCommitment, org);
      await planned(lateCommitment, 'commit');
      const unsigned = await start();
      await register(unsigned, org);
      await planned(unsigned, 'commit');

      // A week on: 5 working days have passed for the registration
      await bed.skipTo(mondayAt + 7 * DAY + 3600_000);
      await lateRegistration.waitForEvents('deadline.escalated', 1, { deadline: 'register_5d' });
      await register(lateRegistration, org);
      await commit(lateRegistration);
      done.push(await closed(lateRegistration));
      // Two weeks on: 10 working days have passed for the commitments
      await bed.skipTo(mondayAt + 14 * DAY + 3600_000);
      await lateCommitment.waitForEvents('deadline.escalated', 1, { deadline: 'commit_10d' });
      await unsigned.waitForEvents('deadline.escalated', 1, { deadline: 'commit_10d' });
      await commit(lateCommitment);
      done.push(await closed(lateCommitment), await unsigned.doc());
      const cases = [signed, declined, lateRegistration, lateCommitment, unsigned];
      return { docs: done, cases };
    });

    // Assert: the flags each registration carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'rejected',
      'closed',
      'closed',
      'open',
    ]);
    // The community's 报到登记 is the acceptance (receiving the member's report), register_5d its
    // response clock; the declined registration keeps only `received`, `excluded`, `rejected`.
    expect(
      metrics.map((m) => [m.excluded, m.rejected, m.dispatched, m.accepted, m.respondedInTime]),
    ).toEqual([
      [0, 0, 1, 1, 1],
      [1, 1, 0, 0, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 1, 1, 1],
      [0, 0, 1, 1, 1],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 1, // 4 registered of 4 (the declined one is in no denominator)
      responseRate: 0.75, // 3 registered before register_5d passed
      completionRate: 0.75, // 3 signed of 4 due (the unsigned one is past commit_10d)
      resolutionRate: 0.75, // no 解释说明 outcome: the 3 signed are resolved
      onTimeRate: 0.6667, // 2 of 3 by commit_10d: the late registration is no late close
      satisfactionRate: null, // no feedback step
      participationRate: null,
      visitRate: 0, // 0 rated of 3 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.75, // 3 escalated of 4 registered
      returnRate: 0, // no task is sent back
      overdueRate: 0.75, // 3 with a deadline passed of 4 not declined
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = definition.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

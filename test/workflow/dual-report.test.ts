import { beijingText, bj } from '../support/beijing';
import type {
  RunningCase,
  SeededOrg,
  SeededPerson,
  SeededUnit,
  SlaTestBed,
} from '../support/sla-cases';
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
  await claimAndComplete(kase, kase.taskId('register'), org.dispatcher, 'registered', {
    postRecorded: true,
  });
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
    expect(stepsEntered(doc.timeline)).toEqual(['register', 'commit', 'receipt', 'closed']);
    expect(await mailsOf(org.departmentSecretary, '报到回执')).toHaveLength(1);
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

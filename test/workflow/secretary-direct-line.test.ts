import { bj } from '../support/beijing';
import { flagsOf } from '../support/case-figures';
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
 * The shipped 区委书记直通车 (definitions/secretary-direct-line.yaml) on the time-skipping server
 * with the real activities: a community's secretary raises a problem, the county's command centre
 * puts it before the county's secretary, who
 * assigns it to a lead department with a date, the department solves it, and the secretary who
 * raised it confirms (once sent back as unsatisfactory). Missed: at the end of the date the county
 * secretary is told and the department's director gets a red slip to answer in writing.
 */
let bed: SlaTestBed;

useSlaTestBed('secretary-direct-line', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;

interface DirectLineOrg extends SeededOrg {
  countyDispatcher: SeededPerson;
  countySecretary: SeededPerson;
  department: SeededUnit;
  departmentDirector: SeededPerson;
}

async function directLineOrg(): Promise<DirectLineOrg> {
  const org = await bed.seedOrg();
  const department = await bed.addUnit('department', '住房和城乡建设局', org.county);
  return {
    ...org,
    countyDispatcher: await bed.addPerson('county-dispatcher', '县指挥中心', [
      [org.county, 'dispatcher'],
    ]),
    countySecretary: await bed.addPerson('county-secretary', '区委书记', [
      [org.county, 'secretary'],
    ]),
    department,
    departmentDirector: await bed.addPerson('dept-director', '住建局局长', [
      [department, 'director'],
    ]),
  };
}

const PROBLEM = {
  title: '老旧小区加装电梯审批难',
  description: '和平社区 6 个老旧小区居民申请加装电梯，规划审批涉及多个部门，一年未落地。',
  tried: '社区多次协调，街道召开两次联席会议，仍需县级部门统筹。',
};

async function assign(kase: RunningCase, org: DirectLineOrg, dueDate: string): Promise<void> {
  const register = kase.taskId('register');
  await kase.waitForTask('登记呈报', register, () => true);
  await claimAndComplete(kase, register, org.countyDispatcher, 'submitted', {});
  const review = kase.taskId('review');
  await kase.waitForTask('区委书记批示', review, () => true);
  await claimAndComplete(kase, review, org.countySecretary, 'assigned', {
    instruction: '请住建局牵头，会同规划部门一个月内拿出办法。',
    lead: org.department.id,
    dueDate,
  });
}

describe('区委书记直通车 (secretary-direct-line)', () => {
  it('when the county secretary assigns it and the department solves it (once sent back), then the raising secretary confirms and it counts as resolved', async () => {
    // Arrange
    const org = await directLineOrg();
    const monday = await bed.quietMonday();
    const definition = bed.shipped('secretary-direct-line.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.community.id, PROBLEM);
      await assign(kase, org, plusDays(monday, 25));
      const handle = await kase.waitForTask('牵头单位办理', kase.taskId('handle'), () => true);
      await claimAndComplete(kase, kase.taskId('handle'), org.departmentDirector, 'solved', {
        result: '出台加装电梯联合审批办法',
      });
      await kase.waitForTask('书记确认', kase.taskId('confirm'), () => true);
      await claimAndComplete(
        kase,
        kase.taskId('confirm'),
        org.communitySecretary,
        'unsatisfied',
        {},
        '办法未明确资金分摊',
      );
      await kase.waitForTask('再次办理', kase.taskId('handle', 2), () => true);
      await claimAndComplete(kase, kase.taskId('handle', 2), org.departmentDirector, 'solved', {
        result: '补充资金分摊细则',
      });
      await kase.waitForTask('再次确认', kase.taskId('confirm', 2), () => true);
      await claimAndComplete(
        kase,
        kase.taskId('confirm', 2),
        org.communitySecretary,
        'satisfied',
        {},
      );
      return { handle, doc: await kase.waitForDoc('closed', (d) => d.status === 'closed') };
    });

    // Assert: the department the county secretary named was offered the work
    expect(outcome.handle.candidates.map((c) => c.personId)).toEqual([
      org.departmentDirector.personId,
    ]);
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'register',
      'review',
      'handle',
      'confirm',
      'handle',
      'confirm',
      'closed',
    ]);
    expect(flagsOf(outcome.doc)).toMatchObject({ accepted: 1, resolved: 1, excluded: 0 });
  });

  it('when the department misses the date, then at its end the county secretary is told and the department director gets a red slip', async () => {
    // Arrange
    const org = await directLineOrg();
    const monday = await bed.quietMonday();
    const dueDate = plusDays(monday, 4);
    const definition = bed.shipped('secretary-direct-line.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.community.id, PROBLEM);
      await assign(kase, org, dueDate);
      await kase.waitForTask('牵头单位办理', kase.taskId('handle'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      const dueAt = Date.parse(`${dueDate}T00:00:00+08:00`) + DAY;
      await bed.skipTo(dueAt + 60_000);
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'handle_due',
      });
      await kase.waitForEvents('supervision.opened', 1);
      const slip = await kase.waitForTask('督办单', `${kase.caseId}.supervision.1`, () => true);
      return { dueAt, escalated, slip };
    });

    // Assert
    expectFiredAt(outcome.escalated!.at, outcome.dueAt);
    expect(outcome.escalated!.detail?.unitId).toBe(org.county.id);
    expect(await mailsOf(org.countySecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.departmentDirector, SUBJECT.reminder)).toHaveLength(1);
    expect(outcome.slip.candidates.map((c) => c.personId)).toEqual([
      org.departmentDirector.personId,
    ]);
    expect(outcome.slip.supervision).toMatchObject({ level: 'red', reply: null });
  });
});

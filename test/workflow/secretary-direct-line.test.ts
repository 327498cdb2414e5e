import { figuresOf } from '../../services/metrics';
import { bj } from '../support/beijing';
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

describe('区委书记直通车 measures (接单率, 办结率, 解决率, 按期办结率…)', () => {
  it('when known problems run (solved at once, sent back, taken to the joint meeting, explained then found unsatisfactory and solved late, registered late then solved on time, never handled), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: the county's office director, whom a late 呈报 is escalated to
    const org = await directLineOrg();
    await bed.addPerson('county-director', '县委办主任', [[org.county, 'director']]);
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();
    const definition = bed.shipped('secretary-direct-line.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = () => bed.startCase(queue, definition, org.community.id, PROBLEM);
      const act = async (
        kase: RunningCase,
        step: string,
        person: SeededPerson,
        outcome: string,
        form: Record<string, unknown>,
        options: { visit?: number; comment?: string } = {},
      ) => {
        const taskId = kase.taskId(step, options.visit);
        await kase.waitForTask(step, taskId, () => true);
        await claimAndComplete(kase, taskId, person, outcome, form, options.comment);
      };
      const review = async (kase: RunningCase, outcome: string, comment?: string) => {
        await act(kase, 'register', org.countyDispatcher, 'submitted', {});
        await act(kase, 'review', org.countySecretary, outcome, { instruction: '阅' }, { comment });
      };
      const handle = (kase: RunningCase, outcome: string, visit = 1) =>
        act(
          kase,
          'handle',
          org.departmentDirector,
          outcome,
          { result: '已办理' },
          {
            visit,
            ...(outcome === 'explained' ? { comment: '资金未落实' } : {}),
          },
        );
      const confirm = (kase: RunningCase, outcome: string, visit = 1) =>
        act(
          kase,
          'confirm',
          org.communitySecretary,
          outcome,
          {},
          {
            visit,
            ...(outcome === 'unsatisfied' ? { comment: '仍未解决' } : {}),
          },
        );
      const planned = (kase: RunningCase, step: string) =>
        kase.waitForTask(step, kase.taskId(step), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      // 1. assigned, solved and confirmed at once
      const solved = await start();
      await assign(solved, org, plusDays(monday, 25));
      await handle(solved, 'solved');
      await confirm(solved, 'satisfied');
      // 2. sent back to be solved below (不予受理 here); 3. taken to the quarterly joint meeting
      const sentBack = await start();
      await review(sentBack, 'returned', '请街道统筹解决');
      const toMeeting = await start();
      await review(toMeeting, 'to_meeting');
      const done = [await closed(solved), await closed(sentBack), await closed(toMeeting)];
      // 4. due Thursday: explained, found unsatisfactory, solved after the date
      const reopened = await start();
      await assign(reopened, org, plusDays(monday, 3));
      await handle(reopened, 'explained');
      await confirm(reopened, 'unsatisfied');
      await planned(reopened, 'handle');
      // 5. registered after register_1d, then solved well within its date
      const lateRegistration = await start();
      await planned(lateRegistration, 'register');
      // 6. due Thursday, never handled
      const neverHandled = await start();
      await assign(neverHandled, org, plusDays(monday, 3));
      await planned(neverHandled, 'handle');

      await bed.skipTo(mondayAt + DAY + 3600_000);
      await lateRegistration.waitForEvents('deadline.escalated', 1, { deadline: 'register_1d' });
      await assign(lateRegistration, org, plusDays(monday, 25));
      await handle(lateRegistration, 'solved');
      await confirm(lateRegistration, 'satisfied');
      done.push(await closed(lateRegistration));
      // Friday: Thursday's dates have passed
      await bed.skipTo(mondayAt + 4 * DAY + 3600_000);
      await reopened.waitForEvents('deadline.escalated', 1, { deadline: 'handle_due' });
      await neverHandled.waitForEvents('deadline.escalated', 1, { deadline: 'handle_due' });
      await handle(reopened, 'solved', 2);
      await confirm(reopened, 'satisfied', 2);
      done.splice(3, 0, await closed(reopened));
      done.push(await neverHandled.doc());
      const cases = [solved, sentBack, toMeeting, reopened, lateRegistration, neverHandled];
      return { docs: done, cases };
    });

    // Assert: the flags each problem carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'rejected',
      'closed',
      'closed',
      'closed',
      'open',
    ]);
    // The lead unit's handling is the acceptance: the problem taken to the meeting never reached
    // a lead unit, and the one nobody handled was dispatched but not accepted.
    expect(
      metrics.map((m) => [m.excluded, m.rejected, m.dispatched, m.accepted, m.respondedInTime]),
    ).toEqual([
      [0, 0, 1, 1, 1],
      [1, 1, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 1, 1, 1],
      [0, 0, 1, 1, 1],
      [0, 0, 1, 0, 0],
    ]);
    // The reopened problem counts by its last outcome (solved, after the date); taking a problem
    // to the joint meeting is declared 解释说明.
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [0, 0, 0, 0, 0],
      [1, 1, 0, 1, 1],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.75, // 3 taken up by a lead unit of 4 assigned (sent back, to the meeting: none)
      responseRate: 0.75, // the same 3: register_1d is the office's clock, not the lead unit's
      completionRate: 0.8, // 4 completed of 5 due (the one never handled is past handle_due)
      resolutionRate: 0.6, // 3 solved of 5 due (the meeting one is explained)
      onTimeRate: 0.75, // 3 of 4 by handle_due; the reopened one was solved after it
      satisfactionRate: null, // no feedback step: the raising secretary's 确认 is a task outcome
      participationRate: null,
      visitRate: 0, // 0 rated of 4 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.75, // 3 escalated of 4 assigned
      returnRate: 0, // 不满意 is an outcome sending it back to handle, not a 退单
      overdueRate: 0.6, // 3 with a deadline passed of 5 not sent back
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = definition.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

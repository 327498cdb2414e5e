import { figuresOf } from '../../services/metrics';
import type { CheckInRecord } from '../../common/case';
import type { CaseStateView } from '../../workflows/projection';
import { uniqueAddress } from '../support/harness';
import type { SeededOrg, SeededPerson, SeededUnit, SlaTestBed } from '../support/sla-cases';
import {
  deadlineOf,
  eventsOf,
  expectFiredAt,
  mailsOf,
  mailsToAddress,
  openedTask,
  stepsEntered,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';

/**
 * The shipped 红心物业“54321” process (definitions/property-54321.yaml) on the time-skipping
 * server with the real activities: property staff arrive within 5 minutes and grade the problem;
 * each grade runs on its own calendar-time clock (40 minutes, 3 hours, 2 days, a plan in 1 day);
 * a missed promise goes to the compound's property manager at once and to the community director
 * 30 minutes later.
 */
let bed: SlaTestBed;

useSlaTestBed('property-54321', (ready) => {
  bed = ready;
});

/** The process under test, as shipped (definitions/property-54321.yaml). */
const shipped = () => bed.shipped('property-54321.yaml');

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * The arrival's check-in (签到) as the API service hands it to the workflow once measured: 35 m
 * from the compound, within the step's 300 m. The arrival step requires one.
 */
const ON_SITE: { checkIn: CheckInRecord } = {
  checkIn: {
    lat: 34.0305,
    lng: 108.0412,
    accuracy: 12,
    at: '2026-12-07T01:00:00.000Z',
    placeUnitId: 'compound',
    distance: 35,
    limit: 300,
    within: true,
  },
};

/** The org of one test: the seeded corner plus a compound with its property service. */
interface PropertyOrg extends SeededOrg {
  compound: SeededUnit;
  building: SeededUnit;
  staff: SeededPerson;
  staff2: SeededPerson;
  manager: SeededPerson;
}

/** A fresh org per test, so each test's mail counts are its own. */
async function propertyOrg(): Promise<PropertyOrg> {
  const org = await bed.seedOrg();
  const compound = await bed.addUnit('compound', '惠民小区', org.grid);
  const building = await bed.addUnit('building', '3号楼', compound);
  return {
    ...org,
    compound,
    building,
    staff: await bed.addPerson('property-staff', '孙物业', [[compound, 'property-staff']]),
    staff2: await bed.addPerson('property-staff-2', '钱物业', [[compound, 'property-staff']]),
    manager: await bed.addPerson('property-manager', '吴经理', [[compound, 'property-manager']]),
  };
}

function report(contactEmail: string) {
  return {
    category: '水电维修',
    description: '3号楼2单元楼道灯不亮',
    address: '3号楼2单元',
    contactEmail,
  };
}

describe('红心物业“54321” (property-54321)', () => {
  it('when the staff arrive in time and fix a small problem within 40 minutes, then the owner gets a receipt and the result, rates it and the case closes', async () => {
    // Arrange
    const org = await propertyOrg();
    const contact = uniqueAddress('owner');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.building.id, report(contact));
      const arrive = await openedTask(kase, 'arrive');
      await kase.claim(kase.taskId('arrive'), org.staff);
      // Without the check-in the arrival is refused, naming it; with it, it is recorded.
      const refused = await kase
        .complete(kase.taskId('arrive'), org.staff, 'arrived', { severity: '小问题' })
        .then(
          () => null,
          (err: unknown) => err,
        );
      await kase.complete(
        kase.taskId('arrive'),
        org.staff,
        'arrived',
        { severity: '小问题', finding: '灯泡烧坏' },
        ON_SITE,
      );
      const fix = await openedTask(kase, 'fix_small');
      await kase.claim(kase.taskId('fix_small'), org.staff);
      await kase.complete(kase.taskId('fix_small'), org.staff, 'fixed', { result: '已更换灯泡' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(5);
      const result = (await kase.handle.result()) as CaseStateView;
      const doc = await bed.db.models.Case.findById(kase.caseId).lean();
      const arrived = await bed.db.models.Task.findById(kase.taskId('arrive')).lean();
      return {
        result,
        arrive,
        fix,
        refused,
        arrived,
        doc: await kase.doc(),
        rating: doc?.rating as unknown,
      };
    });

    // Assert: the path and its clocks
    expect(outcome.result.status).toBe('closed');
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'acknowledge',
      'arrive',
      'grade',
      'fix_small',
      'rate',
      'closed',
    ]);
    expect(eventsOf(outcome.doc.timeline, 'decision.taken')[0]?.detail).toMatchObject({
      branch: 1,
      next: 'fix_small',
    });
    const arriveDue = deadlineOf(outcome.arrive.deadlines, `${outcome.arrive.id}/arrive_5m`);
    expect(Date.parse(arriveDue.dueAt!) - outcome.arrive.openedAt.getTime()).toBe(5 * MINUTE);
    const fixDue = deadlineOf(outcome.fix.deadlines, `${outcome.fix.id}/fix_40m`);
    expect(Date.parse(fixDue.dueAt!) - outcome.fix.openedAt.getTime()).toBe(40 * MINUTE);
    // The small fix goes to the very person who arrived, without a new dispatch mail.
    expect(outcome.fix.candidateUserIds).toEqual([org.staff.userId]);
    expect(eventsOf(outcome.doc.timeline, 'deadline.missed')).toEqual([]);
    expect(eventsOf(outcome.doc.timeline, 'feedback.rated')[0]?.detail).toMatchObject({ score: 5 });
    expect(outcome.rating).toMatchObject({ score: 5 });

    // Assert: the check-in — required, then on the timeline (who, distance, limit; no position)
    // and on the task (the position)
    expect(outcome.refused).toMatchObject({
      cause: { type: 'Invalid', details: [[{ path: 'checkIn' }]] },
    });
    const checkedIn = eventsOf(outcome.doc.timeline, 'task.checked-in');
    expect(checkedIn).toHaveLength(1);
    expect(checkedIn[0]).toMatchObject({
      stepId: 'arrive',
      actor: { kind: 'user', id: org.staff.userId },
      detail: {
        task: outcome.arrive.id,
        accuracy: 12,
        distance: 35,
        limit: 300,
        within: true,
        unitId: 'compound',
      },
    });
    expect(JSON.stringify(checkedIn[0])).not.toContain('34.0305');
    expect(outcome.arrived?.checkIn).toEqual(ON_SITE.checkIn);

    // Assert: mails — the receipt and the result to the owner, the dispatch to both staff only
    expect(await mailsToAddress(contact, '您的诉求已受理')).toHaveLength(1);
    expect(await mailsToAddress(contact, '办理结果告知')).toHaveLength(1);
    for (const staff of [org.staff, org.staff2]) {
      const assigned = await mailsOf(staff, SUBJECT.assigned);
      expect(assigned.map((m) => m.subject)).toEqual([
        expect.stringContaining('新任务待办：到场核实定级'),
      ]);
    }
    expect(await mailsOf(org.manager, SUBJECT.escalated)).toHaveLength(0);
    expect(await mailsOf(org.director, SUBJECT.escalated)).toHaveLength(0);
  });

  it('when nobody is on site within 5 minutes, then the property manager is called at 5 minutes and the community director at 35, and a late arrival still finishes the case', async () => {
    // Arrange
    const org = await propertyOrg();
    const contact = uniqueAddress('owner');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.building.id, report(contact));
      const arrive = await openedTask(kase, 'arrive');
      const due = Date.parse(
        deadlineOf(arrive.deadlines, `${kase.taskId('arrive')}/arrive_5m`).dueAt!,
      );
      await bed.skipTo(due + MINUTE);
      const level1 = await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
      const beforeLevel2 = await mailsOf(org.director, SUBJECT.escalated);
      await bed.skipTo(due + 31 * MINUTE);
      const escalated = await kase.waitForEvents('deadline.escalated', 2);
      const [missed] = await kase.waitForEvents('deadline.missed', 1);
      // The staff member turns up late; the case goes on as usual.
      await kase.claim(kase.taskId('arrive'), org.staff2);
      await kase.complete(
        kase.taskId('arrive'),
        org.staff2,
        'arrived',
        { severity: '小问题' },
        ON_SITE,
      );
      await openedTask(kase, 'fix_small');
      await kase.claim(kase.taskId('fix_small'), org.staff2);
      await kase.complete(kase.taskId('fix_small'), org.staff2, 'fixed', { result: '已修复' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(3);
      const result = (await kase.handle.result()) as CaseStateView;
      return {
        arrive,
        due,
        level1,
        beforeLevel2,
        escalated,
        missed,
        result,
        doc: await kase.doc(),
      };
    });

    // Assert: the promise was 5 minutes after the task opened; level 1 at the deadline to the
    // compound, level 2 thirty minutes later to the community
    expect(outcome.due - outcome.arrive.openedAt.getTime()).toBe(5 * MINUTE);
    expectFiredAt(outcome.missed!.at, outcome.due);
    expect(outcome.level1).toHaveLength(1);
    expect(outcome.beforeLevel2).toHaveLength(0);
    expect(
      outcome.escalated.map((e) => [e.detail?.level, e.detail?.unitId, e.detail?.people]),
    ).toEqual([
      [1, org.compound.id, 1],
      [2, org.community.id, 1],
    ]);
    expectFiredAt(outcome.escalated[0]!.at, outcome.due);
    expectFiredAt(outcome.escalated[1]!.at, outcome.due + 30 * MINUTE);
    const toManager = await mailsToAddress(org.manager.email, SUBJECT.escalated);
    expect(toManager.map((m) => m.subject)).toEqual([expect.stringContaining('第 1 级督办')]);
    const toDirector = await mailsToAddress(org.director.email, SUBJECT.escalated);
    expect(toDirector.map((m) => m.subject)).toEqual([expect.stringContaining('第 2 级督办')]);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(0);
    // Late, but done: the fix was in time, so nothing more was escalated.
    expect(outcome.result.status).toBe('closed');
    expect(deadlineOf(outcome.doc.deadlines, `${outcome.arrive.id}/arrive_5m`)).toMatchObject({
      missed: true,
      escalationLevel: 2,
    });
    expect(eventsOf(outcome.doc.timeline, 'deadline.escalated')).toHaveLength(2);
  });

  it('when a serious problem is not solved within 3 hours, then the assignee is reminded at 2.5 hours and the manager, then the director, are called', async () => {
    // Arrange
    const org = await propertyOrg();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(
        queue,
        shipped(),
        org.compound.id,
        report(uniqueAddress('owner')),
      );
      await openedTask(kase, 'arrive');
      await kase.claim(kase.taskId('arrive'), org.staff);
      await kase.complete(
        kase.taskId('arrive'),
        org.staff,
        'arrived',
        { severity: '严重问题' },
        ON_SITE,
      );
      const fix = await openedTask(kase, 'fix_serious');
      await kase.claim(kase.taskId('fix_serious'), org.staff);
      const due = Date.parse(deadlineOf(fix.deadlines, `${fix.id}/fix_3h`).dueAt!);
      await bed.skipTo(due + 31 * MINUTE);
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      const escalated = await kase.waitForEvents('deadline.escalated', 2);
      await kase.complete(kase.taskId('fix_serious'), org.staff, 'fixed', { result: '更换水泵' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(4);
      const result = (await kase.handle.result()) as CaseStateView;
      return { fix, due, reminded, escalated, result, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.due - outcome.fix.openedAt.getTime()).toBe(3 * HOUR);
    expectFiredAt(outcome.reminded!.at, outcome.due - 30 * MINUTE);
    expect(
      outcome.escalated.map((e) => [e.detail?.deadline, e.detail?.level, e.detail?.unitId]),
    ).toEqual([
      ['fix_3h', 1, org.compound.id],
      ['fix_3h', 2, org.community.id],
    ]);
    expectFiredAt(outcome.escalated[0]!.at, outcome.due);
    expectFiredAt(outcome.escalated[1]!.at, outcome.due + 30 * MINUTE);
    expect(await mailsToAddress(org.staff.email, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsToAddress(org.manager.email, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsToAddress(org.director.email, SUBJECT.escalated)).toHaveLength(1);
    expect(outcome.result.status).toBe('closed');
    expect(stepsEntered(outcome.doc.timeline)).toContain('fix_serious');
  });

  it('when the problem is special, then the manager proposes a plan within a day, the owner is told, and the fix follows the plan by its promised date', async () => {
    // Arrange
    const org = await propertyOrg();
    const contact = uniqueAddress('owner');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.building.id, report(contact));
      await openedTask(kase, 'arrive');
      await kase.claim(kase.taskId('arrive'), org.staff);
      await kase.complete(
        kase.taskId('arrive'),
        org.staff,
        'arrived',
        { severity: '特殊问题' },
        ON_SITE,
      );
      const plan = await openedTask(kase, 'plan_special');
      await kase.claim(kase.taskId('plan_special'), org.manager);
      await kase.complete(kase.taskId('plan_special'), org.manager, 'planned', {
        plan: '外墙渗水需业主大会表决使用维修资金',
        promisedDate: '2030-06-30',
      });
      const fix = await openedTask(kase, 'fix_special');
      await kase.claim(kase.taskId('fix_special'), org.manager);
      await kase.complete(kase.taskId('fix_special'), org.manager, 'fixed', { result: '已修复' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(5);
      const result = (await kase.handle.result()) as CaseStateView;
      return { plan, fix, result, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.result.status).toBe('closed');
    // The fix is due at the end of the promised day, Beijing time.
    const fixDue = deadlineOf(outcome.fix.deadlines, `${outcome.fix.id}/promised`);
    expect(fixDue.dueAt).toBe('2030-06-30T16:00:00.000Z');
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'acknowledge',
      'arrive',
      'grade',
      'plan_special',
      'plan_notice',
      'fix_special',
      'rate',
      'closed',
    ]);
    const planDue = deadlineOf(outcome.plan.deadlines, `${outcome.plan.id}/plan_1d`);
    expect(Date.parse(planDue.dueAt!) - outcome.plan.openedAt.getTime()).toBe(24 * HOUR);
    expect(outcome.plan.candidateUserIds).toEqual([org.manager.userId]);
    expect(await mailsToAddress(contact, '解决方案告知')).toHaveLength(1);
    expect(await mailsOf(org.manager, SUBJECT.assigned)).toHaveLength(1);
  });
});

describe('红心物业“54321” measures (接单率, 响应率, 办结率, 按期办结率…)', () => {
  it('when known reports run (on time, rated unsatisfied, arrived late but fixed within its promise, fixed after its promise), then every declared rate comes out exactly, also after a replay', async () => {
    // Arrange: one compound; every problem is fixed and rated (the process has no refusal and
    // no 解释说明 outcome: every report is served)
    const org = await propertyOrg();
    const contact = uniqueAddress('owner-m');

    // Act
    type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
    const cases: Kase[] = []; // every report as started, in the order of the documents returned
    const docs = await bed.withWorker(async (queue) => {
      const start = async () => {
        const kase = await bed.startCase(queue, shipped(), org.building.id, report(contact));
        cases.push(kase);
        return kase;
      };
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const arrive = async (kase: Kase, severity: string, late = false) => {
        await openedTask(kase, 'arrive');
        if (late) {
          await bed.skipTo((await bed.now()) + 6 * MINUTE);
          await kase.waitForEvents('deadline.escalated', 1, { deadline: 'arrive_5m' });
        }
        await kase.claim(kase.taskId('arrive'), org.staff);
        await kase.complete(kase.taskId('arrive'), org.staff, 'arrived', { severity }, ON_SITE);
      };
      const fix = async (kase: Kase, step: string, score: number, late = false) => {
        await openedTask(kase, step);
        if (late) {
          await bed.skipTo((await bed.now()) + 41 * MINUTE);
          await kase.waitForEvents('deadline.escalated', 1, { deadline: 'fix_40m' });
        }
        await kase.claim(kase.taskId(step), org.staff);
        await kase.complete(kase.taskId(step), org.staff, 'fixed', { result: '已处理' });
        await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
        await kase.rate(score);
        return closed(kase);
      };

      const done = [];
      // 1. a small problem on time, rated 5
      const onTime = await start();
      await arrive(onTime, '小问题');
      done.push(await fix(onTime, 'fix_small', 5));
      // 2. a serious problem on time, rated 2
      const serious = await start();
      await arrive(serious, '严重问题');
      done.push(await fix(serious, 'fix_serious', 2));
      // 3. arrived after 5 minutes (escalated), fixed within the 40 minutes, rated 4
      const lateArrival = await start();
      await arrive(lateArrival, '小问题', true);
      done.push(await fix(lateArrival, 'fix_small', 4));
      // 4. arrived on time, fixed after the 40 minutes (escalated), rated 5
      const lateFix = await start();
      await arrive(lateFix, '小问题');
      done.push(await fix(lateFix, 'fix_small', 5, true));
      return done;
    });

    // Assert: the flags each report carries
    const metrics = docs.map(flagsOf);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 1, 1, 1],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
    ]);
    expect(metrics.map((m) => [m.rated, m.satisfied, m.escalated, m.overdue])).toEqual([
      [1, 1, 0, 0],
      [1, 0, 0, 0],
      [1, 1, 1, 1],
      [1, 1, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    const sums = summedFlags(metrics);
    expect(figuresOf(sums).rates).toEqual({
      acceptanceRate: 1,
      responseRate: 0.75, // 3 arrived within arrive_5m
      completionRate: 1,
      resolutionRate: 1,
      onTimeRate: 0.75, // the late arrival still fixed within fix_40m; the late fix is not
      satisfactionRate: 0.75,
      participationRate: 1,
      visitRate: 1,
      disputeResolutionRate: null,
      supervisionRate: 0.5, // the late arrival and the late fix reached the property manager
      returnRate: 0,
      overdueRate: 0.5,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = shipped().spec.measures;
    for (const [i, kase] of cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

import { planDeadline } from '../../common/sla';
import { figuresOf } from '../../services/metrics';
import type { CaseStateView } from '../../workflows/projection';
import { beijingText, bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { uniqueAddress } from '../support/harness';
import type {
  RunningCase,
  SeededOrg,
  SeededPerson,
  SeededUnit,
  SlaTestBed,
} from '../support/sla-cases';
import {
  claimAndComplete,
  deadlineOf,
  eventsOf,
  expectFiredAt,
  mailsOf,
  mailsToAddress,
  openedTask,
  plusDays,
  stepsEntered,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 社区需求闭环响应 (definitions/closed-loop-demand.yaml, Xixiang): 社区提出需求 →
 * 驻区单位认领 → 对接开展服务 → 办结销号评价 → 组织问效监督, on the time-skipping server with the
 * real activities. A co-building unit claims the need and serves it, the community strikes it off,
 * it is rated and audited; a need nobody claims is chased, then assigned by the street; a late
 * service goes to the claiming unit's own party secretary, then to the street party committee.
 */
let bed: SlaTestBed;

useSlaTestBed('closed-loop-demand', (ready) => {
  bed = ready;
});

/** The process under test, as shipped (definitions/closed-loop-demand.yaml). */
const shipped = () => bed.shipped('closed-loop-demand.yaml');

const DAY = 24 * 3600_000;

interface DemandOrg extends SeededOrg {
  hospital: SeededUnit;
  school: SeededUnit;
  hospitalLiaison: SeededPerson;
  hospitalSecretary: SeededPerson;
  schoolLiaison: SeededPerson;
  communityDispatcher: SeededPerson;
  streetDispatcher: SeededPerson;
  countyLeader: SeededPerson;
}

/** Two co-building units under the street (one hung under the community), and the posts named. */
async function demandOrg(): Promise<DemandOrg> {
  const org = await bed.seedOrg();
  const hospital = await bed.addUnit('cobuilding', '县医院', org.street);
  const school = await bed.addUnit('cobuilding', '城北小学', org.community);
  return {
    ...org,
    hospital,
    school,
    hospitalLiaison: await bed.addPerson('hospital-liaison', '医院联络员', [[hospital, 'liaison']]),
    hospitalSecretary: await bed.addPerson('hospital-secretary', '医院党委书记', [
      [hospital, 'secretary'],
    ]),
    schoolLiaison: await bed.addPerson('school-liaison', '学校联络员', [[school, 'liaison']]),
    communityDispatcher: await bed.addPerson('community-dispatcher', '社区派单员', [
      [org.community, 'dispatcher'],
    ]),
    streetDispatcher: await bed.addPerson('street-dispatcher', '街道派单员', [
      [org.street, 'dispatcher'],
    ]),
    countyLeader: await bed.addPerson('county-leader', '县分管领导', [[org.county, 'leader']]),
  };
}

function need(contactEmail: string) {
  return {
    title: '老旧小区义诊进社区',
    category: '便民服务',
    description: '社区老年人多，希望驻区医院每月一次上门义诊',
    wantedBy: '2030-12-31',
    contactEmail,
  };
}

/** From the plan onwards: the unit plans and serves, the community strikes it off, rating, audit. */
async function deliver(kase: RunningCase, org: DemandOrg, by: SeededPerson, score: number) {
  const dock = await openedTask(kase, 'dock');
  await claimAndComplete(kase, dock.id, by, 'planned', {
    plan: '每月第一个周六上午在社区卫生室义诊',
    startDate: '2030-01-04',
  });
  const serve = await openedTask(kase, 'serve');
  await claimAndComplete(kase, serve.id, by, 'delivered', { summary: '首次义诊完成', served: 86 });
  const closeout = await openedTask(kase, 'closeout');
  await claimAndComplete(kase, closeout.id, org.communityDispatcher, 'struck_off', {
    check: '服务已开展，居民反响好',
  });
  await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
  await kase.rate(score);
  const audit = await openedTask(kase, 'audit');
  await claimAndComplete(kase, audit.id, org.streetSecretary, 'effective', {
    finding: '形成常态化机制',
  });
  return { dock, serve, closeout, audit };
}

/** Starts a need at 10:00 on `monday` (Beijing time) and waits for its claim pool to open. */
async function startNeed(queue: string, org: DemandOrg, monday: string) {
  await bed.skipTo(bj(`${monday} 10:00`));
  const contact = uniqueAddress('community-contact');
  const kase = await bed.startCase(queue, shipped(), org.community.id, need(contact));
  return { kase, pool: await openedTask(kase, 'pool') };
}

describe('社区需求闭环响应 (closed-loop-demand)', () => {
  it('when a co-building unit claims a need, then it plans and serves, the community strikes it off, it is rated and the audit closes the loop', async () => {
    // Arrange
    const org = await demandOrg();
    const monday = await bed.quietMonday();
    const contact = uniqueAddress('community-contact');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, shipped(), org.community.id, need(contact));
      const pool = await openedTask(kase, 'pool');
      await kase.claim(pool.id, org.hospitalLiaison);
      const [closed] = await kase.waitForEvents('claim.closed', 1);
      const tasks = await deliver(kase, org, org.hospitalLiaison, 5);
      const result = (await kase.handle.result()) as CaseStateView;
      return { result, pool, closed, ...tasks, doc: await kase.doc() };
    });

    // Assert: the loop
    expect(outcome.result.status).toBe('closed');
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'pool',
      'dock',
      'serve',
      'closeout',
      'rate',
      'audit',
      'closed',
    ]);
    // Every co-building unit's liaison under the street was offered the need; one claim closed it
    expect([...outcome.pool.candidateUserIds].sort()).toEqual(
      [org.hospitalLiaison.userId, org.schoolLiaison.userId].sort(),
    );
    expect(outcome.closed!.detail).toMatchObject({ reason: 'full', claimants: 1 });
    expect(outcome.dock.candidateUserIds).toEqual([org.hospitalLiaison.userId]);
    expect(outcome.serve.candidateUserIds).toEqual([org.hospitalLiaison.userId]);
    expect(outcome.closeout.candidateUserIds).toEqual([org.communityDispatcher.userId]);
    expect(outcome.audit.candidateUserIds).toEqual([org.streetSecretary.userId]);
    expect(eventsOf(outcome.doc.timeline, 'feedback.rated')[0]?.detail).toMatchObject({ score: 5 });
    // The limits from Monday 09:30 in a quiet week
    const due = (task: typeof outcome.pool, key: string) =>
      deadlineOf(task.deadlines, `${task.id}/${key}`).dueAt!;
    expect(beijingText(due(outcome.pool, 'claim_3d'))).toBe(`${plusDays(monday, 3)} 09:30`);
    expect(beijingText(due(outcome.dock, 'dock_5d'))).toBe(`${plusDays(monday, 7)} 09:30`);
    expect(Date.parse(due(outcome.serve, 'serve_30d')) - outcome.serve.openedAt.getTime()).toBe(
      30 * DAY,
    );
    expect(beijingText(due(outcome.audit, 'audit_10d'))).toBe(`${plusDays(monday, 14)} 09:30`);
    expect(eventsOf(outcome.doc.timeline, 'deadline.missed')).toEqual([]);
    // Mails: the pool to both liaisons, the plan and service to the claimant, the rating request
    expect(await mailsOf(org.hospitalLiaison, SUBJECT.assigned)).toHaveLength(3);
    expect(await mailsOf(org.schoolLiaison, SUBJECT.assigned)).toHaveLength(1);
    expect(await mailsToAddress(contact, '办理结果告知', 1)).toHaveLength(1);
  });

  it('when no unit claims within 3 working days, then the liaisons are reminded the day before, the community secretary is called, and after the 5-day window the street assigns a unit', async () => {
    // Arrange
    const org = await demandOrg();
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const { kase, pool } = await startNeed(queue, org, monday);
      const plan = planDeadline(
        await bed.calendar(),
        {
          within: '3 working days',
          reminders: [{ before: 'P1D' }],
          escalations: [{}, { after: '1 working day' }],
        },
        pool.openedAt.toISOString(),
      );
      await bed.skipTo(Date.parse(plan.dueAt!) + 60_000);
      const [level1] = await kase.waitForEvents('deadline.escalated', 1);
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      const window = planDeadline(
        await bed.calendar(),
        { within: '5 working days', reminders: [], escalations: [] },
        pool.openedAt.toISOString(),
      );
      await bed.skipTo(Date.parse(window.dueAt!) + 60_000);
      const [closed] = await kase.waitForEvents('claim.closed', 1);
      const escalated = await kase.waitForEvents('deadline.escalated', 2);
      const assign = await openedTask(kase, 'assign');
      await claimAndComplete(kase, assign.id, org.streetDispatcher, 'assigned', {
        contactId: org.schoolLiaison.personId,
      });
      const tasks = await deliver(kase, org, org.schoolLiaison, 4);
      const result = (await kase.handle.result()) as CaseStateView;
      const poolDoc = await kase.task(pool.id);
      return { plan, window, level1, reminded, closed, escalated, assign, poolDoc, tasks, result };
    });

    // Assert: reminder Wednesday 10:00 to every candidate, level 1 Thursday 10:00 to the community
    // secretary, level 2 Friday 10:00 to the street secretary; the window ends next Monday 10:00
    const { plan } = outcome;
    expect(beijingText(plan.dueAt!)).toBe(`${plusDays(monday, 3)} 10:00`);
    expectFiredAt(outcome.reminded!.at, plan.reminders[0]!.at);
    expect(beijingText(plan.reminders[0]!.at)).toBe(`${plusDays(monday, 2)} 10:00`);
    for (const liaison of [org.hospitalLiaison, org.schoolLiaison]) {
      expect(await mailsOf(liaison, SUBJECT.reminder)).toHaveLength(1);
    }
    expect(outcome.escalated.map((e) => [e.detail?.level, e.detail?.unitId])).toEqual([
      [1, org.community.id],
      [2, org.street.id],
    ]);
    expectFiredAt(outcome.escalated[0]!.at, plan.escalations[0]!.at);
    expectFiredAt(outcome.escalated[1]!.at, plan.escalations[1]!.at);
    expect(beijingText(plan.escalations[1]!.at)).toBe(`${plusDays(monday, 4)} 10:00`);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    // The window closed unclaimed and the street took over
    expect(beijingText(outcome.window.dueAt!)).toBe(`${plusDays(monday, 7)} 10:00`);
    expectFiredAt(outcome.closed!.at, outcome.window.dueAt!);
    expect(outcome.closed!.detail).toMatchObject({ reason: 'window-ended', claimants: 0 });
    expect(outcome.poolDoc?.status).toBe('unclaimed');
    expect(outcome.assign.candidateUserIds).toEqual([org.streetDispatcher.userId]);
    expect(outcome.tasks.dock.candidateUserIds).toEqual([org.schoolLiaison.userId]);
    expect(outcome.result.status).toBe('closed');
  });

  it('when the claiming unit does not deliver within 30 days, then its own party secretary is called, and 5 working days later the street party committee', async () => {
    // Arrange
    const org = await demandOrg();
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const { kase, pool } = await startNeed(queue, org, monday);
      await kase.claim(pool.id, org.hospitalLiaison);
      const dock = await openedTask(kase, 'dock');
      await claimAndComplete(kase, dock.id, org.hospitalLiaison, 'planned', {
        plan: '义诊',
        startDate: '2030-01-04',
      });
      const serve = await openedTask(kase, 'serve');
      await kase.claim(serve.id, org.hospitalLiaison);
      const plan = planDeadline(
        await bed.calendar(),
        {
          within: 'P30D',
          reminders: [{ before: 'P3D' }],
          escalations: [{}, { after: '5 working days' }],
        },
        serve.openedAt.toISOString(),
      );
      await bed.skipTo(Date.parse(plan.escalations[1]!.at) + 60_000);
      const escalated = await kase.waitForEvents('deadline.escalated', 2);
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      return { serve, plan, escalated, reminded };
    });

    // Assert
    const { plan, escalated } = outcome;
    const serveDue = deadlineOf(outcome.serve.deadlines, `${outcome.serve.id}/serve_30d`);
    expect(serveDue.dueAt).toBe(plan.dueAt);
    expectFiredAt(outcome.reminded!.at, plan.reminders[0]!.at);
    expect(escalated.map((e) => [e.detail?.level, e.detail?.unitId])).toEqual([
      [1, org.hospital.id],
      [2, org.street.id],
    ]);
    escalated.forEach((e, i) => expectFiredAt(e.at, plan.escalations[i]!.at));
    expect(await mailsOf(org.hospitalLiaison, SUBJECT.reminder)).toHaveLength(1);
    const toUnit = await mailsOf(org.hospitalSecretary, SUBJECT.escalated);
    expect(toUnit.map((m) => m.subject)).toEqual([expect.stringContaining('第 1 级督办')]);
    const toStreet = await mailsOf(org.streetSecretary, SUBJECT.escalated);
    expect(toStreet.map((m) => m.subject)).toEqual([expect.stringContaining('第 2 级督办')]);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(0);
  });
});

describe('社区需求闭环响应 measures (接单率, 响应率, 办结率, 按期办结率…)', () => {
  it('when known needs run (shelved unclaimed, served, struck off after 未达要求 and rated unsatisfied, reopened by the audit, claimed late, planned late but served on time, assigned by the street and served late), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: a quiet week; the hospital's liaison claims, the street assigns the school's
    const org = await demandOrg();
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();
    const plan = { plan: '每月义诊', startDate: '2030-01-04' };
    const served = { summary: '义诊完成', served: 30 };

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = () =>
        bed.startCase(queue, shipped(), org.community.id, need(uniqueAddress('c')));
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const claimed = async (kase: RunningCase) => {
        const pool = await openedTask(kase, 'pool');
        await kase.claim(pool.id, org.hospitalLiaison);
        await kase.waitForEvents('claim.closed', 1);
      };
      const step = async (
        kase: RunningCase,
        stepId: string,
        by: SeededPerson,
        outcome: string,
        form: Record<string, unknown>,
        visit = 1,
      ) => {
        const task = await openedTask(kase, stepId, visit);
        // 未达要求, 限期整改 and 暂缓实施 require a comment
        await claimAndComplete(kase, task.id, by, outcome, form, '已说明');
      };
      const rated = async (kase: RunningCase, score: number, visit = 1) => {
        await kase.waitForEvents('step.entered', visit, { stepType: 'feedback' });
        await kase.rate(score);
      };
      /** Plan, service, 销号, rating and audit, each at once. */
      const loop = async (kase: RunningCase, by: SeededPerson, score: number) => {
        await step(kase, 'dock', by, 'planned', plan);
        await step(kase, 'serve', by, 'delivered', served);
        await step(kase, 'closeout', org.communityDispatcher, 'struck_off', { check: '合格' });
        await rated(kase, score);
        await step(kase, 'audit', org.streetSecretary, 'effective', { finding: '有效' });
        return closed(kase);
      };

      // 1. nobody claims, the street shelves it (暂缓实施: in no denominator); 7. the street
      // assigns it to the school; 5. claimed after claim_3d passed
      const shelved = await start();
      const assigned = await start();
      const claimedLate = await start();
      // 2. claimed and served at once, rated 5
      const servedAtOnce = await start();
      await claimed(servedAtOnce);
      const docs = [await loop(servedAtOnce, org.hospitalLiaison, 5)];
      // 3. 未达要求 at the first 销号, served again and struck off; rated 2
      const incomplete = await start();
      await claimed(incomplete);
      await step(incomplete, 'dock', org.hospitalLiaison, 'planned', plan);
      await step(incomplete, 'serve', org.hospitalLiaison, 'delivered', served);
      await step(incomplete, 'closeout', org.communityDispatcher, 'incomplete', {
        check: '未达标',
      });
      await step(incomplete, 'serve', org.hospitalLiaison, 'delivered', served, 2);
      await step(
        incomplete,
        'closeout',
        org.communityDispatcher,
        'struck_off',
        { check: '合格' },
        2,
      );
      await rated(incomplete, 2);
      await step(incomplete, 'audit', org.streetSecretary, 'effective', { finding: '有效' });
      docs.push(await closed(incomplete));
      // 4. struck off and rated 5, reopened by the audit (限期整改), struck off again and rated 4
      const rectified = await start();
      await claimed(rectified);
      await step(rectified, 'dock', org.hospitalLiaison, 'planned', plan);
      await step(rectified, 'serve', org.hospitalLiaison, 'delivered', served);
      await step(rectified, 'closeout', org.communityDispatcher, 'struck_off', { check: '合格' });
      await rated(rectified, 5);
      await step(rectified, 'audit', org.streetSecretary, 'rectify', { finding: '需长效' });
      await step(rectified, 'serve', org.hospitalLiaison, 'delivered', served, 2);
      await step(
        rectified,
        'closeout',
        org.communityDispatcher,
        'struck_off',
        { check: '合格' },
        2,
      );
      await rated(rectified, 4, 2);
      await step(rectified, 'audit', org.streetSecretary, 'effective', { finding: '有效' }, 2);
      docs.push(await closed(rectified));
      // 6. claimed at once, planned after dock_5d passed, served within serve_30d
      const plannedLate = await start();
      await claimed(plannedLate);
      await openedTask(plannedLate, 'dock');

      // Thursday 10:00: claim_3d has passed for the three in the pool
      await bed.skipTo(mondayAt + 3 * DAY + 30 * 60_000);
      await claimedLate.waitForEvents('deadline.escalated', 1, { deadline: 'claim_3d' });
      await claimed(claimedLate);
      docs.push(await loop(claimedLate, org.hospitalLiaison, 5));
      // Next Monday 10:00: the window (5 working days) and dock_5d have passed
      await bed.skipTo(mondayAt + 7 * DAY + 30 * 60_000);
      await plannedLate.waitForEvents('deadline.escalated', 1, { deadline: 'dock_5d' });
      docs.push(await loop(plannedLate, org.hospitalLiaison, 4));
      // The form's contactId is required even to shelve (definitions/closed-loop-demand.yaml)
      await step(shelved, 'assign', org.streetDispatcher, 'shelve', {
        contactId: org.schoolLiaison.personId,
      });
      await step(assigned, 'assign', org.streetDispatcher, 'assigned', {
        contactId: org.schoolLiaison.personId,
      });
      await step(assigned, 'dock', org.schoolLiaison, 'planned', plan);
      await openedTask(assigned, 'serve');
      // 31 days on: serve_30d has passed for the assigned unit, which then serves
      await bed.skipTo(mondayAt + 38 * DAY);
      await assigned.waitForEvents('deadline.escalated', 1, { deadline: 'serve_30d' });
      await step(assigned, 'serve', org.schoolLiaison, 'delivered', served);
      await step(assigned, 'closeout', org.communityDispatcher, 'struck_off', { check: '合格' });
      await rated(assigned, 5);
      await step(assigned, 'audit', org.streetSecretary, 'effective', { finding: '有效' });
      const ordered = [await closed(shelved), ...docs];
      return {
        docs: [...ordered, await closed(assigned)],
        cases: [shelved, servedAtOnce, incomplete, rectified, claimedLate, plannedLate, assigned],
      };
    });

    // Assert: the flags each need carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'cancelled',
      'closed',
      'closed',
      'closed',
      'closed',
      'closed',
      'closed',
    ]);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 0, 0, 0],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 1, 1, 1],
      [0, 1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.ratingInvited, m.rated, m.satisfied, m.escalated, m.overdue]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 1, 0, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1],
    ]);
    // The reopened need keeps its last rating (4), the one after the rectification
    expect(metrics[3]!.ratingScore).toBe(4);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.8333, // 5 claimed of 6 offered (the street's assignment is no 认领)
      responseRate: 0.6667, // 4 claimed before claim_3d passed
      completionRate: 1, // 6 struck off of 6 due (the shelved need is in no denominator)
      resolutionRate: 1, // 验收销号 is 解决; there is no 解释说明 outcome
      onTimeRate: 0.8333, // 5 of 6 within serve_30d; the late claim and late plan do not count
      satisfactionRate: 0.8333, // 5, 4 (after rectification), 5, 4, 5 satisfied; 2 not
      participationRate: 1, // 6 rated of 6 asked
      visitRate: 1, // 6 rated of 6 completed
      disputeResolutionRate: null,
      supervisionRate: 0.5, // 3 escalated of 6
      returnRate: 0, // 未达要求 and 限期整改 are outcomes, not 退单
      overdueRate: 0.5, // 3 overdue of 6 received and not shelved
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = shipped().spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

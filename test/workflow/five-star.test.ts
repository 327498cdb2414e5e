import { figuresOf } from '../../services/metrics';
import { bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import type { RunningCase, SeededOrg, SlaTestBed } from '../support/sla-cases';
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
 * The shipped 五星创建 (definitions/five-star.yaml) on the time-skipping server with the real
 * activities: the community's secretary plans (milestone and completion dates), reaches the
 * milestone, completes and applies; the street's secretary has it improved once, then rates its
 * stars, which are published. Missed: the milestone date passes, reminded 7 days ahead, and the
 * street's secretary is told at the end of that day.
 */
let bed: SlaTestBed;

useSlaTestBed('five-star', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;

const STARS = { leading: true, model: true, harmony: true, unity: true, development: false };

async function plan(kase: RunningCase, org: SeededOrg, midDate: string, dueDate: string) {
  await kase.waitForTask('计划书', kase.taskId('plan'), () => true);
  await claimAndComplete(kase, kase.taskId('plan'), org.communitySecretary, 'planned', {
    target: 5,
    plan: '领航星：书记项目；模范星：党员先锋岗；和谐星：三方联席……责任人各委员',
    midDate,
    dueDate,
  });
}

describe('五星创建 (five-star)', () => {
  it('when the plan, milestone and completion are done and the assessment asks for one improvement, then the stars are rated and published', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const monday = await bed.quietMonday();
    const definition = bed.shipped('five-star.yaml');

    // Act
    const doc = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.community.id, { year: 2027 });
      await plan(kase, org, plusDays(monday, 60), plusDays(monday, 120));
      for (const [step, outcome, form] of [
        ['midterm', 'reached', { progress: '领航星、模范星已达标' }],
        ['complete', 'applied', { summary: '四星达标，发展星未达标' }],
      ] as const) {
        await kase.waitForTask(step, kase.taskId(step), () => true);
        await claimAndComplete(kase, kase.taskId(step), org.communitySecretary, outcome, form);
      }
      await kase.waitForTask('评定验收', kase.taskId('assess'), () => true);
      await claimAndComplete(
        kase,
        kase.taskId('assess'),
        org.streetSecretary,
        'improve',
        { ...STARS, stars: 3, opinion: '和谐星材料不全' },
        '补充三方联席会议记录',
      );
      await kase.waitForTask('整改', kase.taskId('improve'), () => true);
      await claimAndComplete(kase, kase.taskId('improve'), org.communitySecretary, 'improved', {
        result: '已补充',
      });
      await kase.waitForTask('再次验收', kase.taskId('assess', 2), () => true);
      await claimAndComplete(kase, kase.taskId('assess', 2), org.streetSecretary, 'rated', {
        ...STARS,
        stars: 4,
        opinion: '四星级党组织',
      });
      return kase.waitForDoc('closed', (d) => d.status === 'closed');
    });

    // Assert
    expect(stepsEntered(doc.timeline)).toEqual([
      'plan',
      'midterm',
      'complete',
      'assess',
      'improve',
      'assess',
      'wall',
      'closed',
    ]);
    expect(doc.publication?.fields).toEqual([
      { label: '创建年度', value: '2027' },
      { label: '评定星级', value: '4' },
      { label: '验收意见', value: '四星级党组织' },
    ]);
  });

  it('when the mid-term milestone date passes, then the secretary was reminded 7 days ahead and the street’s secretary is told at the end of that day', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const monday = await bed.quietMonday();
    const midDate = plusDays(monday, 11);
    const definition = bed.shipped('five-star.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.community.id, { year: 2027 });
      await plan(kase, org, midDate, plusDays(monday, 60));
      await kase.waitForTask('中期节点', kase.taskId('midterm'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      const dueAt = Date.parse(`${midDate}T00:00:00+08:00`) + DAY;
      await bed.skipTo(dueAt + 60_000);
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1);
      return { dueAt, reminded, escalated };
    });

    // Assert
    expectFiredAt(outcome.reminded!.at, outcome.dueAt - 7 * DAY);
    expectFiredAt(outcome.escalated!.at, outcome.dueAt);
    expect(outcome.escalated!.detail).toMatchObject({
      deadline: 'midterm_due',
      unitId: org.street.id,
    });
    expect(await mailsOf(org.communitySecretary, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
  });
});

describe('五星创建 measures (响应率, 办结率, 按期办结率, 督办率…)', () => {
  it('when known plans run (on time with one improvement, a late milestone then an on-time completion, a late completion, never completed, a plan written late), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: one organisation per year would be the limit; the test starts its cases directly,
    // and gives each its own year anyway
    const org = await bed.seedOrg();
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();
    const definition = bed.shipped('five-star.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = (year: number) => bed.startCase(queue, definition, org.community.id, { year });
      const act = async (
        kase: RunningCase,
        step: string,
        outcome: string,
        form: Record<string, unknown>,
        visit = 1,
        comment?: string,
      ) => {
        const taskId = kase.taskId(step, visit);
        await kase.waitForTask(step, taskId, () => true);
        const by = step === 'assess' ? org.streetSecretary : org.communitySecretary;
        await claimAndComplete(kase, taskId, by, outcome, form, comment);
      };
      const midterm = (kase: RunningCase) => act(kase, 'midterm', 'reached', { progress: '达标' });
      const apply = (kase: RunningCase) => act(kase, 'complete', 'applied', { summary: '自评' });
      const rate = (kase: RunningCase, visit = 1) =>
        act(kase, 'assess', 'rated', { ...STARS, stars: 4, opinion: '四星级' }, visit);
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      // 1. on time throughout, improved once before it is rated
      const onTime = await start(2027);
      await plan(onTime, org, plusDays(monday, 20), plusDays(monday, 40));
      await midterm(onTime);
      await apply(onTime);
      await act(onTime, 'assess', 'improve', { ...STARS, stars: 3, opinion: '材料不全' }, 1, '补');
      await act(onTime, 'improve', 'improved', { result: '已补充' });
      await rate(onTime, 2);
      const done = [await closed(onTime)];
      // 2. the milestone (Thursday) is missed, the completion date is not
      const lateMilestone = await start(2028);
      await plan(lateMilestone, org, plusDays(monday, 3), plusDays(monday, 40));
      // 3. the completion date (Thursday) is missed, then it is applied for and rated
      const lateCompletion = await start(2029);
      await plan(lateCompletion, org, plusDays(monday, 1), plusDays(monday, 3));
      await midterm(lateCompletion);
      // 4. the completion date (Thursday) is missed and nothing more happens
      const neverCompleted = await start(2030);
      await plan(neverCompleted, org, plusDays(monday, 1), plusDays(monday, 3));
      await midterm(neverCompleted);
      // 5. nobody takes the plan up within plan_15d
      const latePlan = await start(2031);
      await latePlan.waitForTask('计划书', latePlan.taskId('plan'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );

      await bed.skipTo(mondayAt + 4 * DAY);
      await lateMilestone.waitForEvents('deadline.escalated', 1, { deadline: 'midterm_due' });
      await lateCompletion.waitForEvents('deadline.escalated', 1, { deadline: 'complete_due' });
      await neverCompleted.waitForEvents('deadline.escalated', 1, { deadline: 'complete_due' });
      await midterm(lateMilestone);
      await apply(lateMilestone);
      await rate(lateMilestone);
      done.push(await closed(lateMilestone));
      await apply(lateCompletion);
      await rate(lateCompletion);
      done.push(await closed(lateCompletion));
      // Three weeks on: 15 working days have passed for the plan nobody wrote
      await bed.skipTo(mondayAt + 21 * DAY + 3600_000);
      await latePlan.waitForEvents('deadline.escalated', 1, { deadline: 'plan_15d' });
      await plan(latePlan, org, plusDays(monday, 25), plusDays(monday, 40));
      await midterm(latePlan);
      await apply(latePlan);
      await rate(latePlan);
      done.push(await neverCompleted.doc(), await closed(latePlan));
      const cases = [onTime, lateMilestone, lateCompletion, neverCompleted, latePlan];
      return { docs: done, cases };
    });

    // Assert: the flags each plan carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'closed',
      'open',
      'closed',
    ]);
    // No `acceptance` is declared: every plan is dispatched when started, and the secretary's
    // first action is the acceptance; the plan written after plan_15d was not taken up in time.
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
      [1, 1, 1, 0, 1],
    ]);
    expect(metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 1, // every organisation's secretary took its plan up
      responseRate: 0.8, // 4 of 5 before plan_15d passed
      completionRate: 0.8, // 4 rated of 5 due (the one past complete_due counts, unfinished)
      resolutionRate: 0.8, // no 解释说明 outcome: the 4 rated are resolved
      onTimeRate: 0.75, // 3 of 4 by complete_due: a missed milestone or plan is no late close
      satisfactionRate: null, // no feedback step: the stars are the assessment, not a rating
      participationRate: null,
      visitRate: 0, // 0 rated of 4 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.8, // 4 escalated (plan, milestone or completion) of 5
      returnRate: 0, // 限期整改 is an outcome, not a task sent back
      overdueRate: 0.8, // 4 with a deadline passed of 5 (the process has no refusal)
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = definition.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

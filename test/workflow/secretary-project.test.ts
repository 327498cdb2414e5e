import { randomBytes } from 'node:crypto';
import type { DefinitionSnapshot } from '../../lang/definition';
import type { Principal } from '../../services/auth';
import { createCaseService } from '../../services/cases';
import { createDefinitionService } from '../../services/definitions';
import { AppError } from '../../services/errors';
import { createScopeResolver } from '../../services/scope';
import type { ScheduledCaseResult } from '../../workflows/scheduled';
import { scheduledCaseId } from '../../workflows/scheduled';
import type { CaseStateView } from '../../workflows/projection';
import type { RunningCase, SeededOrg, SlaTestBed } from '../support/sla-cases';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { figuresOf } from '../../services/metrics';
import {
  deadlineOf,
  eventsOf,
  expectFiredAt,
  mailsOf,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 书记项目 process (definitions/secretary-project.yaml) on the time-skipping server:
 * a community's party secretary claims the year's project and names its deadline, the milestones
 * are due backwards from it (the mid-term one 3 months before, completion on the day), the street
 * secretary reviews on site every 30 days until the work is complete (a loop back to an earlier
 * step, each visit a task of its own), and assesses at the end.
 */
let bed: SlaTestBed;
let project: DefinitionSnapshot;

useSlaTestBed('secretary-project', (ready) => {
  bed = ready;
  project = bed.shipped('secretary-project.yaml');
});

const DAY = 24 * 3600_000;

/** The Beijing calendar date `days` days after `instant`. */
function beijingDate(instant: number, days: number): string {
  return new Date(instant + days * DAY + 8 * 3600_000).toISOString().slice(0, 10);
}

/** The end of a Beijing calendar date, as a deadline `at` a date means. */
function endOf(date: string): number {
  return Date.parse(`${date}T00:00:00+08:00`) + DAY;
}

/** The date `months` calendar months before `date`, on the month's last day when it is shorter. */
function monthsBefore(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const first = new Date(Date.UTC(y, m - 1 - months, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  return new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(d, last)))
    .toISOString()
    .slice(0, 10);
}

/** A project year whose year-end assessment (1 December) comes after `dueDate`. */
function yearAfter(dueDate: string): number {
  const year = Number(dueDate.slice(0, 4));
  return dueDate.slice(5) < '12-01' ? year : year + 1;
}

/** 1 December of `year`, 08:00 Beijing time: when the year-end assessment opens. */
function assessmentOpens(year: number): number {
  return Date.parse(`${year}-12-01T00:00:00Z`);
}

/** Claims the project for the community secretary with `dueDate` and lists the plan. */
async function claimAndPlan(kase: RunningCase, org: SeededOrg, dueDate: string): Promise<void> {
  const claim = kase.taskId('claim');
  await kase.waitForTask('the claim task', claim, () => true);
  await kase.claim(claim, org.communitySecretary);
  await kase.complete(claim, org.communitySecretary, 'claimed', {
    title: '老旧小区加装电梯',
    goal: '年内为 3 个老旧小区加装电梯 6 部',
    dueDate,
  });
  const plan = kase.taskId('plan');
  await kase.waitForTask('the plan task', plan, () => true);
  await kase.claim(plan, org.communitySecretary);
  await kase.complete(plan, org.communitySecretary, 'planned', {
    plan: '3 月完成意见征集，6 月完成设计审批，9 月开工，12 月验收',
  });
}

describe('书记项目 (secretary-project)', () => {
  it('when the milestones are met, then the reviews repeat every 30 days until completion, the project is assessed and published', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const startedAt = await bed.now();
    const dueDate = beijingDate(startedAt, 150);
    const year = yearAfter(dueDate);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, project, org.community.id, { year });
      await claimAndPlan(kase, org, dueDate);
      const midterm = await kase.waitForTask('the mid-term task', kase.taskId('midterm'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      for (const visit of [1, 2]) {
        await bed.skipTo(startedAt + visit * 31 * DAY);
        const review = kase.taskId('review', visit);
        await kase.waitForTask(`site review ${visit}`, review, () => true);
        await kase.claim(review, org.streetSecretary);
        await kase.complete(review, org.streetSecretary, 'on_track', { findings: '进度正常' });
      }
      await kase.claim(kase.taskId('midterm'), org.communitySecretary);
      await kase.complete(kase.taskId('midterm'), org.communitySecretary, 'reached', {
        progress: '设计审批完成',
      });
      const complete = kase.taskId('complete');
      await kase.waitForTask('the completion task', complete, () => true);
      await kase.claim(complete, org.communitySecretary);
      await kase.complete(complete, org.communitySecretary, 'completed', {
        result: '6 部电梯已验收',
      });
      // Finished early, assessed at the year end like every project
      await kase.waitForDoc('the wait for the year end', (d) =>
        d.timeline.some((e) => e.type === 'step.entered' && e.stepId === 'assessment_opens'),
      );
      const beforeYearEnd = await kase.task(kase.taskId('assess'));
      await bed.skipTo(assessmentOpens(year) + 60_000);
      const assess = kase.taskId('assess');
      await kase.waitForTask('the assessment', assess, () => true);
      await kase.claim(assess, org.streetSecretary);
      await kase.complete(assess, org.streetSecretary, 'assessed', { score: 95, grade: '好' });
      const result = (await kase.handle.result()) as CaseStateView;
      const history = await kase.handle.fetchHistory();
      return {
        result,
        midterm,
        doc: await kase.doc(),
        events: history.events?.length ?? 0,
        thirdReview: await kase.task(kase.taskId('review', 3)),
        beforeYearEnd,
      };
    });

    // Assert: milestones scheduled backwards from the deadline (倒排工期)
    expect(outcome.result.status).toBe('closed');
    const midtermDue = deadlineOf(outcome.midterm.deadlines, outcome.midterm.deadlines[0]!.key);
    expect(midtermDue.dueAt).toBe(new Date(endOf(monthsBefore(dueDate, 3))).toISOString());
    // …two site reviews on the 30-day loop, the third withdrawn when the work was complete
    const reviews = eventsOf(outcome.doc.timeline, 'task.completed').filter(
      (e) => e.stepId === 'review',
    );
    expect(reviews).toHaveLength(2);
    expect(outcome.thirdReview?.status ?? 'never opened').toMatch(/cancelled|never opened/);
    expect(eventsOf(outcome.doc.timeline, 'case.published')).toHaveLength(1);
    // …not assessed before 1 December, and the board shows the project, its grade and score
    expect(outcome.beforeYearEnd).toBeNull();
    expect(outcome.doc.publication?.fields).toEqual([
      { label: '项目年度', value: String(year) },
      { label: '项目名称', value: '老旧小区加装电梯' },
      { label: '考核等次', value: '好' },
      { label: '考核得分', value: '95' },
    ]);
    // A year of monthly reviews stays far below Temporal's history limits without continue-as-new.
    expect(outcome.events).toBeLessThan(1000);
  });

  it('when the mid-term milestone is missed, then the secretary is reminded 7 days before and the street secretary is told at the deadline', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const startedAt = await bed.now();
    const dueDate = beijingDate(startedAt, 100);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, project, org.community.id, {
        year: yearAfter(dueDate),
      });
      await claimAndPlan(kase, org, dueDate);
      const midterm = kase.taskId('midterm');
      const task = await kase.waitForTask('the mid-term task', midterm, (t) =>
        t.deadlines.every((dl) => dl.dueAt !== null),
      );
      const due = deadlineOf(task.deadlines, `${midterm}/midterm_due`).dueAt!;
      await bed.skipTo(Date.parse(due) + 60_000);
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'midterm_due',
      });
      return { due, escalated: escalated!, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.due).toBe(new Date(endOf(monthsBefore(dueDate, 3))).toISOString());
    expectFiredAt(outcome.escalated.at, outcome.due);
    expect(outcome.escalated.detail).toMatchObject({ level: 1, unitId: org.street.id });
    const [missed] = eventsOf(outcome.doc.timeline, 'deadline.missed', { deadline: 'midterm_due' });
    expectFiredAt(missed!.at, outcome.due);
    expect(await mailsOf(org.communitySecretary, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
  });

  it('when the project is not finished by the year end, then it is still assessed on 1 December, its open milestones withdrawn, and the board shows its grade and score', async () => {
    // Arrange: a project due on 30 November that nobody finishes
    const org = await bed.seedOrg();
    const startedAt = await bed.now();
    const year = Number(beijingDate(startedAt, 0).slice(0, 4)) + 1;
    const dueDate = `${year}-11-30`;

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, project, org.community.id, { year });
      await claimAndPlan(kase, org, dueDate);
      await kase.waitForTask('the mid-term task', kase.taskId('midterm'), () => true);
      await bed.skipTo(assessmentOpens(year) + 60_000);
      const assess = kase.taskId('assess');
      const opened = await kase.waitForTask('the year-end assessment', assess, () => true);
      await kase.claim(assess, org.streetSecretary);
      await kase.complete(assess, org.streetSecretary, 'assessed', { score: 60, grade: '一般' });
      const doc = await kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      return {
        opened,
        doc,
        midterm: await kase.task(kase.taskId('midterm')),
        complete: await kase.task(kase.taskId('complete')),
      };
    });

    // Assert: the year-end timer ended the work; the milestones never met are withdrawn
    expect(outcome.doc.status).toBe('closed');
    const [yearEnd] = eventsOf(outcome.doc.timeline, 'timer.fired').filter(
      (e) => e.stepId === 'year_end',
    );
    expectFiredAt(yearEnd!.at, assessmentOpens(year));
    expect(outcome.midterm?.status).toBe('cancelled');
    expect(outcome.complete?.status ?? 'never opened').toMatch(/cancelled|never opened/);
    expect(eventsOf(outcome.doc.timeline, 'task.completed').map((e) => e.stepId)).toEqual([
      'claim',
      'plan',
      'assess',
    ]);
    expect(outcome.doc.publication?.fields).toEqual([
      { label: '项目年度', value: String(year) },
      { label: '项目名称', value: '老旧小区加装电梯' },
      { label: '考核等次', value: '一般' },
      { label: '考核得分', value: '60' },
    ]);
  });
});

describe('书记项目的考核指标 (secretary-project rates)', () => {
  it('when projects run on time, miss the mid-term milestone but finish in time, are claimed late, finish after their deadline, or are unfinished at the year end, then each carries its flags and the summed rates are exact, also after a replay', async () => {
    // Arrange: five projects of one community, all assessed on 1 December of one year
    const org = await bed.seedOrg();
    const startedAt = await bed.now();
    const year = yearAfter(beijingDate(startedAt, 160));
    const dueAt = (task: { deadlines: Parameters<typeof deadlineOf>[0] }, key: string) =>
      Date.parse(task.deadlines.find((d) => d.key.endsWith(`/${key}`))!.dueAt!);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const start = () => bed.startCase(queue, project, org.community.id, { year });
      const opened = (kase: RunningCase, stepId: string) =>
        kase.waitForTask(`the ${stepId} task`, kase.taskId(stepId), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const done = async (kase: RunningCase, stepId: string, outcome: string, form: object) => {
        await opened(kase, stepId);
        await kase.claim(kase.taskId(stepId), org.communitySecretary);
        await kase.complete(kase.taskId(stepId), org.communitySecretary, outcome, { ...form });
      };
      const midterm = (kase: RunningCase) =>
        done(kase, 'midterm', 'reached', { progress: '设计审批完成' });
      const completed = (kase: RunningCase) =>
        done(kase, 'complete', 'completed', { result: '已验收' });

      // 1. claimed, planned, both milestones met at once
      const onTime = await start();
      await claimAndPlan(onTime, org, beijingDate(startedAt, 150));
      await midterm(onTime);
      await completed(onTime);
      // 2. the mid-term milestone (3 months before a deadline 100 days on) missed, then both met
      const midtermLate = await start();
      await claimAndPlan(midtermLate, org, beijingDate(startedAt, 100));
      const midtermDue = dueAt(await opened(midtermLate, 'midterm'), 'midterm_due');
      // 3. claimed only after claim_10d passed
      const claimedLate = await start();
      const claimDue = dueAt(await opened(claimedLate, 'claim'), 'claim_10d');
      // 4. completed only after its completion deadline (100 days on) passed
      const finishedLate = await start();
      await claimAndPlan(finishedLate, org, beijingDate(startedAt, 100));
      await midterm(finishedLate);
      const completeDue = dueAt(await opened(finishedLate, 'complete'), 'complete_due');
      // 5. due on 30 November, unfinished when the year-end assessment opens on 1 December
      const unfinished = await start();
      await claimAndPlan(unfinished, org, `${year}-11-30`);
      await midterm(unfinished);

      await bed.skipTo(midtermDue + 60_000);
      await midtermLate.waitForEvents('deadline.escalated', 1, { deadline: 'midterm_due' });
      await midterm(midtermLate);
      await completed(midtermLate);
      await bed.skipTo(claimDue + 60_000);
      await claimedLate.waitForEvents('deadline.escalated', 1, { deadline: 'claim_10d' });
      await claimAndPlan(claimedLate, org, beijingDate(startedAt, 150));
      await midterm(claimedLate);
      await completed(claimedLate);
      await bed.skipTo(completeDue + 60_000);
      await finishedLate.waitForEvents('deadline.escalated', 1, { deadline: 'complete_due' });
      await completed(finishedLate);

      // The year-end assessment of all five
      await bed.skipTo(assessmentOpens(year) + 60_000);
      const cases = [onTime, midtermLate, claimedLate, finishedLate, unfinished];
      const docs = [];
      for (const kase of cases) {
        const assess = kase.taskId('assess');
        await kase.waitForTask('the assessment', assess, () => true);
        await kase.claim(assess, org.streetSecretary);
        await kase.complete(assess, org.streetSecretary, 'assessed', { score: 80, grade: '较好' });
        docs.push(await kase.waitForDoc('the project closed', (d) => d.status !== 'open'));
      }
      return { docs, cases };
    });

    // Assert: the flags each project carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'closed',
      'closed',
      'closed',
    ]);
    expect(metrics.map((m) => [m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 0],
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1], // a missed mid-term milestone does not make the project late
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0], // assessed, closed, but never 已完工: not 办结
    ]);
    expect(metrics.map((m) => [m.escalated, m.overdue, m.excluded, m.ratingInvited])).toEqual([
      [0, 0, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
    ]);
    // The rates, summed as the metrics service sums them. A 书记项目 has no 不予受理 (a refused
    // third project is a 409 at the API, no case), no 解释说明 outcome and no rating step, so
    // excluded, explained and the rating figures cannot be reached by any path.
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 1, // every project claimed (认领)
      responseRate: 0.8, // 4 claimed before claim_10d passed
      completionRate: 0.8, // 4 已完工 of 5 due (the unfinished one is past complete_due)
      resolutionRate: 0.8, // 已完工 is 解决, nothing is 解释说明
      onTimeRate: 0.75, // 3 of 4 completed by complete_due; the late mid-term one counts as on time
      satisfactionRate: null,
      participationRate: null,
      visitRate: 0, // 0 rated of 4 completed: the formula has a denominator, no rating can come
      disputeResolutionRate: null,
      supervisionRate: 0.8, // 4 escalated (mid-term, claim, complete_due of two) of 5
      returnRate: 0,
      overdueRate: 0.8,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, project.spec.measures)).toEqual(metrics[i]);
    }
  });
});

describe('书记项目 年初 round (the yearly schedule)', () => {
  it('when the round fires on 5 January, then every community and street gets the year’s first project with that year, a secretary may start a second by hand and a third is refused', async () => {
    // Arrange: the shipped schedule, kept to this test's county (the database is the file's)
    const org = await bed.seedOrg();
    const secondCommunity = await bed.addUnit('community', '和谐社区', org.street);
    const round = bed.definition({
      ...project.spec,
      key: `secretary-project-${randomBytes(3).toString('hex')}`,
      schedule: { ...project.spec.schedule, under: org.county.id },
    });
    expect(round.spec.schedule).toMatchObject({
      every: 'year',
      month: 1,
      day: 5,
      unitsOfType: ['community', 'street'],
    });
    await bed.publish(round);
    const fireAt = Date.parse('2027-01-05T01:00:00Z'); // 09:00 Beijing time
    await bed.skipTo(fireAt);
    const fireId = `schedule-${round.key}-2027-01-05T01:00:00Z`;
    const secretary: Principal = {
      kind: 'user',
      id: org.communitySecretary.userId,
      roles: ['staff'],
      unitIds: [org.community.id],
    };

    // Act
    const outcome = await bed.withWorker(async (taskQueue) => {
      const fire = (await bed.env.client.workflow.execute('scheduledCaseWorkflow', {
        taskQueue,
        workflowId: fireId,
        args: [{ definitionKey: round.key }],
      })) as ScheduledCaseResult;
      await waitForCount({ definitionKey: round.key }, 3);
      const cases = createCaseService({
        models: bed.db.models,
        temporal: bed.env.client,
        callTimeoutMs: 30_000,
        taskQueue,
        definitions: createDefinitionService(bed.db.models, new Set()),
        scope: createScopeResolver(bed.db.models),
        // In March of the project year: a start without a year takes this one
        clock: () => new Date('2027-03-02T02:00:00Z'),
      });
      const start = (key: string, data: Record<string, unknown>) =>
        cases.startCase(secretary, key, {
          definitionKey: round.key,
          unitId: org.community.id,
          data,
        });
      const second = await start('second-project', {});
      await waitForCount({ definitionKey: round.key, unitId: org.community.id }, 2);
      const third = await start('third-project', { year: 2027 }).then(
        () => null,
        (err: unknown) => err,
      );
      const nextYear = await start('next-year-project', { year: 2028 });
      return { fire, second, third, nextYear };
    });
    const docs = await bed.db.models.Case.find(
      { definitionKey: round.key },
      { unitId: 1, data: 1, channel: 1, createdBy: 1 },
    ).lean();

    // Assert: one case per community and street, the year of the fire, named after fire and unit
    const communities = [org.community.id, secondCommunity.id].sort();
    expect(outcome.fire.units?.map((u) => u.unitId)).toEqual([...communities, org.street.id]);
    for (const unit of outcome.fire.units!) {
      expect(unit.caseId).toBe(scheduledCaseId(`${fireId}:${unit.unitId}`));
    }
    const scheduled = docs.filter((d) => d.channel === 'schedule');
    expect(scheduled.map((d): unknown[] => [d.unitId, d.data])).toEqual(
      expect.arrayContaining([
        [org.community.id, { year: 2027 }],
        [secondCommunity.id, { year: 2027 }],
        [org.street.id, { year: 2027 }],
      ]),
    );
    expect(scheduled).toHaveLength(3);
    expect(scheduled.every((d) => d.createdBy?.id === 'schedule')).toBe(true);
    // …the secretary's second project of 2027 (no year given: this year), and no third
    expect(outcome.second.created).toBe(true);
    const second = docs.find((d) => d._id === outcome.second.case.id);
    expect(second?.data).toEqual({ year: 2027 });
    expect(outcome.third).toBeInstanceOf(AppError);
    expect((outcome.third as AppError).kind).toBe('conflict');
    expect((outcome.third as AppError).message).toContain('每位书记每年 1—2 个书记项目');
    expect((outcome.third as AppError).details).toEqual([
      { path: 'data.year', message: 'at most 2 cases per unit for the same value' },
    ]);
    // A new year starts a new count
    expect(outcome.nextYear.created).toBe(true);
  });
});

async function waitForCount(filter: Record<string, unknown>, count: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await bed.db.models.Case.countDocuments(filter)) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`fewer than ${count} cases ${JSON.stringify(filter)} after 60 s`);
}

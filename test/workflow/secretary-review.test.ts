import { figuresOf } from '../../services/metrics';
import { createEvaluationService } from '../../services/evaluations';
import { createScopeResolver } from '../../services/scope';
import { BEIJING_OFFSET_MS } from '../../lang/beijing';
import { beijingText, bj } from '../support/beijing';
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
 * The shipped 抓党建述职评议 (definitions/secretary-review-round.yaml and secretary-review.yaml) on
 * the time-skipping server with the real activities: the round opens one case per community; the
 * community's secretary reports, the street's secretary grades it (once sending it back to be
 * redone) and the result is published. Missed: no report in 10 working days goes to the street's
 * secretary, after a reminder 2 working days before.
 */
let bed: SlaTestBed;

useSlaTestBed('secretary-review', (ready) => {
  bed = ready;
});

async function startRound(queue: string, org: SeededOrg): Promise<RunningCase> {
  const round = await bed.shippedWith('secretary-review-round.yaml', 'secretary-review.yaml');
  const kase = await bed.startCase(queue, round, org.street.id);
  const [started] = await kase.waitForEvents('subprocess.started', 1);
  return bed.childCase(String(started!.detail?.caseId));
}

describe('抓党建述职评议 (secretary-review-round → secretary-review)', () => {
  it('when the secretary reports, is sent back once and then graded, then the grade and score are published', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const monday = await bed.quietMonday();

    // Act
    const doc = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:00`));
      const review = await startRound(queue, org);
      await review.waitForTask('述职', review.taskId('report'), () => true);
      await claimAndComplete(review, review.taskId('report'), org.communitySecretary, 'submitted', {
        report: '全年开展主题党日 12 次，书记项目老旧小区加装电梯完成 6 部。',
        project: '老旧小区加装电梯',
      });
      const grade = {
        satisfaction: 4.6,
        projectGrade: '好',
        grade: '好',
        score: 93,
        opinion: '述职全面，成效明显。',
      };
      await review.waitForTask('评议', review.taskId('review'), () => true);
      await claimAndComplete(
        review,
        review.taskId('review'),
        org.streetSecretary,
        'redo',
        { ...grade, grade: '一般', score: 70 },
        '缺少群众满意度情况',
      );
      await review.waitForTask('重新述职', review.taskId('redo'), () => true);
      await claimAndComplete(review, review.taskId('redo'), org.communitySecretary, 'resubmitted', {
        report: '补充：群众满意度测评 4.6 分。',
      });
      await review.waitForTask('再次评议', review.taskId('review', 2), () => true);
      await claimAndComplete(
        review,
        review.taskId('review', 2),
        org.streetSecretary,
        'graded',
        grade,
      );
      return review.waitForDoc('closed', (d) => d.status === 'closed');
    });

    // Assert
    expect(stepsEntered(doc.timeline)).toEqual([
      'report',
      'records',
      'review',
      'redo',
      'review',
      'wall',
      'closed',
    ]);
    expect(doc.publication?.fields).toEqual([
      { label: '书记项目名称', value: '老旧小区加装电梯' },
      { label: '评议等次', value: '好' },
      { label: '评议得分', value: '93' },
    ]);
  });

  it('when no report comes within 10 working days, then the secretary is reminded 2 working days before and the street’s secretary is told', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const review = await startRound(queue, org);
      const task = await review.waitForTask('述职', review.taskId('report'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${plusDays(monday, 15)} 10:00`));
      const [escalated] = await review.waitForEvents('deadline.escalated', 1);
      return { task, escalated };
    });

    // Assert: 10 working days from Monday 09:30 is the Monday two weeks on
    expect(beijingText(outcome.task.dueAt!)).toBe(`${plusDays(monday, 14)} 09:30`);
    expectFiredAt(outcome.escalated!.at, outcome.task.dueAt!.getTime());
    expect(outcome.escalated!.detail?.unitId).toBe(org.street.id);
    expect(await mailsOf(org.communitySecretary, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
  });
});

const DAY = 24 * 3600_000;

describe('抓党建述职评议 reads the 评单 result and the secretary project (lookup secretary-record)', () => {
  it('when the community’s half-year 评单 round has closed and its secretary project of the year was graded, then the review opens prefilled with the round’s score and the project’s grade, and the lookup keeps their ids and figures', async () => {
    // Arrange: the year reviewed is last year; a co-building unit whose liaison scores the orders
    const org = await bed.seedOrg();
    const { Unit, Post, Case } = bed.db.models;
    const now = await bed.now();
    const year = new Date(now + BEIJING_OFFSET_MS).getUTCFullYear() - 1;
    const cobuilding = `${org.street.id}-cb`;
    await Unit.create({
      _id: cobuilding,
      name: '县医院',
      type: 'cobuilding',
      parentId: org.street.id,
      updatedAt: new Date(now),
    });
    await Post.create({
      _id: `${cobuilding}:liaison:${org.gridWorker2.personId}`,
      unitId: cobuilding,
      role: 'liaison',
      personId: org.gridWorker2.personId,
    });
    // Two orders closed in the second half of the year: one of the grid (rated 5 by its
    // requester), one of the community itself
    const order = (id: string, unitId: string, closedOn: string, rating: number | null) => ({
      _id: id,
      revision: 5,
      status: 'closed',
      definitionKey: 'order-service',
      definitionVersion: 1,
      definitionName: '订单服务',
      data: {},
      createdBy: { kind: 'user', id: 'usr_resident' },
      unitId,
      channel: 'api',
      requestHash: 'h',
      createdAt: new Date(Date.parse(`${closedOn}T02:00:00Z`) - DAY),
      updatedAt: new Date(now),
      closedAt: new Date(`${closedOn}T02:00:00Z`),
      rating:
        rating === null ? null : { score: rating, comment: null, at: new Date(now).toISOString() },
    });
    const tag = org.street.id;
    await Case.create([
      order(`${tag}-o1`, org.grid.id, `${year}-09-15`, 5),
      order(`${tag}-o2`, org.community.id, `${year}-10-20`, null),
    ]);
    const roundDefinition = bed.shipped('evaluation-round.yaml');
    const project = bed.shipped('secretary-project.yaml');
    await bed.publish(project);
    const review = bed.shipped('secretary-review.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      // The street's 评单 round of the second half of the year: the liaison scores both orders
      const round = await bed.startCase(queue, roundDefinition, org.street.id, {
        periodFrom: `${year}-07-01`,
        periodTo: `${year}-12-31`,
      });
      await round.waitForEvents('evaluation.opened', 1);
      const evaluations = createEvaluationService({
        models: bed.db.models,
        temporal: bed.env.client,
        callTimeoutMs: 10_000,
        scope: createScopeResolver(bed.db.models),
      });
      await evaluations.submitScores(
        { kind: 'user', id: org.gridWorker2.userId, roles: ['staff'], unitIds: [] },
        round.caseId,
        {
          group: 'units',
          scores: [
            { item: `${tag}-o1`, values: { quality: 4, duration: 4, satisfaction: 4 } },
            { item: `${tag}-o2`, values: { quality: 3, duration: 2, satisfaction: 4 } },
          ],
        },
        undefined,
      );
      await bed.skipTo(now + 30 * DAY);
      await round.waitForEvents('evaluation.closed', 1);
      const meeting = round.taskId('meeting');
      await round.waitForTask('the evaluation meeting', meeting, () => true);
      await claimAndComplete(round, meeting, org.streetSecretary, 'reported', { summary: '通报' });
      // The community's secretary project of that year, assessed 较好 at the year end (past)
      const projectCase = await bed.startCase(queue, project, org.community.id, { year });
      await projectCase.waitForTask('认领', projectCase.taskId('claim'), () => true);
      await claimAndComplete(
        projectCase,
        projectCase.taskId('claim'),
        org.communitySecretary,
        'claimed',
        {
          title: '老旧小区加装电梯',
          goal: '加装电梯 6 部',
          dueDate: `${year}-11-30`,
        },
      );
      await projectCase.waitForTask('计划', projectCase.taskId('plan'), () => true);
      await claimAndComplete(
        projectCase,
        projectCase.taskId('plan'),
        org.communitySecretary,
        'planned',
        {
          plan: '倒排工期',
        },
      );
      await projectCase.waitForTask('年底考核', projectCase.taskId('assess'), () => true);
      await claimAndComplete(
        projectCase,
        projectCase.taskId('assess'),
        org.streetSecretary,
        'assessed',
        {
          score: 85,
          grade: '较好',
        },
      );
      await projectCase.waitForDoc('the project closed', (d) => d.status === 'closed');
      // The review of that year, opened on 10 January after it
      const kase = await bed.startCase(queue, review, org.community.id, {
        opened: `${year + 1}-01-10`,
      });
      await kase.waitForTask('述职', kase.taskId('report'), () => true);
      await claimAndComplete(kase, kase.taskId('report'), org.communitySecretary, 'submitted', {
        report: '全年开展主题党日 12 次。',
      });
      const task = await kase.waitForTask('评议', kase.taskId('review'), () => true);
      const [read] = await kase.waitForEvents('lookup.read', 1);
      // What the lookup left in steps.records, as its activity reads it for the same case
      const record = await bed.activities().readSecretaryRecord({
        caseId: kase.caseId,
        caseUnitId: org.community.id,
        unitId: null,
        year,
      });
      return { task, read, record, roundId: round.caseId, projectId: projectCase.caseId };
    });

    // Assert: the community's round score (o1: residents 5 ×35 + units 4 ×20 over 55 → 4.64; o2:
    // units 3; mean 3.82), its orders and the scores they got (the rating and two liaison scores)
    expect(outcome.task.prefill).toEqual({ satisfaction: 3.82, projectGrade: '较好' });
    expect(outcome.read!.detail).toEqual({
      source: 'secretary-record',
      unit: org.community.id,
      period: year,
      round: outcome.roundId,
      project: outcome.projectId,
      missing: '',
    });
    expect(outcome.record).toEqual({
      refused: false,
      result: {
        status: 'read',
        source: 'secretary-record',
        unit: org.community.id,
        period: year,
        round: outcome.roundId,
        roundFrom: `${year}-07-01`,
        roundTo: `${year}-12-31`,
        satisfaction: 3.82,
        orders: 2,
        ratedOrders: 2,
        ratings: 3,
        project: outcome.projectId,
        projectYear: year,
        projectStatus: 'closed',
        projectGrade: '较好',
        projectScore: 85,
        missing: [],
      },
    });
    // Ids and figures only: no name reaches the case
    expect(JSON.stringify(outcome.record)).not.toMatch(/陈书记|刘书记|赵网格|老旧小区/);
  });

  it('when the community has neither a closed 评单 round nor a secretary project, then the review opens with nothing prefilled and the lookup names both as missing', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const review = bed.shipped('secretary-review.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, review, org.community.id, { opened: '2027-01-10' });
      await kase.waitForTask('述职', kase.taskId('report'), () => true);
      await claimAndComplete(kase, kase.taskId('report'), org.communitySecretary, 'submitted', {
        report: '全年开展主题党日 12 次。',
      });
      const task = await kase.waitForTask('评议', kase.taskId('review'), () => true);
      const [read] = await kase.waitForEvents('lookup.read', 1);
      const record = await bed.activities().readSecretaryRecord({
        caseId: kase.caseId,
        caseUnitId: org.community.id,
        unitId: null,
        year: 2026,
      });
      // The street above the case's community is not the case's to read
      const above = await bed.activities().readSecretaryRecord({
        caseId: kase.caseId,
        caseUnitId: org.community.id,
        unitId: org.street.id,
        year: null,
      });
      return { task, read, record, above };
    });

    // Assert: nothing made up: the fields stay empty, the lookup says what it did not find
    expect(outcome.task.prefill ?? null).toBeNull();
    expect(outcome.read!.detail).toEqual({
      source: 'secretary-record',
      unit: org.community.id,
      period: 2026,
      round: '',
      project: '',
      missing: 'evaluation,project',
    });
    expect(outcome.record).toMatchObject({
      refused: false,
      result: {
        round: null,
        satisfaction: null,
        orders: null,
        ratings: null,
        project: null,
        projectGrade: null,
        projectScore: null,
        missing: ['evaluation', 'project'],
      },
    });
    expect(outcome.above).toEqual({ refused: true, reason: 'unit' });
  });
});

describe('抓党建述职评议 measures (响应率, 办结率, 按期办结率, 督办率…)', () => {
  it('when known reviews run (reported and graded at once, reported after report_10d, redone after redo_5d then graded on time, graded after review_10d, never graded) and a round, then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: the county's secretary, whom a late review is escalated to
    const org = await bed.seedOrg();
    await bed.addPerson('county-secretary', '县委书记', [[org.county, 'secretary']]);
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:00`).getTime();
    const round = await bed.shippedWith('secretary-review-round.yaml', 'secretary-review.yaml');
    const definition = bed.shipped('secretary-review.yaml');
    const DAY = 24 * 3600_000;
    const grade = { satisfaction: 4.5, projectGrade: '好', grade: '好', score: 90, opinion: '好' };

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = () => bed.startCase(queue, definition, org.community.id, { opened: monday });
      const act = async (
        kase: RunningCase,
        step: string,
        outcome: string,
        form: Record<string, unknown>,
        options: { visit?: number; comment?: string } = {},
      ) => {
        const taskId = kase.taskId(step, options.visit);
        await kase.waitForTask(step, taskId, () => true);
        const by = step === 'review' ? org.streetSecretary : org.communitySecretary;
        await claimAndComplete(kase, taskId, by, outcome, form, options.comment);
      };
      const report = (kase: RunningCase) =>
        act(kase, 'report', 'submitted', { report: '全年开展主题党日 12 次。' });
      const graded = (kase: RunningCase, visit = 1) =>
        act(kase, 'review', 'graded', grade, { visit });
      const planned = (kase: RunningCase, step: string) =>
        kase.waitForTask(step, kase.taskId(step), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      // The round opens the community's review, reported and graded at once
      const roundCase = await bed.startCase(queue, round, org.street.id);
      const [started] = await roundCase.waitForEvents('subprocess.started', 1);
      const child = bed.childCase(String(started!.detail?.caseId));
      await report(child);
      await graded(child);
      await closed(child);
      const roundDoc = await closed(roundCase);
      const cases = [await start(), await start(), await start(), await start(), await start()];
      const [onTime, lateReport, redone, lateGrade, ungraded] = cases as [
        RunningCase,
        RunningCase,
        RunningCase,
        RunningCase,
        RunningCase,
      ];
      // 1. reported and graded at once
      await report(onTime);
      await graded(onTime);
      // 2. reported after report_10d
      await planned(lateReport, 'report');
      // 3. sent back to be redone, redone after redo_5d
      await report(redone);
      await act(redone, 'review', 'redo', { ...grade, grade: '一般' }, { comment: '缺满意度' });
      await planned(redone, 'redo');
      // 4. graded after review_10d; 5. never graded
      for (const kase of [lateGrade, ungraded]) {
        await report(kase);
        await planned(kase, 'review');
      }

      // A week on: 5 working days have passed for the redo
      await bed.skipTo(mondayAt + 7 * DAY + 3600_000);
      await redone.waitForEvents('deadline.escalated', 1, { deadline: 'redo_5d' });
      await act(redone, 'redo', 'resubmitted', { report: '补充满意度测评。' });
      await graded(redone, 2);
      // Two weeks on: 10 working days have passed for the report and the reviews
      await bed.skipTo(mondayAt + 14 * DAY + 3600_000);
      await lateReport.waitForEvents('deadline.escalated', 1, { deadline: 'report_10d' });
      await lateGrade.waitForEvents('deadline.escalated', 1, { deadline: 'review_10d' });
      await ungraded.waitForEvents('deadline.escalated', 1, { deadline: 'review_10d' });
      await report(lateReport);
      await graded(lateReport);
      await graded(lateGrade);
      const docs = [];
      for (const kase of cases.slice(0, 4)) docs.push(await closed(kase));
      docs.push(await ungraded.doc());
      return { docs, cases, roundDoc, roundCase };
    });

    // Assert: the flags each review carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'closed',
      'closed',
      'open',
    ]);
    // The community secretary's report is the acceptance, report_10d its response clock.
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
    ]);
    // The late report and the late redo are intermediate: review_10d (each review's own) is the
    // 办结时限, so both closed on time.
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue, m.returnedCase]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 1, 1, 0],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 1, // every secretary reported
      responseRate: 0.8, // 4 of 5 before report_10d
      completionRate: 0.8, // 4 graded of 5 due (the ungraded one is past review_10d)
      resolutionRate: 0.8, // no 解释说明 outcome: the 4 graded are resolved
      onTimeRate: 0.75, // 3 of 4 graded within review_10d
      satisfactionRate: null, // no feedback step: 群众满意度 is a form field of the review
      participationRate: null,
      visitRate: 0, // 0 rated of 4 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.8, // 4 escalated of 5
      returnRate: 0, // 重新述职 is an outcome, not a task sent back
      overdueRate: 0.8, // 4 with a deadline passed of 5 (the process has no refusal)
    });
    // The round (`acceptance: []`): closed `closed` once its reviews ended, so completed and
    // resolved; nobody takes a round on, so it is never dispatched (in no 接单率 denominator).
    const roundFlags = flagsOf(outcome.roundDoc);
    expect(roundFlags).toMatchObject({
      dispatched: 0,
      accepted: 0,
      due: 1,
      completed: 1,
      resolved: 1,
      completedOnTime: 1,
      overdue: 0,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = definition.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
    expect(await replayedFlags(bed, outcome.roundCase, round.spec.measures)).toEqual(roundFlags);
  });
});

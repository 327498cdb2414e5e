import { figuresOf } from '../../services/metrics';
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
        satisfaction: 92.5,
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
        report: '补充：群众满意度测评 92.5 分。',
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
    const grade = { satisfaction: 90, projectGrade: '好', grade: '好', score: 90, opinion: '好' };

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

import { beijingText, bj } from '../support/beijing';
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

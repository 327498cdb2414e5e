import { bj } from '../support/beijing';
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

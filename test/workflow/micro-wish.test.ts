import { CASE_UPDATES } from '../../common/case';
import { figuresOf } from '../../services/metrics';
import type { CaseStateView } from '../../workflows/projection';
import { beijingText, bj } from '../support/beijing';
import { uniqueAddress } from '../support/harness';
import type { CaseDoc, SlaTestBed } from '../support/sla-cases';
import {
  actor,
  eventsOf,
  expectFiredAt,
  mailsOf,
  SUBJECT,
  useSlaTestBed,
  stepsEntered,
} from '../support/sla-cases';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';

/**
 * The shipped 微心愿 process (definitions/micro-wish.yaml): the community lists a resident's wish,
 * a reporting party member claims it (one to one), fulfils it, the result is published with the
 * resident's name masked and rated; a wish nobody claims within 10 working days is escalated to
 * the community party secretary.
 */
let bed: SlaTestBed;

useSlaTestBed('micro-wish', (ready) => {
  bed = ready;
});

/** The process under test, as shipped (definitions/micro-wish.yaml). */
const shipped = () => bed.shipped('micro-wish.yaml');

const DAY = 24 * 3600_000;

const wish = {
  wish: '想要一台收音机听秦腔',
  category: '陪伴关爱',
  group: '空巢老人',
  residentName: '王秀兰',
};

describe('微心愿认领 (micro-wish)', () => {
  it('when a listed wish is claimed by a reporting party member, then the member fulfils it, the wall shows it masked and the resident rates it', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const member = await bed.addPerson('member', '高党员', [[org.community, 'party-member']]);
    const other = await bed.addPerson('member-2', '罗党员', [[org.community, 'party-member']]);
    const contactEmail = uniqueAddress('wisher');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.grid.id, {
        ...wish,
        contactEmail,
      });
      const review = kase.taskId('review');
      await kase.waitForTask('the review', review, () => true);
      await kase.claim(review, dispatcher);
      await kase.complete(review, dispatcher, 'listed');
      const pool = kase.taskId('pool');
      const offered = await kase.waitForTask('the wish list pool', pool, () => true);
      await kase.claim(pool, member);
      const fulfil = kase.taskId('fulfil');
      const task = await kase.waitForTask('the fulfilment', fulfil, () => true);
      await kase.claim(fulfil, member);
      await kase.complete(fulfil, member, 'fulfilled', { summary: '已送上收音机并调好频道' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(5);
      const result = (await kase.handle.result()) as CaseStateView;
      const stored = (await bed.db.models.Case.findById(kase.caseId).lean()) as CaseDoc | null;
      return { offered, task, result, doc: await kase.doc(), stored };
    });

    // Assert: offered to both members; the first claim fills the one place
    expect(outcome.offered.candidates.map((c) => c.personId).sort()).toEqual(
      [member.personId, other.personId].sort(),
    );
    expect(outcome.task.candidates.map((c) => c.personId)).toEqual([member.personId]);
    expect(outcome.result.status).toBe('closed');
    const timeline = outcome.doc.timeline;
    expect(stepsEntered(timeline)).toEqual([
      'review',
      'wish_list',
      'pool',
      'fulfil',
      'wall',
      'rate',
      'closed',
    ]);
    expect(eventsOf(timeline, 'claim.closed')[0]?.detail).toMatchObject({
      claimants: 1,
      reason: 'full',
    });
    expect(eventsOf(timeline, 'feedback.rated')[0]?.detail).toEqual({ score: 5 });
    const shown = outcome.stored?.publication;
    expect(shown?.title).toBe('微心愿圆梦公示');
    expect(shown?.fields.find((f) => f.label === '心愿内容')?.value).toBe(wish.wish);
    const name = shown?.fields.find((f) => f.label === '许愿人')?.value;
    expect(name).not.toBe(wish.residentName);
    expect(name?.startsWith('王')).toBe(true);
    // Mails: the pool to both members, the fulfilment to the claimant, the result to the resident
    expect(await mailsOf(member, SUBJECT.assigned)).toHaveLength(2);
    expect(await mailsOf(other, SUBJECT.assigned)).toHaveLength(1);
    const [invitation] = await mailsOf({ ...member, email: contactEmail });
    expect(invitation?.text).toContain('心愿已实现');
  });

  it('when no party member claims a wish within 10 working days, then the members are reminded the day before and the community secretary is escalated to', async () => {
    // Arrange: a quiet stretch; the wish is listed on Monday at 10:00
    const org = await bed.seedOrg();
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const member = await bed.addPerson('member', '高党员', [[org.community, 'party-member']]);
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 10:00`).getTime();
    const sunday = beijingText(mondayAt + 13 * DAY).slice(0, 10);
    const dueDay = beijingText(mondayAt + 14 * DAY).slice(0, 10);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:55`));
      const kase = await bed.startCase(queue, shipped(), org.grid.id, wish);
      const review = kase.taskId('review');
      await kase.waitForTask('the review', review, () => true);
      await bed.skipTo(mondayAt);
      await kase.claim(review, dispatcher);
      await kase.complete(review, dispatcher, 'listed');
      const pool = kase.taskId('pool');
      const opened = await kase.waitForTask('the pool to plan its deadline', pool, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${dueDay} 10:01`));
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      const doc = await kase.doc();
      return { kase, opened, escalated, reminded, doc };
    });

    // Assert
    const due = outcome.opened.deadlines.find((d) => d.key.endsWith('/first_claim'))!;
    expect(beijingText(due.dueAt!)).toBe(`${dueDay} 10:00`);
    expectFiredAt(outcome.reminded!.at, bj(`${sunday} 10:00`).getTime());
    expectFiredAt(outcome.escalated!.at, bj(`${dueDay} 10:00`).getTime());
    expect(outcome.escalated!.detail).toMatchObject({
      deadline: 'first_claim',
      level: 1,
      unitId: org.community.id,
    });
    expect(await mailsOf(member, SUBJECT.reminder)).toHaveLength(1);
    const [toSecretary] = await mailsOf(org.communitySecretary, SUBJECT.escalated);
    expect(toSecretary?.subject).toContain('第 1 级督办');
    expect(toSecretary?.text).toContain(org.community.name);
    const outbox = await bed.db.models.Outbox.find({
      caseId: outcome.kase.caseId,
      template: 'task-escalated',
    }).lean();
    expect(outbox.map((m) => m.to)).toEqual([org.communitySecretary.email]);
    // The quarter's window is still open: the pool waits on, no one was assigned
    expect(eventsOf(outcome.doc.timeline, 'claim.closed')).toHaveLength(0);
  });
});

describe('微心愿认领 measures (接单率, 响应率, 办结率, 解决率…)', () => {
  it('when known wishes run (declined, fulfilled, claimed late but fulfilled on time, rated unsatisfied, unclaimed for the quarter and withdrawn), then every declared rate comes out exactly, also after a replay', async () => {
    // Arrange: a quiet week; one reporting party member claims every wish
    const org = await bed.seedOrg();
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const member = await bed.addPerson('member', '高党员', [[org.community, 'party-member']]);
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();

    // Act
    type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
    const cases: Kase[] = []; // every wish as started, in the order of the documents returned
    const docs = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = async () => {
        const kase = await bed.startCase(queue, shipped(), org.grid.id, wish);
        cases.push(kase);
        return kase;
      };
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const review = async (kase: Kase, outcome: 'listed' | 'declined') => {
        const task = kase.taskId('review');
        await kase.waitForTask('the review', task, () => true);
        await kase.claim(task, dispatcher);
        await kase.handle.executeUpdate(CASE_UPDATES.complete, {
          args: [{ taskId: task, actor: actor(dispatcher), outcome, form: {}, comment: '审核' }],
        });
      };
      const fulfilled = async (kase: Kase, score: number) => {
        const pool = kase.taskId('pool');
        await kase.waitForTask('the wish list pool', pool, () => true);
        await kase.claim(pool, member);
        const fulfil = kase.taskId('fulfil');
        await kase.waitForTask('the fulfilment', fulfil, () => true);
        await kase.claim(fulfil, member);
        await kase.complete(fulfil, member, 'fulfilled', { summary: '已实现' });
        await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
        await kase.rate(score);
        return closed(kase);
      };
      const listed = async () => {
        const kase = await start();
        await review(kase, 'listed');
        return kase;
      };

      // 1. not listed (不予列入)
      const declined = await start();
      await review(declined, 'declined');
      const done = [await closed(declined)];
      // 2. claimed and fulfilled, rated 5; 3. rated 2
      done.push(await fulfilled(await listed(), 5));
      done.push(await fulfilled(await listed(), 2));
      // 4. claimed after first_claim passed (escalated), fulfilled within fulfil_30d
      const late = await listed();
      await late.waitForTask('the pool to plan its deadline', late.taskId('pool'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      // 5. nobody claims it in the quarter: the joint meeting withdraws it
      const unclaimed = await listed();
      await unclaimed.waitForTask('the second pool', unclaimed.taskId('pool'), () => true);
      await bed.skipTo(mondayAt + 15 * DAY);
      await late.waitForEvents('deadline.escalated', 1, { deadline: 'first_claim' });
      done.push(await fulfilled(late, 4));
      await bed.skipTo(mondayAt + 91 * DAY);
      const meeting = unclaimed.taskId('joint_meeting');
      await unclaimed.waitForTask('the joint meeting', meeting, () => true);
      await unclaimed.claim(meeting, org.communitySecretary);
      await unclaimed.handle.executeUpdate(CASE_UPDATES.complete, {
        args: [
          {
            taskId: meeting,
            actor: actor(org.communitySecretary),
            outcome: 'withdrawn',
            form: {},
            comment: '许愿人已自行解决',
          },
        ],
      });
      done.push(await closed(unclaimed));
      return done;
    });

    // Assert: the flags each wish carries
    const metrics = docs.map(flagsOf);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 0, 0, 0],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [1, 0, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [0, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.rated, m.satisfied, m.escalated])).toEqual([
      [0, 0, 0],
      [1, 1, 0],
      [1, 0, 0],
      [1, 1, 1],
      [0, 0, 0],
    ]);
    // The rates, summed as the metrics service sums them
    const sums = summedFlags(metrics);
    expect(figuresOf(sums).rates).toEqual({
      acceptanceRate: 1, // 3 claimed of 3 offered (declined and withdrawn wishes are in none)
      responseRate: 0.6667, // 2 claimed before first_claim passed
      completionRate: 1,
      resolutionRate: 1, // no 解释说明 outcome: a fulfilled wish is solved
      onTimeRate: 1, // the late claim was still fulfilled within fulfil_30d
      satisfactionRate: 0.6667, // 5 and 4 satisfied, 2 not
      participationRate: 1,
      visitRate: 1,
      disputeResolutionRate: null,
      supervisionRate: 0.3333, // the late claim escalated to the community secretary
      returnRate: 0,
      overdueRate: 0.3333,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = shipped().spec.measures;
    for (const [i, kase] of cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

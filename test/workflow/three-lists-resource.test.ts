import { CASE_UPDATES } from '../../common/case';
import { figuresOf } from '../../services/metrics';
import type { CaseStateView } from '../../workflows/projection';
import { beijingText, bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import type { CaseDoc, SeededPerson, SlaTestBed } from '../support/sla-cases';
import {
  actor,
  asDispatcher,
  claimAndComplete,
  openedTask,
  eventsOf,
  expectFiredAt,
  mailsOf,
  SUBJECT,
  useSlaTestBed,
  stepsEntered,
} from '../support/sla-cases';

/**
 * The shipped 三张清单·资源认领 process (definitions/three-lists-resource.yaml): communities claim
 * a resource a co-building unit offers, the unit takes the project's responsibility and delivers
 * it, a claiming community accepts it, the result is published and rated; a resource no community
 * claims is escalated to the street's 分管领导 and, when the window ends, taken off the list.
 */
let bed: SlaTestBed;

useSlaTestBed('three-lists-resource', (ready) => {
  bed = ready;
});

/** The process under test, as shipped (definitions/three-lists-resource.yaml). */
const shipped = () => bed.shipped('three-lists-resource.yaml');

const HOUR = 3600_000;
const DAY = 24 * HOUR;

const offer = {
  title: '医院健康义诊进社区',
  category: '医疗健康',
  description: '每月一次专家义诊、慢病随访，每次可服务 60 人次',
  capacity: 60,
};

describe('三张清单·资源认领 (three-lists-resource)', () => {
  it('when two communities claim a unit’s resource, then the unit takes responsibility and delivers, a community accepts, the result is published and rated', async () => {
    // Arrange: the offering hospital (liaison, party secretary) and a second community
    const org = await bed.seedOrg();
    const hospitalId = (await bed.addUnit('cobuilding', '人民医院', org.street.id)).id;
    const liaison = await bed.addPerson('liaison', '孙联络', [[hospitalId, 'liaison']]);
    const unitSecretary = await bed.addPerson('unit-secretary', '钱书记', [
      [hospitalId, 'secretary'],
    ]);
    const otherCommunityId = (await bed.addUnit('community', '光明社区', org.street.id)).id;
    const otherSecretary = await bed.addPerson('other-secretary', '冯书记', [
      [otherCommunityId, 'secretary'],
    ]);
    const streetDispatcher = await bed.addPerson('street-dispatcher', '吴派单', [
      [org.street, 'dispatcher'],
    ]);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), hospitalId, offer);
      const pool = kase.taskId('pool');
      const opened = await kase.waitForTask('the claim pool', pool, () => true);
      await kase.claim(pool, org.communitySecretary);
      await kase.claim(pool, otherSecretary);
      await kase.handle.executeUpdate(CASE_UPDATES.complete, {
        args: [{ taskId: pool, actor: asDispatcher(streetDispatcher), outcome: 'done', form: {} }],
      });
      const project = kase.taskId('project');
      const projectTask = await kase.waitForTask('the project task', project, () => true);
      await kase.claim(project, liaison);
      await kase.complete(project, liaison, 'accepted', {
        projectName: '健康义诊月月行',
        duty: '人民医院每月派出专家到和平、光明两个社区义诊',
        promisedDate: '2030-06-30',
      });
      const deliver = kase.taskId('deliver');
      const delivery = await kase.waitForTask('the delivery task', deliver, () => true);
      await kase.claim(deliver, liaison);
      await kase.complete(deliver, liaison, 'delivered', {
        summary: '两社区各义诊一次',
        served: 58,
      });
      const accept = kase.taskId('accept');
      const acceptance = await kase.waitForTask('the acceptance task', accept, () => true);
      await kase.claim(accept, otherSecretary);
      await kase.complete(accept, otherSecretary, 'passed', { opinion: '居民反映良好' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(4);
      const result = (await kase.handle.result()) as CaseStateView;
      const stored = (await bed.db.models.Case.findById(kase.caseId).lean()) as CaseDoc | null;
      return { opened, projectTask, delivery, acceptance, result, doc: await kase.doc(), stored };
    });

    // Assert: offered to every community secretary under the street; the unit answers for it
    expect(outcome.opened.candidates.map((c) => c.personId).sort()).toEqual(
      [org.communitySecretary.personId, otherSecretary.personId].sort(),
    );
    expect(outcome.projectTask.candidates.map((c) => c.personId)).toEqual([liaison.personId]);
    expect(outcome.delivery.candidates.map((c) => c.personId)).toEqual([liaison.personId]);
    expect(outcome.acceptance.candidates.map((c) => c.personId).sort()).toEqual(
      [org.communitySecretary.personId, otherSecretary.personId].sort(),
    );
    expect(outcome.result.status).toBe('closed');
    const timeline = outcome.doc.timeline;
    expect(stepsEntered(timeline)).toEqual([
      'resource_wall',
      'pool',
      'project',
      'deliver',
      'accept',
      'result_wall',
      'rate',
      'closed',
    ]);
    expect(eventsOf(timeline, 'task.completed').map((e) => e.detail?.outcome)).toEqual([
      'accepted',
      'delivered',
      'passed',
    ]);
    expect(eventsOf(timeline, 'feedback.rated')[0]?.detail).toEqual({ score: 4 });
    expect(outcome.stored?.publication).toMatchObject({
      title: '资源认领项目完成情况公示',
      outcome: '验收通过',
    });
    // Mails: the pool and the acceptance to both communities; project and delivery to the unit
    expect(await mailsOf(otherSecretary, SUBJECT.assigned)).toHaveLength(2);
    expect(await mailsOf(org.communitySecretary, SUBJECT.assigned)).toHaveLength(2);
    expect(await mailsOf(liaison, SUBJECT.assigned)).toHaveLength(2);
    expect(await mailsOf(unitSecretary)).toHaveLength(0);
  });

  it('when no community claims within 5 working days, then the street’s 分管领导 is escalated to, and after 10 working days the offer is withdrawn and the unit told', async () => {
    // Arrange: a quiet stretch; the resource is offered on Monday at 10:00
    const org = await bed.seedOrg();
    const unitId = (await bed.addUnit('cobuilding', '自来水公司', org.street.id)).id;
    const liaison = await bed.addPerson('liaison', '郑联络', [[unitId, 'liaison']]);
    const streetLeader = await bed.addPerson('street-leader', '何分管', [[org.street, 'leader']]);
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 10:00`).getTime();
    const sunday = beijingText(mondayAt + 6 * DAY).slice(0, 10);
    const nextMonday = beijingText(mondayAt + 7 * DAY).slice(0, 10);
    const mondayAfter = beijingText(mondayAt + 14 * DAY).slice(0, 10);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const kase = await bed.startCase(queue, shipped(), unitId, offer);
      const pool = kase.taskId('pool');
      await kase.waitForTask('the pool to plan its deadline', pool, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${nextMonday} 10:01`));
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      await bed.skipTo(bj(`${mondayAfter} 10:01`));
      const result = (await kase.handle.result()) as CaseStateView;
      return { kase, escalated, reminded, result, doc: await kase.doc() };
    });

    // Assert: reminded the day before (calendar time: Sunday), escalated on Monday at 10:00
    expectFiredAt(outcome.reminded!.at, bj(`${sunday} 10:00`).getTime());
    expect(await mailsOf(org.communitySecretary, SUBJECT.reminder)).toHaveLength(1);
    expectFiredAt(outcome.escalated!.at, bj(`${nextMonday} 10:00`).getTime());
    expect(outcome.escalated!.detail).toMatchObject({
      deadline: 'first_claim',
      level: 1,
      unitId: org.street.id,
    });
    const [toLeader] = await mailsOf(streetLeader, SUBJECT.escalated);
    expect(toLeader?.subject).toContain('第 1 级督办');
    expect(toLeader?.text).toContain('5个工作日内有社区认领');
    const outbox = await bed.db.models.Outbox.find({
      caseId: outcome.kase.caseId,
      template: 'task-escalated',
    }).lean();
    expect(outbox.map((m) => m.to)).toEqual([streetLeader.email]);
    // Ten working days without a claim: the unit is told, the offer leaves the list
    const [closed] = eventsOf(outcome.doc.timeline, 'claim.closed');
    expectFiredAt(closed!.at, bj(`${mondayAfter} 10:00`).getTime());
    expect(closed!.detail).toMatchObject({ claimants: 0, reason: 'window-ended' });
    expect(outcome.result.status).toBe('cancelled');
    const [told] = await mailsOf(liaison, '无社区认领告知');
    expect(told?.subject).toContain(outcome.kase.caseId);
  });
});

describe('三张清单·资源认领 measures (接单率, 响应率, 办结率, 退单率…)', () => {
  it('when known resources run (withdrawn unclaimed, a project sent back (退单) and taken by a colleague, sent back for rework and rated unsatisfied, claimed late, accepted late but delivered on time, delivered late), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: a quiet week; the offering hospital with two liaisons and its party secretary
    const org = await bed.seedOrg();
    const hospitalId = (await bed.addUnit('cobuilding', '人民医院', org.street.id)).id;
    const liaison = await bed.addPerson('liaison', '孙联络', [[hospitalId, 'liaison']]);
    const colleague = await bed.addPerson('liaison-2', '钟联络', [[hospitalId, 'liaison']]);
    await bed.addPerson('unit-secretary', '钱书记', [[hospitalId, 'secretary']]);
    await bed.addPerson('street-leader', '何分管', [[org.street, 'leader']]);
    const streetDispatcher = await bed.addPerson('street-dispatcher', '吴派单', [
      [org.street, 'dispatcher'],
    ]);
    const secretary = org.communitySecretary;
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 10:00`).getTime();
    const project = { projectName: '健康义诊', duty: '每月义诊', promisedDate: '2030-06-30' };
    const delivery = { summary: '义诊一次', served: 58 };

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
      const start = () => bed.startCase(queue, shipped(), hospitalId, offer);
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const step = async (
        kase: Kase,
        stepId: string,
        by: SeededPerson,
        outcome: string,
        form: Record<string, unknown>,
        visit = 1,
      ) => {
        const task = await openedTask(kase, stepId, visit);
        // 退回整改 requires a comment
        await claimAndComplete(kase, task.id, by, outcome, form, '已说明');
      };
      /** The community claims; the street closes the pool before the window ends. */
      const claimed = async (kase: Kase) => {
        const pool = await openedTask(kase, 'pool');
        await kase.claim(pool.id, secretary);
        await kase.handle.executeUpdate(CASE_UPDATES.complete, {
          args: [
            { taskId: pool.id, actor: asDispatcher(streetDispatcher), outcome: 'done', form: {} },
          ],
        });
      };
      const rated = async (kase: Kase, score: number) => {
        await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
        await kase.rate(score);
        return closed(kase);
      };
      /** Set up, delivered, accepted by the claiming community and rated, each at once. */
      const served = async (kase: Kase, score: number) => {
        await step(kase, 'project', liaison, 'accepted', project);
        await step(kase, 'deliver', liaison, 'delivered', delivery);
        await step(kase, 'accept', secretary, 'passed', { opinion: '良好' });
        return rated(kase, score);
      };

      // 1. nobody claims in the 10-working-day window: withdrawn (in no denominator);
      // 4. claimed after first_claim passed
      const withdrawn = await start();
      const claimedLate = await start();
      // 2. the liaison sends the project back (退单), a colleague takes it and delivers; rated 5
      const sentBack = await start();
      await claimed(sentBack);
      const setUp = await openedTask(sentBack, 'project');
      await sentBack.claim(setUp.id, liaison);
      await sentBack.handle.executeUpdate(CASE_UPDATES.return, {
        args: [{ taskId: setUp.id, actor: actor(liaison), reason: '本人不负责此项' }],
      });
      await claimAndComplete(sentBack, setUp.id, colleague, 'accepted', project);
      await step(sentBack, 'deliver', colleague, 'delivered', delivery);
      await step(sentBack, 'accept', secretary, 'passed', { opinion: '良好' });
      const docs = [await rated(sentBack, 5)];
      // 3. sent back for rework at acceptance, delivered again and passed; rated 2
      const reworked = await start();
      await claimed(reworked);
      await step(reworked, 'project', liaison, 'accepted', project);
      await step(reworked, 'deliver', liaison, 'delivered', delivery);
      await step(reworked, 'accept', secretary, 'rework', { opinion: '人次不足' });
      await step(reworked, 'deliver', liaison, 'delivered', delivery, 2);
      await step(reworked, 'accept', secretary, 'passed', { opinion: '良好' }, 2);
      docs.push(await rated(reworked, 2));
      // 5. delivered at once, accepted after accept_3d passed
      const acceptedLate = await start();
      await claimed(acceptedLate);
      await step(acceptedLate, 'project', liaison, 'accepted', project);
      await step(acceptedLate, 'deliver', liaison, 'delivered', delivery);
      await openedTask(acceptedLate, 'accept');
      // 6. set up at once, delivered after deliver_30d passed
      const deliveredLate = await start();
      await claimed(deliveredLate);
      await step(deliveredLate, 'project', liaison, 'accepted', project);
      await openedTask(deliveredLate, 'deliver');

      // Next Monday 11:00: first_claim (5 working days) and accept_3d have passed
      await bed.skipTo(mondayAt + 7 * DAY + HOUR);
      await claimedLate.waitForEvents('deadline.escalated', 1, { deadline: 'first_claim' });
      await acceptedLate.waitForEvents('deadline.escalated', 1, { deadline: 'accept_3d' });
      await claimed(claimedLate);
      docs.push(await served(claimedLate, 4));
      await step(acceptedLate, 'accept', secretary, 'passed', { opinion: '良好' });
      docs.push(await rated(acceptedLate, 5));
      // Two weeks on the window ends for the unclaimed one; 31 days on the late delivery
      await bed.skipTo(mondayAt + 15 * DAY);
      const gone = await closed(withdrawn);
      await bed.skipTo(mondayAt + 31 * DAY + HOUR);
      await deliveredLate.waitForEvents('deadline.escalated', 1, { deadline: 'deliver_30d' });
      await step(deliveredLate, 'deliver', liaison, 'delivered', delivery);
      await step(deliveredLate, 'accept', secretary, 'passed', { opinion: '良好' });
      docs.push(await rated(deliveredLate, 4));
      return {
        docs: [gone, ...docs],
        cases: [withdrawn, sentBack, reworked, claimedLate, acceptedLate, deliveredLate],
      };
    });

    // Assert: the flags each resource carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'cancelled',
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
      [0, 1, 1, 0],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.rated, m.satisfied, m.escalated, m.overdue, m.returnedCase]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [1, 1, 0, 0, 1],
      [1, 0, 0, 0, 0],
      [1, 1, 1, 1, 0],
      [1, 1, 1, 1, 0],
      [1, 1, 1, 1, 0],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 1, // 5 claimed of 5 listed (the withdrawn one is in no denominator)
      responseRate: 0.8, // 4 claimed before first_claim passed
      completionRate: 1, // 5 passed of 5 due
      resolutionRate: 1, // 验收通过 is 解决; there is no 解释说明 outcome
      onTimeRate: 0.8, // 4 of 5 within deliver_30d; the late claim and late acceptance do not count
      satisfactionRate: 0.8, // 5, 4, 5, 4 satisfied; 2 not
      participationRate: 1, // 5 rated of 5 asked
      visitRate: 1, // 5 rated of 5 completed
      disputeResolutionRate: null,
      supervisionRate: 0.6, // 3 escalated of 5
      returnRate: 0.2, // 1 project sent back (退单); 退回整改 is an outcome, not 退单
      overdueRate: 0.6, // 3 overdue of 5 received and not withdrawn
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = shipped().spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

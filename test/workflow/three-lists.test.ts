import { CASE_UPDATES } from '../../common/case';
import { figuresOf } from '../../services/metrics';
import type { CaseStateView } from '../../workflows/projection';
import { beijingText, bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { uniqueAddress } from '../support/harness';
import type { CaseDoc, SeededPerson, SlaTestBed } from '../support/sla-cases';
import {
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
 * The shipped 三张清单·需求认领 process (definitions/three-lists.yaml): a community's demand is
 * claimed by co-building units, one claimant takes the project's responsibility and delivers it,
 * the result is published and rated; a demand nobody claims is escalated to the street party
 * secretary and, when the claim window ends, goes to the street for assignment (兜底指派).
 */
let bed: SlaTestBed;

useSlaTestBed('three-lists', (ready) => {
  bed = ready;
});

/** The process under test, as shipped (definitions/three-lists.yaml). */
const shipped = () => bed.shipped('three-lists.yaml');

const HOUR = 3600_000;
const DAY = 24 * HOUR;

const demand = {
  title: '老旧小区助老送餐',
  category: '助老助残',
  description: '小区独居老人 12 户，午餐无人照料，希望有单位提供送餐服务',
  beneficiaries: 12,
};

describe('三张清单·需求认领 (three-lists)', () => {
  it('when two units claim a demand, then the one taking responsibility delivers the project, the result is published and the residents rate it', async () => {
    // Arrange: two co-building units under the street, each with a liaison
    const org = await bed.seedOrg();
    const schoolId = (await bed.addUnit('cobuilding', '第一中学', org.street.id)).id;
    const hospitalId = (await bed.addUnit('cobuilding', '人民医院', org.street.id)).id;
    const school = await bed.addPerson('liaison-school', '张联络', [[schoolId, 'liaison']]);
    const hospital = await bed.addPerson('liaison-hospital', '孙联络', [[hospitalId, 'liaison']]);
    const streetDispatcher = await bed.addPerson('street-dispatcher', '吴派单', [
      [org.street, 'dispatcher'],
    ]);
    const contactEmail = uniqueAddress('resident-rep');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.community.id, {
        ...demand,
        contactEmail,
      });
      const pool = kase.taskId('pool');
      const opened = await kase.waitForTask('the claim pool', pool, () => true);
      await kase.claim(pool, school);
      await kase.claim(pool, hospital);
      // Two units are enough: the street closes the pool before the window ends.
      await kase.handle.executeUpdate(CASE_UPDATES.complete, {
        args: [{ taskId: pool, actor: asDispatcher(streetDispatcher), outcome: 'done', form: {} }],
      });
      const responsibility = kase.taskId('responsibility');
      const duty = await kase.waitForTask('the responsibility task', responsibility, () => true);
      await kase.claim(responsibility, hospital);
      await kase.complete(responsibility, hospital, 'accepted', {
        projectName: '爱心午餐',
        duty: '医院职工食堂每日为 12 户独居老人配送午餐',
        partners: '第一中学志愿者',
        promisedDate: '2030-01-31',
      });
      const deliver = kase.taskId('deliver');
      const delivery = await kase.waitForTask('the delivery task', deliver, () => true);
      await kase.claim(deliver, hospital);
      await kase.complete(deliver, hospital, 'delivered', { summary: '已连续送餐', served: 12 });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(5);
      const result = (await kase.handle.result()) as CaseStateView;
      const stored = (await bed.db.models.Case.findById(kase.caseId).lean()) as CaseDoc | null;
      return { opened, duty, delivery, result, doc: await kase.doc(), stored };
    });

    // Assert: the pool went to both liaisons, the project to the claimants, delivery to the one responsible
    expect(outcome.opened.candidates.map((c) => c.personId).sort()).toEqual(
      [school.personId, hospital.personId].sort(),
    );
    expect(outcome.duty.candidates.map((c) => c.personId).sort()).toEqual(
      [school.personId, hospital.personId].sort(),
    );
    expect(outcome.delivery.candidates.map((c) => c.personId)).toEqual([hospital.personId]);
    expect(outcome.result.status).toBe('closed');
    const timeline = outcome.doc.timeline;
    expect(stepsEntered(timeline)).toEqual([
      'demand_wall',
      'pool',
      'responsibility',
      'deliver',
      'result_wall',
      'rate',
      'closed',
    ]);
    expect(eventsOf(timeline, 'claim.closed')[0]?.detail).toMatchObject({
      claimants: 2,
      reason: 'closed-by-dispatcher',
    });
    expect(eventsOf(timeline, 'feedback.rated')[0]?.detail).toEqual({ score: 5 });
    expect(eventsOf(timeline, 'case.published')).toHaveLength(2);
    expect(outcome.stored?.publication).toMatchObject({
      title: '需求认领项目完成情况公示',
      outcome: '项目已完成',
      fields: [
        { label: '需求名称', value: demand.title },
        { label: '需求类别', value: demand.category },
        { label: '受益人数', value: '12' },
      ],
    });
    expect(outcome.stored?.rating?.score).toBe(5);
    // Mails: the pool announced to both units, the project to both, the delivery to the hospital
    expect(await mailsOf(school, SUBJECT.assigned)).toHaveLength(2);
    expect(await mailsOf(hospital, SUBJECT.assigned)).toHaveLength(3);
    const [invitation] = await mailsOf({ ...school, email: contactEmail });
    expect(invitation?.text).toContain('项目已完成');
  });

  it('when no unit claims within 3 working days, then the street party secretary is escalated to, and when the window ends the street assigns a unit', async () => {
    // Arrange: a quiet week; the demand is posted on Monday at 10:00
    const org = await bed.seedOrg();
    const unitId = (await bed.addUnit('cobuilding', '城投公司', org.street.id)).id;
    const liaison = await bed.addPerson('liaison', '郑联络', [[unitId, 'liaison']]);
    const streetDispatcher = await bed.addPerson('street-dispatcher', '吴派单', [
      [org.street, 'dispatcher'],
    ]);
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 10:00`).getTime();
    const wednesday = beijingText(mondayAt + 2 * DAY).slice(0, 10);
    const thursday = beijingText(mondayAt + 3 * DAY).slice(0, 10);
    const nextMonday = beijingText(mondayAt + 7 * DAY).slice(0, 10);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const kase = await bed.startCase(queue, shipped(), org.community.id, demand);
      const pool = kase.taskId('pool');
      await kase.waitForTask('the pool to plan its deadline', pool, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${thursday} 10:01`));
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      const escalationMails = await mailsOf(org.streetSecretary, SUBJECT.escalated);
      await bed.skipTo(bj(`${nextMonday} 10:01`));
      const [closed] = await kase.waitForEvents('claim.closed', 1);
      const assign = kase.taskId('assign');
      const assignTask = await kase.waitForTask('the street to assign', assign, () => true);
      await kase.claim(assign, streetDispatcher);
      await kase.complete(assign, streetDispatcher, 'assigned', { contactId: liaison.personId });
      const duty = await kase.waitForTask(
        'the assigned unit',
        kase.taskId('responsibility'),
        () => true,
      );
      return { kase, escalated, reminded, escalationMails, closed, assignTask, duty };
    });

    // Assert: reminded on Wednesday, escalated on Thursday at 10:00 to the street secretary
    expectFiredAt(outcome.reminded!.at, bj(`${wednesday} 10:00`).getTime());
    expectFiredAt(outcome.escalated!.at, bj(`${thursday} 10:00`).getTime());
    expect(outcome.escalated!.detail).toMatchObject({
      deadline: 'first_claim',
      level: 1,
      unitId: org.street.id,
      fellBack: false,
    });
    expect(await mailsOf(liaison, SUBJECT.reminder)).toHaveLength(1);
    expect(outcome.escalationMails).toHaveLength(1);
    expect(outcome.escalationMails[0]!.subject).toContain('第 1 级督办');
    expect(outcome.escalationMails[0]!.text).toContain(org.street.name);
    const outbox = await bed.db.models.Outbox.find({
      caseId: outcome.kase.caseId,
      template: 'task-escalated',
    }).lean();
    expect(outbox.map((m) => m.to)).toEqual([org.streetSecretary.email]);
    // The window ended after 5 working days with nobody: the street's dispatcher assigns
    expectFiredAt(outcome.closed!.at, bj(`${nextMonday} 10:00`).getTime());
    expect(outcome.closed!.detail).toMatchObject({ claimants: 0, reason: 'window-ended' });
    expect(outcome.assignTask.candidates.map((c) => c.personId)).toEqual([
      streetDispatcher.personId,
    ]);
    expect(outcome.duty.candidates.map((c) => c.personId)).toEqual([liaison.personId]);
  });
});

describe('三张清单·需求认领 measures (接单率, 响应率, 办结率, 参评率…)', () => {
  it('when known needs run (shelved unclaimed, claimed by one unit, by two and rated unsatisfied, claimed late, responsibility taken late but delivered on time, assigned by the street, delivered late and never rated), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: a quiet week; two co-building units under the street, each with a liaison
    const org = await bed.seedOrg();
    const schoolId = (await bed.addUnit('cobuilding', '第一中学', org.street.id)).id;
    const hospitalId = (await bed.addUnit('cobuilding', '人民医院', org.street.id)).id;
    const school = await bed.addPerson('liaison-school', '张联络', [[schoolId, 'liaison']]);
    const hospital = await bed.addPerson('liaison-hospital', '孙联络', [[hospitalId, 'liaison']]);
    const streetDispatcher = await bed.addPerson('street-dispatcher', '吴派单', [
      [org.street, 'dispatcher'],
    ]);
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 10:00`).getTime();
    const project = {
      projectName: '爱心午餐',
      duty: '为独居老人配送午餐',
      promisedDate: '2030-01-31',
    };

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
      const start = () => bed.startCase(queue, shipped(), org.community.id, demand);
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const step = async (
        kase: Kase,
        stepId: string,
        by: SeededPerson,
        outcome: string,
        form: Record<string, unknown>,
      ) => {
        const task = await openedTask(kase, stepId);
        // 暂缓实施 requires a comment
        await claimAndComplete(kase, task.id, by, outcome, form, '已说明');
      };
      /** The units claim; the street closes the pool before the window ends. */
      const claimed = async (kase: Kase, ...units: SeededPerson[]) => {
        const pool = await openedTask(kase, 'pool');
        for (const unit of units) await kase.claim(pool.id, unit);
        await kase.handle.executeUpdate(CASE_UPDATES.complete, {
          args: [
            { taskId: pool.id, actor: asDispatcher(streetDispatcher), outcome: 'done', form: {} },
          ],
        });
      };
      const delivered = async (kase: Kase, by: SeededPerson) => {
        await step(kase, 'deliver', by, 'delivered', { summary: '已完成', served: 12 });
        await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      };
      const rated = async (kase: Kase, score: number) => {
        await kase.rate(score);
        return closed(kase);
      };

      // 1. nobody claims, the street shelves it; 4. claimed after first_claim passed;
      // 6. nobody claims, the street assigns it
      const shelved = await start();
      const claimedLate = await start();
      const assigned = await start();
      // 2. one unit claims, takes the responsibility and delivers; rated 5
      const byOne = await start();
      await claimed(byOne, school);
      await step(byOne, 'responsibility', school, 'accepted', project);
      await delivered(byOne, school);
      const docs = [await rated(byOne, 5)];
      // 3. two units claim, the hospital takes the responsibility; rated 2
      const byTwo = await start();
      await claimed(byTwo, school, hospital);
      await step(byTwo, 'responsibility', hospital, 'accepted', project);
      await delivered(byTwo, hospital);
      docs.push(await rated(byTwo, 2));
      // 5. claimed at once, the responsibility taken after commit_3d passed
      const committedLate = await start();
      await claimed(committedLate, school);
      await openedTask(committedLate, 'responsibility');

      // Thursday 11:00: first_claim and commit_3d have passed
      await bed.skipTo(mondayAt + 3 * DAY + HOUR);
      await claimedLate.waitForEvents('deadline.escalated', 1, { deadline: 'first_claim' });
      await committedLate.waitForEvents('deadline.escalated', 1, { deadline: 'commit_3d' });
      await claimed(claimedLate, hospital);
      await step(claimedLate, 'responsibility', hospital, 'accepted', project);
      await delivered(claimedLate, hospital);
      docs.push(await rated(claimedLate, 4));
      await step(committedLate, 'responsibility', school, 'accepted', project);
      await delivered(committedLate, school);
      docs.push(await rated(committedLate, 5));
      // Next Monday 11:00: the 5-working-day window has ended for the two left in the pool
      await bed.skipTo(mondayAt + 7 * DAY + HOUR);
      await step(shelved, 'assign', streetDispatcher, 'shelve', {});
      await step(assigned, 'assign', streetDispatcher, 'assigned', { contactId: school.personId });
      await step(assigned, 'responsibility', school, 'accepted', project);
      await openedTask(assigned, 'deliver');
      // 31 days on the project is delivered late; nobody rates it in the 5 working days
      await bed.skipTo(mondayAt + 38 * DAY + HOUR);
      await assigned.waitForEvents('deadline.escalated', 1, { deadline: 'deliver_30d' });
      await delivered(assigned, school);
      await bed.skipTo(mondayAt + 60 * DAY);
      return {
        docs: [await closed(shelved), ...docs, await closed(assigned)],
        cases: [shelved, byOne, byTwo, claimedLate, committedLate, assigned],
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
    ]);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 0, 0, 0],
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
      [1, 1, 1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [
        m.ratingInvited,
        m.rated,
        m.satisfied,
        m.ratingMissing,
        m.escalated,
        m.overdue,
      ]),
    ).toEqual([
      [0, 0, 0, 0, 0, 0],
      [1, 1, 1, 0, 0, 0],
      [1, 1, 0, 0, 0, 0],
      [1, 1, 1, 0, 1, 1],
      [1, 1, 1, 0, 1, 1],
      [1, 0, 0, 1, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.8, // 4 claimed of 5 listed (the street's assignment is no 认领)
      responseRate: 0.6, // 3 claimed before first_claim passed
      completionRate: 1, // 5 delivered of 5 due (the shelved need is in no denominator)
      resolutionRate: 1, // 项目已完成 is 解决; there is no 解释说明 outcome
      onTimeRate: 0.8, // 4 of 5 within deliver_30d; the late claim and late commitment do not count
      satisfactionRate: 0.75, // 5, 4, 5 satisfied; 2 not
      participationRate: 0.8, // 4 rated of 5 asked
      visitRate: 0.8, // 4 rated of 5 delivered
      disputeResolutionRate: null,
      supervisionRate: 0.6, // 3 escalated of 5
      returnRate: 0,
      overdueRate: 0.6, // 3 overdue of 5 received and not shelved
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = shipped().spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

import { CASE_UPDATES } from '../../common/case';
import type { CaseStateView } from '../../workflows/projection';
import { beijingText, bj } from '../support/beijing';
import type { CaseDoc, SlaTestBed } from '../support/sla-cases';
import {
  asDispatcher,
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

const DAY = 24 * 3600_000;

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

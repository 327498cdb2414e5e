import type { PublicationView } from '../../common/case';
import { planDeadline } from '../../common/sla';
import type { CaseStateView } from '../../workflows/projection';
import { beijingText, bj } from '../support/beijing';
import { uniqueAddress } from '../support/harness';
import type { RunningCase, SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import {
  claimAndComplete,
  deadlineOf,
  eventsOf,
  expectFiredAt,
  mailsOf,
  mailsToAddress,
  openedTask,
  plusDays,
  stepsEntered,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 社区“3+4”四步工作法 (definitions/four-step-service.yaml, Mudan): 民情受理 → 限期办理
 * → 公示反馈 → 跟踪监督, on the time-skipping server with the real activities. The community's
 * window accepts, handles within 5 working days, publishes the result with personal data masked,
 * the resident rates, and the community party secretary follows up and may order it redone; a late
 * handling is escalated to the community party secretary, then the street's 分管领导.
 */
let bed: SlaTestBed;

useSlaTestBed('four-step-service', (ready) => {
  bed = ready;
});

/** The process under test, as shipped (definitions/four-step-service.yaml). */
const shipped = () => bed.shipped('four-step-service.yaml');

interface ServiceOrg extends SeededOrg {
  officer: SeededPerson;
  streetLeader: SeededPerson;
}

async function serviceOrg(): Promise<ServiceOrg> {
  const org = await bed.seedOrg();
  return {
    ...org,
    officer: await bed.addPerson('window-officer', '全科窗口', [[org.community, 'officer']]),
    streetLeader: await bed.addPerson('street-leader', '街道分管领导', [[org.street, 'leader']]),
  };
}

function request(contactEmail: string) {
  return {
    category: '便民服务',
    title: '小区路灯维修',
    description: '幸福里小区东门路灯已坏一周，夜间出行不便',
    contactName: '张三丰',
    address: '幸福里小区5号楼',
    contactEmail,
  };
}

/** Waits for the case to ask for a rating (the `visit`-th time) and rates it. */
async function rateWhenAsked(kase: RunningCase, score: number, visit = 1): Promise<void> {
  await kase.waitForEvents('step.entered', visit, { stepType: 'feedback' });
  await kase.rate(score);
  await kase.waitForEvents('feedback.rated', visit);
}

describe('社区“3+4”四步工作法 (four-step-service)', () => {
  it('when a request goes through the four steps and the follow-up orders it redone, then it is handled again, published again and confirmed', async () => {
    // Arrange
    const org = await serviceOrg();
    const monday = await bed.quietMonday();
    const contact = uniqueAddress('resident');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, shipped(), org.grid.id, request(contact));
      const intake = await openedTask(kase, 'intake');
      await claimAndComplete(kase, intake.id, org.officer, 'accepted', { note: '属便民服务' });
      const handle = await openedTask(kase, 'handle');
      await claimAndComplete(kase, handle.id, org.officer, 'resolved', { result: '已报修' });
      await rateWhenAsked(kase, 2);
      const supervise = await openedTask(kase, 'supervise');
      await claimAndComplete(
        kase,
        supervise.id,
        org.communitySecretary,
        'rework',
        { finding: '回访发现只修好一盏' },
        '东门另一盏路灯仍不亮',
      );
      const handle2 = await openedTask(kase, 'handle', 2);
      await claimAndComplete(kase, handle2.id, org.officer, 'resolved', { result: '两盏均已修复' });
      await rateWhenAsked(kase, 5, 2);
      const supervise2 = await openedTask(kase, 'supervise', 2);
      await claimAndComplete(kase, supervise2.id, org.communitySecretary, 'confirmed', {
        finding: '回访居民满意',
      });
      const result = (await kase.handle.result()) as CaseStateView;
      const stored = await bed.db.models.Case.findById(kase.caseId).lean();
      const publication = stored?.publication as PublicationView;
      return { result, intake, handle, supervise, publication, doc: await kase.doc() };
    });

    // Assert: the four steps, the follow-up loop, the end
    expect(outcome.result.status).toBe('closed');
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'intake',
      'acknowledge',
      'handle',
      'board',
      'feedback',
      'supervise',
      'handle',
      'board',
      'feedback',
      'supervise',
      'closed',
    ]);
    expect(eventsOf(outcome.doc.timeline, 'feedback.rated').map((e) => e.detail?.score)).toEqual([
      2, 5,
    ]);
    expect(eventsOf(outcome.doc.timeline, 'case.published')).toHaveLength(2);
    expect(eventsOf(outcome.doc.timeline, 'task.completed').map((e) => e.detail?.outcome)).toEqual([
      'accepted',
      'resolved',
      'rework',
      'resolved',
      'confirmed',
    ]);
    // Limits from Monday 09:30 in a quiet week
    const due = (task: typeof outcome.intake, key: string) =>
      beijingText(deadlineOf(task.deadlines, `${task.id}/${key}`).dueAt!);
    expect(due(outcome.intake, 'intake_1d')).toBe(`${plusDays(monday, 1)} 09:30`);
    expect(due(outcome.handle, 'handle_5d')).toBe(`${plusDays(monday, 7)} 09:30`);
    expect(due(outcome.supervise, 'supervise_5d')).toBe(`${plusDays(monday, 7)} 09:30`);
    expect(outcome.supervise.candidateUserIds).toEqual([org.communitySecretary.userId]);
    // 公示: the board shows the result with personal data masked
    expect(outcome.publication.title).toBe('民情办理结果公示');
    expect(outcome.publication.outcome).toBe('已办结');
    const shown = Object.fromEntries(outcome.publication.fields.map((f) => [f.label, f.value]));
    expect(shown['服务类别']).toBe('便民服务');
    expect(shown['事项名称']).toBe('小区路灯维修');
    expect(shown['联系人']).toMatch(/^张\*+$/);
    expect(shown['住址']).not.toContain('5号楼');
    expect(shown['住址']).toContain('*');
    // Mails: the receipt once, the result with each rating request, the tasks to their people
    expect(await mailsToAddress(contact, '您的诉求已受理', 1)).toHaveLength(1);
    expect(await mailsToAddress(contact, '办理结果告知', 2)).toHaveLength(2);
    expect(await mailsOf(org.officer, SUBJECT.assigned)).toHaveLength(3);
    expect(await mailsOf(org.communitySecretary, SUBJECT.assigned)).toHaveLength(2);
    expect(eventsOf(outcome.doc.timeline, 'deadline.missed')).toEqual([]);
  });

  it('when the handling is not finished within 5 working days, then the handler is reminded a day before, the community party secretary is called at the deadline and the street leader 2 working days later', async () => {
    // Arrange
    const org = await serviceOrg();
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 10:00`));
      const kase = await bed.startCase(
        queue,
        shipped(),
        org.grid.id,
        request(uniqueAddress('resident')),
      );
      const intake = await openedTask(kase, 'intake');
      await claimAndComplete(kase, intake.id, org.officer, 'accepted', { note: '受理' });
      const handle = await openedTask(kase, 'handle');
      await kase.claim(handle.id, org.officer);
      const plan = planDeadline(
        await bed.calendar(),
        {
          within: '5 working days',
          reminders: [{ before: 'P1D' }],
          escalations: [{}, { after: '2 working days' }],
        },
        handle.openedAt.toISOString(),
      );
      await bed.skipTo(Date.parse(plan.dueAt!) + 60_000);
      const level1 = await kase.waitForEvents('deadline.escalated', 1);
      const streetBefore = await mailsOf(org.streetLeader, SUBJECT.escalated);
      await bed.skipTo(Date.parse(plan.escalations[1]!.at) + 60_000);
      const escalated = await kase.waitForEvents('deadline.escalated', 2);
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      const [missed] = await kase.waitForEvents('deadline.missed', 1);
      await kase.complete(handle.id, org.officer, 'resolved', { result: '已修复' });
      await rateWhenAsked(kase, 4);
      const supervise = await openedTask(kase, 'supervise');
      await claimAndComplete(kase, supervise.id, org.communitySecretary, 'confirmed', {
        finding: '已核实',
      });
      const result = (await kase.handle.result()) as CaseStateView;
      return { handle, plan, level1, streetBefore, escalated, reminded, missed, result };
    });

    // Assert: due next Monday at the time it opened; reminded Sunday; level 2 on Wednesday
    const { plan, escalated } = outcome;
    const handleDue = deadlineOf(outcome.handle.deadlines, `${outcome.handle.id}/handle_5d`);
    expect(handleDue.dueAt).toBe(plan.dueAt);
    expect(beijingText(plan.dueAt!)).toBe(`${plusDays(monday, 7)} 10:00`);
    expect(beijingText(plan.reminders[0]!.at)).toBe(`${plusDays(monday, 6)} 10:00`);
    expect(beijingText(plan.escalations[1]!.at)).toBe(`${plusDays(monday, 9)} 10:00`);
    expectFiredAt(outcome.reminded!.at, plan.reminders[0]!.at);
    expectFiredAt(outcome.missed!.at, plan.dueAt!);
    expect(outcome.level1).toHaveLength(1);
    expect(outcome.streetBefore).toHaveLength(0);
    expect(escalated.map((e) => [e.detail?.level, e.detail?.unitId])).toEqual([
      [1, org.community.id],
      [2, org.street.id],
    ]);
    expectFiredAt(escalated[0]!.at, plan.escalations[0]!.at);
    expectFiredAt(escalated[1]!.at, plan.escalations[1]!.at);
    const toSecretary = await mailsOf(org.communitySecretary, SUBJECT.escalated);
    expect(toSecretary.map((m) => m.subject)).toEqual([expect.stringContaining('第 1 级督办')]);
    const toLeader = await mailsOf(org.streetLeader, SUBJECT.escalated);
    expect(toLeader.map((m) => m.subject)).toEqual([expect.stringContaining('第 2 级督办')]);
    expect(await mailsOf(org.officer, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.director, SUBJECT.escalated)).toHaveLength(0);
    expect(outcome.result.status).toBe('closed');
  });

  it('when the window declines a request, then the case ends as not accepted and no receipt is sent', async () => {
    // Arrange
    const org = await serviceOrg();
    const contact = uniqueAddress('resident');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.grid.id, request(contact));
      const intake = await openedTask(kase, 'intake');
      await claimAndComplete(
        kase,
        intake.id,
        org.officer,
        'declined',
        { note: '不属社区职责' },
        '已告知居民向供电公司反映',
      );
      const result = (await kase.handle.result()) as CaseStateView;
      return { result, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.result.status).toBe('rejected');
    expect(stepsEntered(outcome.doc.timeline)).toEqual(['intake', 'declined']);
    expect(await mailsOf({ email: contact } as SeededPerson)).toHaveLength(0);
  });
});

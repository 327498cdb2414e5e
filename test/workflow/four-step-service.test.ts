import type { PublicationView } from '../../common/case';
import { figuresOf } from '../../services/metrics';
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
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';

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

describe('社区“3+4”四步工作法 measures (接单率, 响应率, 办结率, 解决率…)', () => {
  it('when known requests run (declined, resolved, explained, accepted late but handled on time, rated unsatisfied and redone, rated unsatisfied and confirmed), then every declared rate comes out exactly, also after a replay', async () => {
    // Arrange: a quiet week; the community's window serves every request
    const org = await serviceOrg();
    const monday = await bed.quietMonday();
    const tuesday = plusDays(monday, 1);
    const contact = uniqueAddress('resident');

    // Act
    const cases: RunningCase[] = []; // every request as started, in the order of the documents returned
    const docs = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const start = async () => {
        const kase = await bed.startCase(queue, shipped(), org.grid.id, request(contact));
        cases.push(kase);
        return kase;
      };
      // Closed as read from the document: awaiting a workflow result would let the test
      // server skip time to the next timer of any case.
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const accept = async (kase: RunningCase) => {
        const intake = await openedTask(kase, 'intake');
        await claimAndComplete(kase, intake.id, org.officer, 'accepted', { note: '受理' });
      };
      const handle = async (kase: RunningCase, outcome: string, score: number, visit = 1) => {
        const task = await openedTask(kase, 'handle', visit);
        await claimAndComplete(kase, task.id, org.officer, outcome, { result: '已办理' }, '已说明');
        await rateWhenAsked(kase, score, visit);
        return openedTask(kase, 'supervise', visit);
      };
      const confirm = async (kase: RunningCase, supervise: { id: string }) => {
        await claimAndComplete(kase, supervise.id, org.communitySecretary, 'confirmed', {
          finding: '回访核实',
        });
        return closed(kase);
      };
      const served = async (outcome: string, score: number) => {
        const kase = await start();
        await accept(kase);
        return confirm(kase, await handle(kase, outcome, score));
      };

      // 1. declined at intake (不予受理)
      const declined = await start();
      const intake = await openedTask(declined, 'intake');
      await claimAndComplete(
        declined,
        intake.id,
        org.officer,
        'declined',
        { note: '不属社区职责' },
        '已告知',
      );
      const done = [await closed(declined)];
      // 2. resolved, rated 5; 3. explained, rated 4
      done.push(await served('resolved', 5));
      done.push(await served('explained', 4));
      // 5. resolved, rated 2, the follow-up orders it redone, rated 5 the second time
      const redone = await start();
      await accept(redone);
      const firstCheck = await handle(redone, 'resolved', 2);
      await claimAndComplete(
        redone,
        firstCheck.id,
        org.communitySecretary,
        'rework',
        { finding: '回访不满意' },
        '重新办理',
      );
      done.push(await confirm(redone, await handle(redone, 'resolved', 5, 2)));
      // 6. resolved, rated 2, the follow-up confirms it: stays unsatisfied
      done.push(await served('resolved', 2));
      // 4. accepted a day late (intake_1d missed and escalated), handled within handle_5d
      const late = await start();
      await openedTask(late, 'intake');
      await bed.skipTo(bj(`${tuesday} 09:35`));
      await late.waitForEvents('deadline.escalated', 1, { deadline: 'intake_1d' });
      await accept(late);
      done.push(await confirm(late, await handle(late, 'resolved', 5)));
      return done;
    });

    // Assert: the flags each request carries (in the order: declined, resolved, explained,
    // redone, unsatisfied, late)
    const metrics = docs.map(flagsOf);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 0, 0, 0],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 1, 0, 1, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
    ]);
    expect(metrics.map((m) => [m.rated, m.satisfied, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 0, 0, 0],
      [1, 1, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    const sums = summedFlags(metrics);
    expect(figuresOf(sums).rates).toEqual({
      acceptanceRate: 1, // the window's 限期办理 task claimed in all 5 dispatched
      responseRate: 1, // no acceptanceDeadline: before handle_5d; a late 受理 is not late 接单
      completionRate: 1, // 5 completed of 5 due (the declined one is in no denominator)
      resolutionRate: 0.8, // 已解释说明 is 办结, not 解决
      onTimeRate: 1, // the late intake still closed within handle_5d
      satisfactionRate: 0.8, // the last rating counts: the redone one is satisfied, one 2 stays
      participationRate: 1, // 5 rated of 5 asked
      visitRate: 1, // 5 rated of 5 completed
      disputeResolutionRate: null,
      supervisionRate: 0.2, // the late intake escalated to the community director
      returnRate: 0, // 责令重新办理 is the follow-up's loop, not a 退单
      overdueRate: 0.2,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = shipped().spec.measures;
    for (const [i, kase] of cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

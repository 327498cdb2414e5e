import type { CompleteTaskRequest } from '../../common/case';
import { CASE_UPDATES } from '../../common/case';
import type { CaseStateView } from '../../workflows/projection';
import { createCatalogueService } from '../../services/catalogue';
import { figuresOf } from '../../services/metrics';
import { createOrgSnapshot } from '../../common/org-snapshot';
import { beijingText, bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import type {
  RunningCase,
  SeededOrg,
  SeededPerson,
  SeededUnit,
  SlaTestBed,
} from '../support/sla-cases';
import {
  actor,
  claimAndComplete,
  deadlineOf,
  eventsOf,
  mailsOf,
  openedTask,
  plusDays,
  stepsEntered,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 接诉即办 hotline process (definitions/hotline-12345.yaml) on the time-skipping server with
 * the real activities: the street centre accepts a request, the dispatch catalogue names the
 * department, which signs for it within 2 working hours and answers within the category's limit
 * (Beijing: 2 h, 24 h, 7 days, 15 days); an extension is approved by the centre; 非本部门职责 goes to
 * the centre's arbitration; an unsatisfied rating reopens the case with half the limit, at most
 * twice.
 */
let bed: SlaTestBed;

useSlaTestBed('hotline', (ready) => {
  bed = ready;
});

const shipped = () => bed.shipped('hotline-12345.yaml');

interface HotlineOrg extends SeededOrg {
  centre: SeededPerson;
  streetLeader: SeededPerson;
  water: SeededUnit;
  waterOfficer: SeededPerson;
  urban: SeededUnit;
  urbanOfficer: SeededPerson;
  roads: SeededUnit;
  roadsOfficer: SeededPerson;
}

async function hotlineOrg(): Promise<HotlineOrg> {
  const org = await bed.seedOrg();
  const water = await bed.addUnit('department', '供水公司', org.county);
  const urban = await bed.addUnit('department', '城管局', org.county);
  const roads = await bed.addUnit('department', '住建局', org.county);
  const result: HotlineOrg = {
    ...org,
    centre: await bed.addPerson('centre', '接诉即办中心', [[org.street, 'dispatcher']]),
    streetLeader: await bed.addPerson('street-leader', '街道分管领导', [[org.street, 'leader']]),
    water,
    waterOfficer: await bed.addPerson('water-officer', '供水专员', [[water, 'officer']]),
    urban,
    urbanOfficer: await bed.addPerson('urban-officer', '城管队员', [[urban, 'officer']]),
    roads,
    roadsOfficer: await bed.addPerson('roads-officer', '住建干事', [[roads, 'officer']]),
  };
  // The street's 派单目录, published as an admin would.
  await createCatalogueService({
    models: bed.db.models,
    snapshot: createOrgSnapshot({ models: bed.db.models }),
    clock: () => new Date(),
  }).publish({ kind: 'user', id: 'admin', roles: ['admin'], unitIds: [] }, org.street.id, [
    { category: '供水', unitId: water.id },
    { category: '环境卫生', unitId: urban.id },
  ]);
  return result;
}

/** Waits for the case to ask for a rating (the `visit`-th time) and rates it as the requester. */
async function rateWhenAsked(kase: RunningCase, score: number, visit: number): Promise<void> {
  await kase.waitForEvents('step.entered', visit, { stepType: 'feedback' });
  await kase.rate(score);
  await kase.waitForEvents('feedback.rated', visit);
}

/** The clock starts as the task opens: its due instant is `ms` after the task's `openedAt`. */
function expectDueAfterOpening(
  task: { id: string; openedAt: unknown; deadlines: Parameters<typeof deadlineOf>[0] },
  key: string,
  ms: number,
): void {
  const dueAt = Date.parse(deadlineOf(task.deadlines, `${task.id}/${key}`).dueAt!);
  const late = dueAt - (Date.parse(String(task.openedAt)) + ms);
  expect(Math.abs(late)).toBeLessThan(5_000);
}

const due = (task: { id: string; deadlines: Parameters<typeof deadlineOf>[0] }, key: string) =>
  beijingText(deadlineOf(task.deadlines, `${task.id}/${key}`).dueAt!);

const HOUR = 3600_000;
const MINUTE = 60_000;

/** 延期: `extended` is on a case's figures only when granted (it is no summed metric field). */
const extendedOf = (flags: object) => (flags as { extended?: number }).extended ?? 0;

describe('接诉即办 (hotline-12345)', () => {
  it('when a water request is signed for late, extended and rated unsatisfied once, then the centre is told, the extension moves the limit, the reopen halves it and the case closes resolved', async () => {
    // Arrange
    const org = await hotlineOrg();
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, shipped(), org.community.id, {
        category: '供水',
        description: '3号楼停水一天，无任何通知',
        address: '幸福里小区3号楼',
      });
      const intake = await openedTask(kase, 'intake');
      await claimAndComplete(kase, intake.id, org.centre, 'accept', { opinion: '属供水诉求' });
      const handle = await openedTask(kase, 'handle_utility');
      // Nobody signs within 2 working hours: the centre is told (签收督办).
      await bed.skipTo(bj(`${monday} 11:31`));
      const [missed] = await kase.waitForEvents('deadline.missed', 1);
      await kase.waitForEvents('deadline.escalated', 1);
      await bed.skipTo(bj(`${monday} 14:00`));
      await kase.claim(handle.id, org.waterOfficer);
      await kase.handle.executeUpdate(CASE_UPDATES.complete, {
        args: [
          {
            taskId: handle.id,
            actor: actor(org.waterOfficer),
            outcome: 'extend',
            form: { result: '需更换主管道' },
            comment: '主管道破裂，需协调道路开挖许可',
          } satisfies CompleteTaskRequest,
        ],
      });
      const extension = await openedTask(kase, 'extension');
      await claimAndComplete(kase, extension.id, org.centre, 'approve', { opinion: '同意延期' });
      const extended = await openedTask(kase, 'handle_extended');
      await claimAndComplete(kase, extended.id, org.waterOfficer, 'resolved', {
        result: '已更换管道，恢复供水',
      });
      await rateWhenAsked(kase, 2, 1);
      const redo = await openedTask(kase, 'redo_utility');
      await claimAndComplete(kase, redo.id, org.waterOfficer, 'resolved', {
        result: '已冲洗管道，水质恢复',
      });
      await rateWhenAsked(kase, 5, 2);
      const result = (await kase.handle.result()) as CaseStateView;
      return { result, handle, extended, redo, missed, doc: await kase.doc() };
    });

    // Assert: the path, extension and reopen on the timeline
    expect(outcome.result.status).toBe('closed');
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'intake',
      'classify',
      'handle_utility',
      'extension',
      'handle_extended',
      'callback',
      'satisfied',
      'reopen',
      'redo_utility',
      'callback',
      'satisfied',
      'closed',
    ]);
    expect(eventsOf(outcome.doc.timeline, 'task.completed').map((e) => e.detail?.outcome)).toEqual([
      'accept',
      'extend',
      'approve',
      'resolved',
      'resolved',
    ]);
    // Routed by the catalogue to the water department
    expect(outcome.handle.candidates.map((c) => c.personId)).toEqual([org.waterOfficer.personId]);
    expect(eventsOf(outcome.doc.timeline, 'catalogue.routed')[0]!.detail).toMatchObject({
      category: '供水',
      unitId: org.water.id,
    });
    // 签收 missed at 11:30 and the street centre told
    expect(outcome.missed!.detail).toMatchObject({ deadline: 'sign_2h' });
    expect(await mailsOf(org.centre, SUBJECT.escalated)).toHaveLength(1);
    // The limits: 24 h for water, 15 days after the extension, 12 h on the reopen
    expect(due(outcome.handle, 'sign_2h')).toBe(`${monday} 11:30`);
    expect(due(outcome.handle, 'limit_24h')).toBe(`${plusDays(monday, 1)} 09:30`);
    expectDueAfterOpening(outcome.extended, 'limit_extended', 15 * 24 * 3_600_000);
    expectDueAfterOpening(outcome.redo, 'redo_12h', 12 * 3_600_000);
    // Measures: signed late, resolved on time (the last handling's limit), rated 5 in the end
    expect(flagsOf(outcome.doc)).toMatchObject({
      dispatched: 1,
      accepted: 1,
      respondedInTime: 0,
      due: 1,
      completed: 1,
      resolved: 1,
      explained: 0,
      completedOnTime: 1,
      excluded: 0,
      rated: 1,
      satisfied: 1,
      extended: 1,
    });
  });

  it('when a department answers 非本部门职责 and the resident stays unsatisfied, then the centre arbitrates, the ruled unit handles it, it is reopened twice with half the limit and closes as 不满意办结', async () => {
    // Arrange
    const org = await hotlineOrg();
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, shipped(), org.community.id, {
        category: '环境卫生',
        description: '小区门口道路破损积水',
      });
      const intake = await openedTask(kase, 'intake');
      await claimAndComplete(kase, intake.id, org.centre, 'accept', {});
      const handle = await openedTask(kase, 'handle_general');
      await claimAndComplete(
        kase,
        handle.id,
        org.urbanOfficer,
        'not_ours',
        { result: '道路破损属住建' },
        '道路养护不属城管职责',
      );
      const arbitrate = await openedTask(kase, 'arbitrate');
      await claimAndComplete(kase, arbitrate.id, org.centre, 'redispatch', {
        ruling: '裁定住建局承办',
        department: org.roads.id,
      });
      const ruled = await openedTask(kase, 'arbitrated_handle');
      await claimAndComplete(kase, ruled.id, org.roadsOfficer, 'resolved', { result: '已修补' });
      await rateWhenAsked(kase, 1, 1);
      const redo1 = await openedTask(kase, 'redo_general');
      await claimAndComplete(kase, redo1.id, org.urbanOfficer, 'resolved', { result: '已清积水' });
      await rateWhenAsked(kase, 2, 2);
      const redo2 = await openedTask(kase, 'redo_general', 2);
      await claimAndComplete(
        kase,
        redo2.id,
        org.urbanOfficer,
        'explained',
        {
          result: '已解释',
        },
        '已说明排水改造计划',
      );
      await rateWhenAsked(kase, 3, 3);
      const result = (await kase.handle.result()) as CaseStateView;
      return { result, handle, ruled, redo1, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.result.status).toBe('closed');
    const path = stepsEntered(outcome.doc.timeline);
    expect(path.slice(0, 4)).toEqual(['intake', 'classify', 'handle_general', 'arbitrate']);
    expect(path.filter((s) => s === 'redo_general')).toHaveLength(2);
    expect(path.at(-1)).toBe('closed_unsatisfied');
    expect(outcome.handle.candidates.map((c) => c.personId)).toEqual([org.urbanOfficer.personId]);
    expect(outcome.ruled.candidates.map((c) => c.personId)).toEqual([org.roadsOfficer.personId]);
    expect(eventsOf(outcome.doc.timeline, 'case.arbitrated')).toHaveLength(1);
    expect(due(outcome.handle, 'limit_7d')).toBe(`${plusDays(monday, 7)} 09:30`);
    expectDueAfterOpening(outcome.redo1, 'redo_84h', 84 * 3_600_000);
    // Measures: explained in the end (the last handling counts), unsatisfied, arbitrated
    expect(flagsOf(outcome.doc)).toMatchObject({
      accepted: 1,
      completed: 1,
      resolved: 0,
      explained: 1,
      rated: 1,
      satisfied: 0,
      arbitrated: 1,
    });
  });

  it('when the centre refuses a request at 受理, then it ends 不予受理 and leaves every rate', async () => {
    // Arrange
    const org = await hotlineOrg();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.community.id, {
        category: '其他',
        description: '咨询个人所得税政策',
      });
      const intake = await openedTask(kase, 'intake');
      await claimAndComplete(kase, intake.id, org.centre, 'refuse', {}, '属税务咨询，已转12366');
      const result = (await kase.handle.result()) as CaseStateView;
      return { result, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.result.status).toBe('rejected');
    expect((outcome.doc as { metrics?: unknown }).metrics).toEqual({
      received: 1,
      excluded: 1,
      rejected: 1,
      month: expect.any(String) as unknown,
    });
  });
});

describe('接诉即办 measures (接单率, 响应率, 办结率, 解决率, 满意率…)', () => {
  it('when known requests run (refused at 受理, resolved, explained, signed for late but answered on time, reopened once, unsatisfied three times, extended, never rated, never signed for, answered at arbitration, sent back), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: a quiet week; 环境卫生 goes to the 城管局 by the street's catalogue (7-day limit)
    const org = await hotlineOrg();
    const colleague = await bed.addPerson('urban-officer-2', '城管队员乙', [
      [org.urban, 'officer'],
    ]);
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:00`).getTime();
    const request = { category: '环境卫生', description: '楼道堆放杂物，垃圾清运不及时' };

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = () => bed.startCase(queue, shipped(), org.community.id, request);
      // Read from the document: awaiting a workflow result would let the test server skip time.
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const act = async (
        kase: RunningCase,
        stepId: string,
        person: SeededPerson,
        outcome: string,
        visit = 1,
      ) => {
        const task = await openedTask(kase, stepId, visit);
        const form =
          stepId === 'intake' || stepId === 'extension'
            ? {}
            : stepId === 'arbitrate'
              ? { ruling: '已向诉求人答复' }
              : { result: '已处理' };
        await claimAndComplete(kase, task.id, person, outcome, form, '已向诉求人说明');
      };
      const accepted = async () => {
        const kase = await start();
        await act(kase, 'intake', org.centre, 'accept');
        return kase;
      };

      // 1. 不予受理 at the centre
      const refused = await start();
      await act(refused, 'intake', org.centre, 'refuse');
      // 2. resolved at once, rated 5
      const prompt = await accepted();
      await act(prompt, 'handle_general', org.urbanOfficer, 'resolved');
      await rateWhenAsked(prompt, 5, 1);
      // 3. 解释说明, rated 4
      const explained = await accepted();
      await act(explained, 'handle_general', org.urbanOfficer, 'explained');
      await rateWhenAsked(explained, 4, 1);
      // 4. rated 2, reopened (重办, half the limit), resolved again and rated 5
      const reopened = await accepted();
      await act(reopened, 'handle_general', org.urbanOfficer, 'resolved');
      await rateWhenAsked(reopened, 2, 1);
      await act(reopened, 'redo_general', org.urbanOfficer, 'resolved');
      await rateWhenAsked(reopened, 5, 2);
      // 5. unsatisfied three times: reopened twice, then 不满意办结 (explained the last time)
      const unsatisfied = await accepted();
      await act(unsatisfied, 'handle_general', org.urbanOfficer, 'resolved');
      await rateWhenAsked(unsatisfied, 1, 1);
      await act(unsatisfied, 'redo_general', org.urbanOfficer, 'resolved');
      await rateWhenAsked(unsatisfied, 2, 2);
      await act(unsatisfied, 'redo_general', org.urbanOfficer, 'explained', 2);
      await rateWhenAsked(unsatisfied, 3, 3);
      // 6. 申请延期, approved, resolved within the extended limit, rated 4
      const extended = await accepted();
      await act(extended, 'handle_general', org.urbanOfficer, 'extend');
      await act(extended, 'extension', org.centre, 'approve');
      await act(extended, 'handle_extended', org.urbanOfficer, 'resolved');
      await rateWhenAsked(extended, 4, 1);
      // 10. 非本部门职责, and the centre answers at arbitration (答复办结: 解释说明); rated 5
      const arbitrated = await accepted();
      await act(arbitrated, 'handle_general', org.urbanOfficer, 'not_ours');
      await act(arbitrated, 'arbitrate', org.centre, 'close');
      await rateWhenAsked(arbitrated, 5, 1);
      // 11. sent back to the pool (退单) by the officer who signed; a colleague resolves it; rated 4
      const returned = await accepted();
      const sentBack = await openedTask(returned, 'handle_general');
      await returned.claim(sentBack.id, org.urbanOfficer);
      await returned.handle.executeUpdate(CASE_UPDATES.return, {
        args: [{ taskId: sentBack.id, actor: actor(org.urbanOfficer), reason: '本人休假' }],
      });
      await claimAndComplete(returned, sentBack.id, colleague, 'resolved', { result: '已清运' });
      await rateWhenAsked(returned, 4, 1);
      const docs = [];
      for (const kase of [refused, prompt, explained, reopened, unsatisfied, extended]) {
        docs.push(await closed(kase));
      }
      // 7. signed for after sign_2h passed, answered well within limit_7d, rated 5
      const signedLate = await accepted();
      await openedTask(signedLate, 'handle_general');
      // 8. resolved at once, the requester never rates (回访 window of 3 working days passes)
      const unrated = await accepted();
      await act(unrated, 'handle_general', org.urbanOfficer, 'resolved');
      // 9. never signed for: limit_7d passes with the request open
      const unsigned = await accepted();
      await openedTask(unsigned, 'handle_general');

      await bed.skipTo(mondayAt + 2 * HOUR + MINUTE);
      await signedLate.waitForEvents('deadline.missed', 1, { deadline: 'sign_2h' });
      await act(signedLate, 'handle_general', org.urbanOfficer, 'resolved');
      await rateWhenAsked(signedLate, 5, 1);
      docs.push(await closed(signedLate));
      // A week on: the rating window and the unsigned request's limit_7d have passed
      await bed.skipTo(bj(`${plusDays(monday, 7)} 10:00`).getTime());
      docs.push(await closed(unrated));
      await unsigned.waitForEvents('deadline.missed', 1, { deadline: 'limit_7d' });
      docs.push(await unsigned.doc(), await closed(arbitrated), await closed(returned));
      const cases = [
        refused,
        prompt,
        explained,
        reopened,
        unsatisfied,
        extended,
        signedLate,
        unrated,
        unsigned,
        arbitrated,
        returned,
      ];
      return { docs, cases };
    });

    // Assert: the flags each request carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'rejected',
      'closed',
      'closed',
      'closed',
      'closed',
      'closed',
      'closed',
      'closed',
      'open',
      'closed',
      'closed',
    ]);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 0, 0, 0],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 1, 1, 1],
      [0, 1, 0, 0],
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
      [1, 1, 0, 1, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 0, 0, 0, 0],
      [1, 1, 0, 1, 1],
      [1, 1, 1, 0, 1],
    ]);
    expect(
      metrics.map((m) => [m.ratingInvited, m.rated, m.satisfied, m.ratingMissing, extendedOf(m)]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 1, 0, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 1, 0],
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0],
    ]);
    expect(metrics.map((m) => [m.escalated, m.overdue, m.returnedCase, m.arbitrated])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [1, 1, 0, 0],
      [0, 0, 0, 0],
      [1, 1, 0, 0],
      [0, 0, 0, 1],
      [0, 0, 1, 0],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.9, // 9 signed for of 10 dispatched (the refused one is in no denominator)
      responseRate: 0.8, // 8 within sign_2h; the late signature and the unsigned one are not
      completionRate: 0.9, // 9 completed of 10 due (the unsigned one is past limit_7d)
      resolutionRate: 0.6, // 6 resolved of 10 due; 3 解释说明 (the handler's, the last one after the reopens, the arbitration's)
      onTimeRate: 1, // 9 of 9 within their limit (the reopen's and the extension's own); a late 签收 does not count
      satisfactionRate: 0.875, // 7 of 8 rated 4–5: the reopened one by its last rating; 不满意办结 not
      participationRate: 0.8889, // 8 rated of 9 asked (one window passed)
      visitRate: 0.8889, // 8 rated of 9 completed
      disputeResolutionRate: null,
      supervisionRate: 0.2, // 2 escalated of 10 dispatched (sign_2h twice, limit_7d)
      returnRate: 0.1, // 1 sent back to the pool (退单) of 10 dispatched
      overdueRate: 0.2, // 2 overdue of 10 received and not refused
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = shipped().spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

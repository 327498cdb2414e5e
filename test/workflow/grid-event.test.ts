import type { CompleteTaskRequest } from '../../common/case';
import { CASE_UPDATES } from '../../common/case';
import { planDeadline } from '../../common/sla';
import type { CaseStateView } from '../../workflows/projection';
import { createCatalogueService } from '../../services/catalogue';
import { figuresOf } from '../../services/metrics';
import { createOrgSnapshot } from '../../common/org-snapshot';
import { beijingText, bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { waitFor } from '../support/harness';
import type { SeededOrg, SeededPerson, SeededUnit, SlaTestBed } from '../support/sla-cases';
import {
  actor,
  claimAndComplete,
  deadlineOf,
  eventsOf,
  expectFiredAt,
  mailsOf,
  openedTask,
  plusDays,
  stepsEntered,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 网格事件办理 process (definitions/grid-event.yaml, Hanzhong's 网格发现 → 中心汇集 →
 * 分流处置 → 限期办理) on the time-skipping server with the real activities: the street centre routes
 * an event to a department or the grid, the handler replies, the centre strikes it off or sends it
 * round again; an overdue event is supervised (督办) one level up the chain each working day, from
 * the grid chief to the county.
 */
let bed: SlaTestBed;

useSlaTestBed('grid-event', (ready) => {
  bed = ready;
});

/** The process under test, as shipped (definitions/grid-event.yaml). */
const shipped = () => bed.shipped('grid-event.yaml');

/** The seeded corner plus the posts this process names: the street centre, the chain upwards. */
interface GridOrg extends SeededOrg {
  centre: SeededPerson;
  gridLeader: SeededPerson;
  communityOfficer: SeededPerson;
  streetLeader: SeededPerson;
  countyLeader: SeededPerson;
  department: SeededUnit;
  departmentOfficer: SeededPerson;
  departmentDirector: SeededPerson;
}

async function gridOrg(): Promise<GridOrg> {
  const org = await bed.seedOrg();
  const department = await bed.addUnit('department', '城市管理局', org.county);
  return {
    ...org,
    centre: await bed.addPerson('centre', '综治中心派单员', [[org.street, 'dispatcher']]),
    gridLeader: await bed.addPerson('grid-leader', '网格长', [[org.grid, 'grid-leader']]),
    communityOfficer: await bed.addPerson('community-officer', '社区干事', [
      [org.community, 'officer'],
    ]),
    streetLeader: await bed.addPerson('street-leader', '街道分管领导', [[org.street, 'leader']]),
    countyLeader: await bed.addPerson('county-leader', '县分管领导', [[org.county, 'leader']]),
    department,
    departmentOfficer: await bed.addPerson('dept-officer', '城管队员', [[department, 'officer']]),
    departmentDirector: await bed.addPerson('dept-director', '城管局长', [
      [department, 'director'],
    ]),
  };
}

const event = {
  category: '环境卫生',
  description: '背街小巷建筑垃圾堆放，影响通行',
  location: '幸福巷12号门前',
  households: 30,
  risk: false,
};

async function mailsEventually(person: SeededPerson, marker: string, count: number) {
  return waitFor(`${count} mail(s) "${marker}" to ${person.name}`, async () => {
    const found = await mailsOf(person, marker);
    return found.length >= count ? found : undefined;
  });
}

/** Publishes a unit's dispatch catalogue as an admin would (e.g. the street's: 环境卫生 → 城管局). */
async function publishCatalogue(
  ownerUnitId: string,
  entries: Array<{ category: string; unitId: string }>,
) {
  const catalogue = createCatalogueService({
    models: bed.db.models,
    snapshot: createOrgSnapshot({ models: bed.db.models }),
    clock: () => new Date(),
  });
  await catalogue.publish(
    { kind: 'user', id: 'admin', roles: ['admin'], unitIds: [] },
    ownerUnitId,
    entries,
  );
}

const HOUR = 3600_000;
const MINUTE = 60_000;

describe('网格事件办理 (grid-event)', () => {
  it('when the centre routes an event to a department and then, on review, to the grid, then each handler replies within its limit and the centre strikes it off', async () => {
    // Arrange
    const org = await gridOrg();
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, shipped(), org.grid.id, event);
      const collect = await openedTask(kase, 'collect');
      await claimAndComplete(kase, collect.id, org.centre, 'to_department', {
        opinion: '占道堆放建筑垃圾，属城管职责',
        department: org.department.id,
      });
      const department = await openedTask(kase, 'department_handle');
      await claimAndComplete(kase, department.id, org.departmentOfficer, 'resolved', {
        result: '已责令清运',
      });
      const verify = await openedTask(kase, 'verify');
      await claimAndComplete(
        kase,
        verify.id,
        org.centre,
        'redo',
        { finding: '现场仍有残余，需网格跟进' },
        '残余建筑垃圾未清净',
      );
      const collect2 = await openedTask(kase, 'collect', 2);
      await claimAndComplete(kase, collect2.id, org.centre, 'to_grid', {
        opinion: '交网格跟进清理',
      });
      const grid = await openedTask(kase, 'grid_handle');
      await claimAndComplete(kase, grid.id, org.gridWorker, 'resolved', {
        result: '组织居民清理完毕',
      });
      const verify2 = await openedTask(kase, 'verify', 2);
      await claimAndComplete(kase, verify2.id, org.centre, 'pass', { finding: '已清理干净' });
      const result = (await kase.handle.result()) as CaseStateView;
      return { result, collect, department, grid, verify, doc: await kase.doc() };
    });

    // Assert: the path
    expect(outcome.result.status).toBe('closed');
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'collect',
      'department_handle',
      'verify',
      'collect',
      'grid_handle',
      'verify',
      'closed',
    ]);
    expect(eventsOf(outcome.doc.timeline, 'task.completed').map((e) => e.detail?.outcome)).toEqual([
      'to_department',
      'resolved',
      'redo',
      'to_grid',
      'resolved',
      'pass',
    ]);
    // Who was asked: the street centre, the department chosen in the form, the grid's workers
    expect(outcome.collect.candidateUserIds).toEqual([org.centre.userId]);
    expect(outcome.department.candidateUserIds).toEqual([org.departmentOfficer.userId]);
    expect([...outcome.grid.candidateUserIds].sort()).toEqual(
      [org.gridWorker.userId, org.gridWorker2.userId].sort(),
    );
    // The limits, in working time from Monday 09:30 (a quiet week)
    const due = (task: typeof outcome.collect, key: string) =>
      beijingText(deadlineOf(task.deadlines, `${task.id}/${key}`).dueAt!);
    expect(due(outcome.collect, 'collect_2h')).toBe(`${monday} 11:30`);
    expect(due(outcome.department, 'handle_5d')).toBe(`${plusDays(monday, 7)} 09:30`);
    expect(due(outcome.grid, 'handle_2d')).toBe(`${plusDays(monday, 2)} 09:30`);
    expect(due(outcome.verify, 'verify_1d')).toBe(`${plusDays(monday, 1)} 09:30`);
    expect(eventsOf(outcome.doc.timeline, 'deadline.missed')).toEqual([]);
    // Mails: the dispatch of each task to its candidates, nothing escalated
    expect(await mailsEventually(org.centre, SUBJECT.assigned, 4)).toHaveLength(4);
    expect(await mailsOf(org.departmentOfficer, SUBJECT.assigned)).toHaveLength(1);
    expect(await mailsOf(org.gridWorker, SUBJECT.assigned)).toHaveLength(1);
    for (const person of [org.gridLeader, org.director, org.streetLeader, org.countyLeader]) {
      expect(await mailsOf(person, SUBJECT.escalated)).toHaveLength(0);
    }
    // Measures: the department's task is the acceptance (not the centre's 研判); resolved on
    // time, the last handling (the grid's, after 重新交办) counting
    expect(flagsOf(outcome.doc)).toMatchObject({
      dispatched: 1,
      accepted: 1,
      respondedInTime: 1,
      due: 1,
      completed: 1,
      resolved: 1,
      explained: 0,
      completedOnTime: 1,
      excluded: 0,
    });
  });

  it('when the grid does not finish within 2 working days, then the grid chief, the community director, the street leader and the county leader are called one working day apart', async () => {
    // Arrange
    const org = await gridOrg();
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 10:00`));
      const kase = await bed.startCase(queue, shipped(), org.grid.id, event);
      const collect = await openedTask(kase, 'collect');
      await claimAndComplete(kase, collect.id, org.centre, 'to_grid', { opinion: '网格自办' });
      const task = await openedTask(kase, 'grid_handle');
      await kase.claim(task.id, org.gridWorker);
      const plan = planDeadline(
        await bed.calendar(),
        {
          within: '2 working days',
          reminders: [{ before: 'PT4H' }],
          escalations: [
            {},
            { after: '1 working day' },
            { after: '2 working days' },
            { after: '3 working days' },
          ],
        },
        task.openedAt.toISOString(),
      );
      await bed.skipTo(Date.parse(plan.escalations[1]!.at) + 60_000);
      const early = await kase.waitForEvents('deadline.escalated', 2);
      const beforeStreet = await mailsOf(org.streetLeader, SUBJECT.escalated);
      await bed.skipTo(Date.parse(plan.escalations[3]!.at) + 60_000);
      const escalated = await kase.waitForEvents('deadline.escalated', 4);
      // The county level opens a red 督办单 for the community director.
      const [slip] = await kase.waitForEvents('supervision.opened', 1);
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      const [missed] = await kase.waitForEvents('deadline.missed', 1);
      // The grid worker finally replies; the centre strikes the event off.
      await kase.complete(task.id, org.gridWorker, 'resolved', { result: '已协调清运' });
      const verify = await openedTask(kase, 'verify');
      await claimAndComplete(kase, verify.id, org.centre, 'pass', { finding: '已清理' });
      const result = (await kase.handle.result()) as CaseStateView;
      // Still unanswered when the event was struck off: closed with the case.
      const [moot] = await kase.waitForEvents('supervision.moot', 1);
      const doc = await kase.doc();
      return {
        task,
        plan,
        early,
        beforeStreet,
        escalated,
        reminded,
        missed,
        result,
        slip,
        moot,
        doc,
      };
    });

    // Assert: due Wednesday at the time it opened; levels Wednesday, Thursday, Friday, Monday
    const { plan, escalated } = outcome;
    expect(plan.dueAt).toBe(
      deadlineOf(outcome.task.deadlines, `${outcome.task.id}/handle_2d`).dueAt,
    );
    expect(plan.escalations.map((e) => beijingText(e.at))).toEqual([
      `${plusDays(monday, 2)} 10:00`,
      `${plusDays(monday, 3)} 10:00`,
      `${plusDays(monday, 4)} 10:00`,
      `${plusDays(monday, 7)} 10:00`,
    ]);
    expectFiredAt(outcome.reminded!.at, plan.reminders[0]!.at);
    expectFiredAt(outcome.missed!.at, plan.dueAt!);
    expect(outcome.early).toHaveLength(2);
    expect(outcome.beforeStreet).toHaveLength(0);
    expect(escalated.map((e) => [e.detail?.level, e.detail?.unitId, e.detail?.fellBack])).toEqual([
      [1, org.grid.id, false],
      [2, org.community.id, false],
      [3, org.street.id, false],
      [4, org.county.id, false],
    ]);
    escalated.forEach((e, i) => expectFiredAt(e.at, plan.escalations[i]!.at));
    // Each level's mail went to the person holding the post at that level, once
    const levels: Array<[SeededPerson, number]> = [
      [org.gridLeader, 1],
      [org.director, 2],
      [org.streetLeader, 3],
      [org.countyLeader, 4],
    ];
    for (const [person, level] of levels) {
      const mails = await mailsEventually(person, SUBJECT.escalated, 1);
      expect(mails.map((m) => m.subject)).toEqual([expect.stringContaining(`第 ${level} 级督办`)]);
    }
    expect(await mailsEventually(org.gridWorker, SUBJECT.reminder, 1)).toHaveLength(1);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(0);
    expect(outcome.result.status).toBe('closed');
    // Measures: taken at once, but done after its 办结时限 (handle_2d): due, completed, late
    expect(flagsOf(outcome.doc)).toMatchObject({
      accepted: 1,
      respondedInTime: 1,
      due: 1,
      completed: 1,
      resolved: 1,
      completedOnTime: 0,
      escalated: 1,
      supervised: 1,
    });
    expect(outcome.slip!.detail).toMatchObject({ level: 'red', escalation: 4, candidates: 1 });
    expectFiredAt(outcome.slip!.at, plan.escalations[3]!.at);
    expect(outcome.moot!.detail).toEqual({ task: outcome.slip!.detail?.task });
  });

  it('when the centre judges an event outside its remit, then the case ends as not accepted', async () => {
    // Arrange
    const org = await gridOrg();

    // Act
    const result = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.grid.id, event);
      const collect = await openedTask(kase, 'collect');
      await kase.claim(collect.id, org.centre);
      const refusal: CompleteTaskRequest = {
        taskId: collect.id,
        actor: actor(org.centre),
        outcome: 'not_accepted',
        form: { opinion: '属司法诉讼事项' },
        comment: '已引导当事人依法起诉',
      };
      await kase.handle.executeUpdate(CASE_UPDATES.complete, { args: [refusal] });
      return { ...((await kase.handle.result()) as CaseStateView), doc: await kase.doc() };
    });

    // Assert: 不予受理 is in no rate's denominator
    expect(result.status).toBe('rejected');
    expect((result.doc as { metrics?: unknown }).metrics).toEqual({
      received: 1,
      excluded: 1,
      rejected: 1,
      month: expect.any(String) as unknown,
    });
  });
});

describe('网格事件办理 by the dispatch catalogue (派单目录)', () => {
  it('when the centre routes by the catalogue and the department answers 非本部门职责, then the street centre arbitrates, the ruled unit handles it, and the case counts as arbitrated', async () => {
    // Arrange
    const org = await gridOrg();
    const roads = await bed.addUnit('department', '住建局', org.county);
    const roadsOfficer = await bed.addPerson('roads-officer', '住建干事', [[roads, 'officer']]);
    await publishCatalogue(org.street.id, [{ category: '环境卫生', unitId: org.department.id }]);
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, shipped(), org.grid.id, event);
      const collect = await openedTask(kase, 'collect');
      await claimAndComplete(kase, collect.id, org.centre, 'by_catalogue', {
        opinion: '按派单目录交办',
      });
      const handle = await openedTask(kase, 'catalogue_handle');
      await claimAndComplete(
        kase,
        handle.id,
        org.departmentOfficer,
        'not_ours',
        { result: '道路破损不属城管职责' },
        '属住建部门职责',
      );
      const arbitrate = await openedTask(kase, 'arbitrate');
      await claimAndComplete(kase, arbitrate.id, org.centre, 'redispatch', {
        ruling: '裁定由住建局承办',
        department: roads.id,
      });
      const ruled = await openedTask(kase, 'arbitrated_handle');
      await claimAndComplete(kase, ruled.id, roadsOfficer, 'resolved', { result: '已修复' });
      const verify = await openedTask(kase, 'verify');
      await claimAndComplete(kase, verify.id, org.centre, 'pass', { finding: '已修复' });
      const result = (await kase.handle.result()) as CaseStateView;
      return { result, handle, arbitrate, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.result.status).toBe('closed');
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'collect',
      'catalogue_handle',
      'arbitrate',
      'arbitrated_handle',
      'verify',
      'closed',
    ]);
    const routed = eventsOf(outcome.doc.timeline, 'catalogue.routed');
    expect(routed.map((e) => e.detail)).toEqual([
      {
        task: expect.any(String) as string,
        category: '环境卫生',
        catalogue: org.street.id,
        revision: 1,
        unitId: org.department.id,
      },
    ]);
    expect(eventsOf(outcome.doc.timeline, 'case.arbitrated')).toHaveLength(1);
    expect(
      (outcome.doc as unknown as { metrics: { arbitrated?: number } }).metrics.arbitrated,
    ).toBe(1);
    expect(
      deadlineOf(outcome.arbitrate.deadlines, `${outcome.arbitrate.id}/arbitrate_2d`).dueAt,
    ).not.toBeNull();
    expect(outcome.handle.candidates.map((c) => c.personId)).toEqual([
      org.departmentOfficer.personId,
    ]);
    expect(outcome.arbitrate.candidates.map((c) => c.personId)).toEqual([org.centre.personId]);
  });

  it('when the catalogue has no entry for the category, then the task goes to the street centre (兜底) and the timeline says so', async () => {
    // Arrange
    const org = await gridOrg();
    await publishCatalogue(org.street.id, [{ category: '市政设施', unitId: org.department.id }]);
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, shipped(), org.grid.id, event);
      const collect = await openedTask(kase, 'collect');
      await claimAndComplete(kase, collect.id, org.centre, 'by_catalogue', { opinion: '按目录' });
      const handle = await openedTask(kase, 'catalogue_handle');
      // The centre's dispatcher holds the task now: completing it proves they are its candidate.
      await claimAndComplete(kase, handle.id, org.centre, 'resolved', { result: '中心自办' });
      return { doc: await kase.doc() };
    });

    // Assert
    const unmatched = eventsOf(outcome.doc.timeline, 'catalogue.unmatched');
    expect(unmatched).toHaveLength(1);
    expect(unmatched[0]!.detail).toMatchObject({ category: '环境卫生', catalogue: org.street.id });
  });
});

describe('网格事件办理 measures (接单率, 办结率, 解决率, 按期办结率…)', () => {
  it('when known events run (refused at the centre, resolved by the grid, explained by the community, routed late by the centre but handled on time, handled after the grid’s limit, never taken, sent back by the department, answered at arbitration), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: a quiet week, the street centre and the chain upwards
    const org = await gridOrg();
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:00`).getTime();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
      const start = () => bed.startCase(queue, shipped(), org.grid.id, event);
      // Read from the document: awaiting a workflow result would let the test server skip time.
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const act = async (
        kase: Kase,
        stepId: string,
        person: SeededPerson,
        outcome: string,
        form: Record<string, unknown>,
        visit = 1,
      ) => {
        const task = await openedTask(kase, stepId, visit);
        await claimAndComplete(kase, task.id, person, outcome, form, '按规定答复');
      };
      const struckOff = async (kase: Kase) => {
        await act(kase, 'verify', org.centre, 'pass', { finding: '核查属实' });
        return closed(kase);
      };

      // 1. 不予受理 at the centre
      const refused = await start();
      await act(refused, 'collect', org.centre, 'not_accepted', { opinion: '属司法诉讼事项' });
      // 2. the grid resolves it at once
      const byGrid = await start();
      await act(byGrid, 'collect', org.centre, 'to_grid', { opinion: '网格自办' });
      await act(byGrid, 'grid_handle', org.gridWorker, 'resolved', { result: '已清理' });
      // 3. the community explains it (解释说明) at once
      const explained = await start();
      await act(explained, 'collect', org.centre, 'to_community', { opinion: '交社区' });
      await act(explained, 'community_handle', org.communityOfficer, 'explained', {
        result: '已向居民解释：属规划待建区域',
      });
      const docs = [await closed(refused), await struckOff(byGrid), await struckOff(explained)];
      // 7. the department sends it back (部门退回, 退单); the centre routes it to the grid
      const returned = await start();
      await act(returned, 'collect', org.centre, 'to_department', {
        opinion: '属城管职责',
        department: org.department.id,
      });
      const sentBack = await openedTask(returned, 'department_handle');
      await returned.claim(sentBack.id, org.departmentOfficer);
      await returned.handle.executeUpdate(CASE_UPDATES.return, {
        args: [{ taskId: sentBack.id, actor: actor(org.departmentOfficer), reason: '属网格自办' }],
      });
      await act(returned, 'collect', org.centre, 'to_grid', { opinion: '网格自办' }, 2);
      await act(returned, 'grid_handle', org.gridWorker, 'resolved', { result: '已清理' });
      // 8. by the catalogue, which has no entry here: the street centre (兜底) answers 非本部门职责
      // and, at arbitration, closes it with an answer (答复办结: 解释说明)
      const arbitrated = await start();
      await act(arbitrated, 'collect', org.centre, 'by_catalogue', { opinion: '按目录' });
      await act(arbitrated, 'catalogue_handle', org.centre, 'not_ours', { result: '非职责' });
      await act(arbitrated, 'arbitrate', org.centre, 'close', { ruling: '已答复当事人' });
      const later = [await struckOff(returned), await closed(arbitrated)];
      // 4. routed after the centre's collect_2h passed; the department's own limit is met
      const routedLate = await start();
      await openedTask(routedLate, 'collect');
      // 5. the grid takes it at once but replies after handle_2d
      const lateGrid = await start();
      await act(lateGrid, 'collect', org.centre, 'to_grid', { opinion: '网格自办' });
      const lateTask = await openedTask(lateGrid, 'grid_handle');
      await lateGrid.claim(lateTask.id, org.gridWorker);
      // 6. sent to the grid and never taken: handle_2d passes with the event open
      const untaken = await start();
      await act(untaken, 'collect', org.centre, 'to_grid', { opinion: '网格自办' });
      await openedTask(untaken, 'grid_handle');

      await bed.skipTo(mondayAt + 2 * HOUR + MINUTE);
      await routedLate.waitForEvents('deadline.missed', 1, { deadline: 'collect_2h' });
      await act(routedLate, 'collect', org.centre, 'to_department', {
        opinion: '属城管职责',
        department: org.department.id,
      });
      await act(routedLate, 'department_handle', org.departmentOfficer, 'resolved', {
        result: '已责令清运',
      });
      docs.push(await struckOff(routedLate));
      // Wednesday 09:01: two working days have passed for the grid
      await bed.skipTo(bj(`${plusDays(monday, 2)} 09:01`).getTime());
      await lateGrid.waitForEvents('deadline.missed', 1, { deadline: 'handle_2d' });
      await untaken.waitForEvents('deadline.missed', 1, { deadline: 'handle_2d' });
      await lateGrid.complete(lateTask.id, org.gridWorker, 'resolved', { result: '已协调清运' });
      docs.push(await struckOff(lateGrid));
      docs.push(await untaken.doc(), ...later);
      const cases = [
        refused,
        byGrid,
        explained,
        routedLate,
        lateGrid,
        untaken,
        returned,
        arbitrated,
      ];
      return { docs, cases };
    });

    // Assert: the flags each event carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'rejected',
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
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 1, 0, 1, 1],
    ]);
    expect(
      metrics.map((m) => [m.ratingInvited, m.escalated, m.overdue, m.returnedCase, m.arbitrated]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 1, 1, 0, 0],
      [0, 1, 1, 0, 0],
      [0, 1, 1, 0, 0],
      [0, 0, 0, 1, 0],
      [0, 0, 0, 0, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.8571, // 6 taken of 7 handed to a handler (the refused one is in no denominator)
      responseRate: 0.8571, // the 6 were taken before their handling limit passed
      completionRate: 0.8571, // 6 completed of 7 due (the untaken one is past handle_2d)
      resolutionRate: 0.5714, // 4 resolved of 7 due; the community's and the arbitration's 解释说明 are not
      onTimeRate: 0.8333, // 5 of 6 within the handler's limit; the centre's late 研判 does not count
      satisfactionRate: null, // no feedback step: the centre's 核查销号 is the check, not a rating
      participationRate: null, // nobody is asked to rate
      visitRate: 0, // 0 rated of 6 completed
      disputeResolutionRate: null,
      supervisionRate: 0.4286, // 3 escalated of 7 dispatched (collect_2h, handle_2d twice)
      returnRate: 0.1429, // 1 sent back (部门退回) of 7 dispatched
      overdueRate: 0.4286, // 3 overdue of 7 received and not refused
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = shipped().spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

describe('网格事件办理 supervision ladders (upTree, 逐级督办)', () => {
  it('when the centre’s 研判, the catalogue department’s handling and the arbitration each let their limit pass, then each ladder calls the street leader at its deadline and the county leader one working day later', async () => {
    // Arrange: the street's catalogue sends 环境卫生 to the 城管局.
    const org = await gridOrg();
    await publishCatalogue(org.street.id, [{ category: '环境卫生', unitId: org.department.id }]);
    const monday = await bed.quietMonday();
    const calendar = await bed.calendar();
    /** Each ladder: level 1 at the deadline, level 2 one working day later (`every`). */
    const ladderPlan = (within: string, openedAt: Date) =>
      planDeadline(
        calendar,
        { within, reminders: [], escalations: [{}, { after: '1 working day' }] },
        openedAt.toISOString(),
      );

    // Act: each of the three tasks is left past its ladder's second level, then taken.
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, shipped(), org.grid.id, event);
      const escalatedAt = async (stepId: string, openedAt: Date, within: string) => {
        const plan = ladderPlan(within, openedAt);
        await bed.skipTo(Date.parse(plan.escalations[1]!.at) + MINUTE);
        const doc = await kase.waitForDoc(
          `both levels of ${stepId}'s ladder`,
          (d) =>
            eventsOf(d.timeline, 'deadline.escalated').filter((e) => e.stepId === stepId).length >=
            2,
        );
        const entries = eventsOf(doc.timeline, 'deadline.escalated').filter(
          (e) => e.stepId === stepId,
        );
        return { plan, entries };
      };
      const collect = await openedTask(kase, 'collect');
      const collectLadder = await escalatedAt('collect', collect.openedAt, '2 working hours');
      await claimAndComplete(kase, collect.id, org.centre, 'by_catalogue', { opinion: '按目录' });
      const handle = await openedTask(kase, 'catalogue_handle');
      const handleLadder = await escalatedAt('catalogue_handle', handle.openedAt, '5 working days');
      await claimAndComplete(
        kase,
        handle.id,
        org.departmentOfficer,
        'not_ours',
        { result: '不属城管职责' },
        '属住建部门职责',
      );
      const arbitrate = await openedTask(kase, 'arbitrate');
      const arbitrateLadder = await escalatedAt('arbitrate', arbitrate.openedAt, '2 working days');
      await claimAndComplete(
        kase,
        arbitrate.id,
        org.centre,
        'close',
        { ruling: '已答复' },
        '已向群众答复',
      );
      const result = (await kase.handle.result()) as CaseStateView;
      return { result, collectLadder, handleLadder, arbitrateLadder, doc: await kase.doc() };
    });

    // Assert: the centre's 2 working hours from Monday 09:30 end at 11:30; the county follows
    // one working day later (a quiet week)
    expect(outcome.collectLadder.plan.escalations.map((e) => beijingText(e.at))).toEqual([
      `${monday} 11:30`,
      `${plusDays(monday, 1)} 11:30`,
    ]);
    // Each ladder: level 1 the street (its first unit of the types above the grid), level 2 the
    // county, each reached in its own unit (no 兜底), each at its planned instant
    for (const ladder of [outcome.collectLadder, outcome.handleLadder, outcome.arbitrateLadder]) {
      expect(
        ladder.entries.map((e) => [
          e.detail?.level,
          e.detail?.ladder,
          e.detail?.unitId,
          e.detail?.fellBack,
          e.detail?.people,
        ]),
      ).toEqual([
        [1, 1, org.street.id, false, 1],
        [2, 2, org.county.id, false, 1],
      ]);
      ladder.entries.forEach((e, i) => expectFiredAt(e.at, ladder.plan.escalations[i]!.at));
    }
    // The mails: three 第 1 级督办 to the street leader, three 第 2 级督办 to the county leader,
    // none lower down the chain
    const street = await mailsEventually(org.streetLeader, SUBJECT.escalated, 3);
    const county = await mailsEventually(org.countyLeader, SUBJECT.escalated, 3);
    expect(street.map((m) => m.subject)).toEqual(
      Array(3).fill(expect.stringContaining('第 1 级督办')),
    );
    expect(county.map((m) => m.subject)).toEqual(
      Array(3).fill(expect.stringContaining('第 2 级督办')),
    );
    for (const person of [org.gridLeader, org.director, org.departmentDirector]) {
      expect(await mailsOf(person, SUBJECT.escalated)).toHaveLength(0);
    }
    expect(outcome.result.status).toBe('closed');
  });
});

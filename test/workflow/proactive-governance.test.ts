import { Worker } from '@temporalio/worker';
import { CASE_WORKFLOW_TYPE } from '../../common/case';
import { caseStartOf } from '../../common/case-start';
import { MAX_RECURRENCE_GROUPS } from '../../common/recurrence';
import type { Principal } from '../../services/auth';
import { retryInputOf } from '../../services/case-failures';
import { createCatalogueService } from '../../services/catalogue';
import { createOrgSnapshot } from '../../common/org-snapshot';
import { createMetricsService, figuresOf } from '../../services/metrics';
import { createScopeResolver } from '../../services/scope';
import { bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import type {
  RunningCase,
  SeededOrg,
  SeededPerson,
  SeededUnit,
  SlaTestBed,
  TimelineEvent,
} from '../support/sla-cases';
import {
  claimAndComplete,
  eventsOf,
  expectFiredAt,
  mailsOf,
  openedTask,
  plusDays,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';
import { testDataConverter, testStack } from '../support/test-stack';

/**
 * 未诉先办 (issue 17) on the time-skipping server with the real activities and FerretDB: the
 * `recurrence` step reads the projected requests of a street's period, groups them by category
 * and compound, and opens exactly one proactive case per group over the threshold; the same
 * analysis run again (a retry of the case) or replayed opens none twice. Then the shipped
 * proactive case's missed analysis deadline escalates to the street director.
 */
let bed: SlaTestBed;

useSlaTestBed('proactive-governance', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;

/** A projected request of `key` filed for `unitId`, received `daysAgo` days before `now`. */
function request(
  id: string,
  key: string,
  unitId: string,
  category: string,
  now: number,
  options: { daysAgo?: number; status?: string } = {},
) {
  const receivedAt = new Date(now - (options.daysAgo ?? 5) * DAY);
  return {
    _id: id,
    revision: 3,
    status: options.status ?? 'closed',
    definitionKey: key,
    definitionVersion: 1,
    definitionName: key,
    data: { category, description: '反映问题' },
    createdBy: { kind: 'user', id: 'usr_resident' },
    unitId,
    channel: 'api',
    requestHash: 'h',
    createdAt: receivedAt,
    updatedAt: receivedAt,
  };
}

/** The analysis under test: the shipped one's step, counting by compound, 3 or more. */
function analysis() {
  return bed.definition({
    key: 'test-proactive-governance',
    name: '高频诉求分析（测试）',
    starters: ['admin'],
    input: { fields: [] },
    steps: [
      {
        id: 'analyse',
        name: '高频诉求分析',
        type: 'recurrence',
        cases: {
          from: 'addDays(date(case.receivedAt), -30)',
          to: 'date(case.receivedAt)',
          definitions: ['hotline-12345', 'grid-event'],
        },
        place: 'compound',
        threshold: 3,
        definition: 'proactive-case',
      },
      { id: 'closed', name: '分析完成', type: 'end' },
    ],
    measures: {},
  });
}

interface Places {
  org: SeededOrg;
  compoundA: SeededUnit;
  compoundB: SeededUnit;
}

/** Two compounds in the org's grid (a building in the first) and the street's month of requests. */
async function seedRequests(): Promise<Places & { expectedA: string[]; expectedB: string[] }> {
  const org = await bed.seedOrg();
  const compoundA = await bed.addUnit('compound', '幸福小区', org.grid);
  const compoundB = await bed.addUnit('compound', '和谐小区', org.grid);
  const building = await bed.addUnit('building', '1号楼', compoundA);
  const now = await bed.now();
  const t = org.street.id;
  await bed.db.models.Case.create([
    // 幸福小区: 供水 three times (once from its building), 噪声扰民 twice.
    request(`${t}-a1`, 'hotline-12345', compoundA.id, '供水', now, { daysAgo: 3 }),
    request(`${t}-a2`, 'hotline-12345', building.id, '供水', now, { daysAgo: 4, status: 'open' }),
    request(`${t}-a3`, 'grid-event', compoundA.id, '供水', now, { daysAgo: 10 }),
    request(`${t}-a4`, 'grid-event', compoundA.id, '噪声扰民', now),
    request(`${t}-a5`, 'hotline-12345', compoundA.id, '噪声扰民', now),
    // 和谐小区: 噪声扰民 four times, 供水 once.
    request(`${t}-b1`, 'hotline-12345', compoundB.id, '噪声扰民', now, { daysAgo: 1 }),
    request(`${t}-b2`, 'hotline-12345', compoundB.id, '噪声扰民', now, { daysAgo: 2 }),
    request(`${t}-b3`, 'grid-event', compoundB.id, '噪声扰民', now, { daysAgo: 6 }),
    request(`${t}-b4`, 'grid-event', compoundB.id, '噪声扰民', now, { daysAgo: 7 }),
    request(`${t}-b5`, 'hotline-12345', compoundB.id, '供水', now),
    // Not counted: before the period, a process not listed, withdrawn (撤销), filed for the grid
    // itself (no compound), another county's.
    request(`${t}-x1`, 'hotline-12345', compoundB.id, '供水', now, { daysAgo: 45 }),
    request(`${t}-x2`, 'three-orders', compoundB.id, '供水', now),
    request(`${t}-x3`, 'hotline-12345', compoundB.id, '供水', now, { status: 'cancelled' }),
    request(`${t}-x4`, 'hotline-12345', org.grid.id, '供水', now),
    request(`${t}-x5`, 'hotline-12345', org.county.id, '噪声扰民', now),
  ]);
  return {
    org,
    compoundA,
    compoundB,
    expectedA: [`${t}-a1`, `${t}-a2`, `${t}-a3`],
    expectedB: [`${t}-b1`, `${t}-b2`, `${t}-b3`, `${t}-b4`],
  };
}

/** The child case ids a timeline says the analysis opened. */
function openedIds(timeline: readonly TimelineEvent[]): string[] {
  return eventsOf(timeline, 'subprocess.started').map((e) => String(e.detail?.caseId));
}

describe('未诉先办: recurring requests open proactive cases', () => {
  it('when a street month holds requests of two categories at two compounds, then exactly the groups over the threshold open one proactive case each, and a retry or a replay opens none twice', async () => {
    // Arrange
    const places = await seedRequests();
    const { org } = places;
    await bed.publish(bed.shipped('proactive-case.yaml'));
    const definition = analysis();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, definition, org.street.id);
      const first = await kase.waitForDoc('the analysis to close', (d) => d.status === 'closed');
      // The read model says closed a moment before the execution ends: a retry under the same id
      // must wait for the end, as the admin's retry does (it needs a closed execution).
      await kase.handle.result();
      const history = await kase.handle.fetchHistory();
      const children = openedIds(first.timeline);
      const childDocs = await Promise.all(
        children.map((id) =>
          bed.childCase(id).waitForDoc('the proactive case to open', (d) => d.status === 'open'),
        ),
      );
      // A second run of the same analysis: the case retried from its step, as an admin would.
      const stored = await bed.db.models.Case.findById(kase.caseId).lean();
      const built = retryInputOf({
        doc: stored!,
        taskIds: [],
        definition,
        stepId: 'analyse',
        by: { kind: 'user', id: 'usr_admin' },
      });
      if ('problem' in built) throw new Error(built.problem);
      const retry = caseStartOf(built.input);
      await bed.env.client.workflow.start(CASE_WORKFLOW_TYPE, {
        taskQueue: queue,
        workflowId: kase.caseId,
        args: retry.args,
        memo: retry.memo,
      });
      const again = await kase.waitForEvents('recurrence.analysed', 2);
      await bed.env.client.workflow.getHandle(kase.caseId).result();
      return { kase, first, history, children, childDocs, again };
    });

    // Assert
    const { kase, first, children, childDocs, again } = outcome;
    const byPlace = new Map(
      childDocs.map((doc) => [(doc as unknown as { unitId: string }).unitId, doc]),
    );
    expect(children).toHaveLength(2);
    expect([...byPlace.keys()].sort()).toEqual([places.compoundA.id, places.compoundB.id].sort());
    const childA = byPlace.get(places.compoundA.id) as unknown as {
      data: Record<string, unknown>;
      channel: string;
      parentCaseId: string;
      definitionKey: string;
    };
    const childB = byPlace.get(places.compoundB.id) as unknown as typeof childA;
    expect(childA.definitionKey).toBe('proactive-case');
    expect(childA.channel).toBe('proactive');
    expect(childA.parentCaseId).toBe(kase.caseId);
    expect(childA.data).toMatchObject({
      category: '供水',
      place: places.compoundA.id,
      placeName: places.compoundA.name,
      count: 3,
    });
    expect([...(childA.data.caseIds as string[])].sort()).toEqual(places.expectedA);
    expect(childB.data).toMatchObject({
      category: '噪声扰民',
      place: places.compoundB.id,
      count: 4,
    });
    expect([...(childB.data.caseIds as string[])].sort()).toEqual(places.expectedB);
    const [analysed] = eventsOf(first.timeline, 'recurrence.analysed');
    expect(analysed!.detail).toMatchObject({
      read: 11,
      groups: 2,
      opened: 2,
      existing: 0,
      unplaced: 1,
    });
    // The retry found both groups again and opened neither: no third case, the same two.
    expect(again[1]!.detail).toMatchObject({ groups: 2, opened: 0, existing: 2 });
    expect(await bed.db.models.Case.countDocuments({ parentCaseId: kase.caseId })).toBe(2);
    // The dashboard's figure: the street's proactive cases opened in the period (the two, and one
    // opened and closed by hand in the grid), and closed in it (that one); not another county's.
    const now = await bed.now();
    await bed.db.models.Case.create([
      {
        ...request(`${org.street.id}-p1`, 'proactive-case', org.grid.id, '供电', now),
        channel: 'proactive',
        closedAt: new Date(now - DAY),
      },
      {
        ...request(`${org.street.id}-p2`, 'proactive-case', org.county.id, '供电', now),
        channel: 'proactive',
        closedAt: new Date(now - DAY),
      },
    ]);
    const admin: Principal = { kind: 'user', id: 'admin', roles: ['admin'], unitIds: [] };
    const metrics = createMetricsService({
      models: bed.db.models,
      scope: createScopeResolver(bed.db.models),
      clock: () => new Date(now),
    });
    const figures = await metrics.unitMetrics(admin, {
      unitId: org.street.id,
      from: new Date(now - 40 * DAY).toISOString(),
      to: new Date(now + DAY).toISOString(),
    });
    expect(figures.proactive).toEqual({ opened: 3, closed: 1 });
    // The first run replays on today's interpreter, issuing the same starts.
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: testStack().workflowBundlePath },
        dataConverter: testDataConverter(),
      },
      outcome.history,
      kase.caseId,
    );
  });

  it('when no category recurs at any compound, then the analysis opens nothing and closes', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const compound = await bed.addUnit('compound', '安居小区', org.grid);
    const now = await bed.now();
    await bed.db.models.Case.create([
      request(`${org.street.id}-q1`, 'hotline-12345', compound.id, '供水', now),
      request(`${org.street.id}-q2`, 'hotline-12345', compound.id, '供电', now),
    ]);
    await bed.publish(bed.shipped('proactive-case.yaml'));

    // Act
    const doc = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, analysis(), org.street.id);
      return kase.waitForDoc('the analysis to close', (d) => d.status === 'closed');
    });

    // Assert
    expect(openedIds(doc.timeline)).toEqual([]);
    expect(eventsOf(doc.timeline, 'recurrence.analysed')[0]!.detail).toMatchObject({
      read: 2,
      groups: 0,
      opened: 0,
    });
  });
});

describe('未诉先办: bounds', () => {
  it('when more problems recur than one run opens cases for, then the analysis fails naming the count and opens none', async () => {
    // Arrange: 101 categories, each twice at one compound (the bound is 100 groups).
    const org = await bed.seedOrg();
    const compound = await bed.addUnit('compound', '幸福小区', org.grid);
    const now = await bed.now();
    const t = org.street.id;
    await bed.db.models.Case.create(
      Array.from({ length: MAX_RECURRENCE_GROUPS + 1 }, (_, n) => [
        request(`${t}-g${n}-1`, 'hotline-12345', compound.id, `类别${n}`, now),
        request(`${t}-g${n}-2`, 'grid-event', compound.id, `类别${n}`, now),
      ]).flat(),
    );
    await bed.publish(bed.shipped('proactive-case.yaml'));
    const definition = bed.definition({
      ...analysis().spec,
      steps: analysis().spec.steps.map((s) =>
        s.type === 'recurrence' ? { ...s, threshold: 2 } : s,
      ),
    });

    // Act
    const doc = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, definition, org.street.id);
      return kase.waitForDoc('the analysis to fail', (d) => d.status === 'failed');
    });

    // Assert
    expect(eventsOf(doc.timeline, 'recurrence.refused')[0]!.detail).toEqual({
      reason: 'too-many-groups',
      groups: MAX_RECURRENCE_GROUPS + 1,
      limit: MAX_RECURRENCE_GROUPS,
    });
    expect(openedIds(doc.timeline)).toEqual([]);
    expect(
      await bed.db.models.Case.countDocuments({ channel: 'proactive', unitId: compound.id }),
    ).toBe(0);
  });
});

describe('未诉先办·高频诉求主动治理 measures (the default reading of `measures: {}`)', () => {
  it('when the shipped analysis runs for three streets (one opens a proactive case, one finds nothing recurring, one is refused for too many groups), then each carries the default flags and the summed rates are exact, on the read model and after a replay', async () => {
    // Arrange: three streets, each with its month of requests (5 days ago: within the shipped
    // period, the month before the case is received)
    const definition = await bed.shippedWith('proactive-governance.yaml', 'proactive-case.yaml');
    const recurring = await bed.seedOrg();
    const quiet = await bed.seedOrg();
    const crowded = await bed.seedOrg();
    const now = await bed.now();
    const compoundOf = (org: SeededOrg) => bed.addUnit('compound', '幸福小区', org.grid);
    const atRecurring = await compoundOf(recurring);
    const atQuiet = await compoundOf(quiet);
    const atCrowded = await compoundOf(crowded);
    const times = (org: SeededOrg, unit: SeededUnit, category: string, n: number) =>
      Array.from({ length: n }, (_, i) =>
        request(`${org.street.id}-${category}-${i}`, 'hotline-12345', unit.id, category, now),
      );
    await bed.db.models.Case.create([
      // 供水 5 times in one grid: at the shipped threshold, one group
      ...times(recurring, atRecurring, '供水', 5),
      // 4 times: under it
      ...times(quiet, atQuiet, '供水', 4),
      // 101 categories 5 times each: more groups than one run opens cases for
      ...Array.from({ length: MAX_RECURRENCE_GROUPS + 1 }, (_, n) =>
        times(crowded, atCrowded, `类别${n}`, 5),
      ).flat(),
    ]);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const start = (org: SeededOrg) => bed.startCase(queue, definition, org.street.id);
      const cases = [await start(recurring), await start(quiet), await start(crowded)];
      const docs = [];
      for (const kase of cases) {
        docs.push(await kase.waitForDoc('the analysis to end', (d) => d.status !== 'open'));
      }
      return { cases, docs };
    });

    // Assert: the first opened one proactive case and closed, the second opened none and closed,
    // the third was refused (the case failed, named) and opened none
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'failed']);
    expect(outcome.docs.map((d) => openedIds(d.timeline).length)).toEqual([1, 0, 0]);
    expect(eventsOf(outcome.docs[2]!.timeline, 'recurrence.refused')[0]!.detail).toMatchObject({
      reason: 'too-many-groups',
    });
    // The flags: the analysis has no task, and `acceptance: []` says nobody takes it on, so it is
    // never dispatched (in no 接单率 denominator); no deadline, so never late. A
    // closed analysis is completed and resolved whatever it found; a refused one ends `failed`:
    // not completed, and (no 办结时限 passed) not owed either, so in no 办结率 denominator.
    const metrics = outcome.docs.map(flagsOf);
    expect(metrics.map((m) => [m.received, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 0, 0, 0],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [0, 0, 0, 0, 0],
    ]);
    for (const flags of metrics) {
      expect(flags).toMatchObject({
        excluded: 0,
        rejected: 0,
        ratingInvited: 0,
        rated: 0,
        escalated: 0,
        overdue: 0,
        returnedCase: 0,
      });
    }
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: null, // acceptance: []: nothing dispatched
      responseRate: null, // likewise
      completionRate: 1, // 2 closed of 2 due; the refused one is owed nothing
      resolutionRate: 1, // no outcomes declared: every completed analysis is resolved
      onTimeRate: 1, // no deadline to miss
      satisfactionRate: null, // no feedback step: nobody rates
      participationRate: null, // nobody is asked to rate
      visitRate: 0, // 0 rated of 2 completed
      disputeResolutionRate: null,
      supervisionRate: null, // escalations ÷ dispatched: nothing dispatched
      returnRate: null, // likewise
      overdueRate: 0, // no deadline
    });
    // Unreachable here: 不予受理 (no rejected end), explained, accepted, late, escalated, returned
    // and rated: the analysis has only a recurrence step and its end, no task, deadline or
    // feedback step. The proactive cases it opens are measured on their own (below).
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, definition.spec.measures)).toEqual(metrics[i]);
    }
  });
});

describe('主动治理案件 (proactive-case)', () => {
  it('when the street catalogue names a department for the category, then that department analyses the root cause', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const compound = await bed.addUnit('compound', '幸福小区', org.grid);
    const water = await bed.addUnit('department', '水务局', org.county);
    const officer = await bed.addPerson('water-officer', '水务干事', [[water, 'officer']]);
    await createCatalogueService({
      models: bed.db.models,
      snapshot: createOrgSnapshot({ models: bed.db.models }),
      clock: () => new Date(),
    }).publish({ kind: 'user', id: 'admin', roles: ['admin'], unitIds: [] }, org.street.id, [
      { category: '供水', unitId: water.id },
    ]);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, bed.shipped('proactive-case.yaml'), compound.id, {
        category: '供水',
        place: compound.id,
        count: 7,
      });
      const task = await openedTask(kase, 'analyse');
      const [routed] = await kase.waitForEvents('catalogue.routed', 1);
      return { task, routed };
    });

    // Assert
    expect(outcome.task.candidates.map((c) => c.personId)).toEqual([officer.personId]);
    expect(outcome.routed!.detail).toMatchObject({ category: '供水', unitId: water.id });
  });

  it('when the community does not analyse the root cause within 5 working days, then the street director is told at the limit', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const compound = await bed.addUnit('compound', '幸福小区', org.grid);
    const monday = await bed.quietMonday();
    const definition = bed.shipped('proactive-case.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, compound.id, {
        category: '供水',
        place: compound.id,
        placeName: compound.name,
        count: 6,
        caseIds: ['case-000000000000000000000001'],
        periodFrom: '2026-11-01',
        periodTo: '2026-11-30',
      });
      const task = await openedTask(kase, 'analyse');
      const due = task.deadlines.find((d) => d.key.endsWith('/analyse_5d'))!;
      const dueAt = new Date(due.dueAt!).getTime();
      await bed.skipTo(dueAt + 60_000);
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'analyse_5d',
      });
      return { task, dueAt, escalated };
    });

    // Assert
    // Nobody routes 供水 by a catalogue here: the place's community director analyses it.
    expect(outcome.task.candidates.map((c) => c.personId)).toEqual([org.director.personId]);
    expectFiredAt(outcome.escalated!.at, outcome.dueAt);
    expect(outcome.escalated!.detail?.unitId).toBe(org.street.id);
    expect(await mailsOf(org.streetDirector, SUBJECT.escalated)).toHaveLength(1);
  });
});

describe('主动治理案件 measures (接单率, 响应率, 办结率, 解决率, 按期办结率…)', () => {
  it('when known proactive cases run (resolved, 已缓解, reworked then 已缓解, analysed late but treated on time, treated after its 30 days, never treated, never analysed), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: no catalogue, so the compound's community director analyses and treats
    const org = await bed.seedOrg();
    const compound = await bed.addUnit('compound', '幸福小区', org.grid);
    const centre = await bed.addPerson('centre', '街道中心', [[org.street, 'dispatcher']]);
    const monday = await bed.quietMonday();
    const definition = bed.shipped('proactive-case.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:00`));
      const start = () =>
        bed.startCase(queue, definition, compound.id, {
          category: '环境卫生',
          place: compound.id,
          count: 5,
        });
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
        const form: Record<string, unknown> =
          stepId === 'analyse'
            ? { rootCause: '垃圾收运点位不足', plan: '增设分类收集点并调整清运频次' }
            : stepId === 'treat'
              ? { result: '已增设收集点' }
              : {};
        await claimAndComplete(kase, task.id, person, outcome, form, '需长期跟踪');
      };
      const analysed = async () => {
        const kase = await start();
        await act(kase, 'analyse', org.director, 'planned');
        return kase;
      };

      // 1. 已根治, verified
      const resolved = await analysed();
      await act(resolved, 'treat', org.director, 'resolved');
      await act(resolved, 'verify', centre, 'accepted');
      // 2. 已缓解 (解释说明), verified
      const eased = await analysed();
      await act(eased, 'treat', org.director, 'explained');
      await act(eased, 'verify', centre, 'accepted');
      // 3. 已根治, sent back by the centre (退回重新治理), then 已缓解: the last treatment counts
      const reworked = await analysed();
      await act(reworked, 'treat', org.director, 'resolved');
      await act(reworked, 'verify', centre, 'rework');
      await act(reworked, 'treat', org.director, 'explained', 2);
      await act(reworked, 'verify', centre, 'accepted', 2);
      const docs = [await closed(resolved), await closed(eased), await closed(reworked)];
      // 4. analysed after analyse_5d passed, then treated well within treat_30d
      const lateAnalysis = await start();
      await openedTask(lateAnalysis, 'analyse');
      // 5. analysed and taken on at once, treated after treat_30d passed
      const lateTreatment = await analysed();
      const lateTask = await openedTask(lateTreatment, 'treat');
      await lateTreatment.claim(lateTask.id, org.director);
      // 6. analysed at once, never treated: treat_30d passes with the case open
      const untreated = await analysed();
      await openedTask(untreated, 'treat');
      // 7. never analysed: its 办结时限 (treat_30d) never starts
      const unanalysed = await start();
      await openedTask(unanalysed, 'analyse');

      await bed.skipTo(bj(`${plusDays(monday, 7)} 09:01`).getTime());
      await lateAnalysis.waitForEvents('deadline.missed', 1, { deadline: 'analyse_5d' });
      await act(lateAnalysis, 'analyse', org.director, 'planned');
      await act(lateAnalysis, 'treat', org.director, 'resolved');
      await act(lateAnalysis, 'verify', centre, 'accepted');
      docs.push(await closed(lateAnalysis));
      // 30 days on: treat_30d has passed for the cases analysed on the first Monday
      await bed.skipTo(bj(`${plusDays(monday, 30)} 09:01`).getTime());
      await lateTreatment.waitForEvents('deadline.missed', 1, { deadline: 'treat_30d' });
      await untreated.waitForEvents('deadline.missed', 1, { deadline: 'treat_30d' });
      await lateTreatment.complete(lateTask.id, org.director, 'resolved', { result: '已根治' });
      await act(lateTreatment, 'verify', centre, 'accepted');
      docs.push(await closed(lateTreatment), await untreated.doc(), await unanalysed.doc());
      const cases = [resolved, eased, reworked, lateAnalysis, lateTreatment, untreated, unanalysed];
      return { docs, cases };
    });

    // Assert: the flags each case carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'closed',
      'closed',
      'closed',
      'open',
      'open',
    ]);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 0, 1, 1],
      [1, 1, 0, 1, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.escalated, m.overdue, m.returnedCase, m.ratingInvited])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.8571, // 6 analysed of 7 opened
      responseRate: 0.7143, // 5 analysed within analyse_5d
      completionRate: 0.8333, // 5 completed of 6 due; the never-analysed case is not owed yet
      resolutionRate: 0.5, // 3 已根治 of 6 due; 已缓解 is 解释说明 (the reworked one's last outcome)
      onTimeRate: 0.8, // 4 of 5 within treat_30d; the late analysis does not make a case late
      satisfactionRate: null, // no feedback step: the street centre's 核验 is the check
      participationRate: null, // nobody is asked to rate
      visitRate: 0, // 0 rated of 5 completed
      disputeResolutionRate: null,
      supervisionRate: 0.5714, // 4 escalated of 7 (analyse_5d twice, treat_30d twice)
      returnRate: 0, // the centre's 退回重新治理 is an outcome, not a task sent back (退单)
      overdueRate: 0.5714, // 4 overdue of 7 received (nothing is refused: no 不予受理 path)
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, definition.spec.measures)).toEqual(metrics[i]);
    }
  });
});

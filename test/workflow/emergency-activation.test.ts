import type {
  RunningCase,
  SeededOrg,
  SeededPerson,
  SeededUnit,
  SlaTestBed,
} from '../support/sla-cases';
import { deadlineOf, eventsOf, expectFiredAt, mailsOf, useSlaTestBed } from '../support/sla-cases';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { figuresOf } from '../../services/metrics';

/**
 * The shipped 一键启动 processes (definitions/emergency-activation.yaml and
 * emergency-compound.yaml) on the time-skipping server with the real activities: an activation of
 * a community fans out one roll-call per compound below it; everyone holding a post in the
 * compound is called and reports by claiming; whoever has not reported is reminded 10 minutes
 * before the 30-minute deadline and escalated, by name, to the grid chief at the deadline, the
 * community secretary 30 minutes later and the street's 分管领导 an hour later; the roll-call closes
 * when all have reported or after 2 hours, and the activation closes with the figures per compound.
 */
let bed: SlaTestBed;

useSlaTestBed('emergency-activation', (ready) => {
  bed = ready;
});

const MINUTE = 60_000;

/** Subject markers of the roll-call templates. */
const SUBJECT = {
  called: '新任务待办',
  reminder: '紧急报到提醒',
  escalated: '超时未报到督办',
} as const;

interface EmergencyOrg extends SeededOrg {
  compound1: SeededUnit;
  compound2: SeededUnit;
  /** Compound 1: its property manager and the chief of its building. */
  manager1: SeededPerson;
  buildingHead1: SeededPerson;
  /** Compound 2: its party-branch secretary, property manager and building chief. */
  branchSecretary2: SeededPerson;
  manager2: SeededPerson;
  buildingHead2: SeededPerson;
  gridLeader: SeededPerson;
  streetLeader: SeededPerson;
}

/** Two compounds in the seeded grid, one building each, and who holds which post. */
async function emergencyOrg(): Promise<EmergencyOrg> {
  const org = await bed.seedOrg();
  const compound1 = await bed.addUnit('compound', '幸福小区', org.grid, `${org.grid.id}-c1`);
  const compound2 = await bed.addUnit('compound', '和谐小区', org.grid, `${org.grid.id}-c2`);
  const building1 = await bed.addUnit('building', '1号楼', compound1, `${compound1.id}-b1`);
  const building2 = await bed.addUnit('building', '1号楼', compound2, `${compound2.id}-b1`);
  return {
    ...org,
    compound1,
    compound2,
    manager1: await bed.addPerson('manager-1', '孙经理', [[compound1, 'property-manager']]),
    buildingHead1: await bed.addPerson('building-1', '周楼长', [[building1, 'building-head']]),
    branchSecretary2: await bed.addPerson('branch-2', '吴支书', [[compound2, 'secretary']]),
    manager2: await bed.addPerson('manager-2', '郑经理', [[compound2, 'property-manager']]),
    buildingHead2: await bed.addPerson('building-2', '冯楼长', [[building2, 'building-head']]),
    gridLeader: await bed.addPerson('grid-leader', '钱网格长', [[org.grid, 'grid-leader']]),
    streetLeader: await bed.addPerson('street-leader', '褚分管', [[org.street, 'leader']]),
  };
}

/** The roll-calls an activation started, by the compound each was opened for. */
async function rollCallsByCompound(activation: RunningCase): Promise<Map<string, RunningCase>> {
  const started = await activation.waitForEvents('subprocess.started', 2);
  return new Map(
    started.map((e) => [String(e.detail?.unitId), bed.childCase(String(e.detail?.caseId))]),
  );
}

/** Starts an activation of the org's community (roll-calls published) and finds its roll-calls. */
async function activate(queue: string, org: EmergencyOrg) {
  const activation = await bed.shippedWith('emergency-activation.yaml', 'emergency-compound.yaml');
  const kase = await bed.startCase(queue, activation, org.community.id, DATA);
  return { kase, rollCalls: await rollCallsByCompound(kase) };
}

/**
 * Reports each person to the roll-call of their compound (through the task service: a roster
 * roll-call's acknowledgements are not Updates), and returns the task id.
 */
async function report(rollCall: RunningCase, people: readonly SeededPerson[]): Promise<string> {
  const taskId = rollCall.taskId('report');
  await rollCall.waitForTask('the roll-call to open', taskId, (t) =>
    t.deadlines.every((d) => d.dueAt !== null),
  );
  for (const someone of people) await rollCall.acknowledge(taskId, someone);
  return taskId;
}

const DATA = { reason: '防汛Ⅳ级应急响应', instructions: '立即到包联小区报到，排查低洼地带住户' };

describe('一键启动应急响应 (emergency-activation → emergency-compound)', () => {
  it('when everyone in both compounds reports, then each roll-call closes at once and the activation sums up all present', async () => {
    // Arrange
    const org = await emergencyOrg();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const { kase, rollCalls } = await activate(queue, org);
      const first = rollCalls.get(org.compound1.id)!;
      const second = rollCalls.get(org.compound2.id)!;
      const taskId = await report(first, [org.manager1]);
      // The live view: the read model's claimants against its candidates, while it runs.
      const live = (await first.task(taskId)) as unknown as {
        status: string;
        candidates: unknown[];
        claimants: unknown[];
      };
      await report(first, [org.buildingHead1]);
      await report(second, [org.branchSecretary2, org.manager2, org.buildingHead2]);
      await kase.handle.result();
      const firstTask = await first.task(taskId);
      return { kase, live, firstTask, doc: await kase.doc(), firstDoc: await first.doc() };
    });

    // Assert: everyone was called, and the live view counted one of two before the second report
    for (const called of [org.manager1, org.buildingHead1, org.manager2, org.buildingHead2]) {
      expect(await mailsOf(called, SUBJECT.called)).toHaveLength(1);
    }
    expect(outcome.live.status).toBe('open');
    expect(outcome.live.candidates).toHaveLength(2);
    expect(outcome.live.claimants).toHaveLength(1);
    expect(await mailsOf(org.gridLeader, SUBJECT.escalated)).toHaveLength(0);
    // …the roll-call closed as soon as both had reported
    expect(outcome.firstTask).toMatchObject({ status: 'completed', maxClaimants: 2 });
    const [closed] = eventsOf(outcome.firstDoc.timeline, 'claim.closed');
    expect(closed!.detail).toMatchObject({ reason: 'full', claimants: 2, expected: 2, missing: 0 });
    // …and the activation's summary: per compound, the totals, and the 全员到岗 end
    const ended = eventsOf(outcome.doc.timeline, 'subprocess.ended');
    expect(
      ended
        .map((e) => [
          e.detail?.unitId,
          e.detail?.expected,
          e.detail?.acknowledged,
          e.detail?.missing,
        ])
        .sort(),
    ).toEqual(
      [
        [org.compound1.id, 2, 2, 0],
        [org.compound2.id, 3, 3, 0],
      ].sort(),
    );
    const summary = eventsOf(outcome.doc.timeline, 'step.completed').find(
      (e) => e.stepId === 'compounds',
    );
    expect(summary!.detail).toEqual({ count: 2, expected: 5, acknowledged: 5, missing: 0 });
    expect(outcome.doc.status).toBe('closed');
    expect(eventsOf(outcome.doc.timeline, 'case.closed')[0]!.stepId).toBe('all_present');
  });

  it('when one person stays silent, then they are reminded, named to the grid chief at the deadline and up the ladder, and the summary counts them missing', async () => {
    // Arrange
    const org = await emergencyOrg();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const { kase, rollCalls } = await activate(queue, org);
      await report(rollCalls.get(org.compound1.id)!, [org.manager1, org.buildingHead1]);
      const late = rollCalls.get(org.compound2.id)!;
      const taskId = await report(late, [org.branchSecretary2, org.manager2]);
      const task = (await late.task(taskId))!;
      const due = Date.parse(deadlineOf(task.deadlines, `${taskId}/report_30m`).dueAt!);
      const windowEnds = task.openedAt.getTime() + 120 * MINUTE;
      await bed.skipTo(due + MINUTE);
      const [first] = await late.waitForEvents('deadline.escalated', 1, { level: 1 });
      const escalatedMail = await mailsOf(org.gridLeader, SUBJECT.escalated);
      await bed.skipTo(windowEnds + MINUTE);
      const lateDoc = await late.waitForDoc('the roll-call closed', (d) => d.status !== 'open');
      await kase.handle.result();
      return { due, windowEnds, first: first!, escalatedMail, lateDoc, doc: await kase.doc() };
    });

    // Assert: only the silent building chief was reminded, 10 minutes before the deadline
    expect(await mailsOf(org.buildingHead2, SUBJECT.reminder)).toHaveLength(1);
    for (const reported of [org.branchSecretary2, org.manager2, org.manager1]) {
      expect(await mailsOf(reported, SUBJECT.reminder)).toHaveLength(0);
    }
    const [reminded] = eventsOf(outcome.lateDoc.timeline, 'deadline.reminded');
    expectFiredAt(reminded!.at, outcome.due - 10 * MINUTE);
    // …at the deadline the grid chief got the names of the missing, not of those present
    expectFiredAt(outcome.first.at, outcome.due);
    expect(outcome.escalatedMail).toHaveLength(1);
    expect(outcome.escalatedMail[0]!.text).toContain(org.buildingHead2.name);
    expect(outcome.escalatedMail[0]!.text).toContain('应到 3 人，已报到 2 人');
    expect(outcome.escalatedMail[0]!.text).not.toContain(org.manager2.name);
    // …then the community secretary (30 min) and the street's 分管领导 (1 h)
    const levels = eventsOf(outcome.lateDoc.timeline, 'deadline.escalated');
    expect(levels.map((e) => [e.detail?.level, e.detail?.unitId])).toEqual([
      [1, org.grid.id],
      [2, org.community.id],
      [3, org.street.id],
    ]);
    expectFiredAt(levels[1]!.at, outcome.due + 30 * MINUTE);
    expectFiredAt(levels[2]!.at, outcome.due + 60 * MINUTE);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.streetLeader, SUBJECT.escalated)).toHaveLength(1);
    // …no name on the timeline, only counts
    expect(JSON.stringify(outcome.lateDoc.timeline)).not.toContain(org.buildingHead2.name);
    // …the roll-call closed when its window ended, with one missing
    const [closed] = eventsOf(outcome.lateDoc.timeline, 'claim.closed');
    expectFiredAt(closed!.at, outcome.windowEnds);
    expect(closed!.detail).toMatchObject({ reason: 'window-ended', expected: 3, missing: 1 });
    // …and the activation's summary counts them missing
    const ended = eventsOf(outcome.doc.timeline, 'subprocess.ended', {
      unitId: org.compound2.id,
    });
    expect(ended[0]!.detail).toMatchObject({ expected: 3, acknowledged: 2, missing: 1 });
    const summary = eventsOf(outcome.doc.timeline, 'step.completed').find(
      (e) => e.stepId === 'compounds',
    );
    expect(summary!.detail).toEqual({ count: 2, expected: 5, acknowledged: 4, missing: 1 });
    expect(eventsOf(outcome.doc.timeline, 'case.closed')[0]!.stepId).toBe('closed');
  });

  it('when a compound has nobody to call, then its roll-call says so, the community is told, and the activation does not sum up as all present', async () => {
    // Arrange: a third compound with no post holders at all
    const org = await emergencyOrg();
    const empty = await bed.addUnit('compound', '空置小区', org.grid, `${org.grid.id}-c3`);

    // Act: everyone who was called reports
    const outcome = await bed.withWorker(async (queue) => {
      const activation = await bed.shippedWith(
        'emergency-activation.yaml',
        'emergency-compound.yaml',
      );
      const kase = await bed.startCase(queue, activation, org.community.id, DATA);
      const started = await kase.waitForEvents('subprocess.started', 3);
      const rollCalls = new Map(
        started.map((e) => [String(e.detail?.unitId), bed.childCase(String(e.detail?.caseId))]),
      );
      await report(rollCalls.get(org.compound1.id)!, [org.manager1, org.buildingHead1]);
      await report(rollCalls.get(org.compound2.id)!, [
        org.branchSecretary2,
        org.manager2,
        org.buildingHead2,
      ]);
      await kase.handle.result();
      return { doc: await kase.doc(), emptyDoc: await rollCalls.get(empty.id)!.doc() };
    });

    // Assert: the empty compound's roll-call closed saying nobody was there to call…
    const [closed] = eventsOf(outcome.emptyDoc.timeline, 'claim.closed');
    expect(closed!.detail).toMatchObject({ reason: 'nobody-to-call', expected: 0, missing: 0 });
    expect(eventsOf(outcome.emptyDoc.timeline, 'case.closed')[0]!.stepId).toBe('closed');
    expect(
      eventsOf(outcome.emptyDoc.timeline, 'notification.sent', { template: 'case-update' }),
    ).not.toHaveLength(0);
    // …and the activation counts it, ending as 点名结束, not 全员到岗
    const summary = eventsOf(outcome.doc.timeline, 'step.completed').find(
      (e) => e.stepId === 'compounds',
    );
    expect(summary!.detail).toEqual({
      count: 3,
      expected: 5,
      acknowledged: 5,
      missing: 0,
      unstaffed: 1,
    });
    expect(eventsOf(outcome.doc.timeline, 'case.closed')[0]!.stepId).toBe('closed');
  });
});

describe('点名报到的考核指标 (emergency-compound rates)', () => {
  it('when roll-calls fill at once, keep one silent to the window’s end, fill only after report_30m, hear from nobody, or have nobody to call, then each carries its flags and the summed rates are exact, also after a replay', async () => {
    // Arrange: compound 1 calls two people, compound 2 three; a third compound calls nobody
    const org = await emergencyOrg();
    const empty = await bed.addUnit('compound', '空置小区', org.grid, `${org.grid.id}-c3`);
    const rollCall = bed.shipped('emergency-compound.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const start = (compound: SeededUnit) => bed.startCase(queue, rollCall, compound.id, DATA);
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the roll-call closed', (d) => d.status !== 'open');
      // 1. everyone reports at once: the roll-call fills and closes
      const filled = await start(org.compound1);
      await report(filled, [org.manager1, org.buildingHead1]);
      const docs = [await closed(filled)];
      // 2. one of two reports at once, the other never: it closes when its 2-hour window ends
      const oneSilent = await start(org.compound1);
      const taskId = await report(oneSilent, [org.manager1]);
      const task = (await oneSilent.task(taskId))!;
      const due = Date.parse(deadlineOf(task.deadlines, `${taskId}/report_30m`).dueAt!);
      // 3. all three report, but only after report_30m passed; 4. nobody reports
      const filledLate = await start(org.compound2);
      await report(filledLate, []);
      const silent = await start(org.compound2);
      await report(silent, []);
      // 5. a compound with no post holders: closed at once, nobody to call
      const unstaffed = await start(empty);

      await bed.skipTo(due + MINUTE);
      for (const kase of [oneSilent, filledLate, silent]) {
        await kase.waitForEvents('deadline.escalated', 1, { deadline: 'report_30m' });
      }
      await report(filledLate, [org.branchSecretary2, org.manager2, org.buildingHead2]);
      const lateDoc = await closed(filledLate);
      await bed.skipTo(task.openedAt.getTime() + 120 * MINUTE + MINUTE);
      docs.push(await closed(oneSilent), lateDoc, await closed(silent), await closed(unstaffed));
      return { docs, cases: [filled, oneSilent, filledLate, silent, unstaffed] };
    });

    // Assert: the flags each roll-call carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'closed',
      'closed',
      'closed',
    ]);
    // Who reported is in the roster, not the timeline: a roll-call is accepted (接单) when it
    // closes with anybody reported, so 响应及时 means it was full before report_30m passed
    expect(metrics.map((m) => [m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 1, 1],
      [1, 1, 0],
      [1, 1, 0],
      [1, 0, 0],
      [1, 0, 0],
    ]);
    // No outcomes are declared (解决): every roll-call that ends `closed` is 办结 and 解决, the
    // one nobody answered too; on time when report_30m did not pass first
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 1],
    ]);
    expect(metrics.map((m) => [m.escalated, m.escalations, m.overdue, m.excluded])).toEqual([
      [0, 0, 0, 0],
      [1, 3, 1, 0], // the grid chief, the community secretary, the street's 分管领导
      [1, 1, 1, 0], // full 1 minute after report_30m: the ladder stops
      [1, 3, 1, 0],
      [0, 0, 0, 0],
    ]);
    // The rates, summed as the metrics service sums them. A roll-call has no 不予受理, no 解释说明
    // and no rating step: excluded, explained and the rating figures cannot be reached.
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.6, // 3 roll-calls with somebody reported of 5 opened
      responseRate: 0.2, // only the one full before report_30m
      completionRate: 1, // every roll-call ends `closed`: nothing to tell 办结 from 未办结
      resolutionRate: 1,
      onTimeRate: 0.4, // the one filled at once and the one with nobody to call
      satisfactionRate: null,
      participationRate: null,
      visitRate: 0, // 0 rated of 5 completed: the formula has a denominator, no rating can come
      disputeResolutionRate: null,
      supervisionRate: 0.6, // 3 escalated of 5
      returnRate: 0,
      overdueRate: 0.6, // 3 past report_30m of 5 received
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = rollCall.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

describe('一键启动应急响应 measures (the default reading of `measures: {}`)', () => {
  it('when one activation sums up all present and another ends with one person missing, then each carries the default flags and the summed rates are exact, on the read model and after a replay', async () => {
    // Arrange
    const org = await emergencyOrg();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      // 1. everyone reports at once: the activation ends 全员到岗
      const allPresent = await activate(queue, org);
      await report(allPresent.rollCalls.get(org.compound1.id)!, [org.manager1, org.buildingHead1]);
      await report(allPresent.rollCalls.get(org.compound2.id)!, [
        org.branchSecretary2,
        org.manager2,
        org.buildingHead2,
      ]);
      await allPresent.kase.handle.result();
      const docs = [await allPresent.kase.doc()];
      // 2. one building chief never reports: the roll-call runs to its 2-hour window, escalating
      // on its way, and the activation ends 点名结束
      const oneMissing = await activate(queue, org);
      await report(oneMissing.rollCalls.get(org.compound1.id)!, [org.manager1, org.buildingHead1]);
      const late = oneMissing.rollCalls.get(org.compound2.id)!;
      const taskId = await report(late, [org.branchSecretary2, org.manager2]);
      const task = (await late.task(taskId))!;
      await bed.skipTo(task.openedAt.getTime() + 120 * MINUTE + MINUTE);
      await oneMissing.kase.handle.result();
      docs.push(await oneMissing.kase.doc());
      return { docs, cases: [allPresent.kase, oneMissing.kase] };
    });

    // Assert: both closed, at their two ends
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed']);
    expect(outcome.docs.map((d) => eventsOf(d.timeline, 'case.closed')[0]!.stepId)).toEqual([
      'all_present',
      'closed',
    ]);
    // The flags: the activation has no task of its own, and `acceptance: []` says nobody takes it
    // on, so it is never dispatched (in no 接单率 denominator). Its roll-calls'
    // deadlines and escalations are on their own cases, not its timeline: it is never late. Both
    // ends close `closed`, so 点名结束 is as completed and resolved as 全员到岗.
    const metrics = outcome.docs.map(flagsOf);
    for (const flags of metrics) {
      expect(flags).toMatchObject({
        received: 1,
        dispatched: 0,
        accepted: 0,
        respondedInTime: 0,
        due: 1,
        completed: 1,
        resolved: 1,
        explained: 0,
        completedOnTime: 1,
        excluded: 0,
        ratingInvited: 0,
        rated: 0,
        escalated: 0,
        escalations: 0,
        overdue: 0,
        returnedCase: 0,
      });
    }
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: null, // acceptance: []: nothing dispatched
      responseRate: null, // likewise
      completionRate: 1, // 2 closed `closed` of 2 due, 点名结束 included
      resolutionRate: 1, // no outcomes declared: every completed case is resolved
      onTimeRate: 1, // no deadline of its own to miss
      satisfactionRate: null, // no feedback step: nobody rates
      participationRate: null, // nobody is asked to rate
      visitRate: 0, // 0 rated of 2 completed
      disputeResolutionRate: null,
      supervisionRate: null, // escalations ÷ dispatched: nothing dispatched
      returnRate: null, // likewise
      overdueRate: 0, // no deadline of its own
    });
    // Unreachable here: 不予受理 (no rejected end), explained, accepted, a late or overdue
    // activation, an escalation, a return and a rating: the activation has only a subprocess
    // step and a decision, no task, deadline or feedback step of its own.
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = bed.shipped('emergency-activation.yaml').spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

import { figuresOf } from '../../services/metrics';
import { planDeadline } from '../../common/sla';
import { bj } from '../support/beijing';
import type { CaseStateView } from '../../workflows/projection';
import type {
  RunningCase,
  SeededOrg,
  SeededPerson,
  SeededUnit,
  SlaTestBed,
} from '../support/sla-cases';
import {
  deadlineOf,
  eventsOf,
  expectFiredAt,
  mailsOf,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';

/**
 * The shipped 矛盾纠纷“月排查、月上报” processes (definitions/dispute-screening.yaml and
 * dispute-report.yaml) on the time-skipping server with the real activities: the monthly round of
 * a street fans out over every grid under it (found in the org tree), each grid's grid workers
 * report within 5 working days, a missing report is escalated to the grid chief, the community
 * director and the street's 分管领导, closed as 逾期未报 after 10 working days, and the round's
 * dispatcher sums up. (The schedule that starts the round is tested in
 * test/e2e/schedules.test.ts; here the round starts as a schedule fire would start it.)
 */
let bed: SlaTestBed;

useSlaTestBed('dispute-screening', (ready) => {
  bed = ready;
});

/** The seeded corner plus a second grid, a grid chief in each grid and street posts. */
interface ScreeningOrg extends SeededOrg {
  grid2: SeededUnit;
  gridWorker3: SeededPerson;
  gridLeader: SeededPerson;
  gridLeader2: SeededPerson;
}

async function screeningOrg(): Promise<ScreeningOrg> {
  const org = await bed.seedOrg();
  const grid2 = await bed.addUnit('grid', `${org.grid.name}二`, org.community, `${org.grid.id}-2`);
  // The street's 综治中心 sums up; its 分管领导 hears of late grids last.
  await bed.addPost(org.streetDirector, org.street, 'dispatcher');
  await bed.addPost(org.streetSecretary, org.street, 'leader');
  return {
    ...org,
    grid2,
    gridWorker3: await bed.addPerson('grid-worker-3', '吴网格', [[grid2, 'grid-worker']]),
    gridLeader: await bed.addPerson('grid-leader', '郑网格长', [[org.grid, 'grid-leader']]),
    gridLeader2: await bed.addPerson('grid-leader-2', '冯网格长', [[grid2, 'grid-leader']]),
  };
}

/** The grid reports of a round, by the unit each was opened for. */
async function reportsByGrid(round: RunningCase): Promise<Map<string, RunningCase>> {
  const started = await round.waitForEvents('subprocess.started', 2);
  return new Map(
    started.map((e) => [String(e.detail?.unitId), bed.childCase(String(e.detail?.caseId))]),
  );
}

const REPORT = {
  found: 3,
  resolved: 2,
  escalated: 1,
  summary: '排查邻里纠纷 3 起，化解 2 起，1 起上报街道调处',
};

describe('矛盾纠纷月排查月上报 (dispute-screening → dispute-report)', () => {
  it('when every grid of the street reports, then each report closes and the round sums the grids up (化解率) for the dispatcher', async () => {
    // Arrange
    const org = await screeningOrg();
    const round = await bed.shippedWith('dispute-screening.yaml', 'dispute-report.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, round, org.street.id, { focus: '邻里纠纷' });
      const reports = await reportsByGrid(kase);
      for (const [gridId, worker, figures] of [
        [org.grid.id, org.gridWorker, REPORT],
        [org.grid2.id, org.gridWorker3, { ...REPORT, found: 5, resolved: 5, escalated: 0 }],
      ] as const) {
        const report = reports.get(gridId)!;
        const taskId = report.taskId('report');
        await report.waitForTask('the grid report task', taskId, () => true);
        await report.claim(taskId, worker);
        await report.complete(taskId, worker, 'reported', figures);
      }
      const summary = kase.taskId('summary');
      await kase.waitForTask('the summary task', summary, () => true);
      await kase.claim(summary, org.streetDirector);
      await kase.complete(summary, org.streetDirector, 'summarised', {
        analysis: '本月纠纷以邻里纠纷为主，均已落实化解责任人',
      });
      const result = (await kase.handle.result()) as CaseStateView;
      const children = await Promise.all(
        [...reports.values()].map((r) => bed.db.models.Case.findById(r.caseId).lean()),
      );
      return { result, doc: await kase.doc(), children };
    });

    // Assert: one report per grid of the street, each for its grid, with this round's date
    expect(outcome.result.status).toBe('closed');
    const children = outcome.children.map((c) => [c?.unitId, c?.status, c?.parentCaseId]);
    expect(children.sort()).toEqual(
      [
        [org.grid.id, 'closed', expect.any(String)],
        [org.grid2.id, 'closed', expect.any(String)],
      ].sort(),
    );
    const data = outcome.children[0]?.data as { period?: string; focus?: string };
    expect(data.period).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(data.focus).toBe('邻里纠纷');
    expect(eventsOf(outcome.doc.timeline, 'subprocess.ended')).toHaveLength(2);
    expect(eventsOf(outcome.doc.timeline, 'deadline.missed')).toHaveLength(0);
    // 化解率 (measures.disputes of dispute-report): each grid's figures on its case, summed; the
    // round declares none, so nothing is counted twice
    const grids = outcome.children.map(flagsOf);
    expect(
      grids
        .map((m) => [m.disputesFound, m.disputesResolved, m.resolved, m.due])
        .sort((a, b) => a[0]! - b[0]!),
    ).toEqual([
      [3, 2, 1, 1],
      [5, 5, 1, 1],
    ]);
    const sums = summedFlags([...grids, flagsOf(outcome.doc)]);
    expect(figuresOf(sums).rates.disputeResolutionRate).toBe(0.875);
    // …and the round adds the grids' figures up itself: nobody types the totals
    const [grids2] = eventsOf(outcome.doc.timeline, 'step.completed').filter(
      (e) => e.stepId === 'grids',
    );
    expect(grids2?.detail).toMatchObject({
      count: 2,
      closed: 2,
      disputesFound: 8,
      disputesResolved: 7,
      disputeResolutionRate: 0.875,
    });
    expect(
      eventsOf(outcome.doc.timeline, 'subprocess.ended')
        .map((e) => [e.detail?.unitId, e.detail?.disputesFound, e.detail?.disputesResolved])
        .sort(),
    ).toEqual(
      [
        [org.grid.id, 3, 2],
        [org.grid2.id, 5, 5],
      ].sort(),
    );
  });

  it('when a grid does not report, then it is reminded, escalated up the org tree, closed as 逾期未报 after 10 working days, and the round goes on', async () => {
    // Arrange
    const org = await screeningOrg();
    const round = await bed.shippedWith('dispute-screening.yaml', 'dispute-report.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, round, org.street.id, {});
      const reports = await reportsByGrid(kase);
      const onTime = reports.get(org.grid.id)!;
      const onTimeTask = onTime.taskId('report');
      await onTime.waitForTask('the first grid report', onTimeTask, () => true);
      await onTime.claim(onTimeTask, org.gridWorker);
      await onTime.complete(onTimeTask, org.gridWorker, 'reported', REPORT);

      const late = reports.get(org.grid2.id)!;
      const task = await late.waitForTask('the silent grid report', late.taskId('report'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      const due = deadlineOf(task.deadlines, `${late.taskId('report')}/report_5d`).dueAt!;
      const cutoff = planDeadline(
        await bed.calendar(),
        { within: '10 working days', reminders: [], escalations: [] },
        task.openedAt.toISOString(),
      ).dueAt!;
      await bed.skipTo(Date.parse(due) + 60_000);
      const first = await late.waitForEvents('deadline.escalated', 1, { level: 1 });
      await bed.skipTo(Date.parse(cutoff) + 60_000);
      const lateDoc = await late.waitForDoc('the late grid closed', (d) => d.status !== 'open');
      const summary = kase.taskId('summary');
      await kase.waitForTask('the summary task', summary, () => true);
      return { kase, late, due, cutoff, first: first[0]!, lateDoc, roundDoc: await kase.doc() };
    });

    // Assert: level 1 fired at the deadline, to the grid's own grid chief
    expectFiredAt(outcome.first.at, outcome.due);
    const escalated = eventsOf(outcome.lateDoc.timeline, 'deadline.escalated');
    expect(escalated.map((e) => [e.detail?.level, e.detail?.unitId])).toEqual([
      [1, org.grid2.id],
      [2, org.community.id],
      [3, org.street.id],
    ]);
    expect(await mailsOf(org.gridWorker3, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.gridLeader2, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.director, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.gridLeader, SUBJECT.escalated)).toHaveLength(0);
    // …closed as 逾期未报 at the cutoff, the task withdrawn
    expect(outcome.lateDoc.status).toBe('cancelled');
    const [closed] = eventsOf(outcome.lateDoc.timeline, 'case.closed');
    expectFiredAt(closed!.at, outcome.cutoff);
    expect(closed!.stepId).toBe('missing');
    expect(eventsOf(outcome.lateDoc.timeline, 'task.cancelled')).toHaveLength(1);
    // …and the round records one closed and one missing report before summing up
    const ended = eventsOf(outcome.roundDoc.timeline, 'subprocess.ended');
    expect(ended.map((e) => e.detail?.status).sort()).toEqual(['cancelled', 'closed']);
    // …the missing report counts 0 disputes in the totals, and one grid as reported
    const [grids] = eventsOf(outcome.roundDoc.timeline, 'step.completed').filter(
      (e) => e.stepId === 'grids',
    );
    expect(grids?.detail).toMatchObject({
      count: 2,
      closed: 1,
      disputesFound: 3,
      disputesResolved: 2,
      disputeResolutionRate: 0.6667,
    });
  });
});

describe('网格矛盾纠纷月上报的考核指标 (dispute-report rates)', () => {
  it('when grids report on time, claim in time and report late, report late unclaimed, or never report, then each case carries its flags and the summed rates are exact, also after a replay', async () => {
    // Arrange: one grid with its grid worker and grid chief; a quiet week so the working-day
    // clocks are plain
    const org = await screeningOrg();
    const report = bed.shipped('dispute-report.yaml');
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:00`).getTime();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = () => bed.startCase(queue, report, org.grid.id, { period: monday });
      const open = async (kase: RunningCase) => {
        const taskId = kase.taskId('report');
        return kase.waitForTask('the grid report task', taskId, (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      };
      const reported = async (kase: RunningCase, found: number, resolved: number) => {
        const taskId = kase.taskId('report');
        await kase.complete(taskId, org.gridWorker, 'reported', {
          ...REPORT,
          found,
          resolved,
        });
        return kase.waitForDoc('the report closed', (d) => d.status !== 'open');
      };
      // 1. claimed and reported at once: 3 found, 2 resolved
      const onTime = await start();
      await open(onTime);
      await onTime.claim(onTime.taskId('report'), org.gridWorker);
      const docs = [await reported(onTime, 3, 2)];
      // 2. claimed at once (接单 in time), reported after report_5d (办结 late): 2 found, 1 resolved
      const claimedEarly = await start();
      await open(claimedEarly);
      await claimedEarly.claim(claimedEarly.taskId('report'), org.gridWorker);
      // 3. neither claimed nor reported until report_5d passed: 4 found, 4 resolved
      const untouched = await start();
      await open(untouched);
      // 4. never reported: closed as 逾期未报 at the 10-working-day cutoff
      const silent = await start();
      const task = await open(silent);
      const due = deadlineOf(task.deadlines, `${silent.taskId('report')}/report_5d`).dueAt!;
      const cutoff = planDeadline(
        await bed.calendar(),
        { within: '10 working days', reminders: [], escalations: [] },
        task.openedAt.toISOString(),
      ).dueAt!;

      await bed.skipTo(Date.parse(due) + 60_000);
      for (const kase of [claimedEarly, untouched, silent]) {
        await kase.waitForEvents('deadline.escalated', 1, { deadline: 'report_5d' });
      }
      // The grid worker takes it on only now, after report_5d passed (接单 late)
      await untouched.claim(untouched.taskId('report'), org.gridWorker);
      docs.push(await reported(claimedEarly, 2, 1), await reported(untouched, 4, 4));
      await bed.skipTo(Date.parse(cutoff) + 60_000);
      docs.push(await silent.waitForDoc('the silent grid closed', (d) => d.status !== 'open'));
      return { docs, cases: [onTime, claimedEarly, untouched, silent] };
    });

    // Assert: the flags each grid's report carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'closed', 'cancelled']);
    expect(metrics.map((m) => [m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 0],
      [1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.escalated, m.escalations, m.overdue, m.excluded, m.ratingInvited]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 3, 1, 0, 0], // the grid chief, the community director, the street's 分管领导
    ]);
    expect(metrics.map((m) => [m.disputesFound, m.disputesResolved])).toEqual([
      [3, 2],
      [2, 1],
      [4, 4],
      [0, 0], // 逾期未报: no form, nothing found
    ]);
    // The rates, summed as the metrics service sums them. dispute-report has no 不予受理 and no
    // 解释说明 outcome (a grid cannot refuse its own monthly report) and no rating step, so
    // excluded, explained and the rating figures cannot be reached by any path.
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.75, // 3 grids took their report on of 4 asked
      responseRate: 0.5, // 2 took it on before report_5d passed (the untouched one after)
      completionRate: 0.75, // 3 reported of 4 due (逾期未报 is due once report_5d passed)
      resolutionRate: 0.75, // every report is 解决 (no 解释说明 outcome): 3 of 4 due
      onTimeRate: 0.3333, // 1 of 3 reported before report_5d; an in-time claim does not help
      satisfactionRate: null, // no feedback step: nobody rates a monthly report
      participationRate: null,
      visitRate: 0, // 0 rated of 3 completed: the formula has a denominator, no rating can come
      disputeResolutionRate: 0.7778, // (2 + 1 + 4) resolved of (3 + 2 + 4) found
      supervisionRate: 0.75, // 3 escalated (at report_5d) of 4 dispatched
      returnRate: 0,
      overdueRate: 0.75, // 3 past report_5d of 4 received
    });
    // After a replay: each history replays, and its timeline gives the stored figures again, but
    // for the dispute figures: they come from the report's form as the case closes, which the
    // timeline does not carry (replayedFlags recomputes from the timeline alone), so those two are
    // compared against zero and were asserted from the stored figures above.
    const measures = report.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      const replayed = await replayedFlags(bed, kase, measures);
      expect(replayed).toEqual({ ...metrics[i], disputesFound: 0, disputesResolved: 0 });
    }
  });
});

describe('月排查轮次的考核指标 (dispute-screening rates)', () => {
  it('when rounds are summed up at once, after summary_3d, or wait for a grid still screening, then each round carries its flags and the summed rates are exact, also after a replay', async () => {
    // Arrange: one grid under the street; the street's 综治中心 sums up, its leader hears of a
    // late summary
    const org = await bed.seedOrg();
    await bed.addPost(org.streetDirector, org.street, 'dispatcher');
    await bed.addPost(org.streetSecretary, org.street, 'leader');
    const screening = await bed.shippedWith('dispute-screening.yaml', 'dispute-report.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const start = async () => {
        const kase = await bed.startCase(queue, screening, org.street.id, { focus: '邻里纠纷' });
        const [started] = await kase.waitForEvents('subprocess.started', 1);
        return { kase, report: bed.childCase(String(started!.detail?.caseId)) };
      };
      const reported = async (report: RunningCase) => {
        const taskId = report.taskId('report');
        await report.waitForTask('the grid report task', taskId, () => true);
        await report.claim(taskId, org.gridWorker);
        await report.complete(taskId, org.gridWorker, 'reported', REPORT);
      };
      const summaryOpened = (kase: RunningCase) =>
        kase.waitForTask('the summary task', kase.taskId('summary'), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const summarised = async (kase: RunningCase) => {
        const summary = kase.taskId('summary');
        await kase.claim(summary, org.streetDirector);
        await kase.complete(summary, org.streetDirector, 'summarised', { analysis: '研判意见' });
        return kase.waitForDoc('the round closed', (d) => d.status !== 'open');
      };
      // 1. the grid reports, the round is summed up at once
      const onTime = await start();
      await reported(onTime.report);
      await summaryOpened(onTime.kase);
      const docs = [await summarised(onTime.kase)];
      // 2. the grid reports, the summary comes after summary_3d
      const late = await start();
      await reported(late.report);
      const task = await summaryOpened(late.kase);
      // 3. the grid has not reported yet: the round waits, within every limit
      const waiting = await start();

      await bed.skipTo(Date.parse(task.deadlines[0]!.dueAt!) + 60_000);
      await late.kase.waitForEvents('deadline.escalated', 1, { deadline: 'summary_3d' });
      docs.push(await summarised(late.kase), await waiting.kase.doc());
      return { docs, cases: [onTime.kase, late.kase, waiting.kase] };
    });

    // Assert: the flags each round carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'open']);
    // No acceptance declared: dispatched when received, accepted at the summary's claim
    expect(metrics.map((m) => [m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 1, 1],
      [1, 1, 0],
      [1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [0, 0, 0, 0, 0], // still running within its limit: in no part of 办结率
    ]);
    expect(
      metrics.map((m) => [m.escalated, m.overdue, m.disputesFound, m.disputesResolved]),
    ).toEqual([
      [0, 0, 0, 0], // the grids' disputes are on their own cases, not counted twice here
      [1, 1, 0, 0],
      [0, 0, 0, 0],
    ]);
    // The rates, summed as the metrics service sums them. The round has no 不予受理, no 解释说明,
    // no rating step and only the summary as a task of its own: excluded, explained, the rating
    // figures and a late intermediate step cannot be reached by any path.
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.6667, // 2 summaries taken on of 3 rounds
      responseRate: 0.3333, // 1 taken on before summary_3d passed
      completionRate: 1, // 2 summed up of 2 due; the round still waiting is not due yet
      resolutionRate: 1, // 已汇总 is 解决
      onTimeRate: 0.5, // 1 of 2 within summary_3d
      satisfactionRate: null,
      participationRate: null,
      visitRate: 0, // 0 rated of 2 completed: the formula has a denominator, no rating can come
      disputeResolutionRate: null, // the round declares no disputes (its grids do)
      supervisionRate: 0.3333, // the late summary, escalated to the street's leader
      returnRate: 0,
      overdueRate: 0.3333,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, screening.spec.measures)).toEqual(metrics[i]);
    }
  });
});

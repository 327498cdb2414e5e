import { figuresOf } from '../../services/metrics';
import { bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import type { SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import {
  claimAndComplete,
  eventsOf,
  expectFiredAt,
  mailsOf,
  plusDays,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 四进一巡 (definitions/grid-patrol-round.yaml and grid-patrol.yaml) on the
 * time-skipping server with the real activities: the day's round opens one patrol per grid under
 * the unit; a grid worker records the patrol by the close of the working day (17:30 with the
 * default office hours). Missed: the grid's workers are reminded at 16:30, the grid leader is told
 * at 17:30, the community director a working day later; the late patrol is not on time (巡查率).
 */
let bed: SlaTestBed;

useSlaTestBed('grid-patrol', (ready) => {
  bed = ready;
});

async function patrolOrg(): Promise<SeededOrg & { gridLeader: SeededPerson }> {
  const org = await bed.seedOrg();
  return {
    ...org,
    gridLeader: await bed.addPerson('grid-leader', '网格长', [[org.grid, 'grid-leader']]),
  };
}

describe('四进一巡 (grid-patrol-round → grid-patrol)', () => {
  it('when the grid worker records the day’s patrol before the close, then the grid’s case closes on time and the round ends', async () => {
    // Arrange
    const org = await patrolOrg();
    const monday = await bed.quietMonday();
    const round = await bed.shippedWith('grid-patrol-round.yaml', 'grid-patrol.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 08:30`));
      const kase = await bed.startCase(queue, round, org.street.id);
      const [started] = await kase.waitForEvents('subprocess.started', 1);
      const grid = bed.childCase(String(started!.detail?.caseId));
      const patrol = grid.taskId('patrol');
      const task = await grid.waitForTask('巡查', patrol, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${monday} 15:00`));
      await claimAndComplete(grid, patrol, org.gridWorker, 'reported', {
        compounds: 3,
        courtyards: 2,
        households: 15,
        shops: 6,
        streets: 2,
        found: 1,
        note: '惠民小区南门路灯不亮，已按网格事件上报',
      });
      const gridDoc = await grid.waitForDoc('closed', (d) => d.status === 'closed');
      const roundDoc = await kase.waitForDoc('closed', (d) => d.status === 'closed');
      return {
        task,
        gridDoc,
        roundDoc,
        gridCase: await bed.db.models.Case.findById(grid.caseId).lean(),
      };
    });

    // Assert: due at the close of the day, one per grid with that day, done on time
    expect(outcome.task.dueAt).toEqual(bj(`${monday} 17:30`));
    expect(outcome.gridCase?.unitId).toBe(org.grid.id);
    expect(outcome.gridCase?.data).toEqual({ day: monday });
    expect(flagsOf(outcome.gridDoc)).toMatchObject({
      completed: 1,
      resolved: 1,
      completedOnTime: 1,
    });
    expect(outcome.roundDoc.status).toBe('closed');
  });

  it('when nobody patrols, then the grid workers are reminded at 16:30, the grid leader is told at 17:30 and the community director one working day later', async () => {
    // Arrange
    const org = await patrolOrg();
    const monday = await bed.quietMonday();
    const round = await bed.shippedWith('grid-patrol-round.yaml', 'grid-patrol.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 08:30`));
      const kase = await bed.startCase(queue, round, org.street.id);
      const [started] = await kase.waitForEvents('subprocess.started', 1);
      const grid = bed.childCase(String(started!.detail?.caseId));
      await grid.waitForTask('巡查', grid.taskId('patrol'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${plusDays(monday, 2)} 10:00`));
      await grid.waitForEvents('deadline.escalated', 2);
      return grid.doc();
    });

    // Assert
    const [reminded] = eventsOf(outcome.timeline, 'deadline.reminded');
    expectFiredAt(reminded!.at, bj(`${monday} 16:30`).getTime());
    const [leader, director] = eventsOf(outcome.timeline, 'deadline.escalated');
    expectFiredAt(leader!.at, bj(`${monday} 17:30`).getTime());
    expect(leader!.detail?.unitId).toBe(org.grid.id);
    // 1 working day after 17:30 (the close) counts from the next opening, Tuesday 09:00
    expectFiredAt(director!.at, bj(`${plusDays(monday, 2)} 09:00`).getTime());
    expect(director!.detail?.unitId).toBe(org.community.id);
    expect(await mailsOf(org.gridWorker, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.gridWorker2, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.gridLeader, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.director, SUBJECT.escalated)).toHaveLength(1);
  });
});

describe('四进一巡 measures (巡查率 as 按期办结率, 办结率, 督办率…)', () => {
  it('when known patrols run (recorded in the morning, reported in the afternoon, taken up in the morning but recorded the next day, never taken up) and a round, then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange
    const org = await patrolOrg();
    const monday = await bed.quietMonday();
    const round = await bed.shippedWith('grid-patrol-round.yaml', 'grid-patrol.yaml');
    const patrolDefinition = bed.shipped('grid-patrol.yaml');
    const counts = { compounds: 3, courtyards: 2, households: 15, shops: 6, streets: 2 };

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 08:30`));
      type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
      const start = () => bed.startCase(queue, patrolDefinition, org.grid.id, { day: monday });
      const planned = (kase: Kase) =>
        kase.waitForTask('巡查', kase.taskId('patrol'), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const record = (kase: Kase, outcome: string) =>
        kase.complete(kase.taskId('patrol'), org.gridWorker, outcome, {
          ...counts,
          found: outcome === 'reported' ? 1 : 0,
          ...(outcome === 'reported' ? { note: '南门路灯不亮，已上报' } : {}),
        });
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      // The round opens one patrol for the street's grid, recorded at once
      const roundCase = await bed.startCase(queue, round, org.street.id);
      const [started] = await roundCase.waitForEvents('subprocess.started', 1);
      const child = bed.childCase(String(started!.detail?.caseId));
      await planned(child);
      await claimAndComplete(child, child.taskId('patrol'), org.gridWorker, 'patrolled', {
        ...counts,
        found: 0,
      });
      await closed(child);
      const roundDoc = await closed(roundCase);
      // 1. recorded at 10:00; 2. reported at 15:00; 3. taken up at 09:00, recorded on Tuesday;
      // 4. never taken up
      const cases = [await start(), await start(), await start(), await start()];
      const [morning, afternoon, nextDay, never] = cases as [Kase, Kase, Kase, Kase];
      for (const kase of cases) await planned(kase);
      await nextDay.claim(nextDay.taskId('patrol'), org.gridWorker);
      await bed.skipTo(bj(`${monday} 10:00`));
      await morning.claim(morning.taskId('patrol'), org.gridWorker);
      await record(morning, 'patrolled');
      await bed.skipTo(bj(`${monday} 15:00`));
      await afternoon.claim(afternoon.taskId('patrol'), org.gridWorker);
      await record(afternoon, 'reported');
      await bed.skipTo(bj(`${plusDays(monday, 1)} 10:00`));
      await nextDay.waitForEvents('deadline.escalated', 1, { deadline: 'patrol_today' });
      await never.waitForEvents('deadline.escalated', 1, { deadline: 'patrol_today' });
      await record(nextDay, 'patrolled');
      const docs = [
        await closed(morning),
        await closed(afternoon),
        await closed(nextDay),
        await never.doc(),
      ];
      return { docs, cases, roundDoc, roundCase };
    });

    // Assert: the flags each patrol carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'closed', 'open']);
    // No `acceptance` is declared: every patrol is dispatched when opened, and the grid worker's
    // claim is its acceptance; the one never taken up missed patrol_today before any acceptance.
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.75, // 3 taken up of 4 opened
      responseRate: 0.75, // the same 3, all before the close (patrol_today)
      completionRate: 0.75, // 3 recorded of 4 due (the one never taken up is past patrol_today)
      resolutionRate: 0.75, // both outcomes are 解决: recording the patrol is the whole task
      onTimeRate: 0.6667, // 巡查率: 2 of 3 recorded before the close
      satisfactionRate: null, // no feedback step
      participationRate: null,
      visitRate: 0, // 0 rated of 3 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.5, // 2 told to the grid leader of 4
      returnRate: 0, // no task is sent back
      overdueRate: 0.5, // 2 past the close of 4 (the process has no refusal)
    });
    // The round (`acceptance: []`): closed `closed` once its patrols ended, so completed and
    // resolved; nobody takes a round on, so it is never dispatched (in no 接单率 denominator).
    const roundFlags = flagsOf(outcome.roundDoc);
    expect(roundFlags).toMatchObject({
      dispatched: 0,
      accepted: 0,
      due: 1,
      completed: 1,
      resolved: 1,
      completedOnTime: 1,
      overdue: 0,
    });
    expect(figuresOf(roundFlags).rates).toMatchObject({
      acceptanceRate: null, // nothing dispatched: a round has no 接单率
      completionRate: 1,
      onTimeRate: 1,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = patrolDefinition.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
    expect(await replayedFlags(bed, outcome.roundCase, round.spec.measures)).toEqual(roundFlags);
  });
});

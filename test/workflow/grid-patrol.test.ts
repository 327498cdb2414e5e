import { bj } from '../support/beijing';
import { flagsOf } from '../support/case-figures';
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

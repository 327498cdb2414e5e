import type { SlaTestBed } from '../support/sla-cases';
import {
  claimAndComplete,
  eventsOf,
  expectFiredAt,
  plusDays,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The `repeat` step (重复执行, docs 6.15) on the time-skipping test server with real activities
 * over FerretDB: a block of steps run N times `every` apart, or once per date of a list; each
 * iteration's results readable afterwards as `steps.<repeat>.iterations['<n>']`.
 */
let bed: SlaTestBed;
const DAY = 24 * 3600_000;

useSlaTestBed('repeat-step', (ready) => {
  bed = ready;
});

function monthlyCheckins(key: string, repeat: Record<string, unknown>) {
  return bed.definition({
    key,
    name: '困难家庭每月回访',
    starters: ['resident'],
    input: {
      fields: [{ name: 'visitDates', label: '回访日期', type: 'date', multiple: true }],
    },
    steps: [
      {
        id: 'checkins',
        name: '每月回访',
        type: 'repeat',
        ...repeat,
        steps: [
          {
            id: 'visit',
            name: '入户回访',
            type: 'task',
            candidates: [{ role: 'grid-worker', unit: 'case' }],
            form: { fields: [{ name: 'note', label: '回访情况', type: 'text' }] },
            outcomes: [
              { id: 'met', name: '已见面' },
              { id: 'absent', name: '不在家' },
            ],
          },
        ],
      },
      {
        id: 'review',
        name: '第二次是否不在家',
        type: 'decision',
        branches: [
          {
            when: "steps.checkins.count == 3 && steps.checkins.iterations['2'].steps.visit.outcome == 'absent'",
            next: 'follow_up',
          },
        ],
        otherwise: 'closed',
      },
      { id: 'follow_up', name: '转社区跟进', type: 'end', status: 'cancelled' },
      { id: 'closed', name: '回访结束', type: 'end' },
    ],
  });
}

it('when a block repeats three times thirty days apart, then each visit opens thirty days after the last began, and a decision reads the second visit’s outcome', async () => {
  const org = await bed.seedOrg();
  const definition = monthlyCheckins('repeat-times', { times: 3, every: 'P30D' });
  await bed.withWorker(async (queue) => {
    // Arrange
    const kase = await bed.startCase(queue, definition, org.grid.id);
    const opened: number[] = [];
    const outcomes = ['met', 'absent', 'met'];

    // Act: each visit, as it opens, done the same day
    for (const [i, outcome] of outcomes.entries()) {
      if (i > 0) await bed.skipTo(opened[0]! + i * 30 * DAY + 60_000);
      const taskId = kase.taskId('visit', i + 1);
      const task = await kase.waitForTask(`visit ${i + 1}`, taskId, () => true);
      opened.push(task.openedAt.getTime());
      await claimAndComplete(kase, taskId, org.gridWorker, outcome, { note: `第${i + 1}次` });
    }

    // Assert: 30 days from one iteration's start to the next (a task opens a moment after its
    // iteration starts, so the opening instants are 30 days apart within that moment)
    for (const i of [1, 2]) {
      expect(Math.abs(opened[i]! - (opened[0]! + i * 30 * DAY))).toBeLessThan(10_000);
    }
    // …and the second visit's outcome chose the end
    expect(await kase.handle.result()).toMatchObject({ status: 'cancelled' });
    const doc = await kase.doc();
    expect(eventsOf(doc.timeline, 'task.opened').map((e) => e.detail!['task'])).toEqual([
      kase.taskId('visit', 1),
      kase.taskId('visit', 2),
      kase.taskId('visit', 3),
    ]);
    expect(eventsOf(doc.timeline, 'decision.taken')[0]!.detail).toMatchObject({
      branch: 1,
      next: 'follow_up',
    });
  });
});

it('when a block repeats once per date of a list, then each visit opens on its date, a past date at once', async () => {
  const org = await bed.seedOrg();
  const definition = monthlyCheckins('repeat-dates', { dates: 'data.visitDates' });
  const today = new Date(await bed.now()).toISOString().slice(0, 10);
  const dates = [plusDays(today, -3), plusDays(today, 10), plusDays(today, 40)];
  await bed.withWorker(async (queue) => {
    // Arrange
    const kase = await bed.startCase(queue, definition, org.grid.id, { visitDates: dates });

    // Act & Assert: the past date's visit opens at once; the others on their dates (00:00 UTC)
    const first = await kase.waitForTask('visit 1', kase.taskId('visit', 1), () => true);
    await claimAndComplete(kase, kase.taskId('visit', 1), org.gridWorker, 'met', { note: '1' });
    for (const [i, date] of dates.slice(1).entries()) {
      const due = Date.parse(date);
      await bed.skipTo(due + 60_000);
      const taskId = kase.taskId('visit', i + 2);
      const task = await kase.waitForTask(`visit ${i + 2}`, taskId, () => true);
      expectFiredAt(task.openedAt, due);
      await claimAndComplete(kase, taskId, org.gridWorker, 'met', { note: String(i + 2) });
    }
    expect(first.openedAt.getTime()).toBeLessThan(Date.parse(dates[1]!));
    expect(await kase.handle.result()).toMatchObject({ status: 'closed' });
  });
});

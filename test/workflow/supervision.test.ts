import type { SlaTestBed } from '../support/sla-cases';
import { eventsOf, expectFiredAt, useSlaTestBed } from '../support/sla-cases';

/**
 * Supervision slips (督办单) on the time-skipping test server, real activities over FerretDB: an
 * escalation level with `supervise` opens a slip beside the case (its own deadline, a required
 * reply); the slip's deadline passing is the slip's overdue, not the case's; the case goes on
 * meanwhile; a slip still open when the case closes is closed as moot.
 */
let bed: SlaTestBed;
const HOUR = 3600_000;
const MINUTE = 60_000;

useSlaTestBed('supervision', (ready) => {
  bed = ready;
});

const ladder = [
  {
    id: 'finish',
    name: '办结时限',
    within: 'PT4H',
    escalations: [
      {
        notify: { role: 'secretary', unit: 'street' },
        supervise: { within: 'PT2H', level: 'red', name: '红色督办单' },
      },
    ],
  },
];

it('when a deadline passes at a supervising level, then a slip opens, its own deadline passing is recorded as overdue, and its reply closes it', async () => {
  const org = await bed.seedOrg();
  const definition = bed.serviceDefinition('supervision-reply', ladder);
  await bed.withWorker(async (queue) => {
    // Arrange
    const opened = await bed.openTask(queue, org, definition);
    const { kase, taskId } = opened;
    const dueAt = opened.openedAt + 4 * HOUR;
    await kase.claim(taskId, org.gridWorker);

    // Act: past the task's deadline
    await bed.skipTo(dueAt + MINUTE);

    // Assert: the slip is open for the street secretary, with its own deadline
    const slipId = `${kase.caseId}.supervision.1`;
    const [openedEntry] = await kase.waitForEvents('supervision.opened', 1);
    expectFiredAt(openedEntry!.at, dueAt);
    expect(openedEntry!.detail).toEqual({
      task: slipId,
      level: 'red',
      deadline: 'finish',
      escalation: 1,
      candidates: 1,
      escalatedStep: 'serve',
    });
    const slip = await kase.waitForTask('the slip to open', slipId, (t) => t.deadlines.length > 0);
    expect(slip).toMatchObject({
      kind: 'supervision',
      status: 'open',
      name: '红色督办单',
      stepId: 'supervision',
      candidateUserIds: [org.streetSecretary.userId],
      supervision: { level: 'red', overdue: false, reply: null, deadline: 'finish' },
    });
    // Two hours from the slip's opening (just after the level fired).
    expectFiredAt(new Date(slip.deadlines[0]!.dueAt!), dueAt + 2 * HOUR);
    const figures = await kase.waitForDoc('the figures to count the slip', (d) => {
      return (d as unknown as { metrics: { supervised?: number } }).metrics.supervised === 1;
    });
    expect((figures as unknown as { metrics: object }).metrics).toMatchObject({ escalated: 1 });

    // Act: past the slip's deadline
    await bed.skipTo(dueAt + 2 * HOUR + 2 * MINUTE);

    // Assert: the slip is overdue, the case's own figures are not moved by it
    const [overdue] = await kase.waitForEvents('supervision.overdue', 1);
    expectFiredAt(overdue!.at, slip.deadlines[0]!.dueAt!);
    await kase.waitForTask(
      'the slip to be overdue',
      slipId,
      (t) => t.supervision?.overdue === true,
    );
    expect(eventsOf((await kase.doc()).timeline, 'deadline.missed')).toHaveLength(1);

    // Act: a reply without text is refused; with text it closes the slip
    await expect(
      kase.complete(slipId, org.streetSecretary, 'replied', { reply: '' }),
    ).rejects.toMatchObject({ cause: { type: 'Invalid' } });
    await expect(
      kase.complete(slipId, org.gridWorker, 'replied', { reply: '已整改' }),
    ).rejects.toMatchObject({ cause: { type: 'Forbidden' } });
    await kase.complete(slipId, org.streetSecretary, 'replied', { reply: '已督促网格员今日办结' });

    // Assert
    const [replied] = await kase.waitForEvents('supervision.replied', 1);
    expect(replied!.detail).toEqual({
      task: slipId,
      outcome: 'replied',
      level: 'red',
      overdue: true,
    });
    const answered = await kase.waitForTask('the slip to close', slipId, (t) => !!t.closedAt);
    expect(answered).toMatchObject({
      status: 'completed',
      outcome: 'replied',
      supervision: { overdue: true, reply: '已督促网格员今日办结' },
    });
    // The case went on beside the slip: its task is still the grid worker's to finish.
    expect(eventsOf((await kase.doc()).timeline, 'task.completed')).toHaveLength(0);
    await kase.complete(taskId, org.gridWorker);
    expect(await kase.handle.result()).toMatchObject({ status: 'closed' });
  });
});

it('when the case closes while its slip is open, then the slip is closed as moot', async () => {
  const org = await bed.seedOrg();
  const definition = bed.serviceDefinition('supervision-moot', ladder);
  await bed.withWorker(async (queue) => {
    // Arrange: the slip opens
    const opened = await bed.openTask(queue, org, definition);
    const { kase, taskId } = opened;
    await kase.claim(taskId, org.gridWorker);
    await bed.skipTo(opened.openedAt + 4 * HOUR + MINUTE);
    await kase.waitForEvents('supervision.opened', 1);
    const slipId = `${kase.caseId}.supervision.1`;

    // Act: the case's own task finishes first
    await kase.complete(taskId, org.gridWorker);

    // Assert
    expect(await kase.handle.result()).toMatchObject({ status: 'closed' });
    const [moot] = await kase.waitForEvents('supervision.moot', 1);
    expect(moot!.detail).toEqual({ task: slipId });
    const slip = await kase.waitForTask('the slip to close', slipId, (t) => !!t.closedAt);
    expect(slip).toMatchObject({ status: 'cancelled', supervision: { reply: null } });
  });
});

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import YAML from 'yaml';
import type { Principal } from '../../services/auth';
import { waitFor } from '../support/harness';
import { testDataConverter, testStack } from '../support/test-stack';
import type { SeededPerson, SlaTestBed, StoppableWorker } from '../support/sla-cases';
import { deadlineOf, eventsOf, mailsOf, useSlaTestBed } from '../support/sla-cases';

/**
 * A roll-call whose case runs late (issue 14: "each missing person is escalated once"): the
 * shipped definitions/emergency-compound.yaml with its durations in seconds, its worker gone from
 * before the reminder until after the window, as on a worker stopped by a deploy or one behind
 * under load
 * (bench:rollcall at 10,000 people on a loaded machine: compounds with people missing and no
 * escalation at all, docs/roll-calls-at-scale.md). The fresh worker gets the clock's timer and
 * the window's end in one go; the roll-call closes, and the levels that came due while it was
 * open (the grid chief at the deadline, the community secretary 30 minutes and the street's
 * leader an hour later) must still be escalated, once each, naming those missing. Before the
 * fix the close stopped the clock and all three were dropped without a trace.
 */
let bed: SlaTestBed;

jest.setTimeout(240_000);

useSlaTestBed('roll-call-late-escalations', (ready) => {
  bed = ready;
});

/** People called and who of them report (chosen: a few, the rest missing). */
const CALLED = 6;
const PRESENT = 2;
/**
 * The shipped durations scaled to seconds (chosen), as bench:rollcall scales them: the deadline
 * 12 s (shipped 30 minutes), the reminder 4 s before, the levels at 12, 16 and 20 s, the window
 * 32 s (shipped 2 hours). Seconds, because the worker is away in real time: the time-skipping
 * server holds its clock while a workflow task waits for a worker, so it cannot skip past the
 * window with none running.
 */
const DEADLINE_S = 12;
const WINDOW_MS = ((DEADLINE_S * 8) / 3) * 1000;

function scaledCompound() {
  const third = DEADLINE_S / 3;
  const source = readFileSync(
    path.join(__dirname, '..', '..', 'definitions', 'emergency-compound.yaml'),
    'utf8',
  )
    .replace(/within: PT2H\b/, `within: PT${(DEADLINE_S * 8) / 3}S`)
    .replace(/within: PT30M\b/, `within: PT${DEADLINE_S}S`)
    .replace(/before: PT10M\b/, `before: PT${third}S`)
    .replace(/after: PT30M\b/, `after: PT${third}S`)
    .replace(/after: PT1H\b/, `after: PT${2 * third}S`);
  return bed.definition(YAML.parse(source) as Record<string, unknown>);
}

/** Waits on the store or the sink (chosen, generous for two loaded cores). */
const SLOW_WAIT_MS = 120_000;
const SUBJECT_ESCALATED = '超时未报到督办';
const DATA = { reason: '防汛Ⅳ级应急响应' };

function principalOf(person: SeededPerson): Principal {
  return { kind: 'user', id: person.userId, roles: ['staff'], unitIds: [] };
}

/** The queued mails of `template` for the case, by address. */
async function queuedByAddress(caseId: string, template: string): Promise<Map<string, number>> {
  const docs = await bed.db.models.Outbox.find({ caseId, template }, { to: 1 }).lean();
  const counts = new Map<string, number>();
  for (const doc of docs) counts.set(doc.to, (counts.get(doc.to) ?? 0) + 1);
  return counts;
}

describe('a roll-call whose case runs late', () => {
  it('when no worker runs from before the reminder until after the window, then every level due while it was open is escalated once, naming those missing', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const compound = await bed.addUnit('compound', '晚点小区', org.grid);
    const staff = await bed.addPostHolders(compound, 'property-staff', CALLED, 'staff', '物业员');
    const gridLeader = await bed.addPerson('grid-leader', '钱网格长', [[org.grid, 'grid-leader']]);
    const streetLeader = await bed.addPerson('street-leader', '孙分管', [[org.street, 'leader']]);
    const present = staff.slice(0, PRESENT);
    const missing = staff.slice(PRESENT);
    const queue = `late-${randomBytes(4).toString('hex')}`;
    const workers: StoppableWorker[] = [];

    const outcome = await (async () => {
      try {
        workers.push(await bed.startWorker(queue));
        const kase = await bed.startCase(queue, scaledCompound(), compound.id, DATA);
        const taskId = kase.taskId('report');
        const task = await kase.waitForTask(
          'the roll-call to open',
          taskId,
          (t) => t.status === 'open' && t.deadlines.every((d) => d.dueAt !== null),
        );
        await kase.waitForEvents('notification.sent', 1, { template: 'task-assigned' });
        for (const person of present) {
          await bed.tasks().act(principalOf(person), taskId, 'claim', {}, undefined);
        }
        const due = Date.parse(deadlineOf(task.deadlines, `${taskId}/report_30m`).dueAt!);
        const windowEnds = task.openedAt.getTime() + WINDOW_MS;
        expect(due).toBe(task.openedAt.getTime() + DEADLINE_S * 1000);

        // Act: no worker from before the reminder until after the window's end (the server's
        // clock skips to the reminder's timer, then runs on in real time)…
        await workers[0]!.stop();
        expect(await bed.now()).toBeLessThan(due);
        await bed.skipTo(windowEnds + 2_000);
        // …then a fresh one, which gets the clock's timer and the window's end together
        workers.push(await bed.startWorker(queue));
        const result = (await kase.handle.result()) as { status: string; rollCall?: unknown };
        return { kase, taskId, result, doc: await kase.doc() };
      } finally {
        await Promise.allSettled(workers.map((w) => w.stop()));
      }
    })();

    // Assert: the roll-call closed at its window's end with the silent missing
    const { kase, doc } = outcome;
    const closings = eventsOf(doc.timeline, 'claim.closed');
    expect(closings).toHaveLength(1);
    expect(closings[0]!.detail).toMatchObject({
      reason: 'window-ended',
      claimants: PRESENT,
      expected: CALLED,
      missing: CALLED - PRESENT,
    });
    expect(outcome.result).toMatchObject({
      status: 'closed',
      rollCall: { expected: CALLED, acknowledged: PRESENT, missing: CALLED - PRESENT },
    });
    // …the deadline was missed once and each of the three levels escalated once
    expect(eventsOf(doc.timeline, 'deadline.missed')).toHaveLength(1);
    for (const level of [1, 2, 3]) {
      expect(eventsOf(doc.timeline, 'deadline.escalated', { level })).toHaveLength(1);
    }
    // …each to its own supervisor, one mail each
    const escalated = await queuedByAddress(kase.caseId, 'roll-call-escalated');
    expect(Object.fromEntries(escalated)).toEqual({
      [gridLeader.email]: 1,
      [org.communitySecretary.email]: 1,
      [streetLeader.email]: 1,
    });
    // …and the grid chief's mail names those missing, not those who reported
    const mails = await waitFor(
      'the grid chief’s escalation mail',
      async () => {
        const found = await mailsOf(gridLeader, SUBJECT_ESCALATED);
        return found.length > 0 ? found : undefined;
      },
      SLOW_WAIT_MS,
    );
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain(`应到 ${CALLED} 人，已报到 ${PRESENT} 人`);
    expect(mails[0]!.text).toContain(missing[0]!.name);
    expect(mails[0]!.text).not.toContain(present[0]!.name);
    // …the case closed once, and its history replays on the interpreter
    expect(eventsOf(doc.timeline, 'case.closed')).toHaveLength(1);
    await expect(
      Worker.runReplayHistory(
        {
          workflowBundle: { codePath: testStack().workflowBundlePath },
          dataConverter: testDataConverter(),
        },
        await kase.handle.fetchHistory(),
        kase.caseId,
      ),
    ).resolves.toBeUndefined();
  });
});

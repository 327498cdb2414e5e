import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { Principal } from '../../services/auth';
import { AppError } from '../../services/errors';
import { waitFor } from '../support/harness';
import { testDataConverter, testStack } from '../support/test-stack';
import type { RunningCase, SeededPerson, SeededUnit, SlaTestBed } from '../support/sla-cases';
import { deadlineOf, eventsOf, mailsOf, useSlaTestBed } from '../support/sla-cases';

/**
 * A roll-call of hundreds of people in one execution (issue 14): the shipped
 * definitions/emergency-compound.yaml over a compound whose every property-staff post is held,
 * acknowledged through the task service (the API's claim) as people would. The people live in the
 * roster collection, so the case's history stays the size of a small case: it grows with the
 * roll-call's own events, not with the people called or acknowledging. Before the roster, N=300
 * took 31 MB of history and N≈390 hit the server's 50 MB limit.
 */
let bed: SlaTestBed;

jest.setTimeout(240_000);

useSlaTestBed('roll-call-at-scale', (ready) => {
  bed = ready;
});

/**
 * People called (chosen for the suite's time on two cores; the history bounds below do not depend
 * on it: before the roster, history grew as 335·N² bytes).
 */
const N = 150;
/** Who reports in the silent-third case. */
const PRESENT = (N * 2) / 3;
const SILENT = N - PRESENT;
const MINUTE = 60_000;
const SUBJECT = { called: '新任务待办', reminder: '紧急报到提醒', escalated: '超时未报到督办' };
const DATA = { reason: '防汛Ⅳ级应急响应' };

interface BigCompound {
  compound: SeededUnit;
  staff: SeededPerson[];
  gridLeader: SeededPerson;
}

/** A compound with N property staff (bulk-written: the roster is what is under test). */
async function bigCompound(): Promise<BigCompound> {
  const org = await bed.seedOrg();
  const compound = await bed.addUnit('compound', '大型小区', org.grid);
  const staff = await bed.addPostHolders(compound, 'property-staff', N, 'staff', '物业员');
  const gridLeader = await bed.addPerson('grid-leader', '钱网格长', [[org.grid, 'grid-leader']]);
  return { compound, staff, gridLeader };
}

/** An admin sees every task but is on no roster. */
const ADMIN: Principal = { kind: 'user', id: 'usr-admin', roles: ['admin'], unitIds: [] };

function principalOf(person: SeededPerson): Principal {
  return { kind: 'user', id: person.userId, roles: ['staff'], unitIds: [] };
}

/** Acknowledges for each person through the task service, a few at once (as people would). */
async function acknowledgeAll(taskId: string, people: readonly SeededPerson[]): Promise<void> {
  const tasks = bed.tasks();
  let next = 0;
  const worker = async () => {
    while (next < people.length) {
      const person = people[next++]!;
      await tasks.act(principalOf(person), taskId, 'claim', {}, undefined);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function openRollCall(queue: string, compound: SeededUnit) {
  const kase = await bed.startCase(
    queue,
    bed.shipped('emergency-compound.yaml'),
    compound.id,
    DATA,
  );
  const taskId = kase.taskId('report');
  const task = await kase.waitForTask('the roll-call to open', taskId, (t) => t.status === 'open');
  return { kase, taskId, task };
}

/**
 * With RECORD_ROSTER_HISTORIES=1, saves the case's history as a replay fixture
 * (test/fixtures/histories, replayed by test/workflow/replay.test.ts).
 */
async function recordFixture(name: string, kase: RunningCase): Promise<void> {
  if (process.env.RECORD_ROSTER_HISTORIES !== '1') return;
  const history = await kase.handle.fetchHistory();
  const file = path.join(__dirname, '..', 'fixtures', 'histories', `${name}.json`);
  writeFileSync(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
}

async function historyOf(kase: RunningCase) {
  const history = await kase.handle.fetchHistory();
  const bytes = temporal.api.history.v1.History.encode(history).finish().length;
  return { history, events: history.events!.length, bytes };
}

/**
 * A person's mails with `marker`, once at least one has arrived: the outbox delivers hundreds of
 * mails of the roll-call one after the other, longer than the sink read waits by itself.
 */
function mailsOnceDelivered(person: SeededPerson, marker: string) {
  return waitFor(
    `mail "${marker}" for ${person.personId}`,
    async () => {
      const mails = await mailsOf(person, marker);
      return mails.length > 0 ? mails : undefined;
    },
    120_000,
  );
}

describe('a roll-call of hundreds of people (roster)', () => {
  it('when all 150 acknowledge through the service, then the roll-call closes at once and the history stays small and replays', async () => {
    // Arrange
    const { compound, staff } = await bigCompound();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const { kase, taskId, task } = await openRollCall(queue, compound);
      await acknowledgeAll(taskId, staff.slice(0, N - 1));
      const live = (await kase.task(taskId)) as unknown as {
        status: string;
        candidates: unknown[];
        claimants: unknown[];
        acknowledged: number;
      };
      // A repeat is idempotent: the same answer, no second count.
      await acknowledgeAll(taskId, staff.slice(0, 3));
      await acknowledgeAll(taskId, staff.slice(N - 1));
      await kase.handle.result();
      return { kase, task, live, doc: await kase.doc(), closed: await kase.task(taskId) };
    });

    // Assert: the people are on the task for the inbox, the live count was right before the last
    expect(outcome.task.candidates).toHaveLength(N);
    expect(outcome.live).toMatchObject({ status: 'open', acknowledged: N - 1 });
    expect(outcome.live.claimants).toHaveLength(N - 1);
    // …it closed as soon as the last reported (the signal), with the figures
    const [closed] = eventsOf(outcome.doc.timeline, 'claim.closed');
    expect(closed!.detail).toMatchObject({ reason: 'full', claimants: N, expected: N, missing: 0 });
    expect(outcome.closed!.status).toBe('completed');
    expect(eventsOf(outcome.doc.timeline, 'case.closed')[0]!.stepId).toBe('closed');
    // …everyone was called once, from the roster, and one timeline entry says so
    expect(
      await bed.db.models.Outbox.countDocuments({
        caseId: outcome.kase.caseId,
        template: 'task-assigned',
      }),
    ).toBe(N);
    expect(await mailsOnceDelivered(staff[7]!, SUBJECT.called)).toHaveLength(1);
    expect(eventsOf(outcome.doc.timeline, 'notification.sent')[0]!.detail).toMatchObject({
      template: 'task-assigned',
      count: N,
    });
    // …the history does not grow with the people (was 31 MB for N=300), and replays
    const { history, events, bytes } = await historyOf(outcome.kase);
    expect(events).toBeLessThan(100);
    expect(bytes).toBeLessThan(100_000);
    // …and the roll-call opened in one activity: the roster, its plans and the call together,
    // then one read-model write (before: the opening's write, two plans and the call apart)
    const scheduled = history.events!.flatMap((e) =>
      e.activityTaskScheduledEventAttributes
        ? [e.activityTaskScheduledEventAttributes.activityType!.name!]
        : [],
    );
    expect(scheduled.filter((name) => name === 'openRollCall')).toHaveLength(1);
    expect(scheduled).not.toContain('planDeadline');
    expect(scheduled).not.toContain('mailRollCall');
    const openingWrite = outcome.doc.timeline.filter((entry) => entry.seq <= 3);
    expect(openingWrite.map((entry) => entry.type)).toEqual([
      'case.started',
      'task.opened',
      'notification.sent',
    ]);
    // (and a repeated report counted once: the figures above, and one claimant each)
    expect(new Set(outcome.closed!.claimants.map((c) => c.personId)).size).toBe(N);
    await expect(
      Worker.runReplayHistory(
        {
          workflowBundle: { codePath: testStack().workflowBundlePath },
          dataConverter: testDataConverter(),
        },
        history,
        outcome.kase.caseId,
      ),
    ).resolves.toBeUndefined();
    await recordFixture('roster-roll-call-opened-at-once-all-present', outcome.kase);
    process.stdout.write(
      `roster roll-call N=${N}, all present: ${events} events, ${bytes} bytes\n`,
    );
  });

  it('when a third stay silent, then each is reminded once, the grid chief gets their names, the window closes with them missing, and late reports are refused', async () => {
    // Arrange
    const { compound, staff, gridLeader } = await bigCompound();
    const present = staff.slice(0, PRESENT);
    const silent = staff.slice(PRESENT);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const { kase, taskId, task } = await openRollCall(queue, compound);
      await acknowledgeAll(taskId, present);
      const stranger = await bed
        .tasks()
        .act(ADMIN, taskId, 'claim', {}, undefined)
        .catch((err: unknown) => err);
      const due = Date.parse(deadlineOf(task.deadlines, `${taskId}/report_30m`).dueAt!);
      const windowEnds = task.openedAt.getTime() + 120 * MINUTE;
      await bed.skipTo(due + MINUTE);
      await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
      // The outbox delivers the announcements and reminders first: wait for the escalation.
      const escalated = await waitFor(
        'the grid chief’s escalation mail',
        async () => {
          const mails = await mailsOf(gridLeader, SUBJECT.escalated);
          return mails.length > 0 ? mails : undefined;
        },
        120_000,
      );
      await bed.skipTo(windowEnds + MINUTE);
      await kase.handle.result();
      const late = await bed
        .tasks()
        .act(principalOf(silent[0]!), taskId, 'claim', {}, undefined)
        .catch((err: unknown) => err);
      return { kase, taskId, escalated, late, stranger, doc: await kase.doc() };
    });

    // Assert: each silent person was reminded once, nobody who reported was
    const reminders = await bed.db.models.Outbox.find(
      { caseId: outcome.kase.caseId, template: 'roll-call-reminder' },
      { to: 1 },
    ).lean();
    expect(reminders).toHaveLength(silent.length);
    expect(new Set(reminders.map((r) => r.to)).size).toBe(silent.length);
    expect(await mailsOnceDelivered(silent[5]!, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(present[5]!, SUBJECT.reminder)).toHaveLength(0);
    // …the grid chief's mail has the figures and the names of the missing only
    expect(outcome.escalated).toHaveLength(1);
    expect(outcome.escalated[0]!.text).toContain(`应到 ${N} 人，已报到 ${PRESENT} 人`);
    expect(outcome.escalated[0]!.text).toContain(silent[0]!.name);
    expect(outcome.escalated[0]!.text).not.toContain(present[0]!.name);
    // …the window closed with the silent missing, on the timeline and the roster
    const [closed] = eventsOf(outcome.doc.timeline, 'claim.closed');
    expect(closed!.detail).toMatchObject({ reason: 'window-ended', expected: N, missing: SILENT });
    expect(
      await bed.db.models.RollCallEntry.countDocuments({
        taskId: outcome.taskId,
        closedAt: { $ne: null },
      }),
    ).toBe(SILENT);
    // …a late report is refused: once closed, the pool is no longer theirs to see (404, as for
    // every candidate of a closed pool who did not take it); someone not on the roster: 403
    expect(outcome.late).toBeInstanceOf(AppError);
    expect(outcome.late).toMatchObject({ kind: 'not_found' });
    expect(outcome.stranger).toMatchObject({ kind: 'forbidden' });
    // …and the history is still small, reminders and escalations included
    const { events, bytes } = await historyOf(outcome.kase);
    // (its clocks' timers, reminder and three escalation levels: a fixed number, not one per person)
    expect(events).toBeLessThan(250);
    expect(bytes).toBeLessThan(150_000);
    await recordFixture('roster-roll-call-opened-at-once-window-ends', outcome.kase);
    process.stdout.write(
      `roster roll-call N=${N}, ${SILENT} missing: ${events} events, ${bytes} bytes\n`,
    );
  });

  it('when a dispatcher closes it early through the service, then it closes once with the figures and the people stay on the task', async () => {
    // Arrange
    const { compound, staff } = await bigCompound();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const { kase, taskId } = await openRollCall(queue, compound);
      await acknowledgeAll(taskId, staff.slice(0, 10));
      const answer = await bed.tasks().act(ADMIN, taskId, 'complete', {}, undefined);
      await kase.handle.result();
      return { kase, answer, doc: await kase.doc(), closed: await kase.task(taskId) };
    });

    // Assert: the answer and the stored task show the people, not the workflow's empty lists
    expect(outcome.answer.candidates).toHaveLength(N);
    expect(outcome.answer.claimants).toHaveLength(10);
    const closings = eventsOf(outcome.doc.timeline, 'claim.closed');
    expect(closings).toHaveLength(1);
    expect(closings[0]!.detail).toMatchObject({
      reason: 'closed-by-dispatcher',
      claimants: 10,
      expected: N,
      missing: N - 10,
    });
    expect(outcome.closed).toMatchObject({ status: 'completed' });
    expect(outcome.closed!.candidates).toHaveLength(N);
    expect(outcome.closed!.claimants).toHaveLength(10);
  });
});

import { randomBytes } from 'node:crypto';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { PhotoAttached } from '../../common/case';
import { CASE_WORKFLOW_TYPE, PHOTO_ATTACHED_SIGNAL } from '../../common/case';
import { caseStartOf } from '../../common/case-start';
import { CASE_DEFINITION_KEY, CASE_UNIT_ID } from '../../common/search-attributes';
import type { SeededOrg, SlaTestBed } from '../support/sla-cases';
import { testDataConverter, testStack } from '../support/test-stack';
import {
  claimAndComplete,
  eventsOf,
  expectFiredAt,
  mailsOf,
  openedTask,
  RunningCase,
  runHistories,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * A case whose history grows long continues as new between two top-level steps
 * (workflows/continuation.ts): the time-skipping server, the real activities over FerretDB, and
 * history thresholds lowered through the input so a few loops pass them.
 */
let bed: SlaTestBed;
const HOUR = 3600_000;
const MINUTE = 60_000;
/**
 * Low enough that the loop below passes it a few times (chosen for the test; 120 before the read
 * model was written through local activities, which left a loop about half its events).
 */
const TEST_LIMITS = { events: 60, bytes: 8 * 1024 * 1024 };
const { WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: CONTINUED_AS_NEW } =
  temporal.api.enums.v1.WorkflowExecutionStatus;

useSlaTestBed('continue-as-new', (ready) => {
  bed = ready;
});

/** Intake, then a task sent back to be done again until it is done; a decision closes the loop. */
function loopingDefinition() {
  const workers = [{ role: 'grid-worker', unit: 'case' }];
  return bed.definition({
    key: `looping-review-${randomBytes(2).toString('hex')}`,
    name: '反复复核',
    starters: ['resident'],
    input: { fields: [] },
    deadlines: [
      {
        id: 'case',
        name: '总办结时限',
        within: 'PT1H',
        escalations: [
          { notify: { role: 'secretary', unit: 'street' } },
          { after: 'PT4H', notify: { role: 'director', unit: 'street' } },
        ],
      },
    ],
    steps: [
      {
        id: 'intake',
        name: '受理',
        type: 'task',
        candidates: workers,
        announce: false,
        outcomes: [
          { id: 'accept', name: '受理' },
          { id: 'refuse', name: '不予受理' },
        ],
      },
      {
        id: 'serve',
        name: '办理',
        type: 'task',
        candidates: workers,
        announce: false,
        outcomes: [
          { id: 'again', name: '退回重办' },
          { id: 'done', name: '办结' },
        ],
      },
      {
        id: 'check',
        name: '复核',
        type: 'decision',
        branches: [
          { when: "steps.serve.outcome == 'again'", next: 'serve' },
          { when: "steps.intake.outcome == 'accept'", next: 'closed' },
        ],
        otherwise: 'refused',
      },
      { id: 'closed', name: '办结', type: 'end' },
      { id: 'refused', name: '不予受理', type: 'end', status: 'rejected' },
    ],
  });
}

/** Starts the case as the API does (memo and search attributes), with the lowered thresholds. */
async function startLoopingCase(queue: string, org: SeededOrg): Promise<RunningCase> {
  const definition = loopingDefinition();
  const { args, memo, searchAttributes } = caseStartOf({
    caseId: `case-${randomBytes(12).toString('hex')}`,
    definition,
    data: {},
    startedBy: { kind: 'user', id: 'usr_resident', roles: ['resident'] },
    unitId: org.grid.id,
    requestHash: 'test',
    receivedAt: new Date(await bed.now()).toISOString(),
    channel: 'test',
  });
  const input = { ...args[0], historyLimits: TEST_LIMITS };
  const handle = await bed.env.client.workflow.start(CASE_WORKFLOW_TYPE, {
    taskQueue: queue,
    workflowId: input.caseId,
    args: [input],
    memo,
    typedSearchAttributes: searchAttributes,
  });
  return new RunningCase(bed, input, handle);
}

it('when a looping case passes the history threshold, then it continues as new, its timeline goes on without a gap, and its missed case deadline is not escalated again', async () => {
  const org = await bed.seedOrg();
  await bed.withWorker(async (queue) => {
    // Arrange: the case is accepted, then misses its deadline: level 1 goes to the street secretary.
    const kase = await startLoopingCase(queue, org);
    const startedAt = await bed.now();
    const intake = await openedTask(kase, 'intake');
    await claimAndComplete(kase, intake.id, org.gridWorker, 'accept', {});
    await bed.skipTo(startedAt + HOUR + MINUTE);
    await kase.waitForEvents('deadline.escalated', 1, { level: 1 });

    // Act: the task is sent back 12 times, enough to pass the lowered threshold more than once…
    const loops = 12;
    for (let visit = 1; visit <= loops; visit++) {
      const task = await openedTask(kase, 'serve', visit);
      await claimAndComplete(kase, task.id, org.gridWorker, 'again', {});
    }
    // …level 2 comes due after the switches, and the last visit finishes the case.
    await openedTask(kase, 'serve', loops + 1);
    await bed.skipTo(startedAt + 5 * HOUR + MINUTE);
    await kase.waitForEvents('deadline.escalated', 1, { level: 2 });
    const last = await openedTask(kase, 'serve', loops + 1);
    await claimAndComplete(kase, last.id, org.gridWorker, 'done', {});
    const result = (await kase.handle.result()) as { status: string };

    // Assert: the first run continued as new; the case id is the workflow id of every run.
    const { firstExecutionRunId } = kase.handle as WorkflowHandleWithFirstExecutionRunId;
    const first = await bed.env.client.workflow
      .getHandle(kase.caseId, firstExecutionRunId)
      .describe();
    expect(first.raw.workflowExecutionInfo?.status).toBe(CONTINUED_AS_NEW);
    const latest = await kase.handle.describe();
    expect(latest.runId).not.toBe(firstExecutionRunId);
    expect(latest.status.name).toBe('COMPLETED');
    // …more than once, each run stopping a loop's worth of events past the threshold…
    const histories = await runHistories(bed, kase.caseId, firstExecutionRunId);
    expect(histories.length).toBeGreaterThanOrEqual(3);
    for (const history of histories.slice(0, -1)) {
      expect(history.events!.length).toBeLessThan(TEST_LIMITS.events + 60);
    }
    // …and every run replays on the interpreter as it ran.
    for (const history of histories) {
      await Worker.runReplayHistory(
        {
          workflowBundle: { codePath: testStack().workflowBundlePath },
          dataConverter: testDataConverter(),
        },
        history,
        kase.caseId,
      );
    }
    // …memo and search attributes carried to the last run.
    expect(latest.memo).toMatchObject({ requestHash: 'test', unitId: org.grid.id });
    expect(latest.typedSearchAttributes.get(CASE_UNIT_ID)).toBe(org.grid.id);
    expect(latest.typedSearchAttributes.get(CASE_DEFINITION_KEY)).toBe(kase.input.definition.key);

    // …closed through the branch that reads the intake's outcome from before the switches.
    expect(result).toMatchObject({ status: 'closed' });
    const doc = await kase.waitForDoc('the case to close', (d) => d.status === 'closed');
    const seqs = doc.timeline.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(eventsOf(doc.timeline, 'case.started')).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'case.retried')).toHaveLength(0);
    expect(eventsOf(doc.timeline, 'case.closed')).toEqual([
      expect.objectContaining({ stepId: 'closed', detail: { status: 'closed' } }),
    ]);
    // Every visit opened and completed its own task once: visits went on counting across runs.
    const opened = eventsOf(doc.timeline, 'task.opened').map((e) => e.detail?.task);
    expect(opened).toEqual([
      kase.taskId('intake'),
      ...Array.from({ length: loops + 1 }, (_, i) => kase.taskId('serve', i + 1)),
    ]);
    expect(eventsOf(doc.timeline, 'task.completed')).toHaveLength(loops + 2);
    // The deadline: missed once, each level once, each mailed once.
    expect(eventsOf(doc.timeline, 'deadline.missed')).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'deadline.escalated', { level: 1 })).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'deadline.escalated', { level: 2 })).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.streetDirector, SUBJECT.escalated)).toHaveLength(1);
    // The case deadline is listed once, missed and at level 2; the metrics counted both levels.
    const caseDeadlines = doc.deadlines.filter((d) => d.key === 'case/case');
    expect(caseDeadlines).toEqual([
      expect.objectContaining({ missed: true, escalationLevel: 2, stopped: true }),
    ]);
    const stored = await bed.db.models.Case.findById(kase.caseId).lean();
    expect(stored?.metrics).toMatchObject({ escalations: 2, overdue: 1, completed: 1 });
  });
});

it('when a case continues as new while its clock is paused, then the deadline stays paused and, once resumed, is missed once at the moved instant', async () => {
  const org = await bed.seedOrg();
  await bed.withWorker(async (queue) => {
    // Arrange: accepted; the first visit's assignee pauses the clock (waiting on the resident).
    const kase = await startLoopingCase(queue, org);
    const startedAt = await bed.now();
    const intake = await openedTask(kase, 'intake');
    await claimAndComplete(kase, intake.id, org.gridWorker, 'accept', {});
    const firstVisit = await openedTask(kase, 'serve', 1);
    await kase.claim(firstVisit.id, org.gridWorker);
    await kase.pause(org.gridWorker);
    await kase.complete(firstVisit.id, org.gridWorker, 'again');

    // Act: sent back often enough to switch runs while paused; the old due instant passes…
    const loops = 12;
    for (let visit = 2; visit <= loops; visit++) {
      const task = await openedTask(kase, 'serve', visit);
      await claimAndComplete(kase, task.id, org.gridWorker, 'again', {});
    }
    const last = await openedTask(kase, 'serve', loops + 1);
    await bed.skipTo(startedAt + 2 * HOUR);
    // …then the clock is resumed on the last visit and runs out.
    await kase.claim(last.id, org.gridWorker);
    await kase.resume(org.gridWorker);
    const resumed = await kase.waitForDoc('the case deadline to be planned again', (d) =>
      d.deadlines.some((x) => x.key === 'case/case' && !x.paused && x.dueAt !== null),
    );
    const dueAt = resumed.deadlines.find((d) => d.key === 'case/case')!.dueAt!;
    await bed.skipTo(Date.parse(dueAt) + MINUTE);
    const [missed] = await kase.waitForEvents('deadline.missed', 1);
    await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
    await kase.complete(last.id, org.gridWorker, 'done');
    await kase.handle.result();

    // Assert: the case switched runs while paused…
    const { firstExecutionRunId } = kase.handle as WorkflowHandleWithFirstExecutionRunId;
    expect((await runHistories(bed, kase.caseId, firstExecutionRunId)).length).toBeGreaterThan(1);
    // …its deadline moved by the pause (about two hours: nothing missed at the old instant)…
    expect(Date.parse(dueAt) - startedAt).toBeGreaterThan(2.5 * HOUR);
    expectFiredAt(missed!.at, dueAt);
    // …and was missed and escalated once.
    const doc = await kase.waitForDoc('the case to close', (d) => d.status === 'closed');
    expect(eventsOf(doc.timeline, 'clock.paused')).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'clock.resumed')).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'deadline.missed')).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'deadline.escalated')).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    const seqs = doc.timeline.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });
});

it('when a photo signal is repeated after the case continued as new, then its attachment.added is on the timeline once', async () => {
  const org = await bed.seedOrg();
  await bed.withWorker(async (queue) => {
    // Arrange: accepted, then a photo put on the timeline in the first run.
    const kase = await startLoopingCase(queue, org);
    const intake = await openedTask(kase, 'intake');
    await claimAndComplete(kase, intake.id, org.gridWorker, 'accept', {});
    const photo = (attachmentId: string): PhotoAttached => ({
      attachmentId,
      taskId: null,
      stepId: null,
      actor: { kind: 'user', id: org.gridWorker.userId },
    });
    const signal = (attachmentId: string) =>
      bed.env.client.workflow
        .getHandle(kase.caseId)
        .signal(PHOTO_ATTACHED_SIGNAL, photo(attachmentId));
    const early = `att-${randomBytes(12).toString('hex')}`;
    await signal(early);
    await kase.waitForEvents('attachment.added', 1, { attachment: early });
    // …sent back often enough to switch runs (more than once).
    const loops = 12;
    for (let visit = 1; visit <= loops; visit++) {
      const task = await openedTask(kase, 'serve', visit);
      await claimAndComplete(kase, task.id, org.gridWorker, 'again', {});
    }
    const last = await openedTask(kase, 'serve', loops + 1);
    const { firstExecutionRunId } = kase.handle as WorkflowHandleWithFirstExecutionRunId;
    expect((await kase.handle.describe()).runId).not.toBe(firstExecutionRunId);

    // Act: the first photo's signal comes again (a retried upload), then a new photo's.
    await signal(early);
    const later = `att-${randomBytes(12).toString('hex')}`;
    await signal(later);
    await kase.waitForEvents('attachment.added', 1, { attachment: later });
    await claimAndComplete(kase, last.id, org.gridWorker, 'done', {});
    await kase.handle.result();

    // Assert: each photo once, the repeat heard by a later run than the one that recorded it…
    const doc = await kase.waitForDoc('the case to close', (d) => d.status === 'closed');
    expect(eventsOf(doc.timeline, 'attachment.added', { attachment: early })).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'attachment.added', { attachment: later })).toHaveLength(1);
    const histories = await runHistories(bed, kase.caseId, firstExecutionRunId);
    const signalled = (history: (typeof histories)[number]) =>
      history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
    expect(signalled(histories[0]!)).toBe(1);
    const laterRuns = histories.slice(1).reduce((sum, history) => sum + signalled(history), 0);
    expect(laterRuns).toBe(2);
    // …and every run replays on the interpreter as it ran.
    for (const history of histories) {
      await Worker.runReplayHistory(
        {
          workflowBundle: { codePath: testStack().workflowBundlePath },
          dataConverter: testDataConverter(),
        },
        history,
        kase.caseId,
      );
    }
  });
});

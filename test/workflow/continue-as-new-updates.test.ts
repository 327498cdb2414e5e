import { randomBytes } from 'node:crypto';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { CASE_UPDATES, CASE_WORKFLOW_TYPE } from '../../common/case';
import { caseStartOf } from '../../common/case-start';
import type { SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import { waitFor } from '../support/harness';
import { testDataConverter, testStack } from '../support/test-stack';
import {
  actor,
  claimAndComplete,
  eventsOf,
  mailsOf,
  openedTask,
  RunningCase,
  runHistories,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * A case whose run has accepted many Updates continues as new at its next top-level step boundary
 * (workflows/continuation.ts), or inside a `parallel` step once every branch waits where it can be
 * carried (workflows/parallel-continuation.ts); Temporal's cap is 2,000 Updates per run: the time-skipping server,
 * the real activities over FerretDB, and the Update threshold lowered through the input (the
 * history thresholds left far out of reach, so only the count can make it switch).
 */
let bed: SlaTestBed;
const HOUR = 3600_000;
const MINUTE = 60_000;
/** Six Updates (chosen for the test: the intake's claims, releases and completion below). */
const TEST_LIMITS = { events: 10_000, bytes: 8 * 1024 * 1024, updates: 6 };
const { WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: CONTINUED_AS_NEW } =
  temporal.api.enums.v1.WorkflowExecutionStatus;

useSlaTestBed('continue-as-new-updates', (ready) => {
  bed = ready;
});

/** Intake, then service (announced to its candidates), under a case deadline that escalates. */
function twoStepDefinition() {
  const workers = [{ role: 'grid-worker', unit: 'case' }];
  return bed.definition({
    key: `update-count-${randomBytes(2).toString('hex')}`,
    name: '受理办理',
    starters: ['resident'],
    input: { fields: [] },
    deadlines: [
      {
        id: 'case',
        name: '总办结时限',
        within: 'PT1H',
        escalations: [{ notify: { role: 'secretary', unit: 'street' } }],
      },
    ],
    steps: [
      { id: 'intake', name: '受理', type: 'task', candidates: workers, announce: false },
      { id: 'serve', name: '办理', type: 'task', candidates: workers },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  });
}

async function startCase(
  queue: string,
  org: SeededOrg,
  definition = twoStepDefinition(),
): Promise<RunningCase> {
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

async function release(kase: RunningCase, taskId: string, person: SeededPerson): Promise<void> {
  await kase.handle.executeUpdate(CASE_UPDATES.release, {
    args: [{ taskId, actor: actor(person) }],
  });
}

it('when a run has accepted as many Updates as its threshold, then the case continues as new at the next step, nothing is lost and nobody is notified twice', async () => {
  const org = await bed.seedOrg();
  await bed.withWorker(async (queue) => {
    // Arrange: the intake is taken and given back twice (four Updates)…
    const kase = await startCase(queue, org);
    const startedAt = await bed.now();
    const intake = await openedTask(kase, 'intake');
    for (let round = 0; round < 2; round++) {
      await kase.claim(intake.id, org.gridWorker);
      await release(kase, intake.id, org.gridWorker);
    }
    // …and the case deadline is missed and escalated in the first run.
    await bed.skipTo(startedAt + HOUR + MINUTE);
    await kase.waitForEvents('deadline.escalated', 1, { level: 1 });

    // Act: the fifth and sixth Updates finish the intake; the step boundary after it switches.
    await claimAndComplete(kase, intake.id, org.gridWorker, 'done', {});
    const serve = await openedTask(kase, 'serve');
    await bed.skipTo(startedAt + 5 * HOUR);
    await claimAndComplete(kase, serve.id, org.gridWorker, 'done', {});
    const result = (await kase.handle.result()) as { status: string };

    // Assert: the first run continued as new, far under the history thresholds: on its Updates…
    const { firstExecutionRunId } = kase.handle as WorkflowHandleWithFirstExecutionRunId;
    const first = await bed.env.client.workflow
      .getHandle(kase.caseId, firstExecutionRunId)
      .describe();
    expect(first.raw.workflowExecutionInfo?.status).toBe(CONTINUED_AS_NEW);
    const histories = await runHistories(bed, kase.caseId, firstExecutionRunId);
    expect(histories).toHaveLength(2);
    const firstEvents = histories[0]!.events!;
    expect(firstEvents.length).toBeLessThan(TEST_LIMITS.events / 10);
    const accepted = firstEvents.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(accepted).toHaveLength(TEST_LIMITS.updates);
    // …the second run started at the service step, and took the last two Updates.
    const secondAccepted = histories[1]!.events!.filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
    );
    expect(secondAccepted).toHaveLength(2);
    // Every run replays on the interpreter as it ran.
    await replayEach(histories, kase.caseId);

    // Nothing lost: one timeline without a gap, every step once, every move on it.
    expect(result).toMatchObject({ status: 'closed' });
    const doc = await kase.waitForDoc('the case to close', (d) => d.status === 'closed');
    const seqs = doc.timeline.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(eventsOf(doc.timeline, 'case.started')).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'task.opened').map((e) => e.detail?.task)).toEqual([
      kase.taskId('intake'),
      kase.taskId('serve'),
    ]);
    expect(eventsOf(doc.timeline, 'task.claimed')).toHaveLength(4);
    expect(eventsOf(doc.timeline, 'task.released')).toHaveLength(2);
    expect(eventsOf(doc.timeline, 'task.completed')).toHaveLength(2);
    expect(eventsOf(doc.timeline, 'case.closed')).toHaveLength(1);
    // Nobody notified twice: the missed deadline escalated once (not again in the new run), and
    // the service task announced once, by the run that opened it.
    expect(eventsOf(doc.timeline, 'deadline.missed')).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'deadline.escalated')).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.gridWorker, SUBJECT.assigned)).toHaveLength(1);
  });
});

/** The work and a review side by side (`join: all`), each a task waiting for its people. */
function parallelDefinition() {
  const workers = [{ role: 'grid-worker', unit: 'case' }];
  return bed.definition({
    key: `update-count-parallel-${randomBytes(2).toString('hex')}`,
    name: '推进与复核',
    starters: ['resident'],
    input: { fields: [] },
    steps: [
      {
        id: 'work',
        name: '推进与复核',
        type: 'parallel',
        join: 'all',
        branches: [
          {
            name: '项目推进',
            steps: [
              {
                id: 'finish',
                name: '完成项目',
                type: 'task',
                candidates: workers,
                announce: false,
                deadlines: [{ id: 'finish_due', name: '完工时限', within: 'P20D' }],
              },
            ],
          },
          {
            name: '复核',
            steps: [
              { id: 'review', name: '复核', type: 'task', candidates: workers, announce: false },
            ],
          },
        ],
      },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  });
}

it('when a run inside a parallel step has accepted as many Updates as its threshold while both branches wait on tasks, then it continues as new inside the parallel and both tasks go on as they were', async () => {
  const org = await bed.seedOrg();
  await bed.withWorker(async (queue) => {
    // Arrange: the work is claimed (one Update); its deadline is planned.
    const kase = await startCase(queue, org, parallelDefinition());
    const { firstExecutionRunId } = kase.handle as WorkflowHandleWithFirstExecutionRunId;
    const work = await openedTask(kase, 'finish');
    await kase.claim(work.id, org.gridWorker);
    const claimed = await kase.waitForTask('the claim', work.id, (t) => t.status === 'claimed');
    const dueAt = claimed.deadlines[0]!.dueAt;

    // Act: the review is taken and given back twice, then taken again: the sixth Update…
    const review = await openedTask(kase, 'review');
    for (let round = 0; round < 2; round++) {
      await kase.claim(review.id, org.gridWorker2);
      await release(kase, review.id, org.gridWorker2);
    }
    await kase.claim(review.id, org.gridWorker2);
    // …after which the case switches runs inside the parallel, both branches parked on tasks.
    await waitFor('the second run', async () => {
      const described = await kase.handle.describe();
      return described.runId !== firstExecutionRunId ? described : null;
    });
    await kase.complete(review.id, org.gridWorker2);
    await kase.complete(work.id, org.gridWorker);
    const result = (await kase.handle.result()) as { status: string };

    // Assert: two runs, the second at the parallel step, each replaying as it ran.
    const histories = await runHistories(bed, kase.caseId, firstExecutionRunId);
    expect(histories).toHaveLength(2);
    const accepted = histories[0]!.events!.filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
    );
    expect(accepted).toHaveLength(TEST_LIMITS.updates);
    const started = histories[1]!.events![0]!.workflowExecutionStartedEventAttributes!;
    expect(started.continuedExecutionRunId).toBe(firstExecutionRunId);
    await replayEach(histories, kase.caseId);
    // Both tasks kept their ids and claims, completed by their holders; the deadline unmoved.
    expect(result).toMatchObject({ status: 'closed' });
    const doc = await kase.waitForDoc('the case to close', (d) => d.status === 'closed');
    expect(
      eventsOf(doc.timeline, 'task.opened')
        .map((e) => e.detail?.task)
        .sort(),
    ).toEqual([work.id, review.id].sort());
    expect(eventsOf(doc.timeline, 'task.claimed', { task: work.id })).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'task.claimed', { task: review.id })).toHaveLength(3);
    expect(await kase.task(review.id)).toMatchObject({
      status: 'completed',
      assigneeUserId: org.gridWorker2.userId,
    });
    const finished = await kase.task(work.id);
    expect(finished).toMatchObject({ status: 'completed', assigneeUserId: org.gridWorker.userId });
    expect(finished!.deadlines).toEqual([
      expect.objectContaining({ key: `${work.id}/finish_due`, dueAt, missed: false }),
    ]);
    const seqs = doc.timeline.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(eventsOf(doc.timeline, 'step.entered', { stepType: 'parallel' })).toHaveLength(1);
  });
});

/** Replays every run's history on the interpreter as it ran (a non-determinism fails the test). */
async function replayEach(
  histories: Parameters<typeof Worker.runReplayHistory>[1][],
  caseId: string,
) {
  for (const history of histories) {
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: testStack().workflowBundlePath },
        dataConverter: testDataConverter(),
      },
      history,
      caseId,
    );
  }
}

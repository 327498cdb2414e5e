import { randomBytes } from 'node:crypto';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import {
  decodeArrayFromPayloads,
  loadDataConverter,
} from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { CaseWorkflowInput } from '../../common/case';
import { CASE_WORKFLOW_TYPE } from '../../common/case';
import { caseStartOf } from '../../common/case-start';
import type { SeededOrg, SlaTestBed } from '../support/sla-cases';
import { testDataConverter, testStack } from '../support/test-stack';
import {
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
 * A case whose history grows long inside a `parallel` step continues as new there
 * (workflows/parallel-continuation.ts): a branch loops on a daily timer (a periodic site review)
 * beside a branch waiting on a claimed task, on the time-skipping server with the real
 * activities over FerretDB and history thresholds lowered through the input.
 */
let bed: SlaTestBed;
const DAY = 24 * 3600_000;
const MINUTE = 60_000;
/** Low enough that a few daily passes of the loop pass it (chosen for the test). */
const TEST_LIMITS = { events: 60, bytes: 8 * 1024 * 1024 };
const { WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: CONTINUED_AS_NEW } =
  temporal.api.enums.v1.WorkflowExecutionStatus;

useSlaTestBed('continue-as-new-parallel', (ready) => {
  bed = ready;
});

/**
 * The project's work (a task due in 20 days, reminded 2 days ahead, escalated to the street
 * secretary when missed) beside a daily check that loops until the work is done (`join: any`).
 */
function projectDefinition() {
  return bed.definition({
    key: `project-with-checks-${randomBytes(2).toString('hex')}`,
    name: '项目推进与定期检查',
    starters: ['resident'],
    input: { fields: [] },
    steps: [
      {
        id: 'work',
        name: '推进与检查',
        type: 'parallel',
        join: 'any',
        branches: [
          {
            name: '项目推进',
            steps: [
              {
                id: 'finish',
                name: '完成项目',
                type: 'task',
                candidates: [{ role: 'grid-worker', unit: 'case' }],
                announce: false,
                deadlines: [
                  {
                    id: 'finish_due',
                    name: '完工时限',
                    within: 'P20D',
                    reminders: [{ before: 'P2D', notify: 'assignee' }],
                    escalations: [{ notify: { role: 'secretary', unit: 'street' } }],
                  },
                ],
              },
            ],
          },
          {
            name: '每日检查',
            steps: [
              { id: 'daily', name: '每日检查', type: 'timer', duration: 'P1D' },
              {
                id: 'again',
                name: '继续检查',
                type: 'decision',
                branches: [{ when: 'true', next: 'daily' }],
                otherwise: 'daily',
              },
            ],
          },
        ],
      },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  });
}

/**
 * The work (a task due in 20 days) beside a review sent back until it is right, then done; both
 * branches must finish (`join: all`), then a sign-off reads what the review ended with.
 */
function reviewLoopDefinition() {
  return bed.definition({
    key: `project-with-reviews-${randomBytes(2).toString('hex')}`,
    name: '项目推进与反复复核',
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
                candidates: [{ role: 'grid-worker', unit: 'case' }],
                announce: false,
                deadlines: [{ id: 'finish_due', name: '完工时限', within: 'P20D' }],
              },
            ],
          },
          {
            name: '反复复核',
            steps: [
              {
                id: 'review',
                name: '复核',
                type: 'task',
                candidates: [{ role: 'grid-worker', unit: 'case' }],
                announce: false,
                outcomes: [
                  { id: 'again', name: '退回重办' },
                  { id: 'right', name: '复核通过' },
                ],
              },
              {
                id: 'reviewed',
                name: '复核结果',
                type: 'decision',
                branches: [{ when: "steps.review.outcome == 'again'", next: 'review' }],
                otherwise: 'review_done',
              },
              { id: 'review_done', name: '复核完毕', type: 'timer', duration: 'PT1M' },
            ],
          },
        ],
      },
      {
        id: 'signed',
        name: '验收',
        type: 'decision',
        branches: [{ when: "steps.review.outcome == 'right'", next: 'closed' }],
        otherwise: 'refused',
      },
      { id: 'closed', name: '办结', type: 'end' },
      { id: 'refused', name: '未通过', type: 'end', status: 'rejected' },
    ],
  });
}

/** Where each run after the first started: its step, and whether it went on inside a parallel. */
async function continuedAt(
  histories: readonly temporal.api.history.v1.IHistory[],
): Promise<Array<{ stepId: string | undefined; inParallel: boolean }>> {
  const converter = loadDataConverter(testDataConverter());
  const starts = [];
  for (const history of histories.slice(1)) {
    const payloads = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads;
    const [input] = (await decodeArrayFromPayloads(converter, payloads)) as [CaseWorkflowInput];
    starts.push({
      stepId: input.continued?.stepId,
      inParallel: input.continued?.parallel !== undefined,
    });
  }
  return starts;
}

async function startProjectCase(
  queue: string,
  org: SeededOrg,
  definition = projectDefinition(),
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

it('when a loop inside a parallel branch passes the history threshold, then the case continues as new inside it and the other branch keeps its claimed task, its deadline and its claim', async () => {
  const org = await bed.seedOrg();
  await bed.withWorker(async (queue) => {
    // Arrange: the work is claimed at once; its deadline is planned 20 days out.
    const kase = await startProjectCase(queue, org);
    const startedAt = await bed.now();
    const opened = await openedTask(kase, 'finish');
    await kase.claim(opened.id, org.gridWorker);
    const claimed = await kase.waitForTask('the claim', opened.id, (t) => t.status === 'claimed');
    const dueAt = claimed.deadlines[0]!.dueAt;
    expect(dueAt).not.toBeNull();

    // Act: 25 daily checks pass (the reminder at day 18 and the miss at day 20 on the way)…
    await bed.skipTo(startedAt + 25 * DAY + MINUTE);
    await kase.waitForEvents('timer.fired', 25);
    // …then the claimant, who never claims again, finishes the work.
    await kase.complete(opened.id, org.gridWorker);
    const result = (await kase.handle.result()) as { status: string };

    // Assert: the first run continued as new inside the parallel step, more than once…
    const { firstExecutionRunId } = kase.handle as WorkflowHandleWithFirstExecutionRunId;
    const first = await bed.env.client.workflow
      .getHandle(kase.caseId, firstExecutionRunId)
      .describe();
    expect(first.raw.workflowExecutionInfo?.status).toBe(CONTINUED_AS_NEW);
    const histories = await runHistories(bed, kase.caseId, firstExecutionRunId);
    expect(histories.length).toBeGreaterThanOrEqual(3);
    for (const history of histories.slice(0, -1)) {
      expect(history.events!.length).toBeLessThan(TEST_LIMITS.events + 40);
    }
    // …each switch but a last one after the loop (before the end step) inside the parallel…
    const starts = await continuedAt(histories);
    expect(starts[0]).toEqual({ stepId: 'work', inParallel: true });
    expect(starts.filter((start) => start.inParallel).length).toBeGreaterThanOrEqual(2);
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
    expect(result).toMatchObject({ status: 'closed' });

    // The task: one task, the same id, opened once, completed by its claimant from the last run.
    const doc = await kase.waitForDoc('the case to close', (d) => d.status === 'closed');
    expect(eventsOf(doc.timeline, 'task.opened').map((e) => e.detail?.task)).toEqual([opened.id]);
    expect(eventsOf(doc.timeline, 'task.claimed')).toHaveLength(1);
    const completed = eventsOf(doc.timeline, 'task.completed');
    expect(completed.map((e) => e.detail?.task)).toEqual([opened.id]);
    const task = await kase.task(opened.id);
    expect(task).toMatchObject({ status: 'completed', assigneeUserId: org.gridWorker.userId });
    // Its deadline kept its instant (not restarted), was reminded once and missed once, on time.
    const deadline = task!.deadlines.find((d) => d.key === `${opened.id}/finish_due`);
    expect(deadline).toMatchObject({ dueAt, missed: true, stopped: true, escalationLevel: 1 });
    expect(eventsOf(doc.timeline, 'deadline.reminded')).toHaveLength(1);
    const missed = eventsOf(doc.timeline, 'deadline.missed');
    expect(missed).toHaveLength(1);
    expectFiredAt(missed[0]!.at, dueAt!);
    expect(eventsOf(doc.timeline, 'deadline.escalated')).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.gridWorker, SUBJECT.reminder)).toHaveLength(1);

    // The loop: each daily pass fired once, a day apart, none lost or doubled across the runs.
    const fired = eventsOf(doc.timeline, 'timer.fired');
    expect(fired.length).toBe(25);
    fired.forEach((entry, index) => expectFiredAt(entry.at, startedAt + (index + 1) * DAY));
    // The timeline goes on without a gap: no second start, the parallel entered once.
    const seqs = doc.timeline.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(eventsOf(doc.timeline, 'case.started')).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'step.entered', { stepType: 'parallel' })).toHaveLength(1);
    expect(eventsOf(doc.timeline, 'case.closed')).toHaveLength(1);
  });
});

it('when a task in a parallel branch is sent back until the history passes the threshold, then each visit is a task of its own across the runs and the other branch keeps its claimed task', async () => {
  const org = await bed.seedOrg();
  await bed.withWorker(async (queue) => {
    // Arrange: the work is claimed by one grid worker; its deadline is planned 20 days out.
    const kase = await startProjectCase(queue, org, reviewLoopDefinition());
    const work = await openedTask(kase, 'finish');
    await kase.claim(work.id, org.gridWorker);
    const claimed = await kase.waitForTask('the claim', work.id, (t) => t.status === 'claimed');
    const dueAt = claimed.deadlines[0]!.dueAt;

    // Act: the other grid worker sends the review back 12 times, then passes it…
    const loops = 12;
    for (let visit = 1; visit <= loops + 1; visit++) {
      const review = await openedTask(kase, 'review', visit);
      await kase.claim(review.id, org.gridWorker2);
      await kase.complete(review.id, org.gridWorker2, visit <= loops ? 'again' : 'right');
    }
    // …and the work's claimant, who never claims again, finishes it.
    await kase.complete(work.id, org.gridWorker);
    const result = (await kase.handle.result()) as { status: string };

    // Assert: the case continued as new inside the parallel, more than once…
    const { firstExecutionRunId } = kase.handle as WorkflowHandleWithFirstExecutionRunId;
    const histories = await runHistories(bed, kase.caseId, firstExecutionRunId);
    expect(histories.length).toBeGreaterThanOrEqual(3);
    for (const history of histories.slice(0, -1)) {
      expect(history.events!.length).toBeLessThan(TEST_LIMITS.events + 40);
    }
    const starts = await continuedAt(histories);
    expect(starts.slice(0, 2)).toEqual([
      { stepId: 'work', inParallel: true },
      { stepId: 'work', inParallel: true },
    ]);
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
    // …closed through the sign-off, which read the review's last outcome across the runs.
    expect(result).toMatchObject({ status: 'closed' });
    const doc = await kase.waitForDoc('the case to close', (d) => d.status === 'closed');
    // Every review visit opened its own task once, numbered on across the runs; the work once.
    const opened = eventsOf(doc.timeline, 'task.opened').map((e) => e.detail?.task);
    expect([...opened].sort()).toEqual(
      [
        work.id,
        ...Array.from({ length: loops + 1 }, (_, i) => kase.taskId('review', i + 1)),
      ].sort(),
    );
    expect(eventsOf(doc.timeline, 'task.completed')).toHaveLength(loops + 2);
    // The work: its claim held, completed by its claimant, its deadline at the same instant.
    const task = await kase.task(work.id);
    expect(task).toMatchObject({ status: 'completed', assigneeUserId: org.gridWorker.userId });
    expect(task!.deadlines).toEqual([
      expect.objectContaining({ key: `${work.id}/finish_due`, dueAt, missed: false }),
    ]);
    expect(eventsOf(doc.timeline, 'task.claimed', { task: work.id })).toHaveLength(1);
    const seqs = doc.timeline.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(eventsOf(doc.timeline, 'step.entered', { stepType: 'parallel' })).toHaveLength(1);
  });
});

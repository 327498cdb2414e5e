import { randomBytes } from 'node:crypto';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { Principal } from '../../services/auth';
import { AppError } from '../../services/errors';
import type { TaskView } from '../../services/tasks';
import { RELEASES_PER_PERSON } from '../../workflows/action-budget';
import { waitFor } from '../support/harness';
import { testDataConverter, testStack } from '../support/test-stack';
import type {
  RunningCase,
  SeededOrg,
  SeededPerson,
  SlaTestBed,
  StoppableWorker,
} from '../support/sla-cases';
import {
  deadlineOf,
  distinctMailsByAddress,
  eventsOf,
  runHistories,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * A claim pool (认领池) broadcast to a few hundred candidates across worker kills (issue 14): the
 * pool shape of definitions/three-lists.yaml (up to 3 claimants, a first-claim deadline with a
 * reminder to the candidates and an escalation, then a task for the claimants), its worker
 * stopped at chosen moments and replaced by a fresh one on the same task queue. Nobody is called
 * or reminded twice, the supervisor is escalated to once, the live count stays right, one
 * candidate's claim-and-release loop is refused (409) without spending the case's Updates, and the
 * case continues as new under lowered history thresholds and closes. Each stop waits for a state it
 * can observe in the store, never for a moment in time.
 */
let bed: SlaTestBed;

jest.setTimeout(360_000);

useSlaTestBed('claim-pool-worker-kill', (ready) => {
  bed = ready;
});

/**
 * Grid workers added to the grid's two (chosen: a few hundred, with the file under 3 minutes on
 * two loaded cores).
 */
const ADDED = 300;
const MAX_CLAIMANTS = 3;
const HOUR = 3600_000;
const MINUTE = 60_000;
/** Waits while hundreds of mails go out one by one (chosen, generous). */
const SLOW_WAIT_MS = 180_000;
/** Low enough that the case continues as new once the pool closes (chosen; default 8,000). */
const TEST_LIMITS = { events: 60, bytes: 8 * 1024 * 1024 };
/** Rounds of the pointless loop (chosen: each would be an Update if it were let through). */
const LOOPS = 20;
/**
 * History bounds for the whole case, every run together (chosen, measured 392 events and 1,980
 * bytes per candidate). Events: none per candidate — the pool's opening, its clock, three claims,
 * the claimants' task and its loop, two continues-as-new — plus, on the time-skipping server
 * only, the 3 events of the workflow task that refused each of the loops' 40 Updates. Bytes: the
 * pool's candidate list is in the history a fixed number of times (the lookup, the task's
 * writes and claim answers, the mail slices: about 20 copies of ~100 bytes each), bounded by
 * `claimants.max`, not by the number of candidates: linear in them. Before the repeat claims
 * were answered from the store, each repeat added another copy.
 */
const MAX_EVENTS = 600;
const MAX_BYTES_PER_CANDIDATE = 4_000;
const { WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: CONTINUED_AS_NEW } =
  temporal.api.enums.v1.WorkflowExecutionStatus;

/** The pool of definitions/three-lists.yaml, over the grid workers of the case's grid. */
function poolDefinition() {
  return bed.definition({
    key: `big-pool-${randomBytes(2).toString('hex')}`,
    name: '大型认领池',
    starters: ['resident'],
    input: { fields: [] },
    steps: [
      {
        id: 'pool',
        name: '认领需求',
        type: 'claim',
        candidates: [{ role: 'grid-worker', unit: 'case' }],
        claimants: { min: 1, max: MAX_CLAIMANTS },
        within: 'P5D',
        onUnclaimed: 'closed',
        deadlines: [
          {
            id: 'first_claim',
            name: '1天内有人认领',
            within: 'P1D',
            stopsOn: 'claim',
            reminders: [{ before: 'PT2H', notify: 'candidates' }],
            escalations: [{ notify: { role: 'director', unit: 'community' } }],
          },
        ],
      },
      {
        id: 'serve',
        name: '认领方办理',
        type: 'task',
        candidates: [{ claimantsOf: 'pool' }],
        outcomes: [{ id: 'done', name: '已办' }],
      },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  });
}

/** The org's grid with ADDED more grid workers (bulk-written), and everyone who is a candidate. */
async function bigGrid(): Promise<{ org: SeededOrg; candidates: SeededPerson[] }> {
  const org = await bed.seedOrg();
  const added = await bed.addPostHolders(org.grid, 'grid-worker', ADDED, 'gw', '网格员');
  return { org, candidates: [org.gridWorker, org.gridWorker2, ...added] };
}

function principalOf(person: SeededPerson): Principal {
  return { kind: 'user', id: person.userId, roles: ['staff'], unitIds: [] };
}

/** An action through the task service (the API's path), or the error it was refused with. */
function act(person: SeededPerson, taskId: string, action: 'claim' | 'release' | 'complete') {
  return bed
    .tasks()
    .act(
      principalOf(person),
      taskId,
      action,
      action === 'complete' ? { outcome: 'done' } : {},
      undefined,
    )
    .catch((err: unknown) => err);
}

/** The case's queued mails whose key starts with `keyBase`, counted by address. */
async function queuedByAddress(caseId: string, keyBase: string): Promise<Map<string, number>> {
  const docs = await bed.db.models.Outbox.find({ caseId }, { to: 1 }).lean();
  const counts = new Map<string, number>();
  for (const doc of docs) {
    if (!doc._id.startsWith(keyBase)) continue;
    counts.set(doc.to, (counts.get(doc.to) ?? 0) + 1);
  }
  return counts;
}

/** Waits until `count` mails under `keyBase` are queued. */
function queued(caseId: string, keyBase: string, count: number) {
  return waitFor(
    `${count} mail(s) "${keyBase}…" queued`,
    async () => ((await queuedByAddress(caseId, keyBase)).size >= count ? true : undefined),
    SLOW_WAIT_MS,
  );
}

/**
 * How many Updates the current run (the latest of the case) has accepted: what spends the
 * execution's Update budget (2,000 on the server) and adds the Update's events and answer to the
 * history. A refused Update is not among them. (The time-skipping server still records the
 * workflow task that refused it, 3 events; a real server drops that speculative task.)
 */
async function acceptedUpdates(kase: RunningCase): Promise<number> {
  const latest = bed.env.client.workflow.getHandle(kase.caseId);
  const history = await latest.fetchHistory();
  return history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
}

/** Runs `body` with a list the workers it starts go on; whatever is still running is stopped. */
async function withWorkers<T>(body: (workers: StoppableWorker[]) => Promise<T>): Promise<T> {
  const workers: StoppableWorker[] = [];
  try {
    return await body(workers);
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
  }
}

it(`when a pool of ${ADDED + 2} candidates is worked across two worker stops and one candidate loops claim and release, then nobody is called or reminded twice, the loop is refused without an Update accepted, and the case continues as new and closes`, async () => {
  // Arrange
  const { org, candidates } = await bigGrid();
  const C = candidates.length;
  const [first, second, third] = candidates.slice(10, 13) as [
    SeededPerson,
    SeededPerson,
    SeededPerson,
  ];
  const queue = `kill-${randomBytes(4).toString('hex')}`;

  const outcome = await withWorkers(async (workers) => {
    workers.push(await bed.startWorker(queue));
    const kase = await bed.startCase(
      queue,
      poolDefinition(),
      org.grid.id,
      {},
      {
        historyLimits: TEST_LIMITS,
      },
    );
    const pool = kase.taskId('pool');
    const announced = `${pool}:assigned`;
    const task = await kase.waitForTask(
      'the pool to open',
      pool,
      (t) => t.status === 'open' && t.deadlines.every((d) => d.dueAt !== null),
    );
    const due = Date.parse(deadlineOf(task.deadlines, `${pool}/first_claim`).dueAt!);
    const clockKey = `${kase.caseId}:${pool}/first_claim`;
    // Quiet: every announcement queued and the timeline saying so.
    await queued(kase.caseId, announced, C);
    await kase.waitForEvents('notification.sent', 1, { template: 'task-assigned' });

    // Act: stopped with the pool announced; a fresh worker reminds the candidates…
    await workers[0]!.stop();
    workers.push(await bed.startWorker(queue));
    await bed.skipTo(due - 2 * HOUR + MINUTE);
    await queued(kase.caseId, `${clockKey}:reminder:1`, C);
    // …and escalates once nobody claimed at the deadline.
    await bed.skipTo(due + MINUTE);
    await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
    // One claims, then loops taking it back and claiming again (a pool claim cannot be released).
    expect(await act(first, pool, 'claim')).not.toBeInstanceOf(Error);
    const beforeLoop = await acceptedUpdates(kase);
    const poolLoop: unknown[] = [];
    for (let i = 0; i < LOOPS; i++) {
      poolLoop.push(await act(first, pool, 'release'));
      poolLoop.push(await act(first, pool, 'claim'));
    }
    const afterLoop = await acceptedUpdates(kase);
    const liveBeforeFull = await kase.task(pool);
    expect(await act(second, pool, 'claim')).not.toBeInstanceOf(Error);
    expect(await act(third, pool, 'claim')).not.toBeInstanceOf(Error);
    // The pool is full and closed; the case continues as new before the claimants' task.
    const serve = kase.taskId('serve');
    await kase.waitForTask('the claimants’ task to open', serve, (t) => t.status === 'open');

    // …stopped again with the claimants' task open; a third worker sees the rest.
    await workers[1]!.stop();
    workers.push(await bed.startWorker(queue));
    const serveLoop: unknown[] = [];
    for (let i = 0; i < RELEASES_PER_PERSON; i++) {
      serveLoop.push(await act(first, serve, 'claim'));
      serveLoop.push(await act(first, serve, 'release'));
    }
    const beforeRefusals = await acceptedUpdates(kase);
    const refused: unknown[] = [];
    for (let i = 0; i < LOOPS; i++) refused.push(await act(first, serve, 'claim'));
    const afterRefusals = await acceptedUpdates(kase);
    expect(await act(second, serve, 'claim')).not.toBeInstanceOf(Error);
    // The assignee's repeat claim: answered from the stored task, as a claimant's in the pool.
    const beforeRepeat = await acceptedUpdates(kase);
    const repeat = await act(second, serve, 'claim');
    const afterRepeat = await acceptedUpdates(kase);
    expect(await act(second, serve, 'complete')).not.toBeInstanceOf(Error);
    const result = (await kase.handle.result()) as { status: string };
    return {
      kase,
      pool,
      announced,
      clockKey,
      beforeLoop,
      afterLoop,
      poolLoop,
      liveBeforeFull,
      serveLoop,
      beforeRefusals,
      afterRefusals,
      refused,
      repeat,
      repeated: afterRepeat - beforeRepeat,
      result,
      doc: await kase.doc(),
    };
  });

  // Assert: everyone was called once (queued once, one mail delivered)…
  const { kase, doc } = outcome;
  const called = await queuedByAddress(kase.caseId, outcome.announced);
  expect(called.size).toBe(C);
  expect([...called.values()].filter((n) => n !== 1)).toEqual([]);
  await waitFor(
    'every mail of the case sent',
    async () =>
      (await bed.db.models.Outbox.countDocuments({
        caseId: kase.caseId,
        status: { $ne: 'sent' },
      })) === 0 || undefined,
    SLOW_WAIT_MS,
  );
  const delivered = await distinctMailsByAddress(candidates, '新任务待办');
  // (the claimants' task announced to the three claimants: a second mail for them, once)
  const claimantsOf = new Set([first, second, third].map((p) => p.email));
  expect(
    candidates.filter((p) => delivered.get(p.email) !== (claimantsOf.has(p.email) ? 2 : 1)),
  ).toEqual([]);
  // …reminded once, each; the director escalated to once
  const reminded = await queuedByAddress(kase.caseId, `${outcome.clockKey}:reminder:`);
  expect(reminded.size).toBe(C);
  expect([...reminded.values()].filter((n) => n !== 1)).toEqual([]);
  const escalated = await queuedByAddress(kase.caseId, `${outcome.clockKey}:escalation:`);
  expect([...escalated.entries()]).toEqual([[org.director.email, 1]]);
  expect(eventsOf(doc.timeline, 'deadline.escalated')).toHaveLength(1);
  // …the live count was right before the pool was full, and it closed full with three
  expect(outcome.liveBeforeFull).toMatchObject({ status: 'open' });
  expect(outcome.liveBeforeFull!.claimants.map((c) => c.personId)).toEqual([first.personId]);
  const closings = eventsOf(doc.timeline, 'claim.closed');
  expect(closings).toHaveLength(1);
  expect(closings[0]!.detail).toMatchObject({ reason: 'full', claimants: MAX_CLAIMANTS });
  const closedPool = await kase.task(outcome.pool);
  expect(closedPool!.claimants.map((c) => c.personId)).toEqual(
    [first, second, third].map((p) => p.personId),
  );
  expect(eventsOf(doc.timeline, 'task.claimed').filter((e) => e.stepId === 'pool')).toHaveLength(
    MAX_CLAIMANTS,
  );
  // …the pool loop: each release refused (409), each repeat claim answered from the stored task:
  // no Update accepted (each was one, about 8 events and the 302 candidates, before)
  const poolReleases = outcome.poolLoop.filter((_, i) => i % 2 === 0);
  expect(poolReleases.every((r) => r instanceof AppError && r.kind === 'conflict')).toBe(true);
  const repeats = outcome.poolLoop.filter((_, i) => i % 2 === 1) as TaskView[];
  expect(repeats.every((r) => r.claimants.some((c) => c.personId === first.personId))).toBe(true);
  expect(outcome.afterLoop).toBe(outcome.beforeLoop);
  // …the task loop: three rounds taken, then every claim refused (409), no Update accepted
  expect(outcome.serveLoop.every((r) => !(r instanceof Error))).toBe(true);
  expect(outcome.refused).toHaveLength(LOOPS);
  for (const refusal of outcome.refused) {
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ kind: 'conflict' });
    expect((refusal as AppError).message).toContain(
      `given this task back ${RELEASES_PER_PERSON} times`,
    );
  }
  expect(outcome.afterRefusals).toBe(outcome.beforeRefusals);
  expect(eventsOf(doc.timeline, 'task.released')).toHaveLength(RELEASES_PER_PERSON);
  expect(outcome.repeat).toMatchObject({
    status: 'claimed',
    assignee: { personId: second.personId },
  });
  expect(outcome.repeated).toBe(0);
  // …and the case closed once, its timeline without a gap
  expect(outcome.result).toMatchObject({ status: 'closed' });
  expect(eventsOf(doc.timeline, 'case.closed')).toHaveLength(1);
  const seqs = doc.timeline.map((e) => e.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  // It continued as new; every run replays; the history is linear in the candidates.
  const { firstExecutionRunId } = kase.handle as WorkflowHandleWithFirstExecutionRunId;
  const first_ = await bed.env.client.workflow
    .getHandle(kase.caseId, firstExecutionRunId)
    .describe();
  expect(first_.raw.workflowExecutionInfo?.status).toBe(CONTINUED_AS_NEW);
  const histories = await runHistories(bed, kase.caseId, firstExecutionRunId);
  expect(histories.length).toBeGreaterThanOrEqual(2);
  let events = 0;
  let bytes = 0;
  for (const history of histories) {
    events += history.events!.length;
    bytes += temporal.api.history.v1.History.encode(history).finish().length;
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: testStack().workflowBundlePath },
        dataConverter: testDataConverter(),
      },
      history,
      kase.caseId,
    );
  }
  process.stdout.write(
    `claim pool of ${C} across 2 worker stops: ${histories.length} runs, ${events} events, ${bytes} bytes\n`,
  );
  expect(events).toBeLessThan(MAX_EVENTS);
  expect(bytes / C).toBeLessThan(MAX_BYTES_PER_CANDIDATE);
});

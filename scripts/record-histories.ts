import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { Client, Connection } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startApi } from '../server';
import { createDefinitionService } from '../services/definitions';
import { loadConfig } from '../common/config';
import { createMailRenderer } from '../mail/renderer';
import type { Database } from '../models';
import { connectDatabase } from '../models';
import { ensureTemporalCli } from '../stack/install';
import { stackDirs } from '../stack/paths';
import { consoleProgress } from '../stack/progress';
import { randomPorts, startLocalStack } from '../stack/stack';
import {
  checkInProcess,
  childProcess,
  clockedProcess,
  evaluationProcess,
  failingProcess,
  loopingProcess,
  parallelLoopingProcess,
  parallelProcess,
  poolProcess,
  recurrenceProcess,
  returnedProcess,
  rollCallRecordedProcess,
  servedProcess,
  subprocessProcess,
  waitingProcess,
} from './recorded-processes';
import { CALENDAR_CHANGED_SIGNAL, CASE_UPDATES } from '../common/case';
import { caseStartOf } from '../common/case-start';
import { hashPassword } from '../services/auth';
import { startWorker } from '../worker';

/**
 * Records workflow histories for the replay tests (`npm run record-histories`): runs real cases
 * on a throw-away local stack and saves each history under test/fixtures/histories/. Record new
 * ones when the interpreter gains behaviour; existing files are kept, they guard running cases.
 */
const run = promisify(execFile);
const OUT_DIR = path.resolve(__dirname, '..', 'test', 'fixtures', 'histories');
const SECRET = 'gfk_record_histories_0123456789abcdef0123456789';
const SCORER_USERNAME = 'record-dispatcher';
const SCORER_PASSWORD = 'record-dispatcher-password-0123';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const progress = consoleProgress('[record]');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'governance-flow-record-'));
  const stack = await startLocalStack({
    dirs: stackDirs({ dataDir }),
    ports: await randomPorts(),
    progress,
    env: {},
  });
  const config = loadConfig({
    ...stack.env,
    // Recorded without the payload codec, so the fixtures replay without any key (the replay test
    // runs them through a codec, which passes unencrypted payloads through).
    TEMPORAL_CODEC_KEYS: '',
    API_PORT: '0',
    LOG_LEVEL: 'warn',
    TEMPORAL_TASK_QUEUE: 'record',
  });
  const worker = await startWorker(config);
  const api = await startApi(config);
  const db = await connectDatabase(config.MONGODB_URI);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    await api.ensureBootstrapAdminKey(SECRET);
    const definitions = createDefinitionService(db.models, createMailRenderer().templateNames);
    for (const source of [
      waitingProcess('replay-wait', 'PT2S'),
      servedProcess('replay-served', 'PT1H'),
      parallelProcess('replay-parallel'),
      clockedProcess('replay-clocked'),
      childProcess('replay-child'),
      subprocessProcess('replay-subprocess', 'replay-child'),
      failingProcess('replay-failing'),
      poolProcess('replay-pool'),
      rollCallRecordedProcess('replay-roll-call'),
      returnedProcess('replay-returned'),
      evaluationProcess('replay-evaluation'),
      loopingProcess('replay-looping'),
      parallelLoopingProcess('replay-parallel-looping'),
      recurrenceProcess('replay-recurrence', 'replay-returned', 'replay-child'),
      checkInProcess('replay-check-in'),
    ]) {
      await definitions.publish({
        source,
        format: 'yaml',
        publishedBy: { kind: 'system', id: 'record' },
      });
    }
    await seedServedOrg(db);
    await seedClosedOrder(db);
    await seedRecurringRequests(db);
    const cases: Array<[string, string, Record<string, unknown>, string?]> = [
      [
        'resident-request',
        'resident-request',
        { category: '环境卫生', description: '楼道杂物', contactEmail: 'r@example.test' },
      ],
      ['resident-request-no-mail', 'resident-request', { category: '其他', description: '无邮箱' }],
      [
        'notify-wait-notify',
        'replay-wait',
        { category: '其他', description: '等待', contactEmail: 'w@example.test' },
      ],
      [
        'served-dispatch-claim-complete-rate',
        'replay-served',
        { category: '环境卫生', contactEmail: 's@example.test' },
        'g1',
      ],
      ['parallel-all-then-any', 'replay-parallel', { category: '其他' }, 'g1'],
      // The same two on the interpreter that records one marker for all its changes
      // (workflows/patches.ts) instead of one marker per change.
      [
        'served-dispatch-claim-complete-rate.changes-to-2026-11',
        'replay-served',
        { category: '环境卫生', contactEmail: 's@example.test' },
        'g1',
      ],
      ['parallel-all-then-any.changes-to-2026-11', 'replay-parallel', { category: '其他' }, 'g1'],
      [
        'reminder-pause-escalate-reassign.changes-to-2026-11',
        'replay-clocked',
        { category: '其他' },
        'g1',
      ],
      // Recorded 2026-12 (issue 14): one of each shape the interpreter gained since.
      ['subprocess-single-and-for-each', 'replay-subprocess', { category: '其他' }, 'c1'],
      ['failed-missing-subprocess', 'replay-failing', { category: '其他' }, 'g1'],
      ['claim-pool-two-claimants-points', 'replay-pool', { category: '其他' }, 'c1'],
      ['roll-call-one-missing-escalated', 'replay-roll-call', { category: '其他' }, 'c1'],
      ['return-reassign-calendar-signal', 'replay-returned', { category: '其他' }, 'g1'],
      // Its round's items: the order seedClosedOrder stores and the cases closed above. Scored by
      // Update, as rounds opened before the `evaluation-scores-via-api` patch are: kept, never
      // re-recorded (new rounds refuse the Update).
      ['evaluation-round-scored-closed', 'replay-evaluation', {}, 'c1'],
      // Recorded 2026-12: a round of today, scored through the API (scores stored as their own
      // documents, read by the workflow when the round closes).
      ['evaluation-round-api-scores-closed', 'replay-evaluation', {}, 'c1'],
      // Recorded 2026-12 (issue 17): 未诉先办, the requests seedRecurringRequests stores (and the
      // order seedClosedOrder stores, its category another) grouped by grid; one proactive case.
      ['recurrence-one-group-opened', 'replay-recurrence', {}, 'c1'],
      // Recorded 2026-12 (issue 17): an arrival completed with a location check-in (签到).
      ['task-checked-in', 'replay-check-in', { category: '其他' }, 'g1'],
    ];
    const client = new Client({ connection });
    const cli = await ensureTemporalCli(stackDirs().bin, progress);
    const kept = (name: string) => {
      // A recorded history guards executions started by the interpreter of its day: never overwrite.
      if (!existsSync(path.join(OUT_DIR, `${name}.json`))) return false;
      progress.info(`kept ${name}.json (recorded earlier)`);
      return true;
    };
    const record = async (name: string, workflowId: string, runId?: string) => {
      const file = path.join(OUT_DIR, `${name}.json`);
      // The CLI writes the proto3 JSON that historyFromJSON reads back.
      const { stdout } = await run(
        cli,
        [
          'workflow',
          'show',
          '--workflow-id',
          workflowId,
          ...(runId ? ['--run-id', runId] : []),
          '--address',
          config.TEMPORAL_ADDRESS,
          '--output',
          'json',
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      await writeFile(file, stdout);
      progress.info(`recorded ${path.relative(process.cwd(), file)}`);
    };
    for (const [name, definitionKey, data, unitId] of cases) {
      if (kept(name)) continue;
      const res = await fetch(`${api.url}/api/v1/cases`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${SECRET}`,
          'content-type': 'application/json',
          'idempotency-key': `record-${name}`,
        },
        body: JSON.stringify({ definitionKey, data, ...(unitId ? { unitId } : {}) }),
      });
      const { id } = (await res.json()) as { id: string };
      const handle = client.workflow.getHandle(id);
      if (definitionKey === 'replay-served') await workServedCase(db, handle);
      if (definitionKey === 'replay-parallel') await workParallelCase(db, handle);
      if (definitionKey === 'replay-clocked') await workClockedCase(db, handle);
      if (definitionKey === 'replay-pool') await workPoolCase(db, handle);
      if (definitionKey === 'replay-roll-call') await workRollCallCase(db, handle);
      if (definitionKey === 'replay-returned') await workReturnedCase(db, handle);
      if (definitionKey === 'replay-evaluation') await workEvaluationCase(db, api.url, handle);
      if (definitionKey === 'replay-check-in') await workCheckInCase(db, handle);
      if (definitionKey === 'replay-failing') {
        await handle.result().then(
          () => {
            throw new Error('the failing case closed');
          },
          () => undefined, // fails, as recorded
        );
      } else {
        await handle.result();
      }
      await record(name, id);
    }

    // The workflow types besides the case interpreter, started the way their callers start them.
    const taskQueue = config.TEMPORAL_TASK_QUEUE;
    if (!kept('scheduled-case-fire')) {
      // What a fire of the process's Temporal Schedule starts (services/schedules.ts). Its case id
      // comes from its own workflow id, which the history does not carry: run under the file's
      // name, which the replay test gives it back.
      const workflowId = 'scheduled-case-fire';
      await client.workflow.execute('scheduledCaseWorkflow', {
        workflowId,
        taskQueue,
        args: [{ definitionKey: 'replay-evaluation' }],
      });
      await record('scheduled-case-fire', workflowId);
    }
    if (!kept('case-import-two-records')) {
      const batch = 'record-legacy-2026-06';
      const res = await fetch(`${api.url}/api/v1/cases/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify({ batch, cases: [legacyCase('legacy-1'), legacyCase('legacy-2')] }),
      });
      if (!res.ok) throw new Error(`import refused: ${res.status} ${await res.text()}`);
      // The id services/case-import.ts gives the batch's workflow.
      const batchHash = createHash('sha256').update(batch).digest('hex').slice(0, 24);
      await record('case-import-two-records', `case-import-${batchHash}`);
    }
    if (!kept('fan-out-batch-two-children')) {
      // A slice the sub-process step hands over past 250 children (steps/subprocess.ts), small.
      const definition = await definitions.latestSnapshot('replay-child');
      if (!definition) throw new Error('replay-child is not published');
      const children = ['g1', 'g2'].map((unitId, i) => {
        const start = caseStartOf({
          caseId: `case-00000000000000000000000${i + 1}`,
          definition,
          data: { category: '其他' },
          startedBy: { kind: 'system', id: 'record', roles: ['system'] },
          unitId,
          requestHash: 'record-fan-out-batch',
          receivedAt: new Date().toISOString(),
          channel: 'subprocess',
          parentCaseId: 'case-000000000000000000000000',
        });
        return { workflowId: start.args[0].caseId, input: start.args[0], memo: start.memo };
      });
      const workflowId = 'record-fan-out-batch';
      await client.workflow.execute('fanOutBatchWorkflow', {
        workflowId,
        taskQueue,
        args: [{ children, wait: true }],
      });
      await record('fan-out-batch-two-children', workflowId);
    }
    // A case that continues as new, each of its runs recorded. Started as the API starts cases,
    // with history thresholds lowered through its input (the API takes none) so a few visits
    // pass them.
    const recordContinuedRuns = async (
      name: string,
      definitionKey: string,
      caseId: string,
      work: (handle: WorkflowHandle) => Promise<void>,
    ) => {
      if (kept(`${name}.run-1`)) return;
      const definition = await definitions.latestSnapshot(definitionKey);
      if (!definition) throw new Error(`${definitionKey} is not published`);
      const { args, memo, searchAttributes } = caseStartOf({
        caseId,
        definition,
        data: { category: '其他' },
        startedBy: { kind: 'system', id: 'record', roles: ['system'] },
        unitId: 'g1',
        requestHash: `record-${definitionKey}`,
        receivedAt: new Date().toISOString(),
        channel: 'record',
      });
      // Chosen: low enough that the case continues as new every few visits.
      const input = { ...args[0], historyLimits: { events: 60, bytes: 8 * 1024 * 1024 } };
      const started = await client.workflow.start('caseWorkflow', {
        workflowId: input.caseId,
        taskQueue,
        args: [input],
        memo,
        typedSearchAttributes: searchAttributes,
      });
      const handle = client.workflow.getHandle(input.caseId);
      await work(handle);
      await handle.result();
      const runIds = await runIdsOf(client, input.caseId, started.firstExecutionRunId);
      if (runIds.length < 2) throw new Error(`${name}: the case did not continue as new`);
      for (const [i, runId] of runIds.entries()) {
        await record(`${name}.run-${i + 1}`, input.caseId, runId);
      }
    };
    // Recorded 2026-12 (issue 14): a review sent back until the case continued as new.
    await recordContinuedRuns(
      'looping-review-continued',
      'replay-looping',
      'case-10000000000000000000000a',
      (handle) => workLoopingCase(db, handle, LOOPING_VISITS),
    );
    // Recorded 2026-12-07 (issue 14): a case that continued as new inside a parallel step (a
    // review sent back in one branch, the other branch's task claimed).
    await recordContinuedRuns(
      'parallel-review-loop-continued',
      'replay-parallel-looping',
      'case-10000000000000000000000b',
      (handle) => workParallelLoopingCase(db, handle, LOOPING_VISITS),
    );
    if (!kept('reconcile-cases-pass')) {
      const workflowId = 'record-reconcile-cases';
      await client.workflow.execute('reconcileCasesWorkflow', { workflowId, taskQueue, args: [] });
      await record('reconcile-cases-pass', workflowId);
    }
  } finally {
    await connection.close();
    await db.close();
    await api.stop();
    await worker.stop();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Someone acting on a recorded case (the Updates the API would send). */
const actor = (id: string) => ({ kind: 'user', id, roles: ['staff'], via: 'record' });

/** The id of the case's task matching `filter` once the read model has it (up to 30 s). */
async function storedTask(
  db: Database,
  handle: WorkflowHandle,
  filter: Record<string, unknown>,
): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const task = await db.models.Task.findOne({ caseId: handle.workflowId, ...filter }).lean();
    if (task) return task._id;
    await sleep(100);
  }
  throw new Error(`no task of ${handle.workflowId} matching ${JSON.stringify(filter)}`);
}

/**
 * Works the parallel looping case: the project's task claimed first, the review sent back
 * `visits - 1` times and passed, then the project's task completed by its claimant.
 */
async function workParallelLoopingCase(
  db: Database,
  handle: WorkflowHandle,
  visits: number,
): Promise<void> {
  const finish = `${handle.workflowId}.finish.1`;
  await storedTask(db, handle, { _id: finish, status: 'open' });
  await handle.executeUpdate(CASE_UPDATES.claim, {
    args: [{ taskId: finish, actor: actor('u-work') }],
  });
  for (let visit = 1; visit <= visits; visit++) {
    const taskId = `${handle.workflowId}.review.${visit}`;
    await storedTask(db, handle, { _id: taskId, status: 'open' });
    await handle.executeUpdate(CASE_UPDATES.claim, { args: [{ taskId, actor: actor('u-work') }] });
    await handle.executeUpdate(CASE_UPDATES.complete, {
      args: [
        { taskId, actor: actor('u-work'), outcome: visit < visits ? 'again' : 'right', form: {} },
      ],
    });
  }
  await handle.executeUpdate(CASE_UPDATES.complete, {
    args: [{ taskId: finish, actor: actor('u-work'), outcome: 'done', form: {} }],
  });
}

/** Visits of the looping case's task: sent back this many times less one, then done (chosen). */
const LOOPING_VISITS = 5;

/** Works the looping case: intake accepted, the task sent back `visits - 1` times, then done. */
async function workLoopingCase(
  db: Database,
  handle: WorkflowHandle,
  visits: number,
): Promise<void> {
  const work = async (taskId: string, outcome: string) => {
    await storedTask(db, handle, { _id: taskId, status: 'open' });
    await handle.executeUpdate(CASE_UPDATES.claim, { args: [{ taskId, actor: actor('u-work') }] });
    await handle.executeUpdate(CASE_UPDATES.complete, {
      args: [{ taskId, actor: actor('u-work'), outcome, form: {} }],
    });
  };
  await work(`${handle.workflowId}.intake.1`, 'accept');
  for (let visit = 1; visit <= visits; visit++) {
    await work(`${handle.workflowId}.serve.${visit}`, visit < visits ? 'again' : 'done');
  }
}

/** The run ids of a workflow, first to last, following its continue-as-new events. */
async function runIdsOf(client: Client, workflowId: string, firstRunId: string): Promise<string[]> {
  const runIds: string[] = [];
  for (let runId: string | null | undefined = firstRunId; runId;) {
    runIds.push(runId);
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runId =
      history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return runIds;
}

/** Works the parallel case: both joint tasks, then the race's fast branch (the slow one is cancelled). */
async function workParallelCase(db: Database, handle: WorkflowHandle): Promise<void> {
  const work = async (stepId: string, userId: string, outcome: string) => {
    const taskId = await storedTask(db, handle, { stepId });
    await handle.executeUpdate(CASE_UPDATES.claim, { args: [{ taskId, actor: actor(userId) }] });
    await handle.executeUpdate(CASE_UPDATES.complete, {
      args: [{ taskId, actor: actor(userId), outcome, form: {} }],
    });
  };
  await work('review', 'u-disp', 'agree');
  await work('inspect', 'u-work', 'fixed');
  await work('fast', 'u-work', 'done');
}

/**
 * Works the clocked case: the grid worker claims and pauses the clock for a moment; after the
 * resumption the reminder, the miss and both escalation levels fire, the second handing the task
 * to the dispatcher, who completes it.
 */
async function workClockedCase(db: Database, handle: WorkflowHandle): Promise<void> {
  const taskId = await storedTask(db, handle, { stepId: 'serve' });
  await handle.executeUpdate(CASE_UPDATES.claim, { args: [{ taskId, actor: actor('u-work') }] });
  await handle.executeUpdate(CASE_UPDATES.pause, { args: [{ actor: actor('u-work') }] });
  await sleep(1500);
  await handle.executeUpdate(CASE_UPDATES.resume, { args: [{ actor: actor('u-work') }] });
  await storedTask(db, handle, { stepId: 'serve', assigneeUserId: 'u-disp' });
  await handle.executeUpdate(CASE_UPDATES.complete, {
    args: [{ taskId, actor: actor('u-disp'), outcome: 'done', form: {} }],
  });
}

/** Works the pool: both grid workers claim it, the second serves the task that follows. */
async function workPoolCase(db: Database, handle: WorkflowHandle): Promise<void> {
  const pool = await storedTask(db, handle, { stepId: 'pool' });
  await handle.executeUpdate(CASE_UPDATES.claim, {
    args: [{ taskId: pool, actor: actor('u-work') }],
  });
  await handle.executeUpdate(CASE_UPDATES.claim, {
    args: [{ taskId: pool, actor: actor('u-work2') }],
  });
  const serve = await storedTask(db, handle, { stepId: 'serve' });
  await handle.executeUpdate(CASE_UPDATES.claim, {
    args: [{ taskId: serve, actor: actor('u-work2') }],
  });
  await handle.executeUpdate(CASE_UPDATES.complete, {
    args: [{ taskId: serve, actor: actor('u-work2'), outcome: 'done', form: {} }],
  });
}

/** Works the roll-call: the first grid worker reports, the second stays silent (escalated). */
async function workRollCallCase(db: Database, handle: WorkflowHandle): Promise<void> {
  const report = await storedTask(db, handle, { stepId: 'report' });
  await handle.executeUpdate(CASE_UPDATES.claim, {
    args: [{ taskId: report, actor: actor('u-work') }],
  });
}

/**
 * Works the returned case: the grid worker claims and returns it (退单), the calendar-changed
 * signal reaches its working-time clock, the dispatcher reassigns it to the second grid worker
 * (转派), who completes it.
 */
async function workReturnedCase(db: Database, handle: WorkflowHandle): Promise<void> {
  const taskId = await storedTask(db, handle, { stepId: 'serve' });
  await handle.executeUpdate(CASE_UPDATES.claim, { args: [{ taskId, actor: actor('u-work') }] });
  await handle.executeUpdate(CASE_UPDATES.return, {
    args: [{ taskId, actor: actor('u-work'), reason: '不属本网格' }],
  });
  await handle.signal(CALENDAR_CHANGED_SIGNAL);
  await handle.executeUpdate(CASE_UPDATES.reassign, {
    args: [
      {
        taskId,
        actor: { kind: 'user', id: 'u-disp', roles: ['dispatcher'], via: 'record' },
        to: { personId: 'p-work2', userId: 'u-work2', unitId: 'g2' },
        reason: '转派第二网格',
      },
    ],
  });
  await storedTask(db, handle, { _id: taskId, assigneeUserId: 'u-work2' });
  await handle.executeUpdate(CASE_UPDATES.complete, {
    args: [{ taskId, actor: actor('u-work2'), outcome: 'done', form: {} }],
  });
}

/**
 * Works the evaluation round the way a scorer does: the community dispatcher (the seeded account
 * of person p-disp) signs in and scores every item through the API once the round is open (its
 * items stored); the round then closes by itself.
 */
async function workEvaluationCase(
  db: Database,
  apiUrl: string,
  handle: WorkflowHandle,
): Promise<void> {
  const login = await fetch(`${apiUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: SCORER_USERNAME, password: SCORER_PASSWORD }),
  });
  if (!login.ok) throw new Error(`the scorer could not sign in: ${login.status}`);
  const { token } = (await login.json()) as { token: string };
  for (let i = 0; i < 100; i++) {
    const items = await db.models.EvaluationItem.find({ roundId: handle.workflowId })
      .sort({ _id: 1 })
      .lean();
    if (items.length > 0) {
      const res = await fetch(`${apiUrl}/api/v1/evaluations/${handle.workflowId}/scores`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': `record-scores-${handle.workflowId}`,
        },
        body: JSON.stringify({
          group: 'units',
          scores: items.map((item) => ({
            item: item.caseId,
            values: { quality: 4, duration: 4, satisfaction: 5 },
          })),
        }),
      });
      if (res.ok) return;
      if (i === 99) throw new Error(`scores refused: ${res.status} ${await res.text()}`);
    }
    await sleep(100); // the round is not open yet
  }
  throw new Error('could not score the evaluation round');
}

/** One order the community closed today, so the evaluation round always has an item to score. */
async function seedClosedOrder(db: Database): Promise<void> {
  const now = new Date();
  await db.models.Case.create({
    _id: 'case-0000000000000000000000aa',
    revision: 1,
    status: 'closed',
    definitionKey: 'replay-returned',
    definitionVersion: 1,
    definitionName: '测试退单转派',
    unitId: 'g1',
    data: { category: '其他' },
    createdBy: { kind: 'user', id: 'u-resident' },
    channel: 'api',
    requestHash: 'record-closed-order',
    createdAt: now,
    updatedAt: now,
    closedAt: now,
  });
}

/** Two requests of one category in grid g1 (未诉先办: they recur at threshold 2), one in g2. */
async function seedRecurringRequests(db: Database): Promise<void> {
  const now = new Date();
  const request = (n: number, unitId: string) => ({
    _id: `case-0000000000000000000000b${n}`,
    revision: 1,
    status: 'open',
    definitionKey: 'replay-returned',
    definitionVersion: 1,
    definitionName: '测试退单转派',
    unitId,
    data: { category: '噪声扰民' },
    createdBy: { kind: 'user', id: 'u-resident' },
    channel: 'api',
    requestHash: `record-recurring-${n}`,
    createdAt: now,
    updatedAt: now,
  });
  await db.models.Case.create([request(1, 'g1'), request(2, 'g1'), request(3, 'g2')]);
}

/** A closed historical case (历史工单) of the returned process, as an import batch carries it. */
function legacyCase(externalId: string): Record<string, unknown> {
  const person = { kind: 'user', id: 'legacy-user' };
  const engine = { kind: 'system', id: 'engine' };
  return {
    externalId,
    definitionKey: 'replay-returned',
    definitionVersion: 1,
    unitId: 'g1',
    category: null,
    data: { category: '环境卫生' },
    createdBy: person,
    status: 'closed',
    receivedAt: '2026-06-01T01:00:00Z',
    closedAt: '2026-06-01T09:00:00Z',
    events: [
      { type: 'case.started', at: '2026-06-01T01:00:00Z', actor: person },
      {
        type: 'case.closed',
        at: '2026-06-01T09:00:00Z',
        actor: engine,
        detail: { status: 'closed' },
      },
    ],
    rating: { score: 4, comment: null, at: '2026-06-01T08:30:00Z' },
    publication: {
      title: '办理结果公示',
      outcome: '已办结',
      fields: [{ label: '类别', value: '环境卫生' }],
      publishedAt: '2026-06-01T08:40:00Z',
    },
  };
}

/** The org the served process resolves its candidates from (people with accounts' ids). */
async function seedServedOrg(db: Database): Promise<void> {
  const now = new Date();
  const { Unit, Person, Post, User } = db.models;
  await Unit.create([
    { _id: 'c1', name: '东社区', type: 'community', parentId: null, updatedAt: now },
    { _id: 'g1', name: '第一网格', type: 'grid', parentId: 'c1', updatedAt: now },
    // For the pool, the roll-call and the fan-outs (recorded 2026-12): a second grid.
    { _id: 'g2', name: '第二网格', type: 'grid', parentId: 'c1', updatedAt: now },
  ]);
  await Person.create([
    { _id: 'p-disp', name: '派单员', email: 'd@example.test', userId: 'u-disp', updatedAt: now },
    { _id: 'p-work', name: '网格员', email: 'g@example.test', userId: 'u-work', updatedAt: now },
    {
      _id: 'p-work2',
      name: '网格员二',
      email: 'g2@example.test',
      userId: 'u-work2',
      updatedAt: now,
    },
  ]);
  // The dispatcher's sign-in account (its id is the person's userId), to score through the API.
  await User.create({
    _id: 'u-disp',
    username: SCORER_USERNAME,
    displayName: '派单员',
    passwordHash: await hashPassword(SCORER_PASSWORD),
    roles: ['dispatcher'],
    unitIds: ['c1'],
    disabled: false,
    createdAt: now,
  });
  await Post.create([
    { _id: 'c1:dispatcher:p-disp', unitId: 'c1', role: 'dispatcher', personId: 'p-disp' },
    { _id: 'g1:grid-worker:p-work', unitId: 'g1', role: 'grid-worker', personId: 'p-work' },
    { _id: 'g2:grid-worker:p-work2', unitId: 'g2', role: 'grid-worker', personId: 'p-work2' },
  ]);
}

/** Works a served case the way people would: claim and complete both tasks, then rate. */
async function workServedCase(db: Database, handle: WorkflowHandle): Promise<void> {
  const dispatch = await storedTask(db, handle, { stepId: 'dispatch' });
  await handle.executeUpdate(CASE_UPDATES.claim, {
    args: [{ taskId: dispatch, actor: actor('u-disp') }],
  });
  await handle.executeUpdate(CASE_UPDATES.complete, {
    args: [{ taskId: dispatch, actor: actor('u-disp'), outcome: 'assign', form: { note: '派单' } }],
  });
  const serve = await storedTask(db, handle, { stepId: 'serve' });
  await handle.executeUpdate(CASE_UPDATES.claim, {
    args: [{ taskId: serve, actor: actor('u-work') }],
  });
  await handle.executeUpdate(CASE_UPDATES.complete, {
    args: [{ taskId: serve, actor: actor('u-work'), outcome: 'done', form: {} }],
  });
  for (let i = 0; i < 200; i++) {
    try {
      await handle.executeUpdate(CASE_UPDATES.rate, {
        args: [
          { actor: { kind: 'user', id: 'u-disp', roles: ['dispatcher'], via: 'record' }, score: 4 },
        ],
      });
      return;
    } catch {
      await sleep(100); // the feedback step is not open yet
    }
  }
  throw new Error('could not rate the served case');
}

/** The arrival claimed and completed with a check-in, as the API service measures it. */
async function workCheckInCase(db: Database, handle: WorkflowHandle): Promise<void> {
  const arrive = await storedTask(db, handle, { stepId: 'arrive' });
  await handle.executeUpdate(CASE_UPDATES.claim, {
    args: [{ taskId: arrive, actor: actor('u-work') }],
  });
  await handle.executeUpdate(CASE_UPDATES.complete, {
    args: [
      {
        taskId: arrive,
        actor: actor('u-work'),
        outcome: 'arrived',
        form: {},
        checkIn: {
          lat: 34.0312,
          lng: 108.04,
          accuracy: 15,
          at: new Date().toISOString(),
          placeUnitId: 'g1',
          distance: 133,
          limit: 300,
          within: true,
        },
      },
    ],
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

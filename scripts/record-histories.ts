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
  clockedProcess,
  parallelProcess,
  servedProcess,
  waitingProcess,
} from './recorded-processes';
import { CASE_UPDATES } from '../common/case';
import { startWorker } from '../worker';

/**
 * Records workflow histories for the replay tests (`npm run record-histories`): runs real cases
 * on a throw-away local stack and saves each history under test/fixtures/histories/. Record new
 * ones when the interpreter gains behaviour; existing files are kept, they guard running cases.
 */
const run = promisify(execFile);
const OUT_DIR = path.resolve(__dirname, '..', 'test', 'fixtures', 'histories');
const SECRET = 'gfk_record_histories_0123456789abcdef0123456789';

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
    await createDefinitionService(db.models, createMailRenderer().templateNames).publish({
      source: waitingProcess('replay-wait', 'PT2S'),
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'record' },
    });
    await createDefinitionService(db.models, createMailRenderer().templateNames).publish({
      source: servedProcess('replay-served', 'PT1H'),
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'record' },
    });
    await createDefinitionService(db.models, createMailRenderer().templateNames).publish({
      source: parallelProcess('replay-parallel'),
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'record' },
    });
    await createDefinitionService(db.models, createMailRenderer().templateNames).publish({
      source: clockedProcess('replay-clocked'),
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'record' },
    });
    await seedServedOrg(db);
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
    ];
    const client = new Client({ connection });
    const cli = await ensureTemporalCli(stackDirs().bin, progress);
    for (const [name, definitionKey, data, unitId] of cases) {
      // A recorded history guards cases started by the interpreter of its day: never overwrite.
      if (existsSync(path.join(OUT_DIR, `${name}.json`))) {
        progress.info(`kept ${name}.json (recorded earlier)`);
        continue;
      }
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
      await handle.result();
      const file = path.join(OUT_DIR, `${name}.json`);
      // The CLI writes the proto3 JSON that historyFromJSON reads back.
      const { stdout } = await run(
        cli,
        [
          'workflow',
          'show',
          '--workflow-id',
          id,
          '--address',
          config.TEMPORAL_ADDRESS,
          '--output',
          'json',
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      await writeFile(file, stdout);
      progress.info(`recorded ${path.relative(process.cwd(), file)}`);
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

/** The org the served process resolves its candidates from (people with accounts' ids). */
async function seedServedOrg(db: Database): Promise<void> {
  const now = new Date();
  const { Unit, Person, Post } = db.models;
  await Unit.create([
    { _id: 'c1', name: '东社区', type: 'community', parentId: null, updatedAt: now },
    { _id: 'g1', name: '第一网格', type: 'grid', parentId: 'c1', updatedAt: now },
  ]);
  await Person.create([
    { _id: 'p-disp', name: '派单员', email: 'd@example.test', userId: 'u-disp', updatedAt: now },
    { _id: 'p-work', name: '网格员', email: 'g@example.test', userId: 'u-work', updatedAt: now },
  ]);
  await Post.create([
    { _id: 'c1:dispatcher:p-disp', unitId: 'c1', role: 'dispatcher', personId: 'p-disp' },
    { _id: 'g1:grid-worker:p-work', unitId: 'g1', role: 'grid-worker', personId: 'p-work' },
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

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import httpClient from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import mongoose, { mongo } from 'mongoose';
import { startApi } from '../server';
import { createDefinitionService } from '../services/definitions';
import type { OrgImport } from '../services/org-import';
import { createOrgService } from '../services/org';
import { createScopeResolver } from '../services/scope';
import type { ActingPrincipal, CaseWorkflowInput } from '../common/case';
import { CASE_UPDATES, CASE_WORKFLOW_TYPE } from '../common/case';
import { loadConfig } from '../common/config';
import type { DefinitionSnapshot } from '../lang/definition';
import { CASE_DEFINITION_KEY, CASE_STATUS, CASE_UNIT_ID } from '../common/search-attributes';
import { createMailRenderer } from '../mail/renderer';
import { connectDatabase } from '../models';
import { PROJECT_ROOT, stackDirs } from '../stack/paths';
import type { Progress } from '../stack/progress';
import { randomPorts, startLocalStack } from '../stack/stack';
import { startWorker } from '../worker';
import { BASELINE_COLLECTIONS, createBaselineActivities } from './baseline-activities';
import type { BaselineInput } from './baseline-workflow';
import {
  BASELINE_WORKFLOW_TYPE,
  baselineClaimUpdate,
  baselineCompleteUpdate,
} from './baseline-workflow';
import type { HistoryLike, HistoryProfile, SideResult, StoredDocuments } from './report';
import {
  OPS,
  OP_MEANING,
  Samples,
  casesPerSecond,
  comparisonTable,
  cpuMsOfProcStat,
  cpuTable,
  profileHistories,
  profileTable,
} from './report';

/**
 * Engine overhead benchmark (`npm run bench -- --cases 30 --concurrency 8`): on a throw-away
 * local stack, drives N cases of a two-task process three ways and compares them:
 *
 * - engine/API: the interpreter through the HTTP API, as people use it (auth, validation,
 *   scope checks, work-list reads);
 * - engine/client: the same interpreter and definition driven through the Temporal client
 *   (workflow.start and executeUpdate, the calls the API makes), so the API's share shows;
 * - baseline: a hand-written workflow (baseline-workflow.ts) doing the same steps, driven
 *   through the client.
 *
 * Progress goes to stderr; the figures to stdout. See bench/README.md for what is measured.
 */

const run = promisify(execFile);
const DEFINITION_KEY = 'bench-two-tasks';
/**
 * Each side has its own task queue and its own database (on FerretDB/SQLite, its own file): some
 * writes there cost in proportion to the collection, so a side must not pay for another's data.
 */
const QUEUES = {
  api: 'bench-engine-api',
  client: 'bench-engine-client',
  baseline: 'bench-baseline',
};
const DATABASES = {
  api: 'bench_engine_api',
  client: 'bench_engine_client',
  baseline: 'bench_baseline',
};
const ADMIN_KEY = `gfk_bench_${randomBytes(24).toString('base64url')}`;
const PASSWORD = 'bench password 0123';
const UNIT_ID = 'g1';
const CASE_DATA = { category: '环境卫生' };
const READY_TIMEOUT_MS = 60_000;

/** Two human tasks and an end; candidates come from the org tree; no mail, no SLA clocks. */
const DEFINITION = `
key: ${DEFINITION_KEY}
name: 基准测试两步办理
starters: [resident, dispatcher, admin]
input:
  fields:
    - { name: category, label: 诉求类别, type: string, required: true }
steps:
  - id: dispatch
    name: 派单
    type: task
    announce: false
    candidates: [{ role: dispatcher, unit: community }]
    outcomes: [{ id: assign, name: 派单 }]
  - id: serve
    name: 办理
    type: task
    announce: false
    candidates: [{ role: grid-worker, unit: case }]
    outcomes: [{ id: done, name: 已办结 }]
  - { id: closed, name: 办结, type: end }
`;

interface Options {
  cases: number;
  concurrency: number;
  warmup: number;
  pollMs: number;
  profile: number;
  rounds: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      cases: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '4' },
      'poll-ms': { type: 'string', default: '20' },
      profile: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench -- [--cases N=50] [--concurrency C=8] [--warmup W=4] [--poll-ms MS=20] [--profile K=5] [--rounds R=3]\n',
    );
    process.exit(0);
  }
  const int = (name: string, value: string, min: number): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  return {
    cases: int('cases', values.cases, 1),
    concurrency: int('concurrency', values.concurrency, 1),
    warmup: int('warmup', values.warmup, 0),
    pollMs: int('poll-ms', values['poll-ms'], 1),
    profile: int('profile', values.profile, 0),
    rounds: int('rounds', values.rounds, 1),
  };
}

/** Progress on stderr, so stdout carries only the figures. */
function stderrProgress(prefix: string): Progress {
  const write = (line: string) => process.stderr.write(`${prefix} ${line}\n`);
  return {
    info: write,
    async step(label, task, everySeconds = 15) {
      const started = Date.now();
      write(`${label}…`);
      const timer = setInterval(
        () => write(`  … ${label} (${Math.round((Date.now() - started) / 1000)}s so far)`),
        everySeconds * 1000,
      );
      try {
        const result = await task();
        write(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        return result;
      } finally {
        clearInterval(timer);
      }
    },
  };
}

const progress = stderrProgress('[bench]');
let aborted: string | null = null;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` answers something, every `pollMs`. */
async function pollFor<T>(
  what: string,
  pollMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (aborted) throw new Error(`aborted (${aborted})`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

// --- HTTP -------------------------------------------------------------------------------------

interface HttpResult<T> {
  status: number;
  body: T;
}

/**
 * The drivers' HTTP client: node:http over kept-alive connections. It is part of the engine/API
 * side's measured CPU (it shares the process), and `fetch` cost about 1.2 ms more CPU per request
 * on these machines than a request through node:http, a harness cost that would be charged to the
 * API.
 */
const keepAlive = new httpClient.Agent({ keepAlive: true, maxSockets: 64 });

function http<T>(
  baseUrl: string,
  method: string,
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body = options.body !== undefined ? JSON.stringify(options.body) : undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = httpClient.request(
      `${baseUrl}${url}`,
      { method, headers, agent: keepAlive },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({
              status: res.statusCode ?? 0,
              body: (text ? JSON.parse(text) : undefined) as T,
            });
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function expectStatus(what: string, res: HttpResult<unknown>, ...ok: number[]): void {
  if (!ok.includes(res.status)) {
    throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
}

// --- The people of the benchmark --------------------------------------------------------------

interface Account {
  userId: string;
  token: string;
  roles: ActingPrincipal['roles'];
}

interface People {
  resident: Account;
  dispatcher: Account;
  worker: Account;
}

/** The two tasks each side works through, in order, and who does each. */
const STEPS = [
  {
    stepId: 'dispatch',
    name: '派单',
    outcome: { id: 'assign', name: '派单' },
    who: 'dispatcher',
    person: { id: 'p-disp', unitId: 'c1' },
  },
  {
    stepId: 'serve',
    name: '办理',
    outcome: { id: 'done', name: '已办结' },
    who: 'worker',
    person: { id: 'p-worker', unitId: UNIT_ID },
  },
] as const;

/** The org tree the candidates are resolved from: a street, its community, one grid. */
function orgOf(people: People): OrgImport {
  return {
    units: [
      { id: 's1', name: '东街道', type: 'street', parentId: null },
      { id: 'c1', name: '东社区', type: 'community', parentId: 's1' },
      { id: UNIT_ID, name: '第一网格', type: 'grid', parentId: 'c1' },
    ],
    people: [
      { id: STEPS[0].person.id, name: '派单员', userId: people.dispatcher.userId },
      { id: STEPS[1].person.id, name: '网格员', userId: people.worker.userId },
    ],
    posts: [
      { unitId: 'c1', role: 'dispatcher', personId: STEPS[0].person.id },
      { unitId: UNIT_ID, role: 'grid-worker', personId: STEPS[1].person.id },
    ],
  };
}

/** Accounts and the org tree through the API, into the engine/API side's database. */
async function createAccounts(baseUrl: string): Promise<People> {
  const account = async (
    username: string,
    roles: Account['roles'],
    unitIds: string[],
  ): Promise<Account> => {
    const created = await http<{ id: string }>(baseUrl, 'POST', '/api/v1/users', {
      token: ADMIN_KEY,
      body: { username, displayName: username, password: PASSWORD, roles, unitIds },
    });
    expectStatus(`creating ${username}`, created, 201);
    const login = await http<{ token: string }>(baseUrl, 'POST', '/api/v1/auth/login', {
      body: { username, password: PASSWORD },
    });
    expectStatus(`signing in ${username}`, login, 200);
    return { userId: created.body.id, token: login.body.token, roles };
  };
  const people: People = {
    resident: await account('bench-resident', ['resident'], []),
    dispatcher: await account('bench-dispatcher', ['dispatcher'], ['c1']),
    worker: await account('bench-worker', ['staff'], [UNIT_ID]),
  };
  const imported = await http(baseUrl, 'POST', '/api/v1/org/import', {
    token: ADMIN_KEY,
    body: orgOf(people),
  });
  expectStatus('importing the org tree', imported, 200);
  return people;
}

// --- The three sides --------------------------------------------------------------------------

type SideKey = keyof typeof DATABASES;

interface Side {
  name: string;
  /** Whose database its read model is in. */
  store: SideKey;
  /** Runs one case; returns its id (the workflow id). */
  runCase(label: string, samples: Samples): Promise<string>;
}

type StoreCollection = mongoose.mongo.Collection<{ _id: string; status?: string }>;

interface Context {
  baseUrl: string;
  client: Client;
  people: People;
  snapshot: DefinitionSnapshot;
  /** Each side's read model: its case and task collections. */
  stores: Record<SideKey, { cases: StoreCollection; tasks: StoreCollection }>;
  pollMs: number;
  cpu: CpuMeter;
  runId: string;
}

/** The interpreter through the HTTP API, the way staff and residents work. */
function engineViaApi(ctx: Context): Side {
  return {
    name: 'engine/API',
    store: 'api',
    async runCase(label, samples) {
      const caseId = await samples.time('start', async () => {
        const res = await http<{ id: string }>(ctx.baseUrl, 'POST', '/api/v1/cases', {
          token: ctx.people.resident.token,
          headers: { 'idempotency-key': `bench-${ctx.runId}-${label}` },
          body: { definitionKey: DEFINITION_KEY, unitId: UNIT_ID, data: CASE_DATA },
        });
        expectStatus('starting a case', res, 201);
        return res.body.id;
      });
      for (const step of STEPS) {
        const token = ctx.people[step.who].token;
        const taskId = await samples.time('ready', () =>
          pollFor(`the ${step.stepId} task of ${caseId}`, ctx.pollMs, async () => {
            const res = await http<{ items: Array<{ id: string; stepId: string }> }>(
              ctx.baseUrl,
              'GET',
              `/api/v1/tasks?view=available&caseId=${caseId}`,
              { token },
            );
            expectStatus('listing tasks', res, 200);
            return res.body.items.find((t) => t.stepId === step.stepId)?.id;
          }),
        );
        await samples.time('claim', async () => {
          const res = await http(ctx.baseUrl, 'POST', `/api/v1/tasks/${taskId}/claim`, {
            token,
            body: {},
          });
          expectStatus('claiming a task', res, 200);
        });
        await samples.time('complete', async () => {
          const res = await http(ctx.baseUrl, 'POST', `/api/v1/tasks/${taskId}/complete`, {
            token,
            body: { outcome: step.outcome.id },
          });
          expectStatus('completing a task', res, 200);
        });
      }
      return caseId;
    },
  };
}

/** The same interpreter without the API: the start and the Updates the API services send. */
function engineViaClient(ctx: Context): Side {
  return {
    name: 'engine/client',
    store: 'client',
    async runCase(label, samples) {
      const caseId = `case-${randomBytes(12).toString('hex')}`;
      const handle = await samples.time('start', () => {
        const requestHash = createHash('sha256').update(`${ctx.runId}:${label}`).digest('hex');
        const input: CaseWorkflowInput = {
          caseId,
          definition: ctx.snapshot,
          data: CASE_DATA,
          startedBy: { kind: 'user', id: ctx.people.resident.userId, roles: ['resident'] },
          unitId: UNIT_ID,
          requestHash,
          receivedAt: new Date().toISOString(),
          channel: 'api',
        };
        // The options api/services/cases.ts starts a case with.
        return ctx.client.workflow.start(CASE_WORKFLOW_TYPE, {
          taskQueue: QUEUES.client,
          workflowId: caseId,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: {
            requestHash,
            requestNonce: label,
            createdBy: { kind: 'user', id: ctx.people.resident.userId },
            unitId: UNIT_ID,
            definitionKey: ctx.snapshot.key,
            definitionVersion: ctx.snapshot.version,
            definitionName: ctx.snapshot.spec.name,
            channel: 'api',
          },
          typedSearchAttributes: [
            { key: CASE_STATUS, value: 'open' },
            { key: CASE_DEFINITION_KEY, value: ctx.snapshot.key },
            { key: CASE_UNIT_ID, value: UNIT_ID },
          ],
        });
      });
      for (const step of STEPS) {
        const who = ctx.people[step.who];
        const actor: ActingPrincipal = {
          kind: 'user',
          id: who.userId,
          roles: who.roles,
          via: 'api',
        };
        const taskId = `${caseId}.${step.stepId}.1`;
        await samples.time('ready', () =>
          pollFor(`task ${taskId}`, ctx.pollMs, async () =>
            (await ctx.stores.client.tasks.findOne(
              { _id: taskId, status: 'open' },
              { projection: { _id: 1 } },
            ))
              ? true
              : undefined,
          ),
        );
        await samples.time('claim', () =>
          handle.executeUpdate(CASE_UPDATES.claim, { args: [{ taskId, actor }] }),
        );
        await samples.time('complete', () =>
          handle.executeUpdate(CASE_UPDATES.complete, {
            args: [{ taskId, actor, outcome: step.outcome.id, form: {} }],
          }),
        );
      }
      return caseId;
    },
  };
}

/** The hand-written workflow, through the client. */
function baselineViaClient(ctx: Context): Side {
  return {
    name: 'baseline',
    store: 'baseline',
    async runCase(label, samples) {
      const caseId = `case-${randomBytes(12).toString('hex')}`;
      const input: BaselineInput = {
        caseId,
        process: { key: 'bench-baseline', version: 1, name: ctx.snapshot.spec.name },
        unitId: UNIT_ID,
        data: CASE_DATA,
        startedBy: { kind: 'user', id: ctx.people.resident.userId },
        requestHash: createHash('sha256').update(`${ctx.runId}:${label}`).digest('hex'),
        receivedAt: new Date().toISOString(),
        tasks: STEPS.map((s) => ({
          stepId: s.stepId,
          name: s.name,
          candidates: [
            { personId: s.person.id, userId: ctx.people[s.who].userId, unitId: s.person.unitId },
          ],
          outcomes: [s.outcome],
        })),
      };
      const handle = await samples.time('start', () =>
        ctx.client.workflow.start(BASELINE_WORKFLOW_TYPE, {
          taskQueue: QUEUES.baseline,
          workflowId: caseId,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      );
      for (const step of STEPS) {
        const userId = ctx.people[step.who].userId;
        const taskId = `${caseId}.${step.stepId}`;
        await samples.time('ready', () =>
          pollFor(`task ${taskId}`, ctx.pollMs, async () =>
            (await ctx.stores.baseline.tasks.findOne(
              { _id: taskId, status: 'open' },
              { projection: { _id: 1 } },
            ))
              ? true
              : undefined,
          ),
        );
        await samples.time('claim', () =>
          handle.executeUpdate(baselineClaimUpdate, { args: [{ taskId, userId }] }),
        );
        await samples.time('complete', () =>
          handle.executeUpdate(baselineCompleteUpdate, {
            args: [{ taskId, userId, outcome: step.outcome.id }],
          }),
        );
      }
      return caseId;
    },
  };
}

/**
 * Runs `count` cases with `concurrency` in flight and adds them to `into`: a case counts when its
 * workflow has closed; wall time runs from the first start to the last close.
 */
async function runBatch(
  ctx: Context,
  side: Side,
  phase: string,
  count: number,
  concurrency: number,
  into: SideResult,
): Promise<number> {
  let next = 0;
  const cpuBefore = ctx.cpu.read();
  const started = performance.now();
  const runner = async () => {
    while (next < count && !aborted) {
      const label = `${side.name.replace('/', '-')}-${phase}-${next++}`;
      const caseStarted = performance.now();
      const caseId = await side.runCase(label, into.samples);
      await ctx.client.workflow.getHandle(caseId).result();
      into.samples.add('case', performance.now() - caseStarted);
      into.caseIds.push(caseId);
    }
  };
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, count) }, () =>
      runner().catch((err: unknown) => {
        aborted ??= `${side.name} failed`;
        throw err;
      }),
    ),
  );
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
  if (aborted) throw new Error(`aborted (${aborted})`);
  const wallMs = performance.now() - started;
  for (const [name, ms] of ctx.cpu.read()) {
    into.cpuMs.set(name, (into.cpuMs.get(name) ?? 0) + ms - (cpuBefore.get(name) ?? 0));
  }
  into.cases += count;
  into.wallMs += wallMs;
  return count / (wallMs / 1000);
}

function emptyResult(name: string): SideResult {
  return { name, cases: 0, wallMs: 0, samples: new Samples(), caseIds: [], cpuMs: new Map() };
}

/** Reads cumulative CPU time per process: the servers from /proc (Linux), this one from Node. */
interface CpuMeter {
  /** Milliseconds of CPU (user + system) each process has used so far, by name. */
  read(): Map<string, number>;
}

function cpuMeter(serverPids: readonly number[]): CpuMeter {
  const servers = serverPids.flatMap((pid) => {
    try {
      const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      return [{ pid, name }];
    } catch {
      return []; // no /proc (not Linux): only this process is measured
    }
  });
  return {
    read() {
      const used = new Map<string, number>();
      for (const { pid, name } of servers) {
        try {
          const ms = cpuMsOfProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
          used.set(name, (used.get(name) ?? 0) + ms);
        } catch {
          // the server has gone; the run is stopping
        }
      }
      const self = process.cpuUsage();
      used.set('node (API, workers, drivers)', (self.user + self.system) / 1000);
      return used;
    },
  };
}

/** Samples the 1-minute load average, to show how busy the machine was during the run. */
function watchLoad(): { stop(): number[] } {
  const values = [os.loadavg()[0]!];
  const timer = setInterval(() => values.push(os.loadavg()[0]!), 2000);
  return {
    stop() {
      clearInterval(timer);
      values.push(os.loadavg()[0]!);
      return values;
    },
  };
}

async function profileOf(
  ctx: Context,
  side: Side,
  result: SideResult,
  sample: number,
): Promise<HistoryProfile> {
  const histories: HistoryLike[] = [];
  const documents: StoredDocuments = { caseBytes: 0, taskBytes: 0, tasks: 0 };
  const { cases, tasks } = ctx.stores[side.store];
  for (const caseId of result.caseIds.slice(0, sample)) {
    histories.push(await ctx.client.workflow.getHandle(caseId).fetchHistory());
    const stored = await cases.findOne({ _id: caseId });
    if (stored) documents.caseBytes += mongo.BSON.calculateObjectSize(stored);
    for (const task of await tasks.find({ caseId }).toArray()) {
      documents.taskBytes += mongo.BSON.calculateObjectSize(task);
      documents.tasks += 1;
    }
  }
  return profileHistories(histories, documents);
}

// --- Stack, workers, API ----------------------------------------------------------------------

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

async function startBaselineWorker(
  address: string,
  mongoUri: string,
  codePath: string,
): Promise<Stoppable> {
  const mongo = new mongoose.mongo.MongoClient(mongoUri);
  await mongo.connect();
  const db = mongo.db();
  // The indexes the engine keeps on its read model (models/index.ts), for comparable writes.
  await db.collection(BASELINE_COLLECTIONS.cases).createIndex({ createdAt: -1 });
  await db.collection(BASELINE_COLLECTIONS.cases).createIndex({ unitId: 1 });
  await db.collection(BASELINE_COLLECTIONS.cases).createIndex({ 'createdBy.id': 1 });
  await db.collection(BASELINE_COLLECTIONS.cases).createIndex({ 'publication.publishedAt': -1 });
  await db.collection(BASELINE_COLLECTIONS.tasks).createIndex({ caseId: 1 });
  await db.collection(BASELINE_COLLECTIONS.tasks).createIndex({ candidateUserIds: 1 });
  await db.collection(BASELINE_COLLECTIONS.tasks).createIndex({ status: 1, openedAt: -1 });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue: QUEUES.baseline,
    workflowBundle: { codePath },
    activities: createBaselineActivities(db),
  });
  const running = worker.run().finally(async () => {
    await connection.close();
    await mongo.close();
  });
  return {
    name: 'baseline worker',
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/** Bundles in a child process: webpack left in this process would keep it from exiting. */
async function bundle(out: string, workflows?: string): Promise<void> {
  const args = [
    '--import',
    'tsx',
    'scripts/bundle-workflows.ts',
    out,
    ...(workflows ? [workflows] : []),
  ];
  await run(process.execPath, args, { cwd: PROJECT_ROOT });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const tempDir = await mkdtemp(path.join(tmpdir(), 'governance-flow-bench-'));
  const running: Stoppable[] = [];
  let serverPids: number[] = [];
  // Signals are ours: the first stops the run and cleans up in order; a second kills the servers,
  // removes the temporary folder and exits at once.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (aborted?.endsWith('received')) {
        for (const pid of serverPids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        rmSync(tempDir, { recursive: true, force: true });
        process.exit(130);
      }
      aborted = `${signal} received`;
      progress.info(`${signal}: stopping and cleaning up (again to exit at once)`);
    });
  }

  try {
    const engineBundle = path.join(tempDir, 'engine-workflows.js');
    const baselineBundle = path.join(tempDir, 'baseline-workflows.js');
    // The stack starts while the two bundles build; a stack that started is stopped whatever
    // happened to the bundles.
    const [stackStart, bundling] = await Promise.allSettled([
      startLocalStack({
        dirs: stackDirs({ dataDir: path.join(tempDir, 'stack') }),
        ports: await randomPorts(),
        progress,
        env: {},
      }),
      progress.step('Bundling the engine and baseline workflows', () =>
        Promise.all([bundle(engineBundle), bundle(baselineBundle, 'bench/baseline-workflow.ts')]),
      ),
    ]);
    if (stackStart.status === 'fulfilled') {
      const stack = stackStart.value;
      running.push({ name: 'stack', stop: () => stack.stop() });
    }
    if (stackStart.status === 'rejected') throw stackStart.reason;
    if (bundling.status === 'rejected') throw bundling.reason;
    const stack = stackStart.value;
    serverPids = stack.pids;
    // A server that dies mid-run stops the run instead of leaving the drivers to time out.
    void stack.failure.then((message) => (aborted ??= message));
    if (aborted) throw new Error(`aborted (${aborted})`);

    const dbUri = (name: string) => stack.env.MONGODB_URI!.replace(/\/[^/]*$/, `/${name}`);
    const configOf = (side: 'api' | 'client') =>
      loadConfig({
        ...stack.env,
        MONGODB_URI: dbUri(DATABASES[side]),
        TEMPORAL_TASK_QUEUE: QUEUES[side],
        API_PORT: '0',
        LOG_LEVEL: 'warn',
      });
    const apiConfig = configOf('api');
    const clientConfig = configOf('client');
    for (const config of [apiConfig, clientConfig]) {
      const worker = await startWorker(config, { workflowBundle: { codePath: engineBundle } });
      running.push({
        name: `engine worker (${config.TEMPORAL_TASK_QUEUE})`,
        stop: () => worker.stop(),
      });
    }
    running.push(
      await startBaselineWorker(
        apiConfig.TEMPORAL_ADDRESS,
        dbUri(DATABASES.baseline),
        baselineBundle,
      ),
    );
    const api = await startApi(apiConfig, { definitionsDir: null });
    running.push({ name: 'API', stop: () => api.stop() });
    // Stopped before the API (in reverse order): its kept-alive connections would hold the server.
    running.push({ name: 'HTTP client', stop: () => Promise.resolve(keepAlive.destroy()) });
    await api.ensureBootstrapAdminKey(ADMIN_KEY);
    const apiDb = await connectDatabase(apiConfig.MONGODB_URI);
    running.push({ name: 'database connection (API side)', stop: () => apiDb.close() });
    const clientDb = await connectDatabase(clientConfig.MONGODB_URI);
    running.push({ name: 'database connection (client side)', stop: () => clientDb.close() });
    const connection = await Connection.connect({ address: apiConfig.TEMPORAL_ADDRESS });
    running.push({ name: 'Temporal client', stop: () => connection.close() });
    const client = new Client({ connection, namespace: apiConfig.TEMPORAL_NAMESPACE });

    const definitions = createDefinitionService(apiDb.models, createMailRenderer().templateNames);
    await definitions.publish({
      source: DEFINITION,
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'bench' },
    });
    const snapshot = await definitions.latestSnapshot(DEFINITION_KEY);
    if (!snapshot) throw new Error(`${DEFINITION_KEY} was not published`);
    const people = await createAccounts(api.url);
    // The engine/client side resolves candidates from the same org tree, in its own database.
    await createOrgService({
      models: clientDb.models,
      scope: createScopeResolver(clientDb.models),
      clock: () => new Date(),
    }).importOrg(orgOf(people));
    const engineStore = (db: typeof apiDb) => ({
      cases: db.connection.db!.collection<{ _id: string }>(
        db.models.Case.collection.collectionName,
      ),
      tasks: db.connection.db!.collection<{ _id: string }>(
        db.models.Task.collection.collectionName,
      ),
    });
    const baselineDb = clientDb.connection.getClient().db(DATABASES.baseline);
    const ctx: Context = {
      baseUrl: api.url,
      client,
      people,
      snapshot,
      stores: {
        api: engineStore(apiDb),
        client: engineStore(clientDb),
        baseline: {
          cases: baselineDb.collection(BASELINE_COLLECTIONS.cases),
          tasks: baselineDb.collection(BASELINE_COLLECTIONS.tasks),
        },
      },
      pollMs: options.pollMs,
      cpu: cpuMeter(stack.pids),
      runId: randomBytes(4).toString('hex'),
    };

    const sides = [baselineViaClient(ctx), engineViaClient(ctx), engineViaApi(ctx)];
    for (const side of sides) {
      if (options.warmup > 0) {
        await progress.step(`${side.name}: ${options.warmup} warm-up cases`, () =>
          runBatch(ctx, side, 'warmup', options.warmup, options.concurrency, emptyResult('warmup')),
        );
      }
    }
    // The sides take turns in rounds, in a rotating order, so that a busier moment of the machine
    // or stores that fill up weigh on each side alike.
    const rounds = Math.max(
      1,
      Math.min(options.rounds, Math.floor(options.cases / options.concurrency)),
    );
    const results = new Map(sides.map((side) => [side.name, emptyResult(side.name)]));
    const perRound = new Map<string, number[]>(sides.map((side) => [side.name, []]));
    const load = watchLoad();
    for (let round = 0; round < rounds; round++) {
      const count = Math.floor(options.cases / rounds) + (round < options.cases % rounds ? 1 : 0);
      for (let i = 0; i < sides.length; i++) {
        const side = sides[(round + i) % sides.length]!;
        const result = results.get(side.name)!;
        const rate = await runBatch(ctx, side, `r${round}`, count, options.concurrency, result);
        perRound.get(side.name)!.push(rate);
        progress.info(
          `round ${round + 1}/${rounds}: ${side.name} ${count} cases at ${rate.toFixed(2)} cases/s (${result.cases}/${options.cases} done)`,
        );
      }
    }
    const loads = load.stop();
    const [base, viaClient, viaApi] = sides.map((s) => results.get(s.name)!) as [
      SideResult,
      SideResult,
      SideResult,
    ];

    const profiles: Array<[string, HistoryProfile]> = [];
    if (options.profile > 0) {
      for (const side of [...sides].reverse()) {
        const result = results.get(side.name)!;
        profiles.push([result.name, await profileOf(ctx, side, result, options.profile)]);
      }
    }

    const out: string[] = [
      `engine overhead: ${options.cases} cases per side (+${options.warmup} warm-up) in ${rounds} round(s), concurrency ${options.concurrency}, read model polled every ${options.pollMs} ms`,
      'process: two human tasks (claim + complete each) and an end; one Temporal dev server and one FerretDB (SQLite), each side with its own task queue and database',
      `machine: ${os.cpus().length} CPUs; 1-min load average during the run ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (mean ${(loads.reduce((a, b) => a + b, 0) / loads.length).toFixed(1)})`,
      '',
      comparisonTable(viaApi, viaClient, base),
      '',
      cpuTable([viaApi, viaClient, base]),
      '',
      `cases/s per round: ${sides
        .map(
          (side) =>
            `${side.name} ${perRound
              .get(side.name)!
              .map((r) => r.toFixed(2))
              .join(' / ')}`,
        )
        .join('; ')}`,
      'ratios are engine ÷ baseline: above 1x a latency is longer; below 1x throughput is lower',
      ...OPS.map((op) => `  ${op}: ${OP_MEANING[op]}`),
    ];
    if (profiles.length > 0) {
      out.push(
        '',
        `per case, from the workflow histories of ${options.profile} measured cases per side (activity time = queued + running):`,
        '',
        profileTable(profiles),
      );
    }
    const apiOverhead = casesPerSecond(viaClient) / casesPerSecond(viaApi);
    const interpreterOverhead = casesPerSecond(base) / casesPerSecond(viaClient);
    const overhead = casesPerSecond(base) / casesPerSecond(viaApi);
    out.push(
      '',
      `interpreter overhead: ${interpreterOverhead.toFixed(2)}x (engine via client vs baseline, time per case)`,
      `API overhead: ${apiOverhead.toFixed(2)}x (engine via API vs engine via client, time per case)`,
      `overhead: ${overhead.toFixed(2)}x (target < 1.2x; engine via API vs baseline, time per case = baseline cases/s ÷ engine cases/s)`,
    );
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    for (const item of running.reverse()) {
      try {
        await item.stop();
      } catch (err) {
        progress.info(`stopping the ${item.name} failed: ${(err as Error).message}`);
      }
    }
    await rm(tempDir, { recursive: true, force: true });
    progress.info('stopped everything and removed the temporary folder');
  }
}

main().catch((err: unknown) => {
  const signalled = aborted?.endsWith('received') === true;
  process.stderr.write(
    signalled ? `[bench] ${aborted}: no figures\n` : `${(err as Error).stack ?? String(err)}\n`,
  );
  process.exitCode = signalled ? 130 : 1;
});

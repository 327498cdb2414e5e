import { startStackWhileBundling } from './stack-start';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../common/config';
import { dataConverterFor } from '../common/payload-codec';
import { SCORE_CLOSE_GRACE_MS } from '../common/evaluation';
import { createMailRenderer } from '../mail/renderer';
import { connectDatabase } from '../models';
import type { Models } from '../models';
import { bumpOrgRevision } from '../models/org-revision';
import { startApi } from '../server';
import type { Principal } from '../services/auth';
import { createDefinitionService } from '../services/definitions';
import { createEvaluationService } from '../services/evaluations';
import { createScopeResolver } from '../services/scope';
import { startWorker } from '../worker';
import { progress } from './run-control';
import type { Stoppable } from './servers';

/**
 * An evaluation round at scale (`npm run bench:round -- --orders 3000`): on a throw-away local
 * stack, N closed orders of a street, a round over them with three scorer groups (the residents
 * who filed them, a co-building unit's liaison, a community's social organisation), every order
 * scored by each group through the API's evaluation service in parallel batches, then the close.
 * Prints the seconds to submit all scores, the seconds the closing activity took to compute and
 * freeze the results, and the round execution's history (events, bytes). Progress on stderr.
 * `benchEvaluationRound` is exported for a later `bench:scale`.
 */

export interface RoundBenchOptions {
  /** Closed orders in the round. */
  orders: number;
  /** Scores per request (one group, one scorer). */
  batch: number;
  /** Requests in flight at once. */
  parallel: number;
  /** How long the round stays open (it must outlast the opening and all submissions). */
  openSeconds: number;
}

export interface RoundBenchResult {
  orders: number;
  scores: number;
  requests: number;
  submitSeconds: number;
  /** Requests the API undid past its write budget (503) and the bench sent again. */
  retried: number;
  computeSeconds: number;
  historyEvents: number;
  historyBytes: number;
  /** From the start of the case to the end of the close, grace period and idle wait included. */
  totalSeconds: number;
}

/** Chosen: a page of a scorer's work list, as the console submits it. */
const DEFAULT_BATCH = 50;
/** Chosen: about as many scorers at work at the same moment as one street has. */
const DEFAULT_PARALLEL = 8;
/** Chosen: a request the API undid (503, past its write budget) is sent again up to this often. */
const MAX_ATTEMPTS = 10;

/**
 * Chosen: the opening activity (about 20 ms an order measured on FerretDB/SQLite at 3,000
 * orders) and the submissions (about 30 ms a score on two shared cores, 3 scores an order), half
 * as much again, and at least a minute.
 */
export function defaultOpenSeconds(orders: number): number {
  return Math.max(60, Math.ceil(orders * (0.02 + 3 * 0.03) * 1.5));
}

const ADMIN_KEY = `gfk_bench_round_${randomBytes(24).toString('base64url')}`;
const ROUND_KEY = 'bench-evaluation-round';
const DAY = 86_400_000;

function roundDefinition(openSeconds: number): string {
  return `
key: ${ROUND_KEY}
name: 评单评议基准
starters: [admin]
roles:
  - { key: social-organisation, label: 社会组织代表 }
input:
  fields:
    - { name: note, label: 备注, type: string }
steps:
  - id: scoring
    name: 评单打分
    type: evaluation
    orders:
      from: 'addDays(date(case.receivedAt), -60)'
      to: 'addDays(date(case.receivedAt), 1)'
      definitions: [resident-request]
    groups:
      - { id: residents, name: 服务对象（居民）, weight: 50, scorers: requester }
      - id: units
        name: 共建单位
        weight: 30
        scorers: [{ role: liaison, unitsOfType: cobuilding, under: case }]
      - id: organisations
        name: 社会组织
        weight: 20
        scorers: [{ role: social-organisation, unitsOfType: community, under: case }]
    responsible: secretary
    within: PT${openSeconds}S
  - { id: closed, name: 评议结束, type: end }
`;
}

/** A street with a community, a grid and a co-building unit; one scorer per selector group. */
async function seedOrg(models: Models, orders: number) {
  const { Unit, Person, Post, Case } = models;
  const now = new Date();
  const units = [
    { _id: 'b-street', name: '基准街道', type: 'street', parentId: null },
    { _id: 'b-community', name: '基准社区', type: 'community', parentId: 'b-street' },
    { _id: 'b-grid', name: '基准网格', type: 'grid', parentId: 'b-community' },
    { _id: 'b-cobuilding', name: '共建单位', type: 'cobuilding', parentId: 'b-street' },
  ];
  await Unit.insertMany(units.map((u) => ({ ...u, updatedAt: now })));
  const people = [
    { label: 'liaison', unit: 'b-cobuilding', role: 'liaison' },
    { label: 'organisation', unit: 'b-community', role: 'social-organisation' },
    { label: 'secretary', unit: 'b-street', role: 'secretary' },
  ];
  for (const p of people) {
    await Person.create({
      _id: `p-${p.label}`,
      name: p.label,
      email: `${p.label}@example.test`,
      userId: `usr-${p.label}`,
      updatedAt: now,
    });
    await Post.create({
      _id: `${p.unit}:${p.role}:p-${p.label}`,
      unitId: p.unit,
      role: p.role,
      personId: `p-${p.label}`,
    });
  }
  await bumpOrgRevision(models);
  const resident = 'usr-resident';
  const ids = Array.from({ length: orders }, (_, i) => `case-bench${String(i).padStart(19, '0')}`);
  // Closed orders as the case service leaves them, in slices (one insert each).
  for (let i = 0; i < ids.length; i += 500) {
    await Case.insertMany(
      ids.slice(i, i + 500).map((id, j) => ({
        _id: id,
        revision: 5,
        status: 'closed',
        definitionKey: 'resident-request',
        definitionVersion: 1,
        definitionName: '居民诉求',
        data: {},
        createdBy: { kind: 'user', id: resident },
        unitId: (i + j) % 2 === 0 ? 'b-grid' : 'b-community',
        channel: 'api',
        requestHash: 'bench',
        createdAt: new Date(now.getTime() - 31 * DAY),
        updatedAt: now,
        closedAt: new Date(now.getTime() - 30 * DAY + (i + j) * 1000),
        rating: null,
      })),
    );
  }
  return { ids, resident };
}

/** Runs `tasks` with at most `limit` in flight. */
async function inParallel(tasks: Array<() => Promise<unknown>>, limit: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
}

async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** How long the closing activity ran (scheduled to completed), from the round's history. */
function closeSeconds(history: temporal.api.history.v1.IHistory): number {
  const events = history.events ?? [];
  const scheduled = events.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'closeEvaluationRound',
  );
  const completed = events.find(
    (e) =>
      e.activityTaskCompletedEventAttributes &&
      String(e.activityTaskCompletedEventAttributes.scheduledEventId) ===
        String(scheduled?.eventId),
  );
  const ms = (e: typeof scheduled) => {
    const t = e?.eventTime;
    return t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN;
  };
  return (ms(completed) - ms(scheduled)) / 1000;
}

/** Starts a stack in `tempDir`, runs the round, stops everything it started (also on failure). */
export async function benchEvaluationRound(
  options: Partial<RoundBenchOptions> & { orders: number },
  tempDir?: string,
): Promise<RoundBenchResult> {
  const opts: RoundBenchOptions = {
    batch: DEFAULT_BATCH,
    parallel: DEFAULT_PARALLEL,
    openSeconds: defaultOpenSeconds(options.orders),
    ...options,
  };
  const dir = tempDir ?? (await mkdtemp(path.join(tmpdir(), 'governance-flow-bench-round-')));
  const running: Stoppable[] = [];
  try {
    const workflowBundle = path.join(dir, 'engine-workflows.js');
    const stack = await startStackWhileBundling(
      dir,
      [{ out: workflowBundle }],
      running,
      'Bundling the workflows',
    );
    const config = loadConfig({
      ...stack.env,
      API_PORT: '0',
      LOG_LEVEL: 'warn',
      TEMPORAL_TASK_QUEUE: 'bench-round',
    });
    const worker = await startWorker(config, { workflowBundle: { codePath: workflowBundle } });
    running.push({ name: 'worker', stop: () => worker.stop() });
    const api = await startApi(config, { definitionsDir: null });
    running.push({ name: 'API', stop: () => api.stop() });
    await api.ensureBootstrapAdminKey(ADMIN_KEY);
    const db = await connectDatabase(config.MONGODB_URI);
    running.push({ name: 'database', stop: () => db.close() });
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    running.push({ name: 'Temporal client', stop: () => connection.close() });
    const client = new Client({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      dataConverter: dataConverterFor(config.TEMPORAL_CODEC_KEYS),
    });

    const { ids, resident } = await progress.step(`Loading ${opts.orders} closed orders`, () =>
      seedOrg(db.models, opts.orders),
    );
    const definitions = createDefinitionService(db.models, createMailRenderer().templateNames);
    await definitions.publish({
      source: roundDefinition(opts.openSeconds),
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'bench' },
    });
    const started = Date.now();
    const res = await fetch(`${api.url}/api/v1/cases`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': 'application/json',
        'idempotency-key': `bench-round-${randomBytes(8).toString('hex')}`,
      },
      body: JSON.stringify({ definitionKey: ROUND_KEY, unitId: 'b-street', data: {} }),
    });
    if (!res.ok) throw new Error(`the round did not start: ${res.status} ${await res.text()}`);
    const roundId = ((await res.json()) as { id: string }).id;
    const handle: WorkflowHandle = client.workflow.getHandle(roundId);
    await progress.step('Opening the round', () =>
      waitFor(
        'the round to open',
        async () => (await db.models.EvaluationRound.exists({ _id: roundId })) !== null,
        opts.openSeconds * 1000,
      ),
    );
    const round = await db.models.EvaluationRound.findById(roundId, { itemCount: 1 }).lean();
    if (round?.itemCount !== opts.orders) {
      throw new Error(`the round holds ${round?.itemCount} orders, not ${opts.orders}`);
    }

    const evaluations = createEvaluationService({
      models: db.models,
      temporal: client,
      callTimeoutMs: config.TEMPORAL_CALL_TIMEOUT_MS,
      scope: createScopeResolver(db.models),
    });
    const principal = (id: string, roles: Principal['roles']): Principal => ({
      kind: 'user',
      id,
      roles,
      unitIds: [],
    });
    const scorers: Array<[Principal, string, number]> = [
      [principal(resident, ['resident']), 'residents', 5],
      [principal('usr-liaison', ['staff']), 'units', 4],
      [principal('usr-organisation', ['staff']), 'organisations', 3],
    ];
    let retried = 0;
    /** As a client does: a 503 (the write undone past its budget) is sent again after Retry-After. */
    const submit = async (send: () => Promise<unknown>) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await send();
        } catch (err) {
          const wait = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
          if (wait === undefined || attempt >= MAX_ATTEMPTS) throw err;
          retried++;
          await new Promise((r) => setTimeout(r, wait * 1000));
        }
      }
    };
    const requests: Array<() => Promise<unknown>> = [];
    for (let i = 0; i < ids.length; i += opts.batch) {
      for (const [who, group, n] of scorers) {
        const page = ids.slice(i, i + opts.batch);
        requests.push(() =>
          submit(() =>
            evaluations.submitScores(
              who,
              roundId,
              {
                group,
                scores: page.map((item) => ({
                  item,
                  values: { quality: n, duration: n, satisfaction: n },
                })),
              },
              undefined,
            ),
          ),
        );
      }
    }
    const submitStarted = Date.now();
    await progress.step(`Submitting ${ids.length * 3} scores in ${requests.length} requests`, () =>
      inParallel(requests, opts.parallel),
    );
    const submitSeconds = (Date.now() - submitStarted) / 1000;
    const closesAt = started + opts.openSeconds * 1000;
    if (Date.now() >= closesAt) {
      throw new Error(`the scores took longer than the round was open: raise --open-seconds`);
    }
    await progress.step(
      `Waiting for the close (${Math.round((closesAt - Date.now()) / 1000)} s open, then ${SCORE_CLOSE_GRACE_MS / 1000} s grace)`,
      () => handle.result(),
    );
    const totalSeconds = (Date.now() - started) / 1000;
    const history = await handle.fetchHistory();
    const stored = await db.models.EvaluationRound.findById(roundId, { results: 1 }).lean();
    const overall = (stored?.results as { overall?: { scored?: number } } | null)?.overall;
    if (overall?.scored !== opts.orders) {
      throw new Error(`the results count ${overall?.scored} scored orders, not ${opts.orders}`);
    }
    return {
      orders: opts.orders,
      scores: ids.length * 3,
      requests: requests.length,
      submitSeconds,
      retried,
      computeSeconds: closeSeconds(history),
      historyEvents: history.events?.length ?? 0,
      historyBytes: temporal.api.history.v1.History.encode(history).finish().length,
      totalSeconds,
    };
  } finally {
    for (const thing of running.reverse()) {
      await thing
        .stop()
        .catch((err: unknown) => progress.info(`stopping ${thing.name}: ${String(err)}`));
    }
    if (tempDir === undefined) await rm(dir, { recursive: true, force: true });
  }
}

/** `--orders N` (default 3000), `--batch`, `--parallel`, `--open-seconds`. */
export function parseRoundOptions(argv: readonly string[]): RoundBenchOptions {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!;
    const value = argv[i + 1];
    if (!name.startsWith('--') || value === undefined) {
      throw new Error(`expected --flag value pairs, got "${argv.slice(i).join(' ')}"`);
    }
    flags[name.slice(2)] = value;
  }
  const known = ['orders', 'batch', 'parallel', 'open-seconds'];
  for (const name of Object.keys(flags)) {
    if (!known.includes(name)) throw new Error(`unknown flag --${name} (${known.join(', ')})`);
  }
  const positive = (name: string, fallback: number) => {
    const raw = flags[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: a whole number above 0`);
    return n;
  };
  const orders = positive('orders', 3000);
  return {
    orders,
    batch: positive('batch', DEFAULT_BATCH),
    parallel: positive('parallel', DEFAULT_PARALLEL),
    openSeconds: positive('open-seconds', defaultOpenSeconds(orders)),
  };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const options = parseRoundOptions(process.argv.slice(2));
  const r = await benchEvaluationRound(options);
  const line = (s: string) => process.stdout.write(`${s}\n`);
  line(
    `submit: ${r.scores} scores in ${r.requests} requests in ${r.submitSeconds.toFixed(1)} s (${r.retried} sent again after a 503)`,
  );
  line(`compute: results in ${r.computeSeconds.toFixed(1)} s`);
  line(`history: ${r.historyEvents} events, ${r.historyBytes} bytes`);
  line(`wall: ${r.totalSeconds.toFixed(1)} s from the start to the close (open window and grace)`);
  // The round's own work: submitting every score and computing the results.
  const work = r.submitSeconds + r.computeSeconds;
  line(
    `round: ${r.orders} orders in ${work.toFixed(1)} s, history ${r.historyEvents} events ${r.historyBytes} bytes`,
  );
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      const details = (err as { details?: unknown }).details;
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      if (details !== undefined) process.stderr.write(`${JSON.stringify(details)}\n`);
      process.exit(1);
    },
  );
}

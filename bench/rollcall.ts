import { startStackWhileBundling, storeLabel } from './stack-start';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../common/config';
import { dataConverterFor } from '../common/payload-codec';
import { createMailRenderer } from '../mail/renderer';
import { connectDatabase } from '../models';
import type { Models } from '../models';
import { emptyOutboxStats, type OutboxStats } from '../activities/outbox';
import { rosterEntriesInserted } from '../activities/roll-calls';
import { startApi } from '../server';
import { createDefinitionService } from '../services/definitions';
import { PROJECT_ROOT, stackDirs } from '../stack/paths';
import { randomPorts } from '../stack/stack';
import { startWorker } from '../worker';
import { expectStatus, http, keepAlive } from './http';
import { cpuMeter, watchLoad } from './machine';
import type { StoreCommandTally } from './store-profile';
import { storeProfile, storeProfileLines, withCommandMonitoring } from './store-profile';
import {
  abort,
  abortedBecause,
  abortedBySignal,
  abortOnSignal,
  progress,
  sleep,
  throwIfAborted,
} from './run-control';
import type { CalledPerson } from './rollcall-org';
import { buildCity, COUNTY_ID, importChunks, isMissing, writeAccounts } from './rollcall-org';
import type { Stoppable } from './servers';

/**
 * Roll-call scale benchmark (`npm run bench:rollcall -- --people 10000 --compounds 300`), the
 * roll-call part of issue 14's scale benchmark: on a throw-away local stack, a city-like org tree
 * where `emergency-compound` calls exactly `--people` people across `--compounds` compounds; one
 * county-wide `emergency-activation` through the API; everyone but `--missing` percent reports in
 * through the API with their own session; then the figures (see bench/README.md). Progress goes
 * to stderr, the figures to stdout. `runRollcall` is exported for a later `bench:scale`.
 */

export interface RollcallOptions {
  people: number;
  compounds: number;
  /** Percent of the people who never report. */
  missing: number;
  /** The roll-call's deadline in seconds; the other durations are scaled from it. */
  deadline: number;
  /** Report-ins in flight at once. */
  concurrency: number;
  /**
   * The engine worker (with its outbox dispatcher) and the SMTP sink each in a process of its
   * own, as deployed (bench/rollcall-child.ts); otherwise all on the bench's event loop.
   */
  split: boolean;
  /**
   * Tally every store command by process, command and collection (driver command monitoring;
   * costs a little CPU in each process).
   */
  profile: boolean;
}

/** Defaults (chosen): the issue's city; 90 s stands for the shipped 30 minutes. */
export const ROLLCALL_DEFAULTS: RollcallOptions = {
  people: 10_000,
  compounds: 300,
  missing: 10,
  deadline: 90,
  concurrency: 16,
  split: false,
  profile: false,
};

export interface RollcallFigures {
  options: RollcallOptions;
  reporters: number;
  missingPeople: number;
  /** Seconds from the activation request until… */
  seconds: {
    /** …every compound case was started (the fan-out's workflow starts). */
    casesStarted: number;
    /** …every roster entry was written. */
    rosterWritten: number;
    /** …every `task-assigned` mail was sent: all called (the later of the two). */
    called: number;
  };
  acks: {
    count: number;
    perSecond: number;
    p50Ms: number;
    p95Ms: number;
    /** Report-ins the API took (HTTP 200): what the activation's figures must add up to. */
    accepted: number;
    /** Refused because the compound's roll-call had closed (a late report, HTTP 409). */
    refusedClosed: number;
    /** Every other failure (no task for the person, another status). */
    failed: number;
  };
  /** Seconds from a compound's deadline until its first escalation mail was sent (worst). */
  escalationSeconds: number;
  escalatedCompounds: number;
  /** Compounds with someone missing and no escalation mail at all (issue 14 forbids any). */
  unescalatedCompounds: number;
  maxHistory: { events: number; bytes: number; executions: number };
  mails: {
    expected: number;
    delivered: number;
    duplicates: number;
    taskAssigned: number;
    byTemplate: Record<string, number>;
  };
  activation: {
    status: string;
    expected: number | null;
    acknowledged: number | null;
    missing: number | null;
  };
  /** 1-minute load averages sampled during the run. */
  loads: number[];
  /** The worker's outbox dispatcher's counters at the end of the run. */
  outbox: OutboxStats;
  /** CPU seconds each process had used when the roster was written, when all were called, at the end. */
  cpu: Array<{ at: string; seconds: number; byProcess: Record<string, number> }>;
  /** With `--profile`: the store commands of each process (label: command collection). */
  store: StoreCommandTally;
}

/** What the worker reports over IPC (bench/rollcall-child.ts). */
interface WorkerReport {
  outbox: OutboxStats;
  /** Roster entries its `openRollCall`s inserted. */
  roster: number;
  store: StoreCommandTally;
}

const ADMIN_KEY = `gfk_rollcall_${randomBytes(24).toString('base64url')}`;
const DATABASE = 'bench_rollcall';
/** How often the script polls the store while it waits (chosen). */
const POLL_MS = 2_000;
/** The longest any phase may take before the run fails (chosen). */
const PHASE_TIMEOUT_MS = 30 * 60_000;

/**
 * The shipped emergency-compound with its durations scaled to `deadline` seconds: the 30-minute
 * deadline → D, the reminder 10 minutes before → D/3 before, escalations at the deadline, +D/3 and
 * +2D/3 (shipped: +30 min, +1 h), the 2-hour window → 8D/3. Derived from the YAML text, so the
 * process stays the shipped one.
 */
export function scaledCompoundSource(source: string, deadline: number): string {
  const third = Math.round(deadline / 3);
  const swaps: Array<[RegExp, string]> = [
    [/within: PT2H\b/, `within: PT${Math.round((deadline * 8) / 3)}S`],
    [/within: PT30M\b/, `within: PT${deadline}S`],
    [/before: PT10M\b/, `before: PT${third}S`],
    [/after: PT30M\b/, `after: PT${third}S`],
    [/after: PT1H\b/, `after: PT${2 * third}S`],
  ];
  let out = source;
  for (const [pattern, replacement] of swaps) {
    if (!pattern.test(out)) {
      throw new Error(`definitions/emergency-compound.yaml no longer has ${String(pattern)}`);
    }
    out = out.replace(pattern, replacement);
  }
  return out;
}

/** Waits until `check` answers something, polling every POLL_MS. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    throwIfAborted();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs the benchmark in its own temporary folder and stops everything it started. */
export async function runRollcall(
  options: RollcallOptions,
  onServers: (pids: number[], tempDir: string) => void = () => undefined,
): Promise<RollcallFigures> {
  const tempDir = await mkdtemp(path.join(tmpdir(), 'governance-flow-rollcall-'));
  const running: Stoppable[] = [];
  try {
    return await measure(options, tempDir, running, (pids) => onServers(pids, tempDir));
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

async function measure(
  options: RollcallOptions,
  tempDir: string,
  running: Stoppable[],
  onServers: (pids: number[]) => void,
): Promise<RollcallFigures> {
  const city = buildCity(options.people, options.compounds);
  // The same folders startStackWhileBundling gives the stack: the sink's mail is read from them.
  const dirs = stackDirs({ dataDir: path.join(tempDir, 'stack') });
  const engineBundle = path.join(tempDir, 'engine-workflows.js');
  const stack = await startStackWhileBundling(
    tempDir,
    [{ out: engineBundle }],
    running,
    undefined,
    options.split ? ['temporal', 'mongodb', 'webhooks'] : undefined,
  );
  onServers(stack.pids);
  void stack.failure.then(abort);
  throwIfAborted();

  const env: NodeJS.ProcessEnv = {
    ...stack.env,
    MONGODB_URI: stack.env.MONGODB_URI!.replace(/\/[^/]*$/, `/${DATABASE}`),
    API_PORT: '0',
    LOG_LEVEL: 'warn',
    // The benchmark measures the engine, not the limits: thousands report in from one address.
    RATE_LIMIT_CASE_START: 'off',
    RATE_LIMIT_CASE_START_ADDRESS: 'off',
  };
  if (options.profile) env.MONGODB_URI = withCommandMonitoring(env.MONGODB_URI!);
  const profile = options.profile ? storeProfile() : null;
  /** The worker's report as last heard (polled every POLL_MS), and a fresh one. */
  let workerReport: () => WorkerReport;
  let finalWorkerReport: () => Promise<WorkerReport>;
  const cpuHosts: Array<{ pid: number; name: string }> = [];
  if (options.split) {
    const ports = await randomPorts();
    const sink = await startChild(
      'SMTP sink',
      ['sink', dirs.mail, String(ports.smtp), String(ports.mailHttp)],
      env,
      running,
    );
    env.SMTP_URL = `smtp://127.0.0.1:${ports.smtp}`;
    const child = await startChild('engine worker', ['worker', engineBundle], env, running);
    cpuHosts.push({ pid: child.pid!, name: 'worker' }, { pid: sink.pid!, name: 'SMTP sink' });
    let last: WorkerReport = { outbox: emptyOutboxStats(), roster: 0, store: {} };
    const ask = () =>
      new Promise<WorkerReport>((resolve) => {
        const onMessage = (message: { stats?: WorkerReport }) => {
          if (!message.stats) return;
          child.off('message', onMessage);
          last = message.stats;
          resolve(message.stats);
        };
        child.on('message', onMessage);
        child.send('stats');
      });
    const poll = setInterval(() => void ask(), POLL_MS);
    running.push({ name: 'stats poll', stop: () => Promise.resolve(clearInterval(poll)) });
    workerReport = () => last;
    finalWorkerReport = ask;
  } else {
    const worker = await startWorker(loadConfig(env), {
      workflowBundle: { codePath: engineBundle },
    });
    running.push({ name: 'engine worker', stop: () => worker.stop() });
    profile?.attach('worker (bench process)');
    workerReport = () => ({
      outbox: worker.outboxStats(),
      roster: rosterEntriesInserted.count,
      store: {},
    });
    finalWorkerReport = () => Promise.resolve(workerReport());
  }
  const outboxStats = () => workerReport().outbox;
  const cpu = cpuMeter(stack.pids, cpuHosts);
  const cpuFigures: RollcallFigures['cpu'] = [];
  const config = loadConfig(env);
  const api = await startApi(config, { definitionsDir: null });
  running.push({ name: 'API', stop: () => api.stop() });
  profile?.attach('API (bench process)');
  running.push({ name: 'HTTP client', stop: () => Promise.resolve(keepAlive.destroy()) });
  await api.ensureBootstrapAdminKey(ADMIN_KEY);
  const db = await connectDatabase(config.MONGODB_URI);
  running.push({ name: 'database connection', stop: () => db.close() });
  profile?.attach('bench polls and checks');
  const models = db.models;
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  running.push({ name: 'Temporal client', stop: () => connection.close() });
  const client = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverterFor(config.TEMPORAL_CODEC_KEYS),
  });

  // The processes: the activation as shipped, the compound roll-call with its durations scaled.
  const definitions = createDefinitionService(models, createMailRenderer().templateNames);
  const shipped = (name: string) =>
    readFile(path.join(PROJECT_ROOT, 'definitions', `${name}.yaml`), 'utf8');
  for (const source of [
    scaledCompoundSource(await shipped('emergency-compound'), options.deadline),
    await shipped('emergency-activation'),
  ]) {
    await definitions.publish({
      source,
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'bench' },
    });
  }

  await progress.step(`Writing ${city.called.length} accounts and sessions`, () =>
    writeAccounts(models, city.called),
  );
  const chunks = importChunks(city.org);
  await progress.step(`Importing the org tree in ${chunks.length} request(s)`, async () => {
    for (const chunk of chunks) {
      const imported = await http(api.url, 'POST', '/api/v1/org/import', {
        token: ADMIN_KEY,
        body: chunk,
      });
      expectStatus('importing the org tree', imported, 200);
    }
  });

  const load = watchLoad();
  const people = city.called;
  const missingPeople = people.filter((p) => isMissing(p.index, options.missing)).length;
  const started = Date.now();
  const since = () => (Date.now() - started) / 1000;
  const activation = await http<{ id: string }>(api.url, 'POST', '/api/v1/cases', {
    token: ADMIN_KEY,
    headers: { 'idempotency-key': `rollcall-${randomBytes(8).toString('hex')}` },
    body: {
      definitionKey: 'emergency-activation',
      unitId: COUNTY_ID,
      data: { reason: '基准测试：一键启动' },
    },
  });
  expectStatus('starting the activation', activation, 201, 200, 202);
  const activationId = activation.body.id;

  // People report in as soon as the roster is written, while the call mails still go out (as
  // they would: a called person may hear of it by phone before the mail arrives).
  let casesStarted: number | undefined;
  let exactCountAt = 0;
  const rosterWritten = await progress.step(`Writing the roster of ${people.length} people`, () =>
    waitFor('the roster to be written', async () => {
      if (casesStarted === undefined) {
        const cases = await models.Case.countDocuments({ definitionKey: 'emergency-compound' });
        if (cases >= options.compounds) casesStarted = since();
      }
      // The worker's count of the entries it inserted, then one exact count to confirm it: on
      // FerretDB v1 a count converts every entry, and counting 10,000 every 2 s was a
      // measurable part of the store's CPU (bench/README.md). The worker's count can fall short
      // (an insert that failed on the wire after the store wrote it, then retried: all
      // duplicates), so the exact count also runs every 15 s (chosen).
      const at = since();
      if (workerReport().roster < options.people && at - exactCountAt < 15) return undefined;
      exactCountAt = at;
      const written = await models.RollCallEntry.countDocuments({});
      progress.info(
        `  ${at.toFixed(0)} s: roster entries ${written} (the worker counted ${workerReport().roster})`,
      );
      return written >= options.people ? at : undefined;
    }),
  );
  cpuFigures.push({ at: 'roster written', seconds: since(), byProcess: cpuSeconds(cpu) });
  progress.info(`  ${cpuLine(cpuFigures.at(-1)!)}`);
  const [seconds, acks] = await Promise.all([
    progress.step(`Mailing ${people.length} calls`, () =>
      callMails(models, options, since, rosterWritten, casesStarted, outboxStats, () => {
        cpuFigures.push({ at: 'all called', seconds: since(), byProcess: cpuSeconds(cpu) });
        progress.info(`  ${cpuLine(cpuFigures.at(-1)!)}`);
      }),
    ),
    progress.step(`${people.length - missingPeople} people reporting in`, () =>
      reportIn(api.url, models, people, options),
    ),
  ]);
  cpuFigures.push({
    at: 'calls and report-ins done',
    seconds: since(),
    byProcess: cpuSeconds(cpu),
  });
  await progress
    .step('Waiting for the activation to close', () =>
      waitFor('the activation to close', async () => {
        const doc = await models.Case.findById(activationId, { status: 1 }).lean();
        return doc && doc.status !== 'open' ? true : undefined;
      }),
    )
    .catch(async (err: unknown) => {
      // Say where it stands before the stack is removed: a run that cannot close is a finding.
      const lines = await whyStillOpen(models, client, activationId).catch((why: unknown) => [
        `(where it stands could not be read: ${String(why)})`,
      ]);
      for (const line of lines) progress.info(line);
      throw err;
    });
  await progress.step('Waiting for the outbox to drain', () =>
    waitFor('the outbox to drain', async () => {
      // One equality count per status: FerretDB v1 hands those to PostgreSQL's index, an `$in`
      // it applies to every row itself.
      for (const status of ['pending', 'sending'] as const) {
        if ((await models.Outbox.countDocuments({ status })) > 0) return undefined;
      }
      return true;
    }),
  );
  const loads = load.stop();
  cpuFigures.push({ at: 'end', seconds: since(), byProcess: cpuSeconds(cpu) });
  const escalation = await escalationLatency(models, options.deadline);
  const mails = await mailFigures(models, dirs.mail);
  const maxHistory = await progress.step('Reading every execution history', () =>
    largestHistory(client),
  );
  return {
    options,
    reporters: people.length - missingPeople,
    missingPeople,
    seconds,
    acks,
    escalationSeconds: escalation.seconds,
    escalatedCompounds: escalation.compounds,
    unescalatedCompounds: escalation.unescalated,
    maxHistory,
    mails,
    activation: await activationFigures(models, activationId),
    loads,
    ...(await finalWorkerReport().then((report) => ({
      outbox: report.outbox,
      store: { ...report.store, ...(profile?.tally() ?? {}) },
    }))),
    cpu: cpuFigures,
  };
}

/** CPU seconds used so far by each process (bench/machine.ts). */
function cpuSeconds(meter: ReturnType<typeof cpuMeter>): Record<string, number> {
  return Object.fromEntries([...meter.read()].map(([name, ms]) => [name, ms / 1000]));
}

/**
 * Forks bench/rollcall-child.ts (with this process's `--import tsx`, and `--cpu-prof` when
 * profiling) and waits until it is ready; it is stopped with the rest.
 */
async function startChild(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  running: Stoppable[],
): Promise<ReturnType<typeof fork>> {
  const child = fork(path.join(PROJECT_ROOT, 'bench', 'rollcall-child.ts'), args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the ${name} exited (code ${code}) at start`)));
  });
  running.push({
    name,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  });
  return child;
}

/**
 * Polls until every compound case has started and every `task-assigned` mail is sent (the roster
 * was written `rosterWritten` seconds in).
 */
async function callMails(
  models: Models,
  options: RollcallOptions,
  since: () => number,
  rosterWritten: number,
  startedBefore: number | undefined,
  /** The dispatcher's counters so far (polled), printed with each progress line. */
  outbox: () => OutboxStats,
  /** Told once every call is out. */
  onCalled: () => void,
): Promise<RollcallFigures['seconds']> {
  let casesStarted = startedBefore;
  let last = 0;
  let exactCountAt = since();
  return waitFor('every call mail to be sent', async () => {
    if (casesStarted === undefined) {
      const cases = await models.Case.countDocuments({ definitionKey: 'emergency-compound' });
      if (cases >= options.compounds) casesStarted = since();
    }
    // The dispatcher's count, then one exact count of the outbox's rows to confirm it (on
    // FerretDB v1 a count converts every row it matches).
    const counted = outbox().sentByTemplate['task-assigned'] ?? 0;
    if (since() - last >= 15) {
      last = since();
      progress.info(`  ${since().toFixed(0)} s: call mails sent ${counted}/${options.people}`);
      progress.info(`  ${outboxLine(outbox())}`);
    }
    if (casesStarted === undefined) return undefined;
    // Also every 15 s (chosen), should the dispatcher's count fall short of the rows.
    const at = since();
    if (counted < options.people && at - exactCountAt < 15) return undefined;
    exactCountAt = at;
    const sent = await models.Outbox.countDocuments({ template: 'task-assigned', status: 'sent' });
    if (sent < options.people) return undefined;
    onCalled();
    return { casesStarted, rosterWritten, called: Math.max(at, rosterWritten) };
  });
}

/** Everyone but the missing claims their roll-call task with their own session. */
async function reportIn(
  baseUrl: string,
  models: Models,
  people: CalledPerson[],
  options: RollcallOptions,
): Promise<RollcallFigures['acks']> {
  // Which task calls whom: read from the roster (the bench's look-up, not part of the figure).
  const entries = await models.RollCallEntry.find({}, { userId: 1, taskId: 1 }).lean();
  const taskOf = new Map(entries.map((e) => [e.userId, e.taskId]));
  const queue = people.filter((p) => !isMissing(p.index, options.missing));
  const latencies: number[] = [];
  let failed = 0;
  let accepted = 0;
  let refusedClosed = 0;
  let next = 0;
  const started = Date.now();
  const lane = async () => {
    while (next < queue.length) {
      throwIfAborted();
      const person = queue[next++]!;
      const taskId = taskOf.get(person.userId);
      if (!taskId) {
        failed += 1;
        continue;
      }
      const t0 = Date.now();
      const res = await http(baseUrl, 'POST', `/api/v1/tasks/${taskId}/claim`, {
        token: person.token,
        body: {},
      });
      latencies.push(Date.now() - t0);
      if (res.status === 200) {
        accepted += 1;
      } else if (res.status === 409 && JSON.stringify(res.body).includes('roll-call is closed')) {
        // A late report: the compound's window had ended (a slow run), not an engine failure.
        refusedClosed += 1;
      } else {
        failed += 1;
        if (failed <= 5) {
          progress.info(`  report-in refused: HTTP ${res.status} ${JSON.stringify(res.body)}`);
        }
      }
      if (latencies.length % 1_000 === 0) {
        progress.info(`  ${latencies.length}/${queue.length} reported`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    perSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    accepted,
    refusedClosed,
    failed,
  };
}

/**
 * The worst delay, over the compounds with someone missing, from the roll-call's deadline
 * (the task opened + the deadline) until its first escalation mail was sent.
 */
async function escalationLatency(
  models: Models,
  deadline: number,
): Promise<{ seconds: number; compounds: number; unescalated: number }> {
  const missingTasks = await models.RollCallEntry.distinct('taskId', { acknowledgedAt: null });
  const tasks = await models.Task.find(
    { _id: { $in: missingTasks } },
    { caseId: 1, openedAt: 1 },
  ).lean();
  const escalated = await models.Outbox.find(
    { template: 'roll-call-escalated' },
    { caseId: 1, sentAt: 1 },
  ).lean();
  const firstSent = new Map<string, number>();
  for (const mail of escalated) {
    const at = mail.sentAt?.getTime() ?? Infinity;
    firstSent.set(mail.caseId, Math.min(at, firstSent.get(mail.caseId) ?? Infinity));
  }
  let worst = 0;
  const unescalated: string[] = [];
  for (const task of tasks) {
    const sent = firstSent.get(task.caseId) ?? Infinity;
    const due = new Date(task.openedAt).getTime() + deadline * 1000;
    worst = Math.max(worst, (sent - due) / 1000);
    if (sent === Infinity) unescalated.push(task.caseId);
  }
  if (unescalated.length > 0) await describeUnescalated(models, unescalated, tasks, deadline);
  return { seconds: worst, compounds: tasks.length, unescalated: unescalated.length };
}

/**
 * Prints (stderr) each compound case with someone missing but no escalation mail: its status and
 * its timeline from the task's opening, in seconds after the deadline, so a run shows whether the
 * ladder fired (and its mail went nowhere) or never fired (and what the clock did instead).
 */
async function describeUnescalated(
  models: Models,
  caseIds: string[],
  tasks: Array<{ caseId: string; openedAt: Date | string }>,
  deadline: number,
): Promise<void> {
  progress.info(`${caseIds.length} compound case(s) with someone missing and no escalation mail:`);
  const dueOf = new Map(
    tasks.map((t) => [t.caseId, new Date(t.openedAt).getTime() + deadline * 1000]),
  );
  const docs = await models.Case.find(
    { _id: { $in: caseIds.slice(0, 5) } },
    { status: 1, timeline: 1 },
  ).lean();
  for (const doc of docs) {
    const due = dueOf.get(String(doc._id))!;
    progress.info(`  case ${String(doc._id)} (${doc.status}), seconds after the deadline:`);
    for (const entry of doc.timeline ?? []) {
      const at = ((new Date(entry.at).getTime() - due) / 1000).toFixed(1);
      progress.info(`    ${at} ${entry.type} ${JSON.stringify(entry.detail ?? {})}`);
    }
  }
}

/** Outbox rows of the run against the Message-IDs the SMTP sink received. */
async function mailFigures(models: Models, mailDir: string): Promise<RollcallFigures['mails']> {
  const rows = await models.Outbox.find({}, { template: 1, status: 1 }).lean();
  const byTemplate: Record<string, number> = {};
  for (const row of rows) byTemplate[row.template] = (byTemplate[row.template] ?? 0) + 1;
  const seen = new Map<string, number>();
  const files = (await readdir(mailDir)).filter((f) => f.endsWith('.json'));
  for (let i = 0; i < files.length; i += 200) {
    const summaries = await Promise.all(
      files
        .slice(i, i + 200)
        .map(async (f) => JSON.parse(await readFile(path.join(mailDir, f), 'utf8')) as object),
    );
    for (const summary of summaries) {
      const id = (summary as { messageId?: string | null }).messageId ?? `(none) ${seen.size}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  return {
    expected: rows.length,
    delivered: seen.size,
    duplicates: [...seen.values()].filter((n) => n > 1).length,
    taskAssigned: byTemplate['task-assigned'] ?? 0,
    byTemplate,
  };
}

/** The largest history (events, encoded bytes) of every execution the server holds. */
/**
 * Where an activation that did not close stands: its compound cases by status, the last entries
 * on its timeline, the executions still running by type, and for the first few still running
 * their pending activities (attempts, last failure) and latest history events.
 */
async function whyStillOpen(models: Models, client: Client, activationId: string) {
  const lines: string[] = ['why the activation is still open:'];
  const byStatus = await models.Case.aggregate<{ _id: string; n: number }>([
    { $match: { definitionKey: 'emergency-compound' } },
    { $group: { _id: '$status', n: { $sum: 1 } } },
  ]);
  lines.push(`  compound cases by status: ${byStatus.map((s) => `${s._id} ${s.n}`).join(', ')}`);
  const activation = await models.Case.findById(activationId, { timeline: 1 }).lean();
  const tail = (activation?.timeline ?? [])
    .slice(-5)
    .map((e) => `${e.type}${e.stepId ? `@${e.stepId}` : ''}`);
  lines.push(`  the activation's last entries: ${tail.join(', ')}`);
  const running = new Map<string, string[]>();
  for await (const wf of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
    running.set(wf.type, [...(running.get(wf.type) ?? []), wf.workflowId]);
  }
  lines.push(
    `  running executions: ${[...running].map(([type, ids]) => `${type} ${ids.length}`).join(', ') || 'none'}`,
  );
  for (const workflowId of [...running.values()].flat().slice(0, 3)) {
    const handle = client.workflow.getHandle(workflowId);
    const described = await handle.describe();
    for (const pending of described.raw.pendingActivities ?? []) {
      lines.push(
        `  ${workflowId}: pending ${pending.activityType?.name} attempt ${pending.attempt} ${pending.lastFailure?.message ?? ''}`,
      );
    }
    const events = (await handle.fetchHistory()).events ?? [];
    const last = events.slice(-4).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]);
    lines.push(`  ${workflowId}: ${events.length} events, last ${last.join(', ')}`);
  }
  return lines;
}

async function largestHistory(client: Client): Promise<RollcallFigures['maxHistory']> {
  const executions: Array<{ workflowId: string; runId: string }> = [];
  for await (const wf of client.workflow.list()) {
    executions.push({ workflowId: wf.workflowId, runId: wf.runId });
  }
  let events = 0;
  let bytes = 0;
  let next = 0;
  const lane = async () => {
    while (next < executions.length) {
      const { workflowId, runId } = executions[next++]!;
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      events = Math.max(events, history.events?.length ?? 0);
      bytes = Math.max(bytes, temporal.api.history.v1.History.encode(history).finish().length);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return { events, bytes, executions: executions.length };
}

/** The activation's status and its roll-call totals (the fan-out step's `step.completed`). */
async function activationFigures(
  models: Models,
  activationId: string,
): Promise<RollcallFigures['activation']> {
  const doc = await models.Case.findById(activationId, { status: 1, timeline: 1 }).lean();
  const completed = (doc?.timeline ?? []).find(
    (e) => e.type === 'step.completed' && e.stepId === 'compounds',
  );
  const detail = (completed?.detail ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    status: doc?.status ?? 'missing',
    expected: num(detail.expected),
    acknowledged: num(detail.acknowledged),
    missing: num(detail.missing),
  };
}

export function rollcallLines(f: RollcallFigures): string[] {
  const o = f.options;
  const loads = f.loads.length > 0 ? f.loads : [os.loadavg()[0]!];
  const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
  const check = (ok: boolean) => (ok ? 'ok' : 'MISMATCH');
  return [
    `rollcall run: ${o.people} people in ${o.compounds} compounds, ${o.missing}% never report, deadline ${o.deadline} s, ${o.concurrency} report-ins in flight; FerretDB on ${storeLabel()}`,
    `machine: ${os.cpus().length} CPUs; 1-min load average during the run ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (mean ${mean.toFixed(1)})`,
    `compound cases started: ${f.seconds.casesStarted.toFixed(1)} s after the activation request`,
    `roster entries written (all ${o.people}): ${f.seconds.rosterWritten.toFixed(1)} s`,
    `all called (roster written and every task-assigned mail sent): ${f.seconds.called.toFixed(1)} s`,
    `acknowledgements: ${f.acks.count} at ${f.acks.perSecond.toFixed(1)}/s (p50 ${f.acks.p50Ms} ms, p95 ${f.acks.p95Ms} ms): ${f.acks.accepted} accepted, ${f.acks.refusedClosed} refused as late (the roll-call had closed), ${f.acks.failed} failed`,
    `escalations: the last compound's first escalation mail sent ${f.escalationSeconds.toFixed(1)} s after its deadline (${f.escalatedCompounds} compounds with someone missing, ${f.unescalatedCompounds} of them without any escalation: ${check(f.unescalatedCompounds === 0)})`,
    `largest history: ${f.maxHistory.events} events, ${f.maxHistory.bytes} bytes (of ${f.maxHistory.executions} executions)`,
    `mails: ${f.mails.expected} expected (outbox rows: ${Object.entries(f.mails.byTemplate)
      .map(([t, n]) => `${t} ${n}`)
      .join(
        ', ',
      )}), ${f.mails.delivered} delivered, ${f.mails.duplicates} duplicates; task-assigned ${f.mails.taskAssigned} == ${o.people}: ${check(f.mails.taskAssigned === o.people)}`,
    // Against the report-ins the API took: a late one refused is missing, and said so above.
    `activation: ${f.activation.status}; expected ${f.activation.expected} (${check(f.activation.expected === o.people)}), acknowledged ${f.activation.acknowledged} (${check(f.activation.acknowledged === f.acks.accepted)}), missing ${f.activation.missing} (${check(f.activation.missing === o.people - f.acks.accepted)})${f.acks.accepted < f.reporters ? `; ${f.reporters - f.acks.accepted} of the ${f.reporters} who reported were not accepted` : ''}`,
    outboxLine(f.outbox),
    ...f.cpu.map(cpuLine),
    ...storeProfileLines(f.store, o.people),
    `rollcall: ${o.people} people called in ${f.seconds.called.toFixed(1)} s; ${f.acks.perSecond.toFixed(1)} acks/s; escalations ${f.escalationSeconds.toFixed(1)} s after the deadline; max history ${f.maxHistory.events} events ${f.maxHistory.bytes} bytes; mails ${f.mails.expected} expected, ${f.mails.delivered} delivered, ${f.mails.duplicates} duplicates`,
  ];
}

/** CPU seconds by process at one point of the run, largest first. */
function cpuLine(c: RollcallFigures['cpu'][number]): string {
  return `CPU seconds by process at ${c.at} (${c.seconds.toFixed(1)} s): ${Object.entries(
    c.byProcess,
  )
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${s.toFixed(1)}`)
    .join(', ')}`;
}

/** The dispatcher's counters: store operations per mail and where its time went. */
function outboxLine(o: OutboxStats): string {
  const per = (n: number) => (o.sent > 0 ? (n / o.sent).toFixed(2) : '-');
  const ms = Object.entries(o.ms)
    .map(([phase, total]) => `${phase} ${(total / 1000).toFixed(1)} s`)
    .join(', ');
  return `outbox dispatcher: ${o.sent} sent in ${o.batches} batches (${o.read} queue entries read, ${o.claimed} claimed, ${o.retried} retried, ${o.failed} failed); ${o.storeOps} store operations, ${per(o.storeOps)} per mail sent; time: ${ms}`;
}

export function parseRollcallOptions(argv: string[]): RollcallOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      people: { type: 'string' },
      compounds: { type: 'string' },
      missing: { type: 'string' },
      deadline: { type: 'string' },
      concurrency: { type: 'string' },
      split: { type: 'boolean' },
      profile: { type: 'boolean' },
    },
    strict: true,
  });
  const int = (
    name: Exclude<keyof RollcallOptions, 'split' | 'profile'>,
    min: number,
    max: number,
  ): number => {
    const raw = values[name];
    if (raw === undefined) return ROLLCALL_DEFAULTS[name];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`--${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
    }
    return n;
  };
  return {
    people: int('people', 1, 100_000),
    compounds: int('compounds', 1, 20_000),
    missing: int('missing', 0, 100),
    deadline: int('deadline', 15, 86_400),
    concurrency: int('concurrency', 1, 256),
    split: values.split ?? false,
    profile: values.profile ?? false,
  };
}

async function main(): Promise<void> {
  const options = parseRollcallOptions(process.argv.slice(2));
  let serverPids: number[] = [];
  let folder = '';
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (abortedBySignal()) {
        for (const pid of serverPids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        if (folder) rmSync(folder, { recursive: true, force: true });
        process.exit(130);
      }
      abortOnSignal(signal);
      progress.info(`${signal}: stopping and cleaning up (again to exit at once)`);
    });
  }
  const figures = await runRollcall(options, (pids, tempDir) => {
    serverPids = pids;
    folder = tempDir;
  });
  process.stdout.write(`${rollcallLines(figures).join('\n')}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      const reason = abortedBecause();
      process.stderr.write(
        `rollcall benchmark failed: ${reason ?? (err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`,
      );
      process.exit(1);
    },
  );
}

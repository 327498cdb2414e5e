import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { createCaseFailures } from '../../activities/case-failures';
import { loadConfig } from '../../common/config';
import { createLogger } from '../../common/logger';
import { dataConverterFor } from '../../common/payload-codec';
import { connectDatabase } from '../../models';
import { stackDirs } from '../../stack/paths';
import { freePort } from '../../stack/process';
import { randomPorts } from '../../stack/stack';
import type { SunkMail } from '../../stack/smtp-sink';
import type { Part } from './components';
import { logPath, nodePart, sleep, stackPart } from './components';
import type { CaseOutcome, ClientStats, ProcessKey } from './driver';
import { PROCESSES, createClient, driveCase } from './driver';

/**
 * `npm run chaos [-- --cases N] [-- --fast]`: a few hundred cases of shipped processes worked
 * through the API on a throw-away stack of its own (own data folder, own ports), while the
 * worker, the API, the Temporal dev server and FerretDB are killed with SIGKILL in turn and
 * started again, and the SMTP sink is stopped for longer than the mail retry window. Then it
 * waits for everything to settle, runs the reconciler once, and checks that nothing was lost,
 * nothing is stuck, mail went out once, and every case document agrees with its workflow.
 * See scripts/README.md.
 */

interface Options {
  cases: number;
  fast: boolean;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { cases: 300, fast: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--fast') options.fast = true;
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--cases') {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1 || value > 100_000) {
        throw new UsageError(`--cases needs a whole number from 1 to 100000, not "${argv[i]}"`);
      }
      options.cases = value;
    } else throw new UsageError(`unknown option "${arg}": use --cases N, --fast, --keep`);
  }
  return options;
}

class UsageError extends Error {}

/**
 * The run's clock. The mail retry window of the old in-workflow retries was ~19 minutes; the sink
 * stays down longer than that (20 min), or, with --fast, longer than that window scaled down 16x
 * (75 s, with the outbox's longest retry wait cut from 15 min to 10 s so mail leaves within
 * seconds of the sink's return). All chosen.
 */
function timings(fast: boolean) {
  return {
    /** Between two kills. */
    gapMs: fast ? 6_000 : 30_000,
    /** How long a killed part stays down. */
    downMs: fast ? 3_000 : 5_000,
    /** How long the SMTP sink stays down. */
    sinkDownMs: fast ? 75_000 : 20 * 60_000,
    /** How long the load lasts: case starts are spread over it. */
    loadMs: fast ? 150_000 : 30 * 60_000,
    /**
     * The longest the run waits, after the load, for its cases to be worked to their end and the
     * outbox to drain: a ceiling for a slow or shared machine, not a pause (a healthy run settles
     * within a minute or two). What is still open then is reported stuck.
     */
    settleMs: fast ? 15 * 60_000 : 60 * 60_000,
    mailRetryMaxBackoffSeconds: fast ? 10 : 900,
  };
}

const UNITS = { street: 'chaos-s1', community: 'chaos-c1', grid: 'chaos-g1' };
/**
 * Cases worked at once, at most (chosen: at 40, FerretDB on SQLite answered SQLITE_BUSY and
 * projection writes ran past their 30 s timeout on two shared cores; the run is about faults,
 * not throughput).
 */
const MAX_ACTIVE = 12;

async function main(options: Options): Promise<number> {
  const t = timings(options.fast);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'governance-flow-chaos-'));
  const dirs = stackDirs({ dataDir });
  const ports = await randomPorts();
  const apiPort = await freePort();
  const adminKey = `gfk_chaos_${randomBytes(24).toString('base64url')}`;
  const taskQueue = 'chaos-cases';
  const say = (line: string) =>
    process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  say(`data folder ${dataDir}; ${options.cases} cases${options.fast ? ', --fast' : ''}`);

  const env: Record<string, string> = {};
  let sinkUrl = '';
  const temporal = stackPart('temporal', 'temporal', dirs, ports, (e) => Object.assign(env, e));
  const store = stackPart('ferretdb', 'mongodb', dirs, ports, (e) => Object.assign(env, e));
  const sink = stackPart('smtp-sink', 'smtp', dirs, ports, (e, urls) => {
    Object.assign(env, e);
    sinkUrl = urls.mailSink ?? '';
  });
  const appEnv = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    API_PORT: String(apiPort),
    TEMPORAL_TASK_QUEUE: taskQueue,
    BOOTSTRAP_ADMIN_API_KEY: adminKey,
    WORKFLOW_BUNDLE_PATH: path.join(dataDir, 'workflow-bundle.js'),
    MAIL_RETRY_MAX_BACKOFF_SECONDS: String(t.mailRetryMaxBackoffSeconds),
    // The run measures durability, not the limits: every limit is off.
    RATE_LIMIT_CASE_START: 'off',
    RATE_LIMIT_CASE_START_ADDRESS: 'off',
    RATE_LIMIT_OPEN311_POST: 'off',
    RATE_LIMIT_OPEN311_POST_ADDRESS: 'off',
    RATE_LIMIT_SIGNIN_ADDRESS: 'off',
  });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const crashes: string[] = [];
  const crashed = (name: string) => (code: number | null) => {
    crashes.push(`${name} exited on its own (code ${String(code)})`);
    say(`${name} exited on its own (code ${String(code)}); starting it again`);
  };
  const worker = nodePart(
    'worker',
    'worker.ts',
    appEnv,
    logPath(dirs, 'worker'),
    async () => {
      await sleep(3000); // the worker has no health endpoint; its queue poll starts in ~2 s
      return true;
    },
    crashed('worker'),
  );
  const api = nodePart(
    'api',
    'server.ts',
    appEnv,
    logPath(dirs, 'api'),
    async () => {
      try {
        return (await fetch(`${apiUrl}/readyz`)).ok;
      } catch {
        return false;
      }
    },
    crashed('api'),
  );

  let exitCode = 1;
  const parts: Part[] = [];
  // Ctrl-C: the servers are this run's children; stop them rather than leave them running.
  const interrupted = () => {
    say('interrupted: stopping the stack');
    void (async () => {
      await api.kill();
      await worker.kill();
      for (const part of [sink, store, temporal]) await part.kill().catch(() => {});
      say(`kept ${dataDir}`);
      process.exit(130);
    })();
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    for (const part of [temporal, store, sink]) {
      await part.start();
      parts.push(part);
    }
    say('stack up; bundling the workflows once');
    await bundle(path.join(dataDir, 'workflow-bundle.js'));
    await worker.start();
    await api.start();
    parts.push(worker, api);
    say(`worker and API up (${apiUrl})`);

    const stats: ClientStats = { requests: 0, retries: 0, byStatus: {}, serverErrors: {} };
    const call = createClient(() => apiUrl, stats);
    const token = await setUpOrg(call, adminKey);

    // The load: case starts spread over the chaos, at most MAX_ACTIVE worked at once.
    const keys = Object.keys(PROCESSES) as ProcessKey[];
    const runDeadline = Date.now() + t.loadMs + t.settleMs;
    const outcomes: CaseOutcome[] = [];
    let active = 0;
    const loadStarted = Date.now();
    const load = (async () => {
      const drivers: Promise<void>[] = [];
      for (let n = 0; n < options.cases; n++) {
        const due = loadStarted + (n * t.loadMs) / options.cases;
        while (Date.now() < due || active >= MAX_ACTIVE) await sleep(100);
        active++;
        const key = keys[n % keys.length]!;
        drivers.push(
          driveCase(
            call,
            { token },
            key,
            n,
            UNITS.grid,
            `chaos-${n}@example.test`,
            runDeadline,
          ).then(
            (outcome) => {
              outcomes.push(outcome);
              active--;
            },
            (err: unknown) => {
              outcomes.push({ key, actions: 0, ratings: 0, refused: (err as Error).message });
              active--;
            },
          ),
        );
      }
      await Promise.all(drivers);
    })();

    // The chaos: each part killed in turn and started again, then the sink down for long.
    let kills = 0;
    const progress = () =>
      `${outcomes.length}/${options.cases} cases done, ${active} active, ${stats.retries} retries`;
    for (const part of [worker, api, temporal, store]) {
      await sleep(t.gapMs);
      say(`kill -9 ${part.name} (${progress()})`);
      await part.kill();
      kills++;
      await sleep(t.downMs);
      await part.start();
      say(`${part.name} back`);
    }
    await sleep(t.gapMs);
    say(`SMTP sink down for ${t.sinkDownMs / 1000} s (${progress()})`);
    await sink.kill();
    kills++;
    await sleep(t.sinkDownMs);
    await sink.start();
    say(`SMTP sink back (${progress()})`);

    const ticker = setInterval(() => say(progress()), 30_000);
    await load.finally(() => clearInterval(ticker));
    say(`all case drivers finished (${progress()})`);

    // Settling: no open case of ours, nothing pending in the outbox.
    const config = loadConfig({ ...env, TEMPORAL_TASK_QUEUE: taskQueue });
    const db = await connectDatabase(config.MONGODB_URI);
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    const client = new Client({
      connection,
      dataConverter: dataConverterFor(config.TEMPORAL_CODEC_KEYS),
    });
    try {
      const ids = outcomes.flatMap((o) => (o.caseId ? [o.caseId] : []));
      const settleDeadline = Date.now() + t.settleMs;
      for (;;) {
        const open = await db.models.Case.countDocuments({ _id: { $in: ids }, status: 'open' });
        const unsent = await db.models.Outbox.countDocuments({
          status: { $in: ['pending', 'sending'] },
        });
        if ((open === 0 && unsent === 0) || Date.now() > settleDeadline) {
          say(`settled: ${open} open cases, ${unsent} mails not yet sent`);
          break;
        }
        await sleep(2000);
      }
      const reconciled = await createCaseFailures({
        models: db.models,
        clock: () => new Date(),
        logger: createLogger('chaos', 'warn'),
      }).reconcile(client, { taskQueue });
      say(
        `reconciler: ${reconciled.scanned} closed executions scanned, ${reconciled.ended.length} cases ended`,
      );

      const report = await check(db, client, outcomes, sinkUrl);
      const lines = [
        `cases: ${options.cases} driven, ${report.accepted} started (accepted), ${report.refused} refused`,
        `  closed ${report.byStatus.closed ?? 0}, rejected ${report.byStatus.rejected ?? 0}, cancelled ${report.byStatus.cancelled ?? 0}, failed ${report.byStatus.failed ?? 0}, stuck ${report.stuck.length}, lost ${report.lost.length}`,
        `  per process: ${Object.entries(report.perProcess)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
        `mails: ${report.mails.expected} expected (outbox), ${report.mails.delivered} delivered, ${report.mails.missing} missing, ${report.mails.failed} failed in the outbox, ${report.mails.duplicates} duplicate copies`,
        `projections: ${report.projections.checked} checked against their workflows, ${report.projections.mismatched.length} mismatched`,
        `requests: ${stats.requests} (${stats.retries} retries; ${Object.entries(stats.byStatus)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')})`,
      ];
      for (const [what, n] of Object.entries(stats.serverErrors)) lines.push(`  ${n} x ${what}`);
      lines.push(
        `unplanned exits: ${crashes.length}${crashes.length ? ` (${crashes.join('; ')})` : ''}`,
      );
      for (const line of lines) say(line);
      for (const problem of [
        ...report.lost.map((id) => `lost: ${id}`),
        ...report.stuck.map((id) => `stuck: ${id}`),
        ...report.projections.mismatched,
        ...report.refusals.slice(0, 5).map((r) => `refused start: ${r}`),
        ...report.mails.problems.slice(0, 10),
      ]) {
        say(`  ${problem}`);
      }
      process.stdout.write(
        `chaos: ${report.accepted} cases, ${kills} kills, ${report.lost.length} lost, ${report.stuck.length} stuck, ${report.mails.duplicates} duplicate mails\n`,
      );
      exitCode = report.lost.length > 0 || report.stuck.length > 0 ? 1 : 0;
    } finally {
      await connection.close();
      await db.close();
    }
  } finally {
    await api.stop();
    await worker.stop();
    for (const part of [sink, store, temporal]) await part.kill().catch(() => {});
    if (options.keep || exitCode !== 0) {
      say(`kept ${dataDir} (logs in ${dirs.logs})`);
    } else {
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  return exitCode;
}

/** The org the cases run in, and the one person who works every task, signed in. */
async function setUpOrg(call: ReturnType<typeof createClient>, adminKey: string): Promise<string> {
  const password = `chaos-${randomBytes(12).toString('base64url')}`;
  const user = await call<{ id: string }>('POST', '/api/v1/users', {
    token: adminKey,
    body: {
      username: 'chaos-dispatcher',
      displayName: '混沌测试派单员',
      password,
      roles: ['dispatcher'],
      unitIds: [UNITS.street],
    },
  });
  if (user.status !== 201) throw new Error(`creating the chaos user: HTTP ${user.status}`);
  const roles = (unitId: string, list: string[]) =>
    list.map((role) => ({ unitId, role, personId: 'chaos-p1' }));
  const imported = await call('POST', '/api/v1/org/import', {
    token: adminKey,
    body: {
      units: [
        { id: UNITS.street, name: '混沌街道', type: 'street', parentId: null },
        { id: UNITS.community, name: '混沌社区', type: 'community', parentId: UNITS.street },
        { id: UNITS.grid, name: '混沌网格', type: 'grid', parentId: UNITS.community },
      ],
      people: [
        {
          id: 'chaos-p1',
          name: '混沌测试员',
          email: 'chaos-staff@example.test',
          userId: user.body.id,
        },
      ],
      posts: [
        ...roles(UNITS.street, ['leader', 'secretary']),
        ...roles(UNITS.community, ['officer', 'secretary', 'director', 'dispatcher']),
        ...roles(UNITS.grid, ['grid-worker', 'grid-leader']),
      ],
    },
  });
  if (imported.status !== 200) {
    throw new Error(
      `importing the chaos org: HTTP ${imported.status} ${JSON.stringify(imported.body)}`,
    );
  }
  const login = await call<{ token: string }>('POST', '/api/v1/auth/login', {
    token: '',
    body: { username: 'chaos-dispatcher', password },
  });
  if (login.status !== 200) throw new Error(`signing in: HTTP ${login.status}`);
  return login.body.token;
}

async function bundle(out: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  const { PROJECT_ROOT } = await import('../../stack/paths');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bundle-workflows.ts', out], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`bundle: exit ${code}`)),
    );
  });
}

interface Report {
  accepted: number;
  refused: number;
  refusals: string[];
  byStatus: Record<string, number>;
  perProcess: Record<string, number>;
  lost: string[];
  stuck: string[];
  projections: { checked: number; mismatched: string[] };
  mails: {
    expected: number;
    delivered: number;
    missing: number;
    failed: number;
    duplicates: number;
    problems: string[];
  };
}

/**
 * The checks: every accepted start has its case document and its execution (else lost); no
 * case is open or running any more (else stuck); each document's status and revision are what
 * its workflow ended with; every mail the outbox holds for these cases reached the sink once.
 */
async function check(
  db: Awaited<ReturnType<typeof connectDatabase>>,
  client: Client,
  outcomes: CaseOutcome[],
  sinkUrl: string,
): Promise<Report> {
  const accepted = outcomes.filter((o) => o.caseId);
  const report: Report = {
    accepted: accepted.length,
    refused: outcomes.length - accepted.length,
    refusals: outcomes.flatMap((o) => (o.refused ? [`${o.key}: ${o.refused}`] : [])),
    byStatus: {},
    perProcess: {},
    lost: [],
    stuck: [],
    projections: { checked: 0, mismatched: [] },
    mails: { expected: 0, delivered: 0, missing: 0, failed: 0, duplicates: 0, problems: [] },
  };
  for (const outcome of accepted) {
    const caseId = outcome.caseId!;
    report.perProcess[outcome.key] = (report.perProcess[outcome.key] ?? 0) + 1;
    const doc = await db.models.Case.findById(caseId, { status: 1, revision: 1 }).lean();
    let description;
    try {
      description = await client.workflow.getHandle(caseId).describe();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    if (!doc || !description) {
      report.lost.push(
        `${caseId} (${!doc ? 'no document' : ''}${!doc && !description ? ', ' : ''}${!description ? 'no execution' : ''})`,
      );
      continue;
    }
    report.byStatus[doc.status] = (report.byStatus[doc.status] ?? 0) + 1;
    const execution = description.status.name;
    if (doc.status === 'open' || execution === 'RUNNING') {
      report.stuck.push(`${caseId} (document ${doc.status}, execution ${execution})`);
      continue;
    }
    report.projections.checked++;
    if (execution === 'COMPLETED') {
      const result = await client.workflow
        .getHandle(caseId)
        .result()
        .then((r) => r as { status: string; revision: number });
      if (result.status !== doc.status || result.revision !== doc.revision) {
        report.projections.mismatched.push(
          `projection: ${caseId} document ${doc.status} r${doc.revision}, workflow ${result.status} r${result.revision}`,
        );
      }
    } else {
      const expected = execution === 'CANCELLED' ? 'cancelled' : ['failed', 'cancelled'];
      if (!(Array.isArray(expected) ? expected.includes(doc.status) : doc.status === expected)) {
        report.projections.mismatched.push(
          `projection: ${caseId} document ${doc.status}, execution ${execution}`,
        );
      }
    }
  }

  const ids = accepted.map((o) => o.caseId!);
  const outbox = await db.models.Outbox.find(
    { caseId: { $in: ids } },
    { _id: 1, messageId: 1, status: 1 },
  ).lean();
  const sunk = (await (await fetch(`${sinkUrl}/messages`)).json()) as SunkMail[];
  const copies = new Map<string, number>();
  for (const mail of sunk) {
    if (mail.messageId) copies.set(mail.messageId, (copies.get(mail.messageId) ?? 0) + 1);
  }
  const keys = new Set<string>();
  report.mails.expected = outbox.length;
  for (const row of outbox) {
    if (keys.has(row._id)) report.mails.duplicates++;
    keys.add(row._id);
    const n = copies.get(row.messageId) ?? 0;
    if (row.status === 'failed') report.mails.failed++;
    if (n === 0) {
      report.mails.missing++;
      report.mails.problems.push(`mail not delivered: ${row._id} (outbox ${row.status})`);
    } else {
      report.mails.delivered++;
      if (n > 1) {
        report.mails.duplicates += n - 1;
        report.mails.problems.push(`mail delivered ${n} times: ${row._id}`);
      }
    }
  }
  return report;
}

parseArgsAndRun();

function parseArgsAndRun(): void {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  main(options).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`\n${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import mongoose from 'mongoose';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../common/search-attributes';
import { ensureCodecKeys } from './codec-key';
import { ensurePhoneKeySecret } from './phone-key-secret';
import { ensureFerretDb, ensureTemporalCli } from './install';
import type { StackDirs } from './paths';
import type { StackStore } from './postgres';
import {
  POSTGRES_DATABASE,
  FERRETDB_POSTGRES_CONNECTIONS,
  ensurePostgresData,
  prepareFerretDbStore,
  findPostgres,
  postgresUser,
  probePostgres,
  startPostgres,
  defaultStore,
  storeFromEnv,
} from './postgres';
import { ManagedProcess, freePort, isPortFree, waitUntilReady } from './process';
import type { Progress } from './progress';
import type { SmtpSink } from './smtp-sink';
import { startSmtpSink } from './smtp-sink';
import type { WebhookSink } from './webhook-sink';
import { startWebhookSink } from './webhook-sink';

export interface StackPorts {
  temporal: number;
  temporalUi: number;
  ferretdb: number;
  smtp: number;
  mailHttp: number;
  /** The webhook sink (WeCom, DingTalk and SMS posts, stack/webhook-sink.ts). */
  webhooks: number;
}

export const DEFAULT_PORTS: StackPorts = {
  temporal: 7233,
  temporalUi: 8233,
  ferretdb: 27017,
  smtp: 1025,
  mailHttp: 1080,
  webhooks: 1090, // chosen: beside the mail sink's page
};

/**
 * Ports from the environment (TEMPORAL_PORT, TEMPORAL_UI_PORT, FERRETDB_PORT, SMTP_PORT,
 * MAIL_SINK_HTTP_PORT, WEBHOOK_SINK_PORT).
 */
export function portsFromEnv(env: NodeJS.ProcessEnv = process.env): StackPorts {
  const read = (name: string, fallback: number): number => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    const port = Number(value);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`${name}=${value} is not a port number (1-65535)`);
    }
    return port;
  };
  return {
    temporal: read('TEMPORAL_PORT', DEFAULT_PORTS.temporal),
    temporalUi: read('TEMPORAL_UI_PORT', DEFAULT_PORTS.temporalUi),
    ferretdb: read('FERRETDB_PORT', DEFAULT_PORTS.ferretdb),
    smtp: read('SMTP_PORT', DEFAULT_PORTS.smtp),
    mailHttp: read('MAIL_SINK_HTTP_PORT', DEFAULT_PORTS.mailHttp),
    webhooks: read('WEBHOOK_SINK_PORT', DEFAULT_PORTS.webhooks),
  };
}

/**
 * Free ports for a stack of its own (the tests', a bench's), all distinct and all below the OS's
 * ephemeral range. The servers bind them one after another; a port the OS hands out meanwhile
 * (the Temporal dev server's internal services, PostgreSQL's, any other program's outgoing
 * connections) comes from the ephemeral range, so it can no longer take one that is chosen but
 * not yet bound (a CI run failed on exactly that: SMTP_PORT taken before the mail sink started).
 */
export async function randomPorts(): Promise<StackPorts> {
  const chosen: number[] = [];
  const pick = async (): Promise<number> => {
    const port = await portBelowEphemeralRange(chosen);
    chosen.push(port);
    return port;
  };
  return {
    temporal: await pick(),
    temporalUi: await pick(),
    ferretdb: await pick(),
    smtp: await pick(),
    mailHttp: await pick(),
    webhooks: await pick(),
  };
}

/** Lowest port we choose from: above the well-known and most registered services' ports (chosen). */
const LOWEST_CHOSEN_PORT = 10_000;

async function portBelowEphemeralRange(taken: readonly number[]): Promise<number> {
  const ephemeralStart = await ephemeralRangeStart();
  if (ephemeralStart - LOWEST_CHOSEN_PORT < 1_000) return freePortOtherThan(taken);
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port =
      LOWEST_CHOSEN_PORT + Math.floor(Math.random() * (ephemeralStart - LOWEST_CHOSEN_PORT));
    if (!taken.includes(port) && (await isPortFree(port))) return port;
  }
  return freePortOtherThan(taken);
}

/** Where the OS starts handing out ports of its own choice (Linux; elsewhere its default). */
async function ephemeralRangeStart(): Promise<number> {
  try {
    const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    const start = Number(range.trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > 0 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * The Temporal dev server's SQLite settings. Its default is SQLite's rollback journal with
 * `synchronous=FULL`: every persistence transaction creates, syncs and deletes a journal file
 * (several fsyncs a commit, and a workflow task or Update is a few commits). With a write-ahead
 * log and `synchronous=NORMAL` a commit appends to the log and syncs only at checkpoints. The
 * trade is the one `startPostgres` makes with `synchronous_commit=off`: a crash of the process
 * loses nothing, a crash of the machine (power, kernel) may lose the last commits but never
 * corrupts the file. A local stack, where case latency and CPU are worth it (bench/README.md has
 * the figures). The WAL mode is stored in the file, so an older stack reopens it as WAL too.
 */
export const TEMPORAL_SQLITE_PRAGMAS: readonly string[] = [
  'journal_mode=wal',
  'synchronous=normal',
];

/**
 * The servers a local stack is made of: the Temporal dev server, FerretDB, the SMTP sink, and the
 * webhook sink (robots and SMS).
 */
export type StackComponent = 'temporal' | 'mongodb' | 'smtp' | 'webhooks';

export interface LocalStack {
  /**
   * Variables pointing the API and worker at the stack (TEMPORAL_ADDRESS, MONGODB_URI, SMTP_URL,
   * TEMPORAL_CODEC_KEYS with the local Temporal server, PHONE_KEY_SECRET with the local store).
   */
  env: Record<string, string>;
  urls: {
    temporalUi?: string;
    mailSink?: string;
    mailDir?: string;
    webhookSink?: string;
    webhookDir?: string;
  };
  /** Pids of the server processes, so a later start can clean up after a killed supervisor. */
  pids: number[];
  /** Resolves with a description when a stack process dies unexpectedly. */
  failure: Promise<string>;
  /** FerretDB's store, when the stack started FerretDB (not with MONGODB_URI). */
  store?: StackStore;
  stop(): Promise<void>;
}

/**
 * Starts each component the user did not configure: the Temporal dev server (persisted to a
 * file, custom search attributes registered), FerretDB on SQLite or on a local PostgreSQL
 * (STACK_STORE), and the SMTP sink. Each one
 * that is configured through TEMPORAL_ADDRESS, MONGODB_URI or SMTP_URL is left alone.
 */
export async function startLocalStack(options: {
  dirs: StackDirs;
  ports: StackPorts;
  progress: Progress;
  env?: NodeJS.ProcessEnv;
  database?: string;
  /** FerretDB's store (default: STACK_STORE from `env`, else {@link defaultStore}). */
  store?: StackStore | null;
  /** The components to consider (default all three); the others are neither started nor reported. */
  only?: ReadonlyArray<StackComponent>;
}): Promise<LocalStack> {
  const env = options.env ?? process.env;
  const wanted = (component: StackComponent) => options.only?.includes(component) ?? true;
  const { dirs, ports, progress } = options;
  await mkdir(dirs.logs, { recursive: true });
  const processes: ManagedProcess[] = [];
  let sink: SmtpSink | undefined;
  let webhookSink: WebhookSink | undefined;
  let reportFailure: (message: string) => void = () => {};
  const failure = new Promise<string>((resolve) => (reportFailure = resolve));
  const onExit = (name: string, code: number | null) =>
    reportFailure(`${name} exited unexpectedly (code ${String(code)}); see ${dirs.logs}`);

  const result: LocalStack = {
    env: {},
    urls: {},
    pids: [],
    failure,
    async stop() {
      await sink?.stop();
      await webhookSink?.stop();
      // Stop in reverse order of start; each gets SIGTERM, then SIGKILL after a grace period.
      for (const proc of processes.reverse()) await proc.stop();
    },
  };

  try {
    if (!wanted('temporal')) {
      // Left to the caller (the test tiers start only what they use).
    } else if (env.TEMPORAL_ADDRESS) {
      progress.info(`Temporal: using ${env.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS)`);
    } else {
      const cli = await ensureTemporalCli(dirs.bin, progress);
      await assertPortsFree({ TEMPORAL_PORT: ports.temporal, TEMPORAL_UI_PORT: ports.temporalUi });
      const proc = new ManagedProcess(
        'temporal',
        cli,
        [
          'server',
          'start-dev',
          '--db-filename',
          path.join(dirs.data, 'temporal.db'),
          '--ip',
          '127.0.0.1',
          '--port',
          String(ports.temporal),
          '--ui-port',
          String(ports.temporalUi),
          '--log-level',
          'warn',
          ...TEMPORAL_SQLITE_PRAGMAS.flatMap((pragma) => ['--sqlite-pragma', pragma]),
          ...CUSTOM_SEARCH_ATTRIBUTES.flatMap((key) => [
            '--search-attribute',
            `${key.name}=Keyword`,
          ]),
        ],
        path.join(dirs.logs, 'temporal.log'),
        onExit,
      );
      processes.push(proc);
      const address = `127.0.0.1:${ports.temporal}`;
      await progress.step('Starting the Temporal dev server', () =>
        waitUntilReady(proc, () => probeTemporal(address), 60_000),
      );
      result.env.TEMPORAL_ADDRESS = address;
      // Payloads in the local history are encrypted like production's, with a key kept beside it.
      if (!env.TEMPORAL_CODEC_KEYS && env.TEMPORAL_CODEC_DISABLED !== 'true') {
        result.env.TEMPORAL_CODEC_KEYS = await ensureCodecKeys(dirs.data);
      }
      // The local Temporal UI may call the API's codec endpoint (see README, Encrypted history).
      if (!env.TEMPORAL_CODEC_CORS_ORIGINS) {
        result.env.TEMPORAL_CODEC_CORS_ORIGINS = `http://127.0.0.1:${ports.temporalUi},http://localhost:${ports.temporalUi}`;
      }
      result.urls.temporalUi = `http://127.0.0.1:${ports.temporalUi}`;
    }

    if (!wanted('mongodb')) {
      // Left to the caller.
    } else if (env.MONGODB_URI) {
      progress.info('MongoDB: using MONGODB_URI');
    } else {
      let store = options.store ?? storeFromEnv(env);
      if (store === null) {
        const chosen = await defaultStore(env, dirs.data);
        store = chosen.store;
        progress.info(`Store: ${chosen.why}`);
      }
      result.store = store;
      const ferretdb = await ensureFerretDb(dirs.bin, progress);
      await assertPortsFree({ FERRETDB_PORT: ports.ferretdb });
      let storeArgs: string[];
      if (store === 'postgresql') {
        const bins = await findPostgres(env);
        const user = await postgresUser();
        const pgDir = path.join(dirs.data, 'postgresql');
        if (!existsSync(path.join(pgDir, 'PG_VERSION'))) {
          await progress.step('Creating the PostgreSQL data folder', () =>
            ensurePostgresData(pgDir, bins, user),
          );
        }
        // The GIN twins of FerretDB's indexes (see GIN_TWINS_SQL), before the server starts.
        await prepareFerretDbStore(pgDir, bins, user);
        // Its own free port each start: nothing but this stack's FerretDB connects to it.
        const pgPort = await freePortOtherThan(Object.values(ports));
        const pg = startPostgres({
          bins,
          dir: pgDir,
          port: pgPort,
          user,
          logFile: path.join(dirs.logs, 'postgresql.log'),
          onExit,
        });
        processes.push(pg);
        await progress.step('Starting PostgreSQL', () =>
          waitUntilReady(pg, () => probePostgres(pgDir, pg.pid), 60_000),
        );
        storeArgs = [
          '--handler=postgresql',
          `--postgresql-url=postgres://postgres@127.0.0.1:${pgPort}/${POSTGRES_DATABASE}?pool_max_conns=${FERRETDB_POSTGRES_CONNECTIONS}`,
        ];
      } else {
        const sqliteDir = path.join(dirs.data, 'ferretdb');
        await mkdir(sqliteDir, { recursive: true });
        storeArgs = ['--handler=sqlite', `--sqlite-url=file:${sqliteDir}/`];
      }
      const stateDir = path.join(dirs.data, 'ferretdb');
      await mkdir(stateDir, { recursive: true });
      const proc = new ManagedProcess(
        'ferretdb',
        ferretdb,
        [
          ...storeArgs,
          `--state-dir=${stateDir}`,
          `--listen-addr=127.0.0.1:${ports.ferretdb}`,
          // The debug/metrics listener is not needed, and its fixed default port would collide
          // between two stacks (the tests' and a developer's).
          `--debug-addr=127.0.0.1:${await freePortOtherThan(Object.values(ports))}`,
          '--telemetry=disable',
          '--log-level=warn',
        ],
        path.join(dirs.logs, 'ferretdb.log'),
        onExit,
      );
      processes.push(proc);
      const uri = `mongodb://127.0.0.1:${ports.ferretdb}/${options.database ?? 'governance'}`;
      await progress.step(
        `Starting FerretDB (${store === 'postgresql' ? 'PostgreSQL' : 'SQLite'})`,
        () => waitUntilReady(proc, () => probeMongo(uri), 30_000),
      );
      result.env.MONGODB_URI = uri;
      // The API keys phone numbers in this store by HMAC under a secret kept beside it.
      if (!env.PHONE_KEY_SECRET) {
        result.env.PHONE_KEY_SECRET = await ensurePhoneKeySecret(dirs.data);
      }
    }

    if (!wanted('smtp')) {
      // Left to the caller.
    } else if (env.SMTP_URL) {
      progress.info('Mail: using SMTP_URL');
    } else {
      await assertPortsFree({ SMTP_PORT: ports.smtp, MAIL_SINK_HTTP_PORT: ports.mailHttp });
      sink = await startSmtpSink({
        mailDir: dirs.mail,
        smtpPort: ports.smtp,
        httpPort: ports.mailHttp,
      });
      result.env.SMTP_URL = `smtp://127.0.0.1:${ports.smtp}`;
      result.urls.mailSink = `http://127.0.0.1:${ports.mailHttp}`;
      result.urls.mailDir = dirs.mail;
    }

    if (!wanted('webhooks')) {
      // Left to the caller.
    } else {
      await assertPortsFree({ WEBHOOK_SINK_PORT: ports.webhooks });
      webhookSink = await startWebhookSink({ dir: dirs.webhooks, port: ports.webhooks });
      result.env.WEBHOOK_SINK_URL = webhookSink.url;
      // SMS goes to the sink unless a provider is configured.
      if (env.SMS_HTTP_URL) progress.info('SMS: using SMS_HTTP_URL');
      else result.env.SMS_HTTP_URL = `${webhookSink.url}/sms`;
      result.urls.webhookSink = webhookSink.url;
      result.urls.webhookDir = dirs.webhooks;
    }
  } catch (err) {
    await result.stop();
    throw err;
  }
  result.pids = processes.map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
  return result;
}

async function assertPortsFree(ports: Record<string, number>): Promise<void> {
  for (const [variable, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) {
      throw new Error(
        `Port ${port} is already in use: is another stack running? Stop it, or choose another port with ${variable}=…`,
      );
    }
  }
}

async function probeTemporal(address: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await connection.workflowService.getSystemInfo({});
  } finally {
    await connection.close();
  }
}

async function probeMongo(uri: string): Promise<void> {
  const client = new mongoose.mongo.MongoClient(uri, { serverSelectionTimeoutMS: 1000 });
  try {
    await client.connect();
    await client.db().command({ ping: 1 });
  } finally {
    await client.close();
  }
}

/**
 * A free port that is none of `taken`: the stack's own ports are free until their servers bind
 * them (on a restart FerretDB's was released a moment ago), so the OS may offer one of them.
 */
async function freePortOtherThan(taken: readonly number[]): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!taken.includes(port)) return port;
  }
}

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../common/config';
import { startApi } from '../server';
import type { DemoAccountView } from '../demo/seed';
import { wireDemoRobots } from '../demo/robots';
import {
  demoAccountLines,
  demoSeedMode,
  accountsStage,
  historyStage,
  openDemoSeedDeps,
  orgStage,
  seedDemo,
  seedDemoOnEmptyStore,
} from '../demo/seed';
import { sdkLogLevel, startWorker } from '../worker';
import { codecKeyFile } from './codec-key';
import { phoneKeySecretFile } from './phone-key-secret';
import { InstallError } from './install';
import { StackAlreadyRunningError, acquireStackLock } from './lock';
import { stackDirs } from './paths';
import type { Progress } from './progress';
import { consoleProgress } from './progress';
import { isPortFree } from './process';
import type { LocalStack } from './stack';
import { portsFromEnv, startLocalStack } from './stack';

/**
 * `npm start`: the local stack, the worker and the API in one supervised process, and the demo
 * county loaded into an empty store (`DEMO_SEED=off` or `npm start -- --no-demo` skips it).
 * `npm run stack`: the stack alone, for running the worker and API yourself.
 * Ctrl-C or SIGTERM stops everything in reverse order; a second start while one runs says so.
 */
async function main(command: string, flags: string[]): Promise<void> {
  if (command !== 'start' && command !== 'stack') {
    throw new Error(`unknown command "${command}": use "start" or "stack"`);
  }
  const unknownFlag = flags.find((f) => f !== '--no-demo');
  if (unknownFlag !== undefined) {
    throw new UsageError(`unknown option "${unknownFlag}": the only one is --no-demo`);
  }
  const started = Date.now();
  // Fail on a bad variable, a running stack or a taken API port before any server starts.
  const initial = loadConfig();
  const demo = flags.includes('--no-demo') ? 'off' : demoSeedMode();
  const progress = consoleProgress();
  const dirs = stackDirs();
  const ports = portsFromEnv();
  const lock = await acquireStackLock(dirs.data);
  if (command === 'start' && !(await isPortFree(initial.API_PORT, initial.API_HOST))) {
    await lock.release();
    throw new PortInUseError(
      `Port ${initial.API_PORT} is already in use: stop what uses it, or choose another with API_PORT=…`,
    );
  }

  const stoppers: Array<() => Promise<void>> = [() => lock.release()];
  let stopping = false;
  const stopAll = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    progress.info(`${reason}: stopping…`);
    for (const stop of stoppers.reverse()) {
      await stop().catch((err: unknown) =>
        progress.info(`while stopping: ${(err as Error).message}`),
      );
    }
    progress.info('stopped');
    process.exit(exitCode);
  };
  process.once('SIGINT', () => void stopAll('SIGINT', 0));
  process.once('SIGTERM', () => void stopAll('SIGTERM', 0));

  let stack: LocalStack;
  try {
    stack = await startLocalStack({ dirs, ports, progress });
  } catch (err) {
    await lock.release();
    throw err;
  }
  stoppers.push(() => stack.stop());
  await lock.update({ pids: stack.pids });
  void stack.failure.then((message) => stopAll(message, 1));
  Object.assign(process.env, stack.env);

  if (command === 'stack') {
    progress.info('Local stack ready. Point the worker and API at it with:');
    for (const [name, value] of Object.entries(stack.env)) {
      // Keys stay in their files rather than in the terminal's scroll-back.
      const shown =
        name === 'TEMPORAL_CODEC_KEYS'
          ? `"$(cat ${codecKeyFile(dirs.data)})"`
          : name === 'PHONE_KEY_SECRET'
            ? `"$(cat ${phoneKeySecretFile(dirs.data)})"`
            : value;
      progress.info(`  export ${name}=${shown}`);
    }
    printUrls(stack, undefined);
    return;
  }

  try {
    await startApplication(stack, dirs.data, stoppers, lock, started, progress, demo === 'auto');
  } catch (err) {
    process.stderr.write(`\n${(err as Error).stack ?? String(err)}\n`);
    await stopAll('start-up failed', 1);
  }
}

async function startApplication(
  stack: LocalStack,
  dataDir: string,
  stoppers: Array<() => Promise<void>>,
  lock: Awaited<ReturnType<typeof acquireStackLock>>,
  started: number,
  progress: Progress,
  loadDemo: boolean,
): Promise<void> {
  const config = loadConfig();
  // The supervisor owns signals: the worker must not shut itself down before the API.
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger(sdkLogLevel(config.LOG_LEVEL)),
  });
  const worker = await progress.step('Starting the worker (bundling workflows)', () =>
    startWorker(config),
  );
  stoppers.push(() => worker.stop());
  const api = await progress.step('Starting the API', () => startApi(config));
  stoppers.push(() => api.stop());
  for (const result of api.definitions) {
    progress.info(
      `definition ${result.key}: v${result.version}${result.published ? ' published' : ' (unchanged)'}`,
    );
  }
  const adminKey = await ensureLocalAdminKey(dataDir, (secret) =>
    api.ensureBootstrapAdminKey(secret, { onlyIfNoAdmin: false }),
  );
  const demo = loadDemo
    ? await loadDemoCounty(config, progress, stack.urls.webhookSink)
    : { accounts: [], history: null };
  api.offerDemoAccounts(demo.accounts);
  await lock.update({ pids: stack.pids, apiUrl: api.url });

  printUrls(stack, api.url);
  progress.info(`Admin API key (kept in ${path.relative(process.cwd(), adminKey.file)}):`);
  progress.info(`  curl -H "Authorization: Bearer ${adminKey.secret}" ${api.url}/api/v1/cases`);
  for (const line of demoAccountLines(demo.accounts)) progress.info(line);
  progress.info(
    `Ready in ${((Date.now() - started) / 1000).toFixed(1)}s. Ctrl-C stops everything.`,
  );
  if (demo.history) void demo.history();
}

class PortInUseError extends Error {}
class UsageError extends Error {}

/**
 * The demo county (demo/), loaded when the store has no units yet; its accounts are listed on
 * every start while they exist. A failure here is reported and the stack keeps running: the demo
 * is a convenience, not part of the service.
 */
async function loadDemoCounty(
  config: ReturnType<typeof loadConfig>,
  progress: Progress,
  webhookSink: string | undefined,
): Promise<{ accounts: DemoAccountView[]; history: (() => Promise<void>) | null }> {
  const none = { accounts: [], history: null };
  let seeder: Awaited<ReturnType<typeof openDemoSeedDeps>> | undefined;
  try {
    seeder = await openDemoSeedDeps(config, undefined, { history: true });
    const result = await seedDemoOnEmptyStore(seeder.deps, { stages: [accountsStage, orgStage] });
    let accounts: DemoAccountView[];
    switch (result.status) {
      case 'seeded': {
        const { counts, ms } = result.report;
        progress.info(
          `Demo county loaded into the empty store in ${(ms / 1000).toFixed(1)}s: ` +
            `${counts.unitTotal} units, ${counts.people} people, ${counts.postTotal} posts ` +
            `(DEMO_SEED=off skips it)`,
        );
        accounts = result.report.accounts;
        break;
      }
      case 'present':
        accounts = result.accounts;
        break;
      case 'skipped':
        await seeder.close();
        return none;
    }
    if (webhookSink) {
      const wired = await wireDemoRobots(seeder.deps.models, webhookSink);
      if (wired > 0) progress.info(`Demo group robots: ${wired} units post to the webhook sink`);
    }
    const open = seeder;
    // The past months of cases go in after "Ready", through the running worker: the stack is
    // usable at once and the dashboards fill a few seconds later. Cases already there are kept.
    const history = async () => {
      try {
        const report = await seedDemo(open.deps, { stages: [historyStage], force: true });
        if (report.status !== 'refused') {
          progress.info(`Demo history: ${report.stages[0]?.summary ?? 'nothing to do'}`);
        }
      } catch (err) {
        progress.info(`Demo history not loaded: ${(err as Error).message}`);
      } finally {
        await open.close();
      }
    };
    return { accounts, history };
  } catch (err) {
    await seeder?.close();
    progress.info(`Demo county not loaded: ${(err as Error).message}`);
    return none;
  }
}

/** The local admin key: created on first run, kept in a file only this user can read. */
async function ensureLocalAdminKey(
  dataDir: string,
  register: (secret: string) => Promise<'created' | 'exists'>,
): Promise<{ secret: string; file: string }> {
  const file = path.join(dataDir, 'admin-api-key');
  const secret = existsSync(file)
    ? readFileSync(file, 'utf8').trim()
    : `gfk_local_${randomBytes(24).toString('base64url')}`;
  if (!existsSync(file)) writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  await register(secret);
  return { secret, file };
}

function printUrls(stack: LocalStack, apiUrl: string | undefined): void {
  const lines: Array<[string, string | undefined]> = [
    ['Console', apiUrl && `${apiUrl}/console/`],
    ['API', apiUrl],
    ['API docs', apiUrl && `${apiUrl}/docs`],
    ['Temporal UI', stack.urls.temporalUi],
    [
      'Mail sink',
      stack.urls.mailSink && `${stack.urls.mailSink}  (messages in ${stack.urls.mailDir})`,
    ],
    [
      'Webhook sink',
      stack.urls.webhookSink &&
        `${stack.urls.webhookSink}  (robot and SMS posts in ${stack.urls.webhookDir})`,
    ],
  ];
  for (const [label, value] of lines) {
    if (value) process.stdout.write(`  ${label.padEnd(12)} ${value}\n`);
  }
}

main(process.argv[2] ?? 'start', process.argv.slice(3)).catch((err: unknown) => {
  const known =
    err instanceof ConfigError ||
    err instanceof PortInUseError ||
    err instanceof UsageError ||
    err instanceof StackAlreadyRunningError ||
    err instanceof InstallError;
  const message = known ? err.message : ((err as Error).stack ?? String(err));
  process.stderr.write(`\n${message}\n`);
  process.exit(1);
});

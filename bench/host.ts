import { fork } from 'node:child_process';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../common/config';
import { dataConverterFor } from '../common/payload-codec';
import { startApi } from '../server';
import { startWorker } from '../worker';
import type { Stoppable } from './servers';
import { startBaselineWorker } from './servers';

/**
 * A process of its own for what the benchmark measures apart from its drivers: `engine` runs the
 * two engine workers and the API, `baseline` the hand-written workflow's worker. The drivers (the
 * HTTP and Temporal clients, the read-model polls) stay in the bench's process, so the CPU figures
 * say what the engine itself costs. `npm run bench -- --cpu-prof <dir>` starts the hosts under
 * `node --cpu-prof`: each writes its profile (and one per workflow thread) into that folder when
 * stopped.
 *
 * Protocol over the IPC channel: the parent forks this file with a {@link HostSpec} as its one
 * argument; the host answers `{ ready: true, apiUrl? }` or `{ failed: message }`, and stops (then
 * exits) on `'stop'` or when the parent goes away.
 */

export type HostSpec =
  | {
      role: 'engine';
      /** Each engine side's environment (loadConfig): one worker per entry, the API on the first. */
      envs: Array<Record<string, string | undefined>>;
      bundle: string;
      adminKey: string;
    }
  | {
      role: 'baseline';
      /** The stack's environment (loadConfig): Temporal's address and the payload codec's keys. */
      env: Record<string, string | undefined>;
      mongoUri: string;
      bundle: string;
    };

type HostMessage =
  { ready: true; apiUrl?: string } | { failed: string } | { commands: StoreCommands };

/** Store commands the host has sent, by `database command collection`, since it started. */
export type StoreCommands = Record<string, number>;

export interface RunningHost extends Stoppable {
  pid: number;
  apiUrl?: string;
  /** The store commands the host has sent so far. */
  storeCommands(): Promise<StoreCommands>;
}

/** Forks a host and waits until it serves; `cpuProfDir` runs it under `--cpu-prof`. */
export async function startHost(
  name: string,
  spec: HostSpec,
  cpuProfDir: string | undefined,
): Promise<RunningHost> {
  // One folder per host: the profiles' names say only pid and thread.
  const profiling = cpuProfDir
    ? ['--cpu-prof', '--cpu-prof-dir', path.join(cpuProfDir, spec.role)]
    : [];
  const child = fork(path.join(__dirname, 'host.ts'), [JSON.stringify(spec)], {
    execArgv: ['--import', 'tsx', ...profiling],
    // The host's output (the Temporal core's warnings among it) goes to stderr: stdout is the figures'.
    stdio: ['ignore', 2, 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const answer = await new Promise<Exclude<HostMessage, { commands: StoreCommands }>>((resolve) => {
    child.once('message', (message) =>
      resolve(message as Exclude<HostMessage, { commands: StoreCommands }>),
    );
    child.once('exit', (code, signal) =>
      resolve({ failed: `exited (${signal ?? `code ${code}`}) before it was ready` }),
    );
  });
  const stop = async () => {
    if (child.connected) child.send('stop');
    await exited;
  };
  if ('failed' in answer) {
    await stop();
    throw new Error(`${name}: ${answer.failed}`);
  }
  const storeCommands = () =>
    new Promise<StoreCommands>((resolve, reject) => {
      const onMessage = (message: HostMessage) => {
        if (!('commands' in message)) return;
        child.off('message', onMessage);
        resolve(message.commands);
      };
      child.on('message', onMessage);
      child.send('commands', (err) => {
        if (err) reject(err);
      });
    });
  return { name, pid: child.pid!, apiUrl: answer.apiUrl, stop, storeCommands };
}

/**
 * Counts every command the MongoDB driver sends from this process, by database, command and
 * collection (the driver's one entry point for a command on a pooled connection). Bench-only: it
 * wraps the driver's class here, never in the engine's code.
 */
function countStoreCommands(): StoreCommands {
  const counts: StoreCommands = {};
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the driver's internal class
  const { Connection } = require('mongodb/lib/cmap/connection') as {
    Connection: { prototype: { command: (...args: unknown[]) => Promise<unknown> } };
  };
  const command = Connection.prototype.command;
  Connection.prototype.command = function (this: unknown, ...args: unknown[]) {
    const ns = args[0] as { db: string };
    const cmd = args[1] as Record<string, unknown>;
    const name = Object.keys(cmd)[0] ?? '?';
    const target = cmd[name];
    const key = `${ns.db} ${name} ${typeof target === 'string' ? target : ''}`.trim();
    counts[key] = (counts[key] ?? 0) + 1;
    return command.apply(this, args);
  };
  return counts;
}

async function serve(spec: HostSpec, running: Stoppable[]): Promise<string | undefined> {
  try {
    if (spec.role === 'baseline') {
      const config = loadConfig(spec.env);
      running.push(
        await startBaselineWorker(
          config.TEMPORAL_ADDRESS,
          spec.mongoUri,
          spec.bundle,
          // The baseline pays for payload encryption as the engine does, so the sides compare.
          dataConverterFor(config.TEMPORAL_CODEC_KEYS),
        ),
      );
      return undefined;
    }
    const configs = spec.envs.map((env) => loadConfig(env));
    for (const config of configs) {
      const worker = await startWorker(config, { workflowBundle: { codePath: spec.bundle } });
      running.push({
        name: `engine worker (${config.TEMPORAL_TASK_QUEUE})`,
        stop: () => worker.stop(),
      });
    }
    const api = await startApi(configs[0]!, { definitionsDir: null });
    running.push({ name: 'API', stop: () => api.stop() });
    await api.ensureBootstrapAdminKey(spec.adminKey);
    return api.url;
  } catch (err) {
    await stopAll(running.splice(0));
    throw err;
  }
}

async function stopAll(running: Stoppable[]): Promise<void> {
  for (const item of [...running].reverse()) {
    try {
      await item.stop();
    } catch (err) {
      process.stderr.write(`[host] stopping the ${item.name} failed: ${(err as Error).message}\n`);
    }
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]!) as HostSpec;
  // Signals belong to the bench's process (Ctrl-C reaches the whole process group): the host
  // stops when told to, or when the bench's process has gone.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);
  const running: Stoppable[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= stopAll(running).then(() => {
      // process.exit writes the --cpu-prof profile; a worker's threads would otherwise keep
      // the process up after a stop.
      process.exit(0);
    }));
  const commands = countStoreCommands();
  process.on('message', (message) => {
    if (message === 'stop') void stop();
    if (message === 'commands') process.send!({ commands } satisfies HostMessage);
  });
  process.on('disconnect', () => void stop());
  try {
    const apiUrl = await serve(spec, running);
    process.send!({ ready: true, apiUrl } satisfies HostMessage);
  } catch (err) {
    process.send!({ failed: (err as Error).stack ?? String(err) } satisfies HostMessage);
  }
}

if (require.main === module) {
  void main();
}

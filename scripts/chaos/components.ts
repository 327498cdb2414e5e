import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../stack/paths';
import type { StackDirs } from '../../stack/paths';
import { silentProgress } from '../../stack/progress';
import type { LocalStack, StackComponent, StackPorts } from '../../stack/stack';
import { startLocalStack } from '../../stack/stack';

/**
 * The parts of the chaos run's stack, each of which can be killed and started again on its own:
 * the Temporal dev server and FerretDB (child processes of the stack code, killed with SIGKILL),
 * the SMTP sink (in this process: stopped and started), the worker and the API (our own child
 * processes, `node --import tsx`, so SIGKILL hits the process that holds the work).
 */
export interface Part {
  readonly name: string;
  start(): Promise<void>;
  /** SIGKILL (the sink, which lives in this process, is stopped instead). */
  kill(): Promise<void>;
}

/** A stack server started alone (`only`), on fixed ports and one data folder, so a restart resumes. */
export function stackPart(
  name: string,
  component: StackComponent,
  dirs: StackDirs,
  ports: StackPorts,
  onEnv: (env: Record<string, string>, urls: LocalStack['urls']) => void,
): Part {
  let stack: LocalStack | undefined;
  return {
    name,
    async start() {
      stack = await startLocalStack({
        dirs,
        ports,
        progress: silentProgress,
        env: {},
        only: [component],
      });
      onEnv(stack.env, stack.urls);
    },
    async kill() {
      if (!stack) return;
      const current = stack;
      stack = undefined;
      if (current.pids.length === 0) {
        await current.stop(); // the SMTP sink: no process of its own
        return;
      }
      for (const pid of current.pids) await killAndWait(pid);
      // Lets the stack's bookkeeping (log streams) settle; the processes are already gone.
      await current.stop();
    },
  };
}

/** The worker or the API as production runs them: a process of its own. */
export function nodePart(
  name: string,
  entry: 'worker.ts' | 'server.ts',
  env: () => NodeJS.ProcessEnv,
  logFile: string,
  ready: () => Promise<boolean>,
  /** Told when the process exits on its own; it is started again a second later (a supervisor's job). */
  onCrash: (code: number | null) => void,
): Part & { stop(): Promise<void> } {
  let child: ChildProcess | undefined;
  const part = {
    name,
    async start() {
      const log = createWriteStream(logFile, { flags: 'a' });
      const started = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: PROJECT_ROOT,
        env: env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
      started.stdout?.pipe(log);
      started.stderr?.pipe(log);
      started.once('exit', (code) => {
        if (child !== started) return; // killed or stopped on purpose
        child = undefined;
        onCrash(code);
        setTimeout(() => void part.start().catch(() => {}), 1000);
      });
      const deadline = Date.now() + 120_000;
      while (!(await ready())) {
        if (started.exitCode !== null) {
          throw new Error(`${name} exited during start-up; see ${logFile}`);
        }
        if (Date.now() > deadline) throw new Error(`${name} not ready in 120 s; see ${logFile}`);
        await sleep(250);
      }
    },
    async kill() {
      const current = child;
      child = undefined;
      if (current?.pid !== undefined) await killAndWait(current.pid);
    },
    async stop() {
      const current = child;
      child = undefined;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise((resolve) => current.once('exit', resolve));
      current.kill('SIGTERM');
      const timer = setTimeout(() => current.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return part;
}

async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // already gone
  }
  for (let i = 0; i < 200; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function logPath(dirs: StackDirs, name: string): string {
  return path.join(dirs.logs, `${name}.log`);
}

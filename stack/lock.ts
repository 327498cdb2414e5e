import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * One local stack per data folder. The lock file names the supervisor and the servers it
 * started, so a second `npm start` can say where the running one is, and a start after a
 * supervisor was killed can stop the servers it left behind.
 */
export interface StackLockInfo {
  pid: number;
  startedAt: string;
  pids: number[];
  apiUrl?: string;
}

export class StackAlreadyRunningError extends Error {
  constructor(info: StackLockInfo, file: string) {
    super(
      `A local stack is already running (pid ${info.pid}, started ${info.startedAt}${info.apiUrl ? `, API at ${info.apiUrl}` : ''}).\n` +
        `Stop it with Ctrl-C in its terminal or "kill ${info.pid}"; to run a second one, set STACK_DIR and the ports (see README). Lock: ${file}`,
    );
    this.name = 'StackAlreadyRunningError';
  }
}

export async function acquireStackLock(dataDir: string) {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, 'stack.lock');
  const lockExists = existsSync(file);
  // An unreadable lock (empty, truncated by a crash) is treated as stale.
  const previous = await readLock(file);
  if (previous && isAlive(previous.pid) && previous.pid !== process.pid) {
    throw new StackAlreadyRunningError(previous, file);
  }
  if (previous) {
    // The previous supervisor died without cleaning up: stop the servers it had started (and
    // only those: a recorded pid may since have been reused by an unrelated process).
    const leftovers = previous.pids.filter((pid) => isAlive(pid) && isStackServer(pid));
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await waitForExit(leftovers, 10_000);
  }
  let info: StackLockInfo = { pid: process.pid, startedAt: new Date().toISOString(), pids: [] };
  await writeFile(file, JSON.stringify(info), { flag: lockExists ? 'w' : 'wx' });
  return {
    file,
    async update(changes: Partial<Omit<StackLockInfo, 'pid' | 'startedAt'>>) {
      info = { ...info, ...changes };
      await writeFile(file, JSON.stringify(info));
    },
    async release() {
      await rm(file, { force: true });
    },
  };
}

async function readLock(file: string): Promise<StackLockInfo | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StackLockInfo;
  } catch {
    return undefined;
  }
}

function isStackServer(pid: number): boolean {
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /temporal|ferretdb|postgres/.test(command);
  } catch {
    // No /proc (macOS): trust the recorded pid.
    return process.platform !== 'linux';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitForExit(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const pid of pids.filter(isAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';

/** How a server is started: as another user (when we are root), where, and how it is asked to stop. */
export interface SpawnAs {
  uid?: number;
  gid?: number;
  cwd?: string;
  /** The signal `stop()` sends first (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

/**
 * A server process owned by the stack: output goes to a log file, `stop()` sends SIGTERM (or the chosen signal) and
 * escalates to SIGKILL, and an unexpected exit is reported instead of being noticed later as a
 * connection error.
 */
export class ManagedProcess {
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private stopping = false;
  private readonly stopSignal: NodeJS.Signals;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    readonly logFile: string,
    onUnexpectedExit?: (name: string, code: number | null) => void,
    options: SpawnAs = {},
  ) {
    const log = createWriteStream(logFile, { flags: 'a' });
    const { stopSignal, ...spawnOptions } = options;
    this.stopSignal = stopSignal ?? 'SIGTERM';
    this.child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.pipe(log);
    this.child.stderr?.pipe(log);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        log.end();
        if (!this.stopping) onUnexpectedExit?.(this.name, code);
        resolve(code);
      });
      this.child.once('error', () => resolve(null));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    if (!this.running) return;
    this.child.kill(this.stopSignal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async logTail(lines = 15): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.trim().split('\n').slice(-lines).join('\n');
  }
}

/** Waits until `probe` succeeds, failing early if the process died. */
export async function waitUntilReady(
  proc: ManagedProcess,
  probe: () => Promise<unknown>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!proc.running) {
      throw new Error(
        `${proc.name} exited during start-up; last log lines:\n${await proc.logTail()}`,
      );
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(
    `${proc.name} did not become ready in ${timeoutMs / 1000}s (${String((lastError as Error)?.message)}); last log lines:\n${await proc.logTail()}`,
  );
}

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A port the OS says is free right now (for tests, which must not collide with `npm start`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function tcpProbe(port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}

import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireStackLock, StackAlreadyRunningError } from '../../stack/lock';

function writeLock(dir: string, pid: number): void {
  const info = { pid, startedAt: '2026-10-01T01:30:00.000Z', pids: [] };
  writeFileSync(path.join(dir, 'stack.lock'), JSON.stringify(info));
}

/** The pid of a process that has already exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return child.pid!;
}

describe('acquireStackLock', () => {
  let dir: string;
  let sleeper: ChildProcess | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'stack-lock-'));
  });

  afterEach(async () => {
    if (sleeper && sleeper.exitCode === null && sleeper.signalCode === null) {
      const exited = new Promise((resolve) => sleeper!.once('exit', resolve));
      sleeper.kill('SIGKILL');
      await exited;
    }
    sleeper = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a lock names a live foreign pid, then acquiring throws StackAlreadyRunningError naming it', async () => {
    // Arrange
    sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = sleeper.pid!;
    writeLock(dir, pid);

    // Act
    const attempt = acquireStackLock(dir);

    // Assert
    const err: unknown = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StackAlreadyRunningError);
    expect((err as Error).message).toContain(`pid ${pid}`);
    expect((err as Error).message).toContain('already running');
    expect(JSON.parse(readFileSync(path.join(dir, 'stack.lock'), 'utf8'))).toMatchObject({ pid });
  });

  it('when the lock is stale (its pid is dead), then acquiring succeeds and release removes the file', async () => {
    // Arrange
    writeLock(dir, await deadPid());
    const file = path.join(dir, 'stack.lock');

    // Act
    const lock = await acquireStackLock(dir);
    const written: unknown = JSON.parse(readFileSync(file, 'utf8'));
    await lock.release();

    // Assert
    expect(lock.file).toBe(file);
    expect(written).toMatchObject({ pid: process.pid, pids: [] });
    expect(existsSync(file)).toBe(false);
  });

  it('when a stale lock lists a live pid that is not a stack server, then that process is left running', async () => {
    // Arrange
    sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    const info = {
      pid: await deadPid(),
      startedAt: '2026-10-01T01:30:00.000Z',
      pids: [sleeper.pid],
    };
    writeFileSync(path.join(dir, 'stack.lock'), JSON.stringify(info));

    // Act
    const lock = await acquireStackLock(dir);
    await lock.release();

    // Assert
    expect(sleeper.exitCode).toBeNull();
    expect(sleeper.signalCode).toBeNull();
    expect(() => process.kill(sleeper!.pid!, 0)).not.toThrow();
  });

  it('when a stale lock lists a server the killed supervisor left running, then acquiring stops it', async () => {
    // Arrange: a process that looks like a leftover Temporal server (its argv[0] names it).
    sleeper = spawn('bash', ['-c', 'exec -a temporal-leftover sleep 30'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      sleeper!.once('exit', (_code, signal) => resolve(signal)),
    );
    await new Promise((resolve) => setTimeout(resolve, 200)); // let bash exec into sleep
    const info = {
      pid: await deadPid(),
      startedAt: '2026-10-01T01:30:00.000Z',
      pids: [sleeper.pid],
    };
    writeFileSync(path.join(dir, 'stack.lock'), JSON.stringify(info));

    // Act
    const lock = await acquireStackLock(dir);
    await lock.release();

    // Assert
    expect(await exited).toBe('SIGTERM');
  });

  it('when there is no lock, then acquiring writes one naming this process and update merges changes', async () => {
    // Arrange
    const nested = path.join(dir, 'data', 'stack');

    // Act
    const lock = await acquireStackLock(nested);
    await lock.update({ pids: [123], apiUrl: 'http://127.0.0.1:3000' });
    const written: unknown = JSON.parse(readFileSync(lock.file, 'utf8'));
    await lock.release();

    // Assert
    expect(written).toMatchObject({
      pid: process.pid,
      pids: [123],
      apiUrl: 'http://127.0.0.1:3000',
    });
    expect(existsSync(lock.file)).toBe(false);
  });
});

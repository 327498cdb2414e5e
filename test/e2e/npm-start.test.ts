import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../stack/paths';
import { defaultStore, storeFromEnv } from '../../stack/postgres';
import { freePort } from '../../stack/process';
import { randomPorts } from '../../stack/stack';
import { waitFor } from '../support/harness';
import { temporalCliPath, testStack } from '../support/test-stack';

/**
 * `npm start` as a user runs it (the supervisor CLI in its own process), on its own folder and
 * ports, with the binaries the run already has: ready, single-instance, and stopped cleanly.
 */
let stackDir: string;
let env: NodeJS.ProcessEnv;
const children: ChildProcess[] = [];

function startCli(): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'stack/cli.ts', 'start'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  children.push(child);
  return { child, output: () => output };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  stackDir = await mkdtemp(path.join(tmpdir(), 'governance-flow-start-'));
  const ports = await randomPorts();
  const stack = testStack();
  env = { ...process.env };
  for (const name of ['TEMPORAL_ADDRESS', 'MONGODB_URI', 'SMTP_URL', 'SMS_HTTP_URL']) {
    delete env[name];
  }
  Object.assign(env, {
    STACK_DIR: stackDir,
    TEMPORAL_CLI: temporalCliPath(),
    FERRETDB_BIN: stack.ferretdbPath,
    TEMPORAL_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.temporalUi),
    FERRETDB_PORT: String(ports.ferretdb),
    SMTP_PORT: String(ports.smtp),
    MAIL_SINK_HTTP_PORT: String(ports.mailHttp),
    WEBHOOK_SINK_PORT: String(ports.webhooks),
    API_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
  });
});

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exitOf(child);
    }
  }
  await rm(stackDir, { recursive: true, force: true });
});

it('when npm start runs, then it is ready with an admin key, refuses a second start, and SIGTERM leaves nothing running', async () => {
  const first = startCli();
  const readyLine = await waitFor(
    'the ready line',
    () => Promise.resolve(/Ready in ([\d.]+)s/.exec(first.output())?.[1]),
    90_000,
  );
  expect(Number(readyLine)).toBeLessThan(30);
  expect(first.output()).toContain(`API          http://127.0.0.1:${env.API_PORT}`);
  expect(first.output()).toContain('API docs');
  expect(first.output()).toContain('Temporal UI');
  expect(first.output()).toContain('Mail sink');

  const adminKey = readFileSync(path.join(stackDir, 'data', 'admin-api-key'), 'utf8').trim();
  const cases = await fetch(`http://127.0.0.1:${env.API_PORT}/api/v1/cases`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  expect(cases.status).toBe(200);
  const ready = await fetch(`http://127.0.0.1:${env.API_PORT}/readyz`);
  expect(ready.status).toBe(200);
  // The console is there, its sign-in page offering the demo county's people
  expect(first.output()).toContain(`Console      http://127.0.0.1:${env.API_PORT}/console/`);
  const signIn = await fetch(`http://127.0.0.1:${env.API_PORT}/console/login`);
  expect(signIn.status).toBe(200);
  expect(await signIn.text()).toContain('data-username="demo-community-dispatcher"');

  const second = startCli();
  expect(await exitOf(second.child)).toBe(1);
  expect(second.output()).toContain('already running');
  expect(second.output()).toContain(`pid ${first.child.pid}`);

  const lock = JSON.parse(readFileSync(path.join(stackDir, 'data', 'stack.lock'), 'utf8')) as {
    pids: number[];
  };
  // Temporal and FerretDB, and PostgreSQL under FerretDB when the run uses it (STACK_STORE, else
  // the default: PostgreSQL where it can run)
  const store =
    storeFromEnv(process.env) ??
    (await defaultStore(process.env, path.join(stackDir, 'data'))).store;
  expect(lock.pids).toHaveLength(store === 'postgresql' ? 3 : 2);
  expect(first.output()).toContain(
    store === 'postgresql' ? 'Starting FerretDB (PostgreSQL)' : 'Starting FerretDB (SQLite)',
  );
  first.child.kill('SIGTERM');
  expect(await exitOf(first.child)).toBe(0);
  expect(lock.pids.filter(isAlive)).toEqual([]);
  expect(existsSync(path.join(stackDir, 'data', 'stack.lock'))).toBe(false);
});

import { randomBytes } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { RunningApi } from '../../server';
import { startApi } from '../../server';
import type { AppConfig } from '../../common/config';
import { loadConfig } from '../../common/config';
import type { Database } from '../../models';
import { connectDatabase } from '../../models';
import type { SunkMail } from '../../stack/smtp-sink';
import { listMail } from '../../stack/smtp-sink';
import type { RunningWorker } from '../../worker';
import { startWorker } from '../../worker';
import { temporalAddress, testStack } from './test-stack';

/** Quiet the SDK's own logging in tests; the runtime is per process, so install it once. */
export function quietTemporalRuntime(): void {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  } catch {
    // Already installed by an earlier test file in this jest worker.
  }
}

/**
 * Configuration for one test file: its own database and task queue on the shared stack, so files
 * running in parallel never see each other's cases or workers.
 */
export function testConfig(name: string, overrides: Record<string, string> = {}): AppConfig {
  const stack = testStack();
  const suffix = `${name}-${randomBytes(3).toString('hex')}`;
  const database = `t_${suffix.replace(/[^A-Za-z0-9]/g, '_')}`;
  return loadConfig({
    ...stack.env,
    MONGODB_URI: stack.env.MONGODB_URI.replace(/\/[^/]*$/, `/${database}`),
    TEMPORAL_TASK_QUEUE: `test-${suffix}`,
    API_PORT: '0',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    ...overrides,
  });
}

export interface HttpResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export interface TestApp {
  config: AppConfig;
  api: RunningApi;
  worker: RunningWorker | undefined;
  db: Database;
  adminKey: string;
  http<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: {
      token?: string;
      body?: unknown;
      headers?: Record<string, string>;
      rawBody?: string;
    },
  ): Promise<HttpResponse<T>>;
  /** Creates a person's account through the API and signs in; returns the session token. */
  signIn(username: string, roles: string[], unitIds?: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** The password of every account the tests create. */
export const TEST_PASSWORD = 'correct horse battery';

/** The API and (unless told otherwise) an in-process worker on the shared stack, with an admin key. */
export async function startTestApp(
  name: string,
  options: { worker?: boolean; config?: AppConfig; logger?: Logger } = {},
): Promise<TestApp> {
  quietTemporalRuntime();
  // The API and worker run on the shared dev server; fail plainly in a tier that has none.
  temporalAddress();
  const config = options.config ?? testConfig(name);
  const worker =
    options.worker === false
      ? undefined
      : await startWorker(config, { workflowBundle: { codePath: testStack().workflowBundlePath } });
  const api = await startApi(config, options.logger ? { logger: options.logger } : {});
  const adminKey = `gfk_test_${randomBytes(24).toString('base64url')}`;
  await api.ensureBootstrapAdminKey(adminKey);
  const db = await connectDatabase(config.MONGODB_URI);
  const unwatch = watchOutbox(db);

  const app: TestApp = {
    config,
    api,
    worker,
    db,
    adminKey,
    async http(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined = opts.rawBody;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
      }
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      const res = await fetch(`${api.url}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON (the docs page)
      }
      return { status: res.status, body: parsed as never, headers: res.headers };
    },
    async signIn(username, roles, unitIds = []) {
      const created = await app.http('POST', '/api/v1/users', {
        token: adminKey,
        body: { username, displayName: username, password: TEST_PASSWORD, roles, unitIds },
      });
      if (created.status !== 201) throw new Error(`creating ${username}: HTTP ${created.status}`);
      const login = await this.http<{ token: string }>('POST', '/api/v1/auth/login', {
        body: { username, password: TEST_PASSWORD },
      });
      if (login.status !== 200) throw new Error(`signing in ${username}: HTTP ${login.status}`);
      return login.body.token;
    },
    async stop() {
      await api.stop();
      await worker?.stop();
      unwatch();
      await db.close();
    },
  };
  return app;
}

/**
 * Polls until `check` returns a value that is not undefined, null or false, or fails with
 * `what`. (Null counts as "not yet": `Model.exists()` answers null for a missing document.)
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The outboxes of this test file's databases, which {@link mailsTo} waits on. */
const watchedOutboxes = new Set<Database['models']['Outbox']>();

/** Makes {@link mailsTo} wait until `db`'s outbox has delivered what is due; returns the undo. */
export function watchOutbox(db: Database): () => void {
  const outbox = db.models.Outbox;
  watchedOutboxes.add(outbox);
  return () => void watchedOutboxes.delete(outbox);
}

/**
 * Waits (up to `timeoutMs`) until no watched outbox holds mail due now or being sent. The
 * workflow only enqueues mail and the worker's dispatcher delivers it moments later, so a test
 * that saw `notification.sent` (queued) reads the sink once this settles. Mail waiting for a
 * later retry does not count; past the timeout the caller's own assertion speaks.
 */
export async function outboxSettled(timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const now = new Date();
    let busy = 0;
    for (const outbox of watchedOutboxes) {
      try {
        busy += await outbox.countDocuments({
          $or: [
            { status: 'pending', nextAttemptAt: { $lte: now } },
            { status: 'sending', leaseUntil: { $gt: now } },
          ],
        });
      } catch {
        watchedOutboxes.delete(outbox); // its connection was closed
      }
    }
    if (busy === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function mailsTo(address: string): Promise<SunkMail[]> {
  await outboxSettled();
  return (await listMail(testStack().mailDir)).filter((m) => m.envelope.to.includes(address));
}

/**
 * The mails of each address from one listing of the sink: a CI run's sink holds thousands of
 * mails, so one listing per address (and one outbox wait each) made a 40-person check outrun its
 * test's timeout.
 */
export async function mailsToEach(addresses: readonly string[]): Promise<Map<string, SunkMail[]>> {
  await outboxSettled();
  const all = await listMail(testStack().mailDir);
  return new Map(addresses.map((a) => [a, all.filter((m) => m.envelope.to.includes(a))]));
}

/** A unique mailbox per test, so assertions on the shared sink never see another test's mail. */
export function uniqueAddress(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}@example.test`;
}

export function idempotencyKey(): string {
  return `test-${randomBytes(8).toString('hex')}`;
}

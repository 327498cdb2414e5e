import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { dataConverterFor } from '../../common/payload-codec';
import { loadConfig } from '../../common/config';
import { stackDirs } from '../../stack/paths';
import { silentProgress } from '../../stack/progress';
import type { LocalStack, StackPorts } from '../../stack/stack';
import { storeFromEnv } from '../../stack/postgres';
import { randomPorts, startLocalStack } from '../../stack/stack';
import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import { waitingProcess } from '../../scripts/recorded-processes';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * A stack of its own (not the shared one), stopped and started again on the same data folder:
 * what `npm start` does after a reboot.
 */
let dataDir: string;
let ports: StackPorts;
let stack: LocalStack | undefined;
let app: TestApp | undefined;

async function bringUp(): Promise<TestApp> {
  stack = await startLocalStack({
    dirs: stackDirs({ dataDir }),
    ports,
    progress: silentProgress,
    env: {},
    // The store the run was asked for (STACK_STORE), so a run on PostgreSQL proves its restart too.
    store: storeFromEnv(process.env),
  });
  const config = loadConfig({
    ...stack.env,
    TEMPORAL_TASK_QUEUE: 'restart-test',
    API_PORT: '0',
    LOG_LEVEL: 'silent',
  });
  return startTestApp('restart', { config });
}

async function bringDown(): Promise<void> {
  await app?.stop();
  app = undefined;
  await stack?.stop();
  stack = undefined;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'governance-flow-restart-'));
  ports = await randomPorts();
});

afterAll(async () => {
  await bringDown();
  await rm(dataDir, { recursive: true, force: true });
});

it('when the whole local stack is stopped and started again, then the case, its document and its timer survive', async () => {
  app = await bringUp();
  await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
    source: waitingProcess('restart-wait', 'PT15S'),
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  const adminKey = app.adminKey;
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: 'restart-wait',
      data: { category: '其他', description: '重启测试', contactEmail: uniqueAddress('restart') },
    },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;
  const current = app;
  const keysBefore = stack!.env.TEMPORAL_CODEC_KEYS;
  await waitFor(
    'the case to reach its timer',
    async () => (await current.db.models.Case.findById(caseId).lean())?.currentStep?.id === 'wait',
  );

  await bringDown();
  app = await bringUp();
  const after = app;
  // The payload codec key was generated once into the data folder and is reused: the history
  // written before the restart still decrypts.
  expect(keysBefore).toMatch(/^local-/);
  expect(stack!.env.TEMPORAL_CODEC_KEYS).toBe(keysBefore);

  // The same admin key still works: credentials live in the store, which kept its files.
  const view = await after.http<{ id: string; status: string; timeline: unknown[] }>(
    'GET',
    `/api/v1/cases/${caseId}`,
    { token: adminKey },
  );
  expect(view.status).toBe(200);
  expect(view.body.status).toBe('open');
  expect(view.body.timeline.length).toBeGreaterThan(0);

  const connection = await Connection.connect({ address: stack!.env.TEMPORAL_ADDRESS });
  try {
    const description = await new Client({
      connection,
      dataConverter: dataConverterFor(after.config.TEMPORAL_CODEC_KEYS),
    }).workflow
      .getHandle(caseId)
      .describe();
    expect(description.status.name).toBe('RUNNING');
  } finally {
    await connection.close();
  }

  const closed = await waitFor(
    'the timer to fire after the restart',
    async () => {
      const doc = await after.db.models.Case.findById(caseId).lean();
      return doc?.status === 'closed' ? doc : undefined;
    },
    60_000,
  );
  expect(closed.timeline.filter((e) => e.type === 'timer.fired')).toHaveLength(1);
  expect(await after.db.models.Case.countDocuments({ _id: caseId })).toBe(1);
});

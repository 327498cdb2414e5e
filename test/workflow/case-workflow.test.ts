import { randomBytes } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import YAML from 'yaml';
import { createActivities } from '../../activities';
import type { OutboxDispatcher } from '../../activities/outbox';
import { createOutboxDispatcher } from '../../activities/outbox';
import { checksumOf } from '../../services/definitions';
import type { CaseWorkflowInput } from '../../common/case';
import { CASE_WORKFLOW_TYPE } from '../../common/case';
import { validateDefinition } from '../../lang/check';
import { createLogger } from '../../common/logger';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../common/search-attributes';
import { createMailRenderer } from '../../mail/renderer';
import type { MailTransport } from '../../mail/transport';
import { createSmtpTransport } from '../../mail/transport';
import type { Database } from '../../models';
import { connectDatabase } from '../../models';
import type { CaseStateView } from '../../workflows';
import { waitingProcess } from '../../scripts/recorded-processes';
import {
  mailsTo,
  quietTemporalRuntime,
  testConfig,
  uniqueAddress,
  waitFor,
  watchOutbox,
} from '../support/harness';
import { testServerPath, testStack, testDataConverter } from '../support/test-stack';

/**
 * The interpreter on Temporal's time-skipping test server: days of timers pass in moments.
 * Activities are the real ones, over FerretDB and the SMTP sink; only a failing mail transport
 * is faked, at the transport boundary.
 */
let env: TestWorkflowEnvironment;
let db: Database;
const renderer = createMailRenderer();
const logger = createLogger('test', 'silent');

beforeAll(async () => {
  quietTemporalRuntime();
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
    client: { dataConverter: testDataConverter() },
  });
  // Registered like the dev server's --search-attribute flags: the workflow upserts them.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      CUSTOM_SEARCH_ATTRIBUTES.map((key) => [
        key.name,
        temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  db = await connectDatabase(testConfig('workflow').MONGODB_URI);
  watchOutbox(db);
});

afterAll(async () => {
  await db?.close();
  await env?.teardown();
});

function snapshotOf(source: string) {
  const result = validateDefinition(YAML.parse(source), { knownTemplates: renderer.templateNames });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return { key: result.spec.key, version: 1, checksum: checksumOf(result.spec), spec: result.spec };
}

function inputFor(source: string, data: Record<string, unknown>): CaseWorkflowInput {
  return {
    caseId: `case-${randomBytes(12).toString('hex')}`,
    definition: snapshotOf(source),
    data,
    startedBy: { kind: 'user', id: 'usr_test', roles: ['resident'] },
    requestHash: 'test',
    receivedAt: new Date().toISOString(),
    channel: 'test',
  };
}

async function runCase(
  input: CaseWorkflowInput,
  transport: MailTransport,
  outbox?: OutboxDispatcher,
): Promise<CaseStateView> {
  const taskQueue = `wf-${randomBytes(4).toString('hex')}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: testStack().workflowBundlePath },
    dataConverter: testDataConverter(),
    activities: createActivities({
      models: db.models,
      mail: {
        transport,
        renderer,
        from: 'test <noreply@governance.local>',
        ...(outbox ? { outbox } : {}),
      },
      clock: () => new Date(),
      logger,
    }),
  });
  return worker.runUntil(
    env.client.workflow.execute<(input: CaseWorkflowInput) => Promise<CaseStateView>>(
      CASE_WORKFLOW_TYPE,
      {
        taskQueue,
        workflowId: input.caseId,
        args: [input],
      },
    ),
  );
}

const smtp = () => createSmtpTransport(testStack().env.SMTP_URL);

it('when a case waits two days on a timer, then it fires after two days of workflow time and the case closes', async () => {
  const email = uniqueAddress('timer');
  const input = inputFor(waitingProcess('two-day-wait', 'P2D'), {
    category: '公共设施',
    description: '路灯不亮',
    contactEmail: email,
  });
  const startedAt = Date.now();
  const result = await runCase(input, smtp());
  expect(result.status).toBe('closed');
  expect(Date.now() - startedAt).toBeLessThan(30_000);

  const doc = (await db.models.Case.findById(input.caseId).lean())!;
  const entered = doc.timeline.find((e) => e.type === 'step.entered' && e.stepId === 'wait')!;
  const fired = doc.timeline.find((e) => e.type === 'timer.fired')!;
  expect(fired.at.getTime() - entered.at.getTime()).toBeGreaterThanOrEqual(2 * 24 * 3600_000);
  expect(fired.detail).toMatchObject({ duration: 'P2D' });
  const firedAt = (fired.detail as Record<string, unknown>).at;
  expect(Date.parse(String(firedAt))).toBeLessThanOrEqual(fired.at.getTime());
  expect(doc.status).toBe('closed');
  expect(doc.closedAt).toBeInstanceOf(Date);
  await waitFor('both mails', async () => (await mailsTo(email)).length === 2);
});

it('when the recipient field is empty, then the notification is recorded as failed and the case goes on', async () => {
  const source = `
key: optional-mail
name: 可选邮件
starters: [resident]
input:
  fields:
    - { name: contactEmail, label: 邮箱, type: email }
steps:
  - { id: tell, name: 通知, type: notify, template: case-received, to: { field: contactEmail } }
  - { id: done, name: 完成, type: end }
`;
  const input = inputFor(source, {});
  const result = await runCase(input, smtp());
  expect(result.status).toBe('closed');
  const doc = (await db.models.Case.findById(input.caseId).lean())!;
  expect(doc.timeline.find((e) => e.type === 'notification.failed')?.detail).toEqual({
    template: 'case-received',
    reason: 'no-recipient',
  });
});

it('when the mail relay keeps failing, then the case closes without waiting, and the outbox keeps retrying with the reason and without the address', async () => {
  let attempts = 0;
  const failing: MailTransport = {
    send: () => {
      attempts++;
      return Promise.reject(new Error('451 <resident@example.test>: relay unavailable'));
    },
    verify: () => Promise.resolve(),
    close: () => undefined,
  };
  const input = inputFor(waitingProcess('failing-mail', 'PT1M'), {
    category: '其他',
    description: '测试',
    contactEmail: uniqueAddress('unreachable'),
  });
  // Its own dispatcher, stopped at the end, so its retries never touch other tests' mail.
  const dispatcher = createOutboxDispatcher({
    models: db.models,
    transport: failing,
    from: 'test <noreply@governance.local>',
    clock: () => new Date(),
    logger,
  });
  const result = await runCase(input, failing, dispatcher);
  expect(result.status).toBe('closed');
  const outbox = await waitFor('both mails tried', async () => {
    const docs = await db.models.Outbox.find({ caseId: input.caseId }).sort({ _id: 1 }).lean();
    return docs.length === 2 && docs.every((d) => d.attempts >= 1 && d.status === 'pending')
      ? docs
      : null;
  });
  expect(attempts).toBeGreaterThanOrEqual(2);
  expect(outbox.map((o) => o.lastError)).toEqual([
    '451 [address]: relay unavailable',
    '451 [address]: relay unavailable',
  ]);
  const doc = (await db.models.Case.findById(input.caseId).lean())!;
  expect(
    doc.timeline
      .filter((e) => e.type === 'notification.sent')
      .map((e) => (e.detail as { status: string }).status),
  ).toEqual(['queued', 'queued']);
  await dispatcher.stop();
  // Mail still waiting for a retry would hold up later tests' reads of the sink.
  await db.models.Outbox.deleteMany({ caseId: input.caseId });
});

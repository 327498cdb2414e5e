import { Client, Connection } from '@temporalio/client';
import { dataConverterFor } from '../../common/payload-codec';
import { createMailRenderer } from '../../mail/renderer';
import { createDefinitionService } from '../../services/definitions';
import type { DefinitionService } from '../../services/definitions';
import type { ConsoleClient } from '../support/console-client';
import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, waitFor } from '../support/harness';
import { temporalAddress } from '../support/test-stack';

/**
 * The console's failed and stuck cases page (异常案件) for admins: listed with reason, step and
 * time; a failed case retried from a step, a stuck one cancelled with a note; nobody else.
 */
const SPAWNING = 'cfail-spawning';
const CHILD = 'cfail-child';
const HOLDING = 'cfail-holding';

const spawning = `
key: ${SPAWNING}
name: 控制台转办
starters: [admin]
input: { fields: [] }
steps:
  - { id: intake, name: 登记, type: timer, duration: PT1S }
  - { id: spawn, name: 转办子流程, type: subprocess, definition: ${CHILD} }
  - { id: closed, name: 办结, type: end }
`;
const child = `
key: ${CHILD}
name: 控制台子流程
starters: [admin]
input: { fields: [] }
steps:
  - { id: done, name: 完成, type: end }
`;
const holdingSource = `
key: ${HOLDING}
name: 控制台等待
starters: [admin]
input: { fields: [] }
steps:
  - { id: wait, name: 等待, type: timer, duration: P30D }
  - { id: closed, name: 办结, type: end }
`;

let app: TestApp;
let definitions: DefinitionService;
let admin: ConsoleClient;
let adminToken: string;
let staff: ConsoleClient;
let temporal: Client;

beforeAll(async () => {
  app = await startTestApp('console-failures');
  definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  for (const source of [spawning, holdingSource]) {
    await definitions.publish({ source, format: 'yaml', publishedBy: { kind: 'system', id: 't' } });
  }
  adminToken = await app.signIn('cfail-admin', ['admin']);
  admin = consoleClient(app.api.url);
  admin.useSession(adminToken);
  staff = consoleClient(app.api.url);
  staff.useSession(await app.signIn('cfail-staff', ['staff']));
  temporal = new Client({
    connection: await Connection.connect({ address: temporalAddress() }),
    namespace: app.config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverterFor(app.config.TEMPORAL_CODEC_KEYS),
  });
});

afterAll(async () => {
  await temporal?.connection.close();
  await app?.stop();
});

async function startCase(definitionKey: string): Promise<string> {
  const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey, data: {} },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

function caseStatus(caseId: string, status: string) {
  return waitFor(`case ${caseId} ${status}`, async () => {
    const doc = await app.db.models.Case.findById(caseId, { status: 1 }).lean();
    return doc?.status === status ? doc : undefined;
  });
}

function rowOf(html: string, caseId: string): string {
  const start = html.indexOf(`<tr data-case="${caseId}">`);
  expect(start).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</tr>', start));
}

it('when a case failed, then the admin sees its reason and step with the failing step preselected, and a retry from the page closes it', async () => {
  // Arrange: fails at `spawn`, its sub-process not published; the run ends
  const caseId = await startCase(SPAWNING);
  await caseStatus(caseId, 'failed');
  await waitFor('the failed run to end', async () => {
    const described = await temporal.workflow.getHandle(caseId).describe();
    return described.status.name === 'FAILED';
  });

  // Act
  const page = await admin.get('/console/admin/failures');

  // Assert: listed with reason, step, the steps to choose from (the failing one selected)
  expect(page.status).toBe(200);
  expect(page.html).toContain('href="/console/admin/failures" aria-current="page"');
  const row = rowOf(page.html, caseId);
  expect(row).toContain('DefinitionNotFound');
  expect(row).toContain('<code>spawn</code>');
  expect(row).toContain('<option value="intake">');
  expect(row).toContain('<option value="spawn" selected>');
  expect(textOf(page.html)).toContain('异常案件');

  // Act: the child is published, then the admin retries from the chosen step
  await definitions.publish({
    source: child,
    format: 'yaml',
    publishedBy: { kind: 'system', id: 't' },
  });
  const retried = await admin.post('/console/admin/failures/retry', {
    id: caseId,
    stepId: 'spawn',
  });

  // Assert
  expect(retried.status).toBe(303);
  expect(retried.location).toBe('/console/admin/failures?done=retried');
  await caseStatus(caseId, 'closed');
  const after = await admin.get('/console/admin/failures?done=retried');
  expect(after.html).not.toContain(`data-case="${caseId}"`);
  expect(textOf(after.html)).toContain('已重新开始办理。');
});

it('when a case is stuck, then the admin sees it with its execution state and cancels it with a note; an empty note is refused', async () => {
  // Arrange: an open case whose execution was terminated and whose document is 15 minutes old
  const caseId = await startCase(HOLDING);
  await waitFor('the timer step', async () => {
    const doc = await app.db.models.Case.findById(caseId, { currentStep: 1 }).lean();
    return doc?.currentStep?.id === 'wait';
  });
  await temporal.workflow.getHandle(caseId).terminate('console test');
  await app.db.models.Case.collection.updateOne(
    { _id: caseId as never },
    { $set: { updatedAt: new Date(Date.now() - 15 * 60_000) } },
  );

  // Act
  const page = await admin.get('/console/admin/failures');
  const empty = await admin.post('/console/admin/failures/cancel', { id: caseId, note: '  ' });
  await admin.get('/console/admin/failures');
  const cancelled = await admin.post('/console/admin/failures/cancel', {
    id: caseId,
    note: '重复登记',
  });

  // Assert
  const row = rowOf(page.html, caseId);
  expect(row).toContain('TERMINATED');
  expect(row).toContain('name="note" required maxlength="200"');
  expect(empty.status).toBe(400);
  expect(cancelled.status).toBe(303);
  expect(cancelled.location).toBe('/console/admin/failures?done=cancelled');
  const doc = await caseStatus(caseId, 'cancelled');
  expect(doc).toBeTruthy();
  const stored = await app.db.models.Case.findById(caseId).lean();
  expect(stored!.timeline.find((e) => e.type === 'case.cancelled')?.detail).toEqual({
    reason: 'AdminCancelled',
    message: '重复登记',
  });
});

it('when the page is read in English, then its labels are English; without the admin role or a CSRF token, it is refused', async () => {
  // Act
  const english = await fetch(`${app.api.url}/console/admin/failures`, {
    headers: { cookie: `gf_session=${encodeURIComponent(adminToken)}; gf_lang=en` },
  });
  const asStaff = await staff.get('/console/admin/failures');
  const noToken = await fetch(`${app.api.url}/console/admin/failures/cancel`, {
    method: 'POST',
    headers: {
      cookie: `gf_session=${encodeURIComponent(adminToken)}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ id: 'case-x', note: 'x' }).toString(),
    redirect: 'manual',
  });

  // Assert
  expect(english.status).toBe(200);
  const text = textOf(await english.text());
  expect(text).toContain('Failed and stuck cases');
  expect(text).toContain('Check now');
  expect(asStaff.status).toBe(403);
  expect(noToken.status).toBe(403);
});

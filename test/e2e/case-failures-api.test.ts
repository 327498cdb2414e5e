import { Client, Connection } from '@temporalio/client';
import { createCaseFailures } from '../../activities/case-failures';
import { createLogger } from '../../common/logger';
import { createMailRenderer } from '../../mail/renderer';
import { createDefinitionService } from '../../services/definitions';
import type { DefinitionService } from '../../services/definitions';
import type { TestApp } from '../support/harness';
import { idempotencyKey, mailsTo, startTestApp, uniqueAddress, waitFor } from '../support/harness';
import { temporalAddress, testDataConverter } from '../support/test-stack';

/**
 * Failed and stuck cases on the dev server (whose visibility the reconciler reads): an execution
 * terminated from outside is ended by the reconciler's pass (run by its schedule in the worker),
 * and admins list failed cases, cancel and retry them through /api/v1/admin/cases; nobody else.
 */
const HOLDING = 'failures-holding';
const SPAWNING = 'failures-spawning';
const CHILD = 'failures-child';

const holding = `
key: ${HOLDING}
name: 等待办理
starters: [admin]
input: { fields: [] }
steps:
  - id: serve
    name: 网格员办理
    type: task
    candidates: [{ role: grid-worker, unit: case }]
    deadlines: [{ id: respond, name: 响应时限, within: P2D }]
  - { id: closed, name: 办结, type: end }
`;
const spawning = `
key: ${SPAWNING}
name: 转办
starters: [admin]
input: { fields: [] }
steps:
  # data given: a stored spec loses an empty \`data: {}\` (mongoose drops empty objects)
  - { id: spawn, name: 转办子流程, type: subprocess, definition: ${CHILD}, data: { origin: case.id } }
  - { id: closed, name: 办结, type: end }
`;
const child = `
key: ${CHILD}
name: 子流程
starters: [admin]
input: { fields: [{ name: origin, label: 来源, type: string }] }
steps:
  - { id: done, name: 完成, type: end }
`;

let app: TestApp;
let definitions: DefinitionService;
let staffToken: string;
let temporal: Client;
const adminMail = uniqueAddress('failures-admin');

beforeAll(async () => {
  app = await startTestApp('case-failures');
  definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  for (const source of [holding, spawning]) {
    await definitions.publish({ source, format: 'yaml', publishedBy: { kind: 'system', id: 't' } });
  }
  await app.signIn('failures-admin', ['admin']);
  staffToken = await app.signIn('failures-staff', ['staff'], ['fg1']);
  const adminUser = await app.db.models.User.findOne({ username: 'failures-admin' }).lean();
  const staffUser = await app.db.models.User.findOne({ username: 'failures-staff' }).lean();
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'fs1', name: '失败街道', type: 'street', parentId: null },
        { id: 'fg1', name: '失败网格', type: 'grid', parentId: 'fs1' },
      ],
      people: [
        { id: 'p-fadmin', name: '管理员', email: adminMail, userId: String(adminUser!._id) },
        {
          id: 'p-fstaff',
          name: '网格员',
          email: uniqueAddress('failures-staff'),
          userId: String(staffUser!._id),
        },
      ],
      posts: [{ unitId: 'fg1', role: 'grid-worker', personId: 'p-fstaff' }],
    },
  });
  expect(imported.status).toBe(200);
  temporal = new Client({
    connection: await Connection.connect({ address: temporalAddress() }),
    namespace: app.config.TEMPORAL_NAMESPACE,
    // The run's payloads are encrypted: this client reads them as the API's and worker's do.
    dataConverter: testDataConverter(),
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
    body: { definitionKey, unitId: 'fg1', data: {} },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function openTask(caseId: string) {
  const task = await waitFor('the task to open', () =>
    app.db.models.Task.findOne({ caseId, status: 'open', dueAt: { $ne: null } }).lean(),
  );
  // The projection writes a revision's tasks before its case document (a retry after a lost case
  // write re-applies them as no-ops, activities/index.ts), so the opening case may land a moment
  // after its first task: the admin endpoints read the case document.
  await caseDoc(caseId, 'open');
  return task;
}

function caseDoc(caseId: string, status: string) {
  return waitFor(`case ${caseId} ${status}`, async () => {
    const doc = await app.db.models.Case.findById(caseId).lean();
    return doc?.status === status ? doc : undefined;
  });
}

it('when an operator terminates a case execution, then a reconciler pass fails the case, cancels its task, stops its clocks and mails the admins, once', async () => {
  // Arrange
  const caseId = await startCase(HOLDING);
  const task = await openTask(caseId);

  // Act: terminated from outside; the pass reads visibility, which catches up in moments
  await temporal.workflow.getHandle(caseId).terminate('operator test');
  const reconciler = createCaseFailures({
    models: app.db.models,
    clock: () => new Date(),
    logger: createLogger('test', 'silent'),
  });
  const ended = await waitFor('the reconciler to end the case', async () => {
    const report = await reconciler.reconcile(temporal, {
      taskQueue: app.config.TEMPORAL_TASK_QUEUE,
    });
    return report.ended.find((e) => e.caseId === caseId);
  });
  const again = await reconciler.reconcile(temporal, { taskQueue: app.config.TEMPORAL_TASK_QUEUE });

  // Assert
  expect(ended).toEqual({ caseId, status: 'failed', reason: 'ExecutionTerminated' });
  expect(again.ended.map((e) => e.caseId)).not.toContain(caseId);
  const doc = await caseDoc(caseId, 'failed');
  const failed = doc.timeline.filter((e) => e.type === 'case.failed');
  expect(failed).toHaveLength(1);
  expect(failed[0]!.detail).toEqual({ reason: 'ExecutionTerminated' });
  expect(doc.timeline.filter((e) => e.type === 'task.cancelled')).toHaveLength(1);
  expect((doc.deadlines as Array<{ stopped: boolean }>).every((d) => d.stopped)).toBe(true);
  const storedTask = await app.db.models.Task.findById(task._id).lean();
  expect(storedTask).toMatchObject({ status: 'cancelled', dueAt: null });
  expect((storedTask!.deadlines as Array<{ stopped: boolean }>).every((d) => d.stopped)).toBe(true);
});

it('when the reconciler schedule is triggered after an execution was terminated, then the worker’s pass fails the case and the admins get a mail', async () => {
  // Arrange
  const caseId = await startCase(HOLDING);
  await openTask(caseId);
  await temporal.workflow.getHandle(caseId).terminate('operator test');

  // Act: the admin's "reconcile now" triggers the schedule until the pass has seen it
  await waitFor(
    'the scheduled pass to end the case',
    async () => {
      const res = await app.http('POST', '/api/v1/admin/cases/reconcile', {
        token: app.adminKey,
      });
      expect(res.status).toBe(202);
      await new Promise((r) => setTimeout(r, 1000));
      const doc = await app.db.models.Case.findById(caseId, { status: 1 }).lean();
      return doc?.status === 'failed';
    },
    60_000,
  );

  // Assert
  const mails = await waitFor('the admin mail', async () => {
    const found = (await mailsTo(adminMail)).filter((m) => m.subject.includes(caseId));
    return found.length > 0 ? found : undefined;
  });
  expect(mails[0]!.subject).toContain('办理异常');
  expect(mails[0]!.text).toContain('ExecutionTerminated');
});

describe('admin endpoints', () => {
  it('when a sub-process is missing, then the case is listed as failed with its reason; after the process is published, a retry resumes at the failing step and the case closes', async () => {
    // Arrange: the case fails at once, its sub-process not published (and its run ends)
    const caseId = await startCase(SPAWNING);
    await caseDoc(caseId, 'failed');
    await waitFor('the failed run to end', async () => {
      const described = await temporal.workflow.getHandle(caseId).describe();
      return described.status.name === 'FAILED';
    });

    // Act + Assert: the list
    const list = await app.http<{ items: Array<Record<string, unknown>> }>(
      'GET',
      '/api/v1/admin/cases/failed',
      { token: app.adminKey },
    );
    expect(list.status).toBe(200);
    expect(list.body.items.find((c) => c.id === caseId)).toMatchObject({
      status: 'failed',
      stepId: 'spawn',
      reason: 'DefinitionNotFound',
    });

    // Act: fix (publish the child), then retry
    await definitions.publish({
      source: child,
      format: 'yaml',
      publishedBy: { kind: 'system', id: 't' },
    });
    const retried = await app.http('POST', `/api/v1/admin/cases/${caseId}/retry`, {
      token: app.adminKey,
      body: {},
    });

    // Assert
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id: caseId, status: 'open', stepId: 'spawn' });
    const doc = await caseDoc(caseId, 'closed');
    expect(doc.timeline.filter((e) => e.type === 'case.retried')).toHaveLength(1);
    expect(doc.closedAt).toBeInstanceOf(Date);
    const again = await app.http('POST', `/api/v1/admin/cases/${caseId}/retry`, {
      token: app.adminKey,
      body: {},
    });
    expect(again.status).toBe(409);
  });

  it('when an admin cancels a running case with a note, then its execution ends and the case is cancelled with its task withdrawn', async () => {
    // Arrange
    const caseId = await startCase(HOLDING);
    const task = await openTask(caseId);

    // Act
    const res = await app.http('POST', `/api/v1/admin/cases/${caseId}/cancel`, {
      token: app.adminKey,
      body: { note: '重复提交' },
    });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: caseId, status: 'cancelled' });
    const doc = await caseDoc(caseId, 'cancelled');
    expect(doc.timeline.find((e) => e.type === 'case.cancelled')?.detail).toEqual({
      reason: 'AdminCancelled',
      message: '重复提交',
    });
    expect(await app.db.models.Task.findById(task._id).lean()).toMatchObject({
      status: 'cancelled',
    });
    const described = await temporal.workflow.getHandle(caseId).describe();
    expect(described.status.name).toBe('TERMINATED');
    const twice = await app.http('POST', `/api/v1/admin/cases/${caseId}/cancel`, {
      token: app.adminKey,
      body: { note: '再次' },
    });
    expect(twice.status).toBe(409);
  });

  it('when a retry names a step the process lacks, then 422 names body.stepId; retried at its first step, a terminated case opens that task again', async () => {
    // Arrange: an open case (not retryable), and one terminated and ended as failed
    const open = await startCase(HOLDING);
    await openTask(open);
    const caseId = await startCase(HOLDING);
    await openTask(caseId);
    await temporal.workflow.getHandle(caseId).terminate('operator test');
    const reconciler = createCaseFailures({
      models: app.db.models,
      clock: () => new Date(),
      logger: createLogger('test', 'silent'),
    });
    expect(await reconciler.endIfClosed(temporal, caseId)).toMatchObject({ status: 'failed' });

    // Act
    const emptyNote = await app.http('POST', `/api/v1/admin/cases/${open}/cancel`, {
      token: app.adminKey,
      body: { note: '' },
    });
    const notFailed = await app.http('POST', `/api/v1/admin/cases/${open}/retry`, {
      token: app.adminKey,
      body: { stepId: 'serve' },
    });
    const unknownStep = await app.http<{ error: { details: Array<{ path: string }> } }>(
      'POST',
      `/api/v1/admin/cases/${caseId}/retry`,
      { token: app.adminKey, body: { stepId: 'nope' } },
    );
    const retried = await app.http('POST', `/api/v1/admin/cases/${caseId}/retry`, {
      token: app.adminKey,
      body: { stepId: 'serve' },
    });

    // Assert: the retry opened the step's task anew (visit 2), the case is open again
    expect(emptyNote.status).toBe(400);
    expect(notFailed.status).toBe(409);
    expect(unknownStep.status).toBe(422);
    expect(unknownStep.body.error.details.map((d) => d.path)).toEqual(['body.stepId']);
    expect(retried.status).toBe(202);
    const reopened = await waitFor('the retried task', () =>
      app.db.models.Task.findById(`${caseId}.serve.2`).lean(),
    );
    expect(reopened.status).toBe('open');
    const doc = await caseDoc(caseId, 'open');
    expect(doc.closedAt).toBeNull();
  });

  it('when someone without the admin role calls them, then every admin case endpoint answers 403', async () => {
    const caseId = await startCase(HOLDING);
    const calls: Array<[string, string, unknown]> = [
      ['GET', '/api/v1/admin/cases/failed', undefined],
      ['GET', '/api/v1/admin/cases/stuck', undefined],
      ['POST', `/api/v1/admin/cases/${caseId}/cancel`, { note: 'x' }],
      ['POST', `/api/v1/admin/cases/${caseId}/retry`, {}],
      ['POST', '/api/v1/admin/cases/reconcile', undefined],
    ];
    for (const [method, path, body] of calls) {
      const res = await app.http(method, path, {
        token: staffToken,
        ...(body !== undefined ? { body } : {}),
      });
      expect([path, res.status]).toEqual([path, 403]);
    }
  });
});

import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import { servedProcess } from '../../scripts/recorded-processes';
import { consoleClient } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { temporalAddress, testDataConverter } from '../support/test-stack';
import {
  idempotencyKey,
  mailsTo,
  startTestApp,
  testConfig,
  uniqueAddress,
  waitFor,
} from '../support/harness';

/**
 * An activity that keeps failing raises an alert instead of retrying in silence: past the
 * threshold (2 s here, STUCK_ACTIVITY_ALERT_SECONDS) the worker records it, admins list it at
 * /api/v1/admin/activities/stuck, the reconciler's pass mails them once, and the alert clears
 * when the activity finally succeeds.
 */

const DEFINITION = 'test-stuck';

interface AlertView {
  id: string;
  caseId: string;
  activityType: string;
  attempts: number;
  lastError: string | null;
  mailed: boolean;
}

let app: TestApp;
let temporal: Client;
let dispatcher: string;
let adminSession: string;
const adminMail = uniqueAddress('stuck-admin');

beforeAll(async () => {
  const config = testConfig('stuck-activities', { STUCK_ACTIVITY_ALERT_SECONDS: '2' });
  app = await startTestApp('stuck-activities', { config });
  await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
    source: servedProcess(DEFINITION, 'PT1H'),
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  dispatcher = await app.signIn('stuck-disp', ['dispatcher'], ['sc1']);
  adminSession = await app.signIn('stuck-admin', ['admin']);
  const users = await app.db.models.User.find(
    { username: { $in: ['stuck-disp', 'stuck-admin'] } },
    { username: 1 },
  ).lean();
  const idOf = (name: string) => String(users.find((u) => u.username === name)!._id);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'sc1', name: '卡住社区', type: 'community', parentId: null },
        { id: 'sg1', name: '卡住网格', type: 'grid', parentId: 'sc1' },
      ],
      people: [
        {
          id: 'p-sdisp',
          name: '派单员',
          email: uniqueAddress('stuck-disp'),
          userId: idOf('stuck-disp'),
        },
        { id: 'p-sadmin', name: '管理员', email: adminMail, userId: idOf('stuck-admin') },
      ],
      posts: [{ unitId: 'sc1', role: 'dispatcher', personId: 'p-sdisp' }],
    },
  });
  expect(imported.status).toBe(200);
  temporal = new Client({
    connection: await Connection.connect({ address: temporalAddress() }),
    namespace: app.config.TEMPORAL_NAMESPACE,
    dataConverter: testDataConverter(),
  });
});

afterAll(async () => {
  await temporal?.connection.close();
  await app?.stop();
});

async function stuckActivities(): Promise<AlertView[]> {
  const res = await app.http<{ items: AlertView[] }>('GET', '/api/v1/admin/activities/stuck', {
    token: app.adminKey,
  });
  expect(res.status).toBe(200);
  return res.body.items;
}

/** A case started by the dispatcher, once its dispatch task is open. */
async function caseAtDispatch() {
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: dispatcher,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: DEFINITION, unitId: 'sg1', data: { category: '环境卫生' } },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;
  const task = await waitFor('the dispatch task', () =>
    app.db.models.Task.findOne({ caseId, stepId: 'dispatch', status: 'open' }).lean(),
  );
  return { caseId, task };
}

it('when a projection keeps failing past the threshold, then admins see it listed, are mailed once, and it clears once the projection succeeds', async () => {
  // Arrange: a case waiting on its dispatch task
  const { caseId, task } = await caseAtDispatch();
  // The case document goes missing: the next revision has nothing to apply to, so the
  // projection retries with no end (as it would after a restore from an older backup).
  const saved = await app.db.models.Case.findById(caseId).lean();
  await app.db.models.Case.deleteOne({ _id: caseId });

  // Act: the claim makes the workflow project a new revision
  const claim = app.http('POST', `/api/v1/tasks/${String(task._id)}/claim`, {
    token: dispatcher,
    body: {},
  });
  const alert = await waitFor('the alert', async () =>
    (await stuckActivities()).find((a) => a.caseId === caseId),
  );
  expect(await app.db.models.ActivityAlert.countDocuments({ workflowId: caseId })).toBe(1);
  const browser = consoleClient(app.api.url);
  browser.useSession(adminSession);
  const page = await browser.get('/console/admin/failures');
  const reconcile = await app.http('POST', '/api/v1/admin/cases/reconcile', {
    token: app.adminKey,
  });
  const mailed = await waitFor('the admins’ mail', async () => {
    const mails = (await mailsTo(adminMail)).filter((m) => m.subject.includes('后台异常'));
    return mails.length > 0 ? mails : undefined;
  });
  const listedMailed = await waitFor('the alert marked mailed', async () =>
    (await stuckActivities()).find((a) => a.caseId === caseId && a.mailed),
  );
  await app.db.models.Case.collection.insertOne(saved as never);
  const cleared = await waitFor(
    'the projection to succeed and the alert to clear',
    async () => ((await stuckActivities()).some((a) => a.caseId === caseId) ? undefined : true),
    // The projection retries with backoff up to a minute apart (workflows/stubs.ts `store`);
    // a loaded CI machine once took longer than 150 s (a few attempts), so four minutes.
    240_000,
  ).catch(async (err: Error) => {
    // Say what was still open, so a timeout on a loaded machine can be told from a real fault.
    const open = await app.db.models.ActivityAlert.find({ workflowId: caseId }).lean();
    const pending = (await temporal.workflow.getHandle(caseId).describe()).raw.pendingActivities;
    throw new Error(
      `${err.message}; alerts ${JSON.stringify(open)}; pending ${JSON.stringify(
        pending?.map((a) => ({
          id: a.activityId,
          attempt: a.attempt,
          failure: a.lastFailure?.message,
        })),
      )}`,
    );
  });
  // A second pass mails nothing more.
  await app.http('POST', '/api/v1/admin/cases/reconcile', { token: app.adminKey });
  await new Promise((r) => setTimeout(r, 2_000));

  // Assert
  expect(alert).toMatchObject({ activityType: 'recordCaseProgress', mailed: false });
  expect(alert.attempts).toBeGreaterThanOrEqual(2);
  expect(alert.lastError).toMatch(/cannot apply/);
  expect(page.status).toBe(200);
  expect(page.html).toContain(`data-activity-case="${caseId}"`);
  expect(page.html).toContain('recordCaseProgress');
  expect(reconcile.status).toBe(202);
  expect(mailed).toHaveLength(1);
  expect(mailed[0]!.subject).toContain(caseId);
  expect(mailed[0]!.text).toContain('recordCaseProgress');
  expect(listedMailed.mailed).toBe(true);
  expect(cleared).toBe(true);
  const stored = await app.db.models.ActivityAlert.findOne({ workflowId: caseId }).lean();
  expect(stored!.resolvedAt).toBeInstanceOf(Date);
  expect(stored!.resolution).toBe('succeeded');
  expect((await mailsTo(adminMail)).filter((m) => m.subject.includes('后台异常'))).toHaveLength(1);
  expect([200, 503]).toContain((await claim).status);
  const doc = await waitFor('the claim projected', async () => {
    const d = await app.db.models.Case.findById(caseId).lean();
    return d && d.revision > saved!.revision ? d : undefined;
  });
  expect(doc.status).toBe('open');
}, 360_000);

it('when an alert’s activity is no longer running (a local one: no longer failing), then the reconciler’s pass clears it and mails nobody', async () => {
  // Arrange: a running case, and alerts left open by a worker that died before clearing them:
  // one for an activity its execution no longer has pending, one of an execution that is gone
  const { caseId } = await caseAtDispatch();
  const runId = (await temporal.workflow.getHandle(caseId).describe()).runId;
  const goneRun = randomUUID();
  const alert = (workflowId: string, run: string) => ({
    _id: `${workflowId}:${run}:99`,
    workflowId,
    runId: run,
    activityId: '99',
    activityType: 'recordCaseProgress',
    since: new Date(Date.now() - 60_000),
    attempts: 5,
    lastError: 'Error: was stuck',
    lastFailedAt: new Date(),
  });
  // Local activities (the read model's writes) are never listed as pending: one that stopped
  // failing 6 minutes ago is over, one that failed just now is still running.
  const local = (activityId: string, lastFailedAt: Date) => ({
    ...alert(caseId, runId),
    _id: `${caseId}:${runId}:${activityId}`,
    activityId,
    local: true,
    lastFailedAt,
    // Mailed when it was raised: this pass has nobody to mail about it.
    mailedAt: new Date(Date.now() - 10 * 60_000),
  });
  await app.db.models.ActivityAlert.create([
    alert(caseId, runId),
    alert('no-such-case', goneRun),
    local('97', new Date(Date.now() - 6 * 60_000)),
    local('98', new Date()),
  ]);
  const mailsBefore = (await mailsTo(adminMail)).length;

  // Act
  const reconcile = await app.http('POST', '/api/v1/admin/cases/reconcile', {
    token: app.adminKey,
  });
  const settled = await waitFor('both alerts cleared', async () => {
    const docs = await app.db.models.ActivityAlert.find({
      _id: {
        $in: [`${caseId}:${runId}:99`, `no-such-case:${goneRun}:99`, `${caseId}:${runId}:97`],
      },
    }).lean();
    return docs.length === 3 && docs.every((d) => d.resolvedAt !== null) ? docs : undefined;
  });
  await new Promise((r) => setTimeout(r, 2_000));
  const stillFailing = await app.db.models.ActivityAlert.findById(`${caseId}:${runId}:98`).lean();

  // Assert
  expect(reconcile.status).toBe(202);
  expect(settled.map((d) => d.resolution)).toEqual(['gone', 'gone', 'gone']);
  expect(stillFailing!.resolvedAt).toBeNull();
  expect((await stuckActivities()).filter((a) => a.caseId === caseId)).toHaveLength(1);
  expect(await mailsTo(adminMail)).toHaveLength(mailsBefore);
}, 120_000);

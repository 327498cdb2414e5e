import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import type { RunningWorker } from '../../worker';
import { startWorker } from '../../worker';
import { feedbackProcess } from '../fixtures/flows';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';
import { testStack } from '../support/test-stack';

/**
 * A case Temporal accepted but no worker has projected yet (the worker busy or restarting): its
 * requester may already rate it, and a stranger still gets 404, as for reading it. The start
 * memo (ids only) says whose the case is until the read model does.
 */
const KEY = 'rate-before-projection';
let app: TestApp;
let worker: RunningWorker | undefined;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  app = await startTestApp('unprojected-rating', { worker: false });
  await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
    source: feedbackProcess(KEY, 'PT1M'),
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  tokens.owner = await app.signIn('owner', ['resident']);
  tokens.stranger = await app.signIn('stranger', ['resident']);
});

afterAll(async () => {
  await worker?.stop();
  await app?.stop();
});

it('when a case is not projected yet, then its requester reaches it with a rating and a stranger does not see it', async () => {
  // Arrange: no worker runs, so the case exists only in Temporal.
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens.owner,
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: KEY,
      data: { category: '其他', contactEmail: uniqueAddress('owner') },
    },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;
  expect(await app.db.models.Case.exists({ _id: caseId })).toBeNull();

  // Act
  const stranger = await app.http('POST', `/api/v1/cases/${caseId}/rating`, {
    token: tokens.stranger,
    body: { score: 5 },
  });
  const unknown = await app.http('POST', `/api/v1/cases/case-${'0'.repeat(24)}/rating`, {
    token: tokens.owner,
    body: { score: 5 },
  });
  // The owner's rating is taken to the case (it waits in Temporal for a worker, which starts a
  // moment later); the case's first workflow task has not reached the feedback step yet.
  const early = app.http<{ error: { message: string } }>('POST', `/api/v1/cases/${caseId}/rating`, {
    token: tokens.owner,
    body: { score: 4, comment: '及时' },
  });
  worker = await startWorker(app.config, {
    workflowBundle: { codePath: testStack().workflowBundlePath },
  });
  const first = await early;
  const accepted = await waitFor('the rating accepted once the feedback step is open', async () => {
    const res = await app.http('POST', `/api/v1/cases/${caseId}/rating`, {
      token: tokens.owner,
      body: { score: 4, comment: '及时' },
    });
    return res.status === 200 ? res : undefined;
  });

  // Assert
  expect(stranger.status).toBe(404);
  expect(unknown.status).toBe(404);
  expect([first.status, first.body.error.message]).toEqual([
    409,
    'The case is not waiting for a rating',
  ]);
  expect(accepted.status).toBe(200);
  const stored = await waitFor('the rating stored', async () => {
    const doc = await app.db.models.Case.findById(caseId, { rating: 1 }).lean();
    return (doc?.rating as { score: number; comment: string } | null | undefined) ?? undefined;
  });
  expect(stored).toMatchObject({ score: 4, comment: '及时' });
});

import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, waitFor } from '../support/harness';

/**
 * A task offered to the case's requester (`requester: true`, docs 8.1.1) on the dev server: a
 * resident starts a case, the 补正 task shows among their tasks, another resident neither sees
 * nor claims it (404, 403), the requester completes it and the case goes on. Without an account
 * behind the case (started by an API key, as Open311 requests are), the task goes to the
 * community's dispatcher and the timeline says why.
 */
let app: TestApp;
const tokens: Record<string, string> = {};
const DEFINITION = 'test-requester-task';
const SOURCE = `
key: ${DEFINITION}
name: 办事申请
starters: [resident, admin]
input:
  fields:
    - { name: contactPhone, label: 联系电话, type: phone, personal: true }
    - { name: description, label: 申请内容, type: text }
steps:
  - id: supplement
    name: 申请人补正材料
    type: task
    announce: false
    candidates:
      - requester: true
        otherwise: { role: dispatcher, unit: community }
    form:
      fields:
        - { name: details, label: 补正内容, type: text, required: true }
    outcomes: [{ id: supplied, name: 已补正 }]
  - id: review
    name: 社区审核
    type: task
    announce: false
    candidates: [{ role: dispatcher, unit: community }]
    outcomes: [{ id: done, name: 通过 }]
  - { id: closed, name: 办结, type: end }
`;

interface TaskBody {
  id: string;
  stepId: string;
  status: string;
  candidates: Array<Record<string, unknown>>;
}

interface CaseBody {
  status: string;
  timeline: Array<{ type: string; stepId?: string; detail?: Record<string, unknown> }>;
}

async function account(username: string, roles: string[], unitIds: string[]): Promise<string> {
  tokens[username] = await app.signIn(username, roles, unitIds);
  const user = await app.db.models.User.findOne({ username }).lean();
  return String(user!._id);
}

function tasksOf(user: string, view: string, caseId: string) {
  return app.http<{ items: TaskBody[] }>('GET', `/api/v1/tasks?view=${view}&caseId=${caseId}`, {
    token: tokens[user],
  });
}

function act(user: string, taskId: string, action: string, body: object = {}) {
  return app.http<TaskBody>('POST', `/api/v1/tasks/${taskId}/${action}`, {
    token: tokens[user],
    body,
  });
}

function openTaskOf(caseId: string, stepId: string, user: string) {
  return waitFor(`the ${stepId} task`, async () => {
    const res = await tasksOf(user, 'scope', caseId);
    return res.body.items?.find((t) => t.stepId === stepId && t.status === 'open');
  });
}

beforeAll(async () => {
  app = await startTestApp('requester-task');
  const dispatcher = await account('rq-dispatcher', ['dispatcher'], ['rq-community']);
  await account('rq-resident', ['resident'], []);
  await account('rq-neighbour', ['resident'], []);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'rq-street', name: '街道', type: 'street', parentId: null },
        { id: 'rq-community', name: '东关社区', type: 'community', parentId: 'rq-street' },
      ],
      people: [{ id: 'rq-p-dispatcher', name: '派单员', userId: dispatcher }],
      posts: [{ unitId: 'rq-community', role: 'dispatcher', personId: 'rq-p-dispatcher' }],
    },
  });
  expect(imported.status).toBe(200);
  const published = await app.http('POST', `/api/v1/definitions/${DEFINITION}/publish`, {
    token: app.adminKey,
    body: { format: 'yaml', source: SOURCE },
  });
  expect(published.status).toBe(201);
});

afterAll(async () => {
  await app?.stop();
});

it('when a resident starts a case whose first step is the requester’s, then it is in their tasks alone, a neighbour gets 404 and 403, and completing it moves the case on', async () => {
  // Arrange
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens['rq-resident'],
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: DEFINITION,
      unitId: 'rq-community',
      data: { contactPhone: '13812345678', description: '申请开具证明' },
    },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;

  // Act: the requester finds the task offered to them
  const offered = await waitFor('the requester task', async () => {
    const res = await tasksOf('rq-resident', 'available', caseId);
    return res.body.items?.[0];
  });
  const neighbourList = await tasksOf('rq-neighbour', 'scope', caseId);
  const neighbourRead = await app.http('GET', `/api/v1/tasks/${offered.id}`, {
    token: tokens['rq-neighbour'],
  });
  const neighbourClaim = await act('rq-neighbour', offered.id, 'claim');
  const dispatcherClaim = await act('rq-dispatcher', offered.id, 'claim');
  const claimed = await act('rq-resident', offered.id, 'claim');
  const mine = await tasksOf('rq-resident', 'mine', caseId);
  const completed = await act('rq-resident', offered.id, 'complete', {
    outcome: 'supplied',
    form: { details: '已补交身份证复印件' },
  });
  const review = await openTaskOf(caseId, 'review', 'rq-dispatcher');

  // Assert: offered to the requester's account only, by ids (no name, no phone)
  expect(offered.stepId).toBe('supplement');
  expect(offered.candidates).toHaveLength(1);
  expect(JSON.stringify(offered.candidates)).not.toMatch(/138|rq-resident|东关/);
  expect(neighbourList.status).toBe(200);
  expect(neighbourList.body.items).toEqual([]);
  expect(neighbourRead.status).toBe(404);
  // Out of the neighbour's scope: 404, as any task they are not named on
  expect(neighbourClaim.status).toBe(404);
  // In the dispatcher's scope but not theirs to claim: 403
  expect(dispatcherClaim.status).toBe(403);
  expect(claimed.status).toBe(200);
  expect(mine.body.items.map((t) => t.id)).toEqual([offered.id]);
  expect(completed.status).toBe(200);
  expect(completed.body.status).toBe('completed');
  expect(review.stepId).toBe('review');
  const kase = await app.http<CaseBody>('GET', `/api/v1/cases/${caseId}`, {
    token: app.adminKey,
  });
  expect(kase.body.timeline.find((e) => e.type === 'task.opened')?.detail).toMatchObject({
    candidates: 1,
    requester: true,
  });
  expect(kase.body.timeline.some((e) => e.type === 'task.requester-unreachable')).toBe(false);
});

it('when a case is started without an account behind it (an API key), then the requester task goes to the community’s dispatcher and the timeline says why', async () => {
  // Arrange
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: DEFINITION,
      unitId: 'rq-community',
      data: { contactPhone: '13812345678', description: '热线转来的申请' },
    },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;

  // Act
  const offered = await openTaskOf(caseId, 'supplement', 'rq-dispatcher');
  const available = await tasksOf('rq-dispatcher', 'available', caseId);
  const claimed = await act('rq-dispatcher', offered.id, 'claim');
  const completed = await act('rq-dispatcher', offered.id, 'complete', {
    outcome: 'supplied',
    form: { details: '电话联系申请人后录入' },
  });

  // Assert
  expect(available.body.items.map((t) => t.id)).toEqual([offered.id]);
  expect(claimed.status).toBe(200);
  expect(completed.status).toBe(200);
  const kase = await app.http<CaseBody>('GET', `/api/v1/cases/${caseId}`, {
    token: app.adminKey,
  });
  expect(
    kase.body.timeline.filter((e) => e.type === 'task.requester-unreachable').map((e) => e.detail),
  ).toEqual([{ task: offered.id, reason: 'api-key' }]);
  await openTaskOf(caseId, 'review', 'rq-dispatcher');
});

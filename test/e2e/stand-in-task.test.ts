import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, waitFor } from '../support/harness';

/**
 * AB岗 end to end: an absence recorded through the API sends a new case's task to the stand-in,
 * who finds it in their work list, and the console's task page says whom they stand in for.
 */
const PASSWORD = 'correct horse battery staple';
let app: TestApp;
let secretary: string;

const org = {
  units: [
    { id: 'si-street', name: '街道', type: 'street', parentId: null },
    { id: 'si-community', name: '东关社区', type: 'community', parentId: 'si-street' },
  ],
  people: [
    { id: 'si-director', name: '李主任' },
    { id: 'si-secretary', name: '陈书记' },
  ],
  posts: [
    { unitId: 'si-community', role: 'director', personId: 'si-director' },
    { unitId: 'si-community', role: 'secretary', personId: 'si-secretary' },
  ],
};

const source = `
key: director-review
name: 主任审核
starters: [admin, system]
input: { fields: [] }
steps:
  - id: review
    name: 主任审核
    type: task
    announce: false
    candidates: [{ role: director, unit: case }]
  - { id: closed, name: 办结, type: end }
`;

beforeAll(async () => {
  app = await startTestApp('stand-in-task');
  const created = await app.http<{ id: string }>('POST', '/api/v1/users', {
    token: app.adminKey,
    body: {
      username: 'si-secretary',
      displayName: '陈书记',
      password: PASSWORD,
      roles: ['staff'],
      unitIds: ['si-community'],
    },
  });
  const linked = {
    ...org,
    people: org.people.map((p) =>
      p.id === 'si-secretary' ? { ...p, userId: created.body.id } : p,
    ),
  };
  expect(
    (await app.http('POST', '/api/v1/org/import', { token: app.adminKey, body: linked })).status,
  ).toBe(200);
  const login = await app.http<{ token: string }>('POST', '/api/v1/auth/login', {
    body: { username: 'si-secretary', password: PASSWORD },
  });
  secretary = login.body.token;
  const published = await app.http('POST', '/api/v1/definitions/director-review/publish', {
    token: app.adminKey,
    body: { format: 'yaml', source },
  });
  expect(published.status).toBe(201);
});

afterAll(async () => {
  await app?.stop();
});

it('when the director is on leave with the secretary standing in, then the new task is the secretary’s and its page says for whom', async () => {
  // Arrange: away from an hour ago for a week
  const now = Date.now();
  const absence = await app.http('POST', '/api/v1/org/absences', {
    token: app.adminKey,
    body: {
      personId: 'si-director',
      from: new Date(now - 3_600_000).toISOString(),
      to: new Date(now + 7 * 86_400_000).toISOString(),
      reason: 'leave',
      standInId: 'si-secretary',
    },
  });
  expect(absence.status).toBe(201);

  // Act
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: 'director-review', unitId: 'si-community', data: {} },
  });
  expect(started.status).toBe(201);
  const task = await waitFor('the review task in the secretary’s list', async () => {
    const res = await app.http<{ items: Array<{ id: string }> }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${started.body.id}`,
      { token: secretary },
    );
    return res.body.items[0];
  });
  const console = consoleClient(app.api.url);
  console.useSession(secretary);
  const page = await console.get(`/console/tasks/${encodeURIComponent(task.id)}`);

  // Assert
  expect(page.status).toBe(200);
  const standIns = /<dd data-stand-ins>([\s\S]*?)<\/dd>/.exec(page.html)?.[1] ?? '';
  expect(textOf(standIns)).toBe('陈书记 代 si-director 办理');
});

import { consoleClient } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, waitFor } from '../support/harness';

/**
 * `person` fields (issue 17): a case's input and a task's form may name a person of the org tree.
 * The API refuses ids the org tree lacks (422 naming the field), as it does for unit fields, and
 * the console's task form offers the post holders around the case as a picker (a datalist).
 */
interface ErrorBody {
  error: { code: string; details: Array<{ path: string; message: string }> };
}

const PASSWORD = 'correct horse battery staple';
let app: TestApp;
let dispatcher: string;

const org = {
  units: [
    { id: 'pf-county', name: '县', type: 'county', parentId: null },
    { id: 'pf-street', name: '街道', type: 'street', parentId: 'pf-county' },
    { id: 'pf-community', name: '文化路社区', type: 'community', parentId: 'pf-street' },
    { id: 'pf-grid', name: '第一网格', type: 'grid', parentId: 'pf-community' },
    { id: 'pf-other', name: '建设路社区', type: 'community', parentId: 'pf-street' },
  ],
  people: [
    { id: 'pf-dispatcher', name: '调度员甲' },
    { id: 'pf-worker', name: '网格员乙' },
    { id: 'pf-grid-worker', name: '网格员丙' },
    { id: 'pf-elsewhere', name: '网格员丁' },
  ],
  posts: [
    { unitId: 'pf-community', role: 'dispatcher', personId: 'pf-dispatcher' },
    { unitId: 'pf-community', role: 'grid-worker', personId: 'pf-worker' },
    { unitId: 'pf-grid', role: 'grid-worker', personId: 'pf-grid-worker' },
    { unitId: 'pf-other', role: 'grid-worker', personId: 'pf-elsewhere' },
  ],
};

const source = `
key: pick-handler
name: 指定承办人
starters: [admin, system]
input:
  fields:
    - { name: handler, label: 建议承办人, type: person, required: true }
    - { name: department, label: 部门, type: unit }
steps:
  - id: assign
    name: 派单
    type: task
    announce: false
    candidates: [{ role: dispatcher, unit: case }]
    form:
      fields:
        - { name: handler, label: 承办人, type: person, required: true }
    outcomes: [{ id: assigned, name: 已派单 }]
  - { id: closed, name: 办结, type: end }
`;

beforeAll(async () => {
  app = await startTestApp('person-fields');
  const created = await app.http<{ id: string }>('POST', '/api/v1/users', {
    token: app.adminKey,
    body: {
      username: 'pf-dispatcher',
      displayName: '调度员甲',
      password: PASSWORD,
      roles: ['dispatcher'],
      unitIds: ['pf-community'],
    },
  });
  expect(created.status).toBe(201);
  // The person is linked to the account by its userId (docs/definition-language.md 8.1).
  const linked = {
    ...org,
    people: org.people.map((p) =>
      p.id === 'pf-dispatcher' ? { ...p, userId: created.body.id } : p,
    ),
  };
  expect(
    (await app.http('POST', '/api/v1/org/import', { token: app.adminKey, body: linked })).status,
  ).toBe(200);
  const login = await app.http<{ token: string }>('POST', '/api/v1/auth/login', {
    body: { username: 'pf-dispatcher', password: PASSWORD },
  });
  dispatcher = login.body.token;
  const published = await app.http('POST', '/api/v1/definitions/pick-handler/publish', {
    token: app.adminKey,
    body: { format: 'yaml', source },
  });
  expect(published.status).toBe(201);
});

afterAll(async () => {
  await app?.stop();
});

function start(data: Record<string, unknown>) {
  return app.http<ErrorBody & { id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: 'pick-handler', unitId: 'pf-community', data },
  });
}

it('when a case names a person or a unit the org tree lacks, then 422 names each field; a malformed id is a 400-class problem of its own', async () => {
  // Act
  const unknown = await start({ handler: 'pf-nobody', department: 'pf-nowhere' });
  const malformed = await start({ handler: '调度员甲' });

  // Assert
  expect(unknown.status).toBe(422);
  expect(unknown.body.error.details).toEqual(
    expect.arrayContaining([
      { path: 'data.handler', message: 'no person "pf-nobody" in the org tree' },
      { path: 'data.department', message: 'no unit "pf-nowhere" in the org tree' },
    ]),
  );
  expect(malformed.status).toBeGreaterThanOrEqual(400);
  expect(malformed.body.error.details).toEqual([
    { path: 'data.handler', message: 'a person id of the org tree' },
  ]);
  expect(await app.db.models.Case.countDocuments({ definitionKey: 'pick-handler' })).toBe(0);
});

it('when the dispatcher fills the form, then an unknown person is refused by name, a known one completes the task, and the console offers the post holders as a picker', async () => {
  // Arrange
  const started = await start({ handler: 'pf-worker' });
  expect(started.status).toBe(201);
  const task = await waitFor('the assign task', async () => {
    const res = await app.http<{ items: Array<{ id: string }> }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${started.body.id}`,
      { token: dispatcher },
    );
    return res.body.items[0];
  });
  expect(
    (await app.http('POST', `/api/v1/tasks/${task.id}/claim`, { token: dispatcher })).status,
  ).toBe(200);

  // Act: the console's task page, then two completions
  const console = consoleClient(app.api.url);
  console.useSession(dispatcher);
  const page = await console.get(`/console/tasks/${encodeURIComponent(task.id)}`);
  const refused = await app.http<ErrorBody>('POST', `/api/v1/tasks/${task.id}/complete`, {
    token: dispatcher,
    body: { outcome: 'assigned', form: { handler: 'pf-ghost' } },
  });
  const done = await app.http('POST', `/api/v1/tasks/${task.id}/complete`, {
    token: dispatcher,
    body: { outcome: 'assigned', form: { handler: 'pf-worker' } },
  });

  // Assert
  expect(page.status).toBe(200);
  expect(page.html).toMatch(
    /<input id="f-form-handler" name="handler" type="text"[^>]* list="form-people"/,
  );
  expect(page.html).toMatch(
    /<datalist id="form-people">.*<option value="pf-worker">网格员乙 · 文化路社区/s,
  );
  expect(refused.status).toBe(422);
  expect(refused.body.error.details).toEqual([
    { path: 'form.handler', message: 'no person "pf-ghost" in the org tree' },
  ]);
  expect(done.status).toBe(200);
});

it('when a task with a form sits in a parallel branch, then its console page shows the form as for a top-level task', async () => {
  // Arrange: two branches, each a task with its own form (as the shipped monthly screening has)
  const branched = `
key: branch-forms
name: 分支表单
starters: [admin]
input: { fields: [] }
steps:
  - id: both
    name: 并行办理
    type: parallel
    branches:
      - name: 排查上报
        steps:
          - id: report
            name: 排查上报
            type: task
            announce: false
            candidates: [{ role: dispatcher, unit: case }]
            form:
              fields:
                - { name: found, label: 排查发现纠纷数, type: integer, required: true, min: 0 }
            outcomes: [{ id: reported, name: 已上报 }]
      - name: 走访
        steps:
          - { id: visit, name: 走访, type: timer, duration: PT1H }
  - { id: closed, name: 办结, type: end }
`;
  expect(
    (
      await app.http('POST', '/api/v1/definitions/branch-forms/publish', {
        token: app.adminKey,
        body: { format: 'yaml', source: branched },
      })
    ).status,
  ).toBe(201);
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: 'branch-forms', unitId: 'pf-community', data: {} },
  });
  expect(started.status).toBe(201);
  const task = await waitFor('the branch task', async () => {
    const res = await app.http<{ items: Array<{ id: string }> }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${started.body.id}`,
      { token: dispatcher },
    );
    return res.body.items[0];
  });
  expect(
    (await app.http('POST', `/api/v1/tasks/${task.id}/claim`, { token: dispatcher })).status,
  ).toBe(200);

  // Act
  const console = consoleClient(app.api.url);
  console.useSession(dispatcher);
  const page = await console.get(`/console/tasks/${encodeURIComponent(task.id)}`);

  // Assert
  expect(page.status).toBe(200);
  expect(page.html).toMatch(/<input id="f-form-found" name="found"/);
  expect(page.html).toContain('排查发现纠纷数');
});

it('when a person field asks for a post (holding), then a person without that post in the case unit or under it is refused by name, at the start and in a task form, and a holder below the unit is accepted', async () => {
  // Arrange: the grid worker must hold a grid-worker post in the case's community or below
  const holding = `
key: pick-grid-worker
name: 指定网格员
starters: [admin]
input:
  fields:
    - { name: worker, label: 网格员, type: person, required: true, holding: grid-worker }
steps:
  - id: confirm
    name: 确认网格员
    type: task
    announce: false
    candidates: [{ role: dispatcher, unit: case }]
    form:
      fields:
        - { name: helpers, label: 协助网格员, type: person, multiple: true, holding: grid-worker }
    outcomes: [{ id: confirmed, name: 已确认 }]
  - { id: closed, name: 办结, type: end }
`;
  expect(
    (
      await app.http('POST', '/api/v1/definitions/pick-grid-worker/publish', {
        token: app.adminKey,
        body: { format: 'yaml', source: holding },
      })
    ).status,
  ).toBe(201);
  const startWith = (worker: string) =>
    app.http<ErrorBody & { id: string }>('POST', '/api/v1/cases', {
      token: app.adminKey,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { definitionKey: 'pick-grid-worker', unitId: 'pf-community', data: { worker } },
    });

  // Act: the start, by a dispatcher (no such post), by another community's grid worker, by one
  // of a grid under the community
  const dispatcherNamed = await startWith('pf-dispatcher');
  const elsewhere = await startWith('pf-elsewhere');
  const started = await startWith('pf-grid-worker');
  const task = await waitFor('the confirm task', async () => {
    const res = await app.http<{ items: Array<{ id: string }> }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${started.body.id}`,
      { token: dispatcher },
    );
    return res.body.items[0];
  });
  await app.http('POST', `/api/v1/tasks/${task.id}/claim`, { token: dispatcher });
  const refused = await app.http<ErrorBody>('POST', `/api/v1/tasks/${task.id}/complete`, {
    token: dispatcher,
    body: { outcome: 'confirmed', form: { helpers: ['pf-worker', 'pf-elsewhere'] } },
  });
  const done = await app.http('POST', `/api/v1/tasks/${task.id}/complete`, {
    token: dispatcher,
    body: { outcome: 'confirmed', form: { helpers: ['pf-worker', 'pf-grid-worker'] } },
  });

  // Assert
  expect(dispatcherNamed.status).toBe(422);
  expect(dispatcherNamed.body.error.details).toEqual([
    {
      path: 'data.worker',
      message: '"pf-dispatcher" holds no grid-worker post in unit "pf-community" or under it',
    },
  ]);
  expect(elsewhere.status).toBe(422);
  expect(started.status).toBe(201);
  expect(refused.status).toBe(422);
  expect(refused.body.error.details).toEqual([
    {
      path: 'form.helpers[1]',
      message: '"pf-elsewhere" holds no grid-worker post in unit "pf-community" or under it',
    },
  ]);
  expect(done.status).toBe(200);
  expect(await app.db.models.Case.countDocuments({ definitionKey: 'pick-grid-worker' })).toBe(1);
});

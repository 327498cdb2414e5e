import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import { servedProcess } from '../../scripts/recorded-processes';
import type { TestApp } from '../support/harness';
import { idempotencyKey, mailsTo, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * A case through the API the way people work it: a dispatcher assigns it, a grid worker claims
 * and completes it, the requester rates it; a missed deadline escalates to the director; two
 * people claiming at once see exactly one win.
 */
interface Task {
  id: string;
  stepId: string;
  status: string;
  assignee: { personId: string } | null;
  outcome: string | null;
  deadlines: Array<{ name: string; dueAt: string | null; missed: boolean }>;
}
interface Page<T> {
  items: T[];
  total: number;
}
interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}
interface CaseBody {
  id: string;
  status: string;
  timeline: Array<{
    type: string;
    stepId?: string;
    via?: string;
    detail?: Record<string, unknown>;
  }>;
}

let app: TestApp;
const tokens: Record<string, string> = {};
const directorMail = uniqueAddress('director');
const DEFINITION = 'test-served';
const HURRIED = 'test-served-hurried';
const IN_DAYS = 'test-served-days';
const POOL = 'test-volunteer-pool';
/** A broadcast pool: the community's volunteers, one of them takes it. */
const POOL_SOURCE = `
key: ${POOL}
name: 测试志愿者认领
starters: [resident]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
steps:
  - id: pool
    name: 志愿者认领
    type: claim
    candidates: [{ role: volunteer, unit: community }]
    claimants: { min: 1, max: 1 }
  - id: help
    name: 上门帮扶
    type: task
    candidates: [{ claimantsOf: pool }]
    outcomes: [{ id: done, name: 已完成 }]
  - id: closed
    name: 办结
    type: end
`;

async function account(username: string, roles: string[], unitIds: string[]): Promise<string> {
  const token = await app.signIn(username, roles, unitIds);
  const user = await app.db.models.User.findOne({ username }).lean();
  tokens[username] = token;
  return String(user!._id);
}

beforeAll(async () => {
  app = await startTestApp('tasks-api');
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  for (const [key, within] of [
    [DEFINITION, 'PT1H'],
    [HURRIED, 'PT3S'],
    [IN_DAYS, '2 working days'],
  ] as const) {
    await definitions.publish({
      source: servedProcess(key, within),
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'test' },
    });
  }
  await definitions.publish({
    source: POOL_SOURCE,
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  const volunteerA = await account('vol-a', ['staff'], []);
  const volunteerB = await account('vol-b', ['staff'], []);
  const dispatcherId = await account('disp', ['dispatcher'], ['c1']);
  const workerA = await account('worker-a', ['staff'], ['g1']);
  const workerB = await account('worker-b', ['staff'], ['g1']);
  await account('resident', ['resident'], []);
  await account('outsider', ['staff'], ['g2']);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 's1', name: '东街道', type: 'street', parentId: null },
        { id: 'c1', name: '东社区', type: 'community', parentId: 's1' },
        { id: 'g1', name: '第一网格', type: 'grid', parentId: 'c1' },
        { id: 'g2', name: '第二网格', type: 'grid', parentId: 'c1' },
        { id: 'c2', name: '西社区', type: 'community', parentId: 's1' },
      ],
      people: [
        { id: 'p-disp', name: '派单员', email: uniqueAddress('disp'), userId: dispatcherId },
        { id: 'p-a', name: '网格员甲', email: uniqueAddress('worker-a'), userId: workerA },
        { id: 'p-b', name: '网格员乙', email: uniqueAddress('worker-b'), userId: workerB },
        { id: 'p-dir', name: '社区主任', email: directorMail },
        { id: 'p-west', name: '西社区网格员', email: uniqueAddress('west') },
        { id: 'p-unposted', name: '未任职人员', email: uniqueAddress('unposted') },
        { id: 'p-vol-a', name: '志愿者甲', email: uniqueAddress('vol-a'), userId: volunteerA },
        { id: 'p-vol-b', name: '志愿者乙', email: uniqueAddress('vol-b'), userId: volunteerB },
      ],
      posts: [
        { unitId: 'c1', role: 'dispatcher', personId: 'p-disp' },
        { unitId: 'g1', role: 'grid-worker', personId: 'p-a' },
        { unitId: 'g1', role: 'grid-worker', personId: 'p-b' },
        { unitId: 'c1', role: 'director', personId: 'p-dir' },
        { unitId: 'c2', role: 'grid-worker', personId: 'p-west' },
        { unitId: 'c1', role: 'volunteer', personId: 'p-vol-a' },
        { unitId: 'c1', role: 'volunteer', personId: 'p-vol-b' },
      ],
    },
  });
  expect(imported.status).toBe(200);
});

afterAll(async () => {
  await app.stop();
});

async function startCase(definitionKey: string, contactEmail: string): Promise<string> {
  const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens.resident,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey, unitId: 'g1', data: { category: '环境卫生', contactEmail } },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function openTask(user: string, caseId: string, stepId: string): Promise<Task> {
  return waitFor(`an open ${stepId} task for ${user}`, async () => {
    const res = await app.http<Page<Task>>('GET', `/api/v1/tasks?view=available&caseId=${caseId}`, {
      token: tokens[user],
    });
    return res.body.items.find((t) => t.stepId === stepId);
  });
}

function act<T = Task>(
  user: string,
  taskId: string,
  action: string,
  body: unknown = {},
  key?: string,
) {
  return app.http<T>('POST', `/api/v1/tasks/${taskId}/${action}`, {
    token: tokens[user],
    body,
    ...(key !== undefined ? { headers: { 'idempotency-key': key } } : {}),
  });
}

describe('a case through dispatch, claim, complete and rating', () => {
  it('when each person does their part, then the case closes with the rating and a full timeline', async () => {
    // Arrange
    const requester = uniqueAddress('requester');
    const caseId = await startCase(DEFINITION, requester);

    // Act: the dispatcher claims and assigns, a grid worker claims and completes
    const dispatch = await openTask('disp', caseId, 'dispatch');
    expect((await act('disp', dispatch.id, 'claim')).status).toBe(200);
    const assigned = await act('disp', dispatch.id, 'complete', {
      outcome: 'assign',
      form: { note: '请尽快处理' },
    });
    const serve = await openTask('worker-a', caseId, 'serve');
    const claimed = await act('worker-a', serve.id, 'claim');
    const completed = await act('worker-a', serve.id, 'complete', { outcome: 'done' });
    const [resultMail] = await waitFor('the result mail', async () => {
      const mails = await mailsTo(requester);
      return mails.length > 0 ? mails : undefined;
    });
    const rated = await app.http('POST', `/api/v1/cases/${caseId}/rating`, {
      token: tokens.resident,
      body: { score: 5, comment: '很满意' },
    });
    const closed = await waitFor('the case to close', async () => {
      const res = await app.http<CaseBody>('GET', `/api/v1/cases/${caseId}`, {
        token: tokens.resident,
      });
      return res.body.status === 'closed' ? res.body : undefined;
    });

    // Assert
    expect(assigned.status).toBe(200);
    expect(assigned.body).toMatchObject({ status: 'completed', outcome: 'assign' });
    expect(claimed.body).toMatchObject({ status: 'claimed', assignee: { personId: 'p-a' } });
    expect(completed.body).toMatchObject({ status: 'completed', outcome: 'done' });
    expect(rated.status).toBe(200);
    // The requester reads the outcome's name, not its id.
    expect(resultMail!.text).toContain('已办结');
    const types = closed.timeline.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'task.opened',
        'task.claimed',
        'task.completed',
        'feedback.rated',
        'case.closed',
      ]),
    );
    expect(closed.timeline.find((e) => e.type === 'task.claimed')?.via).toBe('api');
    const stored = await app.db.models.Case.findById(caseId).lean();
    expect(stored?.rating).toMatchObject({ score: 5, comment: '很满意' });
  });

  it('when a form field is missing or the outcome unknown, then 422 names the problem', async () => {
    // Arrange
    const caseId = await startCase(DEFINITION, uniqueAddress('requester'));
    const dispatch = await openTask('disp', caseId, 'dispatch');
    await act('disp', dispatch.id, 'claim');

    // Act
    const noForm = await act<ErrorBody>('disp', dispatch.id, 'complete', { outcome: 'assign' });
    const badOutcome = await act<ErrorBody>('disp', dispatch.id, 'complete', {
      outcome: 'maybe',
      form: { note: 'x' },
    });
    const noComment = await act<ErrorBody>('disp', dispatch.id, 'complete', {
      outcome: 'reject',
      form: { note: 'x' },
    });
    // `rush` requires the field the form leaves optional; a blank one counts as missing.
    const noUrgency = await act<ErrorBody>('disp', dispatch.id, 'complete', {
      outcome: 'rush',
      form: { note: 'x', urgency: '  ' },
    });

    // Assert
    expect(noForm.status).toBe(422);
    expect(noForm.body.error.details).toContainEqual({
      path: 'body.form.note',
      message: expect.any(String) as string,
    });
    expect(badOutcome.status).toBe(422);
    expect(badOutcome.body.error.details[0]?.path).toBe('body.outcome');
    expect(noComment.status).toBe(422);
    expect(noComment.body.error.details[0]?.path).toBe('body.comment');
    expect(noUrgency.status).toBe(422);
    expect(noUrgency.body.error.details).toEqual([
      { path: 'body.form.urgency', message: 'required for outcome "rush"' },
    ]);
  });

  it('when someone else acts on a task, then 403 for a non-candidate and 404 outside scope', async () => {
    // Arrange
    const caseId = await startCase(DEFINITION, uniqueAddress('requester'));
    const dispatch = await openTask('disp', caseId, 'dispatch');

    // Act
    const byWorker = await act<ErrorBody>('worker-a', dispatch.id, 'claim');
    const byOutsider = await act<ErrorBody>('outsider', dispatch.id, 'claim');

    // Assert
    expect(byWorker.status).toBe(403);
    expect(byOutsider.status).toBe(404);
  });

  it('when a task is completed twice with the same Idempotency-Key, then it is done once and answers the same', async () => {
    // Arrange
    const caseId = await startCase(DEFINITION, uniqueAddress('requester'));
    const dispatch = await openTask('disp', caseId, 'dispatch');
    await act('disp', dispatch.id, 'claim');
    const key = idempotencyKey();
    const body = { outcome: 'assign', form: { note: '一次' } };

    // Act
    const first = await act('disp', dispatch.id, 'complete', body, key);
    const again = await act('disp', dispatch.id, 'complete', body, key);
    const otherKey = await act<ErrorBody>('disp', dispatch.id, 'complete', body, idempotencyKey());

    // Assert
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(otherKey.status).toBe(409);
    const stored = await app.db.models.Case.findById(caseId).lean();
    expect(stored?.timeline.filter((e) => e.type === 'task.completed')).toHaveLength(1);
  });
});

describe('reassignment within the org scope', () => {
  async function serveTask(): Promise<Task> {
    const caseId = await startCase(DEFINITION, uniqueAddress('requester'));
    const dispatch = await openTask('disp', caseId, 'dispatch');
    await act('disp', dispatch.id, 'claim');
    await act('disp', dispatch.id, 'complete', { outcome: 'assign', form: { note: '转派' } });
    return openTask('worker-a', caseId, 'serve');
  }

  it('when a dispatcher reassigns to someone outside their scope, then 422 names the person and nothing changes', async () => {
    // Arrange
    const serve = await serveTask();

    // Act
    const toWest = await act<ErrorBody>('disp', serve.id, 'reassign', { personId: 'p-west' });
    const toUnposted = await act<ErrorBody>('disp', serve.id, 'reassign', {
      personId: 'p-unposted',
    });
    const task = await app.http<Task>('GET', `/api/v1/tasks/${serve.id}`, { token: tokens.disp });

    // Assert
    for (const refused of [toWest, toUnposted]) {
      expect(refused.status).toBe(422);
      expect(refused.body.error.details[0]?.path).toBe('body.personId');
    }
    expect(toWest.body.error.details[0]?.message).toContain('"to" (person "p-west")');
    expect(toWest.body.error.details[0]?.message).toContain('no post in your org scope');
    expect(task.body.status).toBe('open');
    expect(task.body.assignee).toBeNull();
  });

  it('when a dispatcher reassigns within their scope, or an admin to anyone, then the task moves', async () => {
    // Arrange
    const first = await serveTask();
    const second = await serveTask();

    // Act
    const inScope = await act('disp', first.id, 'reassign', {
      personId: 'p-b',
      reason: '熟悉情况',
    });
    const byAdmin = await app.http<Task>('POST', `/api/v1/tasks/${second.id}/reassign`, {
      token: app.adminKey,
      body: { personId: 'p-west' },
    });

    // Assert
    expect(inScope.status).toBe(200);
    expect(inScope.body).toMatchObject({ status: 'claimed', assignee: { personId: 'p-b' } });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.status).toBe('open');
    expect(byAdmin.body).toMatchObject({ assignee: null });
  });
});

describe('broadcast claim pools', () => {
  it('when a pool closes, then candidates who did not claim it no longer read it, while the claimant does', async () => {
    // Arrange: a pool offered to two volunteers outside the case's unit scope
    const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
      token: tokens.resident,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { definitionKey: POOL, unitId: 'g1', data: { category: '助老' } },
    });
    const caseId = started.body.id;
    const pool = await openTask('vol-b', caseId, 'pool');
    const whileOpen = await app.http('GET', `/api/v1/tasks/${pool.id}`, { token: tokens['vol-b'] });

    // Act: volunteer A takes it, which fills and closes the pool
    const claimed = await act('vol-a', pool.id, 'claim');
    await waitFor('the pool to close', async () => {
      const res = await app.http<Task>('GET', `/api/v1/tasks/${pool.id}`, { token: tokens.disp });
      return res.body.status === 'completed' ? res : undefined;
    });
    const byOther = await app.http<ErrorBody>('GET', `/api/v1/tasks/${pool.id}`, {
      token: tokens['vol-b'],
    });
    const otherLists = await Promise.all(
      ['view=scope', 'view=available&status=completed', `view=scope&caseId=${caseId}`].map(
        (query) =>
          app.http<Page<Task>>('GET', `/api/v1/tasks?${query}`, { token: tokens['vol-b'] }),
      ),
    );
    const otherCase = await app.http('GET', `/api/v1/cases/${caseId}`, { token: tokens['vol-b'] });
    const byClaimant = await app.http<Task>('GET', `/api/v1/tasks/${pool.id}`, {
      token: tokens['vol-a'],
    });
    const claimantList = await app.http<Page<Task>>(
      'GET',
      `/api/v1/tasks?view=scope&caseId=${caseId}`,
      {
        token: tokens['vol-a'],
      },
    );

    // Assert
    expect(whileOpen.status).toBe(200);
    expect(claimed.status).toBe(200);
    expect(byOther.status).toBe(404);
    for (const list of otherLists) {
      expect(list.status).toBe(200);
      expect(list.body.items.map((t) => t.id)).not.toContain(pool.id);
    }
    expect(otherCase.status).toBe(404);
    expect(byClaimant.status).toBe(200);
    expect(claimantList.body.items.map((t) => t.id)).toContain(pool.id);
  });
});

describe("a person's own work list (view=mine)", () => {
  it('when a volunteer holds tasks and joined pools of two cases, then the list pages them newest first with the right total', async () => {
    // Arrange: two cases; the volunteer takes each pool (which closes it) and its help task
    const caseIds: string[] = [];
    const helpIds: string[] = [];
    const poolIds: string[] = [];
    for (const category of ['助老', '助残']) {
      const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
        token: tokens.resident,
        headers: { 'idempotency-key': idempotencyKey() },
        body: { definitionKey: POOL, unitId: 'g1', data: { category } },
      });
      caseIds.push(started.body.id);
      const pool = await openTask('vol-a', started.body.id, 'pool');
      expect((await act('vol-a', pool.id, 'claim')).status).toBe(200);
      poolIds.push(pool.id);
      const help = await openTask('vol-a', started.body.id, 'help');
      expect((await act('vol-a', help.id, 'claim')).status).toBe(200);
      helpIds.push(help.id);
    }
    const mine = (query: string) =>
      app.http<Page<Task>>('GET', `/api/v1/tasks?view=mine&${query}`, { token: tokens['vol-a'] });

    // Act
    const first = await mine('pageSize=1&page=1');
    const second = await mine('pageSize=1&page=2');
    const done = await mine('status=completed&pageSize=100');
    const oneCase = await mine(`caseId=${caseIds[0]}`);

    // Assert: the held tasks (assigneeUserId), newest first, one per page, total 2
    expect([first.body.total, second.body.total]).toEqual([2, 2]);
    expect([...first.body.items, ...second.body.items].map((t) => t.id)).toEqual([
      helpIds[1],
      helpIds[0],
    ]);
    // …the pools joined and closed (claimantUserIds) are done work
    expect(done.body.items.map((t) => t.id).filter((id) => poolIds.includes(id))).toEqual([
      poolIds[1],
      poolIds[0],
    ]);
    expect(oneCase.body.items.map((t) => t.id)).toEqual([helpIds[0]]);
    expect(oneCase.body.total).toBe(1);
  });
});

describe('a case filed by another system', () => {
  it('when the hotline bridge that filed a case relays the rating, then it is accepted', async () => {
    // Arrange: a system key files the case, people serve it
    const key = await app.http<{ key: string }>('POST', '/api/v1/api-keys', {
      token: app.adminKey,
      body: { name: '12345 bridge', roles: ['system'] },
    });
    const bridge = key.body.key;
    const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
      token: bridge,
      headers: { 'idempotency-key': idempotencyKey() },
      body: {
        definitionKey: DEFINITION,
        unitId: 'g1',
        data: { category: '热线转办', contactEmail: uniqueAddress('hotline') },
      },
    });
    const caseId = started.body.id;
    const dispatch = await openTask('disp', caseId, 'dispatch');
    await act('disp', dispatch.id, 'claim');
    await act('disp', dispatch.id, 'complete', { outcome: 'assign', form: { note: '热线' } });
    const serve = await openTask('worker-a', caseId, 'serve');
    await act('worker-a', serve.id, 'claim');
    await act('worker-a', serve.id, 'complete', { outcome: 'done' });

    // Act: the feedback step opens a moment after the completion
    const rated = await waitFor('the rating to be accepted', async () => {
      const res = await app.http('POST', `/api/v1/cases/${caseId}/rating`, {
        token: bridge,
        body: { score: 4 },
      });
      return res.status === 200 ? res : undefined;
    });

    // Assert
    expect(rated.status).toBe(200);
    const stored = await app.db.models.Case.findById(caseId).lean();
    expect(stored?.rating).toMatchObject({ score: 4 });
  });
});

describe('claims and deadlines', () => {
  it('when two grid workers claim the same task at once, then exactly one wins and the other gets 409', async () => {
    // Arrange
    const caseId = await startCase(DEFINITION, uniqueAddress('requester'));
    const dispatch = await openTask('disp', caseId, 'dispatch');
    await act('disp', dispatch.id, 'claim');
    await act('disp', dispatch.id, 'complete', { outcome: 'assign', form: { note: '并发' } });
    const serve = await openTask('worker-a', caseId, 'serve');

    // Act
    const [a, b] = await Promise.all([
      act('worker-a', serve.id, 'claim'),
      act('worker-b', serve.id, 'claim'),
    ]);

    // Assert
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? 'p-a' : 'p-b';
    const task = await app.http<Task>('GET', `/api/v1/tasks/${serve.id}`, { token: tokens.disp });
    expect(task.body.assignee?.personId).toBe(winner);
  });

  it('when the serving deadline passes, then the community director of the assignee gets the escalation mail', async () => {
    // Arrange
    const caseId = await startCase(HURRIED, uniqueAddress('requester'));
    const dispatch = await openTask('disp', caseId, 'dispatch');
    await act('disp', dispatch.id, 'claim');
    await act('disp', dispatch.id, 'complete', { outcome: 'assign', form: { note: '限时' } });
    const serve = await openTask('worker-a', caseId, 'serve');
    await act('worker-a', serve.id, 'claim');

    // Act: nobody completes; the 3-second deadline passes
    const mails = await waitFor('the escalation mail', async () => {
      const found = (await mailsTo(directorMail)).filter((m) => m.subject.includes(caseId));
      return found.length > 0 ? found : undefined;
    });

    // Assert
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toContain('督办');
    const task = await app.http<Task>('GET', `/api/v1/tasks/${serve.id}`, { token: tokens.disp });
    expect(task.body.deadlines[0]).toMatchObject({ name: '办结时限', missed: true });
    const types = await waitFor('the escalation on the timeline', async () => {
      const stored = await app.db.models.Case.findById(caseId).lean();
      const seen = stored?.timeline.map((e) => e.type) ?? [];
      return seen.includes('deadline.escalated') ? seen : undefined;
    });
    expect(types).toContain('deadline.missed');
  });
});

describe('calendar changes', () => {
  it('when an admin adds a day off before a running deadline, then the deadline moves a working day later', async () => {
    // Arrange: a serve task due in 2 working days
    const caseId = await startCase(IN_DAYS, uniqueAddress('requester'));
    const dispatch = await openTask('disp', caseId, 'dispatch');
    await act('disp', dispatch.id, 'claim');
    await act('disp', dispatch.id, 'complete', { outcome: 'assign', form: { note: '按日' } });
    const serve = await openTask('worker-a', caseId, 'serve');
    const before = serve.deadlines[0]!.dueAt!;
    const calendar = await app.http<{ items: Array<{ year: number; days: unknown[] }> }>(
      'GET',
      '/api/v1/calendar/years',
      { token: tokens.disp },
    );
    const { addWorkingDays, createWorkingCalendar } = await import('../../common/working-calendar');
    const { parseHolidayYear } = await import('../../calendars');
    const years = calendar.body.items.map((y) => parseHolidayYear({ ...y, papers: [] }));
    const nextWorkingDay = addWorkingDays(createWorkingCalendar(years), new Date(), 1).at;
    const date = new Date(nextWorkingDay.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
    const year = Number(date.slice(0, 4));
    const existing = calendar.body.items.find((y) => y.year === year)?.days ?? [];

    // Act
    const put = await app.http('PUT', `/api/v1/calendar/years/${year}`, {
      token: app.adminKey,
      body: { days: [...existing, { date, name: '临时休息日', isOffDay: true }] },
    });
    const after = await waitFor('the deadline to move', async () => {
      const task = await app.http<Task>('GET', `/api/v1/tasks/${serve.id}`, { token: tokens.disp });
      const due = task.body.deadlines[0]?.dueAt;
      return due && due !== before ? due : undefined;
    });

    // Assert
    expect(put.status).toBe(200);
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
  });
});

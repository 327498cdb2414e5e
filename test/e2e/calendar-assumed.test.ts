import { yearToEnter } from '../../console/admin-calendar-view';
import { createMailRenderer } from '../../mail/renderer';
import { createDefinitionService } from '../../services/definitions';
import type { ConsoleClient } from '../support/console-client';
import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, waitFor } from '../support/harness';

/**
 * A deadline reaching into years the working-day calendar lacks says so: the API's task and
 * case views carry `assumedYears`, the console's case and task pages show a notice; admins see
 * a banner on the admin pages from November while next year is missing.
 */
const KEY = 'calendar-assumed-e2e';
const definition = `
key: ${KEY}
name: 跨年时限
starters: [admin]
input: { fields: [] }
steps:
  - id: serve
    name: 办理
    type: task
    candidates: [{ role: grid-worker, unit: case }]
    deadlines:
      # 400 working days: past the end of every year the test calendar holds
      - { id: due, name: 办结时限, within: 400 working days }
  - { id: closed, name: 办结, type: end }
`;

let app: TestApp;
let admin: ConsoleClient;

beforeAll(async () => {
  app = await startTestApp('calendar-assumed');
  await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
    source: definition,
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  admin = consoleClient(app.api.url);
  admin.useSession(await app.signIn('assumed-admin', ['admin']));
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

interface Deadline {
  dueAt: string | null;
  assumedYears?: number[];
}

it('when a deadline reaches into a year the calendar lacks, then the API views carry assumedYears and the case and task pages show the notice', async () => {
  // Arrange
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: KEY, data: {} },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;

  // Act
  const task = await waitFor('the task with its deadline', async () => {
    const res = await app.http<{ items: Array<{ id: string; deadlines: Deadline[] }> }>(
      'GET',
      `/api/v1/tasks?view=scope&caseId=${encodeURIComponent(caseId)}`,
      { token: app.adminKey },
    );
    const found = res.body.items[0];
    return found?.deadlines[0]?.dueAt ? found : undefined;
  });
  const kase = await app.http<{ deadlines: Deadline[] }>(
    'GET',
    `/api/v1/cases/${encodeURIComponent(caseId)}`,
    { token: app.adminKey },
  );
  const casePage = await admin.get(`/console/cases/${encodeURIComponent(caseId)}`);
  const taskPage = await admin.get(`/console/tasks/${encodeURIComponent(task.id)}`);

  // Assert
  const years = task.deadlines[0]!.assumedYears!;
  const due = new Date(task.deadlines[0]!.dueAt!).getUTCFullYear();
  expect(years.length).toBeGreaterThan(0);
  expect(years).toContain(due);
  expect(kase.body.deadlines[0]!.assumedYears).toEqual(years);
  const notice = `时限按常规周计算：日历缺少 ${years.join('、')} 年的节假日安排`;
  expect(casePage.status).toBe(200);
  expect(textOf(casePage.html)).toContain(notice);
  expect(taskPage.status).toBe(200);
  expect(textOf(taskPage.html)).toContain(notice);
});

it('when an admin opens an admin page, then the banner asks for next year exactly when it is November or later and the calendar lacks it', async () => {
  // Arrange
  const listed = await app.http<{ items: Array<{ year: number }> }>(
    'GET',
    '/api/v1/calendar/years',
    { token: app.adminKey },
  );
  const expected = yearToEnter(
    new Date(),
    listed.body.items.map((y) => y.year),
  );

  // Act
  const page = await admin.get('/console/admin/calendar');

  // Assert
  expect(page.status).toBe(200);
  if (expected === null) expect(page.html).not.toContain('data-banner="calendar"');
  else {
    expect(page.html).toContain('data-banner="calendar"');
    expect(textOf(page.html)).toContain(`工作日历还没有 ${expected} 年的节假日安排`);
  }
});

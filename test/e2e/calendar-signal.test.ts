import { Connection } from '@temporalio/client';
import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, waitFor } from '../support/harness';
import { temporalAddress } from '../support/test-stack';

/**
 * An admin's calendar change reaches running cases in the background: the API stores the year and
 * answers, one batch operation on the Temporal server signals every running case, and a running
 * task's working-day deadline moves past the new day off.
 */
const KEY = 'calendar-signal-e2e';
let app: TestApp;

const definition = `
key: ${KEY}
name: 工作日时限
starters: [admin]
input:
  fields: []
steps:
  - id: serve
    name: 办理
    type: task
    candidates: [{ role: grid-worker, unit: case }]
    deadlines:
      - { id: due, name: 办结时限, within: 5 working days }
  - { id: closed, name: 办结, type: end }
`;

interface Task {
  stepId: string;
  deadlines: Array<{ dueAt: string | null }>;
}

async function dueOf(caseId: string): Promise<string | undefined> {
  const res = await app.http<{ items: Task[] }>(
    'GET',
    `/api/v1/tasks?view=scope&caseId=${encodeURIComponent(caseId)}`,
    { token: app.adminKey },
  );
  return res.body.items.find((t) => t.stepId === 'serve')?.deadlines[0]?.dueAt ?? undefined;
}

beforeAll(async () => {
  app = await startTestApp('calendar-signal');
  await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
    source: definition,
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

it('when an admin adds a day off inside a running deadline, then the API answers and the deadline moves a working day later', async () => {
  // Arrange: a task due in five working days from now
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: KEY, data: {} },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;
  const before = await waitFor('the task and its deadline', () => dueOf(caseId));
  const year = new Date(before).getUTCFullYear();
  const tomorrow = new Date(Date.now() + 24 * 3600_000);
  // The first working day between tomorrow and the deadline, as the calendar has it now
  const current = await app.http<{
    days: Array<{ date: string; name: string; isOffDay: boolean }>;
  }>('GET', `/api/v1/calendar/years/${year}`, { token: app.adminKey });
  const offDays = new Set(current.body.days.filter((d) => d.isOffDay).map((d) => d.date));
  const workDays = new Set(current.body.days.filter((d) => !d.isOffDay).map((d) => d.date));
  let day = new Date(tomorrow);
  const isWorking = (d: Date) => {
    const text = beijingDate(d);
    if (offDays.has(text)) return false;
    if (workDays.has(text)) return true;
    const weekday = new Date(`${text}T12:00:00+08:00`).getUTCDay();
    return weekday !== 0 && weekday !== 6;
  };
  while (!isWorking(day)) day = new Date(day.getTime() + 24 * 3600_000);
  const dayOff = beijingDate(day);
  expect(dayOff < beijingDate(new Date(before))).toBe(true);
  expect(dayOff.startsWith(String(year))).toBe(true);

  // Act
  const put = await app.http('PUT', `/api/v1/calendar/years/${year}`, {
    token: app.adminKey,
    body: {
      papers: current.body.days.length > 0 ? ['test'] : [],
      days: [...current.body.days, { date: dayOff, name: '临时休息', isOffDay: true }],
    },
  });
  const after = await waitFor(
    'the deadline to move',
    async () => {
      const due = await dueOf(caseId);
      return due !== undefined && due !== before ? due : undefined;
    },
    60_000,
  );

  // Assert
  expect([200, 201]).toContain(put.status);
  expect(new Date(after).getTime()).toBeGreaterThan(new Date(before).getTime());
  // …told by one batch operation on the server, not by the API signalling case after case
  const connection = await Connection.connect({ address: temporalAddress() });
  try {
    const batches = await connection.workflowService.listBatchOperations({
      namespace: app.config.TEMPORAL_NAMESPACE,
    });
    expect(
      (batches.operationInfo ?? []).some((b) => b.jobId?.startsWith(`calendar-${year}-`)),
    ).toBe(true);
  } finally {
    await connection.close();
  }
});

/** A date as Beijing's calendar has it (YYYY-MM-DD). */
function beijingDate(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

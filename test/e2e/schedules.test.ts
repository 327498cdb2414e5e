import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { dataConverterFor } from '../../common/payload-codec';
import { waitFor } from '../support/harness';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/**
 * Periodic processes on the real Temporal dev server (the time-skipping server has no
 * schedules): publishing a definition with a `schedule` creates its Temporal Schedule, a new
 * version updates it, removing the schedule or retiring the process deletes it, the shipped
 * rounds get theirs at start-up, and a fire starts a case exactly as the case API does (channel
 * `schedule`, a case id of its own, listed and readable like any case).
 */
let app: TestApp;
let temporal: Client;
let connection: Connection;

beforeAll(async () => {
  app = await startTestApp('schedules');
  connection = await Connection.connect({ address: app.config.TEMPORAL_ADDRESS });
  temporal = new Client({
    connection,
    namespace: app.config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverterFor(app.config.TEMPORAL_CODEC_KEYS),
  });
});

afterAll(async () => {
  await connection?.close();
  await app?.stop();
});

const scheduleIdOf = (key: string) => `definition-${app.config.TEMPORAL_TASK_QUEUE}-${key}`;

function source(key: string, schedule: string): string {
  return [
    `key: ${key}`,
    'name: 周期性测试流程',
    'starters: [admin]',
    'input:',
    '  fields:',
    '    - { name: focus, label: 重点, type: string }',
    schedule,
    'steps:',
    '  - { id: wait, name: 等待, type: timer, duration: P1D }',
    '  - { id: closed, name: 结束, type: end }',
  ].join('\n');
}

async function publish(key: string, text: string) {
  return app.http('POST', `/api/v1/definitions/${key}/publish`, {
    token: app.adminKey,
    body: { format: 'yaml', source: text },
  });
}

async function described(key: string) {
  return temporal.schedule.getHandle(scheduleIdOf(key)).describe();
}

async function absent(key: string): Promise<boolean> {
  try {
    await described(key);
    return false;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return true;
    throw err;
  }
}

describe('schedules of periodic processes', () => {
  it('when the API starts, then the shipped monthly and quarterly rounds have schedules at 09:00 Beijing time', async () => {
    // Act
    const monthly = await described('dispute-screening');
    const quarterly = await described('quarterly-round');

    // Assert
    expect(monthly.spec.timezone).toBe('Asia/Shanghai');
    expect(monthly.spec.calendars?.[0]).toMatchObject({
      dayOfMonth: [{ start: 1, end: 1, step: 1 }],
      hour: [{ start: 9, end: 9, step: 1 }],
      minute: [{ start: 0, end: 0, step: 1 }],
    });
    expect(monthly.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'scheduledCaseWorkflow',
      taskQueue: app.config.TEMPORAL_TASK_QUEUE,
      args: [{ definitionKey: 'dispute-screening' }],
    });
    const months = quarterly.spec.calendars?.[0]?.month.map((m) => m.start);
    expect(months).toEqual(['JANUARY', 'APRIL', 'JULY', 'OCTOBER']);
    expect(await absent('resident-request')).toBe(true);
  });

  it('when a round is published for the first Wednesday of each month and for every Friday, then the server plans its next fires on exactly those days, Beijing time', async () => {
    // Arrange
    const monthlyKey = `sched-wed-${Date.now().toString(36)}`;
    const weeklyKey = `sched-fri-${Date.now().toString(36)}`;
    const beijingDay = (d: Date) =>
      new Intl.DateTimeFormat('en-CA', {
        timeZone: 'Asia/Shanghai',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).formatToParts(d);
    const part = (parts: Intl.DateTimeFormatPart[], type: string) =>
      parts.find((p) => p.type === type)!.value;

    // Act
    const monthly = "schedule: { every: month, week: 1, weekday: wednesday, at: '09:30' }";
    const weekly = "schedule: { every: week, weekday: 5, at: '15:00' }";
    expect((await publish(monthlyKey, source(monthlyKey, monthly))).status).toBe(201);
    expect((await publish(weeklyKey, source(weeklyKey, weekly))).status).toBe(201);
    const firstWednesdays = (await described(monthlyKey)).info.nextActionTimes;
    const fridays = (await described(weeklyKey)).info.nextActionTimes;

    // Assert: every planned fire is a Wednesday among days 1–7 at 09:30, or a Friday at 15:00
    expect(firstWednesdays.length).toBeGreaterThanOrEqual(3);
    for (const at of firstWednesdays) {
      const parts = beijingDay(at);
      expect(part(parts, 'weekday')).toBe('Wed');
      expect(Number(part(parts, 'day'))).toBeLessThanOrEqual(7);
      expect(`${part(parts, 'hour')}:${part(parts, 'minute')}`).toBe('09:30');
    }
    expect(fridays.length).toBeGreaterThanOrEqual(3);
    for (const [i, at] of fridays.entries()) {
      const parts = beijingDay(at);
      expect(part(parts, 'weekday')).toBe('Fri');
      expect(`${part(parts, 'hour')}:${part(parts, 'minute')}`).toBe('15:00');
      if (i > 0) expect(at.getTime() - fridays[i - 1]!.getTime()).toBe(7 * 24 * 3600_000);
    }
  });

  it('when a scheduled process is published, changed, triggered, unscheduled and retired, then its schedule follows and a fire starts a case', async () => {
    // Arrange
    const key = `sched-${Date.now().toString(36)}`;
    const monthly = "schedule: { every: month, day: 5, at: '08:30', data: { focus: 月度 } }";
    const halfYearly =
      "schedule: { every: half-year, month: 2, day: 10, at: '14:00', data: { focus: 半年 } }";

    // Act + Assert: created
    expect((await publish(key, source(key, monthly))).status).toBe(201);
    const created = await described(key);
    expect(created.spec.calendars?.[0]).toMatchObject({
      dayOfMonth: [{ start: 5, end: 5, step: 1 }],
      hour: [{ start: 8, end: 8, step: 1 }],
      minute: [{ start: 30, end: 30, step: 1 }],
    });
    expect(created.state.note).toContain(' v1 ');

    // …updated by the next version
    expect((await publish(key, source(key, halfYearly))).status).toBe(201);
    const updated = await described(key);
    expect(updated.spec.calendars?.[0]?.month.map((m) => m.start)).toEqual(['FEBRUARY', 'AUGUST']);
    expect(updated.state.note).toContain(' v2 ');

    // …a fire starts a case of the latest version, as the case API would
    await temporal.schedule.getHandle(scheduleIdOf(key)).trigger();
    const listed = await waitFor('the scheduled case', async () => {
      const res = await app.http<{ items: Array<Record<string, unknown>> }>(
        'GET',
        `/api/v1/cases?definitionKey=${key}`,
        { token: app.adminKey },
      );
      return res.body.items[0];
    });
    expect(listed.id).toMatch(/^case-[0-9a-f]{24}$/);
    const kase = await app.http<Record<string, unknown>>(
      'GET',
      `/api/v1/cases/${String(listed.id)}`,
      {
        token: app.adminKey,
      },
    );
    expect(kase.body).toMatchObject({
      channel: 'schedule',
      createdBy: { kind: 'system', id: 'schedule' },
      definition: { key, version: 2 },
      data: { focus: '半年' },
      status: 'open',
    });

    // …deleted when a version drops the schedule, created again with the next one
    expect((await publish(key, source(key, ''))).status).toBe(201);
    expect(await absent(key)).toBe(true);
    expect((await publish(key, source(key, monthly))).status).toBe(201);
    expect(await absent(key)).toBe(false);

    // …and deleted when the process is retired
    const retired = await app.http('POST', `/api/v1/definitions/${key}/retire`, {
      token: app.adminKey,
    });
    expect(retired.status).toBe(200);
    expect(await absent(key)).toBe(true);
  });

  it('when a round is scheduled for every community under a street, then one fire starts one case for each of them, and a schedule naming a unit the tree lacks is refused', async () => {
    // Arrange: a street with three communities, and a community of another street
    const tag = Date.now().toString(36);
    const street = `st-${tag}`;
    const imported = await app.http('POST', '/api/v1/org/import', {
      token: app.adminKey,
      body: {
        units: [
          { id: `county-${tag}`, name: '测试县', type: 'county', parentId: null },
          { id: street, name: '测试街道', type: 'street', parentId: `county-${tag}` },
          { id: `other-${tag}`, name: '另一街道', type: 'street', parentId: `county-${tag}` },
          ...['a', 'b', 'c'].map((n) => ({
            id: `${street}-${n}`,
            name: `社区${n}`,
            type: 'community',
            parentId: street,
          })),
          { id: `other-${tag}-x`, name: '外街社区', type: 'community', parentId: `other-${tag}` },
        ],
        people: [],
        posts: [],
      },
    });
    expect(imported.body).toMatchObject({ units: 7 });
    const key = `sched-units-${tag}`;

    // Act: units the tree lacks are refused, each named, and nothing is published
    const missing = await publish(
      key,
      source(key, 'schedule: { every: month, day: 3, unitsOfType: community, under: nowhere-1 }'),
    );
    expect(missing.status).toBe(422);
    const details = (
      missing.body as { error: { details: Array<{ path: string; message: string }> } }
    ).error.details;
    expect(details.map((d) => [d.path, d.message])).toEqual([
      [
        'schedule.under',
        'no unit "nowhere-1" in the org tree: import it first, or name an existing unit',
      ],
    ]);
    expect(await absent(key)).toBe(true);
    const missingUnit = await publish(key, source(key, 'schedule: { every: month, unit: gone-2 }'));
    expect(missingUnit.status).toBe(422);
    expect(
      (
        missingUnit.body as { error: { details: Array<{ path: string; message: string }> } }
      ).error.details.map((d) => [d.path, d.message]),
    ).toEqual([
      [
        'schedule.unit',
        'no unit "gone-2" in the org tree: import it first, or name an existing unit',
      ],
    ]);
    expect(await absent(key)).toBe(true);

    // Act: scheduled for the street's communities, fired once
    const everyCommunity = `schedule: { every: month, day: 3, unitsOfType: community, under: ${street}, data: { focus: 民情访谈 } }`;
    expect((await publish(key, source(key, everyCommunity))).status).toBe(201);
    await temporal.schedule.getHandle(scheduleIdOf(key)).trigger();

    // Assert: one case per community of that street, none for the other street's
    const cases = await waitFor('a case per community', async () => {
      const res = await app.http<{ items: Array<{ id: string; unitId: string }> }>(
        'GET',
        `/api/v1/cases?definitionKey=${key}`,
        { token: app.adminKey },
      );
      return res.body.items.length === 3 ? res.body.items : undefined;
    });
    expect(cases.map((c) => c.unitId).sort()).toEqual([
      `${street}-a`,
      `${street}-b`,
      `${street}-c`,
    ]);
    expect(new Set(cases.map((c) => c.id)).size).toBe(3);
  });
});

import { addWorkingDays } from '../../common/working-calendar';
import { createCalendarService } from '../../services/calendar';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

interface YearBody {
  year: number;
  source: string;
  days: Array<{ date: string; name: string; isOffDay: boolean }>;
}
interface ErrorBody {
  error: { code: string; details: Array<{ path: string; message: string }> };
}

let app: TestApp;
let residentToken: string;

/** 2027 as an admin would enter it once announced (these dates are an example, not the notice). */
const year2027 = {
  papers: ['example notice'],
  days: [
    { date: '2027-01-01', name: '元旦', isOffDay: true },
    { date: '2027-01-04', name: '元旦', isOffDay: true },
    { date: '2027-01-09', name: '元旦', isOffDay: false },
  ],
};

beforeAll(async () => {
  app = await startTestApp('calendar-api', { worker: false });
  residentToken = await app.signIn('cal-resident', ['resident']);
});

afterAll(async () => {
  await app?.stop();
});

it('when the API has started, then the shipped years 2024–2026 are in the calendar', async () => {
  const res = await app.http<{ items: YearBody[] }>('GET', '/api/v1/calendar/years', {
    token: residentToken,
  });
  expect(res.status).toBe(200);
  expect(res.body.items.map((y) => [y.year, y.source])).toEqual([
    [2024, 'shipped'],
    [2025, 'shipped'],
    [2026, 'shipped'],
  ]);
  const y2025 = await app.http<YearBody>('GET', '/api/v1/calendar/years/2025', {
    token: residentToken,
  });
  expect(y2025.body.days.filter((d) => !d.isOffDay).map((d) => d.date)).toEqual([
    '2025-01-26',
    '2025-02-08',
    '2025-04-27',
    '2025-09-28',
    '2025-10-11',
  ]);
});

it('when an admin adds 2027, then deadlines over new year use it and no longer assume a normal week', async () => {
  const calendar = createCalendarService({ models: app.db.models, clock: () => new Date() });
  const start = new Date('2026-12-31T10:00:00+08:00');
  const before = addWorkingDays(await calendar.workingCalendar(), start, 1);
  expect(before.assumedYears).toEqual([2027]);
  expect(before.at.toISOString()).toBe('2027-01-01T02:00:00.000Z');

  const put = await app.http<YearBody>('PUT', '/api/v1/calendar/years/2027', {
    token: app.adminKey,
    body: year2027,
  });
  expect(put.status).toBe(201);
  expect(put.body.source).toBe('admin');

  const after = addWorkingDays(await calendar.workingCalendar(), start, 1);
  expect(after.assumedYears).toEqual([]);
  // 1 Jan and Monday 4 Jan are off: the next working day is Tuesday 5 Jan.
  expect(after.at.toISOString()).toBe('2027-01-05T02:00:00.000Z');
});

it('when an admin revises a shipped year, then restarting does not overwrite the revision', async () => {
  const revised = await app.http<YearBody>('PUT', '/api/v1/calendar/years/2026', {
    token: app.adminKey,
    body: { days: [{ date: '2026-12-31', name: '临时调整', isOffDay: true }] },
  });
  expect(revised.status).toBe(200);
  await createCalendarService({
    models: app.db.models,
    clock: () => new Date(),
  }).seedShippedYears();
  const y2026 = await app.http<YearBody>('GET', '/api/v1/calendar/years/2026', {
    token: app.adminKey,
  });
  expect(y2026.body.source).toBe('admin');
  expect(y2026.body.days).toEqual([{ date: '2026-12-31', name: '临时调整', isOffDay: true }]);
});

it('when a year is entered wrongly or by a non-admin, then it is refused naming the problem', async () => {
  expect(
    (
      await app.http('PUT', '/api/v1/calendar/years/2028', {
        token: residentToken,
        body: { days: [] },
      })
    ).status,
  ).toBe(403);
  const wrongYear = await app.http<ErrorBody>('PUT', '/api/v1/calendar/years/2028', {
    token: app.adminKey,
    body: {
      days: [
        { date: '2027-05-01', name: '劳动节', isOffDay: true },
        { date: '2028-05-01', name: '劳动节', isOffDay: true },
        { date: '2028-05-01', name: '劳动节', isOffDay: true },
      ],
    },
  });
  expect(wrongYear.status).toBe(422);
  expect(wrongYear.body.error.details.map((d) => d.path)).toEqual([
    'body.days[0].date',
    'body.days[2].date',
  ]);
  const badDate = await app.http<ErrorBody>('PUT', '/api/v1/calendar/years/2028', {
    token: app.adminKey,
    body: { days: [{ date: '2028-02-30', name: 'x', isOffDay: true }] },
  });
  expect(badDate.status).toBe(400);
  expect(badDate.body.error.details[0]!.path).toBe('body.days[0].date');
  expect(
    (await app.http('GET', '/api/v1/calendar/years/2028', { token: app.adminKey })).status,
  ).toBe(404);
});

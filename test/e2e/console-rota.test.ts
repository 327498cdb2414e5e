import type { ConsoleClient } from '../support/console-client';
import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { startTestApp, TEST_PASSWORD } from '../support/harness';

/**
 * The duty rota editor (值班表) on the console's admin pages: an admin writes a unit's shifts as
 * rows, adds one in a blank row and removes one with its box; the API reads the same rota back;
 * bad days, times and unknown people are named as the API names them, beside their row, and
 * nothing is written; nobody but an admin or the unit's head (负责人: its `director` post's holder)
 * opens or posts it, and the head only their own unit's (the API's rule, checked in the service).
 */
let app: TestApp;
let admin: ConsoleClient;
let dispatcher: ConsoleClient;
/** 黄河社区's director (主任), signed in with the account their person record names. */
let director: ConsoleClient;
let directorToken: string;

const ROTA = '/console/admin/org/units/ro-c1/rota';

beforeAll(async () => {
  app = await startTestApp('console-rota', { worker: false });
  admin = consoleClient(app.api.url);
  admin.useSession(await app.signIn('ro-admin', ['admin']));
  dispatcher = consoleClient(app.api.url);
  dispatcher.useSession(await app.signIn('ro-dispatcher', ['dispatcher'], ['ro-county']));
  const account = await app.http<{ id: string }>('POST', '/api/v1/users', {
    token: app.adminKey,
    body: {
      username: 'ro-director',
      displayName: '张主任',
      password: TEST_PASSWORD,
      roles: ['staff'],
      unitIds: ['ro-c1'],
    },
  });
  expect(account.status).toBe(201);
  const res = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'ro-county', name: '滨城区', type: 'county', parentId: null },
        { id: 'ro-c1', name: '黄河社区', type: 'community', parentId: 'ro-county' },
        { id: 'ro-c2', name: '渤海社区', type: 'community', parentId: 'ro-county' },
      ],
      people: [
        { id: 'ro-wang', name: '王值班' },
        { id: 'ro-li', name: '李值班' },
        { id: 'ro-zhang', name: '张主任', userId: account.body.id },
      ],
      posts: [{ unitId: 'ro-c1', role: 'director', personId: 'ro-zhang' }],
    },
  });
  expect(res.status).toBe(200);
  const login = await app.http<{ token: string }>('POST', '/api/v1/auth/login', {
    body: { username: 'ro-director', password: TEST_PASSWORD },
  });
  directorToken = login.body.token;
  director = consoleClient(app.api.url);
  director.useSession(directorToken);
});

afterAll(async () => {
  await app?.stop();
});

async function apiRota() {
  const res = await app.http<{ shifts: unknown[] }>('GET', '/api/v1/org/units/ro-c1/rota', {
    token: app.adminKey,
  });
  expect(res.status).toBe(200);
  return res.body.shifts;
}

/** The form's fields for these rows (`rows` counts them, as the page's hidden field does). */
function formOf(rows: Array<Partial<Record<string, string>>>): Record<string, string> {
  const form: Record<string, string> = { rows: String(rows.length) };
  rows.forEach((row, i) => {
    for (const name of ['on', 'start', 'end', 'people', 'roles', 'remove']) {
      const value = row[name];
      if (value !== undefined) form[`${name}_${i}`] = value;
    }
  });
  return form;
}

it('when an admin writes two shifts, then adds one and removes one, then the API reads the rota as edited', async () => {
  // Arrange: no rota yet, three blank rows offered
  const empty = await admin.get(ROTA);

  // Act: two shifts (the evening service on workdays, a night shift on rest days and New Year's Eve)
  const saved = await admin.post(
    ROTA,
    formOf([
      { on: 'workdays', start: '18:00', end: '22:00', people: 'ro-wang', roles: '' },
      { on: 'restdays, 2026-12-31', start: '22:00', end: '08:00', people: '', roles: 'director' },
      { on: '', start: '', end: '', people: '', roles: '' },
    ]),
  );
  const shown = await admin.get(saved.location!);
  const first = await apiRota();
  // …then remove the first and add a weekend day shift in a blank row
  const edited = await admin.post(
    ROTA,
    formOf([
      { on: 'workdays', start: '18:00', end: '22:00', people: 'ro-wang', remove: '1' },
      { on: 'restdays 2026-12-31', start: '22:00', end: '08:00', roles: 'director' },
      { on: 'sat sun', start: '08:00', end: '18:00', people: 'ro-wang ro-li' },
    ]),
  );
  const second = await apiRota();

  // Assert
  expect(empty.status).toBe(200);
  expect(empty.html.match(/data-blank/g)).toHaveLength(3);
  expect(saved.status).toBe(303);
  expect(textOf(shown.html)).toContain('值班表已保存');
  expect(shown.html).toContain('value="restdays 2026-12-31"');
  expect(first).toEqual([
    { on: ['workdays'], start: '18:00', end: '22:00', people: ['ro-wang'], roles: [] },
    {
      on: ['restdays', '2026-12-31'],
      start: '22:00',
      end: '08:00',
      people: [],
      roles: ['director'],
    },
  ]);
  expect(edited.status).toBe(303);
  expect(second).toEqual([
    {
      on: ['restdays', '2026-12-31'],
      start: '22:00',
      end: '08:00',
      people: [],
      roles: ['director'],
    },
    { on: ['sat', 'sun'], start: '08:00', end: '18:00', people: ['ro-wang', 'ro-li'], roles: [] },
  ]);
  // The availability page links to the editor and lists the shifts
  const availability = await admin.get('/console/admin/org/units/ro-c1/availability');
  expect(availability.html).toContain('href="/console/admin/org/units/ro-c1/rota"');
  expect(textOf(availability.html)).toContain('sat, sun');
});

it('when a row names a bad day, a bad time or an unknown person, then each is named as the API names it beside its row, and the rota is kept as it was', async () => {
  // Arrange
  const before = await apiRota();
  await admin.get(ROTA);

  // Act: the schema's problems (day and time) on the second row kept
  const badShape = await admin.post(
    ROTA,
    formOf([
      { on: 'mon', start: '08:00', end: '12:00', people: 'ro-li' },
      { on: 'monday', start: '25:00', end: '08:00', people: 'ro-wang' },
      { on: 'tue', start: '08:00', end: '12:00' },
    ]),
  );
  // …and the service's (a person who does not exist)
  const unknown = await admin.post(
    ROTA,
    formOf([{ on: 'mon', start: '08:00', end: '12:00', people: 'ro-nobody' }]),
  );

  // Assert: 400 with the API's paths and messages, the typed values kept
  expect(badShape.status).toBe(400);
  const text = textOf(badShape.html);
  expect(text).toContain(
    'body.shifts[1].on[0] : "monday" is not a day: use mon, tue, wed, thu, fri, sat, sun, workdays, restdays, holidays or a date YYYY-MM-DD',
  );
  expect(text).toContain('body.shifts[1].start : "25:00" is not a time of day HH:MM (00:00–23:59)');
  expect(text).toContain('body.shifts[2] : a shift rosters people or roles, or both');
  expect(badShape.html).toMatch(/data-shift-errors="1"/);
  expect(badShape.html).toContain('value="monday"');
  // …422 from the service, naming the person
  expect(unknown.status).toBe(422);
  expect(textOf(unknown.html)).toContain('body.shifts[0].people[0] : unknown person "ro-nobody"');
  expect(await apiRota()).toEqual(before);
});

it('when a dispatcher opens or posts the rota editor, then both are refused', async () => {
  // Act
  const page = await dispatcher.get(ROTA);
  await dispatcher.get('/console/inbox');
  const posted = await dispatcher.post(
    ROTA,
    formOf([{ on: 'mon', start: '08:00', end: '12:00', people: 'ro-li' }]),
  );

  // Assert
  expect(page.status).toBe(403);
  expect(posted.status).toBe(403);
});

it('when a unit’s director writes their own unit’s rota through the API and the console, then both are saved', async () => {
  // Act: through the API…
  const viaApi = await app.http<{ shifts: unknown[] }>('PUT', '/api/v1/org/units/ro-c1/rota', {
    token: directorToken,
    body: { shifts: [{ on: ['mon'], start: '08:00', end: '12:00', people: ['ro-li'], roles: [] }] },
  });
  const afterApi = await apiRota();
  // …and through the console's editor
  const page = await director.get(ROTA);
  const saved = await director.post(
    ROTA,
    formOf([{ on: 'tue', start: '08:00', end: '12:00', people: 'ro-wang', roles: 'director' }]),
  );

  // Assert
  expect(viaApi.status).toBe(200);
  expect(afterApi).toEqual([
    { on: ['mon'], start: '08:00', end: '12:00', people: ['ro-li'], roles: [] },
  ]);
  expect(page.status).toBe(200);
  // The unit's admin pages are not theirs: no link there
  expect(page.html).not.toContain('/console/admin/org/units/ro-c1/availability');
  expect(saved.status).toBe(303);
  expect(await apiRota()).toEqual([
    { on: ['tue'], start: '08:00', end: '12:00', people: ['ro-wang'], roles: ['director'] },
  ]);
});

it('when a unit’s director writes another unit’s rota, then the API and the console refuse it (403) and it is not written', async () => {
  // Arrange
  const other = '/console/admin/org/units/ro-c2/rota';
  const rota = { shifts: [{ on: ['mon'], start: '08:00', end: '12:00', people: ['ro-li'] }] };

  // Act
  const viaApi = await app.http<{ error: { message: string } }>(
    'PUT',
    '/api/v1/org/units/ro-c2/rota',
    { token: directorToken, body: rota },
  );
  const page = await director.get(other);
  await director.get(ROTA);
  const posted = await director.post(
    other,
    formOf([{ on: 'mon', start: '08:00', end: '12:00', people: 'ro-li' }]),
  );
  const stored = await app.http<{ shifts: unknown[] }>('GET', '/api/v1/org/units/ro-c2/rota', {
    token: app.adminKey,
  });

  // Assert
  expect(viaApi.status).toBe(403);
  expect(viaApi.body.error.message).toBe(
    'Only an admin or the head (director) of unit "ro-c2" may write its rota',
  );
  expect(page.status).toBe(403);
  expect(posted.status).toBe(403);
  expect(stored.body.shifts).toEqual([]);
});

import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}

interface AbsenceBody {
  id: string;
  personId: string;
  from: string;
  to: string;
  reason?: string;
  standInId: string | null;
}

let app: TestApp;

/** Two communities of a street; a grid worker and a secretary in the first, one in the second. */
const roster = {
  units: [
    { id: 'av-street', name: '博望街道', type: 'street', parentId: null },
    { id: 'av-east', name: '东关社区', type: 'community', parentId: 'av-street' },
    { id: 'av-west', name: '西关社区', type: 'community', parentId: 'av-street' },
  ],
  people: [
    { id: 'av-wang', name: '王网格' },
    { id: 'av-zhao', name: '赵书记' },
    { id: 'av-sun', name: '孙网格' },
  ],
  posts: [
    { unitId: 'av-east', role: 'grid-worker', personId: 'av-wang' },
    { unitId: 'av-east', role: 'secretary', personId: 'av-zhao' },
    { unitId: 'av-west', role: 'grid-worker', personId: 'av-sun' },
  ],
};

const leave = {
  personId: 'av-wang',
  from: '2026-12-08T00:00:00+08:00',
  to: '2026-12-11T00:00:00+08:00',
  reason: 'sick',
  standInId: 'av-zhao',
};

beforeAll(async () => {
  app = await startTestApp('availability-api', { worker: false });
  const res = await app.http('POST', '/api/v1/org/import', { token: app.adminKey, body: roster });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await app?.stop();
});

describe('absences', () => {
  it('when an admin records an absence twice, then it is stored once under a derived id and read back with its stand-in', async () => {
    const first = await app.http<AbsenceBody>('POST', '/api/v1/org/absences', {
      token: app.adminKey,
      body: leave,
    });
    const again = await app.http<AbsenceBody>('POST', '/api/v1/org/absences', {
      token: app.adminKey,
      body: leave,
    });

    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(first.body).toEqual({
      id: 'av-wang-202612071600',
      personId: 'av-wang',
      from: '2026-12-07T16:00:00.000Z',
      to: '2026-12-10T16:00:00.000Z',
      reason: 'sick',
      standInId: 'av-zhao',
    });
    const listed = await app.http<{ items: AbsenceBody[] }>(
      'GET',
      '/api/v1/org/absences?personId=av-wang&at=2026-12-09T12:00:00%2B08:00',
      { token: app.adminKey },
    );
    expect(listed.body.items.map((a) => a.id)).toEqual(['av-wang-202612071600']);
    const after = await app.http<{ items: AbsenceBody[] }>(
      'GET',
      '/api/v1/org/absences?personId=av-wang&at=2026-12-11T00:00:00%2B08:00',
      { token: app.adminKey },
    );
    expect(after.body.items).toEqual([]);
  });

  it('when an absence ends before it starts, names an unknown stand-in or an unknown reason, then each field is named (400 for its shape, 422 for an unknown person) and nothing is written', async () => {
    const before = await app.db.models.Absence.countDocuments({});
    const res = await app.http<ErrorBody>('POST', '/api/v1/org/absences/import', {
      token: app.adminKey,
      body: {
        absences: [
          { ...leave, id: 'ok-one', personId: 'av-sun', standInId: undefined },
          { ...leave, id: 'bad-one', to: '2026-12-01T00:00:00+08:00', standInId: 'nobody' },
        ],
      },
    });

    expect(res.status).toBe(400);
    expect(res.body.error.details).toContainEqual({
      path: 'body.absences[1].to',
      message: '"to" must be after "from"',
    });
    const semantic = await app.http<ErrorBody>('POST', '/api/v1/org/absences/import', {
      token: app.adminKey,
      body: { absences: [{ ...leave, id: 'bad-two', standInId: 'nobody' }] },
    });
    expect(semantic.status).toBe(422);
    expect(semantic.body.error.details).toEqual([
      { path: 'body.absences[0].standInId', message: 'unknown person "nobody"' },
    ]);
    const reason = await app.http<ErrorBody>('POST', '/api/v1/org/absences', {
      token: app.adminKey,
      body: { ...leave, reason: 'holiday' },
    });
    expect(reason.status).toBe(400);
    expect(reason.body.error.details[0]!.path).toBe('body.reason');
    expect(await app.db.models.Absence.countDocuments({})).toBe(before);
  });

  it('when absences come as a spreadsheet with a bad row, then the cell is named and nothing is written; fixed, they are stored', async () => {
    const csv = (to: string) =>
      [
        'id,personId,from,to,reason,standInId',
        'csv-1,av-sun,2026-12-14T00:00:00+08:00,2026-12-15T00:00:00+08:00,training,',
        `csv-2,av-zhao,2026-12-14T00:00:00+08:00,${to},business-trip,av-wang`,
      ].join('\r\n');
    const post = (body: string) =>
      app.http<ErrorBody & { absences: number }>('POST', '/api/v1/org/absences/import/csv', {
        token: app.adminKey,
        rawBody: body,
        headers: { 'content-type': 'text/csv; charset=utf-8' },
      });

    const bad = await post(csv('2026-12-13T00:00:00+08:00'));
    const good = await post(csv('2026-12-20T00:00:00+08:00'));

    expect(bad.status).toBe(422);
    expect(bad.body.error.details).toEqual([
      { path: 'row 3, column to', message: '"to" must be after "from"' },
    ]);
    expect(good.status).toBe(200);
    expect(good.body.absences).toBe(2);
    expect(await app.db.models.Absence.findById('csv-2').lean()).toMatchObject({
      personId: 'av-zhao',
      standInId: 'av-wang',
    });
  });

  it('when staff read absences, then they see those of people posted in their scope without the reason, and others answer 404', async () => {
    const east = await app.signIn('av-staff-east', ['staff'], ['av-east']);
    const west = await app.signIn('av-staff-west', ['staff'], ['av-west']);

    const own = await app.http<{ items: AbsenceBody[] }>(
      'GET',
      '/api/v1/org/absences?personId=av-wang',
      { token: east },
    );
    const other = await app.http<ErrorBody>('GET', '/api/v1/org/absences?personId=av-wang', {
      token: west,
    });
    const write = await app.http<ErrorBody>('POST', '/api/v1/org/absences', {
      token: east,
      body: leave,
    });

    expect(own.status).toBe(200);
    expect(own.body.items.length).toBeGreaterThan(0);
    expect(own.body.items.every((a) => a.reason === undefined)).toBe(true);
    expect(other.status).toBe(404);
    expect(write.status).toBe(403);
  });
});

describe('B-holders and duty rotas', () => {
  it('when an admin names a post’s B-holder, then the unit lists it; an unknown person is named in a 422', async () => {
    const named = await app.http('PUT', '/api/v1/org/backups', {
      token: app.adminKey,
      body: { unitId: 'av-east', role: 'grid-worker', personId: 'av-sun' },
    });
    const unknown = await app.http<ErrorBody>('PUT', '/api/v1/org/backups', {
      token: app.adminKey,
      body: { unitId: 'av-east', role: 'secretary', personId: 'nobody' },
    });
    const listed = await app.http<{ items: unknown[] }>(
      'GET',
      '/api/v1/org/units/av-east/backups',
      {
        token: app.adminKey,
      },
    );

    expect(named.status).toBe(201);
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details).toEqual([
      { path: 'body.personId', message: 'unknown person "nobody"' },
    ]);
    expect(listed.body.items).toEqual([
      { unitId: 'av-east', role: 'grid-worker', personId: 'av-sun' },
    ]);
  });

  it('when an admin stores a rota, then it reads back; a bad day or time is named by its path', async () => {
    const rota = {
      shifts: [
        { on: ['workdays'], start: '18:00', end: '22:00', people: ['av-wang'] },
        { on: ['restdays', '2026-12-31'], start: '22:00', end: '08:00', roles: ['secretary'] },
      ],
    };
    const saved = await app.http<{ shifts: unknown[] }>('PUT', '/api/v1/org/units/av-east/rota', {
      token: app.adminKey,
      body: rota,
    });
    const bad = await app.http<ErrorBody>('PUT', '/api/v1/org/units/av-east/rota', {
      token: app.adminKey,
      body: { shifts: [{ on: ['monday'], start: '25:00', end: '08:00', people: ['av-wang'] }] },
    });
    const unknown = await app.http<ErrorBody>('PUT', '/api/v1/org/units/av-east/rota', {
      token: app.adminKey,
      body: { shifts: [{ on: ['mon'], start: '08:00', end: '12:00', people: ['nobody'] }] },
    });
    const read = await app.http<{ shifts: unknown[] }>('GET', '/api/v1/org/units/av-east/rota', {
      token: app.adminKey,
    });

    expect(saved.status).toBe(200);
    expect(read.body.shifts).toEqual([
      { on: ['workdays'], start: '18:00', end: '22:00', people: ['av-wang'], roles: [] },
      {
        on: ['restdays', '2026-12-31'],
        start: '22:00',
        end: '08:00',
        people: [],
        roles: ['secretary'],
      },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d) => d.path)).toEqual([
      'body.shifts[0].on[0]',
      'body.shifts[0].start',
    ]);
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details).toEqual([
      { path: 'body.shifts[0].people[0]', message: 'unknown person "nobody"' },
    ]);
  });
});

describe('working hours', () => {
  it('when a community gets evening hours, then it and the units below it read them, the street the default, and overlapping windows are refused', async () => {
    await app.http('POST', '/api/v1/org/units', {
      token: app.adminKey,
      body: { id: 'av-east-grid', name: '东关第一网格', type: 'grid', parentId: 'av-east' },
    });
    const saved = await app.http('PUT', '/api/v1/org/units/av-east/working-hours', {
      token: app.adminKey,
      body: { windows: [{ start: '18:00', end: '22:00' }], everyDay: true },
    });
    const overlapping = await app.http<ErrorBody>(
      'PUT',
      '/api/v1/org/units/av-west/working-hours',
      {
        token: app.adminKey,
        body: {
          windows: [
            { start: '09:00', end: '12:00' },
            { start: '11:00', end: '13:00' },
          ],
        },
      },
    );
    const grid = await app.http('GET', '/api/v1/org/units/av-east-grid/working-hours', {
      token: app.adminKey,
    });
    const street = await app.http('GET', '/api/v1/org/units/av-street/working-hours', {
      token: app.adminKey,
    });

    expect(saved.status).toBe(200);
    expect(overlapping.status).toBe(422);
    expect(overlapping.body.error.details).toEqual([
      { path: 'body.windows', message: 'working windows overlap' },
    ]);
    expect(grid.body).toEqual({
      unitId: 'av-east-grid',
      from: 'av-east',
      windows: [{ start: '18:00', end: '22:00' }],
      everyDay: true,
    });
    expect(street.body).toMatchObject({ unitId: 'av-street', from: null, everyDay: false });
  });
});

describe('console pages', () => {
  it('when an admin records an absence on a person’s page, then it is listed with its stand-in; a bad stand-in is named on the form', async () => {
    const admin = consoleClient(app.api.url);
    admin.useSession(await app.signIn('av-admin', ['admin']));
    const path = '/console/admin/org/people/av-sun/absences';

    const form = await admin.get(path);
    const bad = await admin.post(path, {
      from: '2026-12-21T09:00',
      to: '2026-12-22T09:00',
      reason: 'training',
      standInId: 'nobody',
    });
    await admin.get(path);
    const saved = await admin.post(path, {
      from: '2026-12-21T09:00',
      to: '2026-12-22T09:00',
      reason: 'training',
      standInId: 'av-wang',
    });
    const listed = await admin.get(path);

    expect(form.status).toBe(200);
    expect(bad.status).toBe(422);
    expect(textOf(bad.html)).toContain('unknown person "nobody"');
    expect(saved.status).toBe(303);
    expect(await app.db.models.Absence.findById('av-sun-202612210100').lean()).toMatchObject({
      standInId: 'av-wang',
      reason: 'training',
    });
    expect(listed.html).toContain('data-absence="av-sun-202612210100"');
    expect(textOf(listed.html)).toContain('av-wang');
  });

  it('when an admin opens a unit’s AB page, then each post shows its holders and B-holder, and the rota is listed', async () => {
    const admin = consoleClient(app.api.url);
    admin.useSession(await app.signIn('av-admin-2', ['admin']));

    const page = await admin.get('/console/admin/org/units/av-east/availability');

    expect(page.status).toBe(200);
    const row = /<tr data-role="grid-worker">([\s\S]*?)<\/tr>/.exec(page.html)?.[1] ?? '';
    expect(textOf(row)).toContain('王网格');
    expect(textOf(row)).toContain('av-sun');
    expect(textOf(page.html)).toContain('18:00–22:00');
    const hours = /<dl class="facts" data-working-hours>([\s\S]*?)<\/dl>/.exec(page.html)?.[1];
    expect(textOf(hours ?? '')).toContain('每天（含周末和节假日）');
  });
});

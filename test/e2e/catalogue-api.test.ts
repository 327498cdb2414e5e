import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}

interface CatalogueBody {
  ownerUnitId: string;
  revision: number;
  current: boolean;
  entryCount: number;
  entries: Array<{ category: string; unitId: string; coUnitIds?: string[]; keywords?: string[] }>;
}

let app: TestApp;

const org = {
  units: [
    { id: 'cat-county', name: '城固县', type: 'county', parentId: null },
    { id: 'cat-water', name: '县水务局', type: 'department', parentId: 'cat-county' },
    { id: 'cat-street-a', name: '博望街道', type: 'street', parentId: 'cat-county' },
    { id: 'cat-city-a', name: '街道城管科', type: 'department', parentId: 'cat-street-a' },
    { id: 'cat-street-b', name: '龙头镇', type: 'street', parentId: 'cat-county' },
  ],
  people: [],
  posts: [],
};

beforeAll(async () => {
  app = await startTestApp('catalogue-api', { worker: false });
  const imported = await app.http('POST', '/api/v1/org/import', { token: app.adminKey, body: org });
  expect(imported.status).toBe(200);
});

afterAll(async () => {
  await app?.stop();
});

it('when an admin publishes a catalogue twice and then changes it, then revisions 1 and 2 exist and the first publish is not repeated', async () => {
  const entries = [
    { category: 'water', unitId: 'cat-water', timeLimit: '5 working days' },
    { category: 'sanitation', unitId: 'cat-water', coUnitIds: ['cat-street-a'] },
  ];
  const first = await app.http<CatalogueBody>('PUT', '/api/v1/catalogues/cat-county', {
    token: app.adminKey,
    body: { entries },
  });
  expect(first.status).toBe(201);
  expect(first.body).toMatchObject({ ownerUnitId: 'cat-county', revision: 1, current: true });

  const again = await app.http<CatalogueBody>('PUT', '/api/v1/catalogues/cat-county', {
    token: app.adminKey,
    body: { entries },
  });
  expect(again.status).toBe(200);
  expect(again.body.revision).toBe(1);

  const changed = await app.http<CatalogueBody>('PUT', '/api/v1/catalogues/cat-county', {
    token: app.adminKey,
    body: { entries: [...entries, { category: 'roads', unitId: 'cat-county' }] },
  });
  expect(changed.status).toBe(201);
  expect(changed.body.revision).toBe(2);

  const revisions = await app.http<{ items: Array<{ revision: number; entryCount: number }> }>(
    'GET',
    '/api/v1/catalogues/cat-county/revisions',
    { token: app.adminKey },
  );
  expect(revisions.body.items.map((r) => [r.revision, r.entryCount])).toEqual([
    [2, 3],
    [1, 2],
  ]);
  const old = await app.http<CatalogueBody>('GET', '/api/v1/catalogues/cat-county/revisions/1', {
    token: app.adminKey,
  });
  expect(old.body).toMatchObject({ revision: 1, current: false });
  expect(old.body.entries).toHaveLength(2);
});

it('when a catalogue names an unknown unit, an empty or duplicate category, then 422 names each entry and nothing is published', async () => {
  const res = await app.http<ErrorBody>('PUT', '/api/v1/catalogues/cat-street-b', {
    token: app.adminKey,
    body: {
      entries: [
        { category: 'water', unitId: 'cat-water' },
        { category: '', unitId: 'cat-water' },
        { category: 'water', unitId: 'no-such-unit' },
      ],
    },
  });
  expect(res.status).toBe(422);
  expect(res.body.error.details).toEqual([
    { path: 'body.entries[1].category', message: 'the category is empty' },
    {
      path: 'body.entries[2].category',
      message: 'category "water" is already listed by entry 1',
    },
    { path: 'body.entries[2].unitId', message: 'unknown unit "no-such-unit"' },
  ]);
  const read = await app.http('GET', '/api/v1/catalogues/cat-street-b', { token: app.adminKey });
  expect(read.status).toBe(404);
});

it('when a catalogue is imported as CSV with a bad row, then the row and column are named; fixed, it publishes', async () => {
  const bad = [
    '\uFEFFcategory,unitId,coUnitIds,keywords,note',
    'sanitation,cat-city-a,cat-water,垃圾;清运,',
    ',cat-city-a,,,',
    'lighting,cat-nowhere,,,路灯',
  ].join('\r\n');
  const refused = await app.http<ErrorBody>('POST', '/api/v1/catalogues/cat-street-a/import', {
    token: app.adminKey,
    rawBody: bad,
    headers: { 'content-type': 'text/csv; charset=utf-8' },
  });
  expect(refused.status).toBe(400);
  expect(refused.body.error.details).toEqual([
    { path: 'row 3, column category', message: 'a value is required' },
  ]);

  const unknownUnit = await app.http<ErrorBody>('POST', '/api/v1/catalogues/cat-street-a/import', {
    token: app.adminKey,
    rawBody: bad.replace('\r\n,cat-city-a,,,', ''),
    headers: { 'content-type': 'text/csv' },
  });
  expect(unknownUnit.status).toBe(422);
  expect(unknownUnit.body.error.details).toEqual([
    { path: 'row 3, column unitId', message: 'unknown unit "cat-nowhere"' },
  ]);

  const good = await app.http<CatalogueBody>('POST', '/api/v1/catalogues/cat-street-a/import', {
    token: app.adminKey,
    rawBody: 'category,unitId,coUnitIds,keywords\nsanitation,cat-city-a,cat-water,垃圾、清运\n',
    headers: { 'content-type': 'text/csv' },
  });
  expect(good.status).toBe(201);
  expect(good.body.entries).toEqual([
    {
      category: 'sanitation',
      unitId: 'cat-city-a',
      coUnitIds: ['cat-water'],
      keywords: ['垃圾', '清运'],
    },
  ]);
});

it('when a street dispatcher reads catalogues, then it sees its street’s and the county’s but not another street’s, and may not publish', async () => {
  await app.http('PUT', '/api/v1/catalogues/cat-street-b', {
    token: app.adminKey,
    body: { entries: [{ category: 'water', unitId: 'cat-water' }] },
  });
  const token = await app.signIn('cat-dispatcher-a', ['dispatcher'], ['cat-street-a']);

  const list = await app.http<{ items: Array<{ ownerUnitId: string }> }>(
    'GET',
    '/api/v1/catalogues',
    { token },
  );
  expect(list.status).toBe(200);
  expect(list.body.items.map((c) => c.ownerUnitId)).toEqual(['cat-county', 'cat-street-a']);
  expect((await app.http('GET', '/api/v1/catalogues/cat-county', { token })).status).toBe(200);
  expect((await app.http('GET', '/api/v1/catalogues/cat-street-b', { token })).status).toBe(404);
  const publish = await app.http('PUT', '/api/v1/catalogues/cat-street-a', {
    token,
    body: { entries: [] },
  });
  expect(publish.status).toBe(403);
  const resident = await app.signIn('cat-resident', ['resident']);
  expect((await app.http('GET', '/api/v1/catalogues', { token: resident })).status).toBe(403);
});

it('when an admin uploads a catalogue CSV in the console, then a bad row is shown with its row and column, and a good file publishes a revision shown with its entries', async () => {
  const admin = consoleClient(app.api.url);
  admin.useSession(await app.signIn('cat-admin', ['admin']));
  const form = await admin.get('/console/admin/catalogues/cat-street-b');
  expect(form.status).toBe(200);

  const refused = await admin.post('/console/admin/catalogues/cat-street-b/import', {
    csv: 'category,unitId\nwater,cat-water\nroads,cat-gone\n',
  });
  expect(refused.status).toBe(422);
  expect(refused.html).toMatch(/<td class="num">3<\/td>\s*<td><code>unitId<\/code><\/td>/);
  expect(textOf(refused.html)).toContain('unknown unit "cat-gone"');

  const published = await admin.post('/console/admin/catalogues/cat-street-b/import', {
    csv: 'category,unitId\nwater,cat-water\nroads,cat-county\n',
  });
  expect(published.status).toBe(303);
  const shown = await admin.get('/console/admin/catalogues/cat-street-b');
  const text = textOf(shown.html);
  expect(text).toContain('第 2 版');
  expect(text).toContain('roads');
  const list = await admin.get('/console/admin/catalogues');
  expect(textOf(list.html)).toContain('龙头镇');
});

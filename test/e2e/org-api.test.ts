import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}

let app: TestApp;

/** A slice of Chengu county, imported the way an admin would from the county's roster. */
const roster = {
  units: [
    // Children before parents on purpose: the import orders them itself.
    { id: 'grid-1', name: '第一网格', type: 'grid', parentId: 'community-1' },
    { id: 'community-1', name: '东关社区', type: 'community', parentId: 'street-a' },
    { id: 'street-a', name: '博望街道', type: 'street', parentId: 'county' },
    { id: 'county', name: '城固县', type: 'county', parentId: null },
  ],
  people: [
    { id: 'p-1', name: '张网格', email: 'grid1@example.test' },
    { id: 'p-2', name: '李书记' },
  ],
  posts: [
    { unitId: 'grid-1', role: 'grid-worker', personId: 'p-1' },
    { unitId: 'community-1', role: 'secretary', personId: 'p-2' },
  ],
};

beforeAll(async () => {
  app = await startTestApp('org-api', { worker: false });
});

afterAll(async () => {
  await app?.stop();
});

it('when an admin imports a roster twice, then the tree is stored once with ancestry and post holders', async () => {
  for (let i = 0; i < 2; i++) {
    const res = await app.http('POST', '/api/v1/org/import', { token: app.adminKey, body: roster });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ units: 4, people: 2, posts: 2, pairings: 0 });
  }
  expect(await app.db.models.Unit.countDocuments({})).toBe(4);
  expect(await app.db.models.Post.countDocuments({})).toBe(2);

  const grid = await app.http<{ ancestry: Array<{ id: string }>; posts: unknown[] }>(
    'GET',
    '/api/v1/org/units/grid-1',
    {
      token: app.adminKey,
    },
  );
  expect(grid.status).toBe(200);
  expect(grid.body.ancestry.map((u) => u.id)).toEqual(['community-1', 'street-a', 'county']);
  expect(grid.body.posts).toEqual([{ role: 'grid-worker', personId: 'p-1', personName: '张网格' }]);

  const children = await app.http<{ items: Array<{ id: string }>; total: number }>(
    'GET',
    '/api/v1/org/units?parentId=street-a',
    { token: app.adminKey },
  );
  expect(children.body.items.map((u) => u.id)).toEqual(['community-1']);
  expect(children.body.total).toBe(1);
});

it('when an import breaks the tree, then nothing is written and every problem is named', async () => {
  const before = await app.db.models.Unit.countDocuments({});
  const res = await app.http<ErrorBody>('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [{ id: 'orphan', name: '孤立网格', type: 'grid', parentId: 'no-such-community' }],
      posts: [{ unitId: 'grid-1', role: 'grid-worker', personId: 'nobody' }],
    },
  });
  expect(res.status).toBe(422);
  expect(res.body.error.details).toEqual([
    { path: 'body.units[0].parentId', message: 'unknown unit "no-such-community"' },
    { path: 'body.posts[0].personId', message: 'unknown person "nobody"' },
  ]);
  expect(await app.db.models.Unit.countDocuments({})).toBe(before);

  const badType = await app.http<ErrorBody>('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: { units: [{ id: 'x', name: 'X', type: 'village', parentId: null }] },
  });
  expect(badType.status).toBe(400);
  expect(badType.body.error.details[0]).toEqual({
    path: 'body.units[0].type',
    message: '"village" is not a unit type',
  });
});

it('when a resident asks for the org tree, then 403; an unknown unit is 404', async () => {
  const token = await app.signIn('org-resident', ['resident']);
  expect((await app.http('GET', '/api/v1/org/units', { token })).status).toBe(403);
  expect((await app.http('POST', '/api/v1/org/import', { token, body: roster })).status).toBe(403);
  expect((await app.http('GET', '/api/v1/org/units/nowhere', { token: app.adminKey })).status).toBe(
    404,
  );
});

describe('CSV import', () => {
  function postCsv(kind: string, csv: string, contentType = 'text/csv; charset=utf-8') {
    return app.http<ErrorBody>('POST', `/api/v1/org/import/${kind}`, {
      token: app.adminKey,
      rawBody: csv,
      headers: { 'content-type': contentType },
    });
  }

  it('when an admin imports units, people and posts as spreadsheet CSV, then they are stored as with JSON', async () => {
    // Arrange: what Excel writes (BOM, CRLF, quotes around a comma and a quote, a line break)
    const units = [
      '\uFEFFid,name,type,parentId',
      'csv-county,城固县,county,',
      'csv-street,"博望街道, 城关",street,csv-county',
      'csv-community,"东关""新""社区",community,csv-street',
    ].join('\r\n');
    const people = 'id,name,email,phone,userId\r\ncsv-p1,"王芳\n(网格员)",wf@example.test,,\r\n';
    const posts = 'personId,unitId,role\ncsv-p1,csv-community,grid-worker\n';

    // Act
    const results = [];
    for (const [kind, csv] of [
      ['units', units],
      ['people', people],
      ['posts', posts],
    ] as const) {
      results.push(await postCsv(kind, csv));
    }
    const again = await postCsv('units', units);

    // Assert
    expect(results.map((r) => [r.status, r.body])).toEqual([
      [200, { units: 3, people: 0, posts: 0, pairings: 0 }],
      [200, { units: 0, people: 1, posts: 0, pairings: 0 }],
      [200, { units: 0, people: 0, posts: 1, pairings: 0 }],
    ]);
    expect(again.status).toBe(200);
    const community = await app.http<{
      name: string;
      ancestry: Array<{ id: string; name: string }>;
      posts: unknown[];
    }>('GET', '/api/v1/org/units/csv-community', { token: app.adminKey });
    expect(community.body.name).toBe('东关"新"社区');
    expect(community.body.ancestry).toEqual([
      { id: 'csv-street', name: '博望街道, 城关', type: 'street' },
      { id: 'csv-county', name: '城固县', type: 'county' },
    ]);
    expect(community.body.posts).toEqual([
      { role: 'grid-worker', personId: 'csv-p1', personName: '王芳\n(网格员)' },
    ]);
    const root = await app.db.models.Unit.findById('csv-county').lean();
    expect(root?.parentId).toBeNull();

    const renamed = await postCsv(
      'units',
      'id,name,type,parentId\ncsv-county,城固县（新）,county,\n',
    );
    expect(renamed.status).toBe(200);
    expect((await app.db.models.Unit.findById('csv-county').lean())?.name).toBe('城固县（新）');
  });

  it('when a spreadsheet saved the CSV in GBK and the charset says so, then the names arrive intact', async () => {
    // Arrange: "城固县" in GBK, as Excel on a Chinese Windows saves "CSV (逗号分隔)"
    const body = Buffer.concat([
      Buffer.from('id,name,type,parentId\r\ngbk-county,'),
      Buffer.from('b3c7b9cccfd8', 'hex'),
      Buffer.from(',county,\r\n'),
    ]);

    // Act
    const res = await fetch(`${app.api.url}/api/v1/org/import/units`, {
      method: 'POST',
      headers: { authorization: `Bearer ${app.adminKey}`, 'content-type': 'text/csv; charset=gbk' },
      body,
    });

    // Assert
    expect(res.status).toBe(200);
    expect((await app.db.models.Unit.findById('gbk-county').lean())?.name).toBe('城固县');
  });

  it('when one row is bad, then nothing is written and the problem names the row and column', async () => {
    // Arrange
    const before = await app.db.models.Unit.countDocuments({});
    const csv = [
      'id,name,type,parentId',
      'bad-street,好街道,street,county',
      'bad-community,好社区,community,bad-street',
      'bad-grid,坏网格,streeet,bad-community',
    ].join('\n');

    // Act
    const res = await postCsv('units', csv);

    // Assert
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: 'row 4, column type', message: '"streeet" is not a unit type' },
    ]);
    expect(res.body.error.message).toContain('row 4, column type: "streeet" is not a unit type');
    expect(await app.db.models.Unit.countDocuments({})).toBe(before);
  });

  it('when rows do not fit the tree, then 422 names their cells and nothing is written', async () => {
    const before = await app.db.models.Post.countDocuments({});
    const res = await postCsv(
      'posts',
      'unitId,role,personId\ngrid-1,grid-worker,p-2\nno-unit,grid-worker,nobody\n',
    );
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      { path: 'row 3, column unitId', message: 'unknown unit "no-unit"' },
      { path: 'row 3, column personId', message: 'unknown person "nobody"' },
    ]);
    expect(await app.db.models.Post.countDocuments({})).toBe(before);
  });

  it('when the CSV is larger than the default body limit, then the import route still takes it', async () => {
    // Arrange: about 300 kB, three times API_BODY_LIMIT
    const rows = Array.from(
      { length: 3000 },
      (_, i) => `big-grid-${i},${'第'.repeat(20)}${i}网格,grid,community-1`,
    );
    const csv = ['id,name,type,parentId', ...rows].join('\n');
    expect(Buffer.byteLength(csv)).toBeGreaterThan(200_000);

    // Act
    const res = await postCsv('units', csv);

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ units: 3000, people: 0, posts: 0, pairings: 0 });
    const tooBig = await app.http<ErrorBody>('POST', '/api/v1/org/people', {
      token: app.adminKey,
      body: { id: 'p-big', name: 'x'.repeat(200_000) },
    });
    expect(tooBig.status).toBe(413);
  });

  it('when the body is not sent as text/csv or the kind is unknown, then 400', async () => {
    const json = await postCsv('units', 'id,name,type,parentId\n', 'application/json');
    expect(json.status).toBe(400);
    const kind = await postCsv('streets', 'id,name\n');
    expect(kind.status).toBe(400);
    expect(kind.body.error.details[0]!.path).toBe('params.kind');
  });

  it('when a resident posts a CSV, then 403', async () => {
    const token = await app.signIn('csv-resident', ['resident']);
    const res = await app.http('POST', '/api/v1/org/import/units', {
      token,
      rawBody: 'id,name,type,parentId\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(res.status).toBe(403);
  });
});

import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

interface ErrorBody {
  error: { code: string; details: Array<{ path: string; message: string }> };
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
    expect(res.body).toEqual({ units: 4, people: 2, posts: 2 });
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
    { path: 'body.posts[0].personId', message: 'unknown person "nobody"' },
    { path: 'body', message: 'unit "orphan" has an unknown parent "no-such-community"' },
  ]);
  expect(await app.db.models.Unit.countDocuments({})).toBe(before);

  const badType = await app.http<ErrorBody>('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: { units: [{ id: 'x', name: 'X', type: 'village', parentId: null }] },
  });
  expect(badType.status).toBe(400);
  expect(badType.body.error.details[0]!.path).toBe('body.units[0].type');
});

it('when a resident asks for the org tree, then 403; an unknown unit is 404', async () => {
  const token = await app.signIn('org-resident', ['resident']);
  expect((await app.http('GET', '/api/v1/org/units', { token })).status).toBe(403);
  expect((await app.http('POST', '/api/v1/org/import', { token, body: roster })).status).toBe(403);
  expect((await app.http('GET', '/api/v1/org/units/nowhere', { token: app.adminKey })).status).toBe(
    404,
  );
});

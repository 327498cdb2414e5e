import { DEMO_COUNTY_ID, DEMO_PASSWORD, generateDemoCounty } from '../../demo/county';
import type { DemoSeedDeps } from '../../demo/seed';
import { openDemoSeedDeps, seedDemo, seedDemoOnEmptyStore } from '../../demo/seed';
import type { TestApp } from '../support/harness';
import { startTestApp, testConfig } from '../support/harness';

/**
 * `npm run seed` and `npm start`'s demo county against the real stack: seeded through the
 * services into FerretDB, read back through the API, signed in to, and a no-op the second time.
 */
let app: TestApp;
let seeder: { deps: DemoSeedDeps; close(): Promise<void> };
const county = generateDemoCounty();

beforeAll(async () => {
  app = await startTestApp('demo-seed', { worker: false });
  seeder = await openDemoSeedDeps(app.config);
});

afterAll(async () => {
  await seeder?.close();
  await app?.stop();
});

interface Page<T> {
  items: T[];
  total: number;
}

it('when the demo county is seeded into an empty store, then the API serves it and a demo user signs in', async () => {
  // Act
  const result = await seedDemoOnEmptyStore(seeder.deps);

  // Assert
  if (result.status !== 'seeded') throw new Error(`expected a seed, got ${result.status}`);
  expect(result.report.status).toBe('seeded');
  expect(result.report.stages.map((s) => s.name)).toEqual([
    'accounts',
    'org tree',
    'dispatch catalogue',
    'case history',
  ]);
  expect(result.report.accounts.map((a) => a.username)).toEqual(
    county.accounts.map((a) => a.username),
  );
  expect(result.report.ms).toBeLessThan(30_000);
  const { Unit, Person, Post, User } = app.db.models;
  expect(await Unit.countDocuments({})).toBe(county.units.length);
  expect(await Person.countDocuments({})).toBe(county.people.length);
  expect(await Post.countDocuments({})).toBe(county.posts.length);
  expect(await User.countDocuments({})).toBe(county.accounts.length);
  // The dispatch catalogues: the county's and 东湖's own (demo/places.ts).
  expect((await app.db.models.Catalogue.find({}).lean()).map((c) => c._id).sort()).toEqual([
    'demo-county',
    'demo-donghu',
  ]);

  const top = await app.http<Page<{ id: string; type: string }>>(
    'GET',
    `/api/v1/org/units?parentId=${DEMO_COUNTY_ID}&pageSize=50`,
    { token: app.adminKey },
  );
  expect(top.status).toBe(200);
  expect(top.body.items.filter((u) => u.type === 'street').map((u) => u.id)).toEqual([
    'demo-chengguan',
    'demo-donghu',
  ]);
  expect(top.body.items.filter((u) => u.type === 'department').length).toBeGreaterThan(0);

  const floor = await app.http<{
    name: string;
    ancestry: Array<{ type: string }>;
    posts: Array<{ role: string }>;
  }>('GET', '/api/v1/org/units/demo-wenhualu-g1-c1-b1-e1-f1', { token: app.adminKey });
  expect(floor.status).toBe(200);
  expect(floor.body.name).toBe('1层');
  expect(floor.body.ancestry.map((u) => u.type)).toEqual([
    'entrance',
    'building',
    'compound',
    'grid',
    'community',
    'street',
    'county',
  ]);
  expect(floor.body.posts.map((p) => p.role)).toContain('floor-group-head');

  const secretaries = await app.http<Page<{ name: string; email: string }>>(
    'GET',
    '/api/v1/org/people?unitId=demo-wenhualu&role=secretary',
    { token: app.adminKey },
  );
  expect(secretaries.status).toBe(200);
  expect(secretaries.body.total).toBe(1);
  expect(secretaries.body.items[0]!.email).toMatch(/@demo\.invalid$/);

  // A demo user signs in with the documented password, as the person the county generated.
  const account = county.accounts.find((a) => a.username === 'demo-grid-worker')!;
  const login = await app.http<{ token: string; user: { id: string; unitIds: string[] } }>(
    'POST',
    '/api/v1/auth/login',
    { body: { username: account.username, password: DEMO_PASSWORD } },
  );
  expect(login.status).toBe(200);
  expect(login.body.user.unitIds).toEqual(account.unitIds);
  const self = await app.http<{ userId: string; posts: Array<{ role: string }> }>(
    'GET',
    `/api/v1/org/people/${account.personId}`,
    { token: login.body.token },
  );
  expect(self.status).toBe(200);
  expect(self.body.userId).toBe(login.body.user.id);
  expect(self.body.posts.map((p) => p.role)).toContain('grid-worker');
  // Staff read only the people of their own grid.
  const outside = await app.http('GET', '/api/v1/org/people/demo-p0001', {
    token: login.body.token,
  });
  expect(outside.status).toBe(404);
});

it('when the seed runs again, then nothing is written and it says so', async () => {
  // Arrange
  const { Unit, Person, User } = app.db.models;
  const stamp = await Unit.findById(DEMO_COUNTY_ID).lean();
  const users = await User.find({}).sort({ _id: 1 }).lean();

  // Act
  const again = await seedDemo(seeder.deps);
  const onStart = await seedDemoOnEmptyStore(seeder.deps);

  // Assert
  if (again.status === 'refused') throw new Error('the demo store was refused');
  expect(again.status).toBe('unchanged');
  expect(again.stages.map((s) => s.changed)).toEqual([0, 0, 0, 0]);
  expect(again.stages[1]!.summary).toContain('all in place');
  expect((await Unit.findById(DEMO_COUNTY_ID).lean())!.updatedAt).toEqual(stamp!.updatedAt);
  expect(await User.find({}).sort({ _id: 1 }).lean()).toEqual(users);
  expect(await Person.countDocuments({})).toBe(county.people.length);
  expect(onStart.status).toBe('present');
  if (onStart.status === 'present') expect(onStart.accounts).toHaveLength(county.accounts.length);
});

describe('a store with org data of its own', () => {
  let other: { deps: DemoSeedDeps; close(): Promise<void> };

  beforeAll(async () => {
    other = await openDemoSeedDeps(testConfig('demo-seed-foreign'));
    await other.deps.org.importOrg({
      units: [{ id: 'county', name: '城固县', type: 'county', parentId: null }],
      people: [{ id: 'p-1', name: '李书记' }],
      posts: [{ unitId: 'county', role: 'secretary', personId: 'p-1' }],
    });
  });

  afterAll(async () => {
    await other?.close();
  });

  it('when seeded without --force, then it is refused and nothing is written; with --force the demo county is added beside it', async () => {
    // Act
    const refused = await seedDemo(other.deps);
    const onStart = await seedDemoOnEmptyStore(other.deps);

    // Assert
    expect(refused).toEqual({ status: 'refused', foreign: { units: 1, people: 1, posts: 1 } });
    expect(onStart).toEqual({ status: 'skipped' });
    expect(await other.deps.models.Unit.countDocuments({})).toBe(1);
    expect(await other.deps.models.User.countDocuments({})).toBe(0);

    // Act
    const forced = await seedDemo(other.deps, { force: true });

    // Assert
    expect(forced.status).toBe('seeded');
    expect(await other.deps.models.Unit.countDocuments({})).toBe(county.units.length + 1);
    expect(await other.deps.models.Unit.findById('county').lean()).toMatchObject({
      name: '城固县',
    });
  });
});

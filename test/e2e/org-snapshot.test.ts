import type { RunningApi } from '../../server';
import { startApi } from '../../server';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/**
 * Org changes are versioned, not time-cached: each API process keeps one snapshot of the unit
 * tree and reads it again when the org revision moved, so a unit or post written through any
 * replica is seen (or stops counting) on the very next request of every replica. And the org
 * lists page: `page`, `pageSize` (default 20, at most 100) and a `next` link.
 */

let app: TestApp;
/** A second API process on the same store, as a second replica behind a load balancer. */
let replica: RunningApi;
let staffToken: string;

interface Page<T> {
  items: T[];
  page: number;
  pageSize: number;
  total: number;
  next: string | null;
}

interface ErrorBody {
  error: { code: string; details: Array<{ path: string; message: string }> };
}

async function onReplica<T>(path: string, token: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${replica.url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function admin(method: string, path: string, body?: unknown) {
  const res = await app.http(method, path, { token: app.adminKey, ...(body ? { body } : {}) });
  expect(res.status).toBeLessThan(300);
  return res;
}

async function peopleSeenBy(
  token: string,
  where: 'app' | 'replica',
): Promise<{ status: number; ids: string[] }> {
  const path = '/api/v1/org/people?pageSize=100';
  const res =
    where === 'app'
      ? await app.http<Page<{ id: string }>>('GET', path, { token })
      : await onReplica<Page<{ id: string }>>(path, token);
  return { status: res.status, ids: res.body.items.map((p) => p.id).sort() };
}

beforeAll(async () => {
  app = await startTestApp('org-snapshot', { worker: false });
  replica = await startApi(app.config, { definitionsDir: null });
  await admin('POST', '/api/v1/org/import', {
    units: [
      { id: 'snap-s1', name: '一号街道', type: 'street', parentId: null },
      { id: 'snap-s2', name: '二号街道', type: 'street', parentId: null },
      { id: 'snap-c0', name: '老社区', type: 'community', parentId: 'snap-s1' },
    ],
    people: [
      { id: 'snap-p0', name: '老网格员' },
      { id: 'snap-p1', name: '新网格员' },
    ],
    posts: [{ unitId: 'snap-c0', role: 'grid-worker', personId: 'snap-p0' }],
  });
  staffToken = await app.signIn('snap-staff', ['staff'], ['snap-s1']);
}, 120_000);

afterAll(async () => {
  await replica?.stop();
  await app?.stop();
});

describe('org snapshot', () => {
  it('when a unit and a post are created through the API, then the very next request of either replica sees them in scope', async () => {
    // Arrange: both replicas have read the tree as it stands
    expect((await peopleSeenBy(staffToken, 'app')).ids).toEqual(['snap-p0']);
    expect((await peopleSeenBy(staffToken, 'replica')).ids).toEqual(['snap-p0']);

    // Act: a new community under the staff's street, and a person posted there
    await admin('POST', '/api/v1/org/units', {
      id: 'snap-c1',
      name: '新社区',
      type: 'community',
      parentId: 'snap-s1',
    });
    await admin('POST', '/api/v1/org/posts', {
      unitId: 'snap-c1',
      role: 'grid-worker',
      personId: 'snap-p1',
    });

    // Assert: no wait
    expect((await peopleSeenBy(staffToken, 'app')).ids).toEqual(['snap-p0', 'snap-p1']);
    expect((await peopleSeenBy(staffToken, 'replica')).ids).toEqual(['snap-p0', 'snap-p1']);
    const person = await onReplica<{ id: string }>('/api/v1/org/people/snap-p1', staffToken);
    expect(person.status).toBe(200);
  });

  it('when a unit is moved out of a scope, then the very next request of the other replica no longer counts it', async () => {
    // Arrange
    expect((await peopleSeenBy(staffToken, 'replica')).ids).toContain('snap-p1');

    // Act: the community moves to the other street, through the first replica
    await admin('POST', '/api/v1/org/units', {
      id: 'snap-c1',
      name: '新社区',
      type: 'community',
      parentId: 'snap-s2',
    });

    // Assert
    expect((await peopleSeenBy(staffToken, 'replica')).ids).toEqual(['snap-p0']);
    const person = await onReplica<ErrorBody>('/api/v1/org/people/snap-p1', staffToken);
    expect(person.status).toBe(404);
  });

  it('when a post holder is removed, then the very next request of either replica no longer shows them', async () => {
    // Act
    const removed = await app.http('DELETE', '/api/v1/org/posts/snap-c0/grid-worker/snap-p0', {
      token: app.adminKey,
    });

    // Assert
    expect(removed.status).toBe(204);
    expect((await peopleSeenBy(staffToken, 'app')).ids).toEqual([]);
    expect((await onReplica('/api/v1/org/people/snap-p0', staffToken)).status).toBe(404);
  });

  it('when a unit is renamed, then the very next report of the other replica names it anew', async () => {
    // Arrange: the replica's reports have read the tree
    const before = await onReplica<{ unit: { name: string } }>(
      '/api/v1/metrics?unitId=snap-c0',
      app.adminKey,
    );
    expect(before.body.unit.name).toBe('老社区');

    // Act
    await admin('POST', '/api/v1/org/units', {
      id: 'snap-c0',
      name: '更名社区',
      type: 'community',
      parentId: 'snap-s1',
    });

    // Assert
    const after = await onReplica<{ unit: { name: string } }>(
      '/api/v1/metrics?unitId=snap-c0',
      app.adminKey,
    );
    expect(after.status).toBe(200);
    expect(after.body.unit.name).toBe('更名社区');
  });

  it('when a unit is read by id, then it comes with its ancestry and its post holders', async () => {
    await admin('POST', '/api/v1/org/posts', {
      unitId: 'snap-c1',
      role: 'grid-worker',
      personId: 'snap-p0',
    });
    const res = await app.http<{ ancestry: Array<{ id: string }>; posts: unknown[] }>(
      'GET',
      '/api/v1/org/units/snap-c1',
      { token: app.adminKey },
    );
    expect(res.status).toBe(200);
    expect(res.body.ancestry.map((u) => u.id)).toEqual(['snap-s2']);
    expect(res.body.posts).toEqual([
      { role: 'grid-worker', personId: 'snap-p0', personName: '老网格员' },
      { role: 'grid-worker', personId: 'snap-p1', personName: '新网格员' },
    ]);
    const missing = await app.http('GET', '/api/v1/org/units/snap-none', { token: app.adminKey });
    expect(missing.status).toBe(404);
  });
});

describe('paged org lists', () => {
  beforeAll(async () => {
    await admin('POST', '/api/v1/org/import', {
      units: Array.from({ length: 5 }, (_, i) => ({
        id: `snap-g${i}`,
        name: `网格${i}`,
        type: 'grid',
        parentId: 'snap-c0',
      })),
      people: [],
      posts: [],
    });
  });

  it('when units are listed two at a time, then the next links walk every page and the last has none', async () => {
    // Act
    const seen: string[] = [];
    const pages: Array<Page<{ id: string }>> = [];
    let path: string | null = '/api/v1/org/units?parentId=snap-c0&pageSize=2';
    while (path !== null && pages.length < 10) {
      const res: { status: number; body: Page<{ id: string }> } = await app.http<
        Page<{ id: string }>
      >('GET', path, { token: app.adminKey });
      expect(res.status).toBe(200);
      pages.push(res.body);
      seen.push(...res.body.items.map((u) => u.id));
      path = res.body.next;
    }

    // Assert
    expect(pages.map((p) => p.items.length)).toEqual([2, 2, 1]);
    expect(pages.map((p) => p.total)).toEqual([5, 5, 5]);
    expect(pages[0]!.next).toBe('/api/v1/org/units?pageSize=2&parentId=snap-c0&page=2');
    expect(seen).toEqual(['snap-g0', 'snap-g1', 'snap-g2', 'snap-g3', 'snap-g4']);
  });

  it('when a page is exactly full at the end, then its next is null; the largest page size is accepted', async () => {
    const exact = await app.http<Page<unknown>>(
      'GET',
      '/api/v1/org/units?parentId=snap-c0&pageSize=5',
      { token: app.adminKey },
    );
    expect(exact.body.items).toHaveLength(5);
    expect(exact.body.next).toBeNull();
    const largest = await app.http<Page<unknown>>('GET', '/api/v1/org/units?pageSize=100', {
      token: app.adminKey,
    });
    expect(largest.status).toBe(200);
    expect(largest.body.pageSize).toBe(100);
  });

  it('when people and accounts are listed one at a time, then each page says where the next is', async () => {
    const people = await app.http<Page<unknown>>('GET', '/api/v1/org/people?pageSize=1', {
      token: app.adminKey,
    });
    expect(people.body.items).toHaveLength(1);
    expect(people.body.next).toBe('/api/v1/org/people?pageSize=1&page=2');
    const users = await app.http<Page<unknown>>('GET', '/api/v1/users?pageSize=1&page=1', {
      token: app.adminKey,
    });
    expect(users.status).toBe(200);
    expect(users.body.total).toBeGreaterThanOrEqual(1);
    expect(users.body.next).toBe(users.body.total > 1 ? '/api/v1/users?pageSize=1&page=2' : null);
  });

  it.each([
    ['/api/v1/org/units?pageSize=101', 'query.pageSize'],
    ['/api/v1/org/units?pageSize=0', 'query.pageSize'],
    ['/api/v1/org/people?pageSize=many', 'query.pageSize'],
    ['/api/v1/org/people?page=0', 'query.page'],
    ['/api/v1/users?page=1.5', 'query.page'],
    ['/api/v1/org/units?cursor=abc', 'query.cursor'],
  ])('when a list is asked for %s, then 400 names %s', async (path, param) => {
    const res = await app.http<ErrorBody>('GET', path, { token: app.adminKey });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d) => d.path)).toEqual([param]);
  });
});

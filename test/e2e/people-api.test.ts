import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, waitFor } from '../support/harness';

interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}
interface PersonBody {
  id: string;
  name: string;
  email?: string;
  phone?: string;
  posts?: Array<{ unitId: string; unitName: string; role: string }>;
}
interface Page<T> {
  items: T[];
  total: number;
}

let app: TestApp;
const tokens: Record<string, string> = {};

/** county → street-a → community-a1, county → street-b → community-b1. */
const tree = {
  units: [
    { id: 'county', name: '城固县', type: 'county', parentId: null },
    { id: 'street-a', name: '博望街道', type: 'street', parentId: 'county' },
    { id: 'community-a1', name: '东关社区', type: 'community', parentId: 'street-a' },
    { id: 'street-b', name: '莲花街道', type: 'street', parentId: 'county' },
    { id: 'community-b1', name: '西关社区', type: 'community', parentId: 'street-b' },
  ],
};

beforeAll(async () => {
  app = await startTestApp('people-api');
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: tree,
  });
  if (imported.status !== 200) throw new Error(`importing the tree: HTTP ${imported.status}`);
  tokens.streetA = await app.signIn('dispatcher-street-a', ['dispatcher'], ['street-a']);
  tokens.streetB = await app.signIn('dispatcher-street-b', ['dispatcher'], ['street-b']);
  tokens.staffA1 = await app.signIn('staff-community-a1', ['staff'], ['community-a1']);
  tokens.resident = await app.signIn('resident-people', ['resident']);
});

afterAll(async () => {
  await app?.stop();
});

function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
  return app.http<T>(method, path, { token: app.adminKey, ...(body ? { body } : {}) });
}

describe('units', () => {
  it('when an admin creates a unit under an existing parent, then 201, and 200 when repeated', async () => {
    const unit = { id: 'community-a9', name: '南关社区', type: 'community', parentId: 'street-a' };
    const created = await admin('POST', '/api/v1/org/units', unit);
    expect(created.status).toBe(201);
    expect(created.body).toEqual(unit);
    expect((await admin('POST', '/api/v1/org/units', unit)).status).toBe(200);
    const detail = await admin<{ ancestry: Array<{ id: string }> }>(
      'GET',
      '/api/v1/org/units/community-a9',
    );
    expect(detail.body.ancestry.map((u) => u.id)).toEqual(['street-a', 'county']);
  });

  it('when the parent is unknown or lies below the unit, then 422 names body.parentId', async () => {
    const orphan = await admin<ErrorBody>('POST', '/api/v1/org/units', {
      id: 'grid-x',
      name: '网格',
      type: 'grid',
      parentId: 'nowhere',
    });
    expect(orphan.status).toBe(422);
    expect(orphan.body.error.details).toEqual([
      { path: 'body.parentId', message: 'unknown unit "nowhere"' },
    ]);
    const loop = await admin<ErrorBody>('POST', '/api/v1/org/units', {
      id: 'street-a',
      name: '博望街道',
      type: 'street',
      parentId: 'community-a1',
    });
    expect(loop.status).toBe(422);
    expect(loop.body.error.details[0]!.path).toBe('body.parentId');
    expect((await app.db.models.Unit.findById('street-a').lean())?.parentId).toBe('county');
  });

  it('when a dispatcher tries to create a unit, then 403', async () => {
    const res = await app.http('POST', '/api/v1/org/units', {
      token: tokens.streetA,
      body: { id: 'grid-y', name: '网格', type: 'grid', parentId: 'community-a1' },
    });
    expect(res.status).toBe(403);
  });
});

describe('people and posts', () => {
  beforeAll(async () => {
    await admin('POST', '/api/v1/org/people', { id: 'p-li', name: '李四', phone: '13900000000' });
    await admin('POST', '/api/v1/org/posts', {
      unitId: 'community-b1',
      role: 'grid-worker',
      personId: 'p-li',
    });
  });

  it('when an admin saves a person twice, then 201 then 200, and a field left out is removed', async () => {
    const first = await admin<PersonBody>('POST', '/api/v1/org/people', {
      id: 'p-wang',
      name: '王芳',
      email: 'wang@example.test',
      phone: '13800000000',
    });
    expect(first.status).toBe(201);
    const second = await admin<PersonBody>('POST', '/api/v1/org/people', {
      id: 'p-wang',
      name: '王芳',
      email: 'wang@example.test',
    });
    expect(second.status).toBe(200);
    const stored = await app.db.models.Person.findById('p-wang').lean();
    expect(stored?.phone).toBeUndefined();
    expect(stored?.email).toBe('wang@example.test');
  });

  it('when an admin gives a person a post, then they are listed by unit and role with their posts', async () => {
    // Act
    const post = { unitId: 'community-a1', role: 'grid-worker', personId: 'p-wang' };
    const created = await admin('POST', '/api/v1/org/posts', post);
    const repeated = await admin('POST', '/api/v1/org/posts', post);
    const listed = await app.http<Page<PersonBody>>(
      'GET',
      '/api/v1/org/people?unitId=community-a1&role=grid-worker',
      { token: tokens.streetA },
    );
    const detail = await app.http<PersonBody>('GET', '/api/v1/org/people/p-wang', {
      token: tokens.streetA,
    });

    // Assert
    expect([created.status, repeated.status]).toEqual([201, 200]);
    expect(listed.body.items).toEqual([{ id: 'p-wang', name: '王芳', email: 'wang@example.test' }]);
    expect(listed.body.total).toBe(1);
    expect(detail.body.posts).toEqual([
      { unitId: 'community-a1', unitName: '东关社区', role: 'grid-worker' },
    ]);
  });

  it('when a post names an unknown unit or person, then 422 names each', async () => {
    const res = await admin<ErrorBody>('POST', '/api/v1/org/posts', {
      unitId: 'nowhere',
      role: 'grid-worker',
      personId: 'nobody',
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d) => d.path)).toEqual(['body.unitId', 'body.personId']);
  });

  it('when staff read people, then only holders of posts in their scope, without email or phone', async () => {
    // Act
    const list = await app.http<Page<PersonBody>>('GET', '/api/v1/org/people', {
      token: tokens.staffA1,
    });
    const wang = await app.http<PersonBody>('GET', '/api/v1/org/people/p-wang', {
      token: tokens.staffA1,
    });
    const li = await app.http('GET', '/api/v1/org/people/p-li', { token: tokens.staffA1 });
    const everyone = await app.http<Page<PersonBody>>('GET', '/api/v1/org/people', {
      token: tokens.streetB,
    });

    // Assert
    expect(list.body.items).toEqual([{ id: 'p-wang', name: '王芳' }]);
    expect(wang.status).toBe(200);
    expect(wang.body).not.toHaveProperty('email');
    expect(li.status).toBe(404);
    expect(everyone.body.items.map((p) => p.id)).toEqual(['p-li', 'p-wang']);
    expect(everyone.body.items[0]).toEqual({ id: 'p-li', name: '李四', phone: '13900000000' });
  });

  describe('contact details', () => {
    /** Posted in street A's community, in street B's, in both, and nowhere. */
    const people = [
      { id: 'c-east', name: '东岗', email: 'east@example.test', phone: '13800000001' },
      { id: 'c-west', name: '西岗', email: 'west@example.test', phone: '13800000002' },
      { id: 'c-both', name: '两岗', phone: '13800000003' },
      { id: 'c-none', name: '无岗', email: 'none@example.test' },
    ];
    const contactIds = people.map((p) => p.id);

    beforeAll(async () => {
      const imported = await admin('POST', '/api/v1/org/import', {
        people,
        posts: [
          { unitId: 'community-a1', role: 'grid-worker', personId: 'c-east' },
          { unitId: 'community-b1', role: 'grid-worker', personId: 'c-west' },
          { unitId: 'community-b1', role: 'secretary', personId: 'c-both' },
          { unitId: 'street-a', role: 'dispatcher', personId: 'c-both' },
        ],
      });
      if (imported.status !== 200) throw new Error(`importing people: HTTP ${imported.status}`);
    });

    async function listed(token: string): Promise<PersonBody[]> {
      const res = await app.http<Page<PersonBody>>('GET', '/api/v1/org/people?pageSize=100', {
        token,
      });
      expect(res.status).toBe(200);
      return res.body.items.filter((p) => contactIds.includes(p.id));
    }

    it('when a street dispatcher reads people, then contacts only of those posted in the street’s units', async () => {
      // Act
      const list = await listed(tokens.streetA!);
      const west = await app.http<PersonBody>('GET', '/api/v1/org/people/c-west', {
        token: tokens.streetA,
      });
      const east = await app.http<PersonBody>('GET', '/api/v1/org/people/c-east', {
        token: tokens.streetA,
      });
      const byUnit = await app.http<Page<PersonBody>>(
        'GET',
        '/api/v1/org/people?unitId=community-b1&role=grid-worker',
        { token: tokens.streetA },
      );

      // Assert: everyone is still listed by name; contacts only within street A
      expect(list).toEqual([
        { id: 'c-both', name: '两岗', phone: '13800000003' },
        { id: 'c-east', name: '东岗', email: 'east@example.test', phone: '13800000001' },
        { id: 'c-none', name: '无岗' },
        { id: 'c-west', name: '西岗' },
      ]);
      expect(west.status).toBe(200);
      expect(west.body).toEqual({
        id: 'c-west',
        name: '西岗',
        posts: [{ unitId: 'community-b1', unitName: '西关社区', role: 'grid-worker' }],
      });
      expect(east.body).toMatchObject({ email: 'east@example.test', phone: '13800000001' });
      expect(byUnit.body.items).toEqual([
        { id: 'c-west', name: '西岗' },
        { id: 'p-li', name: '李四' },
      ]);
    });

    it('when the other street’s dispatcher reads them, then the contacts of its own people only', async () => {
      const list = await listed(tokens.streetB!);
      expect(list.filter((p) => p.email || p.phone).map((p) => p.id)).toEqual(['c-both', 'c-west']);
    });

    it('when an admin reads people, then every stored email and phone', async () => {
      // Act
      const list = await listed(app.adminKey);
      const none = await admin<PersonBody>('GET', '/api/v1/org/people/c-none');

      // Assert
      expect(list).toEqual([...people].sort((a, b) => a.id.localeCompare(b.id)));
      expect(none.body).toEqual({ ...people[3], posts: [] });
    });

    it('when a dispatcher holds no unit, then nobody’s contacts', async () => {
      const token = await app.signIn('dispatcher-no-unit', ['dispatcher']);
      const list = await listed(token);
      expect(list.map((p) => p.id)).toEqual(['c-both', 'c-east', 'c-none', 'c-west']);
      expect(list.filter((p) => p.email || p.phone)).toEqual([]);
    });

    it('when staff read people in their scope, then still without email or phone', async () => {
      const east = await app.http<PersonBody>('GET', '/api/v1/org/people/c-east', {
        token: tokens.staffA1,
      });
      expect(east.status).toBe(200);
      expect(east.body).not.toHaveProperty('email');
      expect(east.body).not.toHaveProperty('phone');
    });
  });

  it('when a resident asks for people or a dispatcher writes one, then 403', async () => {
    expect((await app.http('GET', '/api/v1/org/people', { token: tokens.resident })).status).toBe(
      403,
    );
    expect(
      (
        await app.http('POST', '/api/v1/org/people', {
          token: tokens.streetA,
          body: { id: 'p-x', name: 'X' },
        })
      ).status,
    ).toBe(403);
  });

  it('when an admin ends a post, then 204, and 404 for one that does not exist', async () => {
    await admin('POST', '/api/v1/org/posts', {
      unitId: 'community-a1',
      role: 'secretary',
      personId: 'p-wang',
    });
    const path = '/api/v1/org/posts/community-a1/secretary/p-wang';
    expect((await admin('DELETE', path)).status).toBe(204);
    expect((await admin('DELETE', path)).status).toBe(404);
    expect(await app.db.models.Post.exists({ _id: 'community-a1:secretary:p-wang' })).toBeNull();
  });
});

describe('org scope over cases', () => {
  async function fileCase(token: string, unitId: string) {
    return app.http<{ id: string }>('POST', '/api/v1/cases', {
      token,
      headers: { 'idempotency-key': idempotencyKey() },
      body: {
        definitionKey: 'resident-request',
        data: { category: '环境卫生', description: '楼道堆放杂物' },
        unitId,
      },
    });
  }

  /** Lists read the case documents the worker writes; wait for this one. */
  function projected(caseId: string) {
    return waitFor(`the document of ${caseId}`, () => app.db.models.Case.exists({ _id: caseId }));
  }

  async function listedIds(token: string): Promise<string[]> {
    const res = await app.http<Page<{ id: string }>>('GET', '/api/v1/cases?pageSize=100', {
      token,
    });
    return res.body.items.map((c) => c.id);
  }

  it('when a case is filed in a community, then its street’s dispatcher sees it and a sibling street’s does not', async () => {
    // Arrange
    const filed = await fileCase(tokens.resident!, 'community-a1');
    expect(filed.status).toBe(201);
    const caseId = filed.body.id;
    await projected(caseId);

    // Act
    const ownStreet = await app.http('GET', `/api/v1/cases/${caseId}`, { token: tokens.streetA });
    const siblingStreet = await app.http('GET', `/api/v1/cases/${caseId}`, {
      token: tokens.streetB,
    });

    // Assert
    expect(ownStreet.status).toBe(200);
    expect(siblingStreet.status).toBe(404);
    expect(await listedIds(tokens.streetA!)).toContain(caseId);
    expect(await listedIds(tokens.streetB!)).not.toContain(caseId);
    expect(await listedIds(tokens.staffA1!)).toContain(caseId);
  });

  it('when a unit is added below a street, then a case filed there is in the street’s scope at once', async () => {
    // Arrange: the street dispatcher's scope is resolved (and cached) before the unit exists
    await listedIds(tokens.streetA!);
    const unit = { id: 'community-a2', name: '北关社区', type: 'community', parentId: 'street-a' };
    expect((await admin('POST', '/api/v1/org/units', unit)).status).toBe(201);

    // Act
    const filed = await fileCase(tokens.resident!, 'community-a2');
    await projected(filed.body.id);

    // Assert
    expect(await listedIds(tokens.streetA!)).toContain(filed.body.id);
    expect(await listedIds(tokens.streetB!)).not.toContain(filed.body.id);
  });

  it('when a street dispatcher files for a community below it, then yes; for a sibling street’s, 403', async () => {
    expect((await fileCase(tokens.streetA!, 'community-a1')).status).toBe(201);
    expect((await fileCase(tokens.streetA!, 'community-b1')).status).toBe(403);
  });
});

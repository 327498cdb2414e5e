import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/**
 * One sign-in account, one person (docs 8.1), through the org API: the person API and the org
 * import (JSON and CSV) refuse a `userId` another person holds, naming the account and the holder
 * by id; a refused import writes nothing; an account moves in two steps (unlink, then link).
 */
interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp('account-links');
  const seeded = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      people: [
        { id: 'al-holder', name: '王一', userId: 'usr-al-1' },
        { id: 'al-other', name: '李二' },
      ],
    },
  });
  if (seeded.status !== 200) throw new Error(`seeding: HTTP ${seeded.status}`);
});

afterAll(async () => {
  await app?.stop();
});

function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
  return app.http<T>(method, path, { token: app.adminKey, ...(body ? { body } : {}) });
}

async function userIdOf(personId: string): Promise<string | undefined> {
  return (await app.db.models.Person.findById(personId, { userId: 1 }).lean())?.userId ?? undefined;
}

it('when a person is saved with an account another person holds, then 409 names the account and the holder, and nothing changes', async () => {
  // Act
  const refused = await admin<ErrorBody>('POST', '/api/v1/org/people', {
    id: 'al-other',
    name: '李二',
    userId: 'usr-al-1',
  });
  const fresh = await admin<ErrorBody>('POST', '/api/v1/org/people', {
    id: 'al-new',
    name: '张三',
    userId: 'usr-al-1',
  });

  // Assert
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe('conflict');
  expect(refused.body.error.details).toEqual([
    { path: 'body.userId', message: 'account "usr-al-1" is linked to person "al-holder"' },
  ]);
  expect(refused.body.error.message).not.toContain('王一');
  expect(fresh.status).toBe(409);
  expect(await userIdOf('al-other')).toBeUndefined();
  expect(await app.db.models.Person.exists({ _id: 'al-new' })).toBeNull();
  expect(await userIdOf('al-holder')).toBe('usr-al-1');
});

it('when the holder is saved again with its own account, then it is kept (200)', async () => {
  const again = await admin('POST', '/api/v1/org/people', {
    id: 'al-holder',
    name: '王一',
    userId: 'usr-al-1',
  });
  expect(again.status).toBe(200);
  expect(await userIdOf('al-holder')).toBe('usr-al-1');
});

it('when an account is moved in two steps (unlink from its holder, then link), then it belongs to the other person', async () => {
  // Arrange
  await app.http('POST', '/api/v1/org/people', {
    token: app.adminKey,
    body: { id: 'al-move-from', name: '赵四', userId: 'usr-al-move' },
  });

  // Act
  const unlinked = await admin('POST', '/api/v1/org/people', { id: 'al-move-from', name: '赵四' });
  const linked = await admin('POST', '/api/v1/org/people', {
    id: 'al-move-to',
    name: '钱五',
    userId: 'usr-al-move',
  });

  // Assert
  expect(unlinked.status).toBe(200);
  expect(linked.status).toBe(201);
  expect(await userIdOf('al-move-from')).toBeUndefined();
  expect(await userIdOf('al-move-to')).toBe('usr-al-move');
});

it('when an import links a held account or gives one account to two people, then 409 lists every offending row and nothing is written', async () => {
  // Act
  const refused = await admin<ErrorBody>('POST', '/api/v1/org/import', {
    units: [{ id: 'al-county', name: '城固县', type: 'county', parentId: null }],
    people: [
      { id: 'al-i-ok', name: '孙六', userId: 'usr-al-free' },
      { id: 'al-i-taken', name: '周七', userId: 'usr-al-1' },
      { id: 'al-i-twin-1', name: '吴八', userId: 'usr-al-twin' },
      { id: 'al-i-twin-2', name: '郑九', userId: 'usr-al-twin' },
    ],
    posts: [{ unitId: 'al-county', role: 'director', personId: 'al-i-ok' }],
  });

  // Assert: three rows named, by ids; no unit, person or post written
  expect(refused.status).toBe(409);
  expect(refused.body.error.details.map((d) => d.path)).toEqual([
    'body.people[1].userId',
    'body.people[2].userId',
    'body.people[3].userId',
  ]);
  expect(refused.body.error.details[0]!.message).toContain(
    '"usr-al-1" is linked to person "al-holder"',
  );
  expect(refused.body.error.details[1]!.message).toContain('person "al-i-twin-2"');
  expect(refused.body.error.details[2]!.message).toContain('person "al-i-twin-1"');
  expect(await app.db.models.Unit.exists({ _id: 'al-county' })).toBeNull();
  expect(
    await app.db.models.Person.countDocuments({
      _id: { $in: ['al-i-ok', 'al-i-taken', 'al-i-twin-1', 'al-i-twin-2'] },
    }),
  ).toBe(0);
  expect(await app.db.models.Post.countDocuments({ personId: 'al-i-ok' })).toBe(0);
});

it('when a people CSV gives a held account, then 409 names its cell and nothing is written', async () => {
  // Act
  const refused = await app.http<ErrorBody>('POST', '/api/v1/org/import/people', {
    token: app.adminKey,
    rawBody: 'id,name,userId\nal-c-ok,冯十,usr-al-csv\nal-c-taken,陈十一,usr-al-1\n',
    headers: { 'content-type': 'text/csv; charset=utf-8' },
  });

  // Assert
  expect(refused.status).toBe(409);
  expect(refused.body.error.details).toHaveLength(1);
  expect(refused.body.error.details[0]!.path).toMatch(/row 3, column userId/);
  expect(
    await app.db.models.Person.countDocuments({ _id: { $in: ['al-c-ok', 'al-c-taken'] } }),
  ).toBe(0);
});

import { AccountTakenError, upsertPerson } from '../../common/org-writes';
import { findDuplicatedAccountLinks } from '../../models/account-links';
import type { Database } from '../../models';
import { connectDatabase, peopleCollection } from '../../models';
import { testConfig } from '../support/harness';

/**
 * One sign-in account, one person, as the store holds it (docs 8.1): the org writes check it
 * (common/org-writes.ts) and a unique index on people.userId refuses the loser of two links
 * racing. FerretDB v1 has no partial indexes, so the index is a sparse one; a store whose
 * people already share accounts starts with a warning instead of the index.
 */
let db: Database;

beforeAll(async () => {
  db = await connectDatabase(testConfig('account-link-index').MONGODB_URI);
});

afterAll(async () => {
  await db?.close();
});

const now = new Date('2026-12-07T08:00:00Z');

/** An index as the store lists it. */
interface IndexInfo {
  key: Record<string, number>;
  unique?: boolean;
}

test('when a partial unique index is asked of the store, then FerretDB v1 refuses it: the people index is sparse instead', async () => {
  // Arrange
  const probe = db.connection.db!.collection('partialProbe');
  await probe.insertOne({ _id: 'x' } as never);

  // Act
  const creating = probe.createIndex(
    { userId: 1 },
    { unique: true, partialFilterExpression: { userId: { $type: 'string' } } },
  );

  // Assert: should this start passing (MongoDB, a later FerretDB), a partial index may replace
  // the sparse one in models/index.ts
  await expect(creating).rejects.toThrow(/partialFilterExpression/);
});

test('when two people are given one account, then the store refuses the second, while any number of people have none', async () => {
  // Arrange
  const people = peopleCollection(db.models);
  const person = (id: string, userId?: string) => ({
    _id: id,
    name: `测试${id}`,
    updatedAt: now,
    ...(userId ? { userId } : {}),
  });
  await people.insertMany([person('ix-a', 'usr-ix-1'), person('ix-b'), person('ix-c')] as never);

  // Act
  const second = people.insertOne(person('ix-d', 'usr-ix-1'));
  const update = people.updateOne({ _id: 'ix-b' }, { $set: { userId: 'usr-ix-1' } });

  // Assert: both refused, whatever the store calls the error; people without accounts are fine
  await expect(second).rejects.toThrow();
  await expect(update).rejects.toThrow();
  expect(await people.countDocuments({ userId: 'usr-ix-1' })).toBe(1);
  expect(await people.countDocuments({ userId: { $exists: false } })).toBe(2);
  const indexes = (await people.listIndexes().toArray()) as IndexInfo[];
  expect(indexes.find((index) => index.key.userId === 1)?.unique).toBe(true);
});

test('when two writes link one account to two people at once, then one is made and the other is refused naming the account and its holder', async () => {
  // Arrange
  const write = (id: string) =>
    upsertPerson(db.models, { id, name: `并发${id}`, userId: 'usr-race' } as never, now, [
      'email',
      'phone',
    ]);

  // Act
  const outcomes = await Promise.allSettled([write('race-a'), write('race-b')]);

  // Assert: exactly one linked; the refusal is the org writes' own, by ids
  const linked = await db.models.Person.find({ userId: 'usr-race' }, { _id: 1 }).lean();
  expect(linked).toHaveLength(1);
  const refused = outcomes.filter((o) => o.status === 'rejected');
  expect(refused).toHaveLength(1);
  const reason = (refused[0] as PromiseRejectedResult).reason as AccountTakenError;
  expect(reason).toBeInstanceOf(AccountTakenError);
  expect(reason.userId).toBe('usr-race');
  expect(reason.holderId).toBe(linked[0]!._id);
});

test('when a store already holds people sharing an account, then it starts with a warning naming them by id, and gets the index once they are settled', async () => {
  // Arrange: a store written before the rule (no index yet, two people on one account)
  const uri = testConfig('account-link-legacy').MONGODB_URI;
  const legacy = await connectDatabase(uri);
  const people = peopleCollection(legacy.models);
  await people.dropIndex('userId_1');
  await people.insertMany([
    { _id: 'old-a', name: '甲', userId: 'usr-shared', updatedAt: now },
    { _id: 'old-b', name: '乙', userId: 'usr-shared', updatedAt: now },
    { _id: 'old-c', name: '丙', userId: 'usr-own', updatedAt: now },
  ] as never);
  await legacy.close();

  // Act: start on it, then settle it (old-b unlinked) and start again
  const warnings: string[] = [];
  const started = await connectDatabase(uri, { warn: (message) => warnings.push(message) });
  const listed = await findDuplicatedAccountLinks(peopleCollection(started.models));
  await peopleCollection(started.models).updateOne({ _id: 'old-b' }, { $unset: { userId: 1 } });
  await started.close();
  const settledWarnings: string[] = [];
  const settled = await connectDatabase(uri, {
    warn: (message) => settledWarnings.push(message),
  });
  const indexes = (await peopleCollection(settled.models).listIndexes().toArray()) as IndexInfo[];
  await settled.close();

  // Assert: one warning by ids (no names), the list, then the index with no warning
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('"usr-shared": old-a, old-b');
  expect(warnings[0]).not.toMatch(/甲|乙/);
  expect(listed).toEqual([{ userId: 'usr-shared', personIds: ['old-a', 'old-b'] }]);
  expect(settledWarnings).toEqual([]);
  expect(indexes.some((index) => index.key.userId === 1)).toBe(true);
});

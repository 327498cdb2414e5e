import { randomBytes } from 'node:crypto';
import type { Database } from '../../models';
import { connectDatabase, isDuplicateKeyError } from '../../models';
import { testConfig } from '../support/harness';

/**
 * What FerretDB v1 answers for a duplicate `_id` and a unique-index violation, write by write, on
 * the store the stack runs (PostgreSQL by default; `STACK_STORE=sqlite` for SQLite), and that
 * `isDuplicateKeyError` recognises each. Measured on both stores: inserts and upserts answer
 * code 11000 (a bulk error carries it on the error and on each write error); an update of a
 * stored document into a unique value answers `InternalError` (code 1) with the store's message.
 */
let db: Database;

beforeAll(async () => {
  db = await connectDatabase(testConfig('duplicate-key-errors').MONGODB_URI);
});

afterAll(async () => {
  await db?.close();
});

/** The error `write` throws (the test fails if it throws none). */
async function errorOf(write: () => Promise<unknown>): Promise<unknown> {
  try {
    await write();
  } catch (err) {
    return err;
  }
  throw new Error('the write was accepted');
}

type Probe = { _id: string; key?: string };

/** A collection with a unique `key` index holding `{ _id: 'a', key: 'k1' }` and `{ _id: 'b' }`. */
async function probeCollection() {
  const native = db.connection.db!;
  const probes = native.collection<Probe>(`duplicateProbe${randomBytes(4).toString('hex')}`);
  await probes.createIndex({ key: 1 }, { unique: true });
  await probes.insertMany([{ _id: 'a', key: 'k1' }, { _id: 'b' }]);
  return probes;
}

test('when an insert or an upsert repeats an _id or a unique value, then its error is recognised as a duplicate key', async () => {
  const probes = await probeCollection();
  const writes: Record<string, () => Promise<unknown>> = {
    'insertOne, same _id': () => probes.insertOne({ _id: 'a' }),
    'insertOne, same unique key': () => probes.insertOne({ _id: 'c', key: 'k1' }),
    'insertMany ordered, same _id': () => probes.insertMany([{ _id: 'd' }, { _id: 'a' }]),
    'insertMany unordered, same unique key': () =>
      probes.insertMany([{ _id: 'e', key: 'k1' }], { ordered: false }),
    'bulkWrite insertOne, same _id': () =>
      probes.bulkWrite([{ insertOne: { document: { _id: 'a' } } }], { ordered: false }),
    'bulkWrite upsert, same unique key': () =>
      probes.bulkWrite([
        { updateOne: { filter: { _id: 'f' }, update: { $set: { key: 'k1' } }, upsert: true } },
      ]),
    'updateOne upsert, same unique key': () =>
      probes.updateOne({ _id: 'g' }, { $set: { key: 'k1' } }, { upsert: true }),
  };
  const unrecognised: string[] = [];
  for (const [name, write] of Object.entries(writes)) {
    if (!isDuplicateKeyError(await errorOf(write))) unrecognised.push(name);
  }
  expect(unrecognised).toEqual([]);
});

test('when an update gives a stored document a unique value another holds, then FerretDB answers InternalError, and it is recognised as a duplicate key', async () => {
  const probes = await probeCollection();
  const writes: Record<string, () => Promise<unknown>> = {
    updateOne: () => probes.updateOne({ _id: 'b' }, { $set: { key: 'k1' } }),
    updateMany: () => probes.updateMany({ _id: 'b' }, { $set: { key: 'k1' } }),
    replaceOne: () => probes.replaceOne({ _id: 'b' }, { key: 'k1' }),
    findOneAndUpdate: () => probes.findOneAndUpdate({ _id: 'b' }, { $set: { key: 'k1' } }),
    'bulkWrite updateOne': () =>
      probes.bulkWrite([{ updateOne: { filter: { _id: 'b' }, update: { $set: { key: 'k1' } } } }]),
  };
  const unrecognised: string[] = [];
  for (const [name, write] of Object.entries(writes)) {
    const err = await errorOf(write);
    // FerretDB's answer (MongoDB's would be 11000): the store's unique violation, code 1.
    expect((err as { codeName?: unknown }).codeName).toBe('InternalError');
    if (!isDuplicateKeyError(err)) unrecognised.push(`${name}: ${String(err)}`);
  }
  expect(unrecognised).toEqual([]);
  // Nothing was written: the document keeps no key.
  expect(await probes.findOne({ _id: 'b' })).toEqual({ _id: 'b' });
});

test('when a write fails for another reason, then it is not taken for a duplicate key', async () => {
  const probes = await probeCollection();
  const err = await errorOf(() => probes.updateOne({ _id: 'b' }, { $bogus: { key: 1 } }));
  expect(isDuplicateKeyError(err)).toBe(false);
});

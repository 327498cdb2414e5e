import type { Database } from '../../models';
import { connectDatabase, STORE_CLIENT_POOL_SIZE } from '../../models';
import { testConfig } from '../support/harness';

/**
 * Many updates at once do not stall the store. FerretDB v1 on PostgreSQL stops answering for good
 * when more updates run at once than it holds PostgreSQL connections (each waits for a second
 * one): with FerretDB's default 50 and the driver's default pool of 100, 1,000 updates from two
 * processes never finished (bench/ferretdb-pool.ts). The clients' pools (models/index.ts) and
 * the stack's FerretDB pool (stack/postgres.ts) keep this from happening; an API and a worker
 * are two connections like these.
 */
let api: Database;
let worker: Database;

beforeAll(async () => {
  const config = testConfig('store-pool');
  [api, worker] = await Promise.all([
    connectDatabase(config.MONGODB_URI, { callTimeoutMs: 60_000 }),
    connectDatabase(config.MONGODB_URI),
  ]);
});

afterAll(async () => {
  await Promise.all([api?.close(), worker?.close()]);
});

test('each process keeps at most the chosen number of store connections', () => {
  for (const db of [api, worker]) {
    const client = db.connection.getClient();
    expect(client.options.maxPoolSize).toBe(STORE_CLIENT_POOL_SIZE);
  }
});

test('1,000 concurrent updates from two processes all finish', async () => {
  const collection = (db: Database) =>
    db.connection.db!.collection<{ _id: string; n: number }>('poolProbe');
  const count = 1000;
  await collection(api).insertMany(
    Array.from({ length: count }, (_, i) => ({ _id: `d${i}`, n: 0 })),
  );
  const results = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      collection(i % 2 === 0 ? api : worker).updateOne({ _id: `d${i}` }, { $inc: { n: 1 } }),
    ),
  );
  expect(results.filter((r) => r.modifiedCount === 1)).toHaveLength(count);
  // FerretDB v1 can lose one of two concurrent updates of the same document; these are distinct.
  expect(await collection(worker).countDocuments({ n: 1 })).toBe(count);
}, 90_000);

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { STORE_CLIENT_POOL_SIZE } from '../models';
import { stackDirs } from '../stack/paths';
import { FERRETDB_POSTGRES_CONNECTIONS } from '../stack/postgres';
import { consoleProgress } from '../stack/progress';
import { randomPorts, startLocalStack } from '../stack/stack';

/**
 * Whether many concurrent updates stall FerretDB v1 on PostgreSQL:
 * `node --import tsx bench/ferretdb-pool.ts [updates] [clientPool] [clients]` starts FerretDB
 * alone on a throw-away store (as the stack configures it), opens `clients` connections (default
 * 2: an API and a worker) with a pool of `clientPool` each (default: the project's,
 * models/index.ts), and sends `updates` (default 400) updates of distinct documents at once,
 * spread over the clients. It prints how long they took, or that they had not finished after
 * 60 s (chosen), which is the deadlock bench/README.md describes: each update holds one of
 * FerretDB's PostgreSQL connections while it waits for a second one.
 */
async function main(): Promise<void> {
  const updates = Number(process.argv[2] ?? 400);
  const clientPool = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  const clients = Number(process.argv[4] ?? 2);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gf-pool-'));
  const stack = await startLocalStack({
    dirs: stackDirs({ dataDir }),
    ports: await randomPorts(),
    progress: consoleProgress('[pool]'),
    env: { STACK_STORE: process.env.STACK_STORE ?? 'postgresql' },
    only: ['mongodb'],
  });
  const pool = clientPool ?? STORE_CLIENT_POOL_SIZE;
  const connections = await Promise.all(
    Array.from({ length: clients }, () =>
      mongoose.createConnection(stack.env.MONGODB_URI!, { maxPoolSize: pool }).asPromise(),
    ),
  );
  try {
    const probe = connections[0]!.db!.collection<{ _id: string; n: number }>('probe');
    await probe.insertMany(Array.from({ length: updates }, (_, i) => ({ _id: `d${i}`, n: 0 })));
    console.log(
      `${updates} concurrent updates over ${clients} clients of pool ${pool}, FerretDB holding at most ${FERRETDB_POSTGRES_CONNECTIONS} PostgreSQL connections`,
    );
    const started = performance.now();
    const all = Promise.all(
      Array.from({ length: updates }, (_, i) =>
        connections[i % clients]!.db!.collection<{ _id: string; n: number }>('probe').updateOne(
          { _id: `d${i}` },
          { $inc: { n: 1 } },
        ),
      ),
    );
    const outcome = await Promise.race([
      all.then(() => 'finished'),
      new Promise<string>((resolve) => setTimeout(() => resolve('stalled'), 60_000).unref()),
    ]);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      outcome === 'finished'
        ? `finished in ${seconds} s`
        : `STALLED: not finished after ${seconds} s`,
    );
    process.exitCode = outcome === 'finished' ? 0 : 1;
  } finally {
    await Promise.all(connections.map((c) => c.close(true).catch(() => undefined)));
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { stackDirs } from '../stack/paths';
import { consoleProgress } from '../stack/progress';
import { randomPorts, startLocalStack } from '../stack/stack';

/**
 * Which query shapes FerretDB v1 (on PostgreSQL, or SQLite with STACK_STORE=sqlite) serves without
 * reading every row: `node --import tsx bench/ferretdb-pushdown.ts [rows]` starts FerretDB alone
 * on a throw-away store, writes `rows` documents of about 2 KB (default 20,000), prints the plans
 * of an `_id` read, an `_id` range and a sort, then the mean time of each query shape.
 */
async function main(): Promise<void> {
  const N = Number(process.argv[2] ?? 20_000);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gf-probe-'));
  const stack = await startLocalStack({
    dirs: stackDirs({ dataDir }),
    ports: await randomPorts(),
    progress: consoleProgress('[probe]'),
    env: { STACK_STORE: process.env.STACK_STORE ?? 'postgresql' },
    only: ['mongodb'],
  });
  try {
    const conn = await mongoose.createConnection(stack.env.MONGODB_URI!).asPromise();
    const c = conn.db!.collection<{ _id: string; [k: string]: unknown }>('probe');
    const pad = 'x'.repeat(2000);
    for (let i = 0; i < N; i += 1000) {
      await c.insertMany(
        Array.from({ length: 1000 }, (_, j) => ({
          _id: `t${String(Math.floor((i + j) / 50)).padStart(5, '0')}:p${String(i + j).padStart(6, '0')}`,
          taskId: `t${String(Math.floor((i + j) / 50)).padStart(5, '0')}`,
          status: 'pending',
          pad,
        })),
      );
    }
    const time = async (label: string, f: () => Promise<unknown>, reps = 20) => {
      const t0 = performance.now();
      let r: unknown;
      for (let k = 0; k < reps; k++) r = await f();
      const ms = (performance.now() - t0) / reps;
      console.log(`${label}: ${ms.toFixed(1)} ms  ${JSON.stringify(r)?.slice(0, 60)}`);
    };
    let n = 0;
    const ex = await conn.db!.command({
      explain: { find: 'probe', filter: { _id: 't00010:p000510' } },
    });
    console.log('explain _id', JSON.stringify(ex).slice(0, 600));
    const ex2 = await conn.db!.command({
      explain: { find: 'probe', filter: { _id: { $gte: 't00010:', $lt: 't00010;' } } },
    });
    console.log('explain range', JSON.stringify(ex2).slice(0, 600));
    const ex3 = await conn.db!.command({
      explain: { find: 'probe', filter: {}, sort: { _id: 1 }, limit: 8 },
    });
    console.log('explain sort', JSON.stringify(ex3).slice(0, 600));
    await time('findOne _id', () =>
      c.findOne({ _id: 't00100:p005010' }, { projection: { _id: 1 } }),
    );
    await time(
      'findOne taskId',
      () => c.findOne({ taskId: 't00100' }, { projection: { _id: 1 } }),
      5,
    );
    await time('count taskId', () => c.countDocuments({ taskId: 't00100' }), 5);
    await time(
      'find _id range',
      () =>
        c
          .find({ _id: { $gte: 't00100:', $lt: 't00100;' } }, { projection: { _id: 1 } })
          .toArray()
          .then((a) => a.length),
      5,
    );
    await time(
      'find _id range sort limit',
      () =>
        c
          .find({ _id: { $gte: 't00100:', $lt: 't00100;' } }, { projection: { _id: 1 } })
          .sort({ _id: 1 })
          .limit(8)
          .toArray()
          .then((a) => a.length),
      5,
    );
    await time(
      'find _id $in(50)',
      () =>
        c
          .find(
            {
              _id: {
                $in: Array.from(
                  { length: 50 },
                  (_, j) => `t00100:p${String(5000 + j).padStart(6, '0')}`,
                ),
              },
            },
            { projection: { _id: 1 } },
          )
          .toArray()
          .then((a) => a.length),
      5,
    );
    await time('insertOne new', () => c.insertOne({ _id: `new${n++}`, taskId: 'x', pad }));
    await time('insertOne dup', () =>
      c.insertOne({ _id: 'new0', taskId: 'x', pad }).catch((e: { code?: number }) => e.code),
    );
    await time(
      'insertMany 50 unordered',
      () =>
        c
          .insertMany(
            Array.from({ length: 50 }, () => ({ _id: `m${n++}`, taskId: 'x', pad })),
            { ordered: false },
          )
          .then((r) => r.insertedCount),
      5,
    );
    await time(
      'upsert by _id (new)',
      () =>
        c.updateOne({ _id: `u${n++}` }, { $setOnInsert: { taskId: 'x', pad } }, { upsert: true }),
      5,
    );
    await time(
      'upsert by _id (exists)',
      () =>
        c.updateOne({ _id: 'u0' + '' }, { $setOnInsert: { taskId: 'x', pad } }, { upsert: true }),
      5,
    );
    await time(
      'updateOne by _id ($set)',
      () => c.updateOne({ _id: 't00100:p005010' }, { $set: { status: 'sent' } }),
      5,
    );
    await time(
      'updateOne _id+status',
      () => c.updateOne({ _id: 't00100:p005011', status: 'pending' }, { $set: { status: 'sent' } }),
      5,
    );
    await time(
      'findOneAndUpdate _id+status',
      () =>
        c.findOneAndUpdate(
          { _id: 't00100:p005012', status: { $ne: 'x' } },
          { $set: { status: 'sent' } },
        ),
      5,
    );
    await time(
      'findOneAndUpdate by _id',
      () => c.findOneAndUpdate({ _id: 't00100:p005013' }, { $set: { status: 'sent' } }),
      5,
    );
    await time('deleteOne _id', () => c.deleteOne({ _id: `new${--n}` }), 5);
    await time(
      'find all sort _id limit 8',
      () =>
        c
          .find({}, { projection: { _id: 1 } })
          .sort({ _id: 1 })
          .limit(8)
          .toArray()
          .then((a) => a.length),
      5,
    );
    await time(
      'find all limit 8 (no sort)',
      () =>
        c
          .find({}, { projection: { _id: 1 } })
          .limit(8)
          .toArray()
          .then((a) => a.length),
      5,
    );
    await time('estimatedDocumentCount', () => c.estimatedDocumentCount(), 5);
    await conn.close();
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

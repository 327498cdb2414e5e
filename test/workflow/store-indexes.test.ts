import type { Database } from '../../models';
import { connectDatabase } from '../../models';
import { rollupFilters } from '../../services/metrics';
import { testConfig } from '../support/harness';

/**
 * On PostgreSQL, FerretDB v1 hands an equality filter over as `_jsonb->'field' @> value`, which
 * its own btree indexes cannot serve; the stack keeps a GIN twin of each index key
 * (stack/postgres.ts, GIN_TWINS_SQL) so `_id` reads and writes and indexed equality filters stop
 * reading every row. FerretDB's `explain` shows PostgreSQL's plan.
 */
let db: Database;

beforeAll(async () => {
  db = await connectDatabase(testConfig('store-indexes').MONGODB_URI);
});

afterAll(async () => {
  await db?.close();
});

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Every node of a PostgreSQL plan, depth first. */
function nodesOf(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];
}

test('an _id filter and an indexed field filter are served by an index, not a scan of every row', async () => {
  // Arrange: a collection large enough that a scan costs more than an index (chosen: 3,000 rows)
  const native = db.connection.db!;
  const probe = native.collection<{ _id: string; taskId: string; pad: string }>('indexProbe');
  const pad = 'x'.repeat(500);
  for (let i = 0; i < 3000; i += 500) {
    await probe.insertMany(
      Array.from({ length: 500 }, (_, j) => ({
        _id: `k${i + j}`,
        taskId: `t${(i + j) % 300}`,
        pad,
      })),
    );
  }
  await probe.createIndex({ taskId: 1 });

  // Act
  const explain = async (filter: Record<string, string>) =>
    (await native.command({ explain: { find: 'indexProbe', filter } })) as {
      queryPlanner?: { Plan?: PlanNode };
    };
  const byId = await explain({ _id: 'k1234' });
  const byTask = await explain({ taskId: 't17' });

  // Assert: the store behind FerretDB is PostgreSQL here (the stack's default), and both plans
  // use an index; the answers are right
  expect(byId.queryPlanner?.Plan).toBeDefined();
  for (const plan of [byId.queryPlanner!.Plan!, byTask.queryPlanner!.Plan!]) {
    const types = nodesOf(plan).map((node) => node['Node Type']);
    expect(types).not.toContain('Seq Scan');
    expect(types.some((type) => /Index Scan/.test(type))).toBe(true);
  }
  expect(await probe.findOne({ _id: 'k1234' }, { projection: { taskId: 1 } })).toEqual({
    _id: 'k1234',
    taskId: 't34',
  });
  expect(await probe.countDocuments({ taskId: 't17' })).toBe(10);
  const updated = await probe.updateOne({ _id: 'k2999' }, { $set: { taskId: 'moved' } });
  expect(updated.modifiedCount).toBe(1);
  expect(await probe.countDocuments({ taskId: 'moved' })).toBe(1);
});

test('an equality on an array field (a case list day key) is served by an index and matches any element', async () => {
  // Arrange: documents holding several keys each, as cases hold `listDays` (services/list-days.ts)
  const native = db.connection.db!;
  const probe = native.collection<{ _id: string; keys: string[]; pad: string }>('arrayProbe');
  const pad = 'x'.repeat(500);
  for (let i = 0; i < 3000; i += 500) {
    await probe.insertMany(
      Array.from({ length: 500 }, (_, j) => ({
        _id: `a${i + j}`,
        keys: [`*|d${(i + j) % 100}`, `u:g${(i + j) % 30}|d${(i + j) % 100}`],
        pad,
      })),
    );
  }
  await probe.createIndex({ keys: 1 });

  // Act
  const filter = { keys: 'u:g7|d37' };
  const plan = (
    (await native.command({ explain: { find: 'arrayProbe', filter } })) as {
      queryPlanner?: { Plan?: PlanNode };
    }
  ).queryPlanner?.Plan;

  // Assert: an index, not a scan; the answer is every document holding the key among others
  expect(plan).toBeDefined();
  const types = nodesOf(plan!).map((node) => node['Node Type']);
  expect(types).not.toContain('Seq Scan');
  expect(types.some((type) => /Index Scan/.test(type))).toBe(true);
  // i % 100 == 37 and i % 30 == 7: i ≡ 37 (mod 300), 10 of 3,000
  expect(await probe.countDocuments(filter)).toBe(10);
  expect(await probe.countDocuments({ keys: '*|d37' })).toBe(30);
});

test('the metrics read the roll-ups through equalities the roll-up indexes serve, and get every document of their units and months', async () => {
  // Arrange: roll-ups of 40 units over 12 months, by place and as sets of two serving units
  // (chosen: 1,440 documents), through the model, so the indexes are models/index.ts's own.
  const rollups = db.models.MetricRollup.collection;
  const months = Array.from({ length: 12 }, (_, m) => `2026-${String(m + 1).padStart(2, '0')}`);
  const units = Array.from({ length: 40 }, (_, u) => `ru${String(u).padStart(2, '0')}`);
  const partsJson = JSON.stringify({ 'p~': { received: 1 } }) + ' '.repeat(400);
  const docs = months.flatMap((month) =>
    units.flatMap((unitId, u) => {
      const pair = [unitId, units[(u + 1) % units.length]!].sort();
      return [
        { _id: `place|${unitId}|${month}`, by: 'place', unitId, month, partsJson },
        {
          _id: `servedSet|${pair.join(',')}|${month}`,
          by: 'servedSet',
          unitId: null,
          unitIds: pair,
          month,
          partsJson,
        },
      ];
    }),
  );
  await rollups.insertMany(docs as never[]);
  const few = units.slice(0, 3);
  const reads = [
    ...rollupFilters('place', units, months.slice(0, 6)),
    ...rollupFilters('place', few, months.slice(0, 2)),
    ...rollupFilters('servedSet', few, months.slice(0, 2)),
  ];

  // Act
  const plans = await Promise.all(
    reads.map(
      async (filter) =>
        (
          (await db.connection.db!.command({
            explain: { find: 'metricRollups', filter },
          })) as { queryPlanner?: { Plan?: PlanNode } }
        ).queryPlanner?.Plan,
    ),
  );
  const found = async (by: string, ids: readonly string[], span: readonly string[]) => {
    const rows = new Set<string>();
    for (const filter of rollupFilters(by as 'place', ids, span)) {
      for (const row of await rollups.find(filter, { projection: { _id: 1 } }).toArray()) {
        rows.add(String(row._id));
      }
    }
    return [...rows].sort();
  };

  // Assert: an index for each query, never a scan of every roll-up
  expect(reads).toHaveLength(6 + 6 + 6);
  for (const plan of plans) {
    expect(plan).toBeDefined();
    const types = nodesOf(plan!).map((node) => node['Node Type']);
    expect(types).not.toContain('Seq Scan');
    expect(types.some((type) => /Index Scan/.test(type))).toBe(true);
  }
  const expected = (by: string, ids: readonly string[], span: readonly string[]) =>
    docs
      .filter(
        (d) =>
          d.by === by &&
          span.includes(d.month) &&
          (d.unitIds ?? [d.unitId]).some((id) => id !== null && ids.includes(id)),
      )
      .map((d) => d._id)
      .sort();
  expect(await found('place', units, months.slice(0, 6))).toEqual(
    expected('place', units, months.slice(0, 6)),
  );
  expect(await found('servedSet', few, months.slice(0, 2))).toEqual(
    expected('servedSet', few, months.slice(0, 2)),
  );
  expect(await found('servedSet', few, months.slice(0, 2))).toHaveLength(2 * 4);
});

test('the open cases of a root and the seals of a root are read through the indexes their models declare', async () => {
  // Arrange: the models' own collections and indexes (models/index.ts), 3,000 rows each (chosen)
  await db.models.OpenCase.createIndexes();
  await db.models.ListDaySeal.createIndexes();
  const native = db.connection.db!;
  const pad = 'x'.repeat(300);
  for (let i = 0; i < 3000; i += 500) {
    await db.models.OpenCase.collection.insertMany(
      Array.from({ length: 500 }, (_, j) => ({
        _id: `oc${i + j}`,
        revision: 1,
        status: 'open',
        roots: ['*', `u:g${(i + j) % 30}`, `u:c${(i + j) % 6}`, `by:p${i + j}`],
        createdAt: new Date(Date.UTC(2026, 0, 1) + (i + j) * 60_000),
        definitionName: pad,
      })) as never[],
    );
    await db.models.ListDaySeal.collection.insertMany(
      Array.from({ length: 500 }, (_, j) => ({
        _id: `list|u:g${(i + j) % 30}|d${i + j}`,
        key: `list|u:g${(i + j) % 30}`,
        day: `d${i + j}`,
        stamp: 's',
        count: 1,
        hoursJson: pad,
      })) as never[],
    );
  }

  // Act
  const planOf = async (collection: string, filter: Record<string, unknown>) =>
    (
      (await native.command({ explain: { find: collection, filter } })) as {
        queryPlanner?: { Plan?: PlanNode };
      }
    ).queryPlanner?.Plan;
  const openPlan = await planOf('openCases', { status: 'open', roots: 'u:g7' });
  const sealPlan = await planOf('listDaySeals', { key: 'list|u:g7' });

  // Assert: both through an index; the answers are every row of the root
  for (const plan of [openPlan, sealPlan]) {
    expect(plan).toBeDefined();
    const types = nodesOf(plan!).map((node) => node['Node Type']);
    expect(types).not.toContain('Seq Scan');
    expect(types.some((type) => /Index Scan/.test(type))).toBe(true);
  }
  expect(await db.models.OpenCase.countDocuments({ status: 'open', roots: 'u:g7' })).toBe(100);
  expect(await db.models.ListDaySeal.countDocuments({ key: 'list|u:g7' })).toBe(100);
});

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Collection, Document } from 'mongodb';
import { unpackRollupParts } from '../common/metric-rollup';
import { connectDatabase } from '../models';
import { stackDirs } from '../stack/paths';
import { randomPorts, startLocalStack } from '../stack/stack';
import { loadCases, loadOrg } from './dashboard';
import { progress } from './run-control';

/**
 * `node --import tsx bench/rollup-reads.ts [cases]` (default 20,000): what a county's half year of
 * place roll-ups costs to read on FerretDB of the embedded stack (STACK_STORE picks the store),
 * by query shape and by how a roll-up's entries are stored. Loads the cases as bench:dashboard
 * does, copies the place roll-ups into one collection per encoding (nested numbers as the first
 * version stored them, zeros left out, an array per entry, one JSON string as now), and prints the
 * median and fastest of 5 reads of each. The probe behind docs/metrics-at-scale.md, "Packed
 * entries".
 */

const MONTHS = ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06'];
const RUNS = 5; // chosen

type Entries = Record<string, Partial<Record<string, number>>>;

async function time(label: string, read: () => Promise<number>): Promise<void> {
  const ms: number[] = [];
  let rows = 0;
  for (let run = 0; run < RUNS; run += 1) {
    const started = process.hrtime.bigint();
    rows = await read();
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(RUNS / 2)]!.toFixed(0);
  process.stdout.write(
    `${label}: median ${median} ms, fastest ${ms[0]!.toFixed(0)} ms, ${rows} documents\n`,
  );
}

const perMonth = (c: Collection<Document>) => async () =>
  (await Promise.all(MONTHS.map((month) => c.find({ by: 'place', month }).toArray()))).reduce(
    (n, rows) => n + rows.length,
    0,
  );

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 20_000);
  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'bench-rollup-reads-'));
  const stack = await startLocalStack({
    dirs: stackDirs({ dataDir: path.join(tempDir, 'stack') }),
    ports: await randomPorts(),
    progress,
    env: process.env.STACK_STORE ? { STACK_STORE: process.env.STACK_STORE } : {},
    only: ['mongodb'],
  });
  try {
    const db = await connectDatabase(stack.env.MONGODB_URI!.replace(/\/[^/]*$/, '/rollup_reads'));
    const org = await loadOrg(db);
    await progress.step(`Loading ${size} closed cases`, () => loadCases(db, org, size, true));
    const native = db.connection.db!;
    const place = await native
      .collection<{ _id: string; by: string; unitId: string; month: string; partsJson: string }>(
        'metricRollups',
      )
      .find({ by: 'place' })
      .toArray();
    const fields = Object.keys(Object.values(unpackRollupParts(place[0]!))[0]!);
    const encodings: Record<string, (entries: Entries) => unknown> = {
      nested: (entries) =>
        Object.fromEntries(
          Object.entries(entries).map(([k, v]) => [
            k,
            Object.fromEntries(fields.map((f) => [f, v[f] ?? 0])),
          ]),
        ),
      'nested, zeros left out': (entries) => entries,
      'an array per entry': (entries) =>
        Object.fromEntries(
          Object.entries(entries).map(([k, v]) => [k, fields.map((f) => v[f] ?? 0)]),
        ),
      'one JSON string': (entries) => JSON.stringify(entries),
    };
    const collections: Array<[string, Collection<Document>]> = [];
    for (const [name, encode] of Object.entries(encodings)) {
      const c = native.collection(`encoding_${collections.length}`);
      await c.createIndex({ by: 1, month: 1, unitId: 1 });
      await c.insertMany(
        place.map((d) => ({
          _id: d._id,
          by: d.by,
          unitId: d.unitId,
          month: d.month,
          parts: encode(unpackRollupParts(d)),
          lastFold: null,
        })) as never[],
      );
      collections.push([name, c]);
    }
    const units = (await db.models.Unit.find({}, { _id: 1 }).lean()).map((u) => String(u._id));
    const nested = collections[0]![1];
    await time(
      'nested, one query {by, month $in, unitId $in}',
      async () =>
        (
          await nested
            .find({ by: 'place', month: { $in: MONTHS }, unitId: { $in: units } })
            .toArray()
        ).length,
    );
    await time(
      'nested, one month {by, month}',
      async () => (await nested.find({ by: 'place', month: MONTHS[0] }).toArray()).length,
    );
    const ids = units.slice(0, 40).map((u) => `place|${u}|${MONTHS[0]}`);
    await time('nested, 40 by _id, 8 at a time', async () => {
      let found = 0;
      for (let at = 0; at < ids.length; at += 8) {
        const docs = await Promise.all(
          ids.slice(at, at + 8).map((id) => nested.findOne({ _id: id as never })),
        );
        found += docs.filter((d) => d !== null).length;
      }
      return found;
    });
    for (const [name, c] of collections) {
      await time(`${name}, six months {by, month} side by side`, perMonth(c));
    }
    // The ranking of a county's communities: their subtree documents of six months (one per
    // community and month, as read today), against one document per community holding the
    // entries of its six months, or of its whole year (issue 14, the period documents).
    const communities = await native
      .collection<{ _id: string; unitId: string; month: string; partsJson: string }>(
        'metricRollups',
      )
      .find({ by: 'placeTree', depth: '2' })
      .toArray();
    const byDepth = native.collection('community_months');
    await byDepth.createIndex({ by: 1, month: 1, depth: 1 });
    await byDepth.insertMany(communities as never[]);
    await time('communities, six months {by, month, depth} side by side', async () => {
      const rows = await Promise.all(
        MONTHS.map((month) => byDepth.find({ by: 'placeTree', month, depth: '2' }).toArray()),
      );
      return rows.reduce((n, r) => n + r.length, 0);
    });
    for (const [label, months] of [
      ['six months', MONTHS],
      ['a year', [...new Set(communities.map((d) => d.month))]],
    ] as const) {
      const periods = new Map<string, Entries>();
      for (const d of communities) {
        if (!months.includes(d.month)) continue;
        const into = periods.get(d.unitId) ?? {};
        for (const [part, sums] of Object.entries(unpackRollupParts(d))) {
          into[`${d.month}|${part}`] = sums;
        }
        periods.set(d.unitId, into);
      }
      const c = native.collection(`community_period_${label.replace(' ', '_')}`);
      await c.createIndex({ by: 1, year: 1, depth: 1 });
      await c.insertMany(
        [...periods].map(([unitId, entries]) => ({
          _id: `placeYear|${unitId}|2026`,
          by: 'placeYear',
          unitId,
          year: '2026',
          depth: '2',
          partsJson: JSON.stringify(entries),
          lastFold: null,
        })) as never[],
      );
      await time(
        `communities, one document each (${label}) {by, year, depth}`,
        async () => (await c.find({ by: 'placeYear', year: '2026', depth: '2' }).toArray()).length,
      );
    }
    await db.connection.dropDatabase();
    await db.close();
  } finally {
    await stack.stop();
    await rm(tempDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

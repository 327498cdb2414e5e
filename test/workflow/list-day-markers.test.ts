import { createListKeys, sealDirtyDays } from '../../activities/list-days';
import { syncOpenCase } from '../../activities/open-cases';
import { caseListKeys } from '../../common/list-days';
import type { Database } from '../../models';
import { connectDatabase } from '../../models';
import { testConfig } from '../support/harness';

/**
 * The day markers the case list walks (activities/list-days.ts) are counted by an upsert per
 * marker. Cases of one new day projected or imported at once race to insert the same marker; on
 * the real store the losing upsert answers a duplicate key, which must not fail the write (an
 * import once read it as "case already there").
 */
let db: Database;

beforeAll(async () => {
  db = await connectDatabase(testConfig('list-day-markers').MONGODB_URI);
});

afterAll(async () => {
  await db?.close();
});

test('when many cases of one new day are counted at once, then every count succeeds and the markers exist', async () => {
  // Arrange: the keys of a case filed on a day no marker has yet (chosen: 12 at once, several rounds)
  const listKeys = createListKeys({ models: db.models });
  const rounds = 5;
  const results: Array<PromiseSettledResult<void>> = [];

  // Act
  for (let round = 0; round < rounds; round++) {
    const day = new Date(Date.UTC(2031, 0, 1 + round, 2));
    const keys = { listDays: caseListKeys(day, ['u-grid', 'u-street'], `filer-${round}`) };
    results.push(
      ...(await Promise.allSettled(Array.from({ length: 12 }, () => listKeys.countKeys(keys)))),
    );
  }

  // Assert
  expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  const markers = await db.models.ListDay.find({ day: { $regex: /^2031-01-0[1-5]$/ } }).lean();
  // Per day: the `*` root, the two units and the filer.
  expect(markers).toHaveLength(rounds * 4);
});

/** A case document as the projection inserts it, with its day keys. */
async function insertCase(id: string, createdAt: Date, unitId: string, status = 'closed') {
  const listKeys = createListKeys({ models: db.models });
  const keys = await listKeys.keysOf({ createdAt, unitId, createdBy: { id: 'sl-filer' } });
  await db.models.Case.create({
    _id: id,
    revision: 1,
    status,
    definitionKey: 'sl-process',
    definitionVersion: 1,
    definitionName: 'sl-process',
    data: {},
    createdBy: { kind: 'user', id: 'sl-filer' },
    unitId,
    channel: 'api',
    requestHash: 'x',
    createdAt,
    updatedAt: createdAt,
    ...keys,
  });
  return keys;
}

/** The seals of a unit root the reader would trust (services/day-walk.ts's rule). */
async function trustedCount(root: string, day: string): Promise<number | null> {
  const id = `list|${root}|${day}`;
  const [marker, seal, dirty] = await Promise.all([
    db.models.ListDay.findById(id).lean(),
    db.models.ListDaySeal.findById(id).lean(),
    db.models.ListDayDirty.findById(id).lean(),
  ]);
  const stamp = marker?.stamp;
  return seal && !dirty && stamp === seal.stamp ? seal.count : null;
}

describe('sealed day counts', () => {
  beforeAll(async () => {
    await db.models.Unit.create([
      { _id: 'sl-street', name: '街道', type: 'street', parentId: null, updatedAt: new Date() },
      { _id: 'sl-grid', name: '网格', type: 'grid', parentId: 'sl-street', updatedAt: new Date() },
    ]);
  });

  test('when cases are counted, sealed, added and retried, then a seal is trusted only while it counts every case of its day', async () => {
    // Arrange: three cases of Beijing 2032-03-04 (UTC+8), two in hour 09, one in hour 15
    const listKeys = createListKeys({ models: db.models });
    const day = '2032-03-04';
    const at = (iso: string) => new Date(iso);
    for (const [id, instant] of [
      ['sl-1', '2032-03-04T01:10:00Z'],
      ['sl-2', '2032-03-04T01:20:00Z'],
      ['sl-3', '2032-03-04T07:00:00Z'],
    ] as const) {
      await listKeys.countKeys(await insertCase(id, at(instant), 'sl-grid'));
    }

    // Act and assert: dirty until the seal pass, then exact, by hour too
    expect(await trustedCount('u:sl-street', day)).toBeNull();
    await sealDirtyDays(db.models);
    expect(await trustedCount('u:sl-street', day)).toBe(3);
    expect(await trustedCount('*', day)).toBe(3);
    const seal = await db.models.ListDaySeal.findById(`list|u:sl-grid|${day}`).lean();
    expect(JSON.parse(seal!.hoursJson)).toEqual({ '09': 2, '15': 1 });
    // The owner's root is never sealed (read beside a unit root, never skipped)
    expect(await db.models.ListDaySeal.findById(`list|by:sl-filer|${day}`).lean()).toBeNull();

    // A fourth case: distrusted from its count on, exact after the next pass
    await listKeys.countKeys(await insertCase('sl-4', at('2032-03-04T07:30:00Z'), 'sl-grid'));
    expect(await trustedCount('u:sl-street', day)).toBeNull();
    await sealDirtyDays(db.models);
    expect(await trustedCount('u:sl-street', day)).toBe(4);

    // A fifth case whose first attempt wrote the case and crashed before counting: the sealed
    // count misses it but is trusted, until the retry (duplicate case) touches its markers
    const keys = await insertCase('sl-5', at('2032-03-04T08:00:00Z'), 'sl-grid');
    expect(await trustedCount('u:sl-street', day)).toBe(4);
    await listKeys.touchKeys(keys);
    await listKeys.touchKeys(keys);
    expect(await trustedCount('u:sl-street', day)).toBeNull();
    await sealDirtyDays(db.models);
    expect(await trustedCount('u:sl-street', day)).toBe(5);

    // A seal pass that counted before a case and wrote after the case's stamp (a slow pass, or
    // two passes at once) is not trusted: the stamp it carries is the marker's old one
    const stale = await db.models.ListDaySeal.findById(`list|u:sl-street|${day}`).lean();
    await listKeys.countKeys(await insertCase('sl-6', at('2032-03-04T09:00:00Z'), 'sl-grid'));
    await db.models.ListDayDirty.deleteMany({});
    await db.models.ListDaySeal.replaceOne({ _id: stale!._id }, stale!);
    expect(await trustedCount('u:sl-street', day)).toBeNull();
  });
});

describe('the open cases index', () => {
  test('when a case opens, changes and closes, then its entry follows it and an older revision never overwrites a newer one', async () => {
    // Arrange
    await insertCase('op-1', new Date('2032-04-01T02:00:00Z'), 'sl-grid', 'open');

    // Act and assert: open, its roots and fields as the case holds them
    await syncOpenCase(db.models, 'op-1');
    await syncOpenCase(db.models, 'op-1'); // a retry changes nothing
    const entry = await db.models.OpenCase.findById('op-1').lean();
    expect(entry).toMatchObject({
      revision: 1,
      status: 'open',
      unitId: 'sl-grid',
      definitionKey: 'sl-process',
      createdBy: { kind: 'user', id: 'sl-filer' },
    });
    expect([...entry!.roots!].sort()).toEqual(['*', 'by:sl-filer', 'u:sl-grid', 'u:sl-street']);
    expect(await db.models.OpenCase.countDocuments({ roots: 'u:sl-street', status: 'open' })).toBe(
      1,
    );

    // A newer revision is written; an entry of an older one would not replace it
    await db.models.Case.updateOne(
      { _id: 'op-1' },
      { $set: { revision: 3, currentStep: { id: 'b', name: 'B' } } },
    );
    await syncOpenCase(db.models, 'op-1');
    await db.models.Case.updateOne(
      { _id: 'op-1' },
      { $set: { revision: 2, currentStep: { id: 'a', name: 'A' } } },
    );
    await syncOpenCase(db.models, 'op-1');
    expect(await db.models.OpenCase.findById('op-1').lean()).toMatchObject({
      revision: 3,
      currentStep: { id: 'b' },
    });

    // Closed: gone
    await db.models.Case.updateOne({ _id: 'op-1' }, { $set: { revision: 4, status: 'closed' } });
    await syncOpenCase(db.models, 'op-1');
    expect(await db.models.OpenCase.findById('op-1').lean()).toBeNull();
  });
});

import { createListKeys } from '../../activities/list-days';
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

import { createOrgSnapshot } from '../../common/org-snapshot';
import type { Database } from '../../models';
import { connectDatabase } from '../../models';
import { bumpOrgRevision, readOrgRevision } from '../../models/org-revision';
import { testConfig } from '../support/harness';

/**
 * The org snapshot's revision read (common/org-snapshot.ts): the calls of one event-loop turn
 * share one read, which is sent after they all asked, so none of them misses a write that had
 * finished before it asked; a later turn reads again.
 */

let db: Database;
let reads = 0;

beforeAll(async () => {
  db = await connectDatabase(testConfig('org-snapshot').MONGODB_URI);
  await db.models.Unit.create({
    _id: 's1',
    name: '东街道',
    type: 'street',
    parentId: null,
    updatedAt: new Date(),
  });
  await bumpOrgRevision(db.models);
});

afterAll(async () => {
  await db.connection.dropDatabase();
  await db.close();
});

function snapshot() {
  return createOrgSnapshot({
    models: db.models,
    revision: () => {
      reads += 1;
      return readOrgRevision(db.models);
    },
  });
}

it('when several readers ask in one turn, then one revision read serves them all', async () => {
  // Arrange
  const reader = snapshot();
  reads = 0;

  // Act
  const trees = await Promise.all([reader.get(), reader.get(), reader.get()]);

  // Assert
  expect(reads).toBe(1);
  expect(trees.map((t) => t.byId.has('s1'))).toEqual([true, true, true]);
});

it('when a unit is written and the revision bumped, then the next turn reads the revision again and sees the unit', async () => {
  // Arrange
  const reader = snapshot();
  const before = await reader.get();
  reads = 0;

  // Act
  await db.models.Unit.create({
    _id: 'c1',
    name: '东社区',
    type: 'community',
    parentId: 's1',
    updatedAt: new Date(),
  });
  await bumpOrgRevision(db.models);
  const after = await reader.get();

  // Assert
  expect(reads).toBe(1);
  expect(before.byId.has('c1')).toBe(false);
  expect(after.byId.has('c1')).toBe(true);
  expect(after.revision).toBe(before.revision + 1);
});

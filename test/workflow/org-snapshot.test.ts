import { createOrgSnapshot } from '../../common/org-snapshot';
import type { Database } from '../../models';
import { connectDatabase } from '../../models';
import { bumpOrgRevision, readOrgRevision } from '../../models/org-revision';
import { testConfig } from '../support/harness';

/**
 * The org snapshot's revision read (common/org-snapshot.ts): the calls of one event-loop turn
 * share one read, which is sent after they all asked, so none of them misses a write that had
 * finished before it asked; a later turn reads again, and the callers who ask while a read is
 * under way share the one read sent after it.
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

it('when callers ask in later turns while a revision read is under way, then they share one read sent after it returned', async () => {
  // Arrange: the first read takes its revision, then waits until released.
  const events: string[] = [];
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let sent = 0;
  const reader = createOrgSnapshot({
    models: db.models,
    revision: async () => {
      const n = (sent += 1);
      events.push(`sent ${n}`);
      const revision = await readOrgRevision(db.models);
      if (n === 1) await held;
      events.push(`returned ${n}`);
      return revision;
    },
  });
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  // Act: one caller, then two more in two later turns while its read is under way.
  const first = reader.get();
  await nextTurn();
  await nextTurn();
  const second = reader.get();
  await nextTurn();
  const third = reader.get();
  await nextTurn();
  release();
  await Promise.all([first, second, third]);

  // Assert
  expect(events).toEqual(['sent 1', 'returned 1', 'sent 2', 'returned 2']);
});

it('when the revision moves while a read is under way, then a caller who asked after the move sees the new revision', async () => {
  // Arrange: the first read has taken its revision and is still under way.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  let sent = 0;
  let firstTaken: () => void = () => {};
  const taken = new Promise<void>((resolve) => (firstTaken = resolve));
  const reader = createOrgSnapshot({
    models: db.models,
    revision: async () => {
      const n = (sent += 1);
      const revision = await readOrgRevision(db.models);
      if (n === 1) {
        firstTaken();
        await held;
      }
      return revision;
    },
  });
  const first = reader.get();
  await taken;
  const before = await readOrgRevision(db.models);

  // Act
  await bumpOrgRevision(db.models);
  const second = reader.get();
  release();
  const [old, current] = await Promise.all([first, second]);

  // Assert
  expect(old.revision).toBe(before);
  expect(current.revision).toBe(before + 1);
});

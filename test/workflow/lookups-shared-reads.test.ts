import mongoose from 'mongoose';
import type { SlaTestBed } from '../support/sla-cases';
import { useSlaTestBed } from '../support/sla-cases';

/**
 * The org lookups on FerretDB: when many cases resolve their people at the same moment just after
 * an org write (an activation's hundreds of compound cases starting after an import), the worker
 * reads the tree and everyone's accounts once for all of them (bench/README.md, "The roll-call
 * at scale"), and every lookup still gets its people.
 */
let bed: SlaTestBed;

useSlaTestBed('lookups-shared-reads', (ready) => {
  bed = ready;
});

it('when 20 lookups find a new org revision at once, then they share one read of the posts and one of the people', async () => {
  // Arrange: an org written (its revision bumped) and a worker's activities that have read nothing
  const org = await bed.seedOrg();
  const activities = bed.activities();
  const reads: string[] = [];
  mongoose.set('debug', (collection: string, method: string) => {
    if (method === 'find') reads.push(collection);
  });

  // Act
  let results;
  try {
    results = await Promise.all(
      Array.from({ length: 20 }, () =>
        activities.resolvePeople({
          selector: { role: 'grid-worker', unit: 'grid' },
          caseUnitId: org.grid.id,
          assigneeUnitId: null,
          data: {},
        }),
      ),
    );
  } finally {
    mongoose.set('debug', false);
  }

  // Assert: every lookup has both grid workers; the tree and the accounts were read once
  for (const resolved of results) {
    expect(resolved.people.map((p) => [p.personId, p.userId]).sort()).toEqual(
      [org.gridWorker, org.gridWorker2].map((p) => [p.personId, p.userId]).sort(),
    );
  }
  expect(reads.filter((c) => c === 'posts')).toHaveLength(1);
  expect(reads.filter((c) => c === 'units')).toHaveLength(1);
  expect(reads.filter((c) => c === 'people')).toHaveLength(1);
});

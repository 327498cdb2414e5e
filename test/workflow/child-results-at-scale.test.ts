import { randomBytes } from 'node:crypto';
import { MAX_CHILDREN_WITH_DATA, MAX_DISTINCT_OUTCOMES } from '../../workflows/child-results';
import { bumpOrgRevision } from '../../models/org-revision';
import type { SeededOrg, SlaTestBed } from '../support/sla-cases';
import { eventsOf, useSlaTestBed } from '../support/sla-cases';

/**
 * The children's outcomes and values (docs 6.10.1) past the fan-out size whose children keep
 * their own values (MAX_CHILDREN_WITH_DATA, 500, chosen), at the real size on the time-skipping
 * server with the real activities (no test-only knob lowers the bound): `steps.<id>.outcomes` counts at most MAX_DISTINCT_OUTCOMES distinct outcomes
 * and the rest as `other`, `steps.<id>.totals` sums every child's values exactly, and each child's
 * entry keeps its outcome but not its values.
 */
let bed: SlaTestBed;

// 501 child cases: 89 s measured with the machine's 2 cores under a load of 17 (the 301-grid
// fan-out of periodic-engine.test.ts took 15 s under a lighter one): room beyond jest's 120 s.
jest.setTimeout(240_000);

useSlaTestBed('child-results-at-scale', (ready) => {
  bed = ready;
});

const CHILDREN = MAX_CHILDREN_WITH_DATA + 1;

/** `count` more grids under the seeded community, in bulk; the org revision moved once. */
async function addGrids(org: SeededOrg, count: number): Promise<void> {
  await bed.db.models.Unit.insertMany(
    Array.from({ length: count }, (_, k) => ({
      _id: `${org.grid.id}-x${k}`,
      name: `网格${k}`,
      type: 'grid',
      parentId: org.community.id,
      updatedAt: new Date(),
    })),
  );
  await bumpOrgRevision(bed.db.models);
}

/**
 * A grid's report handing its grid as its outcome (every child a distinct one), its position `n`,
 * whether it is among the first 100 (`early`) and a text (`label`, which sums to 0).
 */
async function publishedReport(): Promise<string> {
  const child = bed.definition({
    key: `grid-tally-${randomBytes(3).toString('hex')}`,
    name: '网格统计',
    starters: ['admin'],
    input: {
      fields: [
        { name: 'grid', label: '网格', type: 'string' },
        { name: 'n', label: '序号', type: 'integer' },
      ],
    },
    result: {
      outcome: 'data.grid',
      data: { n: 'data.n', early: 'data.n < 100', label: 'data.grid' },
    },
    steps: [{ id: 'reported', name: '已上报', type: 'end' }],
  });
  await bed.publish(child);
  return child.key;
}

it(`when a fan-out has ${CHILDREN} children handing values, then the totals are exact, the outcomes counted up to ${MAX_DISTINCT_OUTCOMES} and the rest as other, each child’s entry keeps its outcome but not its values, and a decision reads them`, async () => {
  // Arrange: the seeded grid and 500 more under one community
  const org = await bed.seedOrg();
  await addGrids(org, CHILDREN - 1);
  const childKey = await publishedReport();
  const sumOfPositions = ((CHILDREN - 1) * CHILDREN) / 2;
  const others = CHILDREN - MAX_DISTINCT_OUTCOMES;
  const round = bed.definition({
    key: `tally-round-${randomBytes(3).toString('hex')}`,
    name: '统计轮次',
    starters: ['admin'],
    input: { fields: [] },
    steps: [
      {
        id: 'grids',
        name: '各网格上报',
        type: 'subprocess',
        definition: childKey,
        forEach: { units: { type: 'grid', within: 'community' } },
        data: { grid: 'item', n: 'index' },
      },
      {
        id: 'check',
        name: '核对',
        type: 'decision',
        branches: [
          {
            when: `steps.grids.count == ${CHILDREN} && steps.grids.totals.n == ${sumOfPositions} && steps.grids.totals.early == 100 && steps.grids.totals.label == 0 && steps.grids.outcomes.other == ${others}`,
            next: 'exact',
          },
        ],
        otherwise: 'inexact',
      },
      { id: 'exact', name: '一致', type: 'end' },
      { id: 'inexact', name: '不一致', type: 'end', status: 'rejected' },
    ],
  });

  // Act
  const doc = await bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, round, org.grid.id);
    await kase.handle.result();
    return kase.doc();
  });

  // Assert: the summary's totals are exact over every child
  const [summary] = eventsOf(doc.timeline, 'step.completed').filter((e) => e.stepId === 'grids');
  expect(summary!.detail).toMatchObject({
    count: CHILDREN,
    closed: CHILDREN,
    n: sumOfPositions,
    early: 100,
    label: 0,
  });
  // …the outcomes: 50 distinct ones counted once each, the other 451 as `other`
  const outcomes = summary!.detail!.outcomes as unknown as string[];
  expect(outcomes).toHaveLength(MAX_DISTINCT_OUTCOMES + 1);
  expect(outcomes.filter((o) => o.endsWith(': 1'))).toHaveLength(MAX_DISTINCT_OUTCOMES);
  expect(outcomes).toContain(`other: ${others}`);
  // …each child's entry holds its outcome (its grid) but not its values
  const ended = eventsOf(doc.timeline, 'subprocess.ended');
  expect(ended).toHaveLength(CHILDREN);
  expect(new Set(ended.map((e) => e.detail?.outcome)).size).toBe(CHILDREN);
  expect(ended.every((e) => !('n' in e.detail!) && !('early' in e.detail!))).toBe(true);
  // …and a decision reads the same counts and sums in `steps.grids`
  expect(doc.status).toBe('closed');
  expect(eventsOf(doc.timeline, 'case.closed')[0]!.stepId).toBe('exact');
});

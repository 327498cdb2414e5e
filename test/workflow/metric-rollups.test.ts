import { randomBytes } from 'node:crypto';
import { createActivities } from '../../activities';
import type { ComputedRollup } from '../../activities/metric-rollups';
import {
  addCase,
  backfillRollups,
  BACKFILL_STALE_MS,
  foldRollupChanges,
  parentsOf,
  rebuildRollups,
  rollupsComplete,
  syncCaseRollup,
} from '../../activities/metric-rollups';
import { bumpOrgRevision } from '../../models/org-revision';
import { createOrgSnapshot } from '../../common/org-snapshot';
import type { RollupCase, Sums } from '../../common/metric-rollup';
import {
  packRollupParts,
  parentsFromJson,
  rollupIdOf,
  TREE_MARK,
  treeHalfRollupIdOf,
  treeRollupIdOf,
  rollupKeysOf,
  servingUnitsOf,
  sumsOf,
  unpackRollupParts,
} from '../../common/metric-rollup';
import type { CaseProgress, ServedBy, TimelineEntry } from '../../common/case';
import {
  CaseMeasures,
  measureTimeline,
  METRIC_FIELDS,
  storedMetrics,
} from '../../common/case-measures';
import type { ImportedCaseDocument } from '../../common/case-import';
import { createLogger } from '../../common/logger';
import { createMailRenderer } from '../../mail/renderer';
import { createSmtpTransport } from '../../mail/transport';
import type { Database } from '../../models';
import { connectDatabase } from '../../models';
import type { Principal } from '../../services/auth';
import { createMetricsService, figuresOf } from '../../services/metrics';
import { createScopeResolver } from '../../services/scope';
import { testConfig } from '../support/harness';
import { testStack } from '../support/test-stack';

/**
 * The metric roll-ups kept by the projection (activities/metric-rollups.ts), by place and by
 * serving unit, against the figures recomputed from the case documents' timelines (where the
 * flags come from): after retries, a write lost between the roll-up and the case's mark, replays
 * of old revisions, who served changing, imports written twice, concurrent projections of one
 * unit's month, a rebuild, and the backfill of a store upgraded from a version without roll-ups.
 */
/** A street, two communities where cases are filed, and two co-building units that serve. */
const UNITS = [
  ['r-s', null],
  ['r-c1', 'r-s'],
  ['r-c2', 'r-s'],
  ['r-x1', 'r-s'],
  ['r-x2', 'r-s'],
] as const;
const CHILDREN = ['r-c1', 'r-c2', 'r-x1', 'r-x2'];

let db: Database;
let activities: ReturnType<typeof createActivities>;

beforeAll(async () => {
  db = await connectDatabase(testConfig('rollups').MONGODB_URI);
  activities = createActivities({
    models: db.models,
    mail: {
      transport: createSmtpTransport(testStack().env.SMTP_URL),
      renderer: createMailRenderer(),
      from: 'test <noreply@governance.local>',
    },
    clock: () => new Date(),
    logger: createLogger('test', 'silent'),
  });
  const now = new Date();
  for (const [id, parentId] of UNITS) {
    await db.models.Unit.create({ _id: id, name: id, type: 'community', parentId, updatedAt: now });
  }
  // A new store: nothing to backfill, so the roll-ups are complete from the start.
  expect(await backfillRollups(db.models, { owner: 'test' })).toEqual({
    outcome: 'done',
    cases: 0,
  });
});

afterAll(async () => {
  await db?.close();
});

const ENGINE = { kind: 'system', id: 'engine' };
const START = Date.parse('2026-03-10T02:00:00Z');
const MIN = 60_000;

type Step = Pick<TimelineEntry, 'type' | 'detail'> & { afterMin: number };

/**
 * The revisions one case's workflow would send: each with its events and the figures so far, and
 * who served it where `served` says so (by revision after the first: `served[0]` goes with the
 * second revision).
 */
function revisionsOf(
  caseId: string,
  unitId: string,
  category: string,
  steps: Step[][],
  served: ReadonlyArray<ServedBy | undefined> = [],
) {
  const measures = new CaseMeasures();
  let seq = 0;
  const entry = (type: string, afterMin: number, detail?: Record<string, unknown>) => {
    const e = {
      seq: ++seq,
      type,
      at: new Date(START + afterMin * MIN).toISOString(),
      actor: ENGINE,
      ...(detail ? { detail } : {}),
    } as TimelineEntry;
    measures.observe(e);
    return e;
  };
  const opening = [entry('case.started', 0)];
  const revisions: CaseProgress[] = [
    {
      caseId,
      revision: 1,
      status: 'open',
      currentStep: { id: 'serve', name: '办理', type: 'task' },
      events: opening,
      metrics: measures.snapshot(),
      opening: {
        definitionKey: 'rollup-flow',
        definitionVersion: 1,
        definitionName: '汇总',
        data: { category },
        createdBy: { kind: 'user', id: 'u' },
        unitId,
        category,
        channel: 'test',
        requestHash: 'h',
        createdAt: new Date(START).toISOString(),
      },
    },
  ];
  for (const [i, events] of steps.entries()) {
    const stored = events.map((s) => entry(s.type, s.afterMin, s.detail));
    const closed = events.some((s) => s.type === 'case.closed');
    const servedBy = served[i];
    revisions.push({
      ...(servedBy ? { servedBy } : {}),
      caseId,
      revision: revisions.length + 1,
      status: closed ? 'closed' : 'open',
      currentStep: closed ? null : { id: 'serve', name: '办理', type: 'task' },
      events: stored,
      metrics: measures.snapshot(),
      ...(closed ? { closedAt: stored.at(-1)!.at } : {}),
    });
  }
  return revisions;
}

const FATES: Step[][][] = [
  // Claimed in time, done, rated 5.
  [
    [{ type: 'task.claimed', afterMin: 5 }],
    [{ type: 'task.completed', afterMin: 60 }],
    [
      { type: 'feedback.rated', afterMin: 90, detail: { score: 5 } },
      { type: 'case.closed', afterMin: 91, detail: { status: 'closed' } },
    ],
  ],
  // Late: missed, escalated, returned once, then done without a rating.
  [
    [{ type: 'deadline.missed', afterMin: 30 }],
    [{ type: 'deadline.escalated', afterMin: 31 }],
    [{ type: 'task.claimed', afterMin: 40 }],
    [{ type: 'task.returned', afterMin: 50 }],
    [
      { type: 'feedback.missing', afterMin: 500 },
      { type: 'case.closed', afterMin: 501, detail: { status: 'closed' } },
    ],
  ],
  // Refused.
  [[{ type: 'case.closed', afterMin: 10, detail: { status: 'rejected' } }]],
];

const X1 = { unitIds: ['r-x1'], personIds: ['p-1'] };
const X2 = { unitIds: ['r-x2'], personIds: ['p-2'] };
const BOTH = { unitIds: ['r-x1', 'r-x2'], personIds: ['p-1', 'p-2'] };
/**
 * Who served, per fate: the first taken on by 供电公司 (r-x1), joined by 第一中学 (r-x2) when it was
 * done; the second taken on by r-x2, then handed back and taken on by r-x1 (r-x2 no longer
 * served it); nobody served the refused one.
 */
const SERVED: Array<Array<ServedBy | undefined>> = [[X1, BOTH], [undefined, undefined, X2, X1], []];

/** A case's figures recomputed from its stored timeline (the events the flags come from). */
function recomputed<T extends { timeline?: unknown; metrics?: unknown }>(doc: T): T {
  const timeline = (doc.timeline ?? []) as Array<Omit<TimelineEntry, 'at'> & { at: Date | string }>;
  const metrics = measureTimeline(
    timeline.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
  );
  return { ...doc, metrics: storedMetrics(metrics) };
}

/** Figures summed from the case documents recomputed from their timelines, per unit: by place or by who served. */
async function expectedPerUnit(by: 'place' | 'served', store: Database = db) {
  const perUnit = new Map<string, Sums>();
  for (const doc of await store.models.Case.find({}).lean()) {
    const figures = sumsOf(recomputed(doc).metrics as Record<string, unknown>);
    const units = by === 'place' ? [doc.unitId as string] : servingUnitsOf(doc);
    for (const unitId of units) {
      const sums = perUnit.get(unitId) ?? sumsOf(null);
      for (const f of METRIC_FIELDS) sums[f] += figures[f];
      perUnit.set(unitId, sums);
    }
  }
  return perUnit;
}

/**
 * The roll-ups as folded, zeros left out, against the sums of the case documents: the per-unit
 * documents and the subtree documents along the unit tree as it stands.
 */
async function expectRollupsMatchCases(store: Database = db): Promise<void> {
  await foldRollupChanges(store.models);
  expect(await store.models.MetricRollupChange.countDocuments({})).toBe(0);
  const parents = parentsOf(await createOrgSnapshot({ models: store.models }).get());
  const expected = new Map<string, ComputedRollup>();
  for (const doc of await store.models.Case.find({}).lean()) {
    // The projected figures are the timeline's; the roll-ups must hold the timeline's sums.
    const fromTimeline = recomputed(doc);
    expect(sumsOf(doc.metrics as Record<string, unknown>)).toEqual(
      sumsOf(fromTimeline.metrics as Record<string, unknown>),
    );
    addCase(expected, fromTimeline, parents);
  }
  const shown = (parts: Record<string, Partial<Record<string, number>>>) =>
    Object.fromEntries(
      Object.entries(parts)
        .map(
          ([part, sums]) =>
            [part, Object.fromEntries(Object.entries(sums).filter(([, v]) => v !== 0))] as const,
        )
        .filter(([, sums]) => Object.keys(sums).length > 0),
    );
  const stored = await store.models.MetricRollup.find({}).lean();
  const actual = Object.fromEntries(
    stored
      .map((r) => [String(r._id), shown(unpackRollupParts(r))] as const)
      .filter(([, parts]) => Object.keys(parts).length > 0),
  );
  expect(actual).toEqual(Object.fromEntries([...expected].map(([id, r]) => [id, shown(r.parts)])));
}

const admin: Principal = { kind: 'user', id: 'admin', roles: ['admin'], unitIds: [] };

function metricsService(store: Database = db) {
  return createMetricsService({
    models: store.models,
    scope: createScopeResolver(store.models),
    clock: () => new Date('2026-06-30T00:00:00Z'),
  });
}

describe('metric roll-ups', () => {
  it('when every revision is projected twice and old revisions are replayed, then the roll-ups equal the sums of the case documents', async () => {
    // Arrange
    const tag = randomBytes(4).toString('hex');
    const runs = FATES.map((fate, i) =>
      revisionsOf(
        `rc-${tag}-${i}`,
        i % 2 === 0 ? 'r-c1' : 'r-c2',
        i === 2 ? 'noise' : 'road',
        fate,
        SERVED[i],
      ),
    );

    // Act: each revision twice (a retried activity), then every earlier revision again.
    for (const revisions of runs) {
      for (const progress of revisions) {
        await activities.recordCaseProgress(progress);
        await activities.recordCaseProgress(progress);
      }
      for (const progress of revisions.slice(0, -1).reverse()) {
        await activities.recordCaseProgress(progress);
      }
    }

    // Assert
    await expectRollupsMatchCases();
    const first = (await db.models.Case.findById(`rc-${tag}-0`).lean())!;
    expect(first.rolledUp).toMatchObject({ revision: 4 });
    const second = (await db.models.Case.findById(`rc-${tag}-1`).lean())!;
    // Handed from r-x2 to r-x1: out of r-x2's roll-ups, into r-x1's.
    expect((second.rolledUp as { keys: unknown[] }).keys).toEqual([
      expect.objectContaining({ by: 'place', unitId: 'r-c2' }),
      expect.objectContaining({ by: 'served', unitId: 'r-x1' }),
      expect.objectContaining({ by: 'servedSet', unitIds: ['r-x1'] }),
    ]);
  });

  it('when the metrics and the ranking are read from the roll-ups, by place and by who served, then every figure equals the one recomputed from the case timelines', async () => {
    // Arrange
    const service = metricsService();
    const period = { unitId: 'r-s', period: '2026-03' };
    const place = await expectedPerUnit('place');
    const served = await expectedPerUnit('served');
    const cases = (await db.models.Case.find({}).lean()).map(recomputed);
    const once = sumsOf(null);
    for (const doc of cases.filter((c) => servingUnitsOf(c as RollupCase).length > 0)) {
      const figures = sumsOf(doc.metrics as Record<string, unknown>);
      for (const f of METRIC_FIELDS) once[f] += figures[f];
    }
    const all = sumsOf(null);
    for (const sums of place.values()) for (const f of METRIC_FIELDS) all[f] += sums[f];
    const figuresFor = (sums: Map<string, Sums>, id: string) =>
      figuresOf(sums.get(id) ?? sumsOf(null));

    // Act
    const byPlace = await service.unitMetrics(admin, period);
    const byServed = await service.unitMetrics(admin, { ...period, attribution: 'served' });
    const ranking = await service.ranking(admin, { ...period, attribution: 'served' });
    const bulletin = await service.bulletin(admin, { unitId: 'r-s', month: '2026-03' });
    // A year of the street: 5 units × 12 months, read one query per month (services/metrics.ts
    // rollupFilters), where the month above reads one per unit.
    const yearByPlace = await service.unitMetrics(admin, { unitId: 'r-s', period: '2026' });
    const yearByServed = await service.unitMetrics(admin, {
      unitId: 'r-s',
      period: '2026',
      attribution: 'served',
    });

    // Assert
    expect(await db.models.MetricRollup.countDocuments({ by: 'served' })).toBeGreaterThan(0);
    expect(byPlace.totals).toEqual(figuresOf(all));
    expect(bulletin.totals).toEqual(figuresOf(all));
    for (const id of CHILDREN) {
      const { unit, ...figures } = byPlace.children.find((c) => c.unit.id === id)!;
      expect({ id: unit.id, ...figures }).toEqual({ id, ...figuresFor(place, id) });
      const servedChild = byServed.children.find((c) => c.unit.id === id)!;
      expect({ id, ...servedChild, unit: undefined }).toEqual({
        id,
        ...figuresFor(served, id),
        unit: undefined,
      });
      const ranked = ranking.items.find((item) => item.unit.id === id)!;
      expect(ranked.received).toBe(figuresFor(served, id).received);
      expect(ranked.rates).toEqual(figuresFor(served, id).rates);
    }
    // The served total and trend count a case served by r-x1 and r-x2 once.
    expect(await db.models.MetricRollup.countDocuments({ by: 'servedSet' })).toBeGreaterThan(0);
    expect(byServed.totals).toEqual(figuresOf(once));
    expect(byServed.months).toEqual([
      {
        month: '2026-03',
        received: once.received,
        completed: once.completed,
        overdue: once.overdue,
      },
    ]);
    expect(byServed.totals.received).toBeLessThan(
      figuresFor(served, 'r-x1').received + figuresFor(served, 'r-x2').received,
    );
    expect(yearByPlace.totals).toEqual(byPlace.totals);
    expect(yearByPlace.children).toEqual(byPlace.children);
    expect(yearByServed.totals).toEqual(byServed.totals);
    expect(yearByServed.children).toEqual(byServed.children);
    expect(yearByServed.months).toEqual(byServed.months);
  });

  it('when a roll-up was written by a version that stored its entries as nested fields, then it is read as it is and packed by the next fold into it', async () => {
    // Arrange: every roll-up of r-c1 in March as the version before partsJson wrote it.
    await foldRollupChanges(db.models);
    const period = { unitId: 'r-s', period: '2026-03' };
    const expected = await metricsService().unitMetrics(admin, period);
    const rollups = await db.models.MetricRollup.find({ unitId: 'r-c1' }).lean();
    expect(rollups.length).toBeGreaterThan(0);
    for (const r of rollups) {
      await db.models.MetricRollup.collection.updateOne(
        { _id: r._id as never },
        { $set: { parts: unpackRollupParts(r) }, $unset: { partsJson: '' } },
      );
    }
    const legacyRead = await metricsService().unitMetrics(admin, period);
    const tag = randomBytes(4).toString('hex');

    // Act: one more case of r-c1 in March, projected and folded.
    for (const progress of revisionsOf(`rl-${tag}`, 'r-c1', 'road', FATES[0]!, SERVED[0])) {
      await activities.recordCaseProgress(progress);
    }
    await foldRollupChanges(db.models);

    // Assert
    expect({ ...legacyRead, computedAt: null }).toEqual({ ...expected, computedAt: null });
    const folded = (await db.models.MetricRollup.findOne({ _id: rollups[0]!._id }).lean())!;
    expect(folded.parts).toBeUndefined();
    expect(typeof folded.partsJson).toBe('string');
    await expectRollupsMatchCases();
  });

  it('when roll-ups hold their entries as objects in partsJson (the version before the columns), then they are read as they are and written columnar by the next fold into them', async () => {
    // Arrange: every roll-up (month, subtree and period documents) as that version wrote them.
    await foldRollupChanges(db.models);
    const period = { unitId: 'r-s', period: '2026-03' };
    const halfYear = { unitId: 'r-s', period: '2026-H1' };
    const expected = await metricsService().unitMetrics(admin, period);
    const expectedHalf = await metricsService().unitMetrics(admin, halfYear);
    const rollups = await db.models.MetricRollup.find({}).lean();
    expect(rollups.some((r) => typeof r.half === 'string')).toBe(true);
    for (const r of rollups) {
      await db.models.MetricRollup.collection.updateOne(
        { _id: r._id as never },
        { $set: { partsJson: JSON.stringify(unpackRollupParts(r)) }, $unset: { parts: '' } },
      );
    }
    const legacyRead = await metricsService().unitMetrics(admin, period);
    const legacyHalf = await metricsService().unitMetrics(admin, halfYear);
    const tag = randomBytes(4).toString('hex');

    // Act: one more case of r-c1 in March, projected and folded.
    for (const progress of revisionsOf(`ro-${tag}`, 'r-c1', 'road', FATES[0]!, SERVED[0])) {
      await activities.recordCaseProgress(progress);
    }
    await foldRollupChanges(db.models);

    // Assert
    expect({ ...legacyRead, computedAt: null }).toEqual({ ...expected, computedAt: null });
    expect({ ...legacyHalf, computedAt: null }).toEqual({ ...expectedHalf, computedAt: null });
    const march = rollups.filter(
      (r) => r.unitId === 'r-c1' && (r.month === '2026-03' || r.half === '2026-H1'),
    );
    expect(march.length).toBeGreaterThan(0);
    for (const r of march) {
      const folded = (await db.models.MetricRollup.findOne({ _id: r._id }).lean())!;
      expect(Array.isArray(JSON.parse(folded.partsJson))).toBe(true);
    }
    await expectRollupsMatchCases();
  });

  it('when the case mark is lost after the roll-up was written, then the retry does not count the change twice', async () => {
    // Arrange: a case at revision 1, then revision 2 (claimed: figures change) projected.
    const tag = randomBytes(4).toString('hex');
    const revisions = revisionsOf(`rc-${tag}`, 'r-c1', 'road', FATES[0]!, SERVED[0]);
    await activities.recordCaseProgress(revisions[0]!);
    const before: unknown = (await db.models.Case.findById(`rc-${tag}`).lean())!.rolledUp;
    await activities.recordCaseProgress(revisions[1]!);
    expect(revisions[1]!.metrics).not.toEqual(revisions[0]!.metrics);

    // Act: the crash: the roll-up holds revision 2, the case's mark says revision 1. Retry.
    await db.models.Case.updateOne({ _id: `rc-${tag}` }, { $set: { rolledUp: before } });
    await activities.recordCaseProgress(revisions[1]!);
    await activities.recordCaseProgress(revisions[2]!);

    // Assert
    await expectRollupsMatchCases();
  });

  it('when the case mark is lost after the change was folded, then a sync told its revision is unseen but past its window reads the folded tokens and counts the change once', async () => {
    // Arrange: revision 2 projected and its change folded (its token among the folded ones),
    // then the crash: the case's mark back at revision 1.
    const tag = randomBytes(4).toString('hex');
    const revisions = revisionsOf(`rc-${tag}`, 'r-c1', 'road', FATES[0]!, SERVED[0]);
    await activities.recordCaseProgress(revisions[0]!);
    const before: unknown = (await db.models.Case.findById(`rc-${tag}`).lean())!.rolledUp;
    await activities.recordCaseProgress(revisions[1]!);
    await foldRollupChanges(db.models);
    await db.models.Case.updateOne({ _id: `rc-${tag}` }, { $set: { rolledUp: before } });

    // Act: the projection's sync of the revision it wrote, its window over (a second attempt
    // could be running beside it), so the folded tokens must be read.
    const outcome = await syncCaseRollup(db.models, `rc-${tag}`, {
      unseenRevision: revisions[1]!.revision,
      stillUnseen: () => false,
    });

    // Assert
    expect(outcome).toBe('applied');
    expect(await db.models.MetricRollupChange.countDocuments({})).toBe(0);
    await expectRollupsMatchCases();
  });

  it('when a historical case is imported twice, then it counts once', async () => {
    // Arrange
    const tag = randomBytes(4).toString('hex');
    const record: ImportedCaseDocument = {
      caseId: `imp-${tag}`,
      externalId: tag,
      definitionKey: 'rollup-flow',
      definitionVersion: 1,
      definitionName: '汇总',
      requestHash: `h-${tag}`,
      unitId: 'r-c2',
      category: 'road',
      data: {},
      createdBy: { kind: 'user', id: 'u' },
      status: 'closed',
      receivedAt: new Date(START).toISOString(),
      closedAt: new Date(START + 100 * MIN).toISOString(),
      events: [
        { type: 'case.started', at: new Date(START).toISOString(), actor: ENGINE },
        { type: 'task.claimed', at: new Date(START + 3 * MIN).toISOString(), actor: ENGINE },
        {
          type: 'case.closed',
          at: new Date(START + 100 * MIN).toISOString(),
          actor: ENGINE,
          detail: { status: 'closed' },
        },
      ],
      rating: null,
      publication: null,
    } as ImportedCaseDocument;

    // Act
    expect(await activities.importCase(record)).toBe('imported');
    expect(await activities.importCase(record)).toBe('already-there');

    // Assert
    await expectRollupsMatchCases();
  });

  it('when the metrics are asked for by month, by days or by instants inside the month, by place or by who served, then each agrees with the cases', async () => {
    // Arrange
    const cases = await db.models.Case.find({ unitId: { $in: ['r-c1', 'r-c2'] } }).lean();
    const received = cases.length;
    const completed = cases.filter((c) => (c.metrics as { completed?: number }).completed).length;
    const service = metricsService();

    // Act
    const byMonth = await service.unitMetrics(admin, { unitId: 'r-s', period: '2026-03' });
    const byDays = await service.unitMetrics(admin, {
      unitId: 'r-s',
      from: '2026-03-01',
      to: '2026-03-31',
    });
    const partial = await service.unitMetrics(admin, {
      unitId: 'r-s',
      from: new Date(START - MIN).toISOString(),
      to: new Date(START + MIN).toISOString(),
    });
    const before = await service.unitMetrics(admin, {
      unitId: 'r-s',
      from: '2026-03-01',
      to: new Date(START - MIN).toISOString(),
    });
    const ranking = await service.ranking(admin, { unitId: 'r-s', period: '2026-H1' });
    const servedByMonth = await service.unitMetrics(admin, {
      unitId: 'r-s',
      period: '2026-03',
      attribution: 'served',
    });
    const servedPartial = await service.unitMetrics(admin, {
      unitId: 'r-s',
      from: new Date(START - MIN).toISOString(),
      to: new Date(START + MIN).toISOString(),
      attribution: 'served',
    });

    // Assert
    expect(byMonth.totals).toMatchObject({ received, completed });
    expect(byMonth.months).toEqual([{ month: '2026-03', received, completed, overdue: 1 }]);
    expect(byDays.totals).toEqual(byMonth.totals);
    expect(partial.totals).toEqual(byMonth.totals);
    expect(before.totals.received).toBe(0);
    expect(ranking.items.reduce((n, item) => n + item.received, 0)).toBe(received);
    // By who served, the roll-ups (whole month) and the cases (instants inside it) agree too.
    expect(servedByMonth.totals.received).toBeGreaterThan(0);
    expect(servedPartial.totals).toEqual(servedByMonth.totals);
    expect(servedPartial.children).toEqual(servedByMonth.children);
    expect(servedPartial.months).toEqual(servedByMonth.months);
  });

  it('when a roll-up was counted wrong, then the rebuild recomputes it from the cases', async () => {
    // Arrange
    // One with an entry left (one whose cases all moved away holds none).
    const any = (await db.models.MetricRollup.find({}).lean()).find(
      (r) => Object.keys(unpackRollupParts(r)).length > 0,
    )!;
    const parts = unpackRollupParts(any);
    const part = Object.keys(parts)[0]!;
    parts[part]!.received = (parts[part]!.received ?? 0) + 5;
    await db.models.MetricRollup.updateOne(
      { _id: any._id },
      { $set: { partsJson: packRollupParts(parts) } },
    );
    await db.models.MetricRollup.create({
      _id: rollupIdOf({ by: 'place', unitId: 'r-gone', month: '2020-01' }),
      by: 'place',
      unitId: 'r-gone',
      month: '2020-01',
      parts: { 'x~': { received: 1 } },
    });
    // Another as the version before the columns wrote it (entries as objects in partsJson).
    const other = (await db.models.MetricRollup.find({}).lean()).find(
      (r) => r._id !== any._id && Object.keys(unpackRollupParts(r)).length > 0,
    )!;
    await db.models.MetricRollup.updateOne(
      { _id: other._id },
      { $set: { partsJson: JSON.stringify(unpackRollupParts(other)) } },
    );

    // Act
    const report = await rebuildRollups(db.models);

    // Assert
    expect(report.cases).toBeGreaterThan(0);
    await expectRollupsMatchCases();
    // The rebuild writes every document columnar: `[fields, entries]`, no nested `parts`.
    for (const r of await db.models.MetricRollup.find({}).lean()) {
      expect(r.parts).toBeUndefined();
      expect(Array.isArray(JSON.parse(r.partsJson))).toBe(true);
    }
    const doc = (await db.models.Case.findOne({ unitId: 'r-c1' }).lean())!;
    expect(doc.rolledUp).toMatchObject({ keys: rollupKeysOf(doc as RollupCase) });
  });

  it('when many cases of one unit and month are projected at once, then no figure is lost and the metrics agree before and after the fold', async () => {
    // Arrange: FerretDB v1 loses concurrent updates of one document; the changes are inserts.
    const tag = randomBytes(4).toString('hex');
    const runs = Array.from({ length: 12 }, (_, i) =>
      revisionsOf(`rp-${tag}-${i}`, 'r-c2', 'road', FATES[i % 3]!, SERVED[i % 3]),
    );

    // Act: every case's revisions in order, the cases side by side.
    await Promise.all(
      runs.map(async (revisions) => {
        for (const progress of revisions) await activities.recordCaseProgress(progress);
      }),
    );
    const unfolded = await metricsService().unitMetrics(admin, {
      unitId: 'r-s',
      period: '2026-03',
    });
    // Reads while the fold runs: each must see every change once, folded or not; the month
    // (its subtree documents) and the half year (the period documents) in turn.
    let folding = true;
    const fold = foldRollupChanges(db.models).finally(() => (folding = false));
    const during: number[] = [];
    for (let n = 0; folding; n += 1) {
      const period = n % 2 === 0 ? '2026-03' : '2026-H1';
      const read = await metricsService().unitMetrics(admin, { unitId: 'r-s', period });
      during.push(read.totals.received);
    }
    await fold;

    // Assert
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((received) => received === unfolded.totals.received)).toBe(true);
    await expectRollupsMatchCases();
    const folded = await metricsService().unitMetrics(admin, { unitId: 'r-s', period: '2026-03' });
    const half = await metricsService().unitMetrics(admin, { unitId: 'r-s', period: '2026-H1' });
    expect(unfolded.totals).toEqual(folded.totals);
    expect(unfolded.children).toEqual(folded.children);
    expect(half.totals).toEqual(folded.totals);
    expect(half.children).toEqual(folded.children);
    expect(half.months).toEqual(folded.months);
    const received = await db.models.Case.countDocuments({ unitId: { $in: ['r-c1', 'r-c2'] } });
    expect(folded.totals.received).toBe(received);
  });
});

describe('an upgraded store (cases written before the roll-ups)', () => {
  let old: Database;

  beforeAll(async () => {
    old = await connectDatabase(testConfig('rollups-upgrade').MONGODB_URI);
    const now = new Date();
    for (const [id, parentId] of UNITS) {
      await old.models.Unit.create({
        _id: id,
        name: id,
        type: 'community',
        parentId,
        updatedAt: now,
      });
    }
    // The cases as the projection wrote them, then everything of the roll-ups taken away, as a
    // version without roll-ups would have left the store.
    const writer = createActivities({
      models: old.models,
      mail: {
        transport: createSmtpTransport(testStack().env.SMTP_URL),
        renderer: createMailRenderer(),
        from: 'test <noreply@governance.local>',
      },
      clock: () => new Date(),
      logger: createLogger('test', 'silent'),
    });
    for (let i = 0; i < 9; i += 1) {
      const revisions = revisionsOf(
        `up-${i}`,
        i % 2 ? 'r-c1' : 'r-c2',
        'road',
        FATES[i % 3]!,
        SERVED[i % 3],
      );
      for (const progress of revisions) await writer.recordCaseProgress(progress);
    }
    await old.models.Case.collection.updateMany({}, { $unset: { rolledUp: '' } });
    await old.models.MetricRollupChange.deleteMany({});
    await old.models.MetricRollup.deleteMany({});
    await old.models.MetricRollupMark.deleteMany({});
    await old.models.MetricRollupToken.deleteMany({});
  });

  afterAll(async () => {
    await old?.close();
  });

  it('when the metrics are asked before the backfill, then they are computed from the cases, not zeros', async () => {
    // Act
    const shown = await metricsService(old).unitMetrics(admin, {
      unitId: 'r-s',
      period: '2026-03',
    });

    // Assert
    expect(await rollupsComplete(old.models)).toBe(false);
    expect(shown.totals.received).toBe(9);
    expect(shown.totals.completed).toBe(
      await old.models.Case.countDocuments({ 'metrics.completed': 1 }),
    );
  });

  it('when two workers start on it at once, then one backfills, the other leaves it, and the metrics come from the roll-ups', async () => {
    // Act
    const reports = await Promise.all([
      backfillRollups(old.models, { owner: 'worker-a' }),
      backfillRollups(old.models, { owner: 'worker-b' }),
    ]);
    const later = await backfillRollups(old.models, { owner: 'worker-c' });

    // Assert
    expect(reports.map((r) => r.outcome).sort()).toEqual(['busy', 'done']);
    expect(reports.find((r) => r.outcome === 'done')!.cases).toBe(9);
    expect(later.outcome).toBe('complete-already');
    expect(await old.models.MetricRollupMark.countDocuments({ kind: 'backfill' })).toBe(1);
    expect(await rollupsComplete(old.models)).toBe(true);
    await expectRollupsMatchCases(old);
    const service = metricsService(old);
    const shown = await service.unitMetrics(admin, { unitId: 'r-s', period: '2026-03' });
    expect(shown.totals.received).toBe(9);
    // The roll-ups alone now: emptied, the metrics show it (they no longer read the cases).
    await old.models.MetricRollup.deleteMany({});
    const fromRollups = await service.unitMetrics(admin, { unitId: 'r-s', period: '2026-03' });
    expect(fromRollups.totals.received).toBe(0);
    await rebuildRollups(old.models);
  });

  it('when a backfill died and its lock went stale, then the next worker takes over and counts nothing twice', async () => {
    // Arrange: not complete again, a half-done backfill's lock beaten long ago, one case unmarked.
    await old.models.MetricRollupMark.deleteMany({ _id: 'complete' });
    await old.models.Case.collection.updateOne(
      { _id: 'up-0' as never },
      { $unset: { rolledUp: '' } },
    );
    await old.models.MetricRollupMark.collection.updateOne(
      { kind: 'backfill' },
      { $set: { heartbeatAt: new Date(Date.now() - BACKFILL_STALE_MS - 60_000) } },
    );

    // Act
    const report = await backfillRollups(old.models, { owner: 'worker-d' });

    // Assert: up-0's figures were in already (its token), so the roll-ups still match the cases.
    expect(report).toEqual({ outcome: 'done', cases: 1 });
    expect(await old.models.MetricRollupMark.exists({ _id: 'backfill#2' })).not.toBeNull();
    await expectRollupsMatchCases(old);
  });
});

describe('roll-ups per subtree (ancestor units) when a grid moves', () => {
  /** A county, two streets, a community under each, a grid under the first community. */
  const TREE = [
    ['m-k', null, 'county'],
    ['m-s1', 'm-k', 'street'],
    ['m-s2', 'm-k', 'street'],
    ['m-c1', 'm-s1', 'community'],
    ['m-c2', 'm-s2', 'community'],
    ['m-g', 'm-c1', 'grid'],
  ] as const;
  let store: Database;
  let writer: ReturnType<typeof createActivities>;

  beforeAll(async () => {
    store = await connectDatabase(testConfig('rollups-move').MONGODB_URI);
    const now = new Date();
    for (const [id, parentId, type] of TREE) {
      await store.models.Unit.create({
        _id: id,
        name: id,
        type,
        parentId,
        updatedAt: now,
      });
    }
    await bumpOrgRevision(store.models);
    writer = createActivities({
      models: store.models,
      mail: {
        transport: createSmtpTransport(testStack().env.SMTP_URL),
        renderer: createMailRenderer(),
        from: 'test <noreply@governance.local>',
      },
      clock: () => new Date(),
      logger: createLogger('test', 'silent'),
    });
    await backfillRollups(store.models, { owner: 'test' });
  });

  afterAll(async () => {
    await store?.close();
  });

  /** A case of the grid is served by the grid and the other street's community (m-c2). */
  const project = async (caseId: string, unitId: string, fate: number) => {
    const served = unitId === 'm-g' ? [{ unitIds: ['m-g', 'm-c2'], personIds: ['p-g'] }] : [];
    for (const progress of revisionsOf(caseId, unitId, 'road', FATES[fate]!, served)) {
      await writer.recordCaseProgress(progress);
    }
  };
  const county = { unitId: 'm-k', period: '2026-03' };
  const childReceived = (view: { children: Array<{ unit: { id: string }; received: number }> }) =>
    Object.fromEntries(view.children.map((c) => [c.unit.id, c.received]));
  const treeMark = async () =>
    (await store.models.MetricRollupMark.collection.findOne({ _id: TREE_MARK as never }))!;

  it('when cases of a grid are folded, then the streets and the county read their own subtree documents, and the figures of a past month follow the grid to its new community (after a fold marks the documents stale and until the rebuild rewrites them)', async () => {
    // Arrange: three cases in the grid under m-s1, one in the community under m-s2.
    await project('mv-1', 'm-g', 0);
    await project('mv-2', 'm-g', 1);
    await project('mv-3', 'm-g', 2);
    await project('mv-4', 'm-c2', 0);
    await expectRollupsMatchCases(store);
    const subtree = await store.models.MetricRollup.findById(
      treeRollupIdOf('placeTree', 'm-s1', '2026-03'),
    ).lean();
    expect(subtree).toMatchObject({ by: 'placeTree', unitId: 'm-s1', parentId: 'm-k' });
    const before = await metricsService(store).unitMetrics(admin, county);
    expect(childReceived(before)).toEqual({ 'm-s1': 3, 'm-s2': 1 });
    expect(before.totals.received).toBe(4);
    const servedBefore = await metricsService(store).unitMetrics(admin, {
      ...county,
      attribution: 'served',
    });
    expect(childReceived(servedBefore)).toEqual({ 'm-s1': 3, 'm-s2': 3 });
    expect(servedBefore.totals.received).toBe(3);

    // Act 1: the grid moves to the community of the other street.
    await store.models.Unit.updateOne({ _id: 'm-g' }, { $set: { parentId: 'm-c2' } });
    await bumpOrgRevision(store.models);
    const moved = await metricsService(store).unitMetrics(admin, county);
    const servedMoved = await metricsService(store).unitMetrics(admin, {
      ...county,
      attribution: 'served',
    });

    // Assert 1: today's path (the subtree documents still say m-s1: the reader's tree disagrees
    // with the mark, so it rolls the grid's own documents up along today's tree).
    expect(childReceived(moved)).toEqual({ 'm-s1': 0, 'm-s2': 4 });
    expect(moved.totals).toEqual(before.totals);
    expect(moved.months).toEqual(before.months);
    // By who served: per serving unit, both now under m-s2; the total counts each case once.
    expect(childReceived(servedMoved)).toEqual({ 'm-s1': 0, 'm-s2': 6 });
    expect(servedMoved.totals).toEqual(servedBefore.totals);
    expect((await treeMark()).stale).toBe(false);

    // Act 2: one more case of the grid, folded: the folder marks the subtree documents stale.
    await project('mv-5', 'm-g', 0);
    await foldRollupChanges(store.models);
    const afterFold = await metricsService(store).unitMetrics(admin, county);
    const ranking = await metricsService(store).ranking(admin, {
      ...county,
      unitType: 'community',
      by: 'received',
    });

    // Assert 2
    expect((await treeMark()).stale).toBe(true);
    expect(childReceived(afterFold)).toEqual({ 'm-s1': 0, 'm-s2': 5 });
    expect(ranking.items.map((i) => [i.unit.id, i.received])).toEqual([
      ['m-c2', 5],
      ['m-c1', 0],
    ]);

    // Act 3: the rebuild rewrites the subtree documents along today's tree.
    await rebuildRollups(store.models);
    const rebuilt = await metricsService(store).unitMetrics(admin, county);
    const servedRebuilt = await metricsService(store).unitMetrics(admin, {
      ...county,
      attribution: 'served',
    });

    // Assert 3: the mark follows today's tree again, and the figures read from the subtree
    // documents are those of today's path.
    const mark = await treeMark();
    expect(mark.stale).toBe(false);
    expect(parentsFromJson(mark.parentsJson).get('m-g')).toBe('m-c2');
    expect(
      await store.models.MetricRollup.exists({
        _id: treeRollupIdOf('placeTree', 'm-s1', '2026-03'),
      }),
    ).toBeNull();
    expect({ ...rebuilt, computedAt: null }).toEqual({ ...afterFold, computedAt: null });
    expect(servedRebuilt.totals.received).toBeGreaterThan(0);
    expect(servedRebuilt.totals).toEqual(
      (await metricsService(store).unitMetrics(admin, { ...county, attribution: 'served' })).totals,
    );
    expect(servedMoved.totals.received).toBeLessThanOrEqual(servedRebuilt.totals.received);
    await expectRollupsMatchCases(store);
  });

  it('when the subtree documents disagree with the per-unit ones, then a read along an agreeing tree shows the subtree documents (it reads them, not the grids)', async () => {
    // Arrange: the street's subtree document for March altered by hand (the rebuild repairs it).
    const id = treeRollupIdOf('placeTree', 'm-s2', '2026-03');
    const doc = (await store.models.MetricRollup.findById(id).lean())!;
    const parts = unpackRollupParts(doc);
    const part = Object.keys(parts)[0]!;
    parts[part]!.received = (parts[part]!.received ?? 0) + 100;
    await store.models.MetricRollup.updateOne(
      { _id: id },
      { $set: { partsJson: packRollupParts(parts) } },
    );

    // …and its period document of the half year, for a read of the half year (2026-H1).
    const halfId = treeHalfRollupIdOf('placeTree', 'm-s2', '2026-H1');
    const halfDoc = (await store.models.MetricRollup.findById(halfId).lean())!;
    expect(halfDoc).toMatchObject({ by: 'placeTreeHalf', half: '2026-H1', parentId: 'm-k' });
    const entries = unpackRollupParts(halfDoc);
    const entry = Object.keys(entries).find((e) => e.startsWith('2026-03|'))!;
    entries[entry]!.received = (entries[entry]!.received ?? 0) + 1000;
    await store.models.MetricRollup.updateOne(
      { _id: halfId },
      { $set: { partsJson: packRollupParts(entries) } },
    );
    const halfYear = { unitId: 'm-k', period: '2026-H1' };

    // Act
    const altered = await metricsService(store).unitMetrics(admin, county);
    const alteredHalf = await metricsService(store).unitMetrics(admin, halfYear);
    // A mark without `halves` (a store upgraded from the version before the period documents):
    // the half year is read from the month documents until the rebuild.
    await store.models.MetricRollupMark.collection.updateOne(
      { _id: TREE_MARK as never },
      { $unset: { halves: '' } },
    );
    const upgradedHalf = await metricsService(store).unitMetrics(admin, halfYear);
    await rebuildRollups(store.models);
    const repaired = await metricsService(store).unitMetrics(admin, county);
    const repairedHalf = await metricsService(store).unitMetrics(admin, halfYear);

    // Assert
    expect(childReceived(altered)['m-s2']).toBe(childReceived(repaired)['m-s2']! + 100);
    expect(childReceived(alteredHalf)['m-s2']).toBe(childReceived(repairedHalf)['m-s2']! + 1000);
    expect(childReceived(repairedHalf)).toEqual(childReceived(repaired));
    expect(childReceived(upgradedHalf)).toEqual(childReceived(altered));
    expect((await treeMark()).halves).toBe(true);
    await expectRollupsMatchCases(store);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import type { CommandStartedEvent, CommandSucceededEvent } from 'mongodb';
import { BSON } from 'mongodb';
import type { ComputedRollup } from '../activities/metric-rollups';
import {
  addCase,
  markComplete,
  markTreeLoaded,
  parentsOf,
  rebuildRollups,
  rolledUpOf,
  storedRollupOf,
} from '../activities/metric-rollups';
import type { TimelineEntry } from '../common/case';
import { measureTimeline, storedMetrics } from '../common/case-measures';
import type { Database } from '../models';
import { connectDatabase } from '../models';
import type { Principal } from '../services/auth';
import { backfillListDays, markListDaysComplete } from '../activities/list-days';
import type { HourCounts } from '../common/list-days';
import { TREE_HALF_KINDS, unpackRollupParts } from '../common/metric-rollup';
import {
  addSealCounts,
  ALL_ROOT,
  boardKeys,
  caseListKeys,
  categoryFacet,
  chinaDayHourOf,
  dayKey,
  filingFacets,
  keyedRoot,
  stateFacets,
  unitRoot,
} from '../common/list-days';
import {
  backfillOpenCases,
  markOpenCasesComplete,
  OPEN_CASES_COMPLETE,
  openEntryOf,
} from '../activities/open-cases';
import { createBoardService } from '../services/board';
import { createCaseService } from '../services/cases';
import { createMetricsService } from '../services/metrics';
import { createScopeResolver } from '../services/scope';
import { createTaskService } from '../services/tasks';
import { createOrgSnapshot } from '../common/org-snapshot';
import { createUnitDirectory } from '../services/unit-directory';
import { stackDirs } from '../stack/paths';
import { randomPorts, startLocalStack } from '../stack/stack';
import { progress } from './run-control';

/**
 * `npm run bench:dashboard [-- --cases 20000,200000] [--runs 15]`: the read side at scale. For each
 * size, loads that many closed cases (projected case documents with their figures and who served
 * them, a closed task each, a third of them on the public board, plus open inbox tasks) straight
 * into a throw-away database on FerretDB of the embedded stack (STACK_STORE picks SQLite or
 * PostgreSQL), builds the metric roll-ups with the rebuild's code (the same code that recomputes
 * them in production), then times what the dashboards and lists call: the metrics and the ranking
 * (the dashboard page asks both at once, by place and by who served), the case list, the inbox and
 * the board. The services are called directly: the figures are the storage's cost, without HTTP
 * or rendering. A benchmark, not a test: it prints p50/p95 in ms (bench/scale.ts reads its table).
 */

const STREETS = 8; // chosen: a county of 8 streets
const COMMUNITIES = 8; // chosen: 8 communities per street
const GRIDS = 4; // chosen: 4 grids per community (256 grids, 329 units)
const PROCESSES = ['resident-request', 'grid-event', 'whistle'];
const CATEGORIES = ['road', 'noise', 'water', 'greening', 'parking', 'other'];
/** A rare category and a rare process (chosen: one case in 500 and one in 700), for the lists' rare filters. */
const RARE_CATEGORY = 'gas-leak';
const RARE_PROCESS = 'hazard-report';
/** Open tasks in the measured worker's inbox (chosen: a busy grid worker). */
const OPEN_TASKS = 200;
const BATCH = 2_000; // chosen: documents per insertMany
const BUDGET_MS = 60_000;
/** Cases spread over the 12 months before this instant (2025-07 … 2026-06, Beijing). */
const DAY_MS = 24 * 60 * 60 * 1000;
const END = Date.parse('2026-06-30T15:00:00Z');
const YEAR_MS = 365 * 86_400_000;

interface Options {
  sizes: number[];
  runs: number;
  /** `all`, `metrics` (the dashboard, metrics and ranking) or `lists` (the lists alone). */
  reads: 'all' | 'metrics' | 'lists';
  /** Also time `rebuildRollups` (one pass over every case). */
  rebuild: boolean;
  /** Load the cases without their day keys and time the backfill (an upgraded store's). */
  backfill: boolean;
  /** Before timing, list every store command of one dashboard read (time, documents). */
  profile: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      cases: { type: 'string', default: '20000,200000' },
      runs: { type: 'string', default: '15' },
      reads: { type: 'string', default: 'all' },
      rebuild: { type: 'boolean', default: false },
      backfill: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench:dashboard -- [--cases 20000,200000] [--runs 15] [--reads all|metrics|lists] [--rebuild] [--backfill] [--profile]\n',
    );
    process.exit(0);
  }
  const sizes = values.cases.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 100)) {
    throw new Error('--cases must be integers >= 100, separated by commas');
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 3) throw new Error('--runs must be an integer >= 3');
  if (values.reads !== 'all' && values.reads !== 'metrics' && values.reads !== 'lists') {
    throw new Error('--reads must be all, metrics or lists');
  }
  return {
    sizes,
    runs,
    reads: values.reads,
    rebuild: values.rebuild,
    backfill: values.backfill,
    profile: values.profile,
  };
}

/** A deterministic pseudo-random sequence (mulberry32), so every run loads the same cases. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Org {
  county: string;
  communities: string[];
  grids: string[];
}

export async function loadOrg(db: Database): Promise<Org> {
  const now = new Date();
  const units: Array<{ _id: string; name: string; type: string; parentId: string | null }> = [
    { _id: 'b-county', name: '县', type: 'county', parentId: null },
  ];
  const communities: string[] = [];
  const grids: string[] = [];
  for (let s = 0; s < STREETS; s += 1) {
    const street = `b-s${s}`;
    units.push({ _id: street, name: `街道${s}`, type: 'street', parentId: 'b-county' });
    for (let c = 0; c < COMMUNITIES; c += 1) {
      const community = `${street}-c${c}`;
      communities.push(community);
      units.push({ _id: community, name: `社区${s}-${c}`, type: 'community', parentId: street });
      for (let g = 0; g < GRIDS; g += 1) {
        const grid = `${community}-g${g}`;
        grids.push(grid);
        units.push({ _id: grid, name: `网格${s}-${c}-${g}`, type: 'grid', parentId: community });
      }
    }
  }
  await db.models.Unit.collection.insertMany(
    units.map((u) => ({ ...u, updatedAt: now })) as never[],
  );
  return { county: 'b-county', communities, grids };
}

const ENGINE = { kind: 'system', id: 'engine' } as const;

/** A bench grid's unit and its ancestors, nearest first: `b-s0-c1-g2` → community, street, county. */
function ancestryOf(grid: string): string[] {
  const community = grid.slice(0, grid.lastIndexOf('-g'));
  const street = community.slice(0, community.lastIndexOf('-c'));
  return [grid, community, street, 'b-county'];
}

/** Day markers as the projection counts them (activities/list-days.ts), from the cases' keys. */
function countMarkers(into: Map<string, number>, kind: 'list' | 'board', keys: unknown): void {
  if (!Array.isArray(keys)) return;
  for (const key of keys as string[]) {
    if (key.includes('T')) continue; // hour keys: the markers are per day
    into.set(`${kind}|${key}`, (into.get(`${kind}|${key}`) ?? 0) + 1);
  }
}

/** One closed case as the projection leaves it, with its task and its roll-up mark. */
function caseOf(i: number, org: Org, next: () => number) {
  const createdAt = END - Math.floor(next() * YEAR_MS);
  const unitId = org.grids[Math.floor(next() * org.grids.length)]!;
  const definitionKey = i % 700 === 13 ? RARE_PROCESS : PROCESSES[i % PROCESSES.length]!;
  const drawn = CATEGORIES[Math.floor(next() * CATEGORIES.length)]!;
  const category = i % 500 === 11 ? RARE_CATEGORY : drawn;
  const at = (min: number) => new Date(createdAt + min * 60_000);
  const late = next() < 0.15;
  const refused = next() < 0.05;
  const score = next() < 0.7 ? 1 + Math.floor(next() * 5) : null;
  const claimMin = late ? 300 + Math.floor(next() * 300) : 5 + Math.floor(next() * 60);
  const closeMin = claimMin + 60 + Math.floor(next() * 3000);
  const events: Array<Omit<TimelineEntry, 'seq'>> = [
    { type: 'case.started', at: at(0).toISOString(), actor: ENGINE },
    { type: 'step.entered', at: at(0).toISOString(), actor: ENGINE, stepId: 'serve' },
    { type: 'task.opened', at: at(0).toISOString(), actor: ENGINE, stepId: 'serve' },
  ];
  if (late) {
    events.push({ type: 'deadline.missed', at: at(240).toISOString(), actor: ENGINE });
    events.push({ type: 'deadline.escalated', at: at(241).toISOString(), actor: ENGINE });
  }
  const worker = { kind: 'user', id: `usr_w${i % 500}` } as const;
  events.push({ type: 'task.claimed', at: at(claimMin).toISOString(), actor: worker });
  events.push({ type: 'task.completed', at: at(closeMin).toISOString(), actor: worker });
  if (score !== null) {
    events.push({
      type: 'feedback.rated',
      at: at(closeMin + 30).toISOString(),
      actor: ENGINE,
      detail: { score },
    });
  } else {
    events.push({ type: 'feedback.missing', at: at(closeMin + 4320).toISOString(), actor: ENGINE });
  }
  // One case in 400 still open (chosen; a rare filter's matches: 50 at 20,000 cases).
  const open = i % 400 === 7;
  const status = open ? 'open' : refused ? 'rejected' : 'closed';
  const closedAt = at(closeMin + 4321);
  events.push({
    type: 'case.closed',
    at: closedAt.toISOString(),
    actor: ENGINE,
    detail: { status },
  });
  const timeline = events.map((e, n) => ({ ...e, seq: n + 1 }));
  const metrics = storedMetrics(measureTimeline(timeline));
  const id = `bench-${String(i).padStart(7, '0')}`;
  const doc = {
    _id: id,
    revision: 8,
    status,
    definitionKey,
    definitionVersion: 1,
    definitionName: definitionKey,
    currentStep: null,
    data: { category, description: '路灯不亮，晚上出行不便，请尽快维修。', address: '幸福小区3栋' },
    createdBy: { kind: 'user', id: `usr_r${i % 5000}` },
    unitId,
    category,
    channel: 'api',
    requestHash: id,
    createdAt: at(0),
    updatedAt: closedAt,
    closedAt: open ? null : closedAt,
    timeline: timeline.map((e) => ({ ...e, at: new Date(e.at) })),
    deadlines: [],
    rating: score === null ? { score: null } : { score, comment: null, at: at(closeMin + 30) },
    publication:
      i % 3 === 0
        ? {
            publishedAt: at(closeMin + 1).toISOString(),
            title: '办理结果公示',
            outcome: '已办结',
            fields: [{ label: '类别', value: category }],
          }
        : null,
    metrics,
    // Served by the grid's worker; one case in ten also by the next grid (a co-served case).
    servedBy: {
      unitIds:
        i % 10 === 0
          ? [unitId, org.grids[(org.grids.indexOf(unitId) + 1) % org.grids.length]!]
          : [unitId],
      personIds: [worker.id],
    },
    rolledUp: null as unknown,
    // The day keys the projection writes (activities/list-days.ts): the grid's ancestry is in its id.
    listDays: caseListKeys(at(0), ancestryOf(unitId), `usr_r${i % 5000}`, [
      ...filingFacets(definitionKey, category),
      ...stateFacets(status, metrics.overdue === 1),
    ]),
    boardDays:
      i % 3 === 0 ? boardKeys(at(closeMin + 1), ancestryOf(unitId)) : (undefined as unknown),
  };
  doc.rolledUp = rolledUpOf(doc);
  const task = {
    _id: `${id}:serve:1`,
    version: 4,
    caseId: id,
    definitionKey,
    caseUnitId: unitId,
    stepId: 'serve',
    name: '办理',
    kind: 'task',
    status: 'completed',
    candidates: [{ userId: worker.id }],
    candidateUserIds: [worker.id],
    assignee: { userId: worker.id },
    assigneeUserId: worker.id,
    claimants: [],
    claimantUserIds: [],
    maxClaimants: 1,
    outcomes: [{ id: 'done', name: '已办结' }],
    outcome: 'done',
    deadlines: [],
    dueAt: null,
    openedAt: at(0),
    closedAt: at(closeMin),
  };
  return { doc, task };
}

export async function loadCases(
  db: Database,
  org: Org,
  count: number,
  withKeys: boolean,
): Promise<number> {
  const rollups = new Map<string, ComputedRollup>();
  // The subtree documents too, along the tree just loaded (as the folder writes them).
  const parents = parentsOf(await createOrgSnapshot({ models: db.models }).get());
  const markers = new Map<string, number>();
  const seals = new Map<string, { count: number; hours: HourCounts }>();
  const openEntries: Array<Record<string, unknown>> = [];
  const next = random(count);
  const rawCases = db.models.Case.collection;
  const rawTasks = db.models.Task.collection;
  const started = Date.now();
  for (let from = 0; from < count; from += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - from) }, (_, k) =>
      caseOf(from + k, org, next),
    );
    for (const b of batch) {
      addCase(rollups, b.doc, parents);
      if (withKeys) {
        countMarkers(markers, 'list', b.doc.listDays);
        countMarkers(markers, 'board', b.doc.boardDays);
        addSealCounts(seals, 'list', b.doc.listDays);
        addSealCounts(seals, 'board', b.doc.boardDays as string[] | undefined);
        // The open cases' index as the projection keeps it (activities/open-cases.ts).
        if (b.doc.status === 'open') {
          openEntries.push({ _id: b.doc._id, ...openEntryOf(b.doc) });
        }
      } else {
        delete (b.doc as Partial<typeof b.doc>).listDays;
        delete (b.doc as Partial<typeof b.doc>).boardDays;
      }
    }
    await rawCases.insertMany(batch.map((b) => b.doc) as never[], { ordered: false });
    await rawTasks.insertMany(batch.map((b) => b.task) as never[], { ordered: false });
    const done = from + batch.length;
    if (done % 20_000 === 0 || done === count) {
      const rate = Math.round(done / ((Date.now() - started) / 1000));
      progress.info(`${done}/${count} cases and tasks loaded (${rate}/s)`);
    }
  }
  // The measured worker's inbox: open tasks of their grid, some assigned, some to claim.
  const grid = org.grids[0]!;
  const open = Array.from({ length: OPEN_TASKS }, (_, k) => ({
    _id: `open-${k}:serve:1`,
    version: 1,
    caseId: `open-${k}`,
    definitionKey: PROCESSES[0],
    caseUnitId: grid,
    stepId: 'serve',
    name: '办理',
    kind: 'task',
    status: k % 2 === 0 ? 'claimed' : 'open',
    candidates: [{ userId: 'usr_inbox' }],
    candidateUserIds: ['usr_inbox'],
    assignee: k % 2 === 0 ? { userId: 'usr_inbox' } : null,
    assigneeUserId: k % 2 === 0 ? 'usr_inbox' : null,
    claimants: [],
    claimantUserIds: [],
    maxClaimants: 1,
    outcomes: [],
    outcome: null,
    deadlines: [],
    dueAt: null,
    openedAt: new Date(END - k * 60_000),
    closedAt: null,
  }));
  await rawTasks.insertMany(open as never[]);
  // The roll-ups the projection would have built, summed by the rebuild's code; inserted in bulk
  // (the database is new; upserts one by one cost an `_id` scan each on SQLite).
  const docs = [...rollups].map(([_id, rollup]) => ({ _id, ...storedRollupOf(rollup) }));
  for (let at = 0; at < docs.length; at += BATCH) {
    await db.models.MetricRollup.collection.insertMany(docs.slice(at, at + BATCH) as never[]);
  }
  await markTreeLoaded(db.models, parents);
  await markComplete(db.models);
  if (withKeys) {
    // Markers stamped as the projection leaves them, each day of `*` and the units sealed as the
    // worker's seal pass leaves it (activities/list-days.ts).
    const docs = [...markers].map(([id, n]) => {
      const bar = id.lastIndexOf('|');
      return { _id: id, key: id.slice(0, bar), day: id.slice(bar + 1), count: n, stamp: `s${n}` };
    });
    for (let at = 0; at < docs.length; at += BATCH) {
      await db.models.ListDay.collection.insertMany(docs.slice(at, at + BATCH) as never[]);
    }
    const sealDocs = docs.flatMap((marker) => {
      const seal = seals.get(marker._id);
      return seal ? [{ ...marker, count: seal.count, hoursJson: JSON.stringify(seal.hours) }] : [];
    });
    for (let at = 0; at < sealDocs.length; at += BATCH) {
      await db.models.ListDaySeal.collection.insertMany(sealDocs.slice(at, at + BATCH) as never[]);
    }
    if (openEntries.length > 0) {
      await db.models.OpenCase.collection.insertMany(openEntries);
    }
    // The open index's mark is set by measure(), after the day walk's figure for `status=open`.
    await markListDaysComplete(db.models);
  } else {
    // The list and board day keys as an upgraded store gets them (the worker's one backfill).
    const keysStarted = Date.now();
    const keys = await backfillListDays(db.models);
    // The open index too, its mark left to measure() (as with the keys loaded directly).
    await backfillOpenCases(db.models);
    await db.models.OpenCase.deleteOne({ _id: OPEN_CASES_COMPLETE });
    progress.info(
      `day keys backfilled: ${keys.written} cases, ${keys.markers} markers in ${((Date.now() - keysStarted) / 1000).toFixed(1)} s`,
    );
  }
  return rollups.size;
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

async function time(label: string, runs: number, call: () => Promise<unknown>) {
  await call(); // warm-up: caches (the unit tree, the scope) filled as in a running server
  const begun = Date.now();
  const ms: number[] = [];
  // At most BUDGET_MS per read (chosen), at least 3 runs: a full scan at 200,000 cases is slow.
  for (let r = 0; r < runs && (r < 3 || Date.now() - begun < BUDGET_MS); r += 1) {
    const started = process.hrtime.bigint();
    await call();
    ms.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const figures = { p50: percentile(ms, 50), p95: percentile(ms, 95) };
  // The figures at once too: a long run that dies later keeps what it measured.
  progress.info(
    `  ${label}: ${ms.length} runs in ${((Date.now() - begun) / 1000).toFixed(1)} s, p50 ${figures.p50.toFixed(0)} / p95 ${figures.p95.toFixed(0)} ms`,
  );
  return figures;
}

/**
 * Every store command one call sends (driver command monitoring: the connection string's
 * `monitorCommands=true`), on stderr in the order they started: start and duration in ms, the
 * command, its collection and filter, the documents answered and their size (BSON bytes, as the
 * driver decoded them). What a slow read spends its time on.
 */
async function profileCall(db: Database, label: string, call: () => Promise<unknown>) {
  const client = db.connection.getClient();
  const begun = new Map<number, { at: number; text: string }>();
  const lines: Array<{ at: number; ms: number; text: string; docs: number; bytes: number }> = [];
  const origin = performance.now();
  const onStarted = (event: CommandStartedEvent) => {
    const command = event.command as Record<string, unknown>;
    const target = command[event.commandName];
    const filter = command.filter ?? command.pipeline ?? command.query ?? '';
    begun.set(event.requestId, {
      at: performance.now() - origin,
      text: `${event.commandName} ${typeof target === 'string' ? target : ''} ${JSON.stringify(filter).slice(0, 160)}`,
    });
  };
  const onSucceeded = (event: CommandSucceededEvent) => {
    const start = begun.get(event.requestId);
    if (!start) return;
    const cursor = (event.reply as { cursor?: { firstBatch?: unknown[]; nextBatch?: unknown[] } })
      .cursor;
    const answered = cursor?.firstBatch ?? cursor?.nextBatch ?? [];
    const bytes = answered.reduce<number>(
      (n, doc) => n + BSON.calculateObjectSize(doc as BSON.Document),
      0,
    );
    lines.push({
      at: start.at,
      ms: event.duration,
      text: start.text,
      docs: answered.length,
      bytes,
    });
  };
  client.on('commandStarted', onStarted);
  client.on('commandSucceeded', onSucceeded);
  const started = performance.now();
  try {
    await call();
  } finally {
    client.off('commandStarted', onStarted);
    client.off('commandSucceeded', onSucceeded);
  }
  const total = performance.now() - started;
  lines.sort((a, b) => a.at - b.at);
  const docs = lines.reduce((n, l) => n + l.docs, 0);
  const bytes = lines.reduce((n, l) => n + l.bytes, 0);
  progress.info(
    `profile of ${label}: ${total.toFixed(0)} ms, ${lines.length} commands, ${docs} documents, ${bytes} bytes\n` +
      lines
        .map(
          (l) =>
            `  +${l.at.toFixed(0).padStart(4)} ${l.ms.toFixed(0).padStart(4)} ms ${String(l.docs).padStart(4)} docs ${String(l.bytes).padStart(8)} B  ${l.text}`,
        )
        .join('\n'),
  );
}

async function measure(
  db: Database,
  org: Org,
  runs: number,
  reads: Options['reads'],
  size: number,
  profile = false,
) {
  const clock = () => new Date(END);
  const models = db.models;
  const scope = createScopeResolver(models);
  const units = createUnitDirectory({ models, clock });
  // The list calls use neither Temporal nor the definitions.
  const none = {} as never;
  const metrics = createMetricsService({ models, scope, clock, units });
  // The same reads without the period documents (one per unit and half year): the month
  // documents, as before them, timed on the same store in the same minutes.
  const monthly = createMetricsService({ models, scope, clock, units, periodDocuments: false });
  const cases = createCaseService({
    models,
    temporal: none as Client,
    callTimeoutMs: 1000,
    taskQueue: 'bench',
    definitions: none,
    scope,
    clock,
  });
  const tasks = createTaskService({
    models,
    temporal: none as Client,
    callTimeoutMs: 1000,
    scope,
    definitions: none,
  });
  const board = createBoardService({ models, clock, units });
  const admin: Principal = { kind: 'user', id: 'usr_admin', roles: ['admin'], unitIds: [] };
  const community = org.communities[0]!;
  const dispatcher: Principal = {
    kind: 'user',
    id: 'usr_dispatch',
    roles: ['dispatcher'],
    unitIds: [community],
  };
  const worker: Principal = {
    kind: 'user',
    id: 'usr_inbox',
    roles: ['staff'],
    unitIds: [org.grids[0]!],
  };
  const period = { unitId: org.county, period: '2026-H1' };
  const page = { page: 1, pageSize: 20 };
  const all: Array<[string, boolean, () => Promise<unknown>]> = [
    [
      'dashboard (metrics + ranking)',
      true,
      () =>
        Promise.all([
          metrics.unitMetrics(admin, period),
          metrics.ranking(admin, { ...period, unitType: 'community' }),
        ]),
    ],
    [
      'dashboard, month documents only',
      true,
      () =>
        Promise.all([
          monthly.unitMetrics(admin, period),
          monthly.ranking(admin, { ...period, unitType: 'community' }),
        ]),
    ],
    ['metrics (county, half year)', true, () => metrics.unitMetrics(admin, period)],
    [
      'metrics (community, days)',
      true,
      () =>
        metrics.unitMetrics(dispatcher, {
          unitId: community,
          from: '2026-01-01',
          to: '2026-06-30',
        }),
    ],
    [
      'ranking (communities)',
      true,
      () => metrics.ranking(admin, { ...period, unitType: 'community' }),
    ],
    [
      'ranking (communities), month documents only',
      true,
      () => monthly.ranking(admin, { ...period, unitType: 'community' }),
    ],
    [
      'ranking (communities, served)',
      true,
      () => metrics.ranking(admin, { ...period, unitType: 'community', attribution: 'served' }),
    ],
    [
      // The served total counts a case once: read from the cases (docs/metrics-at-scale.md).
      'metrics (county, served)',
      true,
      () => metrics.unitMetrics(admin, { ...period, attribution: 'served' }),
    ],
    // The first row of each list is named as bench/scale.ts reads it.
    ['case list', false, () => cases.listCases(admin, page)],
    ['case list (community)', false, () => cases.listCases(dispatcher, page)],
    ['inbox', false, () => tasks.listTasks(worker, { ...page, view: 'mine' })],
    ['inbox (available)', false, () => tasks.listTasks(worker, { ...page, view: 'available' })],
    ['board', false, () => board.list({ ...page, unitId: org.county })],
    // Deeper: page 10 by `page` walks the days before it; the community's board.
    ['case list (page 10)', false, () => cases.listCases(admin, { ...page, page: 10 })],
    ['board (community)', false, () => board.list({ ...page, unitId: community })],
    // Issue 14's last two list gaps: a deep page skipping by sealed counts, a rare filter.
    [
      'case list (community, page 10)',
      false,
      () => cases.listCases(dispatcher, { ...page, page: 10, unitId: community, subtree: true }),
    ],
    ['board (page 10)', false, () => board.list({ ...page, page: 10, unitId: org.county })],
    ['case list (open)', false, () => cases.listCases(admin, { ...page, status: 'open' })],
    [
      'case list (community, open)',
      false,
      () => cases.listCases(dispatcher, { ...page, status: 'open' }),
    ],
    // The other rare filters (docs/metrics-at-scale.md, "Rare filters"): a rare category and a
    // rare process (one case in 500 and in 700), the rejected (one in 20) and overdue cases.
    [
      'case list (rare category)',
      false,
      () => cases.listCases(admin, { ...page, category: RARE_CATEGORY }),
    ],
    [
      'case list (rare process)',
      false,
      () => cases.listCases(admin, { ...page, definitionKeys: [RARE_PROCESS] }),
    ],
    [
      'case list (community, rare category)',
      false,
      () => cases.listCases(dispatcher, { ...page, category: RARE_CATEGORY }),
    ],
    ['case list (rejected)', false, () => cases.listCases(admin, { ...page, status: 'rejected' })],
    [
      'case list (community, rejected)',
      false,
      () => cases.listCases(dispatcher, { ...page, status: 'rejected' }),
    ],
    ['case list (overdue)', false, () => cases.listCases(admin, { ...page, overdue: true })],
    [
      'case list (open, page 2)',
      false,
      () => cases.listCases(admin, { ...page, status: 'open', page: 2 }),
    ],
  ];
  const figures: Record<string, { p50: number; p95: number }> = {};
  if (profile) {
    for (const [name, isMetric, call] of all) {
      if (!isMetric) continue;
      await call(); // warm-up, as time() does
      await profileCall(db, name, call);
    }
  }
  if (reads !== 'metrics') {
    // The same reads the old way, for the before/after of docs/metrics-at-scale.md: a `from`
    // instant (not a whole day) keeps the walk from skipping by the sealed counts; before the
    // open index's mark, `status=open` walks the days. At 200,000 the walk for open cases reads
    // every hour of a year (minutes a read): timed up to 20,000 only.
    const everything = { from: new Date(END - YEAR_MS - DAY_MS).toISOString() };
    figures['case list (page 10), no seals'] = await time('page 10, no seals', runs, () =>
      cases.listCases(admin, { ...page, ...everything, page: 10 }),
    );
    figures['case list (community, page 10), no seals'] = await time(
      'community page 10, no seals',
      runs,
      () =>
        cases.listCases(dispatcher, {
          ...page,
          ...everything,
          page: 10,
          unitId: community,
          subtree: true,
        }),
    );
    if (size <= 20_000) {
      figures['case list (open), day walk'] = await time('open, day walk', runs, () =>
        cases.listCases(admin, { ...page, status: 'open' }),
      );
    }
  }
  await markOpenCasesComplete(models);
  for (const [name, isMetric, call] of all) {
    if (reads === 'all' || (reads === 'metrics') === isMetric) {
      figures[name] = await time(name, runs, call);
    }
  }
  if (reads !== 'lists') {
    // The before of the columnar entries (docs/metrics-at-scale.md, "Columnar entries"), on the
    // same store in the next minutes: the period documents (what the dashboard reads) with their
    // entries as objects, as the version before wrote them (still read: an upgraded store).
    const written = await writeEntriesAsObjects(db);
    progress.info(`${written} period documents rewritten with their entries as objects`);
    const callOf = (name: string) => all.find(([n]) => n === name)![2];
    const before: Array<[string, () => Promise<unknown>]> = [
      ['dashboard, entries as objects', callOf('dashboard (metrics + ranking)')],
      ['ranking (communities), entries as objects', callOf('ranking (communities)')],
    ];
    for (const [name, call] of before) {
      if (profile) {
        await call();
        await profileCall(db, name, call);
      }
      figures[name] = await time(name, runs, call);
    }
  }
  return figures;
}

/**
 * Rewrites every period document's `partsJson` as entries of objects (`{"part": {"received": 3,
 * …}}`, the shape before the columns): the same figures, the old bytes. Returns how many.
 */
async function writeEntriesAsObjects(db: Database): Promise<number> {
  const rollups = db.models.MetricRollup.collection;
  const docs = await rollups
    .find({ by: { $in: [...TREE_HALF_KINDS] } }, { projection: { partsJson: 1 } })
    .toArray();
  // Few documents per command (chosen): one unordered bulk of all of them (about 2,000 at
  // 20,000 cases) got no answer from FerretDB 1.24 (its update counter did not move) and the run
  // hung, twice.
  const perCommand = 50;
  for (let i = 0; i < docs.length; i += perCommand) {
    await rollups.bulkWrite(
      docs.slice(i, i + perCommand).map((doc) => ({
        updateOne: {
          filter: { _id: doc._id },
          update: { $set: { partsJson: JSON.stringify(unpackRollupParts(doc)) } },
        },
      })),
    );
  }
  return docs.length;
}

/**
 * What the storage says of the hot queries (`explain`): on FerretDB v1 with SQLite, whether the
 * filter and the sort were pushed down; on MongoDB, the winning plan. One line each, on stderr.
 */
async function explainHotQueries(db: Database, org: Org): Promise<void> {
  const tasks = db.models.Task.collection;
  const cases = db.models.Case.collection;
  const rollups = db.models.MetricRollup.collection;
  const community = org.communities[0]!;
  const below = org.grids.filter((g) => g.startsWith(community));
  const byOpened = { openedAt: -1, _id: 1 } as const;
  const byCreated = { createdAt: -1, _id: 1 } as const;
  const queries: Array<[string, () => Promise<unknown>]> = [
    [
      'inbox mine',
      () =>
        tasks
          // services/tasks.ts reads the held tasks and the joined pools as two such queries
          .find({ assigneeUserId: 'usr_inbox', status: { $in: ['open', 'claimed'] } })
          .sort(byOpened)
          .limit(20)
          .explain(),
    ],
    [
      'inbox available',
      () =>
        tasks
          .find({ candidateUserIds: 'usr_inbox', status: 'open' })
          .sort(byOpened)
          .limit(20)
          .explain(),
    ],
    [
      'inbox scope',
      () =>
        tasks
          .find({ caseUnitId: { $in: below } })
          .sort(byOpened)
          .limit(20)
          .explain(),
    ],
    ['case list (all)', () => cases.find({}).sort(byCreated).limit(20).explain()],
    [
      'case list (community)',
      () =>
        cases
          .find({ $or: [{ unitId: { $in: below } }, { 'createdBy.id': 'usr_dispatch' }] })
          .sort(byCreated)
          .limit(20)
          .explain(),
    ],
    [
      'board',
      () =>
        cases
          .find({ publication: { $ne: null }, unitId: { $in: below } })
          .sort({ 'publication.publishedAt': -1, _id: 1 })
          .limit(20)
          .explain(),
    ],
    [
      'open cases of a community',
      () =>
        db.models.OpenCase.collection
          .find({ roots: unitRoot(community), status: 'open' })
          .explain(),
    ],
    [
      'seals of a root',
      () => db.models.ListDaySeal.collection.find({ key: `list|${unitRoot(community)}` }).explain(),
    ],
    [
      'roll-ups of a half year (before: one query)',
      () =>
        rollups
          .find({ by: 'place', month: { $in: ['2026-01', '2026-02'] }, unitId: { $in: below } })
          .explain(),
    ],
    // services/metrics.ts rollupFilters: a large subtree per month, a small one per unit and month.
    [
      'roll-ups of a month (county)',
      () => rollups.find({ by: 'place', month: '2026-01', unitId: { $in: org.grids } }).explain(),
    ],
    [
      'roll-ups of a unit and month',
      () => rollups.find({ by: 'place', month: '2026-01', unitId: below[0]! }).explain(),
    ],
    [
      'subtree documents of a parent and month',
      () => rollups.find({ by: 'placeTree', month: '2026-01', parentId: org.county }).explain(),
    ],
    [
      'subtree documents of a depth and month',
      () => rollups.find({ by: 'placeTree', month: '2026-01', depth: '2' }).explain(),
    ],
    [
      'served sets of a unit and month',
      () => rollups.find({ by: 'servedSet', month: '2026-01', unitIds: below[0]! }).explain(),
    ],
    [
      'unfolded changes of a month',
      () =>
        db.models.MetricRollupChange.collection
          .find({ by: 'place', month: '2026-01', unitId: { $in: org.grids } })
          .explain(),
    ],
    ['case by _id', () => cases.find({ _id: 'bench-0000001' as never }).explain()],
    // The day walks (services/day-walk.ts): one equality on a day key, the rest done in FerretDB.
    [
      'case list day (community)',
      () =>
        cases
          .find({
            listDays: dayKey(unitRoot(community), chinaDayHourOf(new Date(END - DAY_MS)).day),
            $or: [{ unitId: { $in: below } }, { 'createdBy.id': 'usr_dispatch' }],
          })
          .explain(),
    ],
    [
      // A rare filter's walk (common/list-days.ts keyed roots): the same equality on a keyed day key.
      'case list day (rare category)',
      () =>
        cases
          .find({
            listDays: dayKey(
              keyedRoot(ALL_ROOT, categoryFacet(RARE_CATEGORY)),
              chinaDayHourOf(new Date(END - DAY_MS)).day,
            ),
            category: RARE_CATEGORY,
          })
          .explain(),
    ],
    [
      'board day (county)',
      () =>
        cases
          .find({
            boardDays: dayKey(unitRoot(org.county), chinaDayHourOf(new Date(END - DAY_MS)).day),
            publication: { $ne: null },
          })
          .explain(),
    ],
  ];
  for (const [name, explain] of queries) {
    const result = (await explain()) as Record<string, unknown>;
    const planner = result.queryPlanner as Record<string, unknown> | undefined;
    // FerretDB answers filterPushdown/sortPushdown/limitPushdown flags; MongoDB a winning plan.
    const flags = Object.fromEntries(
      Object.entries(result).filter(([key, value]) => /Pushdown$/.test(key) && value !== undefined),
    );
    // PostgreSQL's plan (FerretDB on PostgreSQL) as its node types, with the index each uses.
    const pgPlan = planner?.Plan as PlanNode | undefined;
    const summary = {
      ...flags,
      plan: pgPlan
        ? planNodes(pgPlan).join(' > ')
        : JSON.stringify(planner?.winningPlan ?? planner ?? {}).slice(0, 160),
    };
    progress.info(`  explain ${name}: ${JSON.stringify(summary)}`);
  }
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** A PostgreSQL plan's nodes, depth first: `Bitmap Heap Scan`, `Bitmap Index Scan (index)`… */
function planNodes(node: PlanNode): string[] {
  const self = node['Index Name']
    ? `${node['Node Type']} (${node['Index Name']})`
    : node['Node Type'];
  return [self, ...(node.Plans ?? []).flatMap(planNodes)];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'bench-dashboard-'));
  let stopping: Promise<void> | undefined;
  const stack = await startLocalStack({
    dirs: stackDirs({ dataDir: path.join(tempDir, 'stack') }),
    ports: await randomPorts(),
    progress,
    // STACK_STORE=sqlite|postgresql picks FerretDB's store, as for the stack (default: the stack's).
    env: process.env.STACK_STORE ? { STACK_STORE: process.env.STACK_STORE } : {},
    only: ['mongodb'],
  });
  progress.info(`FerretDB store: ${stack.store ?? 'none (MONGODB_URI)'}`);
  const stop = () =>
    (stopping ??= stack.stop().then(() => rm(tempDir, { recursive: true, force: true })));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stop().finally(() => process.exit(130)));
  }
  const results: Array<
    { size: number; load: number; rebuild: number | null; rollups: number } & {
      figures: Record<string, { p50: number; p95: number }>;
    }
  > = [];
  try {
    for (const size of options.sizes) {
      const uri = stack.env.MONGODB_URI!.replace(
        /\/[^/]*$/,
        `/dash_${size}${options.profile ? '?monitorCommands=true' : ''}`,
      );
      const db = await connectDatabase(uri);
      try {
        const org = await loadOrg(db);
        const loadStarted = Date.now();
        const rollups = await progress.step(`Loading ${size} closed cases`, () =>
          loadCases(db, org, size, !options.backfill),
        );
        const load = (Date.now() - loadStarted) / 1000;
        let rebuild: number | null = null;
        if (options.rebuild) {
          const rebuildStarted = Date.now();
          const report = await progress.step('Rebuilding the roll-ups from the cases', () =>
            rebuildRollups(db.models),
          );
          rebuild = (Date.now() - rebuildStarted) / 1000;
          if (report.casesMarked !== 0 || report.rollups !== rollups) {
            throw new Error(`the rebuild disagrees with the loaded roll-ups`);
          }
        }
        await explainHotQueries(db, org);
        const figures = await progress.step(`Timing the reads at ${size} cases`, () =>
          measure(db, org, options.runs, options.reads, size, options.profile),
        );
        results.push({ size, load, rebuild, rollups, figures });
        // Each size's table on stderr as it comes; the table of every size once on stdout at
        // the end (bench/scale.ts reads its rows).
        progress.info(table(results));
      } finally {
        await db.connection.dropDatabase().catch(() => undefined);
        await db.close();
      }
    }
  } finally {
    await stop();
  }
  if (results.length > 0) process.stdout.write(table(results));
}

function table(
  results: ReadonlyArray<{
    size: number;
    load: number;
    rebuild: number | null;
    rollups: number;
    figures: Record<string, { p50: number; p95: number }>;
  }>,
): string {
  const names = Object.keys(results[0]!.figures);
  const lines = [
    '',
    `| read (ms) | ${results.map((r) => `p50 @${r.size} | p95 @${r.size}`).join(' | ')} |`,
    `| --- | ${results.map(() => '---: | ---:').join(' | ')} |`,
    ...names.map(
      (name) =>
        `| ${name} | ${results
          .map((r) => `${r.figures[name]!.p50.toFixed(0)} | ${r.figures[name]!.p95.toFixed(0)}`)
          .join(' | ')} |`,
    ),
    '',
    ...results.map(
      (r) =>
        `${r.size} cases: loaded in ${r.load.toFixed(0)} s, ${r.rollups} roll-up documents` +
        (r.rebuild === null ? '' : `; rebuilt from the cases in ${r.rebuild.toFixed(1)} s`),
    ),
    '',
  ];
  return lines.join('\n');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

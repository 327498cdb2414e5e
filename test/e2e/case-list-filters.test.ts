import { backfillListDays, createListKeys } from '../../activities/list-days';
import { backfillOpenCases } from '../../activities/open-cases';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/**
 * The case list's filters over the API: unit (with subtree, within the reader's scope), several
 * processes, createdAt range in Beijing days or instants, overdue and escalated, and a 400 naming
 * the parameter for each bad value. The cases are read-model documents with known fields (what
 * the projection writes), so each filter's answer is known exactly.
 */

interface ErrorBody {
  error: { code: string; details: Array<{ path: string; message: string }> };
}
interface Listed {
  items: Array<{ id: string }>;
  total: number;
}

let app: TestApp;
let streetDispatcher: string;
let communityStaff: string;

const roster = {
  units: [
    { id: 'lf-county', name: '测试县', type: 'county', parentId: null },
    { id: 'lf-street', name: '甲街道', type: 'street', parentId: 'lf-county' },
    { id: 'lf-c1', name: '一社区', type: 'community', parentId: 'lf-street' },
    { id: 'lf-c2', name: '二社区', type: 'community', parentId: 'lf-street' },
    { id: 'lf-g1', name: '一网格', type: 'grid', parentId: 'lf-c1' },
    { id: 'lf-other', name: '乙街道', type: 'street', parentId: 'lf-county' },
  ],
};

/** Beijing 2026-05-01 00:00 is 2026-04-30T16:00Z. */
const cases: Array<{
  id: string;
  unitId: string;
  definitionKey: string;
  createdAt: string;
  overdue?: number;
  escalated?: number;
  noMetrics?: true;
}> = [
  { id: 'lf-1', unitId: 'lf-c1', definitionKey: 'lf-alpha', createdAt: '2026-04-30T15:59:00Z' },
  {
    id: 'lf-2',
    unitId: 'lf-g1',
    definitionKey: 'lf-alpha',
    createdAt: '2026-04-30T16:00:00Z',
    overdue: 1,
    escalated: 1,
  },
  {
    id: 'lf-3',
    unitId: 'lf-c2',
    definitionKey: 'lf-beta',
    createdAt: '2026-05-10T03:00:00Z',
    overdue: 1,
  },
  { id: 'lf-4', unitId: 'lf-street', definitionKey: 'lf-gamma', createdAt: '2026-05-31T15:59:00Z' },
  {
    id: 'lf-5',
    unitId: 'lf-other',
    definitionKey: 'lf-alpha',
    createdAt: '2026-05-20T00:00:00Z',
    escalated: 1,
  },
  {
    id: 'lf-6',
    unitId: 'lf-c1',
    definitionKey: 'lf-beta',
    createdAt: '2026-05-31T16:00:00Z',
    noMetrics: true,
  },
];

beforeAll(async () => {
  app = await startTestApp('case-list-filters', { worker: false });
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: roster,
  });
  expect(imported.status).toBe(200);
  for (const c of cases) {
    const at = new Date(c.createdAt);
    await app.db.models.Case.create({
      _id: c.id,
      revision: 1,
      status: 'open',
      definitionKey: c.definitionKey,
      definitionVersion: 1,
      definitionName: c.definitionKey,
      data: {},
      createdBy: { kind: 'user', id: 'lf-nobody' },
      unitId: c.unitId,
      channel: 'api',
      requestHash: 'x',
      createdAt: at,
      updatedAt: at,
      metrics: c.noMetrics ? null : { overdue: c.overdue ?? 0, escalated: c.escalated ?? 0 },
    });
  }
  streetDispatcher = await app.signIn('lf-street-dispatcher', ['dispatcher'], ['lf-street']);
  communityStaff = await app.signIn('lf-c1-staff', ['staff'], ['lf-c1']);
});

afterAll(async () => {
  await app?.stop();
});

const ALL = 'definitionKey=lf-alpha,lf-beta,lf-gamma';

async function ids(query: string, token = app.adminKey): Promise<string[]> {
  const res = await app.http<Listed>('GET', `/api/v1/cases?pageSize=100&${query}`, { token });
  expect(res.status).toBe(200);
  expect(res.body.total).toBe(res.body.items.length);
  return res.body.items.map((c) => c.id).sort();
}

async function problem(query: string): Promise<ErrorBody['error']> {
  const res = await app.http<ErrorBody>('GET', `/api/v1/cases?${query}`, { token: app.adminKey });
  expect(res.status).toBe(400);
  return res.body.error;
}

/**
 * The same answers read two ways: scanning (a store whose cases lack their day keys: the list's
 * old query) and day by day (services/day-walk.ts, after the keys are backfilled).
 */
function readChecks(): void {
  it('when the list is filtered by a unit, then alone it is that unit and with subtree=true every unit below it too', async () => {
    expect(await ids('unitId=lf-c1')).toEqual(['lf-1', 'lf-6']);
    expect(await ids('unitId=lf-c1&subtree=true')).toEqual(['lf-1', 'lf-2', 'lf-6']);
    expect(await ids('unitId=lf-street&subtree=true')).toEqual([
      'lf-1',
      'lf-2',
      'lf-3',
      'lf-4',
      'lf-6',
    ]);
    expect(await ids('unitId=lf-street&subtree=false')).toEqual(['lf-4']);
  });

  it('when a reader filters by a unit above its scope, then the answer stays within its scope', async () => {
    expect(await ids('unitId=lf-street&subtree=true', communityStaff)).toEqual([
      'lf-1',
      'lf-2',
      'lf-6',
    ]);
    expect(await ids('unitId=lf-other&subtree=true', streetDispatcher)).toEqual([]);
    expect(await ids('unitId=lf-other&subtree=true')).toEqual(['lf-5']);
  });

  it('when several processes are named, repeated or comma-separated, then cases of any of them are listed', async () => {
    expect(await ids('definitionKey=lf-beta&definitionKey=lf-gamma')).toEqual([
      'lf-3',
      'lf-4',
      'lf-6',
    ]);
    expect(await ids('definitionKey=lf-beta,lf-gamma')).toEqual(['lf-3', 'lf-4', 'lf-6']);
    expect(await ids('definitionKey=lf-alpha')).toEqual(['lf-1', 'lf-2', 'lf-5']);
  });

  it('when a date range is given in Beijing days, then from counts from its midnight and to includes its whole day', async () => {
    expect(await ids(`from=2026-05-01&to=2026-05-31&${ALL}`)).toEqual([
      'lf-2',
      'lf-3',
      'lf-4',
      'lf-5',
    ]);
    expect(await ids(`to=2026-04-30&${ALL}`)).toEqual(['lf-1']);
    expect(await ids(`from=2026-06-01&${ALL}`)).toEqual(['lf-6']);
  });

  it('when a date range is given as instants, then from is included and to is excluded', async () => {
    expect(await ids(`from=2026-04-30T16:00:00Z&to=2026-05-10T03:00:00Z&${ALL}`)).toEqual(['lf-2']);
  });

  it('when overdue or escalated is asked for, then the case figures decide, and false includes cases without figures yet', async () => {
    expect(await ids(`${ALL}&overdue=true`)).toEqual(['lf-2', 'lf-3']);
    expect(await ids(`${ALL}&overdue=false`)).toEqual(['lf-1', 'lf-4', 'lf-5', 'lf-6']);
    expect(await ids(`${ALL}&escalated=true`)).toEqual(['lf-2', 'lf-5']);
    expect(await ids(`${ALL}&escalated=true&overdue=true`)).toEqual(['lf-2']);
    expect(await ids('escalated=false&definitionKey=lf-beta')).toEqual(['lf-3', 'lf-6']);
  });
}

/** Every id of a query in the list's order, page by page (`page`, and `before` when given). */
async function ordered(query: string, how: 'page' | 'before', token = app.adminKey, pageSize = 2) {
  const seen: string[] = [];
  let next: string | null = null;
  for (let page = 1; page <= 50; page += 1) {
    // By cursor: the answer's `next` link (same filters, `before` its last case).
    const url: string =
      how === 'before' && next !== null
        ? next
        : `/api/v1/cases?pageSize=${pageSize}&${how === 'page' ? `page=${page}&` : ''}${query}`;
    const res = await app.http<Listed & { next: string | null }>('GET', url, { token });
    expect(res.status).toBe(200);
    seen.push(...res.body.items.map((c) => c.id));
    next = res.body.next;
    if (how === 'before' && next !== null) expect(next).toContain('before=');
    if (res.body.items.length < pageSize || (how === 'before' && next === null)) break;
  }
  return seen;
}

const ORDER_QUERIES = [ALL, `unitId=lf-street&subtree=true&${ALL}`, `${ALL}&overdue=false`];
const scannedOrder = new Map<string, string[]>();

describe('read by scanning (keys not backfilled yet)', () => {
  readChecks();

  it('when the list is read page by page, then newest first, each case once', async () => {
    for (const query of ORDER_QUERIES) scannedOrder.set(query, await ordered(query, 'page'));
    expect(scannedOrder.get(ALL)).toEqual(['lf-6', 'lf-4', 'lf-5', 'lf-3', 'lf-2', 'lf-1']);
  });
});

describe('read day by day (keys backfilled)', () => {
  beforeAll(async () => {
    const report = await backfillListDays(app.db.models);
    expect(report.written).toBe(cases.length);
  });

  readChecks();

  it('when the list is read by page or by cursor, then the order is the scan order', async () => {
    for (const query of ORDER_QUERIES) {
      expect({ query, order: await ordered(query, 'page') }).toEqual({
        query,
        order: scannedOrder.get(query),
      });
      expect({ query, order: await ordered(query, 'before') }).toEqual({
        query,
        order: scannedOrder.get(query),
      });
    }
    expect(await ordered('unitId=lf-street&subtree=true', 'before', communityStaff)).toEqual([
      'lf-6',
      'lf-2',
      'lf-1',
    ]);
  });

  it('when a bad cursor is given, then the answer is 400 naming before', async () => {
    const error = await problem('before=yesterday');
    expect(error.details.map((d) => d.path)).toEqual(['query.before']);
  });

  it('when a day holds more cases than a day read takes, then it is read hour by hour in the same order, with an estimated total', async () => {
    // Arrange: 130 cases (above HOUR_SPLIT) on one Beijing day, in a unit of their own
    const day = Date.parse('2026-06-10T16:00:00Z'); // Beijing 2026-06-11 00:00
    for (let i = 0; i < 130; i += 1) {
      const at = new Date(day + Math.floor((i * 24 * 3_600_000) / 130) + (i % 3) * 1000);
      await app.db.models.Case.create({
        _id: `lf-busy-${String(i).padStart(3, '0')}`,
        revision: 1,
        status: i % 2 === 0 ? 'open' : 'closed',
        definitionKey: 'lf-busy',
        definitionVersion: 1,
        definitionName: 'lf-busy',
        data: {},
        createdBy: { kind: 'user', id: 'lf-nobody' },
        unitId: 'lf-c2',
        channel: 'api',
        requestHash: 'x',
        createdAt: at,
        updatedAt: at,
      });
    }
    await backfillListDays(app.db.models);
    const expected = Array.from(
      { length: 130 },
      (_, i) => `lf-busy-${String(i).padStart(3, '0')}`,
    ).reverse();

    // Act
    const first = await app.http<Listed & { next: string | null; totalIsEstimate: boolean }>(
      'GET',
      '/api/v1/cases?pageSize=20&definitionKey=lf-busy',
      { token: app.adminKey },
    );
    const byCursor = await ordered('definitionKey=lf-busy', 'before', app.adminKey, 20);
    const closed = await ordered('definitionKey=lf-busy&status=closed', 'page', app.adminKey, 20);

    // Assert
    expect(first.body.items.map((c) => c.id)).toEqual(expected.slice(0, 20));
    expect(first.body.totalIsEstimate).toBe(true);
    expect(first.body.total).toBeGreaterThanOrEqual(21);
    expect(byCursor).toEqual(expected);
    expect(closed).toEqual(expected.filter((id) => Number(id.slice(-3)) % 2 === 1));
    const last = await app.http<Listed & { totalIsEstimate: boolean }>(
      'GET',
      '/api/v1/cases?pageSize=100&page=2&definitionKey=lf-busy',
      { token: app.adminKey },
    );
    expect(last.body.items).toHaveLength(30);
    expect(last.body).toMatchObject({ total: 130, totalIsEstimate: false });
  });
});

it('when a filter value is bad, then the answer is 400 naming the parameter', async () => {
  const bad: Array<[string, string]> = [
    ['overdue=yes', 'query.overdue'],
    ['escalated=1', 'query.escalated'],
    ['subtree=maybe&unitId=lf-c1', 'query.subtree'],
    ['subtree=true', 'query.subtree'],
    ['unitId=no-such-unit', 'query.unitId'],
    ['unitId=bad%20id', 'query.unitId'],
    ['from=2026-02-30', 'query.from'],
    ['to=yesterday', 'query.to'],
    ['from=2026-05-02&to=2026-05-01', 'query.to'],
    ['definitionKey=Bad_Key', 'query.definitionKey'],
  ];
  for (const [query, path] of bad) {
    const error = await problem(query);
    expect({ query, paths: error.details.map((d) => d.path.replace(/\[\d+\]$/, '')) }).toEqual({
      query,
      paths: [path],
    });
  }
});

describe('deep pages by sealed counts, and open cases from their index', () => {
  // Whole lists under one root with no other filter: pages by number skip by the sealed counts.
  const DEEP = ['', 'unitId=lf-street&subtree=true', 'unitId=lf-c2&subtree=true&from=2026-05-01'];
  const BUSY_DAY = '2026-06-11';

  beforeAll(async () => {
    // The seals as the backfill writes them (the worker's seal pass writes the same).
    await backfillListDays(app.db.models);
  });

  it('when pages are read by number, then they equal the cursor walk, and the sealed counts are what they skip by', async () => {
    // Arrange
    const walks = new Map<string, string[]>();
    for (const query of DEEP) walks.set(query, await ordered(query, 'before', app.adminKey, 7));
    expect(walks.get('')).toHaveLength(136);

    // Act and assert: page 1..N by number is the cursor walk
    for (const query of DEEP) {
      expect({ query, order: await ordered(query, 'page', app.adminKey, 7) }).toEqual({
        query,
        order: walks.get(query),
      });
    }
    const deep = await app.http<Listed & { totalIsEstimate: boolean }>(
      'GET',
      '/api/v1/cases?pageSize=7&page=19',
      { token: app.adminKey },
    );
    expect(deep.body.items.map((c) => c.id)).toEqual(walks.get('')!.slice(126, 133));

    // A seal altered by hand (its newest hour counted 5 too many) shifts the pages after it:
    // the pages by number read it
    const sealId = `list|*|${BUSY_DAY}`;
    const seal = await app.db.models.ListDaySeal.findById(sealId).lean();
    const hours = JSON.parse(seal!.hoursJson) as Record<string, number>;
    await app.db.models.ListDaySeal.updateOne(
      { _id: sealId },
      {
        $set: {
          count: seal!.count + 5,
          hoursJson: JSON.stringify({ ...hours, '23': (hours['23'] ?? 0) + 5 }),
        },
      },
    );
    expect(await ordered('', 'page', app.adminKey, 7)).not.toEqual(walks.get(''));
    // Once the marker is stamped again (a case counted after the seal), the seal is not trusted
    await app.db.models.ListDay.updateOne({ _id: sealId }, { $set: { stamp: 'moved-on' } });
    expect(await ordered('', 'page', app.adminKey, 7)).toEqual(walks.get(''));
  });

  it('when status=open is asked, then the open index answers what the day walk answered, exactly counted', async () => {
    // Arrange: the answers of the day walk (no index mark yet)
    const queries = [
      'status=open',
      'status=open&unitId=lf-street&subtree=true',
      `status=open&${ALL}&overdue=true`,
      'status=open&from=2026-05-01&to=2026-05-31',
    ];
    const walked = new Map<string, string[]>();
    for (const query of queries) walked.set(query, await ordered(query, 'before', app.adminKey, 9));
    const staffWalked = await ordered('status=open', 'before', communityStaff, 3);

    // Act
    const report = await backfillOpenCases(app.db.models);

    // Assert: the same cases in the same order by page and by cursor; the total exact
    expect(report.open).toBe(6 + 65);
    for (const query of queries) {
      for (const how of ['page', 'before'] as const) {
        expect({ query, how, order: await ordered(query, how, app.adminKey, 9) }).toEqual({
          query,
          how,
          order: walked.get(query),
        });
      }
    }
    expect(await ordered('status=open', 'page', communityStaff, 3)).toEqual(staffWalked);
    const first = await app.http<Listed & { totalIsEstimate: boolean }>(
      'GET',
      '/api/v1/cases?pageSize=10&status=open',
      { token: app.adminKey },
    );
    expect(first.body).toMatchObject({ total: 71, totalIsEstimate: false });
    // The index is what answers: an entry removed by hand is missing from the list
    await app.db.models.OpenCase.deleteOne({ _id: 'lf-3' });
    expect(await ids(`status=open&${ALL}&overdue=true`)).toEqual(['lf-2']);
  });
});

describe('rare filters from keyed roots (process, category, rejected, cancelled, overdue)', () => {
  // 40 cases over seven weeks before the others (Beijing 2026-03-01 to 04-18), in four units.
  const UNITS = ['lf-g1', 'lf-c2', 'lf-other', 'lf-c1'];
  const RARE = Array.from({ length: 40 }, (_, i) => ({
    id: `lf-rare-${String(i).padStart(2, '0')}`,
    unitId: UNITS[i % UNITS.length]!,
    definitionKey: i % 5 === 0 ? 'lf-rare' : 'lf-common',
    category: i % 7 === 0 ? '燃气' : 'road',
    status: i % 6 === 0 ? 'rejected' : i % 11 === 0 ? 'cancelled' : 'closed',
    overdue: i % 4 === 1,
    createdAt: new Date(Date.parse('2026-03-01T02:00:00Z') + i * 29 * 3_600_000),
  }));
  type Rare = (typeof RARE)[number];
  const UNTIL = 'to=2026-04-29'; // before every other case of this file
  const STAFF_UNITS = new Set(['lf-c1', 'lf-g1']);
  const STREET = new Set(['lf-street', 'lf-c1', 'lf-c2', 'lf-g1']);

  /** The expected answer: the matching cases newest first (the list's order). */
  function expected(match: (c: Rare) => boolean, within: (c: Rare) => boolean = () => true) {
    return RARE.filter((c) => match(c) && within(c))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .map((c) => c.id);
  }

  const QUERIES: Array<[string, (c: Rare) => boolean]> = [
    [`category=${encodeURIComponent('燃气')}`, (c) => c.category === '燃气'],
    ['definitionKey=lf-rare', (c) => c.definitionKey === 'lf-rare'],
    [`definitionKey=lf-rare,lf-common&${UNTIL}`, () => true],
    ['status=rejected', (c) => c.status === 'rejected'],
    [
      'status=cancelled&unitId=lf-street&subtree=true',
      (c) => c.status === 'cancelled' && STREET.has(c.unitId),
    ],
    [`overdue=true&${UNTIL}`, (c) => c.overdue],
    [
      `category=road&status=rejected&${UNTIL}`,
      (c) => c.category === 'road' && c.status === 'rejected',
    ],
  ];

  beforeAll(async () => {
    for (const c of RARE) {
      await app.db.models.Case.create({
        _id: c.id,
        revision: 3,
        status: c.status,
        definitionKey: c.definitionKey,
        definitionVersion: 1,
        definitionName: c.definitionKey,
        category: c.category,
        data: {},
        createdBy: { kind: 'user', id: 'lf-nobody' },
        unitId: c.unitId,
        channel: 'api',
        requestHash: 'x',
        createdAt: c.createdAt,
        updatedAt: c.createdAt,
        closedAt: c.createdAt,
        metrics: { overdue: c.overdue ? 1 : 0 },
      });
    }
    await backfillListDays(app.db.models);
  });

  it('when a list is filtered by a process, a category, a rare status or overdue, then it answers the matching cases in order by page and by cursor', async () => {
    for (const [query, match] of QUERIES) {
      for (const how of ['page', 'before'] as const) {
        expect({ query, how, order: await ordered(query, how, app.adminKey, 3) }).toEqual({
          query,
          how,
          order: expected(match),
        });
      }
    }
    // A community's staff: their own subtree (and what they filed: nothing here)
    for (const [query, match] of QUERIES.filter(([q]) => !q.includes('unitId'))) {
      expect({ query, order: await ordered(query, 'before', communityStaff, 2) }).toEqual({
        query,
        order: expected(match, (c) => STAFF_UNITS.has(c.unitId)),
      });
    }
  });

  it('when a rare filter is read, then its keyed root is what answers: a key removed by hand hides the case', async () => {
    // Arrange: lf-rare-00 is rejected, of lf-rare and 燃气, in lf-g1 (under lf-c1, lf-street, lf-county)
    const stored = await app.db.models.Case.findById('lf-rare-00', { listDays: 1 }).lean();
    const keyed = stored!.listDays!.filter((k) => k.startsWith('*+'));
    expect([...new Set(keyed.map((k) => k.slice(0, k.indexOf('|'))))].sort()).toEqual(
      ['*+c:%E7%87%83%E6%B0%94', '*+p:lf-rare', '*+s:rejected'].sort(),
    );

    // Act: the admin's keys under `*+s:rejected` taken away
    await app.db.models.Case.updateOne(
      { _id: 'lf-rare-00' },
      { $set: { listDays: stored!.listDays!.filter((k) => !k.startsWith('*+s:rejected|')) } },
    );

    // Assert: gone from the admin's rejected list, still in the category's and the unit's
    expect(await ids('status=rejected')).not.toContain('lf-rare-00');
    expect(await ids(`category=${encodeURIComponent('燃气')}`)).toContain('lf-rare-00');
    expect(await ids('status=rejected&unitId=lf-c1&subtree=true')).toContain('lf-rare-00');
    await app.db.models.Case.updateOne(
      { _id: 'lf-rare-00' },
      { $set: { listDays: stored!.listDays } },
    );
  });

  it('when a case becomes rejected and overdue after filing, then the projection adds its keyed keys once, and a retry counts nothing again', async () => {
    // Arrange: a case filed open (keys as the projection writes at filing), then rejected and overdue
    const keys = createListKeys({ models: app.db.models });
    const createdAt = new Date('2026-03-20T05:00:00Z');
    const filed = await keys.keysOf({
      createdAt,
      unitId: 'lf-g1',
      createdBy: { id: 'lf-nobody' },
      definitionKey: 'lf-common',
      category: 'road',
    });
    expect(filed.listDays.some((k) => k.includes('+s:') || k.includes('+overdue'))).toBe(false);
    await app.db.models.Case.create({
      _id: 'lf-late',
      revision: 2,
      status: 'rejected',
      definitionKey: 'lf-common',
      definitionVersion: 1,
      definitionName: 'lf-common',
      category: 'road',
      data: {},
      createdBy: { kind: 'user', id: 'lf-nobody' },
      unitId: 'lf-g1',
      channel: 'api',
      requestHash: 'x',
      createdAt,
      updatedAt: createdAt,
      metrics: { overdue: 1 },
      listDays: filed.listDays,
    });
    await keys.countKeys(filed);
    const marker = 'list|u:lf-c1+s:rejected|2026-03-20';
    const before = (await app.db.models.ListDay.findById(marker).lean())?.count ?? 0;

    // Act: the revision as written (no read), then a retry (reads the case)
    const written = await app.db.models.Case.findById('lf-late', {
      status: 1,
      metrics: 1,
      listDays: 1,
    }).lean();
    await keys.syncStateKeys('lf-late', {
      status: written!.status,
      metrics: written!.metrics as Record<string, unknown>,
      listDays: written!.listDays ?? null,
    });
    await keys.syncStateKeys('lf-late');

    // Assert: listed under both filters, its markers counted once
    expect(await ids('status=rejected&unitId=lf-c1&subtree=true')).toContain('lf-late');
    expect(await ids(`overdue=true&${UNTIL}`)).toContain('lf-late');
    expect((await app.db.models.ListDay.findById(marker).lean())?.count).toBe(before + 1);
    const stored = await app.db.models.Case.findById('lf-late', { listDays: 1 }).lean();
    expect(stored!.listDays!.length).toBe(new Set(stored!.listDays).size);
    // The backfill gives it the same keys (idempotent: nothing to rewrite)
    const again = await backfillListDays(app.db.models);
    expect(again.written).toBe(0);
  });
});

import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/**
 * The 督办 list over the API: slips (tasks of kind supervision, as the projection writes them)
 * filtered by state, colour, the case's unit with its subtree and opening time, within the
 * reader's scope; a 400 naming each bad parameter. The slips' lifecycle itself is driven in
 * test/workflow/supervision.test.ts.
 */

interface Listed {
  items: Array<{ id: string; state: string; level: string; reply: string | null }>;
  total: number;
}
interface ErrorBody {
  error: { details: Array<{ path: string }> };
}

let app: TestApp;
let streetStaff: string;
let otherStaff: string;

const roster = {
  units: [
    { id: 'sv-county', name: '县', type: 'county', parentId: null },
    { id: 'sv-street', name: '甲街道', type: 'street', parentId: 'sv-county' },
    { id: 'sv-c1', name: '一社区', type: 'community', parentId: 'sv-street' },
    { id: 'sv-other', name: '乙街道', type: 'street', parentId: 'sv-county' },
  ],
};

const slips = [
  { n: 1, unit: 'sv-c1', level: 'red', status: 'open', overdue: false, at: '2026-05-01T02:00:00Z' },
  {
    n: 2,
    unit: 'sv-c1',
    level: 'yellow',
    status: 'open',
    overdue: true,
    at: '2026-05-02T02:00:00Z',
  },
  {
    n: 3,
    unit: 'sv-street',
    level: 'red',
    status: 'completed',
    overdue: true,
    at: '2026-05-03T02:00:00Z',
    reply: '已整改',
  },
  {
    n: 4,
    unit: 'sv-other',
    level: 'red',
    status: 'cancelled',
    overdue: false,
    at: '2026-05-04T02:00:00Z',
  },
];

const idOf = (n: number) => `case-${'a'.repeat(23)}${n}.supervision.1`;

beforeAll(async () => {
  app = await startTestApp('supervisions-api', { worker: false });
  expect(
    (await app.http('POST', '/api/v1/org/import', { token: app.adminKey, body: roster })).status,
  ).toBe(200);
  for (const s of slips) {
    await app.db.models.Task.create({
      _id: idOf(s.n),
      version: 1,
      caseId: `case-${'a'.repeat(23)}${s.n}`,
      definitionKey: 'sv-process',
      caseUnitId: s.unit,
      stepId: 'supervision',
      name: '督办单',
      kind: 'supervision',
      status: s.status,
      maxClaimants: 1,
      deadlines: [{ key: `${idOf(s.n)}/reply`, dueAt: '2026-06-01T00:00:00.000Z' }],
      openedAt: new Date(s.at),
      closedAt: s.status === 'open' ? null : new Date(s.at),
      supervision: {
        level: s.level,
        deadline: 'finish',
        escalation: 1,
        overdue: s.overdue,
        reply: s.reply ?? null,
      },
    });
  }
  // A plain task that must never appear on the list.
  await app.db.models.Task.create({
    _id: `case-${'b'.repeat(24)}.serve.1`,
    version: 1,
    caseId: `case-${'b'.repeat(24)}`,
    definitionKey: 'sv-process',
    caseUnitId: 'sv-c1',
    stepId: 'serve',
    name: '办理',
    kind: 'task',
    status: 'open',
    maxClaimants: 1,
    openedAt: new Date('2026-05-01T00:00:00Z'),
  });
  streetStaff = await app.signIn('sv-street-staff', ['staff'], ['sv-street']);
  otherStaff = await app.signIn('sv-other-staff', ['staff'], ['sv-other']);
});

afterAll(async () => {
  await app?.stop();
});

async function ids(query: string, token = app.adminKey): Promise<string[]> {
  const res = await app.http<Listed>('GET', `/api/v1/supervisions?${query}`, { token });
  expect(res.status).toBe(200);
  expect(res.body.total).toBe(res.body.items.length);
  return res.body.items.map((s) => s.id);
}

it('when slips are listed, then only slips come, newest first, each with its state', async () => {
  const res = await app.http<Listed>('GET', '/api/v1/supervisions', { token: app.adminKey });
  expect(res.body.items.map((s) => [s.id, s.state, s.level, s.reply])).toEqual([
    [idOf(4), 'moot', 'red', null],
    [idOf(3), 'replied', 'red', '已整改'],
    [idOf(2), 'overdue', 'yellow', null],
    [idOf(1), 'open', 'red', null],
  ]);
});

it('when filtered by state, colour, unit and time, then each filter narrows the list', async () => {
  expect(await ids('status=open')).toEqual([idOf(1)]);
  expect(await ids('status=overdue')).toEqual([idOf(2)]);
  expect(await ids('status=replied')).toEqual([idOf(3)]);
  expect(await ids('status=moot')).toEqual([idOf(4)]);
  expect(await ids('level=red')).toEqual([idOf(4), idOf(3), idOf(1)]);
  expect(await ids('unitId=sv-street')).toEqual([idOf(3)]);
  expect(await ids('unitId=sv-street&subtree=true')).toEqual([idOf(3), idOf(2), idOf(1)]);
  // Beijing days: 2026-05-02 runs from 2026-05-01T16:00Z.
  expect(await ids('from=2026-05-02&to=2026-05-03')).toEqual([idOf(3), idOf(2)]);
  expect(await ids('level=red&unitId=sv-street&subtree=true&status=open')).toEqual([idOf(1)]);
});

it('when staff list slips, then they see those of their units and below only', async () => {
  expect(await ids('', streetStaff)).toEqual([idOf(3), idOf(2), idOf(1)]);
  expect(await ids('', otherStaff)).toEqual([idOf(4)]);
  expect(await ids('unitId=sv-street&subtree=true', otherStaff)).toEqual([]);
});

it('when a filter value is bad, then the answer is 400 naming the parameter', async () => {
  const bad: Array<[string, string]> = [
    ['status=late', 'query.status'],
    ['level=orange', 'query.level'],
    ['unitId=nowhere', 'query.unitId'],
    ['subtree=yes&unitId=sv-c1', 'query.subtree'],
    ['from=2026-13-01', 'query.from'],
  ];
  for (const [query, path] of bad) {
    const res = await app.http<ErrorBody>('GET', `/api/v1/supervisions?${query}`, {
      token: app.adminKey,
    });
    expect({ query, status: res.status, paths: res.body.error.details.map((d) => d.path) }).toEqual(
      {
        query,
        status: 400,
        paths: [path],
      },
    );
  }
});

it('when staff open the console 督办 page with filters, then the matching slips show and a reply form only on the open slips they must answer', async () => {
  // Arrange: the street staff member is among the people of slip 1
  const user = await app.db.models.User.findOne({ username: 'sv-street-staff' }).lean();
  await app.db.models.Task.updateOne(
    { _id: idOf(1) },
    { $set: { candidates: [{ personId: 'p-sv', userId: String(user!._id) }] } },
  );
  const client = consoleClient(app.api.url);
  client.useSession(streetStaff);

  // Act
  const all = await client.get('/console/supervisions');
  const red = await client.get('/console/supervisions?level=red&unit=sv-street');
  const overdue = await client.get('/console/supervisions?status=overdue');

  // Assert
  expect(all.status).toBe(200);
  expect(all.html).toContain('href="/console/supervisions"');
  expect(rowsOf(all.html)).toEqual([idOf(3), idOf(2), idOf(1)]);
  expect(all.html).toContain(`action="/console/supervisions/${encodeURIComponent(idOf(1))}/reply"`);
  expect(all.html).not.toContain(`/console/supervisions/${encodeURIComponent(idOf(2))}/reply`);
  expect(textOf(all.html)).toContain('已整改');
  expect(rowsOf(red.html)).toEqual([idOf(3), idOf(1)]);
  expect(rowsOf(overdue.html)).toEqual([idOf(2)]);
  // A slip reached from the work list opens the 督办 page, where it is answered.
  const fromInbox = await client.get(`/console/tasks/${encodeURIComponent(idOf(1))}`);
  expect({ status: fromInbox.status, location: fromInbox.location }).toEqual({
    status: 303,
    location: '/console/supervisions',
  });
});

function rowsOf(html: string): string[] {
  return [...html.matchAll(/data-supervision="([^"]+)"/g)].map((m) => m[1]!);
}

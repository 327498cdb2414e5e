import { parseCsv } from '../../common/csv';
import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';
import { rebuildRollups } from '../../activities/metric-rollups';

/**
 * Metrics by who served, through the API on FerretDB: cases filed in one community and served
 * by two co-building units each count for the unit that served them (attribution=served), the
 * default stays by place, several processes filter together, the people endpoint keeps to the
 * reader's scope (names for dispatchers only), and the monthly bulletin (月通报) answers its red
 * and black lists as JSON and CSV. Cases are written straight into the read model (test data, no
 * workflow: the workflow test in test/workflow/served-by.test.ts covers how servedBy is recorded).
 */

let app: TestApp;
let streetDispatcher: string;
let otherDispatcher: string;
let streetStaff: string;

const AT = new Date('2026-11-03T02:00:00Z');

function metrics(done: boolean, overdue = false) {
  return {
    received: 1,
    dispatched: 1,
    accepted: 1,
    respondedInTime: 1,
    ...(done ? { completed: 1, completedOnTime: overdue ? 0 : 1, resolved: 1, due: 1 } : {}),
    ...(overdue ? { overdue: 1, due: 1 } : {}),
    month: '2026-11',
  };
}

let seq = 0;
function caseDoc(
  definitionKey: string,
  unitId: string,
  servedBy: { unitIds: string[]; personIds: string[] } | null,
  done: boolean,
  overdue = false,
) {
  seq += 1;
  return {
    _id: `case-at${String(seq).padStart(22, '0')}`,
    revision: 3,
    status: done ? 'closed' : 'open',
    definitionKey,
    definitionVersion: 1,
    definitionName: definitionKey,
    currentStep: null,
    data: {},
    createdBy: { kind: 'user', id: 'usr_test' },
    unitId,
    channel: 'api',
    requestHash: 'x'.repeat(64),
    createdAt: AT,
    updatedAt: AT,
    timeline: [],
    deadlines: [],
    metrics: metrics(done, overdue),
    ...(servedBy ? { servedBy } : {}),
  };
}

const byId = <T extends { unit: { id: string } }>(items: T[], id: string) =>
  items.find((item) => item.unit.id === id)!;

beforeAll(async () => {
  app = await startTestApp('attribution', { worker: false });
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'at-s', name: '甲街道', type: 'street', parentId: null },
        { id: 'at-c', name: '甲一社区', type: 'community', parentId: 'at-s' },
        { id: 'at-u1', name: '供电公司', type: 'cobuilding', parentId: 'at-s' },
        { id: 'at-u2', name: '第一中学', type: 'cobuilding', parentId: 'at-s' },
        { id: 'at-o', name: '乙街道', type: 'street', parentId: null },
      ],
      people: [
        { id: 'at-p1', name: '王党员' },
        { id: 'at-p2', name: '李党员' },
        { id: 'at-p9', name: '外街道志愿者' },
      ],
      posts: [
        { unitId: 'at-u1', role: 'party-member', personId: 'at-p1' },
        { unitId: 'at-u2', role: 'party-member', personId: 'at-p2' },
        { unitId: 'at-o', role: 'volunteer', personId: 'at-p9' },
      ],
    },
  });
  expect(imported.status).toBe(200);
  streetDispatcher = await app.signIn('at-disp', ['dispatcher'], ['at-s']);
  otherDispatcher = await app.signIn('at-disp-o', ['dispatcher'], ['at-o']);
  streetStaff = await app.signIn('at-staff', ['staff'], ['at-s']);
  const u1 = { unitIds: ['at-u1'], personIds: ['at-p1'] };
  const u2 = { unitIds: ['at-u2'], personIds: ['at-p2'] };
  await app.db.models.Case.insertMany([
    // Filed in the community: three served by 供电公司 (all done), two by 第一中学 (one done late, one open past its limit).
    caseDoc('at-order', 'at-c', u1, true),
    caseDoc('at-order', 'at-c', u1, true),
    caseDoc('at-order', 'at-c', u1, true),
    caseDoc('at-order', 'at-c', u2, true, true),
    caseDoc('at-order', 'at-c', u2, false, true),
    // Another process, served by 供电公司 together with a volunteer of another street.
    caseDoc('at-wish', 'at-c', { unitIds: ['at-u1', 'at-o'], personIds: ['at-p1', 'at-p9'] }, true),
    // A process nobody asked about, and a case nobody served yet.
    caseDoc('at-report', 'at-c', u2, true),
    caseDoc('at-order', 'at-c', null, false),
  ]);
  // Written straight into the read model, past the projection: the rebuild sums them into the
  // metric roll-ups (and marks them complete), so the reports below read the roll-ups.
  await rebuildRollups(app.db.models);
});

afterAll(async () => {
  await app?.stop();
});

type Figures = {
  received: number;
  completed: number;
  overdue: number;
  rates: { completionRate: number | null };
};
type Report = {
  totals: Figures;
  children: Array<{ unit: { id: string } } & Figures>;
  filters: { definitionKeys: string[]; attribution: string };
};

describe('metrics by who served', () => {
  it('when two co-building units served cases filed in one community, then attribution=served gives each its own figures and the default keeps them on the community', async () => {
    const served = await app.http<Report>(
      'GET',
      '/api/v1/metrics?unitId=at-s&period=2026-11&definitionKey=at-order&attribution=served',
      { token: streetDispatcher },
    );
    expect(served.status).toBe(200);
    expect(served.body.filters).toMatchObject({
      attribution: 'served',
      definitionKeys: ['at-order'],
    });
    expect(byId(served.body.children, 'at-u1')).toMatchObject({ received: 3, completed: 3 });
    expect(byId(served.body.children, 'at-u2')).toMatchObject({
      received: 2,
      completed: 1,
      overdue: 2,
    });
    expect(byId(served.body.children, 'at-c')).toMatchObject({ received: 0 });
    // The unserved case is not in a served total.
    expect(served.body.totals.received).toBe(5);

    const place = await app.http<Report>(
      'GET',
      '/api/v1/metrics?unitId=at-s&period=2026-11&definitionKey=at-order',
      { token: streetDispatcher },
    );
    expect(place.status).toBe(200);
    expect(place.body.filters.attribution).toBe('place');
    expect(byId(place.body.children, 'at-c')).toMatchObject({ received: 6 });
    expect(byId(place.body.children, 'at-u1')).toMatchObject({ received: 0 });
  });

  it('when several processes are named, repeated or comma-separated, then the figures add up exactly those processes', async () => {
    const comma = await app.http<Report>(
      'GET',
      '/api/v1/metrics?unitId=at-s&period=2026-11&definitionKey=at-order,at-wish',
      { token: streetDispatcher },
    );
    const repeated = await app.http<Report>(
      'GET',
      '/api/v1/metrics?unitId=at-s&period=2026-11&definitionKey=at-order&definitionKey=at-wish',
      { token: streetDispatcher },
    );
    expect(comma.status).toBe(200);
    expect(comma.body.totals.received).toBe(7);
    expect(comma.body.filters.definitionKeys).toEqual(['at-order', 'at-wish']);
    expect(repeated.body.totals).toEqual(comma.body.totals);

    const bad = await app.http<{ error: { details: Array<{ path: string }> } }>(
      'GET',
      '/api/v1/metrics?unitId=at-s&definitionKey=at-order,Bad_Key',
      { token: streetDispatcher },
    );
    expect(bad.status).toBe(400);
  });

  it('when the ranking goes by who served over co-building units, then the unit that completed everything ranks first', async () => {
    const res = await app.http<{
      items: Array<{ rank: number | null; unit: { id: string } } & Figures>;
    }>(
      'GET',
      '/api/v1/metrics/ranking?unitId=at-s&period=2026-11&attribution=served&unitType=cobuilding&definitionKey=at-order,at-wish',
      { token: streetDispatcher },
    );
    expect(res.status).toBe(200);
    expect(res.body.items.map((i) => [i.rank, i.unit.id, i.received])).toEqual([
      [1, 'at-u1', 4],
      [2, 'at-u2', 2],
    ]);
  });

  it("when a street's dispatcher lists people who served, then its members appear by name and a co-server of another street does not", async () => {
    const res = await app.http<{
      named: boolean;
      people: Array<{ person: { id: string; name: string | null }; received: number }>;
    }>('GET', '/api/v1/metrics/people?unitId=at-s&period=2026-11&definitionKey=at-order,at-wish', {
      token: streetDispatcher,
    });
    expect(res.status).toBe(200);
    expect(res.body.named).toBe(true);
    expect(res.body.people.map((p) => [p.person.id, p.person.name, p.received])).toEqual([
      ['at-p1', '王党员', 4],
      ['at-p2', '李党员', 2],
    ]);

    const staff = await app.http<{
      named: boolean;
      people: Array<{ person: { name: string | null } }>;
    }>('GET', '/api/v1/metrics/people?unitId=at-s&period=2026-11', { token: streetStaff });
    expect(staff.status).toBe(200);
    expect(staff.body.named).toBe(false);
    expect(staff.body.people.every((p) => p.person.name === null)).toBe(true);

    const other = await app.http('GET', '/api/v1/metrics/people?unitId=at-s&period=2026-11', {
      token: otherDispatcher,
    });
    expect(other.status).toBe(404);
  });

  it('when the monthly bulletin is asked for, then it answers the totals, the ranking and red and black lists that never overlap, as JSON and as CSV', async () => {
    const res = await app.http<{
      month: string;
      totals: Figures;
      redList: Array<{ unit: { id: string } }>;
      blackList: Array<{ unit: { id: string } }>;
      listSize: number;
    }>(
      'GET',
      '/api/v1/metrics/bulletin?unitId=at-s&month=2026-11&attribution=served&unitType=cobuilding&definitionKey=at-order',
      { token: streetDispatcher },
    );
    expect(res.status).toBe(200);
    expect(res.body.month).toBe('2026-11');
    expect(res.body.totals).toMatchObject({ received: 5, completed: 4, overdue: 2 });
    expect(res.body.listSize).toBe(3);
    expect(res.body.redList.map((i) => i.unit.id)).toEqual(['at-u1']);
    expect(res.body.blackList.map((i) => i.unit.id)).toEqual(['at-u2']);

    const csv = await fetch(
      `${app.api.url}/api/v1/exports/bulletin?format=csv&unitId=at-s&month=2026-11&attribution=served&unitType=cobuilding&definitionKey=at-order`,
      { headers: { authorization: `Bearer ${streetDispatcher}` } },
    );
    expect(csv.status).toBe(200);
    const rows = parseCsv(await csv.text()).map((r) => r.fields);
    expect(rows[0]!.slice(0, 4)).toEqual(['栏目', '名次', '单位编号', '单位']);
    expect(rows.slice(1).map((r) => [r[0], r[2]])).toEqual([
      ['合计', 'at-s'],
      ['红榜', 'at-u1'],
      ['黑榜', 'at-u2'],
      ['排名', 'at-u1'],
      ['排名', 'at-u2'],
    ]);

    const bad = await app.http('GET', '/api/v1/metrics/bulletin?unitId=at-s&month=2026-13', {
      token: streetDispatcher,
    });
    expect(bad.status).toBe(400);
  });
});

/** An attribute value as the browser reads it (Handlebars escapes `=` and `&`). */
const attr = (html: string) => html.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');

describe('the dashboard and the bulletin page', () => {
  const as = (token: string) => {
    const client = consoleClient(app.api.url);
    client.useSession(token);
    return client;
  };

  it('when the dashboard is asked for two ticked processes by who served, then each co-building unit shows the cases it served', async () => {
    // Act
    const page = await as(streetDispatcher).get(
      '/console/dashboard?unitId=at-s&period=2026-11&process=at-order&process=at-wish&attribution=served',
    );

    // Assert
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    // 供电公司 served 4 cases (3 orders and 1 wish), all completed; 第一中学 2 orders, 1 completed.
    expect(text).toContain('供电公司 4 4 0');
    expect(text).toContain('第一中学 2 1 2');
    expect(text).toContain('甲一社区 0 0 0');
    expect(attr(page.html)).toContain(
      '/console/bulletin?unitId=at-s&month=2026-11&process=at-order%2Cat-wish&attribution=served',
    );
    expect(attr(page.html)).toContain(
      '/console/exports/metrics?format=csv&unitId=at-s&definitionKey=at-order%2Cat-wish&attribution=served',
    );
  });

  it('when the bulletin page is opened for a month, then it shows the red and black lists and links the bulletin ledger', async () => {
    // Act
    const page = await as(streetDispatcher).get(
      '/console/bulletin?unitId=at-s&month=2026-11&process=at-order&attribution=served&rankType=cobuilding',
    );
    const bad = await as(streetDispatcher).get('/console/bulletin?unitId=at-s&month=2026-13');

    // Assert
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toMatch(/红榜（前 3 名）.*1 供电公司 100%.*黑榜（后 3 名）.*2 第一中学 50%/);
    expect(attr(page.html)).toContain(
      '/console/exports/bulletin?format=csv&unitId=at-s&month=2026-11&definitionKey=at-order&attribution=served',
    );
    expect(bad.status).toBe(200);
    expect(textOf(bad.html)).toContain('月份应为 2026-11 这样的格式');
  });
});

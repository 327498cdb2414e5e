import ExcelJS from 'exceljs';
import { parseCsv } from '../../common/csv';
import { createDefinitionService } from '../../services/definitions';
import { BEIJING_OFFSET_MS } from '../../lang/beijing';
import { createMailRenderer } from '../../mail/renderer';
import { SCORE_CLOSE_GRACE_MS } from '../../common/evaluation';
import { activationProcess, rollCallProcess } from '../fixtures/definitions';
import type { ConsoleClient } from '../support/console-client';
import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * The console's report pages on the real dev server and FerretDB: the dashboard drawing real
 * figures of cases filed and handled here, the public board (no sign-in, masked, filtered), an
 * evaluation round opened from a form, scored and exported as CSV, and an emergency activation
 * whose roll-call page follows a report as it happens. Three streets keep the figures apart.
 */

const FLOW = 'rep-flow';
const ORDER = 'rep-order';
const ROUND = 'rep-round';
const COMPOUND = 'rep-compound';
const ACTIVATION = 'rep-activation';
const ROUND_OPEN_S = 30;

const definitions = [
  `
key: ${FLOW}
name: 报表测试诉求
starters: [resident, admin]
categories:
  - { code: sanitation, name: 环境卫生 }
  - { code: noise, name: 噪音扰民 }
input:
  fields:
    - { name: contactName, label: 联系人, type: string, personal: true }
    - { name: summary, label: 诉求内容, type: string }
steps:
  - id: serve
    name: 办理
    type: task
    announce: false
    candidates: [{ role: grid-worker, unit: grid }]
    outcomes: [{ id: done, name: 已办结 }]
  - { id: wall, name: 结果公示, type: publish, title: 办理结果公示, show: [summary, contactName] }
  - { id: rate, name: 群众评价, type: feedback, within: PT1M }
  - { id: closed, name: 办结, type: end }
`,
  `
key: ${ORDER}
name: 报表测试订单
starters: [resident]
input: { fields: [] }
steps:
  - { id: rate, name: 群众评价, type: feedback, within: PT6S }
  - { id: closed, name: 办结, type: end }
`,
  `
key: ${ROUND}
name: 报表评议测试
starters: [admin, dispatcher]
input:
  fields:
    - { name: periodFrom, label: 起始日, type: date, required: true }
    - { name: periodTo, label: 截止日, type: date, required: true }
steps:
  - id: scoring
    name: 评单打分
    type: evaluation
    orders: { from: data.periodFrom, to: data.periodTo, definitions: [${ORDER}] }
    groups:
      - { id: residents, name: 居民, weight: 60, scorers: requester }
      - id: units
        name: 共建单位
        weight: 40
        scorers: [{ role: liaison, unitsOfType: cobuilding, under: case }]
    orderRating: { group: residents }
    within: PT${ROUND_OPEN_S}S
  - { id: closed, name: 结束, type: end }
`,
  rollCallProcess(COMPOUND, { name: '报表点名测试', windowS: 120 }),
  activationProcess(ACTIVATION, COMPOUND, { name: '报表一键启动测试', summarise: false }),
];

let app: TestApp;
const tokens: Record<string, string> = {};
const cases: Record<string, string> = {};
const orders: Record<string, string> = {};
let roundId: string;

async function account(username: string, roles: string[], unitIds: string[] = []) {
  tokens[username] = await app.signIn(username, roles, unitIds);
  const user = await app.db.models.User.findOne({ username }).lean();
  return String(user!._id);
}

function as(username: string): ConsoleClient {
  const client = consoleClient(app.api.url);
  client.useSession(tokens[username]!);
  return client;
}

async function startCase(
  user: string,
  definitionKey: string,
  unitId: string,
  extra: { category?: string; data?: Record<string, unknown> } = {},
): Promise<string> {
  const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens[user],
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey,
      unitId,
      data: extra.data ?? {},
      ...(extra.category !== undefined ? { category: extra.category } : {}),
    },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function atStep(caseId: string, step: string): Promise<void> {
  await waitFor(`${caseId} at ${step}`, async () => {
    const found = await app.db.models.Case.findById(caseId, { currentStep: 1 }).lean();
    return found?.currentStep?.id === step;
  });
}

async function serve(user: string, caseId: string): Promise<void> {
  const task = await waitFor(`the serve task of ${caseId}`, async () => {
    const res = await app.http<{ items: Array<{ id: string; stepId: string }> }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${caseId}`,
      { token: tokens[user] },
    );
    return res.body.items.find((t) => t.stepId === 'serve');
  });
  const claimed = await app.http('POST', `/api/v1/tasks/${task.id}/claim`, { token: tokens[user] });
  expect(claimed.status).toBe(200);
  const done = await app.http('POST', `/api/v1/tasks/${task.id}/complete`, {
    token: tokens[user],
    body: { outcome: 'done' },
  });
  expect(done.status).toBe(200);
}

async function rate(caseId: string, score: number): Promise<void> {
  await atStep(caseId, 'rate');
  const res = await app.http('POST', `/api/v1/cases/${caseId}/rating`, {
    token: tokens.resident,
    body: { score },
  });
  expect(res.status).toBe(200);
}

function closed(caseId: string): Promise<unknown> {
  return waitFor(`${caseId} closed`, async () => {
    const found = await app.db.models.Case.findById(caseId, { status: 1 }).lean();
    return found?.status === 'closed';
  });
}

/** A Beijing calendar date, `days` from today. */
function beijingDate(days: number): string {
  return new Date(Date.now() + BEIJING_OFFSET_MS + days * 86_400_000).toISOString().slice(0, 10);
}

/** The hidden request key of the form the page holds. */
function requestKeyIn(html: string): string {
  return /name="requestKey" value="([^"]+)"/.exec(html)![1]!;
}

beforeAll(async () => {
  app = await startTestApp('console-reports');
  const service = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  for (const source of definitions) {
    await service.publish({ source, format: 'yaml', publishedBy: { kind: 'system', id: 'test' } });
  }
  const ids = {
    worker1: await account('worker1', ['staff'], ['r-g1']),
    worker2: await account('worker2', ['staff'], ['r-g2']),
    liaison: await account('liaison', ['staff'], ['r-cb']),
    manager1: await account('manager1', ['staff'], ['r-x1']),
    head1: await account('head1', ['staff'], ['r-x1-b1']),
    manager2: await account('manager2', ['staff'], ['r-x2']),
  };
  await account('disp', ['dispatcher'], ['r-s']);
  await account('edisp', ['dispatcher'], ['r-e']);
  await account('boss', ['admin']);
  await account('resident', ['resident']);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'r-s', name: '报表街道', type: 'street', parentId: null },
        { id: 'r-c1', name: '东关社区', type: 'community', parentId: 'r-s' },
        { id: 'r-c2', name: '西关社区', type: 'community', parentId: 'r-s' },
        { id: 'r-g1', name: '东关一网格', type: 'grid', parentId: 'r-c1' },
        { id: 'r-g2', name: '西关一网格', type: 'grid', parentId: 'r-c2' },
        { id: 'r-e', name: '评议街道', type: 'street', parentId: null },
        { id: 'r-ec1', name: '南关社区', type: 'community', parentId: 'r-e' },
        { id: 'r-ec2', name: '北关社区', type: 'community', parentId: 'r-e' },
        { id: 'r-cb', name: '县第二中学', type: 'cobuilding', parentId: 'r-e' },
        { id: 'r-m', name: '应急街道', type: 'street', parentId: null },
        { id: 'r-mc', name: '应急社区', type: 'community', parentId: 'r-m' },
        { id: 'r-mg', name: '应急网格', type: 'grid', parentId: 'r-mc' },
        { id: 'r-x1', name: '幸福小区', type: 'compound', parentId: 'r-mg' },
        { id: 'r-x1-b1', name: '1号楼', type: 'building', parentId: 'r-x1' },
        { id: 'r-x2', name: '和谐小区', type: 'compound', parentId: 'r-mg' },
      ],
      people: [
        { id: 'p-w1', name: '网格员甲', email: uniqueAddress('w1'), userId: ids.worker1 },
        { id: 'p-w2', name: '网格员乙', email: uniqueAddress('w2'), userId: ids.worker2 },
        { id: 'p-li', name: '联络员老刘', email: uniqueAddress('li'), userId: ids.liaison },
        { id: 'p-sec', name: '评议书记', email: uniqueAddress('sec') },
        { id: 'p-m1', name: '孙经理', email: uniqueAddress('m1'), userId: ids.manager1 },
        { id: 'p-h1', name: '周楼长', email: uniqueAddress('h1'), userId: ids.head1 },
        { id: 'p-m2', name: '郑经理', email: uniqueAddress('m2'), userId: ids.manager2 },
      ],
      posts: [
        { unitId: 'r-g1', role: 'grid-worker', personId: 'p-w1' },
        { unitId: 'r-g2', role: 'grid-worker', personId: 'p-w2' },
        { unitId: 'r-cb', role: 'liaison', personId: 'p-li' },
        { unitId: 'r-e', role: 'secretary', personId: 'p-sec' },
        { unitId: 'r-x1', role: 'property-manager', personId: 'p-m1' },
        { unitId: 'r-x1-b1', role: 'building-head', personId: 'p-h1' },
        { unitId: 'r-x2', role: 'property-manager', personId: 'p-m2' },
      ],
    },
  });
  expect(imported.status).toBe(200);

  // Street 报表街道: served and rated 5 (东关), served and rated 2 (西关), one still waiting (东关).
  const filed = (unitId: string, category: string, contactName: string) =>
    startCase('resident', FLOW, unitId, {
      category,
      data: { contactName, summary: category === 'noise' ? '夜间施工噪音' : '楼道堆放杂物' },
    });
  cases.good = await filed('r-g1', 'sanitation', '张三');
  cases.poor = await filed('r-g2', 'noise', '李四');
  cases.waiting = await filed('r-g1', 'sanitation', '王五');
  // Street 评议街道: two orders, one rated 4, one left unrated (its window lapses).
  orders.rated = await startCase('resident', ORDER, 'r-ec1');
  orders.unrated = await startCase('resident', ORDER, 'r-ec2');
  await Promise.all([
    serve('worker1', cases.good).then(() => rate(cases.good!, 5)),
    serve('worker2', cases.poor).then(() => rate(cases.poor!, 2)),
    rate(orders.rated, 4),
  ]);
  await Promise.all([cases.good, cases.poor, orders.rated, orders.unrated].map((id) => closed(id)));
  // Who served the rated order (as the projection records an acceptance): the co-building unit.
  await app.db.models.Case.updateOne(
    { _id: orders.rated },
    { $set: { servedBy: { unitIds: ['r-cb'], personIds: ['p-sec'] } } },
  );
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

describe('evaluation rounds in the console', () => {
  it('when a dispatcher opens a round from the form twice, then one round starts and its page shows the orders and progress', async () => {
    // Arrange
    const disp = as('edisp');
    const list = await disp.get('/console/evaluations?process=rep-round');
    const fields = {
      process: ROUND,
      unitId: 'r-e',
      periodFrom: beijingDate(-1),
      periodTo: beijingDate(0),
      requestKey: requestKeyIn(list.html),
    };

    // Act
    const first = await disp.post('/console/evaluations/open', fields);
    const again = await disp.post('/console/evaluations/open', fields);
    roundId = /\/console\/evaluations\/(case-[0-9a-f]{24})/.exec(first.location ?? '')![1]!;
    await waitFor('the round opened', () => app.db.models.EvaluationRound.exists({ _id: roundId }));
    const page = await disp.get(`/console/evaluations/${roundId}`);

    // Assert
    expect(list.status).toBe(200);
    expect(textOf(list.html)).toContain('报表评议测试');
    expect(first.status).toBe(303);
    expect(again.location).toBe(first.location);
    expect(await app.db.models.Case.countDocuments({ definitionKey: ROUND })).toBe(1);
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('评议街道');
    expect(text).toContain(orders.rated);
    expect(text).toContain(orders.unrated);
    // The order's own rating counts for the residents: one of two orders has a score already.
    expect(text).toContain('已有打分的订单 1/2');
    expect(text).toMatch(/联络员老刘 0 未打分/);
  });

  it('when the liaison scores an order through the form, then it is recorded and the progress names them', async () => {
    // Arrange
    const liaison = as('liaison');
    const rounds = await liaison.get('/console/evaluations');
    const form = await liaison.get(`/console/evaluations/${roundId}/score`);
    const key = requestKeyIn(form.html);

    // Act
    const partial = await liaison.post(`/console/evaluations/${roundId}/score`, {
      group: 'units',
      page: '1',
      requestKey: key,
      [`v:${orders.unrated}:quality`]: '3',
    });
    await liaison.get(`/console/evaluations/${roundId}/score`);
    const saved = await liaison.post(`/console/evaluations/${roundId}/score`, {
      group: 'units',
      page: '1',
      requestKey: key,
      [`v:${orders.rated}:quality`]: '5',
      [`v:${orders.rated}:duration`]: '4',
      [`v:${orders.rated}:satisfaction`]: '5',
      [`c:${orders.rated}`]: '服务很及时',
    });
    const after = await as('edisp').get(`/console/evaluations/${roundId}`);

    // Assert
    expect(textOf(rounds.html)).toContain('报表评议测试');
    expect(form.status).toBe(200);
    expect(form.html).toContain(`name="v:${orders.rated}:quality"`);
    expect(partial.status).toBe(422);
    expect(textOf(partial.html)).toContain('有订单的打分项没有填全');
    expect(saved.status).toBe(303);
    expect(saved.location).toContain('saved=1');
    expect(await app.db.models.EvaluationScore.countDocuments({ roundId, group: 'units' })).toBe(1);
    expect(textOf(after.html)).toMatch(/联络员老刘 1 已打分/);
  });

  it('when a resident or a stranger asks for the results, then they are refused', async () => {
    // Act
    const resident = await as('resident').get(`/console/evaluations/${roundId}/results.csv`);
    const stranger = await as('disp').get(`/console/evaluations/${roundId}`);

    // Assert
    expect(resident.status).toBe(403);
    expect(stranger.status).toBe(404);
  });
});

describe('the dashboard', () => {
  it('when a street dispatcher opens it, then the charts and tables show the figures of its cases', async () => {
    // Act
    const page = await as('disp').get('/console/dashboard');

    // Assert
    expect(page.status).toBe(200);
    expect(page.html.match(/<svg [^>]*role="img"/g)).toHaveLength(4);
    expect(page.html).not.toMatch(/style=/);
    const text = textOf(page.html);
    const month = beijingDate(0).slice(0, 7);
    // Trend table: 3 received this month, 2 completed, none overdue.
    expect(text).toContain(`${month} 3 2 0`);
    // 办结率 is of the cases due: the waiting one has no time limit to pass, so it is not due yet.
    expect(text).toContain('办结率 100%');
    expect(text).toContain('满意度 50%');
    // Per community: 东关 2 received, 1 completed (of 1 due), its rating satisfied; 西关 1/1, 0 %.
    expect(text).toMatch(/东关社区 2 1 0 100% [^ ]+ 100% 5\.00/);
    expect(text).toMatch(/西关社区 1 1 0 100% [^ ]+ 0% 2\.00/);
    // Ranked by completion: a tie, sharing rank 1; the one receiving more first.
    expect(text).toMatch(/1 东关社区 100% .* 1 西关社区 100%/);
    // 未诉先办: no proactive case was opened for the street (the card is there, at 0).
    expect(text).toContain('主动治理（未诉先办） 0 期内因高频诉求派发；期内办结 0 件');
  });

  it('when filtered to a community or an empty period, then the figures follow the filter', async () => {
    // Act
    const community = await as('disp').get('/console/dashboard?unitId=r-c1&by=received');
    const empty = await as('disp').get('/console/dashboard?unitId=r-s&period=2020-H1');
    const outside = await as('disp').get('/console/dashboard?unitId=r-e');
    const admin = await as('boss').get('/console/dashboard?unitId=r-s');

    // Assert
    expect(community.status).toBe(200);
    expect(textOf(community.html)).toContain('数据看板 · 东关社区');
    expect(textOf(community.html)).toMatch(/受理 2 已接单 1 件/);
    expect(empty.status).toBe(200);
    expect(textOf(empty.html)).toContain('本期没有数据');
    expect(outside.status).toBe(404);
    expect(textOf(outside.html)).toContain('您的权限范围内没有单位“r-e”');
    expect(admin.status).toBe(200);
  });

  it('when a resident, staff or nobody asks for it, then the roles decide', async () => {
    // Act
    const resident = await as('resident').get('/console/dashboard');
    const staff = await as('worker1').get('/console/dashboard');
    const anonymous = await consoleClient(app.api.url).get('/console/dashboard');

    // Assert
    expect(resident.status).toBe(403);
    expect(staff.status).toBe(403);
    expect(anonymous.status).toBe(303);
    expect(anonymous.location).toContain('/console/login?next=');
  });
});

describe('figures per person who served', () => {
  it('when a street dispatcher opens the dashboard, then the people table names each grid worker with the figures of the cases they served, and follows the unit filter', async () => {
    // Act
    const street = await as('disp').get('/console/dashboard');
    const community = await as('disp').get('/console/dashboard?unitId=r-c1');

    // Assert: 网格员甲 served the case rated 5, 网格员乙 the one rated 2; nobody took the waiting one
    expect(street.status).toBe(200);
    const text = textOf(street.html);
    expect(text).toContain('服务人员');
    expect(text).toMatch(/网格员甲 1 1 0 100% [^ ]+ 100% 5\.00/);
    expect(text).toMatch(/网格员乙 1 1 0 100% [^ ]+ 0% 2\.00/);
    // Handlebars escapes `=` in attributes
    expect(street.html).toContain('/console/exports/people?format&#x3D;csv&amp;unitId&#x3D;r-s');
    expect(street.html).toContain('/console/exports/people?format&#x3D;xlsx&amp;unitId&#x3D;r-s');
    const communityText = textOf(community.html);
    expect(communityText).toMatch(/网格员甲 1 1 0/);
    expect(communityText).not.toContain('网格员乙');
    // The co-building unit's member served in another street: not this street's to see.
    expect(text).not.toContain('评议书记');
  });

  it('when the people ledger is downloaded as CSV and XLSX, then each row is a person with the report’s figures, the XLSX opens with exceljs, and another street gets none of them', async () => {
    // Act
    const csv = await fetch(`${app.api.url}/api/v1/exports/people?format=csv&unitId=r-s`, {
      headers: { authorization: `Bearer ${tokens.disp}` },
    });
    const csvBody = Buffer.from(await csv.arrayBuffer());
    const xlsx = await fetch(`${app.api.url}/api/v1/exports/people?format=xlsx&unitId=r-s`, {
      headers: { authorization: `Bearer ${tokens.disp}` },
    });
    const xlsxBody = Buffer.from(await xlsx.arrayBuffer());
    const viaConsole = await as('disp').get('/console/exports/people?format=csv&unitId=r-c2');
    const otherStreet = await app.http('GET', '/api/v1/exports/people?format=csv&unitId=r-s', {
      token: tokens.edisp,
    });
    const own = await fetch(`${app.api.url}/api/v1/exports/people?format=csv&unitId=r-e`, {
      headers: { authorization: `Bearer ${tokens.edisp}` },
    });
    const ownBody = Buffer.from(await own.arrayBuffer()).toString('utf8');

    // Assert: CSV, UTF-8 with BOM, a row per person, most cases first then by id
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toContain('attachment; filename="people-r-s-');
    expect([...csvBody.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, ...rows] = parseCsv(csvBody.toString('utf8').replace(/^\uFEFF/, '')).map(
      (r) => r.fields,
    );
    expect(header!.slice(0, 2)).toEqual(['人员编号', '姓名']);
    const received = header!.indexOf('受理数');
    expect(received).toBeGreaterThan(1);
    expect(rows.map((r) => [r[0], r[1], r[received]])).toEqual([
      ['p-w1', '网格员甲', '1'],
      ['p-w2', '网格员乙', '1'],
    ]);
    // XLSX: the same rows, numbers as numbers
    expect(xlsx.status).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsxBody as unknown as ArrayBuffer);
    const sheet: unknown[][] = [];
    workbook.worksheets[0]!.eachRow((row) => sheet.push((row.values as unknown[]).slice(1)));
    expect(sheet[0]!.slice(0, 2)).toEqual(['人员编号', '姓名']);
    expect(sheet.slice(1).map((r) => [r[0], r[1], r[received]])).toEqual([
      ['p-w1', '网格员甲', 1],
      ['p-w2', '网格员乙', 1],
    ]);
    // The console's link: the same ledger, filtered to 西关
    expect(viaConsole.status).toBe(200);
    expect(viaConsole.html).toContain('p-w2,网格员乙,1');
    expect(viaConsole.html).not.toContain('p-w1');
    // Scope: the other street's dispatcher gets a 404 for this street, and only its own people
    expect(otherStreet.status).toBe(404);
    expect(ownBody).toContain('p-sec,评议书记,1');
    expect(ownBody).not.toContain('网格员');
  });
});

describe('the public board', () => {
  it('when anyone reads it without signing in, then published cases show masked and unpublished ones do not', async () => {
    // Act
    const board = await consoleClient(app.api.url).get('/console/board');
    const item = await consoleClient(app.api.url).get(`/console/board/${cases.good}`);
    const unpublished = await consoleClient(app.api.url).get(`/console/board/${cases.waiting}`);

    // Assert
    expect(board.status).toBe(200);
    const text = textOf(board.html);
    expect(text).toContain('办理结果公示');
    expect(board.html).toContain(`/console/board/${cases.good}`);
    expect(board.html).toContain(`/console/board/${cases.poor}`);
    expect(board.html).not.toContain(cases.waiting);
    expect(item.status).toBe(200);
    const detail = textOf(item.html);
    expect(detail).toContain('环境卫生');
    expect(detail).toContain('东关社区');
    expect(detail).toContain('5 分');
    for (const secret of ['张三', '李四']) {
      expect(text).not.toContain(secret);
      expect(detail).not.toContain(secret);
    }
    expect(detail).toMatch(/联系人 张\*/);
    expect(unpublished.status).toBe(404);
  });

  it('when filtered by community or category, then only matching cases are listed', async () => {
    // Act
    const west = await consoleClient(app.api.url).get('/console/board?unitId=r-c2');
    const noise = await consoleClient(app.api.url).get('/console/board?category=noise');
    const street = await consoleClient(app.api.url).get(
      '/console/board?unitId=r-s&category=sanitation',
    );
    const unknown = await consoleClient(app.api.url).get('/console/board?unitId=nowhere');

    // Assert
    for (const [page, shown, hidden] of [
      [west, cases.poor, cases.good],
      [noise, cases.poor, cases.good],
      [street, cases.good, cases.poor],
    ] as const) {
      expect(page.status).toBe(200);
      expect(page.html).toContain(`/console/board/${shown}`);
      expect(page.html).not.toContain(`/console/board/${hidden}`);
    }
    expect(west.html).toMatch(/<option value="r-c2" selected>/);
    expect(unknown.status).toBe(400);
  });
});

describe('emergency activation', () => {
  it('when an admin activates a community, then the roll-call page lists who was called and follows a report', async () => {
    // Arrange
    const boss = as('boss');
    const form = await boss.get(`/console/emergency?process=${ACTIVATION}`);

    // Act
    const started = await boss.post('/console/emergency', {
      process: ACTIVATION,
      unitId: 'r-mc',
      reason: '防汛应急响应',
      requestKey: requestKeyIn(form.html),
    });
    const path = (started.location ?? '').split('?')[0]!;
    const before = await waitFor('the roll-calls opened', async () => {
      const page = await boss.get(path);
      const text = textOf(page.html);
      return ['孙经理', '周楼长', '郑经理'].every((n) => text.includes(n)) ? page : undefined;
    });
    const task = await waitFor('the roll-call offered to manager1', async () => {
      const res = await app.http<{ items: Array<{ id: string; stepId: string }> }>(
        'GET',
        '/api/v1/tasks?view=available',
        { token: tokens.manager1 },
      );
      return res.body.items.find((t) => t.stepId === 'report');
    });
    const claimed = await app.http('POST', `/api/v1/tasks/${task.id}/claim`, {
      token: tokens.manager1,
    });
    const after = await boss.get(path);
    const missingOnly = await boss.get(`${path}?missing=1`);

    // Assert
    expect(form.status).toBe(200);
    expect(form.html).toContain('name="reason"');
    expect(started.status).toBe(303);
    expect(path).toMatch(/^\/console\/emergency\/case-[0-9a-f]{24}$/);
    expect(before.html).toMatch(/<section id="roll-call"[^>]*data-refresh="5"/);
    expect(textOf(before.html)).toContain('应到 3 已报到 0 未报到 3');
    expect(textOf(before.html)).toContain('防汛应急响应');
    expect(claimed.status).toBe(200);
    expect(textOf(after.html)).toContain('应到 3 已报到 1 未报到 2');
    expect(after.html).toContain('<li class="ack-yes">孙经理</li>');
    expect(after.html).toContain('<li class="ack-no">周楼长</li>');
    expect(after.html).toContain('<li class="ack-no">郑经理</li>');
    // Both compounds still have someone missing.
    expect(textOf(missingOnly.html)).toContain('幸福小区');
    expect(textOf(missingOnly.html)).toContain('和谐小区');
  });

  it('when a dispatcher asks for the emergency pages, then they are refused', async () => {
    // Act
    const page = await as('disp').get('/console/emergency');

    // Assert
    expect(page.status).toBe(403);
  });
});

describe('evaluation results', () => {
  it('when the round has closed, then its page shows the results with who served and the CSV downloads', async () => {
    // Arrange
    await waitFor(
      'the round closed',
      async () =>
        (await app.db.models.EvaluationRound.findById(roundId, { status: 1 }).lean())?.status ===
        'closed',
      // The round closes a grace period after its window (SCORE_CLOSE_GRACE_MS).
      (ROUND_OPEN_S + SCORE_CLOSE_GRACE_MS / 1000 + 30) * 1000,
    );
    const disp = as('edisp');

    // Act
    const page = await disp.get(`/console/evaluations/${roundId}`);
    const csv = await fetch(`${app.api.url}/console/evaluations/${roundId}/results.csv`, {
      headers: { cookie: `gf_session=${encodeURIComponent(tokens.edisp!)}` },
    });
    const bytes = new Uint8Array(await csv.arrayBuffer());

    // Assert
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('评议结果');
    expect(text).toContain('南关社区');
    expect(page.html).toContain(`/console/evaluations/${roundId}/results.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe(
      `attachment; filename="evaluation-${roundId}.csv"`,
    );
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const body = new TextDecoder('utf-8').decode(bytes);
    expect(body.split('\r\n')[0]).toBe(
      '类型,编号,名称,所属单位,评单数,已评单数,缺评单数,综合得分,居民（权重60%）,共建单位（权重40%）,服务质量,办理时效,满意度',
    );
    expect(body).toContain('单位,r-e,评议街道,');
    expect(body).toContain('书记,p-sec,评议书记,');
    // Who served the rated order: its unit and member, on the page and in the CSV.
    expect(text).toContain('各服务单位得分（按承办的订单）');
    expect(text).toContain('县第二中学');
    expect(text).toContain('各服务人员得分（按承办的订单）');
    expect(body).toContain('服务单位,r-cb,县第二中学,评议街道,1,1,0,');
    expect(body).toContain('服务人员,p-sec,评议书记,,1,1,0,');
  }, 200_000);

  it('when the round has closed, then the annual assessment records page lists the secretary and the units, filters by kind and downloads the ledger', async () => {
    // Arrange: the round closed (the test above waits for it); and the street's 条块考核 of a
    // department, as its review's confirmation writes it (activities/department-assessments.ts)
    const disp = as('edisp');
    const cookie = { cookie: `gf_session=${encodeURIComponent(tokens.edisp!)}` };
    await app.db.models.AssessmentRecord.replaceOne(
      { _id: 'case-tk:department:r-dep' },
      {
        roundId: 'case-tk',
        roundUnitId: 'r-e',
        year: 2026,
        kind: 'department',
        subjectId: 'r-dep',
        name: '县城管局',
        unitNames: ['评议街道'],
        period: { from: '2025-12-31T16:00:00.000Z', to: '2026-12-31T16:00:00.000Z' },
        items: 4,
        scored: 4,
        missing: 0,
        score: 85,
        closedAt: new Date(),
        weight: 30,
        weightedScore: 0,
        rates: { responseRate: 0.5, completionRate: 1 },
        veto: { reason: '拒不应哨', by: 'p-sec' },
      },
      { upsert: true },
    );

    // Act
    const rounds = await disp.get('/console/evaluations');
    const all = await disp.get('/console/assessments');
    const secretaries = await disp.get('/console/assessments?kind=secretary');
    const badKind = await disp.get('/console/assessments?kind=mayor');
    const csv = await fetch(`${app.api.url}/console/exports/assessments?format=csv&kind=unit`, {
      headers: cookie,
    });
    const resident = await as('resident').get('/console/assessments');
    const departments = await disp.get('/console/assessments?kind=department');
    const departmentCsv = await fetch(
      `${app.api.url}/console/exports/assessments?format=csv&kind=department`,
      { headers: cookie },
    );

    // Assert: linked from the rounds, one row per secretary, unit and serving unit of the round
    expect(rounds.html).toContain('href="/console/assessments"');
    expect(all.status).toBe(200);
    const text = textOf(all.html);
    expect(text).toContain('年度考核记录');
    expect(text).toContain('评议书记');
    expect(text).toContain('评议街道');
    expect(text).toContain('县第二中学');
    expect(all.html).toContain(`/console/evaluations/${roundId}`);
    expect(textOf(secretaries.html)).toContain('评议书记');
    expect(textOf(secretaries.html)).not.toContain('县第二中学');
    expect(badKind.status).toBe(400);
    expect(textOf(badKind.html)).toContain('类型应为党组织书记、单位、服务单位或职能部门');
    expect(csv.status).toBe(200);
    const body = new TextDecoder('utf-8').decode(new Uint8Array(await csv.arrayBuffer()));
    expect(body.split('\r\n')[0]).toBe(
      '年度,类型,编号,名称,所属单位,评议轮次,评议期起,评议期止,评单数,已评单数,缺评单数,综合得分,街道权重(%),计入年度得分,一票否决,否决理由',
    );
    expect(body).toContain(`,单位,r-e,评议街道,`);
    expect(body).not.toContain(',党组织书记,');
    expect(resident.status).toBe(403);
    // 条块考核: the street's weight, its part (0: vetoed) and the veto, linked to its case
    const departmentText = textOf(departments.html);
    expect(departmentText).toContain('县城管局');
    expect(departmentText).toContain('30%');
    expect(departmentText).toContain('否决：拒不应哨');
    expect(departmentText).not.toContain('评议书记');
    expect(departments.html).toContain('href="/console/cases/case-tk"');
    const departmentBody = new TextDecoder('utf-8').decode(
      new Uint8Array(await departmentCsv.arrayBuffer()),
    );
    expect(departmentBody).toContain(',职能部门（条块考核）,r-dep,县城管局,评议街道,case-tk,');
    expect(departmentBody).toContain(',85.00,30,0.00,是,拒不应哨');
  }, 60_000);
});

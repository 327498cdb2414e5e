import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import { SCORE_CLOSE_GRACE_MS } from '../../common/evaluation';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * A community 评单会 (Xunyi: 社区定期组织居民代表和被服务居民召开“评单”会, seeds/002) end to end on
 * the real dev server and FerretDB: a street's round with a meeting group hosted by each
 * community's secretary; the host records the meeting through
 * POST /api/v1/evaluations/{round}/meetings (again: replaced), strangers, other hosts, orders of
 * another community and days outside the round are refused, a late record gets 409, and the
 * results carry the meeting's scores under its weight and its record, as JSON and CSV.
 */

const ORDER_KEY = 'meet-order';
const ROUND_KEY = 'meet-round-test';
const OPEN_FOR_S = 25;

const orderDefinition = `
key: ${ORDER_KEY}
name: 评单会测试订单
starters: [resident]
input:
  fields:
    - { name: category, label: 订单类别, type: string, required: true }
steps:
  - { id: rate, name: 群众评价, type: feedback, within: PT8S }
  - { id: closed, name: 办结, type: end }
`;

const roundDefinition = `
key: ${ROUND_KEY}
name: 评单会测试
starters: [admin]
input:
  fields:
    - { name: periodFrom, label: 起始日, type: date, required: true }
    - { name: periodTo, label: 截止日, type: date, required: true }
steps:
  - id: scoring
    name: 评单打分
    type: evaluation
    orders: { from: data.periodFrom, to: data.periodTo, definitions: [${ORDER_KEY}] }
    groups:
      - { id: residents, name: 居民, weight: 60, scorers: requester }
      - { id: meeting, name: 社区评单会, weight: 40, meeting: { host: secretary } }
    orderRating: { group: residents }
    within: PT${OPEN_FOR_S}S
  - { id: closed, name: 结束, type: end }
`;

let app: TestApp;
const tokens: Record<string, string> = {};
const orders: Record<string, string> = {};
let roundId: string;

async function account(username: string, roles: string[], unitIds: string[] = []) {
  tokens[username] = await app.signIn(username, roles, unitIds);
  const user = await app.db.models.User.findOne({ username }).lean();
  return String(user!._id);
}

async function order(unitId: string, rating: number): Promise<string> {
  const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens.resident,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: ORDER_KEY, unitId, data: { category: '助老服务' } },
  });
  expect(res.status).toBe(201);
  const id = res.body.id;
  await waitFor(`${id} waiting for its rating`, async () => {
    const found = await app.db.models.Case.findById(id, { currentStep: 1 }).lean();
    return found?.currentStep?.id === 'rate';
  });
  const rated = await app.http('POST', `/api/v1/cases/${id}/rating`, {
    token: tokens.resident,
    body: { score: rating },
  });
  expect(rated.status).toBe(200);
  await waitFor(`${id} closed`, async () => {
    const found = await app.db.models.Case.findById(id, { status: 1 }).lean();
    return found?.status === 'closed';
  });
  return id;
}

/** A Beijing calendar date, `days` from today. */
function beijingDate(days: number): string {
  return new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);
}

const all = (value: number) => ({ quality: value, duration: value, satisfaction: value });
const MINUTES = '个人讲述：3 位被服务居民讲述助老服务；集体评议：服务及时，回访到位。';

function meeting(user: string, body: Record<string, unknown>) {
  return app.http<Record<string, unknown>>('POST', `/api/v1/evaluations/${roundId}/meetings`, {
    token: tokens[user],
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      unitId: 'm-c1',
      heldOn: beijingDate(0),
      representatives: 5,
      residents: 3,
      minutes: MINUTES,
      scores: [{ item: orders.o1, values: all(4) }],
      ...body,
    },
  });
}

beforeAll(async () => {
  app = await startTestApp('evaluation-meeting');
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  for (const source of [orderDefinition, roundDefinition]) {
    await definitions.publish({ source, format: 'yaml', publishedBy: { kind: 'system', id: 't' } });
  }
  await account('resident', ['resident']);
  const sec1 = await account('sec1', ['staff'], ['m-c1']);
  const sec2 = await account('sec2', ['staff'], ['m-c2']);
  await account('street-disp', ['dispatcher'], ['m-s']);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'm-s', name: '评单街道', type: 'street', parentId: null },
        { id: 'm-c1', name: '甲社区', type: 'community', parentId: 'm-s' },
        { id: 'm-c2', name: '乙社区', type: 'community', parentId: 'm-s' },
        { id: 'm-g1', name: '甲一网格', type: 'grid', parentId: 'm-c1' },
      ],
      people: [
        { id: 'm-p-sec1', name: '甲社区书记', email: uniqueAddress('m1'), userId: sec1 },
        { id: 'm-p-sec2', name: '乙社区书记', email: uniqueAddress('m2'), userId: sec2 },
      ],
      posts: [
        { unitId: 'm-c1', role: 'secretary', personId: 'm-p-sec1' },
        { unitId: 'm-c2', role: 'secretary', personId: 'm-p-sec2' },
      ],
    },
  });
  expect(imported.status).toBe(200);
  // Community 甲: an order at its grid rated 3; community 乙: one rated 5.
  [orders.o1, orders.o2] = await Promise.all([order('m-g1', 3), order('m-c2', 5)]);
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: ROUND_KEY,
      unitId: 'm-s',
      data: { periodFrom: beijingDate(-1), periodTo: beijingDate(0) },
    },
  });
  expect(started.status).toBe(201);
  roundId = started.body.id;
  await waitFor('the round opened', () => app.db.models.EvaluationRound.exists({ _id: roundId }));
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

describe('a community 评单会 in an evaluation round', () => {
  it("when a host reads the round, then the meeting group is named and they see their community's orders in it", async () => {
    // Act
    const res = await app.http<{
      groups: Array<{ id: string; meeting: unknown; scorers: number }>;
      items: Array<{ id: string; groups: string[] }>;
    }>('GET', `/api/v1/evaluations/${roundId}`, { token: tokens.sec1 });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.groups.map((g) => [g.id, g.meeting, g.scorers])).toEqual([
      ['residents', null, 0],
      ['meeting', { unitsOfType: 'community', host: 'secretary' }, 2],
    ]);
    expect(res.body.items.map((i) => [i.id, i.groups])).toEqual([[orders.o1, ['meeting']]]);
  });

  it('when the host records the meeting twice, then the second replaces the first, and everyone else is refused with the problem named', async () => {
    // Act
    const first = await meeting('sec1', { scores: [{ item: orders.o1, values: all(1) }] });
    const again = await meeting('sec1', {
      scores: [{ item: orders.o1, values: { quality: 5, duration: 4, satisfaction: 3 } }],
    });
    const otherHost = await meeting('sec2', {});
    const otherCommunity = await meeting('sec1', {
      unitId: 'm-c2',
      scores: [{ item: orders.o2, values: all(2) }],
    });
    const notOfTheUnit = await meeting('sec1', { scores: [{ item: orders.o2, values: all(2) }] });
    const before = await meeting('sec1', { heldOn: beijingDate(-3) });
    const noMinutes = await meeting('sec1', { minutes: '  ' });
    const resident = await meeting('resident', {});
    const stranger = await meeting('street-disp', {});
    const oneByOne = await app.http<Record<string, unknown>>(
      'POST',
      `/api/v1/evaluations/${roundId}/scores`,
      {
        token: tokens.sec1,
        headers: { 'idempotency-key': idempotencyKey() },
        body: { group: 'meeting', scores: [{ item: orders.o1, values: all(5) }] },
      },
    );

    // Assert
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      roundId,
      group: 'meeting',
      unitId: 'm-c1',
      recorded: 1,
      removed: 0,
    });
    expect(otherHost.status).toBe(403);
    expect(otherHost.body).toMatchObject({ error: { details: [{ path: 'body.unitId' }] } });
    expect(otherCommunity.status).toBe(403);
    expect(notOfTheUnit.status).toBe(422);
    expect(notOfTheUnit.body).toMatchObject({
      error: {
        details: [{ path: 'body.scores[0].item', message: `order "${orders.o2}" is not of m-c1` }],
      },
    });
    expect(before.status).toBe(422);
    expect(before.body).toMatchObject({ error: { details: [{ path: 'body.heldOn' }] } });
    expect(noMinutes.status).toBe(400);
    expect(resident.status).toBe(403);
    // A supervisor of the street is no host: forbidden, not its meeting to record.
    expect(stranger.status).toBe(403);
    expect(oneByOne.status).toBe(422);
    expect(oneByOne.body).toMatchObject({ error: { details: [{ path: 'body.group' }] } });
    // One meeting record and one score of it: the second submission replaced the first.
    expect(await app.db.models.EvaluationMeeting.countDocuments({ roundId })).toBe(1);
    expect(await app.db.models.EvaluationScore.countDocuments({ roundId, group: 'meeting' })).toBe(
      1,
    );
  });

  it('when the round has closed, then a meeting is refused (409) and the results carry its scores under its weight and its record, as JSON and CSV', async () => {
    // Act
    const stored = await app.db.models.EvaluationRound.findById(roundId, { closesAt: 1 }).lean();
    await waitFor(
      'the closing instant passed',
      () => Promise.resolve(Date.now() > stored!.closesAt.getTime()),
      (OPEN_FOR_S + 30) * 1000,
    );
    const late = await meeting('sec1', {});
    await waitFor(
      'the round closed',
      async () =>
        (await app.db.models.EvaluationRound.findById(roundId).lean())?.status === 'closed',
      (SCORE_CLOSE_GRACE_MS / 1000 + 30) * 1000,
    );
    const results = await app.http<{
      items: Array<{ itemId: string; score: number | null }>;
      overall: { groups: Array<{ id: string; scores: number; mean: number | null }> };
      meetings: Array<Record<string, unknown>>;
    }>('GET', `/api/v1/evaluations/${roundId}/results`, { token: tokens['street-disp'] });
    const page = await fetch(`${app.api.url}/console/evaluations/${roundId}`, {
      headers: { cookie: `gf_session=${encodeURIComponent(tokens['street-disp']!)}` },
    });
    const html = await page.text();
    const csv = await app.http<string>('GET', `/api/v1/evaluations/${roundId}/results?format=csv`, {
      token: tokens['street-disp'],
    });

    // Assert
    expect(late.status).toBe(409);
    expect(results.status).toBe(200);
    // o1: its rating 3 ×60 + the meeting's 4 (5, 4, 3) ×40 → 3.4; o2: its rating 5 only.
    expect(results.body.items.map((i) => [i.itemId, i.score]).sort()).toEqual(
      [
        [orders.o1, 3.4],
        [orders.o2, 5],
      ].sort(),
    );
    expect(results.body.overall.groups).toEqual([
      { id: 'residents', scores: 2, mean: 4 },
      { id: 'meeting', scores: 1, mean: 4 },
    ]);
    expect(results.body.meetings).toEqual([
      {
        group: 'meeting',
        unitId: 'm-c1',
        unitName: '甲社区',
        hostPersonId: 'm-p-sec1',
        hostName: '甲社区书记',
        heldOn: beijingDate(0),
        representatives: 5,
        residents: 3,
        minutes: MINUTES,
        orders: 1,
        recordedAt: expect.any(String) as string,
      },
    ]);
    // The console's round page shows the meeting's record beside the results.
    expect(page.status).toBe(200);
    expect(html).toContain('社区评单会（居民代表和被服务居民个人讲述、集体评议）');
    expect(html).toContain(MINUTES);
    expect(html).toContain('甲社区书记');
    expect(csv.status).toBe(200);
    const lines = String(csv.body).split('\r\n');
    const block = lines.indexOf(
      '评单会,单位编号,单位,召开日期,居民代表人数,被服务居民人数,评议订单数,主持人,评议纪要',
    );
    expect(block).toBeGreaterThan(0);
    expect(lines[block - 1]).toBe('');
    expect(lines[block + 1]).toBe(
      `社区评单会,m-c1,甲社区,${beijingDate(0)},5,3,1,甲社区书记,${MINUTES}`,
    );
  }, 240_000);
});

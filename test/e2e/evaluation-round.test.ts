import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import { SCORE_CLOSE_GRACE_MS } from '../../common/evaluation';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * An evaluation round (评单评议) end to end on the real dev server and FerretDB: four closed orders
 * with known ratings in two communities of a street, a round started on demand for the street
 * (a test process that closes after 30 s), each scorer group scoring through the API (with the
 * scope checks refusing strangers), the close freezing the results, and the weighted results per
 * unit and per secretary, as JSON and as the exact CSV text.
 */

const ORDER_KEY = 'eval-order';
const ROUND_KEY = 'eval-round-test';
const OPEN_FOR_S = 30;

const orderDefinition = `
key: ${ORDER_KEY}
name: 评单测试订单
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
name: 评单评议测试
starters: [admin]
roles:
  - { key: social-organisation, label: 社会组织代表 }
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
      - { id: residents, name: 居民, weight: 50, scorers: requester }
      - id: units
        name: 共建单位
        weight: 30
        scorers: [{ role: liaison, unitsOfType: cobuilding, under: case }]
      - id: organisations
        name: 社会组织
        weight: 20
        scorers: [{ role: social-organisation, unitsOfType: community, under: case }]
    orderRating: { group: residents }
    within: PT${OPEN_FOR_S}S
    deadlines:
      - id: score_soon
        name: 尽快打分
        within: PT15S
        escalations:
          - notify: { role: secretary, unit: case }
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

async function order(resident: string, unitId: string, rating: number | null): Promise<string> {
  const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens[resident],
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: ORDER_KEY, unitId, data: { category: '助老服务' } },
  });
  expect(res.status).toBe(201);
  const id = res.body.id;
  if (rating !== null) {
    await waitFor(`${id} waiting for its rating`, async () => {
      const found = await app.db.models.Case.findById(id, { currentStep: 1 }).lean();
      return found?.currentStep?.id === 'rate';
    });
    const rated = await app.http('POST', `/api/v1/cases/${id}/rating`, {
      token: tokens[resident],
      body: { score: rating },
    });
    expect(rated.status).toBe(200);
  }
  return id;
}

function closed(caseId: string): Promise<unknown> {
  return waitFor(`${caseId} closed`, async () => {
    const found = await app.db.models.Case.findById(caseId, { status: 1 }).lean();
    return found?.status === 'closed';
  });
}

function score(
  user: string,
  body: { group?: string; scores: Array<{ item: string; values: Record<string, number> }> },
) {
  return app.http<Record<string, unknown>>('POST', `/api/v1/evaluations/${roundId}/scores`, {
    token: tokens[user],
    headers: { 'idempotency-key': idempotencyKey() },
    body,
  });
}

const v = (quality: number, duration: number, satisfaction: number) => ({
  quality,
  duration,
  satisfaction,
});

/** A Beijing calendar date, `days` from today. */
function beijingDate(days: number): string {
  return new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000).toISOString().slice(0, 10);
}

beforeAll(async () => {
  app = await startTestApp('evaluation-round');
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  for (const source of [orderDefinition, roundDefinition]) {
    await definitions.publish({
      source,
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'test' },
    });
  }
  const resA = await account('res-a', ['resident']);
  await account('res-b', ['resident']);
  const liaison = await account('liaison', ['staff'], ['e-cb']);
  const org = await account('org', ['staff'], ['e-c1']);
  await account('street-disp', ['dispatcher'], ['e-s']);
  await account('c2-disp', ['dispatcher'], ['e-c2']);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'e-s', name: '评议街道', type: 'street', parentId: null },
        { id: 'e-c1', name: '甲社区', type: 'community', parentId: 'e-s' },
        { id: 'e-c2', name: '乙社区', type: 'community', parentId: 'e-s' },
        { id: 'e-g1', name: '甲一网格', type: 'grid', parentId: 'e-c1' },
        { id: 'e-cb', name: '县第一中学', type: 'cobuilding', parentId: 'e-s' },
      ],
      people: [
        { id: 'e-p-sec', name: '街道书记', email: uniqueAddress('sec') },
        { id: 'e-p-sec1', name: '甲社区书记', email: uniqueAddress('sec1') },
        { id: 'e-p-sec2', name: '乙社区书记', email: uniqueAddress('sec2') },
        { id: 'e-p-liaison', name: '联络员', email: uniqueAddress('li'), userId: liaison },
        { id: 'e-p-org', name: '社会组织代表', email: uniqueAddress('org'), userId: org },
        // Resident A also holds a post: it gives no right to score as a unit.
        { id: 'e-p-resa', name: '居民甲', userId: resA },
      ],
      posts: [
        { unitId: 'e-s', role: 'secretary', personId: 'e-p-sec' },
        { unitId: 'e-c1', role: 'secretary', personId: 'e-p-sec1' },
        { unitId: 'e-c2', role: 'secretary', personId: 'e-p-sec2' },
        { unitId: 'e-cb', role: 'liaison', personId: 'e-p-liaison' },
        { unitId: 'e-c1', role: 'social-organisation', personId: 'e-p-org' },
        { unitId: 'e-g1', role: 'volunteer', personId: 'e-p-resa' },
      ],
    },
  });
  expect(imported.status).toBe(200);

  // Community 甲 (one order filed at its grid): rated 5 and 3; community 乙: rated 4, and one
  // nobody rates (its feedback window lapses) and nobody will score.
  [orders.o1, orders.o2, orders.o3, orders.o4] = await Promise.all([
    order('res-a', 'e-g1', 5),
    order('res-a', 'e-c1', 3),
    order('res-b', 'e-c2', 4),
    order('res-b', 'e-c2', null),
  ]);
  await Promise.all(Object.values(orders).map(closed));

  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: ROUND_KEY,
      unitId: 'e-s',
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

describe('an evaluation round (评单评议)', () => {
  it('when the round opens, then its orders are the closed orders of the street and each scorer sees only what they may score', async () => {
    // Act
    const street = await app.http<{ itemCount: number; items: Array<{ id: string }> }>(
      'GET',
      `/api/v1/evaluations/${roundId}`,
      { token: tokens['street-disp'] },
    );
    const resB = await app.http<{ items: Array<{ id: string; groups: string[] }> }>(
      'GET',
      `/api/v1/evaluations/${roundId}`,
      { token: tokens['res-b'] },
    );
    const org = await app.http<{ items: Array<{ id: string; groups: string[] }> }>(
      'GET',
      `/api/v1/evaluations/${roundId}`,
      { token: tokens.org },
    );

    // Assert
    expect(street.status).toBe(200);
    expect(street.body.itemCount).toBe(4);
    expect(street.body.items.map((i) => i.id).sort()).toEqual(Object.values(orders).sort());
    expect(resB.body.items.map((i) => [i.id, i.groups]).sort()).toEqual(
      [
        [orders.o3, ['residents']],
        [orders.o4, ['residents']],
      ].sort(),
    );
    expect(org.body.items.map((i) => [i.id, i.groups]).sort()).toEqual(
      [
        [orders.o1, ['organisations']],
        [orders.o2, ['organisations']],
      ].sort(),
    );
  });

  it('when each group scores, then the scores are recorded and strangers, bad values and unknown orders are refused with the problem named', async () => {
    // Act
    const a = await score('res-a', {
      scores: [
        { item: orders.o1!, values: v(5, 4, 5) },
        { item: orders.o2!, values: v(3, 3, 3) },
      ],
    });
    const b = await score('res-b', { scores: [{ item: orders.o3!, values: v(4, 5, 3) }] });
    const units = await score('liaison', {
      group: 'units',
      scores: [
        { item: orders.o1!, values: v(4, 4, 4) },
        { item: orders.o2!, values: v(5, 5, 5) },
        { item: orders.o3!, values: v(3, 3, 3) },
      ],
    });
    // A first score corrected: the second replaces it (one score per scorer and order).
    await score('org', { scores: [{ item: orders.o1!, values: v(1, 1, 1) }] });
    const org = await score('org', { scores: [{ item: orders.o1!, values: v(5, 5, 5) }] });
    const outOfScope = await score('org', { scores: [{ item: orders.o3!, values: v(5, 5, 5) }] });
    const notTheirs = await score('res-b', { scores: [{ item: orders.o1!, values: v(1, 1, 1) }] });
    const tooHigh = await score('res-b', { scores: [{ item: orders.o3!, values: v(6, 5, 5) }] });
    const missingCriterion = await score('res-b', {
      scores: [{ item: orders.o3!, values: { quality: 4, duration: 4 } }],
    });
    const unknown = await score('liaison', {
      scores: [{ item: 'case-000000000000000000000000', values: v(4, 4, 4) }],
    });
    // The same submission again (a retry with another Idempotency-Key): nothing changes.
    const again = await score('res-b', { scores: [{ item: orders.o3!, values: v(4, 5, 3) }] });

    // Assert
    expect([a.status, b.status, units.status, org.status]).toEqual([200, 200, 200, 200]);
    expect(a.body).toEqual({ roundId, group: 'residents', recorded: 2 });
    expect(outOfScope.status).toBe(403);
    expect(notTheirs.status).toBe(403);
    expect(tooHigh.status).toBe(400);
    expect(tooHigh.body).toMatchObject({
      error: { details: [{ path: 'body.scores[0].values.quality' }] },
    });
    expect(missingCriterion.status).toBe(422);
    expect(missingCriterion.body).toMatchObject({
      error: { details: [{ path: 'body.scores[0].values.satisfaction' }] },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ error: { details: [{ path: 'body.scores[0].item' }] } });
    expect(again.status).toBe(200);
    // One document per scorer and order, written by the API (not through the round's workflow).
    expect(await app.db.models.EvaluationScore.countDocuments({ roundId })).toBe(7);
  });

  it('while the round is open, then its results are not yet available (409)', async () => {
    // Act
    const res = await app.http('GET', `/api/v1/evaluations/${roundId}/results`, {
      token: tokens['street-disp'],
    });

    // Assert
    expect(res.status).toBe(409);
  });

  it('when the deadline passes, then scores are refused at once, the round closes after its grace period, escalated on the way', async () => {
    // Act
    const stored = await app.db.models.EvaluationRound.findById(roundId, { closesAt: 1 }).lean();
    await waitFor(
      'the closing instant passed',
      () => Promise.resolve(Date.now() > stored!.closesAt.getTime()),
      (OPEN_FOR_S + 30) * 1000,
    );
    // Past closesAt, within the grace period: the round is still open, the API refuses.
    const inGrace = await score('res-b', { scores: [{ item: orders.o3!, values: v(1, 1, 1) }] });
    const statusInGrace = (await app.db.models.EvaluationRound.findById(roundId).lean())?.status;
    await waitFor(
      'the round closed',
      async () =>
        (await app.db.models.EvaluationRound.findById(roundId).lean())?.status === 'closed',
      (SCORE_CLOSE_GRACE_MS / 1000 + 30) * 1000,
    );
    await closed(roundId);
    const late = await score('res-b', { scores: [{ item: orders.o3!, values: v(1, 1, 1) }] });

    // Assert
    const round = await app.db.models.Case.findById(roundId, { timeline: 1 }).lean();
    const types = round!.timeline.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['evaluation.opened', 'deadline.escalated', 'evaluation.closed']),
    );
    // Scores no longer pass through the round's workflow, so they leave no timeline entry each.
    expect(types).not.toContain('evaluation.scored');
    expect(round!.timeline.find((e) => e.type === 'evaluation.closed')?.detail).toEqual({
      items: 4,
      scored: 3,
      missing: 1,
    });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({
      error: { message: `Round ${roundId} has closed; its results are frozen` },
    });
    expect([statusInGrace, inGrace.status]).toEqual(['open', 409]);
  }, 240_000);

  it('when the results are read, then they are weighted per order, per unit with its subtree and per secretary', async () => {
    // Act
    const res = await app.http<{
      overall: { score: number; scored: number; missing: number };
      units: Array<{ unitId: string; score: number | null; items: number; missing: number }>;
      secretaries: Array<{ personId: string; name: string; score: number | null }>;
      items: Array<{ itemId: string; score: number | null; missingGroups: string[] }>;
    }>('GET', `/api/v1/evaluations/${roundId}/results`, { token: tokens['street-disp'] });
    const stranger = await app.http('GET', `/api/v1/evaluations/${roundId}/results`, {
      token: tokens['c2-disp'],
    });

    // Assert
    expect(res.status).toBe(200);
    // o1: residents (rating 5 and 4.67) 4.83 ×50, units 4 ×30, organisations 5 ×20 → 4.62.
    // o2: residents 3 ×50, units 5 ×30, no organisation → renormalised over 80 → 3.75.
    // o3: residents (4 and 4) 4 ×50, units 3 ×30 → 3.63 (3.625). o4: nobody → missing.
    const byItem = Object.fromEntries(res.body.items.map((i) => [i.itemId, i]));
    expect(byItem[orders.o1!]).toMatchObject({ score: 4.62, missingGroups: [] });
    expect(byItem[orders.o2!]).toMatchObject({ score: 3.75, missingGroups: ['organisations'] });
    expect(byItem[orders.o3!]).toMatchObject({ score: 3.63, missingGroups: ['organisations'] });
    expect(byItem[orders.o4!]).toMatchObject({
      score: null,
      missingGroups: ['residents', 'units', 'organisations'],
    });
    expect(res.body.units.map((u) => [u.unitId, u.items, u.missing, u.score])).toEqual([
      ['e-s', 4, 1, 4],
      ['e-c1', 2, 0, 4.18],
      ['e-g1', 1, 0, 4.62],
      ['e-c2', 2, 1, 3.63],
    ]);
    expect(res.body.secretaries.map((s) => [s.personId, s.name, s.score])).toEqual([
      ['e-p-sec', '街道书记', 4],
      ['e-p-sec1', '甲社区书记', 4.18],
      ['e-p-sec2', '乙社区书记', 3.63],
    ]);
    expect(res.body.overall).toMatchObject({ score: 4, scored: 3, missing: 1 });
    expect(stranger.status).toBe(404);
  });

  it('when the results are exported as CSV, then the text is UTF-8 with a BOM, a header row and one row per unit and per secretary', async () => {
    // Act
    const res = await fetch(`${app.api.url}/api/v1/evaluations/${roundId}/results?format=csv`, {
      headers: { authorization: `Bearer ${tokens['street-disp']}` },
    });
    const bytes = new Uint8Array(await res.arrayBuffer());

    // Assert
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)).toBe(
      '\uFEFF' +
        [
          '类型,编号,名称,所属单位,评单数,已评单数,缺评单数,综合得分,居民（权重50%）,共建单位（权重30%）,社会组织（权重20%）,服务质量,办理时效,满意度',
          '单位,e-s,评议街道,,4,3,1,4.00,3.94,4.00,5.00,4.10,4.10,4.00',
          '单位,e-c1,甲社区,评议街道,2,2,0,4.18,3.92,4.50,5.00,4.29,4.14,4.29',
          '单位,e-g1,甲一网格,甲社区,1,1,0,4.62,4.83,4.00,5.00,4.75,4.50,4.75',
          '单位,e-c2,乙社区,评议街道,2,1,1,3.63,4.00,3.00,,3.67,4.00,3.33',
          '书记,e-p-sec,街道书记,评议街道,4,3,1,4.00,3.94,4.00,5.00,4.10,4.10,4.00',
          '书记,e-p-sec1,甲社区书记,甲社区,2,2,0,4.18,3.92,4.50,5.00,4.29,4.14,4.29',
          '书记,e-p-sec2,乙社区书记,乙社区,2,1,1,3.63,4.00,3.00,,3.67,4.00,3.33',
        ].join('\r\n') +
        '\r\n',
    );
  });

  it('when the annual assessment records are read, then the round left one per secretary and unit for its supervisors, as JSON and CSV, and a dispatcher of a community below sees none', async () => {
    // Act
    const res = await app.http<{
      items: Array<{ roundId: string; kind: string; subjectId: string; score: number | null }>;
      total: number;
    }>('GET', '/api/v1/assessments?kind=secretary', { token: tokens['street-disp'] });
    const narrow = await app.http<{ items: unknown[] }>('GET', '/api/v1/assessments', {
      token: tokens['c2-disp'],
    });
    const csv = await fetch(`${app.api.url}/api/v1/assessments?format=csv&kind=unit`, {
      headers: { authorization: `Bearer ${tokens['street-disp']}` },
    });
    const text = await csv.text();
    const bad = await app.http('GET', '/api/v1/assessments?kind=mayor', {
      token: tokens['street-disp'],
    });
    // A department's 条块考核 record for the same street, as its review's confirmation writes it
    await app.db.models.AssessmentRecord.replaceOne(
      { _id: 'case-tk:department:e-dep' },
      {
        roundId: 'case-tk',
        roundUnitId: 'e-s',
        year: 2026,
        kind: 'department',
        subjectId: 'e-dep',
        name: '县城管局',
        unitNames: ['评议街道'],
        period: { from: '2025-12-31T16:00:00.000Z', to: '2026-12-31T16:00:00.000Z' },
        items: 2,
        scored: 2,
        missing: 0,
        score: 85,
        closedAt: new Date('2027-01-20T02:00:00.000Z'),
        weight: 30,
        weightedScore: 25.5,
        rates: { responseRate: 0.5, completionRate: 1, onTimeRate: 1, satisfactionRate: 1 },
        veto: null,
      },
      { upsert: true },
    );
    const departments = await app.http<{ items: unknown[] }>(
      'GET',
      '/api/v1/assessments?kind=department',
      { token: tokens['street-disp'] },
    );

    // Assert
    expect(res.status).toBe(200);
    expect(
      res.body.items.filter((r) => r.roundId === roundId).map((r) => [r.subjectId, r.score]),
    ).toEqual([
      ['e-p-sec', 4],
      ['e-p-sec1', 4.18],
      ['e-p-sec2', 3.63],
    ]);
    expect(narrow.body.items).toEqual([]);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(text.split('\r\n').filter((l) => l.includes(`,${roundId},`))).toEqual([
      expect.stringMatching(/^\d{4},单位,e-c1,甲社区,评议街道,/),
      expect.stringMatching(/^\d{4},单位,e-c2,乙社区,评议街道,/),
      expect.stringMatching(/^\d{4},单位,e-g1,甲一网格,甲社区,/),
      // (the four 条块考核 columns stay empty for a round's records)
      expect.stringMatching(/^\d{4},单位,e-s,评议街道,,.*,4,3,1,4\.00,,,,$/),
    ]);
    expect(bad.status).toBe(400);
    expect(departments.status).toBe(200);
    expect(departments.body.items).toEqual([
      expect.objectContaining({
        kind: 'department',
        subjectId: 'e-dep',
        score: 85,
        weight: 30,
        weightedScore: 25.5,
        rates: { responseRate: 0.5, completionRate: 1, onTimeRate: 1, satisfactionRate: 1 },
        veto: null,
      }),
    ]);
  });
});

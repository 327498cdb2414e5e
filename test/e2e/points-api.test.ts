import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * Volunteer points (积分) through the API on the real dev server and FerretDB: orders served by
 * reporting party members earn the definition's points; each member's balance and ledger; a
 * redemption, an overdraw refused, two racing redemptions of which exactly one goes through; the
 * per-unit 双报到 report-back with known figures; and who may see what.
 *
 * The org: street pt-s with communities pt-c1 and pt-c2 and, under the street, a co-building unit
 * (pt-cb, 县医院) and a department (pt-dep). Members m1 and m3 report to pt-c1, m2 to pt-c2; m1
 * and m2 work for pt-cb, m3 for pt-dep.
 */

const KEY = 'points-order';
const definition = `
key: ${KEY}
name: 党员接单（积分测试）
starters: [admin]
input:
  fields:
    - { name: description, label: 诉求内容, type: text, required: true }
steps:
  - id: serve
    name: 党员接单办理
    type: task
    announce: false
    candidates: [{ role: party-member, unit: community }]
    outcomes: [{ id: resolved, name: 已办结 }, { id: explained, name: 已解释说明 }]
  - { id: closed, name: 办结, type: end }
points:
  - { when: { step: serve, outcome: resolved }, points: 5, reason: 群众点单已办结 }
  - { when: { step: serve, outcome: explained }, points: 2, reason: 群众点单解释说明 }
`;

interface Entry {
  id: string;
  kind: string;
  points: number;
  reason: string;
  unit: { id: string } | null;
  community: { id: string } | null;
  caseId: string | null;
}
interface PersonPoints {
  person: { id: string; name: string };
  balance: number;
  earned: number;
  redeemed: number;
  items: Entry[];
  total: number;
}
interface Redemption {
  entry: Entry;
  balance: number;
}
interface UnitRef {
  id: string;
}
interface Report {
  unit: UnitRef;
  reportBack: {
    earned: number;
    redeemed: number;
    members: Array<{
      person: { id: string; name: string };
      homeUnits: UnitRef[];
      earned: number;
      redeemed: number;
      byCommunity: Array<{ unit: UnitRef; earned: number }>;
    }>;
  };
  served: {
    earned: number;
    earnedByOutsideMembers: number;
    byHomeUnit: Array<{ unit: UnitRef; earned: number; people: number }>;
    members: Array<{
      person: { id: string };
      homeUnits: UnitRef[];
      earned: number;
      services: number;
    }>;
  };
}

let app: TestApp;
const tokens: Record<string, string> = {};
const period = () => {
  const from = new Date(Date.now() - 86_400_000).toISOString();
  const to = new Date(Date.now() + 86_400_000).toISOString();
  return `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
};

async function account(username: string, roles: string[], unitIds: string[]): Promise<string> {
  tokens[username] = await app.signIn(username, roles, unitIds);
  const user = await app.db.models.User.findOne({ username }).lean();
  return String(user!._id);
}

/** Files an order in `unitId`; `member` claims and completes it with `outcome`; waits for its end. */
async function order(unitId: string, member: string, outcome: string): Promise<string> {
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: KEY, unitId, data: { description: '楼道灯不亮' } },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;
  const task = await waitFor(`the order ${caseId} offered to ${member}`, async () => {
    const res = await app.http<{ items: Array<{ id: string }> }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${caseId}`,
      { token: tokens[member] },
    );
    return res.body.items[0];
  });
  const claimed = await app.http('POST', `/api/v1/tasks/${task.id}/claim`, {
    token: tokens[member],
  });
  expect(claimed.status).toBe(200);
  const done = await app.http('POST', `/api/v1/tasks/${task.id}/complete`, {
    token: tokens[member],
    body: { outcome },
  });
  expect(done.status).toBe(200);
  await waitFor(`${caseId} closed`, async () => {
    const found = await app.db.models.Case.findById(caseId, { closedAt: 1 }).lean();
    return found?.closedAt ?? undefined;
  });
  return caseId;
}

function ledger(token: string, personId: string, query = '') {
  return app.http<PersonPoints>('GET', `/api/v1/points/people/${personId}${query}`, { token });
}

function redeem(token: string, body: Record<string, unknown>, key?: string) {
  return app.http<Redemption>('POST', '/api/v1/points/redemptions', {
    token,
    body,
    ...(key !== undefined ? { headers: { 'idempotency-key': key } } : {}),
  });
}

function report(token: string, unitId: string) {
  return app.http<Report>('GET', `/api/v1/points/units/${unitId}?${period()}`, { token });
}

beforeAll(async () => {
  app = await startTestApp('points-api');
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  await definitions.publish({
    source: definition,
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  const m1 = await account('member1', ['staff'], []);
  const m2 = await account('member2', ['staff'], []);
  const m3 = await account('member3', ['staff'], []);
  await account('c1-disp', ['dispatcher'], ['pt-c1']);
  await account('c2-disp', ['dispatcher'], ['pt-c2']);
  await account('street-disp', ['dispatcher'], ['pt-s']);
  await account('resident', ['resident'], []);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'pt-s', name: '积分街道', type: 'street', parentId: null },
        { id: 'pt-c1', name: '东社区', type: 'community', parentId: 'pt-s' },
        { id: 'pt-c2', name: '西社区', type: 'community', parentId: 'pt-s' },
        { id: 'pt-g1', name: '东一网格', type: 'grid', parentId: 'pt-c1' },
        { id: 'pt-g2', name: '西一网格', type: 'grid', parentId: 'pt-c2' },
        { id: 'pt-cb', name: '县人民医院', type: 'cobuilding', parentId: 'pt-s' },
        { id: 'pt-dep', name: '县住建局', type: 'department', parentId: 'pt-s' },
      ],
      people: [
        { id: 'pt-m1', name: '党员甲', email: uniqueAddress('m1'), userId: m1 },
        { id: 'pt-m2', name: '党员乙', email: uniqueAddress('m2'), userId: m2 },
        { id: 'pt-m3', name: '党员丙', email: uniqueAddress('m3'), userId: m3 },
      ],
      posts: [
        { unitId: 'pt-c1', role: 'party-member', personId: 'pt-m1' },
        { unitId: 'pt-cb', role: 'officer', personId: 'pt-m1' },
        { unitId: 'pt-c2', role: 'party-member', personId: 'pt-m2' },
        { unitId: 'pt-cb', role: 'officer', personId: 'pt-m2' },
        { unitId: 'pt-c1', role: 'party-member', personId: 'pt-m3' },
        { unitId: 'pt-dep', role: 'officer', personId: 'pt-m3' },
      ],
    },
  });
  expect(imported.status).toBe(200);

  // m1: 5 + 2 in 东社区; m2: 5 in 西社区; m3: 5 in 东社区.
  await Promise.all([
    order('pt-g1', 'member1', 'resolved'),
    order('pt-g2', 'member2', 'resolved'),
    order('pt-g1', 'member3', 'resolved'),
  ]);
  await order('pt-g1', 'member1', 'explained');
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

describe('points earned through cases', () => {
  it('when members completed orders, then each balance and ledger shows the rule’s points where they were earned', async () => {
    // Act
    const m1 = await ledger(tokens.member1!, 'pt-m1');
    const m2 = await ledger(tokens['street-disp']!, 'pt-m2');

    // Assert: m1 reads their own ledger through their account's person link
    expect(m1.status).toBe(200);
    expect(m1.body).toMatchObject({ balance: 7, earned: 7, redeemed: 0, total: 2 });
    expect(m1.body.items.map((e) => [e.kind, e.points, e.reason]).sort()).toEqual([
      ['earn', 2, '群众点单解释说明'],
      ['earn', 5, '群众点单已办结'],
    ]);
    expect(m1.body.items.every((e) => e.community?.id === 'pt-c1' && e.unit?.id === 'pt-g1')).toBe(
      true,
    );
    expect(m2.status).toBe(200);
    expect(m2.body).toMatchObject({ person: { id: 'pt-m2', name: '党员乙' }, balance: 5 });
  });
});

describe('redemptions', () => {
  it('when a dispatcher redeems within the balance, then it is debited once, also when retried with its Idempotency-Key', async () => {
    // Arrange
    const key = idempotencyKey();
    const body = { personId: 'pt-m1', points: 3, reason: '兑换洗衣液一瓶' };

    // Act
    const first = await redeem(tokens['c1-disp']!, body, key);
    const retried = await redeem(tokens['c1-disp']!, body, key);
    const reused = await redeem(tokens['c1-disp']!, { ...body, points: 1 }, key);
    const after = await ledger(tokens['c1-disp']!, 'pt-m1', '?pageSize=2');

    // Assert
    expect(first.status).toBe(201);
    expect(first.body.balance).toBe(4);
    expect(first.body.entry).toMatchObject({ kind: 'redeem', points: -3, unit: { id: 'pt-c1' } });
    expect(retried.status).toBe(200);
    expect(retried.body.entry.id).toBe(first.body.entry.id);
    expect(reused.status).toBe(422);
    expect(after.body).toMatchObject({ balance: 4, earned: 7, redeemed: 3, total: 3 });
    expect(after.body.items).toHaveLength(2);
    expect(after.body.items[0]!.kind).toBe('redeem');
  });

  it('when a redemption exceeds the balance, then it is refused with 409 and nothing is written', async () => {
    // Act
    const res = await redeem(tokens['street-disp']!, {
      personId: 'pt-m2',
      points: 6,
      reason: '兑换大米',
    });
    const m2 = await ledger(app.adminKey, 'pt-m2');

    // Assert
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      error: { message: expect.stringContaining('Not enough points: the balance is 5') as string },
    });
    expect(m2.body).toMatchObject({ balance: 5, total: 1 });
  });

  it('when two redemptions that together overdraw race, then exactly one succeeds', async () => {
    // Arrange: m3 has 5
    const body = { personId: 'pt-m3', points: 3, reason: '兑换理发券' };

    // Act
    const results = await Promise.all([
      redeem(tokens['c1-disp']!, body),
      redeem(tokens['street-disp']!, body),
    ]);
    const m3 = await ledger(app.adminKey, 'pt-m3');

    // Assert
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(m3.body).toMatchObject({ balance: 2, redeemed: 3 });
  });

  it('when a redemption is malformed, then the problem is named', async () => {
    // Act
    const res = await redeem(tokens['c1-disp']!, { personId: 'pt-m1', points: 0, reason: '' });

    // Assert
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: {
        details: expect.arrayContaining([
          { path: 'body.points', message: 'a whole number of points from 1 to 100000' },
          { path: 'body.reason', message: 'say what the points were exchanged for' },
        ]) as unknown,
      },
    });
  });
});

describe('the per-unit 双报到 report', () => {
  it('when a co-building unit is reported on, then its members’ points are listed by the community they served', async () => {
    // Act
    const res = await report(app.adminKey, 'pt-cb');

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.reportBack).toEqual({
      earned: 12,
      redeemed: 3,
      members: [
        {
          person: { id: 'pt-m1', name: '党员甲' },
          homeUnits: [{ id: 'pt-cb', name: '县人民医院', type: 'cobuilding' }],
          earned: 7,
          redeemed: 3,
          byCommunity: [{ unit: { id: 'pt-c1', name: '东社区', type: 'community' }, earned: 7 }],
        },
        {
          person: { id: 'pt-m2', name: '党员乙' },
          homeUnits: [{ id: 'pt-cb', name: '县人民医院', type: 'cobuilding' }],
          earned: 5,
          redeemed: 0,
          byCommunity: [{ unit: { id: 'pt-c2', name: '西社区', type: 'community' }, earned: 5 }],
        },
      ],
    });
    expect(res.body.served).toMatchObject({ earned: 0, earnedByOutsideMembers: 0 });
  });

  it('when a community is reported on by its dispatcher, then the points earned there by members of outside units are listed by their unit', async () => {
    // Act
    const res = await report(tokens['c1-disp']!, 'pt-c1');

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.reportBack).toEqual({ earned: 0, redeemed: 0, members: [] });
    expect(res.body.served.earned).toBe(12);
    expect(res.body.served.earnedByOutsideMembers).toBe(12);
    expect(res.body.served.byHomeUnit.map((r) => [r.unit.id, r.earned, r.people])).toEqual([
      ['pt-cb', 7, 1],
      ['pt-dep', 5, 1],
    ]);
    // How often each served here: m1 two orders (5 + 2), m3 one.
    expect(res.body.served.members.map((m) => [m.person.id, m.earned, m.services])).toEqual([
      ['pt-m1', 7, 2],
      ['pt-m3', 5, 1],
    ]);
  });

  it('when the street is reported on, then every member’s unit is inside it and the totals add up', async () => {
    // Act
    const res = await report(tokens['street-disp']!, 'pt-s');

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.reportBack.earned).toBe(17);
    expect(res.body.reportBack.redeemed).toBe(6);
    expect(res.body.served).toMatchObject({ earned: 17, earnedByOutsideMembers: 0 });
  });
});

describe('who may see and redeem points', () => {
  it('when another community’s dispatcher asks, then the person and the unit are not found', async () => {
    // Act
    const person = await ledger(tokens['c2-disp']!, 'pt-m1');
    const unit = await report(tokens['c2-disp']!, 'pt-c1');
    const redemption = await redeem(tokens['c2-disp']!, {
      personId: 'pt-m1',
      points: 1,
      reason: '兑换',
    });

    // Assert
    expect([person.status, unit.status, redemption.status]).toEqual([404, 404, 404]);
  });

  it('when a resident or another member asks, then it is forbidden', async () => {
    // Act
    const person = await ledger(tokens.resident!, 'pt-m1');
    const unit = await report(tokens.resident!, 'pt-c1');
    const redemption = await redeem(tokens.resident!, {
      personId: 'pt-m1',
      points: 1,
      reason: '兑换',
    });
    const otherMember = await ledger(tokens.member2!, 'pt-m1');

    // Assert
    expect([person.status, unit.status, redemption.status, otherMember.status]).toEqual([
      403, 403, 403, 403,
    ]);
  });
});

describe('many racing redemptions', () => {
  it('when five redemptions of 2 race against a balance of 5, then exactly two go through and the balance stays at 1', async () => {
    // Arrange: m2 has 5 (the reports above counted none of this)
    const body = { personId: 'pt-m2', points: 2, reason: '兑换毛巾' };

    // Act
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        redeem(tokens[i % 2 === 0 ? 'street-disp' : 'c2-disp']!, body),
      ),
    );
    const m2 = await ledger(app.adminKey, 'pt-m2');

    // Assert
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 409, 409, 409]);
    expect(m2.body).toMatchObject({ balance: 1, redeemed: 4 });
  });
});

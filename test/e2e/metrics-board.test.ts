import { listDaysComplete } from '../../activities/list-days';
import { chinaDayHourOf } from '../../common/list-days';
import type { TimelineEntry } from '../../common/case';
import { createDefinitionService } from '../../services/definitions';
import { measureTimeline, storedMetrics } from '../../common/case-measures';
import { createMailRenderer } from '../../mail/renderer';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * Metrics (接单率, 响应率, 办结率, 满意度…) and the public board (公示) from real cases on the
 * real dev server and FerretDB: five cases with known fates in two communities, then the
 * figures per unit, their roll-up to the street, the ranking, and the board's masking.
 */

const KEY = 'metrics-flow';
/** Long enough for the prompt cases to be claimed on a loaded machine; the late one waits it out. */
const ACCEPT_WITHIN_S = 10;

const definition = `
key: ${KEY}
name: 指标测试
starters: [resident, admin]
input:
  fields:
    - { name: category, label: 诉求类别, type: string, required: true }
    - { name: contactName, label: 联系人, type: string, personal: true }
    - { name: contactEmail, label: 联系邮箱, type: email, personal: true }
steps:
  - id: serve
    name: 办理
    type: task
    announce: false
    candidates: [{ role: grid-worker, unit: grid }]
    outcomes: [{ id: done, name: 已办结 }, { id: refuse, name: 不予受理 }]
    deadlines:
      - id: accept
        name: 签收时限
        within: PT${ACCEPT_WITHIN_S}S
        stopsOn: claim
        escalations:
          - notify: { role: director, unit: community }
  - id: route
    name: 分流
    type: decision
    branches:
      - { when: "steps.serve.outcome == 'refuse'", next: refused }
    otherwise: wall
  - id: wall
    name: 结果公示
    type: publish
    title: 办理结果公示
    show: [category, contactName]
  - id: rate
    name: 群众评价
    type: feedback
    within: PT1M
    invite: { field: contactEmail }
  - { id: closed, name: 办结, type: end }
  - { id: refused, name: 不予受理, type: end, status: rejected }
`;

interface Figures {
  received: number;
  accepted: number;
  respondedInTime: number;
  completed: number;
  completedOnTime: number;
  rejected: number;
  overdue: number;
  escalated: number;
  rated: number;
  satisfied: number;
  rates: Record<string, number | null>;
  averages: Record<string, number | null>;
}
interface UnitMetrics {
  unit: { id: string };
  period: { label: string };
  totals: Figures;
  children: Array<Figures & { unit: { id: string; name: string } }>;
  months: Array<{ month: string; received: number; completed: number }>;
}
interface Ranking {
  by: string;
  items: Array<Figures & { rank: number | null; unit: { id: string } }>;
}
interface BoardItem {
  id: string;
  place: Array<{ id: string; type: string }>;
  title: string;
  outcome: string | null;
  fields: Array<{ label: string; value: string }>;
  status: string;
  handlingMinutes: number | null;
  score: number | null;
}
interface Task {
  id: string;
  stepId: string;
}

let app: TestApp;
const tokens: Record<string, string> = {};
const cases: Record<string, string> = {};

async function account(username: string, roles: string[], unitIds: string[]): Promise<string> {
  tokens[username] = await app.signIn(username, roles, unitIds);
  const user = await app.db.models.User.findOne({ username }).lean();
  return String(user!._id);
}

async function startCase(unitId: string, contactName: string): Promise<string> {
  const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens.resident,
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: KEY,
      unitId,
      data: { category: '环境卫生', contactName, contactEmail: uniqueAddress('resident') },
    },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function serveTask(user: string, caseId: string): Promise<Task> {
  return waitFor(`the serve task of ${caseId}`, async () => {
    const res = await app.http<{ items: Task[] }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${caseId}`,
      { token: tokens[user] },
    );
    return res.body.items.find((t) => t.stepId === 'serve');
  });
}

async function serve(user: string, caseId: string, outcome: string): Promise<void> {
  const task = await serveTask(user, caseId);
  const claimed = await app.http('POST', `/api/v1/tasks/${task.id}/claim`, { token: tokens[user] });
  expect(claimed.status).toBe(200);
  const done = await app.http('POST', `/api/v1/tasks/${task.id}/complete`, {
    token: tokens[user],
    body: { outcome },
  });
  expect(done.status).toBe(200);
}

async function rate(caseId: string, score: number): Promise<void> {
  await waitFor(`${caseId} waiting for its rating`, async () => {
    const found = await app.db.models.Case.findById(caseId, { currentStep: 1 }).lean();
    return found?.currentStep?.id === 'rate';
  });
  const res = await app.http('POST', `/api/v1/cases/${caseId}/rating`, {
    token: tokens.resident,
    body: { score },
  });
  expect(res.status).toBe(200);
}

function caseDone(caseId: string): Promise<unknown> {
  return waitFor(`${caseId} closed`, async () => {
    const found = await app.db.models.Case.findById(caseId, { closedAt: 1 }).lean();
    return found?.closedAt ?? undefined;
  });
}

beforeAll(async () => {
  app = await startTestApp('metrics-board');
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  await definitions.publish({
    source: definition,
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  const worker1 = await account('worker1', ['staff'], ['m-g1']);
  const worker2 = await account('worker2', ['staff'], ['m-g2']);
  await account('street-disp', ['dispatcher'], ['m-s']);
  await account('c2-disp', ['dispatcher'], ['m-c2']);
  await account('resident', ['resident'], []);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'm-s', name: '指标街道', type: 'street', parentId: null },
        { id: 'm-c1', name: '甲社区', type: 'community', parentId: 'm-s' },
        { id: 'm-c2', name: '乙社区', type: 'community', parentId: 'm-s' },
        { id: 'm-g1', name: '甲一网格', type: 'grid', parentId: 'm-c1' },
        { id: 'm-g2', name: '乙一网格', type: 'grid', parentId: 'm-c2' },
        { id: 'm-x1', name: '幸福小区', type: 'compound', parentId: 'm-g1' },
        { id: 'm-b1', name: '3号楼', type: 'building', parentId: 'm-x1' },
      ],
      people: [
        { id: 'm-p1', name: '网格员甲', email: uniqueAddress('w1'), userId: worker1 },
        { id: 'm-p2', name: '网格员乙', email: uniqueAddress('w2'), userId: worker2 },
        { id: 'm-d1', name: '甲社区主任', email: uniqueAddress('d1') },
      ],
      posts: [
        { unitId: 'm-g1', role: 'grid-worker', personId: 'm-p1' },
        { unitId: 'm-g2', role: 'grid-worker', personId: 'm-p2' },
        { unitId: 'm-c1', role: 'director', personId: 'm-d1' },
      ],
    },
  });
  expect(imported.status).toBe(200);

  // c1 (one filed for a building of a compound): served in time and rated 5, refused, and served
  // late (its accept deadline passes and escalates first) and rated 2. c2: served in time and
  // rated 4, and one still waiting. The prompt ones are claimed together, well inside the limit.
  cases.prompt = await startCase('m-b1', '张三');
  cases.refused = await startCase('m-g1', '王五');
  cases.c2done = await startCase('m-g2', '赵六');
  await Promise.all([
    serve('worker1', cases.prompt, 'done'),
    serve('worker1', cases.refused, 'refuse'),
    serve('worker2', cases.c2done, 'done'),
  ]);
  cases.late = await startCase('m-g1', '李四');
  cases.waiting = await startCase('m-g2', '钱七');
  await waitFor('the late case escalated', async () => {
    const found = await app.db.models.Case.findById(cases.late, { timeline: 1 }).lean();
    return found?.timeline.some((e) => e.type === 'deadline.escalated');
  });
  await serve('worker1', cases.late, 'done');
  await waitFor('the waiting case past its accept limit', async () => {
    const found = await app.db.models.Case.findById(cases.waiting, { timeline: 1 }).lean();
    return found?.timeline.some((e) => e.type === 'deadline.missed');
  });
  await Promise.all([rate(cases.prompt, 5), rate(cases.late, 2), rate(cases.c2done, 4)]);
  await Promise.all([cases.prompt, cases.late, cases.refused, cases.c2done].map(caseDone));
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

function metrics(token: string, query: string) {
  return app.http<UnitMetrics>('GET', `/api/v1/metrics?${query}`, { token });
}

describe('metrics', () => {
  it('when a street is asked for, then its totals add up its communities from the known fates', async () => {
    // Act
    const res = await metrics(app.adminKey, 'unitId=m-s');

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.totals).toMatchObject({
      received: 5,
      // The refused case is 不予受理 (a `rejected` end, the default without declared measures):
      // it counts in `received`, `excluded` and `rejected` only, in no rate's denominator.
      excluded: 1,
      dispatched: 4,
      accepted: 3,
      respondedInTime: 2,
      completed: 3,
      completedOnTime: 2,
      // The completed ones and the waiting one, past a deadline (any counts without a declared
      // completionDeadline).
      due: 4,
      rejected: 1,
      // The late case, and the waiting one whose accept limit has passed by now (its community
      // has no director, so it escalates to nobody).
      overdue: 2,
      escalated: 1,
      rated: 3,
      satisfied: 2,
      rates: {
        acceptanceRate: 0.75,
        responseRate: 0.5,
        completionRate: 0.75,
        resolutionRate: 0.75,
        onTimeRate: 0.6667,
        satisfactionRate: 0.6667,
        participationRate: 1,
        visitRate: 1,
        disputeResolutionRate: null,
        supervisionRate: 0.25,
        returnRate: 0,
        overdueRate: 0.5,
      },
      averages: { score: 3.67 },
    });
    const c1 = res.body.children.find((c) => c.unit.id === 'm-c1')!;
    const c2 = res.body.children.find((c) => c.unit.id === 'm-c2')!;
    expect(c1).toMatchObject({ received: 3, accepted: 2, completed: 2, rejected: 1, overdue: 1 });
    expect(c2).toMatchObject({
      received: 2,
      accepted: 1,
      completed: 1,
      overdue: 1,
      escalated: 0,
      rated: 1,
      satisfied: 1,
    });
    expect(res.body.months.reduce((n, m) => n + m.received, 0)).toBe(5);
  });

  it('when the stored figures are recomputed from each stored timeline, then they agree', async () => {
    // Arrange
    const docs = await app.db.models.Case.find({ definitionKey: KEY }).lean();

    // Act / Assert
    expect(docs).toHaveLength(5);
    for (const doc of docs) {
      const timeline = doc.timeline.map((e) => ({
        type: e.type as TimelineEntry['type'],
        at: new Date(e.at).toISOString(),
        detail: e.detail as TimelineEntry['detail'],
      }));
      expect(doc.metrics).toEqual(storedMetrics(measureTimeline(timeline)));
    }
  });

  it('when units are ranked by completion, then the community completing more comes first', async () => {
    // Act
    const res = await app.http<Ranking>(
      'GET',
      '/api/v1/metrics/ranking?unitId=m-s&unitType=community&by=completionRate',
      { token: tokens['street-disp']! },
    );

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.items.map((i) => [i.unit.id, i.rank, i.rates.completionRate])).toEqual([
      ['m-c1', 1, 1],
      ['m-c2', 2, 0.5],
    ]);
  });

  it('when a period without cases is asked for, then counts are 0 and rates null', async () => {
    // Act
    const res = await metrics(app.adminKey, 'unitId=m-s&period=2020-H1');

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.totals.received).toBe(0);
    expect(res.body.totals.rates.completionRate).toBeNull();
  });

  it("when a community's dispatcher asks for the street or the other community, then it does not exist for them", async () => {
    // Act
    const street = await metrics(tokens['c2-disp']!, 'unitId=m-s');
    const other = await metrics(tokens['c2-disp']!, 'unitId=m-c1');
    const own = await metrics(tokens['c2-disp']!, '');

    // Assert
    expect(street.status).toBe(404);
    expect(other.status).toBe(404);
    expect(own.status).toBe(200);
    expect(own.body.unit.id).toBe('m-c2');
    expect(own.body.totals.received).toBe(2);
  });

  it('when a resident or nobody asks, or the period is malformed, then it is refused', async () => {
    // Act
    const resident = await metrics(tokens.resident!, 'unitId=m-s');
    const anonymous = await app.http('GET', '/api/v1/metrics?unitId=m-s');
    const badPeriod = await metrics(app.adminKey, 'unitId=m-s&period=2026-H3');

    // Assert
    expect(resident.status).toBe(403);
    expect(anonymous.status).toBe(401);
    expect(badPeriod.status).toBe(400);
    expect(JSON.stringify(badPeriod.body)).toContain('query.period');
  });
});

describe('public board', () => {
  it('when anyone reads the board for a community, then published cases show masked, placed no lower than the compound', async () => {
    // Arrange: the worker marked the day keys complete (a new store), so the board is read day by
    // day from the keys the projection wrote when each case was published
    expect(await listDaysComplete(app.db.models)).toBe(true);
    const marked = await app.db.models.Case.find(
      { boardDays: { $exists: true } },
      { _id: 1, boardDays: 1, publication: 1 },
    ).lean();
    const published = await app.db.models.Case.find(
      { publication: { $ne: null } },
      { _id: 1 },
    ).lean();
    expect(marked.map((c) => c._id).sort()).toEqual(published.map((c) => c._id).sort());
    const promptKeys = marked.find((c) => c._id === cases.prompt)!;
    const publishedAt = new Date((promptKeys.publication as { publishedAt: string }).publishedAt);
    expect(promptKeys.boardDays).toContain(`u:m-c1|${chinaDayHourOf(publishedAt).day}`);

    // Act
    const res = await app.http<{ items: BoardItem[]; total: number }>(
      'GET',
      '/api/v1/public/board?unitId=m-c1',
    );
    const paged = await app.http<{
      items: BoardItem[];
      total: number;
      totalIsEstimate: boolean;
      next: string | null;
    }>('GET', '/api/v1/public/board?unitId=m-c1&pageSize=1');
    const second = await app.http<{
      items: BoardItem[];
      total: number;
      totalIsEstimate: boolean;
      next: string | null;
    }>('GET', paged.body.next ?? '/no-next-link');

    // Assert
    // The first page stops before the end (an estimate from the day markers, right here); the
    // last one read to the end counts exactly, from its cursor on.
    expect(paged.body).toMatchObject({ total: 2, totalIsEstimate: true });
    expect(second.body).toMatchObject({ total: 1, totalIsEstimate: false });
    expect([...paged.body.items, ...second.body.items].map((i) => i.id)).toEqual(
      res.body.items.map((i) => i.id),
    );
    expect(second.body.next).toBeNull();
    expect(res.status).toBe(200);
    // The refused case never reached the publish step.
    expect(res.body.items.map((i) => i.id).sort()).toEqual([cases.late, cases.prompt].sort());
    expect(res.body.total).toBe(2);
    const prompt = res.body.items.find((i) => i.id === cases.prompt)!;
    expect(prompt.place.map((p) => p.id)).toEqual(['m-s', 'm-c1', 'm-g1', 'm-x1']);
    expect(prompt).toMatchObject({
      title: '办理结果公示',
      outcome: '已办结',
      status: 'closed',
      score: 5,
    });
    expect(prompt.handlingMinutes).not.toBeNull();
    const name = prompt.fields.find((f) => f.label === '联系人')!;
    expect(name.value).not.toContain('张三');
    expect(name.value.startsWith('张')).toBe(true);
    const text = JSON.stringify(res.body);
    for (const secret of ['张三', '李四', '@example.test', 'm-b1', '3号楼']) {
      expect(text).not.toContain(secret);
    }
  });

  it('when a case is unpublished or unknown, then the board answers 404', async () => {
    // Act
    const unpublished = await app.http('GET', `/api/v1/public/board/${cases.waiting}`);
    const published = await app.http<BoardItem>('GET', `/api/v1/public/board/${cases.c2done}`);
    const unknownUnit = await app.http('GET', '/api/v1/public/board?unitId=nowhere');

    // Assert
    expect(unpublished.status).toBe(404);
    expect(published.status).toBe(200);
    expect(published.body.score).toBe(4);
    expect(unknownUnit.status).toBe(404);
  });
});

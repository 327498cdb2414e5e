import { createDefinitionService } from '../../services/definitions';
import type { ImportedCase } from '../../common/case-import';
import { DEMO_COUNTY_ID } from '../../demo/county';
import type { DemoSeedDeps } from '../../demo/seed';
import { openDemoSeedDeps, seedDemo } from '../../demo/seed';
import { createMailRenderer } from '../../mail/renderer';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/**
 * Historical cases (历史工单导入) through POST /api/v1/cases/import on the real dev server and
 * FerretDB: checked against the process version, written once by the import workflow's activity,
 * counted by the metrics and shown on the board; and the demo county's history stage, which
 * brings a few months of closed cases in every process through the same service.
 */
const KEY = 'import-flow';
const definition = `
key: ${KEY}
name: 导入测试
starters: [resident, admin]
input:
  fields:
    - { name: category, label: 诉求类别, type: string, required: true, options: [环境卫生, 其他] }
    - { name: contactName, label: 联系人, type: string, personal: true }
    - { name: year, label: 年度, type: integer, required: true, default: year(case.receivedAt) }
steps:
  - id: serve
    name: 办理
    type: task
    candidates: [{ role: grid-worker, unit: case }]
    outcomes: [{ id: done, name: 已办结 }]
  - id: wall
    name: 公示
    type: publish
    title: 办理结果公示
    show: [category, contactName]
  - { id: closed, name: 办结, type: end }
`;

let app: TestApp;
let residentToken: string;
let seeder: { deps: DemoSeedDeps; close(): Promise<void> } | undefined;

beforeAll(async () => {
  app = await startTestApp('case-import');
  await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
    source: definition,
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  residentToken = await app.signIn('import-resident', ['resident']);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'i-s', name: '导入街道', type: 'street', parentId: null },
        { id: 'i-c', name: '导入社区', type: 'community', parentId: 'i-s' },
        { id: 'i-g', name: '导入网格', type: 'grid', parentId: 'i-c' },
      ],
      people: [],
      posts: [],
    },
  });
  expect(imported.status).toBe(200);
});

afterAll(async () => {
  await seeder?.close();
  await app?.stop();
});

function record(externalId: string, overrides: Partial<ImportedCase> = {}): ImportedCase {
  const actor = { kind: 'user' as const, id: 'legacy-user' };
  const engine = { kind: 'system' as const, id: 'engine' };
  return {
    externalId,
    definitionKey: KEY,
    definitionVersion: 1,
    unitId: 'i-g',
    category: null,
    data: { category: '环境卫生', contactName: '周八' },
    createdBy: actor,
    status: 'closed',
    receivedAt: '2026-06-01T01:00:00Z',
    closedAt: '2026-06-01T09:00:00Z',
    events: [
      { type: 'case.started', at: '2026-06-01T01:00:00Z', actor },
      { type: 'task.claimed', at: '2026-06-01T01:20:00Z', actor, detail: { task: 't1' } },
      {
        type: 'task.completed',
        at: '2026-06-01T08:00:00Z',
        actor,
        detail: { task: 't1', outcome: 'done' },
      },
      { type: 'feedback.rated', at: '2026-06-01T08:30:00Z', actor, detail: { score: 4 } },
      { type: 'case.published', at: '2026-06-01T08:40:00Z', actor: engine },
      {
        type: 'case.closed',
        at: '2026-06-01T09:00:00Z',
        actor: engine,
        detail: { status: 'closed' },
      },
    ],
    rating: { score: 4, comment: null, at: '2026-06-01T08:30:00Z' },
    publication: {
      title: '办理结果公示',
      outcome: '已办结',
      fields: [
        { label: '诉求类别', value: '环境卫生' },
        { label: '联系人', value: '周*' },
      ],
      publishedAt: '2026-06-01T08:40:00Z',
    },
    ...overrides,
  };
}

function importCases(cases: ImportedCase[], token = app.adminKey) {
  return app.http<{ imported: number; alreadyThere: number; caseIds: string[] }>(
    'POST',
    '/api/v1/cases/import',
    { token, body: { batch: 'legacy-2026-06', cases } },
  );
}

it('when closed records are imported twice, then each becomes one closed case, counted and on the board', async () => {
  // Act
  const first = await importCases([record('legacy-1'), record('legacy-2')]);
  const again = await importCases([record('legacy-1'), record('legacy-2')]);

  // Assert
  expect(first.status).toBe(200);
  expect(first.body).toMatchObject({ imported: 2, alreadyThere: 0 });
  expect(again.body).toMatchObject({ imported: 0, alreadyThere: 2 });
  expect(again.body.caseIds).toEqual(first.body.caseIds);
  const stored = await app.db.models.Case.findById(first.body.caseIds[0]).lean();
  expect(stored).toMatchObject({ status: 'closed', channel: 'import', revision: 1 });
  expect(stored!.timeline.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  const metrics = await app.http<{
    totals: { received: number; completed: number; satisfied: number };
  }>('GET', '/api/v1/metrics?unitId=i-s&period=2026-06', { token: app.adminKey });
  expect(metrics.body.totals).toMatchObject({ received: 2, completed: 2, satisfied: 2 });
  const board = await app.http<{ total: number }>('GET', '/api/v1/public/board?unitId=i-c');
  expect(board.body.total).toBe(2);
});

it('when a record leaves out a field that has a default, then it is stored with the default as of its receipt', async () => {
  // Act
  const given = await importCases([record('defaulted-1')]);
  const explicit = await importCases([
    record('defaulted-2', { data: { category: '环境卫生', year: 2025 } }),
  ]);

  // Assert
  expect(given.status).toBe(200);
  expect(explicit.status).toBe(200);
  const stored = await app.db.models.Case.find(
    { _id: { $in: [...given.body.caseIds, ...explicit.body.caseIds] } },
    { data: 1 },
  ).lean();
  const yearOf = (id: string) => (stored.find((c) => c._id === id)!.data as { year?: number }).year;
  expect(yearOf(given.body.caseIds[0]!)).toBe(2026);
  expect(yearOf(explicit.body.caseIds[0]!)).toBe(2025);
});

it('when records are wrong, then the batch is refused with every problem and nothing is written', async () => {
  // Act
  const res = await importCases([
    record('bad-1', { definitionVersion: 9 }),
    record('bad-2', { data: { category: '噪音' }, unitId: 'nowhere' }),
    record('bad-3', { status: 'closed', events: record('x').events.slice(0, 3) }),
    record('bad-1'),
    record('bad-4', { servedBy: { unitIds: ['nowhere'], personIds: ['nobody'] } }),
  ]);

  // Assert
  expect(res.status).toBe(422);
  const paths = (
    res.body as unknown as { error: { details: Array<{ path: string }> } }
  ).error.details
    .map((d) => d.path)
    .sort();
  expect(paths).toEqual(
    [
      'body.cases[0].definitionVersion',
      'body.cases[1].data.category',
      'body.cases[1].unitId',
      'body.cases[2].events[2].type',
      'body.cases[3].externalId',
      'body.cases[4].servedBy.unitIds[0]',
      'body.cases[4].servedBy.personIds[0]',
    ].sort(),
  );
  expect(
    await app.db.models.Case.countDocuments({ channel: 'import', 'data.category': '噪音' }),
  ).toBe(0);
});

it('when a record names a case already imported with other content, then the batch is refused before anything is written', async () => {
  // Act: legacy-1 was imported by the first test; here it comes back edited, beside a new record.
  const res = await importCases([
    record('legacy-3'),
    record('legacy-1', { data: { category: '其他', contactName: '周八' } }),
  ]);

  // Assert
  expect(res.status).toBe(422);
  expect(JSON.stringify(res.body)).toContain('body.cases[1].externalId');
  expect(
    await app.db.models.Case.countDocuments({ channel: 'import', 'data.category': '其他' }),
  ).toBe(0);
  const again = await importCases([record('legacy-3')]);
  expect(again.body).toMatchObject({ imported: 1 });
});

it('when a resident imports, then it is forbidden', async () => {
  // Act
  const res = await importCases([record('legacy-9')], residentToken);

  // Assert
  expect(res.status).toBe(403);
});

it("when the demo county is seeded with its history, then a few months of every process's cases are imported once", async () => {
  // Arrange: the shipped processes, as npm start publishes them.
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  await definitions.publishFolder('definitions', { kind: 'system', id: 'test' });
  seeder = await openDemoSeedDeps(app.config, undefined, { history: true });

  // Act
  const first = await seedDemo(seeder.deps, { force: true });
  const second = await seedDemo(seeder.deps, { force: true });

  // Assert
  if (first.status === 'refused' || second.status === 'refused') throw new Error('refused');
  const history = first.stages.find((s) => s.name === 'case history')!;
  expect(history.changed).toBeGreaterThan(100);
  expect(second.stages.find((s) => s.name === 'case history')!.changed).toBe(0);
  const months = await app.http<{ months: Array<{ month: string; received: number }> }>(
    'GET',
    `/api/v1/metrics?unitId=${DEMO_COUNTY_ID}&period=2026`,
    { token: app.adminKey },
  );
  expect(months.status).toBe(200);
  expect(months.body.months.length).toBeGreaterThanOrEqual(4);
  // Co-building units' liaisons served some of the orders: counted for them by who served.
  const cobuilding = (await app.db.models.Unit.find({ type: 'cobuilding' }, { _id: 1 }).lean()).map(
    (u) => String(u._id),
  );
  const served = await app.db.models.Case.find(
    { channel: 'import', 'servedBy.unitIds': { $in: cobuilding } },
    { servedBy: 1 },
  ).lean();
  expect(served.length).toBeGreaterThan(10);
  const partner = (served[0]!.servedBy as { unitIds: string[] }).unitIds[0]!;
  const byServed = await app.http<{ totals: { received: number } }>(
    'GET',
    `/api/v1/metrics?unitId=${partner}&period=2026&attribution=served`,
    { token: app.adminKey },
  );
  expect(byServed.status).toBe(200);
  expect(byServed.body.totals.received).toBeGreaterThan(0);
}, 180_000);

it('when a published text holds phone and identity numbers, then the board shows them masked', async () => {
  // Arrange: an earlier system published the resident's words as they were typed
  const imported = await importCases([
    record('legacy-phone', {
      publication: {
        title: '办理结果公示',
        outcome: '已办结',
        fields: [
          { label: '诉求内容', value: '楼道堆物，请回电 139 0000 1111，身份证110105199003071234' },
          { label: '联系人', value: '周*' },
        ],
        publishedAt: '2026-06-01T08:40:00Z',
      },
    }),
  ]);
  const caseId = imported.body.caseIds[0]!;

  // Act
  const one = await app.http<{ fields: Array<{ label: string; value: string }> }>(
    'GET',
    `/api/v1/public/board/${caseId}`,
  );
  const list = await app.http<{ items: Array<{ id: string; fields: unknown }> }>(
    'GET',
    '/api/v1/public/board?unitId=i-c&pageSize=100',
  );

  // Assert
  expect(imported.status).toBe(200);
  expect(one.body.fields).toEqual([
    { label: '诉求内容', value: '楼道堆物，请回电 139****1111，身份证110***********1234' },
    { label: '联系人', value: '周*' },
  ]);
  expect(list.body.items.find((i) => i.id === caseId)?.fields).toEqual(one.body.fields);
  expect(JSON.stringify(list.body)).not.toMatch(/139 0000 1111|110105199003071234/);
});

import { consoleClient } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * Raters named by a feedback step (`from`, docs 6.8) on the API and the console: the community's
 * resident representative, who cannot otherwise see a neighbour's case, reads it as a rater
 * (personal data masked) while the step waits, rates it from the console's case page and still
 * reads it afterwards; a resident who is not named gets the same 404 as for a missing case.
 */
let app: TestApp;
const tokens: Record<string, string> = {};
const DEFINITION = 'test-named-raters';
const SOURCE = `
key: ${DEFINITION}
name: 楼道整治
starters: [resident]
input:
  fields:
    - { name: contactPhone, label: 联系电话, type: phone, personal: true }
    - { name: description, label: 问题描述, type: text }
steps:
  - id: serve
    name: 网格员办理
    type: task
    announce: false
    candidates: [{ role: grid-worker, unit: case }]
    outcomes: [{ id: done, name: 已完成 }]
  - id: review
    name: 居民代表评价
    type: feedback
    within: P3D
    from: [{ role: resident-rep, unit: community }]
  - { id: closed, name: 办结, type: end }
`;

interface CaseBody {
  status: string;
  access: string;
  namedRater: boolean;
  data: Record<string, unknown>;
  createdBy: { kind: string; id: string };
  deadlines: unknown[];
  timeline: Array<{ type: string; detail?: unknown }>;
  rating: { score: number | null } | null;
}

async function account(username: string, roles: string[], unitIds: string[]): Promise<string> {
  tokens[username] = await app.signIn(username, roles, unitIds);
  const user = await app.db.models.User.findOne({ username }).lean();
  return String(user!._id);
}

function readCase(user: string, caseId: string) {
  return app.http<CaseBody>('GET', `/api/v1/cases/${caseId}`, { token: tokens[user] });
}

beforeAll(async () => {
  app = await startTestApp('named-raters');
  const worker = await account('nr-worker', ['staff'], ['nr-grid']);
  const rep = await account('nr-rep', ['resident'], []);
  await account('nr-requester', ['resident'], []);
  await account('nr-neighbour', ['resident'], []);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'nr-street', name: '街道', type: 'street', parentId: null },
        { id: 'nr-community', name: '东关社区', type: 'community', parentId: 'nr-street' },
        { id: 'nr-grid', name: '第一网格', type: 'grid', parentId: 'nr-community' },
      ],
      people: [
        { id: 'nr-p-worker', name: '网格员', userId: worker },
        { id: 'nr-p-rep', name: '居民代表', email: uniqueAddress('nr-rep'), userId: rep },
      ],
      posts: [
        { unitId: 'nr-grid', role: 'grid-worker', personId: 'nr-p-worker' },
        { unitId: 'nr-community', role: 'resident-rep', personId: 'nr-p-rep' },
      ],
    },
  });
  expect(imported.status).toBe(200);
  const published = await app.http('POST', `/api/v1/definitions/${DEFINITION}/publish`, {
    token: app.adminKey,
    body: { format: 'yaml', source: SOURCE },
  });
  expect(published.status).toBe(201);
});

afterAll(async () => {
  await app?.stop();
});

it('when a feedback step names the community’s resident representative, then they open the case page, rate it there and still read it after; a resident not named gets 404', async () => {
  // Arrange: a resident's request, served by the grid worker
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens['nr-requester'],
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: DEFINITION,
      unitId: 'nr-grid',
      data: { contactPhone: '13812345678', description: '楼道堆物，联系 13912345678' },
    },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;
  const task = await waitFor('the serve task', async () => {
    const res = await app.http<{ items: Array<{ id: string }> }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${caseId}`,
      { token: tokens['nr-worker'] },
    );
    return res.body.items[0];
  });
  // Not named yet: the representative sees nothing of the case
  expect((await readCase('nr-rep', caseId)).status).toBe(404);
  for (const action of ['claim', 'complete']) {
    const res = await app.http('POST', `/api/v1/tasks/${task.id}/${action}`, {
      token: tokens['nr-worker'],
      body: action === 'complete' ? { outcome: 'done' } : {},
    });
    expect(res.status).toBe(200);
  }

  // Act: the feedback step opens; the representative reads the case and opens its page
  const asRater = await waitFor('the case readable by the named rater', async () => {
    const res = await readCase('nr-rep', caseId);
    return res.status === 200 ? res.body : undefined;
  });
  const web = consoleClient(app.api.url);
  web.useSession(tokens['nr-rep']!);
  const page = await web.get(`/console/cases/${encodeURIComponent(caseId)}`);

  // Assert: a rater's view (personal data masked, no step details), and the rating form
  expect(asRater).toMatchObject({
    access: 'rater',
    namedRater: true,
    data: { contactPhone: '138****5678', description: '楼道堆物，联系 139****5678' },
    createdBy: { kind: 'user', id: '' },
    deadlines: [],
  });
  expect(asRater.timeline.length).toBeGreaterThan(0);
  expect(asRater.timeline.filter((e) => e.detail !== undefined)).toEqual([]);
  expect(page.status).toBe(200);
  expect(page.html).toContain(`action="/console/cases/${caseId}/rate"`);
  expect(page.html).not.toContain('13812345678');

  // Act: a resident not named tries the API and the page
  const neighbourApi = await readCase('nr-neighbour', caseId);
  const neighbourWeb = consoleClient(app.api.url);
  neighbourWeb.useSession(tokens['nr-neighbour']!);
  const neighbourPage = await neighbourWeb.get(`/console/cases/${encodeURIComponent(caseId)}`);

  // Assert: refused as today
  expect(neighbourApi.status).toBe(404);
  expect(neighbourPage.status).toBe(404);

  // Act: the representative rates from the page
  const rated = await web.post(`/console/cases/${encodeURIComponent(caseId)}/rate`, {
    score: '4',
    comment: '楼道已清理',
    formKey: idempotencyKey(),
  });

  // Assert: the rating is the case's, and the rater still reads the closed case (not its form)
  expect(rated.status).toBe(303);
  const closed = await waitFor('the case closed with its rating', async () => {
    const res = await readCase('nr-rep', caseId);
    return res.status === 200 && res.body.status === 'closed' ? res.body : undefined;
  });
  expect(closed).toMatchObject({ access: 'rater', namedRater: false, rating: { score: 4 } });
  const after = await web.get(`/console/cases/${encodeURIComponent(caseId)}`);
  expect(after.status).toBe(200);
  expect(after.html).not.toContain(`action="/console/cases/${caseId}/rate"`);
  expect((await readCase('nr-neighbour', caseId)).status).toBe(404);
  // The requester still sees it whole, as before
  expect((await readCase('nr-requester', caseId)).body).toMatchObject({
    access: 'scope',
    data: { contactPhone: '13812345678' },
  });
});

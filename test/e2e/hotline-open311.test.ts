import type { TestApp } from '../support/harness';
import { startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * The shipped 接诉即办 process (definitions/hotline-12345.yaml) filed through Open311 GeoReport v2 by a
 * 12345 bridge and worked through the API to its close: the street centre accepts it, the
 * dispatch catalogue routes it to the water department, which asks for an extension (approved),
 * then answers 非本部门职责; the centre arbitrates it to another department; the resident's
 * unsatisfied rating reopens it, the catalogue's department answers again, the second rating
 * closes it, and Open311 shows it closed.
 */
interface Task {
  id: string;
  stepId: string;
  status: string;
}
interface Page<T> {
  items: T[];
}
interface CaseBody {
  id: string;
  status: string;
  channel: string;
  timeline: Array<{ type: string; stepId?: string; detail?: Record<string, unknown> }>;
}
interface Open311Request {
  service_request_id: string;
  status: string;
  service_code: string;
  agency_responsible: string | null;
}

let app: TestApp;
let bridgeKey: string;
const tokens: Record<string, string> = {};

async function account(username: string, roles: string[], unitIds: string[]): Promise<string> {
  tokens[username] = await app.signIn(username, roles, unitIds);
  const user = await app.db.models.User.findOne({ username }).lean();
  return String(user!._id);
}

beforeAll(async () => {
  app = await startTestApp('hotline-open311');
  const centre = await account('hl-centre', ['dispatcher'], ['hs1']);
  const water = await account('hl-water', ['staff'], ['hd-water']);
  const roads = await account('hl-roads', ['staff'], ['hd-roads']);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'hs1', name: '东街道', type: 'street', parentId: null },
        { id: 'hc1', name: '东社区', type: 'community', parentId: 'hs1' },
        { id: 'hd-water', name: '供水公司', type: 'department', parentId: 'hs1' },
        { id: 'hd-roads', name: '住建办', type: 'department', parentId: 'hs1' },
      ],
      people: [
        { id: 'hp-centre', name: '中心派单员', email: uniqueAddress('centre'), userId: centre },
        { id: 'hp-water', name: '供水专员', email: uniqueAddress('water'), userId: water },
        { id: 'hp-roads', name: '住建干事', email: uniqueAddress('roads'), userId: roads },
      ],
      posts: [
        { unitId: 'hs1', role: 'dispatcher', personId: 'hp-centre' },
        { unitId: 'hd-water', role: 'officer', personId: 'hp-water' },
        { unitId: 'hd-roads', role: 'officer', personId: 'hp-roads' },
      ],
    },
  });
  expect(imported.status).toBe(200);
  const catalogue = await app.http('PUT', '/api/v1/catalogues/hs1', {
    token: app.adminKey,
    body: { entries: [{ category: '供水', unitId: 'hd-water' }] },
  });
  expect(catalogue.status).toBe(201);
  bridgeKey = (
    await app.http<{ key: string }>('POST', '/api/v1/api-keys', {
      token: app.adminKey,
      body: { name: '12345 bridge', roles: ['system'] },
    })
  ).body.key;
});

afterAll(async () => {
  await app?.stop();
});

async function openTask(user: string, caseId: string, stepId: string): Promise<Task> {
  return waitFor(`an open ${stepId} task for ${user}`, async () => {
    const res = await app.http<Page<Task>>('GET', `/api/v1/tasks?view=available&caseId=${caseId}`, {
      token: tokens[user],
    });
    return res.body.items?.find((t) => t.stepId === stepId);
  });
}

/** Claims the step's open task as `user` and completes it. */
async function work(
  user: string,
  caseId: string,
  stepId: string,
  body: { outcome: string; form?: Record<string, unknown>; comment?: string },
): Promise<void> {
  const task = await openTask(user, caseId, stepId);
  const claimed = await app.http('POST', `/api/v1/tasks/${task.id}/claim`, {
    token: tokens[user],
    body: {},
  });
  expect(claimed.status).toBe(200);
  const completed = await app.http('POST', `/api/v1/tasks/${task.id}/complete`, {
    token: tokens[user],
    body: { form: {}, ...body },
  });
  expect({ step: stepId, status: completed.status }).toEqual({ step: stepId, status: 200 });
}

async function caseOf(caseId: string): Promise<CaseBody> {
  return (await app.http<CaseBody>('GET', `/api/v1/cases/${caseId}`, { token: app.adminKey })).body;
}

/** Waits for the `visit`-th 回访 and rates it as the bridge that filed the case. */
async function rate(caseId: string, score: number, visit: number): Promise<void> {
  await waitFor(`回访 ${visit}`, async () => {
    const doc = await caseOf(caseId);
    const entered = doc.timeline.filter(
      (e) => e.type === 'step.entered' && e.stepId === 'callback',
    );
    return entered.length >= visit ? true : undefined;
  });
  const rated = await app.http('POST', `/api/v1/cases/${caseId}/rating`, {
    token: bridgeKey,
    body: { score },
  });
  expect(rated.status).toBe(200);
}

it('when a 12345 request is filed through Open311 and worked through the API, then the catalogue routes it, the extension and the arbitration are recorded, the unsatisfied rating reopens it and Open311 shows it closed', async () => {
  // Arrange: the bridge files the request (GeoReport v2, form-encoded)
  const params = new URLSearchParams({
    api_key: bridgeKey,
    service_code: 'hotline-12345',
    address_id: 'hc1',
    description: '3号楼停水一天，无任何通知',
    email: uniqueAddress('resident'),
    'attribute[category]': '供水',
  });
  const filed = await app.http<Array<{ service_request_id: string }>>(
    'POST',
    '/open311/v2/requests.json',
    {
      rawBody: params.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    },
  );
  expect(filed.status).toBe(200);
  const caseId = filed.body[0]!.service_request_id;

  // Act
  await work('hl-centre', caseId, 'intake', { outcome: 'accept', form: { opinion: '受理' } });
  await work('hl-water', caseId, 'handle_utility', {
    outcome: 'extend',
    form: { result: '需更换主管道' },
    comment: '主管道破裂，需道路开挖许可',
  });
  await work('hl-centre', caseId, 'extension', { outcome: 'approve' });
  await work('hl-water', caseId, 'handle_extended', {
    outcome: 'not_ours',
    form: { result: '破裂点在市政道路下' },
    comment: '道路开挖修复不属供水公司职责',
  });
  await work('hl-centre', caseId, 'arbitrate', {
    outcome: 'redispatch',
    form: { ruling: '裁定住建办承办', department: 'hd-roads' },
  });
  await work('hl-roads', caseId, 'arbitrated_handle', {
    outcome: 'resolved',
    form: { result: '已开挖修复' },
  });
  await rate(caseId, 2, 1);
  await work('hl-water', caseId, 'redo_utility', {
    outcome: 'resolved',
    form: { result: '已冲洗管道，恢复供水' },
  });
  await rate(caseId, 5, 2);
  const closed = await waitFor('the case to close', async () => {
    const doc = await caseOf(caseId);
    return doc.status === 'closed' ? doc : undefined;
  });
  const shown = await app.http<Open311Request[]>(
    'GET',
    `/open311/v2/requests/${caseId}.json?api_key=${bridgeKey}`,
  );

  // Assert
  expect(closed.channel).toBe('open311');
  const completed = closed.timeline
    .filter((e) => e.type === 'task.completed')
    .map((e) => `${e.stepId}:${String(e.detail?.outcome)}`);
  expect(completed).toEqual([
    'intake:accept',
    'handle_utility:extend',
    'extension:approve',
    'handle_extended:not_ours',
    'arbitrate:redispatch',
    'arbitrated_handle:resolved',
    'redo_utility:resolved',
  ]);
  expect(
    closed.timeline.filter((e) => e.type === 'catalogue.routed').map((e) => e.detail?.unitId),
  ).toEqual(['hd-water', 'hd-water', 'hd-water']);
  expect(closed.timeline.filter((e) => e.type === 'case.arbitrated')).toHaveLength(1);
  expect(closed.timeline.filter((e) => e.type === 'case.closed')[0]!.stepId).toBe('closed');
  expect(shown.status).toBe(200);
  expect(shown.body[0]).toMatchObject({
    service_request_id: caseId,
    status: 'closed',
    service_code: 'hotline-12345',
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * Location check-ins (签到) through the API: the shipped 54321 arrival requires one within 300 m
 * of the compound (measured against the compound's location, the case being filed for a building
 * below it); the emergency roll-call's report-in takes an optional one within 500 m; a variant
 * of that roll-call requires it. Bad positions are refused naming the field; a check-in beyond
 * the limit is recorded and flagged; the timeline carries who and how far, never the position.
 */
interface Task {
  id: string;
  stepId: string;
  status: string;
  checkIn?: Record<string, unknown>;
}
interface Page<T> {
  items: T[];
}
interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}
interface CaseBody {
  id: string;
  status: string;
  timeline: Array<{
    type: string;
    stepId?: string;
    actor: { kind: string; id: string };
    detail?: Record<string, unknown>;
  }>;
}

/** The compound's gate (WGS-84). */
const COMPOUND = { lat: 34.03, lng: 108.04 };
/** About 133 m north of the gate: on site. */
const NEAR = { lat: 34.0312, lng: 108.04, accuracy: 15 };
/** About 1.1 km north: beyond 300 m and 500 m. */
const FAR = { lat: 34.04, lng: 108.04, accuracy: 20 };
const REQUIRED_ROLL_CALL = 'test-roll-call-check-in';

let app: TestApp;
const tokens: Record<string, string> = {};
const userIds: Record<string, string> = {};

async function account(username: string, roles: string[], unitIds: string[]): Promise<string> {
  tokens[username] = await app.signIn(username, roles, unitIds);
  const user = await app.db.models.User.findOne({ username }).lean();
  userIds[username] = String(user!._id);
  return userIds[username];
}

function shipped(file: string): string {
  return readFileSync(path.join(__dirname, '../../definitions', file), 'utf8');
}

beforeAll(async () => {
  app = await startTestApp('check-in');
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  const rollCall = shipped('emergency-compound.yaml');
  for (const source of [
    shipped('property-54321.yaml'),
    rollCall,
    rollCall
      .replace('key: emergency-compound', `key: ${REQUIRED_ROLL_CALL}`)
      .replace('{ mode: optional, withinMeters: 500 }', '{ mode: required, withinMeters: 500 }'),
  ]) {
    await definitions.publish({
      source,
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'test' },
    });
  }
  const staffA = await account('staff-a', ['staff'], ['k1']);
  const staffB = await account('staff-b', ['staff'], ['k1']);
  await account('boss', ['admin'], []);
  await account('desk', ['dispatcher'], ['c1']);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 's1', name: '城关街道', type: 'street', parentId: null },
        { id: 'c1', name: '东关社区', type: 'community', parentId: 's1' },
        { id: 'g1', name: '第一网格', type: 'grid', parentId: 'c1' },
        { id: 'k1', name: '惠民小区', type: 'compound', parentId: 'g1', location: COMPOUND },
        { id: 'b1', name: '3号楼', type: 'building', parentId: 'k1' },
      ],
      people: [
        { id: 'p-a', name: '孙物业', email: uniqueAddress('staff-a'), userId: staffA },
        { id: 'p-b', name: '钱物业', email: uniqueAddress('staff-b'), userId: staffB },
        { id: 'p-m', name: '吴经理', email: uniqueAddress('manager') },
      ],
      posts: [
        { unitId: 'k1', role: 'property-staff', personId: 'p-a' },
        { unitId: 'k1', role: 'property-staff', personId: 'p-b' },
        { unitId: 'k1', role: 'property-manager', personId: 'p-m' },
      ],
    },
  });
  expect(imported.status).toBe(200);
});

afterAll(async () => {
  await app.stop();
});

async function startRepair(): Promise<string> {
  const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens.desk,
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: 'property-54321',
      unitId: 'b1',
      data: { category: '水电维修', description: '楼道灯不亮', address: '3号楼2单元' },
    },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function openTask(user: string, caseId: string, stepId: string): Promise<Task> {
  return waitFor(`an open ${stepId} task for ${user}`, async () => {
    const res = await app.http<Page<Task>>('GET', `/api/v1/tasks?view=available&caseId=${caseId}`, {
      token: tokens[user],
    });
    return res.body.items.find((t) => t.stepId === stepId);
  });
}

function act<T = Task>(user: string, taskId: string, action: string, body: unknown = {}) {
  return app.http<T>('POST', `/api/v1/tasks/${taskId}/${action}`, { token: tokens[user], body });
}

async function caseOf(caseId: string, done: (c: CaseBody) => boolean): Promise<CaseBody> {
  return waitFor(`case ${caseId}`, async () => {
    const res = await app.http<CaseBody>('GET', `/api/v1/cases/${caseId}`, { token: tokens.desk });
    return res.status === 200 && done(res.body) ? res.body : undefined;
  });
}

describe('the 54321 arrival (checkIn required within 300 m)', () => {
  it('when the staff complete the arrival without a check-in, then 422 names body.checkIn; with one on site, the task keeps the position and the timeline says who and how far', async () => {
    // Arrange
    const caseId = await startRepair();
    const arrive = await openTask('staff-a', caseId, 'arrive');
    expect((await act('staff-a', arrive.id, 'claim')).status).toBe(200);
    const form = { outcome: 'arrived', form: { severity: '小问题' } };

    // Act
    const missing = await act<ErrorBody>('staff-a', arrive.id, 'complete', form);
    const completed = await act('staff-a', arrive.id, 'complete', { ...form, checkIn: NEAR });
    const kase = await caseOf(caseId, (c) => c.timeline.some((e) => e.type === 'task.checked-in'));
    const stored = await app.http<Task>('GET', `/api/v1/tasks/${arrive.id}`, {
      token: tokens['staff-a'],
    });

    // Assert
    expect(missing.status).toBe(422);
    expect(missing.body.error.details).toEqual([
      { path: 'body.checkIn', message: expect.stringContaining('required') as string },
    ]);
    expect(completed.status).toBe(200);
    expect(stored.body.checkIn).toMatchObject({
      lat: NEAR.lat,
      lng: NEAR.lng,
      accuracy: 15,
      placeUnitId: 'k1', // the building has no location: its compound's
      limit: 300,
      within: true,
    });
    expect(stored.body.checkIn?.distance).toBeGreaterThan(120);
    expect(stored.body.checkIn?.distance).toBeLessThan(145);
    const entries = kase.timeline.filter((e) => e.type === 'task.checked-in');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      stepId: 'arrive',
      actor: { kind: 'user', id: userIds['staff-a'] },
      detail: { task: arrive.id, accuracy: 15, limit: 300, within: true, unitId: 'k1' },
    });
    // The check-in comes before the completion it went with; no coordinates on the timeline.
    const types = kase.timeline.map((e) => e.type);
    expect(types.indexOf('task.checked-in')).toBeLessThan(types.lastIndexOf('task.completed'));
    expect(JSON.stringify(kase.timeline)).not.toContain(String(NEAR.lat));
  });

  it('when the check-in lies 1.1 km away, then the arrival is completed and the check-in flagged beyond the limit', async () => {
    // Arrange
    const caseId = await startRepair();
    const arrive = await openTask('staff-b', caseId, 'arrive');
    await act('staff-b', arrive.id, 'claim');

    // Act
    const completed = await act('staff-b', arrive.id, 'complete', {
      outcome: 'arrived',
      form: { severity: '小问题' },
      checkIn: FAR,
    });
    const kase = await caseOf(caseId, (c) => c.timeline.some((e) => e.type === 'task.checked-in'));

    // Assert
    expect(completed.status).toBe(200);
    const entry = kase.timeline.find((e) => e.type === 'task.checked-in');
    expect(entry?.detail).toMatchObject({ limit: 300, within: false });
    expect(entry?.detail?.distance).toBeGreaterThan(1000);
  });

  it('when the position is out of range, too imprecise, stale, or sent to a step without checkIn, then each is refused naming the field', async () => {
    // Arrange
    const caseId = await startRepair();
    const arrive = await openTask('staff-a', caseId, 'arrive');
    await act('staff-a', arrive.id, 'claim');
    const form = { outcome: 'arrived', form: { severity: '小问题' } };
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000).toISOString();

    // Act
    const badLatitude = await act<ErrorBody>('staff-a', arrive.id, 'complete', {
      ...form,
      checkIn: { ...NEAR, lat: 91 },
    });
    const imprecise = await act<ErrorBody>('staff-a', arrive.id, 'complete', {
      ...form,
      checkIn: { ...NEAR, accuracy: 5_000 },
    });
    const stale = await act<ErrorBody>('staff-a', arrive.id, 'complete', {
      ...form,
      checkIn: { ...NEAR, at: hoursAgo },
    });
    await act('staff-a', arrive.id, 'complete', { ...form, checkIn: NEAR });
    const fix = await waitFor('the fix_small task', async () => {
      const res = await app.http<Page<Task>>('GET', `/api/v1/tasks?view=scope&caseId=${caseId}`, {
        token: tokens['staff-a'],
      });
      return res.body.items.find((t) => t.stepId === 'fix_small');
    });
    await act('staff-a', fix.id, 'claim');
    const notAsked = await act<ErrorBody>('staff-a', fix.id, 'complete', {
      outcome: 'fixed',
      form: { result: '已更换灯泡' },
      checkIn: NEAR,
    });

    // Assert
    expect(badLatitude.status).toBe(400);
    expect(badLatitude.body.error.details[0]?.path).toBe('body.checkIn.lat');
    expect(imprecise.status).toBe(400);
    expect(imprecise.body.error.details[0]).toMatchObject({
      path: 'body.checkIn.accuracy',
      message: expect.stringContaining('1000 m') as string,
    });
    expect(stale.status).toBe(422);
    expect(stale.body.error.details).toEqual([
      { path: 'body.checkIn.at', message: expect.stringContaining('an hour old') as string },
    ]);
    expect(notAsked.status).toBe(422);
    expect(notAsked.body.error.details[0]?.path).toBe('body.checkIn');
  });
});

describe("the emergency roll-call's report-in (报到)", () => {
  async function startRollCall(definitionKey: string): Promise<string> {
    const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
      token: tokens.boss,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { definitionKey, unitId: 'k1', data: { reason: '暴雨预警' } },
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  it('when one reports with a check-in and another without (optional), then both count and the roster keeps the check-in with its distance', async () => {
    // Arrange
    const caseId = await startRollCall('emergency-compound');
    const pool = await openTask('staff-a', caseId, 'report');

    // Act
    const withCheckIn = await act('staff-a', pool.id, 'claim', { checkIn: NEAR });
    const without = await act('staff-b', pool.id, 'claim');
    // The manager is called too and has not reported: the roll-call stays open.
    const entries = await waitFor('both reports on the roster', async () => {
      const found = await app.db.models.RollCallEntry.find({ taskId: pool.id }).lean();
      const reported = found.filter((e) => e.acknowledgedAt).map((e) => e.personId);
      return reported.sort().join() === 'p-a,p-b' ? found : undefined;
    });

    // Assert
    expect(withCheckIn.status).toBe(200);
    expect(without.status).toBe(200);
    const byPerson = new Map(
      entries.map((e) => [e.personId, e.checkIn as Record<string, unknown>]),
    );
    expect(byPerson.get('p-a')).toMatchObject({ placeUnitId: 'k1', limit: 500, within: true });
    expect(byPerson.get('p-b')).toBeUndefined();
  });

  it('when the roll-call requires a check-in, then a report-in without one is refused naming body.checkIn and does not count', async () => {
    // Arrange
    const caseId = await startRollCall(REQUIRED_ROLL_CALL);
    const pool = await openTask('staff-a', caseId, 'report');

    // Act
    const refused = await act<ErrorBody>('staff-a', pool.id, 'claim');
    const accepted = await act('staff-b', pool.id, 'claim', { checkIn: FAR });
    const entries = await app.db.models.RollCallEntry.find({ taskId: pool.id }).lean();

    // Assert
    expect(refused.status).toBe(422);
    expect(refused.body.error.details[0]?.path).toBe('body.checkIn');
    expect(accepted.status).toBe(200);
    const byPerson = new Map(entries.map((e) => [e.personId, e]));
    expect(byPerson.get('p-a')?.acknowledgedAt).toBeNull();
    expect(byPerson.get('p-b')?.checkIn).toMatchObject({ limit: 500, within: false });
  });
});

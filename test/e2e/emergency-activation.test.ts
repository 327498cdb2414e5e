import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import { activationProcess, rollCallProcess } from '../fixtures/definitions';
import type { TestApp } from '../support/harness';
import { idempotencyKey, mailsTo, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * 一键启动 end to end, through the API on the real dev server, FerretDB and the SMTP sink: an
 * admin activates a community; a roll-call opens in each of its two compounds; the people called
 * report through the task API while the admin watches the live counts; one stays silent, is
 * escalated to the grid chief by name, and the activation closes with the roll-call summary.
 * The definitions are a test pair shaped like the shipped ones (definitions/emergency-*.yaml)
 * with durations of seconds.
 */

const PARENT = 'emergency-activation-e2e';
const CHILD = 'emergency-compound-e2e';
/** Long enough for the prompt reports on a loaded machine; the silent one waits it out. */
const REPORT_WITHIN_S = 12;
const WINDOW_S = 20;

const child = rollCallProcess(CHILD, {
  name: '应急点名测试',
  windowS: WINDOW_S,
  reportWithinS: REPORT_WITHIN_S,
});
const parent = activationProcess(PARENT, CHILD, { name: '一键启动测试', summarise: true });

interface Task {
  id: string;
  caseId: string;
  stepId: string;
  status: string;
  candidates: Array<{ personId: string }>;
  claimants: Array<{ personId: string }>;
  maxClaimants: number;
}
interface TimelineEntry {
  type: string;
  stepId?: string;
  detail?: Record<string, unknown>;
}
interface CaseView {
  id: string;
  status: string;
  timeline: TimelineEntry[];
}

let app: TestApp;
const tokens: Record<string, string> = {};
const gridLeaderEmail = uniqueAddress('grid-leader');
/** The building chief of compound 2 who never reports. */
const SILENT = '冯楼长';

async function account(username: string, unitId: string): Promise<string> {
  tokens[username] = await app.signIn(username, ['staff'], [unitId]);
  const user = await app.db.models.User.findOne({ username }).lean();
  return String(user!._id);
}

async function caseView(caseId: string): Promise<CaseView> {
  const res = await app.http<CaseView>('GET', `/api/v1/cases/${caseId}`, { token: app.adminKey });
  expect(res.status).toBe(200);
  return res.body;
}

/** The roll-call task offered to `user`, through their own work list. */
function rollCallOf(user: string): Promise<Task> {
  return waitFor(`the roll-call offered to ${user}`, async () => {
    const res = await app.http<{ items: Task[] }>('GET', '/api/v1/tasks?view=available', {
      token: tokens[user],
    });
    return res.body.items.find((t) => t.stepId === 'report');
  });
}

async function reportFor(user: string): Promise<Task> {
  const task = await rollCallOf(user);
  const res = await app.http<Task>('POST', `/api/v1/tasks/${task.id}/claim`, {
    token: tokens[user],
  });
  expect(res.status).toBe(200);
  return res.body;
}

function taskAsAdmin(taskId: string): Promise<Task> {
  return app
    .http<Task>('GET', `/api/v1/tasks/${taskId}`, { token: app.adminKey })
    .then((res) => res.body);
}

beforeAll(async () => {
  app = await startTestApp('emergency-activation');
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  for (const source of [child, parent]) {
    await definitions.publish({
      source,
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'test' },
    });
  }
  const users = {
    manager1: await account('manager1', 'e-x1'),
    head1: await account('head1', 'e-x1-b1'),
    manager2: await account('manager2', 'e-x2'),
    head2: await account('head2', 'e-x2-b1'),
  };
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'e-s', name: '应急街道', type: 'street', parentId: null },
        { id: 'e-c', name: '应急社区', type: 'community', parentId: 'e-s' },
        { id: 'e-g', name: '应急一网格', type: 'grid', parentId: 'e-c' },
        { id: 'e-x1', name: '幸福小区', type: 'compound', parentId: 'e-g' },
        { id: 'e-x1-b1', name: '1号楼', type: 'building', parentId: 'e-x1' },
        { id: 'e-x2', name: '和谐小区', type: 'compound', parentId: 'e-g' },
        { id: 'e-x2-b1', name: '1号楼', type: 'building', parentId: 'e-x2' },
      ],
      people: [
        { id: 'e-p1', name: '孙经理', email: uniqueAddress('m1'), userId: users.manager1 },
        { id: 'e-p2', name: '周楼长', email: uniqueAddress('h1'), userId: users.head1 },
        { id: 'e-p3', name: '郑经理', email: uniqueAddress('m2'), userId: users.manager2 },
        { id: 'e-p4', name: SILENT, email: uniqueAddress('h2'), userId: users.head2 },
        { id: 'e-p5', name: '钱网格长', email: gridLeaderEmail },
      ],
      posts: [
        { unitId: 'e-x1', role: 'property-manager', personId: 'e-p1' },
        { unitId: 'e-x1-b1', role: 'building-head', personId: 'e-p2' },
        { unitId: 'e-x2', role: 'property-manager', personId: 'e-p3' },
        { unitId: 'e-x2-b1', role: 'building-head', personId: 'e-p4' },
        { unitId: 'e-g', role: 'grid-leader', personId: 'e-p5' },
      ],
    },
  });
  expect(imported.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

describe('一键启动 through the API', () => {
  it('when an admin activates a community, then people report through the task API, the live counts show, the silent one is escalated by name and the summary counts them missing', async () => {
    // Arrange
    const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
      token: app.adminKey,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { definitionKey: PARENT, unitId: 'e-c', data: { reason: '防汛应急响应' } },
    });
    expect(started.status).toBe(201);
    const activationId = started.body.id;

    // Act: compound 1 reports in full; compound 2's property manager reports, its building chief not
    const first = await reportFor('manager1');
    const live = await taskAsAdmin(first.id);
    await reportFor('head1');
    const second = await reportFor('manager2');
    const liveSecond = await taskAsAdmin(second.id);
    const done = await waitFor(
      'the activation closed',
      async () => {
        const view = await caseView(activationId);
        return view.status !== 'open' ? view : undefined;
      },
      60_000,
    );

    // Assert: the live counts while it ran (claimants against candidates)
    expect(live).toMatchObject({ status: 'open', maxClaimants: 2 });
    expect(live.candidates).toHaveLength(2);
    expect(live.claimants).toHaveLength(1);
    expect(liveSecond.claimants.map((c) => c.personId)).toEqual(['e-p3']);
    // …compound 1's roll-call closed as soon as both had reported, compound 2's at its window
    const firstAfter = await taskAsAdmin(first.id);
    expect(firstAfter).toMatchObject({ status: 'completed' });
    const secondCase = await caseView(second.caseId);
    expect(secondCase.timeline.find((e) => e.type === 'claim.closed')?.detail).toMatchObject({
      reason: 'window-ended',
      expected: 2,
      missing: 1,
    });
    // …the grid chief was told who is missing, by name in the mail only
    const escalated = await waitFor('the escalation mail', async () => {
      const mails = await mailsTo(gridLeaderEmail);
      return mails.length > 0 ? mails : undefined;
    });
    expect(escalated).toHaveLength(1);
    expect(escalated[0]!.subject).toContain('超时未报到督办');
    expect(escalated[0]!.text).toContain(SILENT);
    expect(escalated[0]!.text).not.toContain('郑经理');
    expect(JSON.stringify(secondCase.timeline)).not.toContain(SILENT);
    // …and the activation's summary through the case API: per compound and in total
    expect(done.status).toBe('closed');
    const perCompound = done.timeline
      .filter((e) => e.type === 'subprocess.ended')
      .map((e) => [e.detail?.unitId, e.detail?.expected, e.detail?.acknowledged, e.detail?.missing])
      .sort();
    expect(perCompound).toEqual([
      ['e-x1', 2, 2, 0],
      ['e-x2', 2, 1, 1],
    ]);
    const summary = done.timeline.find(
      (e) => e.type === 'step.completed' && e.stepId === 'compounds',
    );
    expect(summary?.detail).toEqual({ count: 2, expected: 4, acknowledged: 3, missing: 1 });
    expect(done.timeline.find((e) => e.type === 'case.closed')?.stepId).toBe('closed');
  }, 120_000);
});

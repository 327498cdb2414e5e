import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import { feedbackProcess, jointProcess, raceProcess } from '../fixtures/flows';
import type { HttpResponse, TestApp } from '../support/harness';
import { idempotencyKey, mailsTo, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * Parallel joins and feedback through the API on the real dev server, in real (short) time: a
 * join `all` waits for both branches and a later decision reads both outcomes; a join `any`
 * cancels the losing branch's task and its clock (no reminder or escalation afterwards); a
 * feedback window passing without a rating records none and the case goes on; a rating given in
 * time is stored as given.
 */
interface Candidate {
  personId: string;
  unitId: string;
}
interface Task {
  id: string;
  caseId: string;
  stepId: string;
  status: string;
  candidates: Candidate[];
  assignee: Candidate | null;
  outcome: string | null;
  closedAt: string | null;
  deadlines: Array<{
    name: string;
    dueAt: string | null;
    missed: boolean;
    stopped: boolean;
    escalationLevel: number;
  }>;
}
interface Page<T> {
  items: T[];
  total: number;
}
interface ErrorBody {
  error: { code: string; message: string };
}
interface TimelineEntry {
  seq: number;
  type: string;
  at: string;
  stepId?: string;
  via?: string;
  detail?: Record<string, unknown>;
}
interface CaseBody {
  id: string;
  status: string;
  currentStep: { id: string; type: string } | null;
  createdAt: string;
  closedAt: string | null;
  timeline: TimelineEntry[];
  rating: { score: number | null; comment: string | null; at: string } | null;
}

let app: TestApp;
const tokens: Record<string, string> = {};
const officerMail = uniqueAddress('officer');
const directorMail = uniqueAddress('director');
const JOINT = 'flow-joint';
const RACE = 'flow-race';
/** The losing branch's deadline: long enough for the other branch to win well before the reminder. */
const RACE_WITHIN_MS = 8_000;
const RACE_REMINDER_BEFORE_MS = 4_000;
const FEEDBACK_SHORT = 'flow-feedback-short';
const FEEDBACK_LONG = 'flow-feedback-long';

async function account(username: string, roles: string[], unitIds: string[]): Promise<string> {
  tokens[username] = await app.signIn(username, roles, unitIds);
  const user = await app.db.models.User.findOne({ username }).lean();
  return String(user!._id);
}

beforeAll(async () => {
  app = await startTestApp('step-flows');
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  for (const source of [
    jointProcess(JOINT),
    raceProcess(RACE, `PT${RACE_WITHIN_MS / 1000}S`, `PT${RACE_REMINDER_BEFORE_MS / 1000}S`),
    feedbackProcess(FEEDBACK_SHORT, 'PT3S'),
    feedbackProcess(FEEDBACK_LONG, 'PT1M'),
  ]) {
    await definitions.publish({
      source,
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'test' },
    });
  }
  const worker = await account('worker', ['staff'], ['g1']);
  const officer = await account('officer', ['staff'], ['c1']);
  const disp = await account('disp', ['dispatcher'], ['c1']);
  await account('resident', ['resident'], []);
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 's1', name: '东街道', type: 'street', parentId: null },
        { id: 'c1', name: '东社区', type: 'community', parentId: 's1' },
        { id: 'g1', name: '第一网格', type: 'grid', parentId: 'c1' },
      ],
      people: [
        { id: 'p-worker', name: '网格员', email: uniqueAddress('worker'), userId: worker },
        { id: 'p-officer', name: '社区工作人员', email: officerMail, userId: officer },
        { id: 'p-disp', name: '派单员', email: uniqueAddress('disp'), userId: disp },
        { id: 'p-dir', name: '社区主任', email: directorMail },
      ],
      posts: [
        { unitId: 'g1', role: 'grid-worker', personId: 'p-worker' },
        { unitId: 'c1', role: 'officer', personId: 'p-officer' },
        { unitId: 'c1', role: 'dispatcher', personId: 'p-disp' },
        { unitId: 'c1', role: 'director', personId: 'p-dir' },
      ],
    },
  });
  expect(imported.status).toBe(200);
});

afterAll(async () => {
  await app?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startCase(definitionKey: string, data: Record<string, unknown>): Promise<string> {
  const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: tokens.resident,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey, unitId: 'g1', data },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function getCase(caseId: string): Promise<CaseBody> {
  const res = await app.http<CaseBody>('GET', `/api/v1/cases/${caseId}`, { token: app.adminKey });
  expect(res.status).toBe(200);
  return res.body;
}

function waitForCase(
  what: string,
  caseId: string,
  check: (c: CaseBody) => boolean,
  timeoutMs?: number,
): Promise<CaseBody> {
  return waitFor(
    what,
    async () => {
      const found = await getCase(caseId);
      return check(found) ? found : undefined;
    },
    timeoutMs,
  );
}

async function openTask(user: string, caseId: string, stepId: string): Promise<Task> {
  return waitFor(`an open ${stepId} task for ${user}`, async () => {
    const res = await app.http<Page<Task>>('GET', `/api/v1/tasks?view=available&caseId=${caseId}`, {
      token: tokens[user],
    });
    return res.body.items.find((t) => t.stepId === stepId);
  });
}

async function getTask(user: string, taskId: string): Promise<Task> {
  const res = await app.http<Task>('GET', `/api/v1/tasks/${taskId}`, { token: tokens[user] });
  expect(res.status).toBe(200);
  return res.body;
}

async function mine(user: string): Promise<string[]> {
  const res = await app.http<Page<Task>>('GET', '/api/v1/tasks?view=mine&pageSize=100', {
    token: tokens[user],
  });
  expect(res.status).toBe(200);
  return res.body.items.map((t) => t.id);
}

function act<T = Task>(user: string, taskId: string, action: string, body: unknown = {}) {
  return app.http<T>('POST', `/api/v1/tasks/${taskId}/${action}`, { token: tokens[user], body });
}

/** Claims and completes, and insists both were accepted. */
async function claimAndComplete(user: string, taskId: string, body: unknown): Promise<void> {
  const claimed = await act(user, taskId, 'claim');
  expect({ status: claimed.status, body: claimed.body }).toEqual(
    expect.objectContaining({ status: 200 }),
  );
  const completed = await act(user, taskId, 'complete', body);
  expect({ status: completed.status, body: completed.body }).toEqual(
    expect.objectContaining({ status: 200 }),
  );
}

function rate(caseId: string, body: unknown): Promise<HttpResponse<ErrorBody>> {
  return app.http<ErrorBody>('POST', `/api/v1/cases/${caseId}/rating`, {
    token: tokens.resident,
    body,
  });
}

const events = (c: CaseBody, type: string, stepId?: string) =>
  c.timeline.filter((e) => e.type === type && (stepId === undefined || e.stepId === stepId));

/** The reminder and escalation mails (not announcements or invitations) about one case. */
async function deadlineMails(address: string, caseId: string) {
  return (await mailsTo(address)).filter(
    (m) => m.subject.includes(caseId) && /即将超时提醒|超时督办/.test(m.subject),
  );
}

describe('parallel, join all', () => {
  it('when only one branch is done, then the case waits; when both are, then a decision reads both outcomes and the case closes', async () => {
    // Arrange: a grid worker (grid) and a community officer (community) each get a task
    const caseId = await startCase(JOINT, { category: '环境卫生' });
    const inspect = await openTask('worker', caseId, 'inspect');
    const review = await openTask('officer', caseId, 'review');

    // Act 1: the community branch finishes first
    await claimAndComplete('officer', review.id, { outcome: 'agree' });
    await waitForCase('the review completion on the timeline', caseId, (c) =>
      events(c, 'task.completed', 'review').some((e) => e.detail?.task === review.id),
    );
    await sleep(1500); // time enough for the case to (wrongly) move on
    const halfway = await getCase(caseId);
    const inspectHalfway = await getTask('worker', inspect.id);

    // Act 2: the grid branch finishes too
    await claimAndComplete('worker', inspect.id, {
      outcome: 'fixed',
      form: { finding: '楼道杂物已清理' },
    });
    const closed = await waitForCase('the case to end', caseId, (c) => c.status !== 'open');

    // Assert: different posts in different units
    expect(inspect.candidates).toEqual([
      expect.objectContaining({ personId: 'p-worker', unitId: 'g1' }),
    ]);
    expect(review.candidates).toEqual([
      expect.objectContaining({ personId: 'p-officer', unitId: 'c1' }),
    ]);
    // After one branch the parallel step still holds the case
    expect(halfway.status).toBe('open');
    expect(events(halfway, 'decision.taken')).toEqual([]);
    expect(events(halfway, 'step.entered', 'verdict')).toEqual([]);
    expect(inspectHalfway.status).toBe('open');
    // After both, the decision read both branches' outcomes
    expect(closed.status).toBe('closed');
    expect(events(closed, 'decision.taken', 'verdict')).toEqual([
      expect.objectContaining({ detail: { branch: 1, next: 'closed' } }),
    ]);
    expect(events(closed, 'case.closed')).toEqual([expect.objectContaining({ stepId: 'closed' })]);
    // The timeline shows both branches from start to finish, in the tasks' own entries (a task
    // step records no step.entered or step.completed of its own)
    for (const stepId of ['inspect', 'review']) {
      expect(events(closed, 'step.entered', stepId)).toEqual([]);
      expect(events(closed, 'step.completed', stepId)).toEqual([]);
      for (const type of ['task.opened', 'task.claimed', 'task.completed']) {
        expect({ stepId, type, count: events(closed, type, stepId).length }).toEqual({
          stepId,
          type,
          count: 1,
        });
      }
    }
    expect(events(closed, 'task.completed', 'inspect')[0]!.detail).toMatchObject({
      outcome: 'fixed',
    });
    expect(events(closed, 'task.completed', 'review')[0]!.detail).toMatchObject({
      outcome: 'agree',
    });
    const joinedAt = events(closed, 'decision.taken')[0]!.seq;
    for (const done of events(closed, 'task.completed')) expect(done.seq).toBeLessThan(joinedAt);
  });

  it('when one branch disagrees, then the decision after the join takes the other way', async () => {
    // Arrange
    const caseId = await startCase(JOINT, { category: '环境卫生' });
    const inspect = await openTask('worker', caseId, 'inspect');
    const review = await openTask('officer', caseId, 'review');

    // Act: both branches done, the grid first this time; the officer disagrees
    await claimAndComplete('worker', inspect.id, { outcome: 'fixed', form: { finding: '已清理' } });
    await claimAndComplete('officer', review.id, { outcome: 'disagree', comment: '仍有杂物' });
    const ended = await waitForCase('the case to end', caseId, (c) => c.status !== 'open');

    // Assert
    expect(ended.status).toBe('cancelled');
    expect(events(ended, 'decision.taken', 'verdict')).toEqual([
      expect.objectContaining({ detail: { branch: 'otherwise', next: 'disputed' } }),
    ]);
    expect(events(ended, 'case.closed')).toEqual([expect.objectContaining({ stepId: 'disputed' })]);
  });
});

describe('parallel, join any: when one branch wins the race', () => {
  // Two races: in `won` the grid worker wins while the officer holds the other branch's task; in
  // `control` nobody wins, so its reminder and escalations show what `won` would have got.
  let won: string;
  let slow: Task;
  let controlSlow: Task;
  let dueAt: number;
  let cancelled: Task;
  let mineBefore: string[];
  let mineAfter: string[];
  let lateCompletion: HttpResponse<ErrorBody>;
  let wonMails: string[];
  let controlReminders: number;
  let controlEscalations: number;
  let afterDue: CaseBody;
  let ended: CaseBody;

  beforeAll(async () => {
    // Arrange: the officer claims the losing branch's task in both races
    won = await startCase(RACE, { category: '环境卫生' });
    const control = await startCase(RACE, { category: '环境卫生' });
    slow = await openTask('officer', won, 'slow');
    controlSlow = await openTask('officer', control, 'slow');
    expect((await act('officer', slow.id, 'claim')).status).toBe(200);
    expect((await act('officer', controlSlow.id, 'claim')).status).toBe(200);
    mineBefore = await mine('officer');
    dueAt = Date.parse(slow.deadlines[0]!.dueAt!);

    // Act: the grid worker wins the race of `won`
    const fast = await openTask('worker', won, 'fast');
    await claimAndComplete('worker', fast.id, { outcome: 'done' });
    const wrapUp = await openTask('disp', won, 'wrap_up');
    cancelled = await waitFor('the losing task to be withdrawn', async () => {
      const task = await getTask('officer', slow.id);
      return task.status !== 'open' && task.status !== 'claimed' ? task : undefined;
    });
    mineAfter = await mine('officer');
    lateCompletion = await act<ErrorBody>('officer', slow.id, 'complete', { outcome: 'done' });
    // Past the last escalation level of both races (the control's second level arrives about then)
    await waitFor("the control race's second escalation", async () =>
      (await deadlineMails(directorMail, control)).some((m) => m.subject.includes('第 2 级督办')),
    );
    await sleep(Math.max(0, dueAt + 1_000 + 2_000 - Date.now()));
    wonMails = [
      ...(await deadlineMails(officerMail, won)),
      ...(await deadlineMails(directorMail, won)),
    ].map((m) => m.subject);
    controlReminders = (await deadlineMails(officerMail, control)).length;
    controlEscalations = (await deadlineMails(directorMail, control)).length;
    afterDue = await getCase(won);
    await claimAndComplete('disp', wrapUp.id, { outcome: 'done' });
    ended = await waitForCase('the won race to end', won, (c) => c.status !== 'open');
  });

  it('then the losing task is cancelled in the read model, its clock stopped before anything fired', () => {
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.closedAt).not.toBeNull();
    // The race was decided well before the losing branch's reminder was due
    expect(Date.parse(cancelled.closedAt!)).toBeLessThan(dueAt - RACE_REMINDER_BEFORE_MS);
    expect(cancelled.deadlines[0]).toMatchObject({
      stopped: true,
      missed: false,
      escalationLevel: 0,
    });
  });

  it('then completing the cancelled task is refused with a clear error', () => {
    expect([404, 409]).toContain(lateCompletion.status);
    expect(lateCompletion.body.error.message).toMatch(/cancel/i);
  });

  it("then no reminder or escalation for the losing branch's deadline arrives after it is due", () => {
    // The control race got its reminder and both escalation levels, so the mails were due
    expect(controlReminders).toBe(1);
    expect(controlEscalations).toBe(2);
    expect(wonMails).toEqual([]);
    expect(afterDue.timeline.filter((e) => e.type.startsWith('deadline.'))).toEqual([]);
  });

  it('then the timeline records the cancellation, and the case goes past the race to its end', () => {
    expect(events(afterDue, 'task.cancelled', 'slow')).toEqual([
      expect.objectContaining({ detail: { task: slow.id } }),
    ]);
    expect(events(afterDue, 'task.cancelled', 'fast')).toEqual([]);
    // A task cancelled by a lost race leaves no steps.<id> (the decision's `steps.slow == null`)
    expect(events(afterDue, 'decision.taken', 'winner')).toEqual([
      expect.objectContaining({ detail: { branch: 1, next: 'wrap_up' } }),
    ]);
    expect(ended.status).toBe('closed');
    expect(events(ended, 'case.closed')).toEqual([expect.objectContaining({ stepId: 'closed' })]);
  });

  it("then the cancelled task is no longer on its holder's work list (view=mine)", () => {
    expect(mineBefore).toEqual(expect.arrayContaining([slow.id, controlSlow.id]));
    expect(mineAfter).toContain(controlSlow.id);
    expect(mineAfter).not.toContain(slow.id);
  });
});

describe('feedback', () => {
  it('when nobody rates within the window, then no rating is recorded (never a default score) and the case goes on and closes', async () => {
    // Arrange
    const requester = uniqueAddress('requester');
    const caseId = await startCase(FEEDBACK_SHORT, {
      category: '环境卫生',
      contactEmail: requester,
    });

    // Act: nobody rates; the 3-second window passes
    const waiting = await waitForCase(
      'the feedback step',
      caseId,
      (c) => c.currentStep?.id === 'rate',
    );
    const ended = await waitForCase('the case to end', caseId, (c) => c.status !== 'open', 20_000);
    const late = await rate(caseId, { score: 5 });

    // Assert
    expect(waiting.rating).toBeNull();
    expect(ended.status).toBe('closed');
    expect(ended.rating).toMatchObject({ score: null, comment: null });
    expect(events(ended, 'feedback.rated')).toEqual([]);
    const [missing] = events(ended, 'feedback.missing', 'rate');
    expect(missing).toBeDefined();
    const entered = events(ended, 'step.entered', 'rate')[0]!;
    // Not before the window was over (3 s; a little slack for clocks of different processes)
    expect(Date.parse(missing!.at) - Date.parse(entered.at)).toBeGreaterThanOrEqual(2_900);
    expect(events(ended, 'decision.taken', 'satisfaction')).toEqual([
      expect.objectContaining({ detail: { branch: 1, next: 'closed_unrated' } }),
    ]);
    expect(events(ended, 'case.closed')).toEqual([
      expect.objectContaining({ stepId: 'closed_unrated' }),
    ]);
    expect(late.status).toBe(409);
    const invitations = (await mailsTo(requester)).filter((m) => m.subject.includes(caseId));
    expect(invitations).toHaveLength(1);
  });

  it('when the requester rates in time with a comment, then the score and comment are stored as given and the case closes', async () => {
    // Arrange: the requester is invited to rate
    const requester = uniqueAddress('requester');
    const caseId = await startCase(FEEDBACK_LONG, {
      category: '环境卫生',
      contactEmail: requester,
    });
    await waitFor('the invitation to rate', async () =>
      (await mailsTo(requester)).some((m) => m.subject.includes(caseId)),
    );

    // Act
    const rated = await rate(caseId, { score: 4, comment: '上门及时，处理彻底' });
    const ended = await waitForCase('the case to end', caseId, (c) => c.status !== 'open');
    const again = await rate(caseId, { score: 1 });

    // Assert
    expect(rated.status).toBe(200);
    expect(ended.status).toBe('closed');
    expect(ended.rating).toMatchObject({ score: 4, comment: '上门及时，处理彻底' });
    expect(events(ended, 'feedback.rated', 'rate')).toEqual([
      expect.objectContaining({ via: 'api', detail: { score: 4 } }),
    ]);
    expect(events(ended, 'feedback.missing')).toEqual([]);
    expect(events(ended, 'decision.taken', 'satisfaction')).toEqual([
      expect.objectContaining({ detail: { branch: 2, next: 'closed_satisfied' } }),
    ]);
    // Closed on the rating, not at the end of the one-minute window
    expect(Date.parse(ended.closedAt!) - Date.parse(ended.createdAt)).toBeLessThan(30_000);
    expect(again.status).toBe(409);
  });
});

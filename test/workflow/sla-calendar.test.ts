import { randomBytes } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createLogger } from '../../common/logger';
import type { ClockPause } from '../../common/sla';
import { planDeadline } from '../../common/sla';
import { createMailRenderer } from '../../mail/renderer';
import { createSmtpTransport } from '../../mail/transport';
import { beijingText, bj } from '../support/beijing';
import { waitFor } from '../support/harness';
import type { SlaTestBed } from '../support/sla-cases';
import {
  deadlineOf,
  eventsOf,
  expectFiredAt,
  mailsOf,
  useSlaTestBed,
  SUBJECT,
} from '../support/sla-cases';
import { testStack, testDataConverter } from '../support/test-stack';

/**
 * SLA clocks against the working calendar on the time-skipping test server: a ladder across a
 * holiday and a make-up Saturday, pause and resume, and an admin's calendar change reaching a
 * running case. The test server starts at today's date, so each test shapes its own holiday in
 * a quiet stretch of the weeks ahead (the calendar is data) and moves workflow time to it.
 */
let bed: SlaTestBed;
const HOUR = 3600_000;
const MINUTE = 60_000;
const DAY = 24 * HOUR;

useSlaTestBed('sla-calendar', (ready) => {
  bed = ready;
});

/** The Beijing date `days` after `date` (`YYYY-MM-DD`). */
function plusDays(date: string, days: number): string {
  return beijingText(bj(`${date} 12:00`).getTime() + days * DAY).slice(0, 10);
}

/** A deadline as a definition states it; what the planning activity reads of it. */
interface DeadlineSource {
  within: string;
  reminders?: Array<{ before: string }>;
  escalations?: Array<{ after?: string }>;
}

/** What the planning activity answers for a deadline, on the calendar stored now. */
async function planned(deadline: DeadlineSource, startedAt: number, pauses: ClockPause[] = []) {
  const policy = {
    within: deadline.within,
    reminders: (deadline.reminders ?? []).map((r) => ({ before: r.before })),
    escalations: (deadline.escalations ?? []).map((e) => ({ after: e.after })),
  };
  return planDeadline(await bed.calendar(), policy, new Date(startedAt).toISOString(), pauses);
}

it('when an escalation ladder on working days spans a holiday and a make-up Saturday, then each level fires at its planned instant and none on the holiday', async () => {
  // Arrange: a Monday D; D+1 … D+3 off (like 国庆), Saturday D+5 a make-up working day (调休).
  const org = await bed.seedOrg();
  const monday = await bed.quietMonday();
  const holiday = [1, 2, 3].map((n) => plusDays(monday, n));
  const makeUpSaturday = plusDays(monday, 5);
  await bed.addCalendarDays([
    ...holiday.map((date) => ({ date, name: '测试假期', isOffDay: true })),
    { date: makeUpSaturday, name: '测试假期', isOffDay: false },
  ]);
  const deadline = {
    id: 'finish',
    name: '办结时限',
    within: '1 working day',
    reminders: [{ before: 'PT1H', notify: 'candidates' }],
    escalations: [
      { notify: { role: 'director', unit: { of: 'assignee', at: 'parent' } } },
      { after: '1 working day', notify: { role: 'secretary', unit: 'street' } },
      { after: '2 working days', notify: { role: 'director', unit: 'street' } },
    ],
  };
  await bed.withWorker(async (queue) => {
    await bed.skipTo(bj(`${monday} 10:00`));
    const opened = await bed.openTask(
      queue,
      org,
      bed.serviceDefinition('holiday-ladder', [deadline]),
    );
    const { kase } = opened;
    const { taskId } = opened;
    const plan = await planned(deadline, opened.openedAt);
    // The plan, to the minute: Friday after the holiday, the make-up Saturday, then Monday.
    const friday = plusDays(monday, 4);
    const nextMonday = plusDays(monday, 7);
    expect(beijingText(plan.dueAt!)).toBe(`${friday} 10:00`);
    expect(plan.reminders.map((r) => beijingText(r.at))).toEqual([`${friday} 09:00`]);
    expect(plan.escalations.map((e) => beijingText(e.at))).toEqual([
      `${friday} 10:00`,
      `${makeUpSaturday} 10:00`,
      `${nextMonday} 10:00`,
    ]);
    expect(deadlineOf(opened.task.deadlines, `${taskId}/finish`).dueAt).toBe(plan.dueAt);
    expect(deadlineOf((await kase.doc()).deadlines, `${taskId}/finish`).dueAt).toBe(plan.dueAt);

    // Act: through the holiday to the morning after the last level
    await bed.skipTo(bj(`${nextMonday} 12:00`));

    // Assert
    const [level3] = await kase.waitForEvents('deadline.escalated', 1, { level: 3 });
    const timeline = (await kase.doc()).timeline;
    const fired = timeline.filter((e) => e.type.startsWith('deadline.'));
    expect(fired.map((e) => [e.type, e.detail?.reminder ?? e.detail?.level ?? null])).toEqual([
      ['deadline.reminded', 1],
      ['deadline.missed', null],
      ['deadline.escalated', 1],
      ['deadline.escalated', 2],
      ['deadline.escalated', 3],
    ]);
    expectFiredAt(fired[0]!.at, plan.reminders[0]!.at);
    expectFiredAt(fired[1]!.at, plan.dueAt!);
    plan.escalations.forEach((e, i) => expectFiredAt(fired[2 + i]!.at, e.at));
    expect(fired.filter((e) => holiday.includes(beijingText(e.at).slice(0, 10)))).toEqual([]);
    expect(level3!.detail).toMatchObject({ unitId: org.street.id, fellBack: false });
    expect(await mailsOf(org.gridWorker, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.director, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    const [toStreetDirector] = await mailsOf(org.streetDirector, SUBJECT.escalated);
    expect(toStreetDirector!.subject).toContain('第 3 级督办');
    expect(toStreetDirector!.text).toContain(`${friday} 10:00`);
    const task = (await kase.task(taskId))!;
    expect(deadlineOf(task.deadlines, `${taskId}/finish`)).toMatchObject({
      missed: true,
      escalationLevel: 3,
    });
  });
});

it('when the clock is paused and resumed, then nothing fires while it stands and the deadlines move by the time paused', async () => {
  // Arrange: a calendar clock (4 hours) and a working clock (1 working day) on one task.
  const org = await bed.seedOrg();
  const monday = await bed.quietMonday();
  const definition = bed.serviceDefinition('pause-resume', [
    {
      id: 'finish',
      name: '办结时限',
      within: 'PT4H',
      reminders: [{ before: 'PT1H', notify: 'assignee' }],
      escalations: [{ notify: { role: 'director', unit: { of: 'assignee', at: 'parent' } } }],
    },
    { id: 'report', name: '反馈时限', within: '1 working day' },
  ]);
  await bed.withWorker(async (queue) => {
    await bed.skipTo(bj(`${monday} 10:00`));
    const opened = await bed.openTask(queue, org, definition);
    const { kase } = opened;
    const { taskId, openedAt } = opened;
    const finishKey = `${taskId}/finish`;
    const reportKey = `${taskId}/report`;
    await kase.claim(taskId, org.gridWorker);
    await bed.skipTo(bj(`${monday} 11:00`));

    // Act: the assignee pauses (waiting on the resident) for ten hours
    await kase.pause(org.gridWorker);
    const paused = await kase.waitForTask('the paused task', taskId, (t) =>
      t.deadlines.every((d) => d.paused),
    );
    await bed.skipTo(bj(`${monday} 21:00`));

    // Assert: nothing was due while paused, not even past the original 14:00
    expect(paused.dueAt).toBeNull();
    const during = await kase.doc();
    expect(deadlineOf(during.deadlines, finishKey)).toMatchObject({ paused: true, dueAt: null });
    expect(deadlineOf(during.deadlines, reportKey)).toMatchObject({ paused: true, dueAt: null });
    expect(during.timeline.filter((e) => e.type.startsWith('deadline.'))).toEqual([]);
    expect(await mailsOf(org.gridWorker, SUBJECT.reminder)).toHaveLength(0);

    // Act: resume
    await kase.resume(org.gridWorker);

    // Assert: the calendar clock moved by the ten hours, the working clock by the working
    // time paused (11:00–17:30 less lunch), recomputed from what was left, not restarted.
    const [pausedAt] = await kase.waitForEvents('clock.paused', 1);
    const [resumedAt] = await kase.waitForEvents('clock.resumed', 1);
    const span = resumedAt!.at.getTime() - pausedAt!.at.getTime();
    const finishDue = openedAt + 4 * HOUR + span;
    const resumed = await kase.waitForTask('the resumed task', taskId, (t) =>
      t.deadlines.every((d) => !d.paused && d.dueAt !== null),
    );
    expect(deadlineOf(resumed.deadlines, finishKey).dueAt).toBe(new Date(finishDue).toISOString());
    expect(beijingText(finishDue)).toBe(`${plusDays(monday, 1)} 00:00`);
    const report = await planned({ within: '1 working day' }, openedAt, [
      { from: pausedAt!.at.toISOString(), to: resumedAt!.at.toISOString() },
    ]);
    expect(beijingText(report.dueAt!)).toBe(`${plusDays(monday, 1)} 16:30`);
    expect(deadlineOf(resumed.deadlines, reportKey).dueAt).toBe(report.dueAt);
    expect(resumed.dueAt!.toISOString()).toBe(new Date(finishDue).toISOString());
    const doc = await kase.doc();
    expect(deadlineOf(doc.deadlines, finishKey).dueAt).toBe(new Date(finishDue).toISOString());
    expect(deadlineOf(doc.deadlines, reportKey).dueAt).toBe(report.dueAt);

    // Act: past both new deadlines
    await bed.skipTo(Date.parse(report.dueAt!) + MINUTE);

    // Assert: each fired once, at the moved instant, after the resumption
    const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
    const [escalated] = await kase.waitForEvents('deadline.escalated', 1);
    const missed = await kase.waitForEvents('deadline.missed', 2);
    expectFiredAt(reminded!.at, finishDue - HOUR);
    expectFiredAt(escalated!.at, finishDue);
    expect(missed.map((e) => e.detail?.deadline)).toEqual(['finish', 'report']);
    expectFiredAt(missed[0]!.at, finishDue);
    expectFiredAt(missed[1]!.at, report.dueAt!);
    expect(await mailsOf(org.gridWorker, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.director, SUBJECT.escalated)).toHaveLength(1);

    // Assert: the guarded changes this case ran (people lookups, a pause holding the clock, the
    // escalation) left one patch marker for all of them (workflows/patches.ts), not one each
    const { events } = await kase.handle.fetchHistory();
    const patchMarkers = (events ?? []).filter(
      (e) => e.markerRecordedEventAttributes?.markerName === 'core_patch',
    );
    expect(patchMarkers).toHaveLength(1);
  });
});

/** That `instant` is the Beijing wall-clock `text`, give or take the seconds an Update takes. */
function expectAbout(instant: string | number, text: string): void {
  expect(Math.abs(new Date(instant).getTime() - bj(text).getTime())).toBeLessThan(MINUTE);
}

it('when the clock is paused after the deadline was missed, then the levels still to come wait for the resumption and fire later by the time paused', async () => {
  // Arrange: due Monday 11:00 (level 1 then); level 2 two hours later (13:00), level 3 one working
  // day later (Tuesday 11:00).
  const org = await bed.seedOrg();
  const monday = await bed.quietMonday();
  const deadline = {
    id: 'finish',
    name: '办结时限',
    within: 'PT1H',
    escalations: [
      { notify: { role: 'director', unit: { of: 'assignee', at: 'parent' } } },
      { after: 'PT2H', notify: { role: 'secretary', unit: 'street' } },
      { after: '1 working day', notify: { role: 'director', unit: 'street' } },
    ],
  };
  await bed.withWorker(async (queue) => {
    await bed.skipTo(bj(`${monday} 10:00`));
    const opened = await bed.openTask(
      queue,
      org,
      bed.serviceDefinition('paused-after-miss', [deadline]),
    );
    const { kase, taskId, openedAt } = opened;
    const key = `${taskId}/finish`;
    await kase.claim(taskId, org.gridWorker);
    await bed.skipTo(bj(`${monday} 11:30`));
    const [level1] = await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
    expectFiredAt(level1!.at, openedAt + HOUR);

    // Act: missed and escalated once, the case waits on the resident from 11:30 to 15:30, past
    // level 2's 13:00
    await kase.pause(org.gridWorker);
    await bed.skipTo(bj(`${monday} 15:30`));

    // Assert: nothing more while paused; the deadline shows missed and paused, nothing due
    const during = await kase.doc();
    expect(eventsOf(during.timeline, 'deadline.escalated')).toHaveLength(1);
    expect(deadlineOf(during.deadlines, key)).toMatchObject({
      paused: true,
      missed: true,
      dueAt: null,
      escalationLevel: 1,
    });
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(0);

    // Act: resume
    await kase.resume(org.gridWorker);

    // Assert: the deadline is the missed one again; level 2 moved by the four hours paused, level 3
    // by the 150 working minutes paused (11:30–12:00, 13:30–15:30)
    const [pausedAt] = await kase.waitForEvents('clock.paused', 1);
    const [resumedAt] = await kase.waitForEvents('clock.resumed', 1);
    const plan = await planned(deadline, openedAt, [
      { from: pausedAt!.at.toISOString(), to: resumedAt!.at.toISOString() },
    ]);
    expect(plan.dueAt).toBe(new Date(openedAt + HOUR).toISOString());
    expectAbout(plan.escalations[1]!.at, `${monday} 17:00`);
    expectAbout(plan.escalations[2]!.at, `${plusDays(monday, 1)} 15:00`);
    await kase.waitForDoc('the resumed deadline', (d) => {
      const resumed = deadlineOf(d.deadlines, key);
      return !resumed.paused && resumed.dueAt === plan.dueAt;
    });

    // Act: past level 3's new instant
    await bed.skipTo(Date.parse(plan.escalations[2]!.at) + MINUTE);

    // Assert: levels 2 and 3 each fired once, at the moved instant
    const escalated = await kase.waitForEvents('deadline.escalated', 3);
    expect(escalated.map((e) => e.detail?.level)).toEqual([1, 2, 3]);
    expectFiredAt(escalated[1]!.at, plan.escalations[1]!.at);
    expectFiredAt(escalated[2]!.at, plan.escalations[2]!.at);
    const doc = await kase.doc();
    expect(eventsOf(doc.timeline, 'deadline.missed')).toHaveLength(1);
    expect(deadlineOf(doc.deadlines, key)).toMatchObject({ missed: true, escalationLevel: 3 });
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.streetDirector, SUBJECT.escalated)).toHaveLength(1);
  });
});

/**
 * Holds the planning activity back on demand, as a database outage would: while the gate is
 * closed every attempt fails and Temporal retries it with backoff, so the replan stays in flight.
 * (Failing, not hanging: the time-skipping server does not move time while an attempt runs.)
 */
class PlanningGate {
  readonly requests: Array<{ pauses: readonly ClockPause[] }> = [];
  private closed = false;

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.closed = false;
  }

  pass(request: { pauses: readonly ClockPause[] }): void {
    this.requests.push(request);
    if (this.closed) throw new Error('The working calendar cannot be read just now');
  }

  /** Waits until a plan matching `check` was asked for. */
  async asked(what: string, check: (pauses: readonly ClockPause[]) => boolean): Promise<void> {
    await waitFor(what, () => Promise.resolve(this.requests.some((r) => check(r.pauses))));
  }
}

/** Like `bed.withWorker`, with the planning activity behind `gate`. */
async function withGatedPlanning<T>(
  gate: PlanningGate,
  body: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `sla-gated-${randomBytes(4).toString('hex')}`;
  const activities = createActivities({
    models: bed.db.models,
    mail: {
      transport: createSmtpTransport(testStack().env.SMTP_URL),
      renderer: createMailRenderer(),
      from: 'test <noreply@governance.local>',
    },
    clock: () => new Date(),
    logger: createLogger('test', 'silent'),
  });
  const planDeadline = activities.planDeadline.bind(activities);
  const worker = await Worker.create({
    connection: bed.env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: testStack().workflowBundlePath },
    dataConverter: testDataConverter(),
    activities: {
      ...activities,
      planDeadline: async (request: Parameters<typeof planDeadline>[0]) => {
        gate.pass(request);
        return planDeadline(request);
      },
    },
  });
  return worker.runUntil(body(taskQueue));
}

it('when the clock is paused and resumed while the new plans are still being made, then nothing fires from the old plan, and afterwards everything fires from the new one', async () => {
  // Arrange: due two hours after the task opens, a reminder ten minutes before, level 1 at the
  // deadline.
  const org = await bed.seedOrg();
  const definition = bed.serviceDefinition('pause-in-flight', [
    {
      id: 'finish',
      name: '办结时限',
      within: 'PT2H',
      reminders: [{ before: 'PT10M', notify: 'assignee' }],
      escalations: [{ notify: { role: 'director', unit: { of: 'assignee', at: 'parent' } } }],
    },
  ]);
  const gate = new PlanningGate();
  await withGatedPlanning(gate, async (queue) => {
    const opened = await bed.openTask(queue, org, definition);
    const { kase, taskId, openedAt } = opened;
    const dueAt = openedAt + 2 * HOUR;
    await kase.claim(taskId, org.gridWorker);
    await bed.skipTo(dueAt - 15 * MINUTE);

    // Act: paused while planning is held back; the old plan's reminder and deadline pass with the
    // paused plan still in flight…
    gate.close();
    const pausing = kase.pause(org.gridWorker);
    await gate.asked('the paused plan', (pauses) => pauses.some((p) => p.to === undefined));
    await bed.skipTo(dueAt + 2 * MINUTE);
    // …then resumed, the resumed plan held back too, with everything of the old plan overdue
    const resuming = kase.resume(org.gridWorker);
    await gate.asked(
      'the resumed plan',
      (pauses) => pauses.length > 0 && pauses.every((p) => p.to !== undefined),
    );
    await bed.skipTo(dueAt + 4 * MINUTE);
    const inFlight = await kase.doc();
    gate.open();
    // The next attempts come after their backoff (at most a minute): let them run.
    await bed.skipTo(dueAt + 6 * MINUTE);
    await Promise.all([pausing, resuming]);

    // Assert: nothing fired while a plan was in flight
    expect(inFlight.timeline.filter((e) => e.type.startsWith('deadline.'))).toEqual([]);
    expect(await mailsOf(org.gridWorker, SUBJECT.reminder)).toHaveLength(0);
    const [pausedAt] = await kase.waitForEvents('clock.paused', 1);
    const [resumedAt] = await kase.waitForEvents('clock.resumed', 1);
    const movedDue = dueAt + resumedAt!.at.getTime() - pausedAt!.at.getTime();
    const resumed = await kase.waitForTask('the resumed plan', taskId, (t) => {
      return deadlineOf(t.deadlines, `${taskId}/finish`).dueAt !== null;
    });
    expect(deadlineOf(resumed.deadlines, `${taskId}/finish`).dueAt).toBe(
      new Date(movedDue).toISOString(),
    );

    // Act: past the moved deadline
    await bed.skipTo(movedDue + MINUTE);

    // Assert: the reminder, the missed mark and level 1, each once, at the moved instants
    await kase.waitForEvents('deadline.escalated', 1);
    const fired = (await kase.doc()).timeline.filter((e) => e.type.startsWith('deadline.'));
    expect(fired.map((e) => e.type)).toEqual([
      'deadline.reminded',
      'deadline.missed',
      'deadline.escalated',
    ]);
    expectFiredAt(fired[0]!.at, movedDue - 10 * MINUTE);
    expectFiredAt(fired[1]!.at, movedDue);
    expectFiredAt(fired[2]!.at, movedDue);
    expect(await mailsOf(org.gridWorker, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.director, SUBJECT.escalated)).toHaveLength(1);
  });
});

it('when an admin adds a day off and the case is told, then its running working-day deadlines move by a day and fire on the new day', async () => {
  // Arrange: a task due in 2 working days (Wednesday), the case in 3 (Thursday).
  const org = await bed.seedOrg();
  const monday = await bed.quietMonday();
  const definition = bed.serviceDefinition(
    'calendar-change',
    [
      {
        id: 'finish',
        name: '办结时限',
        within: '2 working days',
        escalations: [{ notify: { role: 'director', unit: { of: 'assignee', at: 'parent' } } }],
      },
    ],
    { caseDeadlines: [{ id: 'case', name: '总办结时限', within: '3 working days' }] },
  );
  await bed.withWorker(async (queue) => {
    await bed.skipTo(bj(`${monday} 10:00`));
    const opened = await bed.openTask(queue, org, definition);
    const { kase } = opened;
    const { taskId } = opened;
    const taskKey = `${taskId}/finish`;
    const before = await kase.doc();
    expect(beijingText(deadlineOf(before.deadlines, taskKey).dueAt!)).toBe(
      `${plusDays(monday, 2)} 10:00`,
    );
    expect(beijingText(deadlineOf(before.deadlines, 'case/case').dueAt!)).toBe(
      `${plusDays(monday, 3)} 10:00`,
    );

    // Act: Tuesday becomes a day off; the API signals running cases
    await bed.addCalendarDays([{ date: plusDays(monday, 1), name: '临时放假', isOffDay: true }]);
    await kase.calendarChanged();

    // Assert: both deadlines are a working day later, in the case and the task documents
    const moved = await kase.waitForDoc('the deadlines to move', (d) =>
      beijingText(deadlineOf(d.deadlines, taskKey).dueAt!).startsWith(plusDays(monday, 3)),
    );
    const taskDue = deadlineOf(moved.deadlines, taskKey).dueAt!;
    expect(beijingText(taskDue)).toBe(`${plusDays(monday, 3)} 10:00`);
    expect(beijingText(deadlineOf(moved.deadlines, 'case/case').dueAt!)).toBe(
      `${plusDays(monday, 4)} 10:00`,
    );
    const task = await kase.waitForTask('the task’s deadline to move', taskId, (t) => {
      return deadlineOf(t.deadlines, taskKey).dueAt === taskDue;
    });
    expect(task.dueAt!.toISOString()).toBe(taskDue);

    // Act: past the old Wednesday deadline and the new Thursday one
    await bed.skipTo(Date.parse(taskDue) + MINUTE);

    // Assert: missed and escalated on Thursday, not on Wednesday
    const [missed] = await kase.waitForEvents('deadline.missed', 1, { deadline: 'finish' });
    const [escalated] = await kase.waitForEvents('deadline.escalated', 1);
    expectFiredAt(missed!.at, taskDue);
    expectFiredAt(escalated!.at, taskDue);
    expect(await mailsOf(org.director, SUBJECT.escalated)).toHaveLength(1);
    const doc = await kase.doc();
    expect(eventsOf(doc.timeline, 'deadline.missed')).toHaveLength(1);
    expect(deadlineOf(doc.deadlines, 'case/case')).toMatchObject({ missed: false });
  });
});

it('when a ladder mixes working-time and calendar offsets that cross, then every level still fires, each at its own instant', async () => {
  // Arrange: due Monday 11:00. Level 2 comes 7 working hours later (Tuesday 11:00), level 3
  // nine calendar hours later (Monday 20:00): valid (levels are ordered by rough length) and
  // crossed once the working day's end is counted.
  const org = await bed.seedOrg();
  const monday = await bed.quietMonday();
  const escalations = [
    { notify: { role: 'director', unit: { of: 'assignee', at: 'parent' } } },
    { after: '7 working hours', notify: { role: 'secretary', unit: 'street' } },
    { after: 'PT9H', notify: { role: 'director', unit: 'street' } },
  ];
  const definition = bed.serviceDefinition('crossed-ladder', [
    { id: 'finish', name: '办结时限', within: 'PT1H', escalations },
  ]);
  await bed.withWorker(async (queue) => {
    await bed.skipTo(bj(`${monday} 10:00`));
    const opened = await bed.openTask(queue, org, definition);
    const { kase } = opened;
    const plan = await planned({ within: 'PT1H', escalations }, opened.openedAt);
    expect(plan.escalations.map((e) => beijingText(e.at))).toEqual([
      `${monday} 11:00`,
      `${plusDays(monday, 1)} 11:00`,
      `${monday} 20:00`,
    ]);

    // Act
    await bed.skipTo(Date.parse(plan.escalations[1]!.at) + MINUTE);

    // Assert: all three levels, in the order of their instants
    const escalated = await kase.waitForEvents('deadline.escalated', 3);
    expect(escalated.map((e) => e.detail?.level)).toEqual([1, 3, 2]);
    expectFiredAt(escalated[0]!.at, plan.escalations[0]!.at);
    expectFiredAt(escalated[1]!.at, plan.escalations[2]!.at);
    expectFiredAt(escalated[2]!.at, plan.escalations[1]!.at);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.streetDirector, SUBJECT.escalated)).toHaveLength(1);
    const task = (await kase.task(opened.taskId))!;
    expect(deadlineOf(task.deadlines, `${opened.taskId}/finish`).escalationLevel).toBe(3);
  });
});

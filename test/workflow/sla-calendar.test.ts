import type { ClockPause } from '../../common/sla';
import { planDeadline } from '../../common/sla';
import { beijingText, bj } from '../support/beijing';
import type { SlaTestBed } from '../support/sla-cases';
import {
  deadlineOf,
  eventsOf,
  expectFiredAt,
  mailsOf,
  useSlaTestBed,
  SUBJECT,
} from '../support/sla-cases';

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
    if (process.env.BOOM) throw new Error('boom');
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
    const moved = await kase.waitForDoc('the deadlines to move', (d) => {
      if (!d.deadlines.some((x) => x.key === taskKey)) {
        console.log('DEBUGDOC', JSON.stringify(d, null, 1));
      }
      return beijingText(deadlineOf(d.deadlines, taskKey).dueAt!).startsWith(plusDays(monday, 3));
    });
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

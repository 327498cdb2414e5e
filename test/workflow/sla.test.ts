import { beijingText } from '../support/beijing';
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
 * SLA clocks of task steps on the time-skipping test server, real activities over FerretDB and
 * the SMTP sink: reminders, the escalation ladder (with 兜底 and reassignment), completion and
 * claim stopping their clocks. Calendar clocks here; working time is in sla-calendar.test.ts.
 */
let bed: SlaTestBed;
const HOUR = 3600_000;
const MINUTE = 60_000;

useSlaTestBed('sla', (ready) => {
  bed = ready;
});

it('when a deadline nears, then each reminder goes out at its offset to the assignee or the candidates', async () => {
  const org = await bed.seedOrg();
  const definition = bed.serviceDefinition('reminders', [
    {
      id: 'finish',
      name: '办结时限',
      within: 'PT8H',
      reminders: [
        { before: 'PT2H', notify: 'candidates' },
        { before: 'PT30M', notify: 'assignee' },
      ],
    },
  ]);
  await bed.withWorker(async (queue) => {
    // Arrange: the task is open to both grid workers; one claims it.
    const opened = await bed.openTask(queue, org, definition);
    const { kase } = opened;
    const dueAt = opened.openedAt + 8 * HOUR;
    expect(opened.task.deadlines[0]!.dueAt).toBe(new Date(dueAt).toISOString());
    await bed.skipTo(opened.openedAt + HOUR);
    await kase.claim(opened.taskId, org.gridWorker);

    // Act & Assert: nothing before the first reminder's instant…
    await bed.skipTo(dueAt - 2 * HOUR - MINUTE);
    expect(await mailsOf(org.gridWorker, SUBJECT.reminder)).toHaveLength(0);
    // …then the first to both candidates…
    await bed.skipTo(dueAt - 2 * HOUR + MINUTE);
    const [first] = await kase.waitForEvents('deadline.reminded', 1, { reminder: 1 });
    expectFiredAt(first!.at, dueAt - 2 * HOUR);
    expect(first!.detail).toEqual({ deadline: 'finish', task: opened.taskId, reminder: 1 });
    // …and the second to the assignee alone.
    await bed.skipTo(dueAt - 30 * MINUTE + MINUTE);
    const [second] = await kase.waitForEvents('deadline.reminded', 1, { reminder: 2 });
    expectFiredAt(second!.at, dueAt - 30 * MINUTE);
    // Announced to 2 candidates, then reminded 2 + 1 times.
    await kase.waitForEvents('notification.sent', 2 + 2 + 1);

    const toAssignee = await mailsOf(org.gridWorker, SUBJECT.reminder);
    const toOther = await mailsOf(org.gridWorker2, SUBJECT.reminder);
    expect(toAssignee).toHaveLength(2);
    expect(toOther).toHaveLength(1);
    expect(toOther[0]!.subject).toContain(kase.caseId);
    expect(toOther[0]!.text).toContain('办结时限');
    expect(toOther[0]!.text).toContain(beijingText(dueAt));
    expect(toOther[0]!.text).toContain(org.gridWorker2.name);
  });
});

it('when a reminder for the assignee falls before anyone claimed the task, then the candidates get it', async () => {
  const org = await bed.seedOrg();
  const definition = bed.serviceDefinition('reminder-unclaimed', [
    { id: 'finish', name: '办结时限', within: 'PT4H', reminders: [{ before: 'PT1H' }] },
  ]);
  await bed.withWorker(async (queue) => {
    // Arrange: the task is open to both grid workers; nobody claims it.
    const opened = await bed.openTask(queue, org, definition);
    const dueAt = opened.openedAt + 4 * HOUR;

    // Act
    await bed.skipTo(dueAt - HOUR + MINUTE);
    await opened.kase.waitForEvents('deadline.reminded', 1);
    await opened.kase.waitForEvents('notification.sent', 2 + 2);

    // Assert
    expect(await mailsOf(org.gridWorker, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.gridWorker2, SUBJECT.reminder)).toHaveLength(1);
  });
});

it('when a claimed task passes its deadline, then level 1 reaches the community director, who takes the task over, and level 2 the street secretary', async () => {
  const org = await bed.seedOrg();
  const definition = bed.serviceDefinition('escalation-ladder', [
    {
      id: 'finish',
      name: '办结时限',
      within: 'PT4H',
      escalations: [
        { notify: { role: 'director', unit: { of: 'assignee', at: 'parent' } }, reassign: true },
        { after: 'PT2H', notify: { role: 'secretary', unit: 'street' } },
      ],
    },
  ]);
  await bed.withWorker(async (queue) => {
    // Arrange
    const opened = await bed.openTask(queue, org, definition);
    const { kase } = opened;
    const { taskId } = opened;
    const dueAt = opened.openedAt + 4 * HOUR;
    await kase.claim(taskId, org.gridWorker);

    // Act: past the deadline
    await bed.skipTo(dueAt + MINUTE);

    // Assert: missed, level 1 to the director of the assignee's grid's parent (the community)
    const [level1] = await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
    expectFiredAt(level1!.at, dueAt);
    expect(level1!.detail).toEqual({
      deadline: 'finish',
      task: taskId,
      level: 1,
      people: 1,
      fellBack: false,
      unitId: org.community.id,
    });
    const [missed] = await kase.waitForEvents('deadline.missed', 1);
    expectFiredAt(missed!.at, dueAt);
    const [toDirector] = await mailsOf(org.director, SUBJECT.escalated);
    expect(toDirector!.subject).toContain('第 1 级督办');
    expect(toDirector!.text).toContain(`本事项提交至${org.community.name}`);
    expect(toDirector!.text).toContain(`当前承办人：${org.gridWorker.name}`);
    expect(toDirector!.text).not.toContain('兜底');
    expect(await mailsOf(org.streetSecretary)).toHaveLength(0);

    // …and the task is the director's now
    const handed = await kase.waitForTask('the director to hold the task', taskId, (t) => {
      return t.assignee?.personId === org.director.personId;
    });
    expect(handed.status).toBe('claimed');
    expect(handed.assigneeUserId).toBe(org.director.userId);
    expect(handed.candidateUserIds).toEqual([org.director.userId]);
    expect(eventsOf((await kase.doc()).timeline, 'task.reassigned')[0]!.detail).toEqual({
      task: taskId,
      people: 1,
      by: 'escalation',
    });

    // Act: two hours later
    await bed.skipTo(dueAt + 2 * HOUR + MINUTE);

    // Assert: level 2 to the street's secretary, naming the director as the one holding it
    const [level2] = await kase.waitForEvents('deadline.escalated', 1, { level: 2 });
    expectFiredAt(level2!.at, dueAt + 2 * HOUR);
    expect(level2!.detail).toMatchObject({ level: 2, fellBack: false, unitId: org.street.id });
    const [toSecretary] = await mailsOf(org.streetSecretary, SUBJECT.escalated);
    expect(toSecretary!.subject).toContain('第 2 级督办');
    expect(toSecretary!.text).toContain(`本事项提交至${org.street.name}`);
    expect(toSecretary!.text).toContain(`当前承办人：${org.director.name}`);
    expect(await mailsOf(org.director, SUBJECT.escalated)).toHaveLength(1);

    // The grid worker no longer holds the task; the director completes it.
    await expect(kase.complete(taskId, org.gridWorker)).rejects.toMatchObject({
      cause: { type: 'Conflict' },
    });
    await kase.complete(taskId, org.director);
    expect(await kase.handle.result()).toMatchObject({ status: 'closed' });
    const deadline = deadlineOf((await kase.doc()).deadlines, `${taskId}/finish`);
    expect(deadline).toMatchObject({ missed: true, stopped: true, escalationLevel: 2 });
    expect(deadline.dueAt).toBe(new Date(dueAt).toISOString());
  });
});

it('when an escalation level names posts in two units, then its mail and its timeline entry name both units', async () => {
  const org = await bed.seedOrg();
  const definition = bed.serviceDefinition('escalation-two-units', [
    {
      id: 'finish',
      name: '办结时限',
      within: 'PT4H',
      escalations: [
        {
          notify: [
            { role: 'director', unit: { of: 'assignee', at: 'parent' } },
            { role: 'secretary', unit: 'street' },
          ],
        },
      ],
    },
  ]);
  await bed.withWorker(async (queue) => {
    // Arrange
    const opened = await bed.openTask(queue, org, definition);
    const { kase, taskId } = opened;
    await kase.claim(taskId, org.gridWorker);

    // Act: past the deadline
    await bed.skipTo(opened.openedAt + 4 * HOUR + MINUTE);

    // Assert: one entry naming the first unit and both units; each mail names both
    const [level1] = await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
    expect(level1!.detail).toEqual({
      deadline: 'finish',
      task: taskId,
      level: 1,
      people: 2,
      fellBack: false,
      unitId: org.community.id,
      unitIds: [org.community.id, org.street.id],
    });
    const [toDirector] = await mailsOf(org.director, SUBJECT.escalated);
    const [toSecretary] = await mailsOf(org.streetSecretary, SUBJECT.escalated);
    for (const mail of [toDirector!, toSecretary!]) {
      expect(mail.text).toContain(`本事项提交至${org.community.name}、${org.street.name}`);
    }
  });
});

it('when the community director’s post is vacant, then the escalation falls back to the street (兜底) and says so, and a level nobody holds is recorded as unresolved', async () => {
  const org = await bed.seedOrg({ vacantDirector: true });
  const definition = bed.serviceDefinition('escalation-fallback', [
    {
      id: 'finish',
      name: '办结时限',
      within: 'PT4H',
      escalations: [
        { notify: { role: 'director', unit: { of: 'assignee', at: 'parent' } } },
        { after: 'PT1H', notify: { role: 'building-head', unit: 'case' } },
      ],
    },
  ]);
  await bed.withWorker(async (queue) => {
    // Arrange: nobody claims the task.
    const opened = await bed.openTask(queue, org, definition);
    const { kase } = opened;
    const dueAt = opened.openedAt + 4 * HOUR;

    // Act
    await bed.skipTo(dueAt + HOUR + MINUTE);

    // Assert: level 1 went up to the street's director
    const [level1] = await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
    expectFiredAt(level1!.at, dueAt);
    expect(level1!.detail).toMatchObject({ people: 1, fellBack: true, unitId: org.street.id });
    const [mail] = await mailsOf(org.streetDirector, SUBJECT.escalated);
    expect(mail!.text).toContain(
      `因原定督办岗位暂时空缺，按照兜底规则，本事项逐级提交至${org.street.name}`,
    );
    expect(mail!.text).toContain('该任务目前尚无人签收');
    expect(await mailsOf(org.director)).toHaveLength(0);
    // Level 2: no building head anywhere up the tree.
    const [unresolved] = await kase.waitForEvents('deadline.unresolved', 1, { level: 2 });
    expectFiredAt(unresolved!.at, dueAt + HOUR);
    expect(unresolved!.detail).toMatchObject({ people: 0, fellBack: false });
    const failed = eventsOf((await kase.doc()).timeline, 'notification.failed');
    expect(failed.map((e) => e.detail)).toEqual([
      { template: 'task-escalated', reason: 'no-recipient' },
    ]);
  });
});

it('when a task is completed before its deadline, then no reminder or escalation goes out afterwards, however long the case runs on', async () => {
  const org = await bed.seedOrg();
  const definition = bed.serviceDefinition(
    'completion-stops',
    [
      {
        id: 'finish',
        name: '办结时限',
        within: 'PT2H',
        reminders: [{ before: 'PT30M', notify: 'candidates' }],
        escalations: [
          { notify: { role: 'director', unit: { of: 'assignee', at: 'parent' } } },
          { after: 'PT1H', notify: { role: 'secretary', unit: 'street' } },
        ],
      },
    ],
    { after: [{ id: 'revisit', name: '回访等待', type: 'timer', duration: 'P2D' }] },
  );
  await bed.withWorker(async (queue) => {
    // Arrange
    const opened = await bed.openTask(queue, org, definition);
    const { kase } = opened;
    const { taskId } = opened;
    await kase.claim(taskId, org.gridWorker);
    await bed.skipTo(opened.openedAt + HOUR);
    const mailsBefore = await Promise.all(org.everyone.map((p) => mailsOf(p)));

    // Act: done an hour early, then the case waits two days before it closes (read before the
    // call: the completion's workflow task starts the timer before the call returns)
    const completedAt = await bed.now();
    await kase.complete(taskId, org.gridWorker);
    expect(await kase.handle.result()).toMatchObject({ status: 'closed' });

    // Assert: the whole ladder's time has passed, and nothing of it happened
    const doc = await kase.doc();
    expect(doc.closedAt!.getTime() - completedAt).toBeGreaterThanOrEqual(2 * 24 * HOUR);
    expect(doc.timeline.filter((e) => e.type.startsWith('deadline.'))).toEqual([]);
    const mailsAfter = await Promise.all(org.everyone.map((p) => mailsOf(p)));
    expect(mailsAfter.map((m) => m.length)).toEqual(mailsBefore.map((m) => m.length));
    expect(mailsAfter.map((m) => m.length)).toEqual([1, 1, 0, 0, 0, 0]); // the two announcements
    const task = (await kase.task(taskId))!;
    expect(task.status).toBe('completed');
    expect(task.dueAt).toBeNull();
    expect(task.deadlines).toEqual([
      expect.objectContaining({ stopped: true, missed: false, escalationLevel: 0 }),
    ]);
    expect(deadlineOf(doc.deadlines, `${taskId}/finish`)).toMatchObject({
      stopped: true,
      missed: false,
      escalationLevel: 0,
    });
  });
});

/** 签收 within an hour (stops on claim), 办结 within eight hours (stops on completion). */
function signAndFinish(key: string) {
  return bed.serviceDefinition(key, [
    {
      id: 'sign',
      name: '签收时限',
      within: 'PT1H',
      stopsOn: 'claim',
      escalations: [{ notify: { role: 'secretary', unit: { of: 'assignee', at: 'parent' } } }],
    },
    {
      id: 'finish',
      name: '办结时限',
      within: 'PT8H',
      escalations: [{ notify: { role: 'director', unit: { of: 'assignee', at: 'parent' } } }],
    },
  ]);
}

it('when a task is claimed within its 签收 deadline, then that clock stops while the completion deadline runs on and escalates', async () => {
  const org = await bed.seedOrg();
  await bed.withWorker(async (queue) => {
    // Arrange
    const opened = await bed.openTask(queue, org, signAndFinish('sign-stops'));
    const { kase } = opened;
    const { taskId, openedAt } = opened;
    await bed.skipTo(openedAt + 30 * MINUTE);

    // Act
    await kase.claim(taskId, org.gridWorker);

    // Assert: the 签收 clock stopped, the 办结 clock is what the work list sorts by
    const claimed = await kase.waitForTask('the claim', taskId, (t) => t.status === 'claimed');
    const sign = deadlineOf(claimed.deadlines, `${taskId}/sign`);
    const finishClock = deadlineOf(claimed.deadlines, `${taskId}/finish`);
    expect(sign).toMatchObject({ stopped: true, missed: false });
    expect(finishClock).toMatchObject({ stopped: false, missed: false });
    expect(claimed.dueAt!.toISOString()).toBe(new Date(openedAt + 8 * HOUR).toISOString());

    // Act: past both deadlines
    await bed.skipTo(openedAt + 8 * HOUR + MINUTE);

    // Assert: only the completion deadline was missed and escalated
    const [escalated] = await kase.waitForEvents('deadline.escalated', 1);
    expect(escalated!.detail).toMatchObject({ deadline: 'finish', level: 1 });
    expectFiredAt(escalated!.at, openedAt + 8 * HOUR);
    const doc = await kase.doc();
    expect(eventsOf(doc.timeline, 'deadline.missed').map((e) => e.detail)).toEqual([
      { deadline: 'finish', task: taskId },
    ]);
    expect(await mailsOf(org.director, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.communitySecretary)).toHaveLength(0);
    expect(deadlineOf(doc.deadlines, `${taskId}/sign`)).toMatchObject({
      stopped: true,
      missed: false,
      escalationLevel: 0,
    });
    expect(deadlineOf(doc.deadlines, `${taskId}/finish`)).toMatchObject({
      stopped: false,
      missed: true,
      escalationLevel: 1,
    });
  });
});

it('when nobody claims within the 签收 deadline, then it escalates at its instant and the completion deadline is untouched', async () => {
  const org = await bed.seedOrg();
  await bed.withWorker(async (queue) => {
    // Arrange
    const opened = await bed.openTask(queue, org, signAndFinish('sign-missed'));
    const { kase } = opened;
    const { taskId, openedAt } = opened;

    // Act
    await bed.skipTo(openedAt + HOUR + MINUTE);

    // Assert
    const [escalated] = await kase.waitForEvents('deadline.escalated', 1);
    expect(escalated!.detail).toMatchObject({
      deadline: 'sign',
      level: 1,
      unitId: org.community.id,
    });
    expectFiredAt(escalated!.at, openedAt + HOUR);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(1);
    const task = await kase.waitForTask('the missed 签收 deadline', taskId, (t) =>
      t.deadlines.some((d) => d.missed),
    );
    expect(deadlineOf(task.deadlines, `${taskId}/sign`)).toMatchObject({
      missed: true,
      escalationLevel: 1,
    });
    expect(deadlineOf(task.deadlines, `${taskId}/finish`)).toMatchObject({
      missed: false,
      escalationLevel: 0,
    });
    expect(await mailsOf(org.director)).toHaveLength(0);
  });
});

it('when an escalation hands an unclaimed task to one person, then that counts as their 签收: the 签收 clock stops and only the 办结 clock escalates further', async () => {
  // Arrange: 签收 within an hour, its level 1 hands the task to the community director, level 2
  // an hour later would tell the street secretary; 办结 within eight hours.
  const org = await bed.seedOrg();
  const definition = bed.serviceDefinition('escalation-claims', [
    {
      id: 'sign',
      name: '签收时限',
      within: 'PT1H',
      stopsOn: 'claim',
      escalations: [
        { notify: { role: 'director', unit: { of: 'assignee', at: 'parent' } }, reassign: true },
        { after: 'PT1H', notify: { role: 'secretary', unit: 'street' } },
      ],
    },
    {
      id: 'finish',
      name: '办结时限',
      within: 'PT8H',
      escalations: [{ notify: { role: 'director', unit: 'street' } }],
    },
  ]);
  await bed.withWorker(async (queue) => {
    const opened = await bed.openTask(queue, org, definition);
    const { kase, taskId, openedAt } = opened;

    // Act: nobody claims within the hour
    await bed.skipTo(openedAt + HOUR + MINUTE);

    // Assert: the director holds the task, and the 签收 clock stopped with it
    const [level1] = await kase.waitForEvents('deadline.escalated', 1, { deadline: 'sign' });
    expectFiredAt(level1!.at, openedAt + HOUR);
    const handed = await kase.waitForTask('the director to hold the task', taskId, (t) => {
      return t.assignee?.personId === org.director.personId;
    });
    expect(handed.status).toBe('claimed');
    expect(deadlineOf(handed.deadlines, `${taskId}/sign`)).toMatchObject({
      stopped: true,
      missed: true,
      escalationLevel: 1,
    });
    expect(deadlineOf(handed.deadlines, `${taskId}/finish`)).toMatchObject({ stopped: false });
    expect(handed.dueAt!.toISOString()).toBe(new Date(openedAt + 8 * HOUR).toISOString());

    // Act: past the 签收 clock's level 2 and the 办结 deadline
    await bed.skipTo(openedAt + 8 * HOUR + MINUTE);

    // Assert: the 办结 clock escalated at its instant; the 签收 ladder never went on
    const [finish] = await kase.waitForEvents('deadline.escalated', 1, { deadline: 'finish' });
    expectFiredAt(finish!.at, openedAt + 8 * HOUR);
    const doc = await kase.doc();
    expect(
      eventsOf(doc.timeline, 'deadline.escalated').map((e) => [
        e.detail?.deadline,
        e.detail?.level,
      ]),
    ).toEqual([
      ['sign', 1],
      ['finish', 1],
    ]);
    expect(await mailsOf(org.director, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary)).toHaveLength(0);
    expect(await mailsOf(org.streetDirector, SUBJECT.escalated)).toHaveLength(1);

    // The director, holding the task without claiming it, completes it.
    await kase.complete(taskId, org.director);
    expect(await kase.handle.result()).toMatchObject({ status: 'closed' });
  });
});

it('when a task deadline counts from the case (from: case), then it falls that long after the case was received, however late the task opened, while a task-counted one runs from the opening', async () => {
  const org = await bed.seedOrg();
  const definition = bed.definition({
    key: 'deadline-from-case',
    name: '受理后计时',
    starters: ['resident'],
    input: { fields: [] },
    steps: [
      { id: 'queue', name: '排队', type: 'timer', duration: 'PT2H' },
      {
        id: 'serve',
        name: '网格员办理',
        type: 'task',
        candidates: [{ role: 'grid-worker', unit: 'case' }],
        deadlines: [
          { id: 'received', name: '受理后办结', within: 'PT3H', from: 'case' },
          { id: 'opened', name: '接单后办结', within: 'PT3H' },
        ],
      },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  });
  await bed.withWorker(async (queue) => {
    // Arrange: the task opens two hours after the case was received
    const kase = await bed.startCase(queue, definition, org.grid.id);
    const receivedAt = Date.parse(kase.input.receivedAt);
    const taskId = kase.taskId('serve');
    await bed.skipTo(receivedAt + 2 * HOUR + MINUTE);
    const task = await kase.waitForTask(
      'the task to open with both deadlines',
      taskId,
      (t) => t.deadlines.length === 2 && t.deadlines.every((d) => d.dueAt !== null),
    );
    const openedAt = task.openedAt.getTime();

    // Assert: one is due 3 h after receipt, the other 3 h after the opening
    expect(Date.parse(deadlineOf(task.deadlines, `${taskId}/received`).dueAt!)).toBe(
      receivedAt + 3 * HOUR,
    );
    expect(Date.parse(deadlineOf(task.deadlines, `${taskId}/opened`).dueAt!)).toBe(
      openedAt + 3 * HOUR,
    );

    // Act: past the first only
    await bed.skipTo(receivedAt + 3 * HOUR + MINUTE);

    // Assert: the case-counted one is missed at its instant, the other still runs
    const [missed] = await kase.waitForEvents('deadline.missed', 1);
    expect(missed!.detail).toMatchObject({ deadline: 'received', task: taskId });
    expectFiredAt(missed!.at, receivedAt + 3 * HOUR);
    const now = await kase.waitForTask(
      'the task after the first miss',
      taskId,
      (t) => deadlineOf(t.deadlines, `${taskId}/received`).missed,
    );
    expect(deadlineOf(now.deadlines, `${taskId}/opened`).missed).toBe(false);
  });
});

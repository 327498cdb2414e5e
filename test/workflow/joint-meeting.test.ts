import { figuresOf } from '../../services/metrics';
import { bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import type {
  RunningCase,
  SeededOrg,
  SeededPerson,
  SeededUnit,
  SlaTestBed,
} from '../support/sla-cases';
import {
  claimAndComplete,
  eventsOf,
  expectFiredAt,
  mailsOf,
  plusDays,
  stepsEntered,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 党建联席会议 (definitions/joint-meeting.yaml and joint-meeting-item.yaml) on the
 * time-skipping server with the real activities: the community's secretary prepares the meeting
 * (rotating chair, date, agenda from the unclaimed and overdue counts the `open-items` lookup
 * reads and the form opens with), the member units' liaisons
 * are told, the case waits for the meeting, the minutes name decisions with owners and due dates,
 * each decision becomes its own 议定事项督办 case, and the secretary reports back once every
 * decision is closed. A decision missed at its due date goes to the convening secretary, and
 * 5 working days later to the street's secretary with a red supervision slip.
 */
let bed: SlaTestBed;

useSlaTestBed('joint-meeting', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;

interface MeetingOrg extends SeededOrg {
  hospital: SeededUnit;
  liaison: SeededPerson;
}

async function meetingOrg(): Promise<MeetingOrg> {
  const org = await bed.seedOrg();
  const hospital = await bed.addUnit('cobuilding', '县人民医院', org.community);
  return {
    ...org,
    hospital,
    liaison: await bed.addPerson('liaison', '医院联络员', [[hospital, 'liaison']]),
  };
}

/** The secretary prepares the meeting for `meetingAt` (a Beijing date-time with its offset). */
async function prepare(kase: RunningCase, org: MeetingOrg, meetingAt: string): Promise<void> {
  const id = kase.taskId('prepare');
  await kase.waitForTask('会前准备', id, () => true);
  await claimAndComplete(kase, id, org.communitySecretary, 'prepared', {
    chair: org.hospital.id,
    meetingAt,
    unclaimed: 2,
    overdue: 1,
    agenda: '1. 两件无人认领的需求；2. 一件逾期未办结的小区路灯维修。',
  });
}

/** The child cases the meeting started, in slot order. */
async function childrenOf(kase: RunningCase, count: number): Promise<RunningCase[]> {
  const started = await kase.waitForEvents('subprocess.started', count);
  return started.map((e) => bed.childCase(String(e.detail?.caseId)));
}

describe('党建联席会议 (joint-meeting → joint-meeting-item)', () => {
  it('when the meeting is held and its two decisions are carried out and confirmed, then the secretary reports back and the meeting closes', async () => {
    // Arrange
    const org = await meetingOrg();
    const monday = await bed.quietMonday();
    const meetingAt = `${plusDays(monday, 2)}T14:30:00+08:00`;
    const root = await bed.shippedWith('joint-meeting.yaml', 'joint-meeting-item.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, root, org.community.id, { topic: '四季度联席会议' });
      await prepare(kase, org, meetingAt);
      await kase.waitForEvents('step.entered', 1, { stepType: 'timer' });
      await bed.skipTo(Date.parse(meetingAt) + 2 * 3600_000);
      const minutes = kase.taskId('minutes');
      await kase.waitForTask('会议纪要', minutes, () => true);
      await claimAndComplete(kase, minutes, org.communitySecretary, 'decided', {
        attended: 6,
        summary: '成员单位共商需求认领和路灯维修。',
        decision1: '医院每月一次义诊进社区',
        owner1: org.liaison.personId,
        due1: plusDays(monday, 30),
        decision3: '网格员核实路灯维修进度',
        owner3: org.gridWorker.personId,
        due3: plusDays(monday, 9),
      });
      const children = await childrenOf(kase, 2);
      for (const [child, owner] of [
        [children[0]!, org.liaison],
        [children[1]!, org.gridWorker],
      ] as const) {
        const task = child.taskId('carry_out');
        await child.waitForTask('落实议定事项', task, () => true);
        await claimAndComplete(child, task, owner, 'done', { result: '已落实' });
        const confirm = child.taskId('confirm');
        await child.waitForTask('确认销号', confirm, () => true);
        await claimAndComplete(child, confirm, org.communitySecretary, 'accepted', {});
      }
      const report = kase.taskId('report');
      await kase.waitForTask('通报落实情况', report, () => true);
      await claimAndComplete(kase, report, org.communitySecretary, 'reported', {
        report: '两件议定事项均已落实销号。',
      });
      const doc = await kase.waitForDoc('closed', (d) => d.status === 'closed');
      return {
        doc,
        children: await Promise.all(
          children.map((c) => bed.db.models.Case.findById(c.caseId).lean()),
        ),
        minutesTask: await kase.task(minutes),
      };
    });

    // Assert: the meeting waited for its date, then ran every decision through its own case
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'open',
      'prepare',
      'invite',
      'meeting',
      'minutes',
      'items',
      'report',
      'closed',
    ]);
    expect(outcome.minutesTask?.openedAt.getTime()).toBeGreaterThanOrEqual(Date.parse(meetingAt));
    // …one per filled slot, with that slot's title, owner and due date (slot 2 left empty)
    expect(outcome.children.map((c) => c?.data as unknown)).toEqual([
      {
        title: '医院每月一次义诊进社区',
        owner: org.liaison.personId,
        dueDate: plusDays(monday, 30),
      },
      {
        title: '网格员核实路灯维修进度',
        owner: org.gridWorker.personId,
        dueDate: plusDays(monday, 9),
      },
    ]);
    expect(outcome.children.map((c) => [c?.status, c?.unitId])).toEqual([
      ['closed', org.community.id],
      ['closed', org.community.id],
    ]);
    // …and the member unit's liaison was told of the meeting
    expect(await mailsOf(org.liaison, '通知成员单位')).toHaveLength(1);
  });

  it('when a wish under the community waits unclaimed in the pool and another is overdue for review, then the meeting reads both (not a neighbouring community’s) and the preparation form opens with their counts and an agenda listing them', async () => {
    // Arrange: the community's dispatcher and party member; a neighbouring community with its own
    const org = await meetingOrg();
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    await bed.addPerson('member', '党员甲', [[org.community, 'party-member']]);
    const neighbour = await bed.addUnit('community', '隔壁社区', org.street);
    await bed.addPerson('neighbour-dispatcher', '隔壁派单', [[neighbour, 'dispatcher']]);
    const monday = await bed.quietMonday();
    const root = await bed.shippedWith('joint-meeting.yaml', 'joint-meeting-item.yaml');
    const wish = (residentName: string) => ({
      wish: '想要一台收音机',
      category: '陪伴关爱',
      residentName,
    });

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const pooled = await bed.startCase(
        queue,
        bed.shipped('micro-wish.yaml'),
        org.grid.id,
        wish('王秀兰'),
      );
      const review = pooled.taskId('review');
      await pooled.waitForTask('the review', review, () => true);
      await claimAndComplete(pooled, review, dispatcher, 'listed', {});
      await pooled.waitForTask('the pool', pooled.taskId('pool'), () => true);
      const late = await bed.startCase(
        queue,
        bed.shipped('micro-wish.yaml'),
        org.grid.id,
        wish('李四'),
      );
      const elsewhere = await bed.startCase(
        queue,
        bed.shipped('micro-wish.yaml'),
        neighbour.id,
        wish('张三'),
      );
      await bed.skipTo(bj(`${plusDays(monday, 3)} 12:00`)); // review_2d was due Wednesday morning
      for (const c of [late, elsewhere]) {
        await c.waitForDoc('the review overdue', (d) => d.deadlines.some((x) => x.missed));
      }
      const kase = await bed.startCase(queue, root, org.community.id, { topic: '四季度联席会议' });
      const task = await kase.waitForTask('会前准备', kase.taskId('prepare'), () => true);
      const [read] = await kase.waitForEvents('lookup.read', 1);
      const pool = await pooled.task(pooled.taskId('pool'));
      const lateDoc = await late.waitForDoc('the review overdue', () => true);
      return { task, read, pooled, late, pool, lateDoc };
    });

    // Assert: counts on the timeline, the form prefilled with them and a draft naming the cases,
    // with whole days from the pool's opening (Monday morning to Thursday noon: 3) and from the
    // review's due time to the lookup
    const readAt = new Date(outcome.read!.at).getTime();
    const waiting = Math.floor((readAt - outcome.pool!.openedAt.getTime()) / DAY);
    const dueAt = outcome.lateDoc.deadlines.find((d) => d.missed)!.dueAt!;
    const late = Math.floor((readAt - Date.parse(dueAt)) / DAY);
    expect(waiting).toBe(3);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(outcome.read!.detail).toEqual({
      source: 'open-items',
      count: 2,
      unclaimed: 1,
      overdue: 1,
    });
    expect(outcome.task.prefill).toEqual({
      unclaimed: 1,
      overdue: 1,
      agenda: [
        '无人认领的需求 1 件，逾期未办结事项 1 件。',
        `${outcome.pooled.caseId}（micro-wish，${org.grid.id}）：无人认领 ${waiting} 天`,
        `${outcome.late.caseId}（micro-wish，${org.grid.id}）：逾期 ${late} 天`,
      ].join('\n'),
    });
    expect(JSON.stringify(outcome.task.prefill)).not.toMatch(/王秀兰|李四/);
  });

  it('when a decision passes its due date undone, then its owner and the convening secretary are told at once, and 5 working days later the street secretary, with a red slip for the convener', async () => {
    // Arrange
    const org = await meetingOrg();
    const monday = await bed.quietMonday();
    const meetingAt = `${monday}T14:30:00+08:00`;
    const due = plusDays(monday, 4); // that Friday: missed at the end of its day
    const root = await bed.shippedWith('joint-meeting.yaml', 'joint-meeting-item.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:00`));
      const kase = await bed.startCase(queue, root, org.community.id, { topic: '专题联席会议' });
      await prepare(kase, org, meetingAt);
      await bed.skipTo(Date.parse(meetingAt) + 3600_000);
      const minutes = kase.taskId('minutes');
      await kase.waitForTask('会议纪要', minutes, () => true);
      await claimAndComplete(kase, minutes, org.communitySecretary, 'decided', {
        attended: 4,
        summary: '研究小区路灯维修。',
        decision1: '修复惠民小区南门路灯',
        owner1: org.gridWorker.personId,
        due1: due,
        decision2: '联系供电所排查线路', // no owner, no due date: the secretary names one
      });
      const [item, unowned] = await childrenOf(kase, 2);
      const assign = await unowned!.waitForTask(
        '指定责任人',
        unowned!.taskId('assign'),
        () => true,
      );
      await item!.waitForTask('落实议定事项', item!.taskId('carry_out'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      const dueAt = Date.parse(`${due}T00:00:00+08:00`) + DAY;
      await bed.skipTo(dueAt + 60_000);
      const [first] = await item!.waitForEvents('deadline.escalated', 1, { level: 1 });
      await bed.skipTo(dueAt + 10 * DAY);
      const [second] = await item!.waitForEvents('deadline.escalated', 1, { level: 2 });
      const [slip] = await item!.waitForEvents('supervision.opened', 1);
      return { dueAt, first, second, slip, assign, itemId: item!.caseId, doc: await item!.doc() };
    });

    // Assert: the owner was reminded 3 days ahead
    const [reminded] = eventsOf(outcome.doc.timeline, 'deadline.reminded');
    expectFiredAt(reminded!.at, outcome.dueAt - 3 * DAY);
    expect(await mailsOf(org.gridWorker, SUBJECT.reminder)).toHaveLength(1);
    // …at the end of the due date the convening secretary and the owner were told
    expectFiredAt(outcome.first!.at, outcome.dueAt);
    expect(outcome.first!.detail?.unitId).toBe(org.community.id);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(1);
    // …then the street's secretary, with a red slip the convening secretary must answer
    expect(outcome.second!.detail?.unitId).toBe(org.street.id);
    const streetMails = await mailsOf(org.streetSecretary, outcome.itemId);
    expect(streetMails.map((m) => m.subject.includes(SUBJECT.escalated))).toEqual([true]);
    expect(outcome.slip!.detail).toMatchObject({ level: 'red' });
    // …and the decision the minutes named nobody for waits on the convener to name its owner
    expect(outcome.assign.candidates.map((c) => c.personId)).toEqual([
      org.communitySecretary.personId,
    ]);
  });
});

describe('党建联席会议 measures (接单率, 办结率, 解决率, 按期办结率…)', () => {
  it('when known decisions run (done at once, an owner named late then done on time, unable and carried to the next meeting, reworked and done after the date, never carried out), then every declared rate of joint-meeting-item comes out exactly, on the read model and after a replay', async () => {
    // Arrange
    const org = await meetingOrg();
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();
    const definition = bed.shipped('joint-meeting-item.yaml');
    const owner = org.gridWorker;

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = (dueDays: number, named = true) =>
        bed.startCase(queue, definition, org.community.id, {
          title: '核实路灯维修进度',
          ...(named ? { owner: owner.personId } : {}),
          dueDate: plusDays(monday, dueDays),
        });
      const act = async (
        kase: RunningCase,
        step: string,
        outcome: string,
        form: Record<string, unknown>,
        options: { visit?: number; comment?: string } = {},
      ) => {
        const taskId = kase.taskId(step, options.visit);
        await kase.waitForTask(step, taskId, () => true);
        const by = step === 'carry_out' ? owner : org.communitySecretary;
        await claimAndComplete(kase, taskId, by, outcome, form, options.comment);
      };
      const carryOut = (kase: RunningCase, outcome = 'done', visit = 1) =>
        act(
          kase,
          'carry_out',
          outcome,
          { result: '已落实' },
          {
            visit,
            ...(outcome === 'unable' ? { comment: '需追加资金' } : {}),
          },
        );
      const confirm = (kase: RunningCase, outcome: string, visit = 1) =>
        act(
          kase,
          'confirm',
          outcome,
          {},
          {
            visit,
            ...(outcome === 'accepted' ? {} : { comment: '请说明' }),
          },
        );
      const planned = (kase: RunningCase, step: string, visit = 1) =>
        kase.waitForTask(step, kase.taskId(step, visit), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      // 1. done and confirmed at once
      const done = await start(25);
      await carryOut(done);
      await confirm(done, 'accepted');
      // 2. no owner in the minutes: the secretary names one after assign_2d
      const unnamed = await start(25, false);
      await planned(unnamed, 'assign');
      // 3. unable, carried to the next meeting
      const carried = await start(25);
      await carryOut(carried, 'unable');
      await confirm(carried, 'carried');
      // 4. due Thursday: done, sent back to be redone, done again on Friday
      const reworked = await start(3);
      await carryOut(reworked);
      await confirm(reworked, 'rework');
      await planned(reworked, 'carry_out', 2);
      // 5. due Thursday, never carried out
      const never = await start(3);
      await planned(never, 'carry_out');

      await bed.skipTo(mondayAt + 4 * DAY + 3600_000);
      await unnamed.waitForEvents('deadline.escalated', 1, { deadline: 'assign_2d' });
      await act(unnamed, 'assign', 'assigned', { owner: owner.personId });
      await carryOut(unnamed);
      await confirm(unnamed, 'accepted');
      await reworked.waitForEvents('deadline.escalated', 1, { deadline: 'by_due' });
      await never.waitForEvents('deadline.escalated', 1, { deadline: 'by_due' });
      await carryOut(reworked, 'done', 2);
      await confirm(reworked, 'accepted', 2);
      const docs = [
        await closed(done),
        await closed(unnamed),
        await closed(carried),
        await closed(reworked),
        await never.doc(),
      ];
      return { docs, cases: [done, unnamed, carried, reworked, never] };
    });

    // Assert: the flags each decision carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'closed',
      'closed',
      'open',
    ]);
    // The owner's carry_out is the acceptance: the secretary naming an owner is not, and the
    // decision is attributed to its owner.
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 0, 0],
    ]);
    expect(outcome.docs[1]!.servedBy?.personIds).toEqual([org.gridWorker.personId]);
    // The late owner is an intermediate step; the reworked one counts by its last outcome,
    // confirmed after by_due.
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 0, 1, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue, m.returnedCase]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 1, 1, 0],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.8, // 4 taken on by their owner of 5
      responseRate: 0.8, // the same 4, before by_due
      completionRate: 0.8, // 4 closed of 5 due (the one never carried out is past by_due)
      resolutionRate: 0.6, // 3 confirmed (销号) of 5 due; the carried one is explained
      onTimeRate: 0.75, // 3 of 4 by by_due
      satisfactionRate: null, // no feedback step
      participationRate: null,
      visitRate: 0, // 0 rated of 4 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.6, // 3 escalated of 5
      returnRate: 0, // 退回重办 is an outcome, not a task sent back
      overdueRate: 0.6, // 3 with a deadline passed of 5 (the process has no refusal)
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = definition.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });

  it('when known meetings run (no decision at once, minutes after minutes_3d, one decision carried out and reported, minutes never written), then every declared rate of joint-meeting comes out exactly, on the read model and after a replay', async () => {
    // Arrange: every meeting on Wednesday afternoon
    const org = await meetingOrg();
    const monday = await bed.quietMonday();
    const meetingAt = `${plusDays(monday, 2)}T14:30:00+08:00`;
    const root = await bed.shippedWith('joint-meeting.yaml', 'joint-meeting-item.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const start = async () => {
        const kase = await bed.startCase(queue, root, org.community.id, { topic: '联席会议' });
        await prepare(kase, org, meetingAt);
        return kase;
      };
      const noDecision = async (kase: RunningCase) => {
        await kase.waitForTask('会议纪要', kase.taskId('minutes'), () => true);
        await claimAndComplete(
          kase,
          kase.taskId('minutes'),
          org.communitySecretary,
          'no_decision',
          {
            attended: 5,
            summary: '通报情况，无议定事项。',
          },
        );
      };
      const planned = (kase: RunningCase, step: string) =>
        kase.waitForTask(step, kase.taskId(step), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      const cases = [await start(), await start(), await start(), await start()];
      const [quiet, lateMinutes, decided, noMinutes] = cases as [
        RunningCase,
        RunningCase,
        RunningCase,
        RunningCase,
      ];
      await bed.skipTo(Date.parse(meetingAt) + 2 * 3600_000);
      // 1. no decision, minutes at once
      await noDecision(quiet);
      // 3. one decision, carried out and confirmed, then reported back
      await decided.waitForTask('会议纪要', decided.taskId('minutes'), () => true);
      await claimAndComplete(
        decided,
        decided.taskId('minutes'),
        org.communitySecretary,
        'decided',
        {
          attended: 6,
          summary: '共商路灯维修。',
          decision1: '网格员核实路灯维修进度',
          owner1: org.gridWorker.personId,
          due1: plusDays(monday, 25),
        },
      );
      const [item] = await childrenOf(decided, 1);
      await item!.waitForTask('落实', item!.taskId('carry_out'), () => true);
      await claimAndComplete(item!, item!.taskId('carry_out'), org.gridWorker, 'done', {
        result: '已修复',
      });
      await item!.waitForTask('销号', item!.taskId('confirm'), () => true);
      await claimAndComplete(
        item!,
        item!.taskId('confirm'),
        org.communitySecretary,
        'accepted',
        {},
      );
      await decided.waitForTask('通报', decided.taskId('report'), () => true);
      await claimAndComplete(
        decided,
        decided.taskId('report'),
        org.communitySecretary,
        'reported',
        {
          report: '已落实销号。',
        },
      );
      // 2. minutes after minutes_3d; 4. never written
      await planned(lateMinutes, 'minutes');
      await planned(noMinutes, 'minutes');
      // The next Monday afternoon: 3 working days have passed since the meeting
      await bed.skipTo(bj(`${plusDays(monday, 7)} 16:30`));
      await lateMinutes.waitForEvents('deadline.escalated', 1, { deadline: 'minutes_3d' });
      await noMinutes.waitForEvents('deadline.escalated', 1, { deadline: 'minutes_3d' });
      await noDecision(lateMinutes);
      const docs = [
        await closed(quiet),
        await closed(lateMinutes),
        await closed(decided),
        await noMinutes.doc(),
      ];
      return { docs, cases };
    });

    // Assert: the flags each meeting carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'closed', 'open']);
    // No `acceptance` is declared: every meeting is dispatched when started, and the convening
    // secretary's preparation is its acceptance, at once in all four.
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
    ]);
    // minutes_3d is the 办结时限: the decisions run on their own cases and clocks.
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 0, 0],
      [0, 0, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 1, // every meeting prepared
      responseRate: 1, // prepared before prepare_10d every time
      completionRate: 0.75, // 3 closed of 4 due (the one without minutes is past minutes_3d)
      resolutionRate: 0.75, // no 解释说明 outcome: the 3 closed are resolved
      onTimeRate: 0.6667, // 2 of 3 with minutes within minutes_3d
      satisfactionRate: null, // no feedback step
      participationRate: null,
      visitRate: 0, // 0 rated of 3 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.5, // 2 escalated of 4
      returnRate: 0, // no task is sent back
      overdueRate: 0.5, // 2 with a deadline passed of 4 (the process has no refusal)
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = bed.shipped('joint-meeting.yaml').spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

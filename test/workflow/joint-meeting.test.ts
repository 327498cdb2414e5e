import { bj } from '../support/beijing';
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
 * (rotating chair, date, agenda from the unclaimed and overdue counts), the member units' liaisons
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

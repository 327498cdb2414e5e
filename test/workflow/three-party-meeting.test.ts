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
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 小区“三方联席”会议 (definitions/three-party-meeting.yaml) on the time-skipping server
 * with the real activities: the compound's party branch convenes, the branch, the owners'
 * committee and the property company confirm (a roll-call), the case waits for the meeting, the
 * agreement names each party's part and a date, both carry it out, and the result is published to
 * the compound's board. Missed: the party that did not confirm is reminded and named to the
 * community's secretary; a part not carried out by the date goes to the community's secretary,
 * then the street's 分管领导.
 */
let bed: SlaTestBed;

useSlaTestBed('three-party-meeting', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;

interface CompoundOrg extends SeededOrg {
  compound: SeededUnit;
  branch: SeededPerson;
  committee: SeededPerson;
  manager: SeededPerson;
  streetLeader: SeededPerson;
}

async function compoundOrg(): Promise<CompoundOrg> {
  const org = await bed.seedOrg();
  const compound = await bed.addUnit('compound', '惠民小区', org.grid);
  return {
    ...org,
    compound,
    branch: await bed.addPerson('branch', '小区支部书记', [[compound, 'secretary']]),
    committee: await bed.addPerson('committee', '业委会主任', [[compound, 'owners-committee']]),
    manager: await bed.addPerson('manager', '物业经理', [[compound, 'property-manager']]),
    streetLeader: await bed.addPerson('street-leader', '街道分管领导', [[org.street, 'leader']]),
  };
}

const DISPUTE = {
  topic: '地下车库漏水',
  description: '地下车库顶板漏水，业主要求物业维修，物业称需动用维修资金。',
};

/** The branch convenes the meeting for `meetingAt`; returns the roll-call's task id. */
async function convene(kase: RunningCase, org: CompoundOrg, meetingAt: string): Promise<string> {
  const id = kase.taskId('convene');
  await kase.waitForTask('召集', id, () => true);
  await claimAndComplete(kase, id, org.branch, 'convened', { meetingAt, place: '小区党群驿站' });
  const confirm = kase.taskId('confirm');
  await kase.waitForTask('确认参会', confirm, () => true);
  return confirm;
}

async function agree(kase: RunningCase, org: CompoundOrg, dueDate: string): Promise<void> {
  const record = kase.taskId('record');
  await kase.waitForTask('形成议定事项', record, () => true);
  await claimAndComplete(kase, record, org.branch, 'agreed', {
    agreed: '物业先行堵漏，业委会启动维修资金使用表决',
    propertyPart: '一周内完成临时堵漏',
    committeePart: '组织维修资金使用表决',
    dueDate,
  });
}

describe('小区“三方联席”会议 (three-party-meeting)', () => {
  it('when all three parties confirm, agree and carry out their parts, then the result is published and the dispute counts as resolved', async () => {
    // Arrange
    const org = await compoundOrg();
    const monday = await bed.quietMonday();
    const meetingAt = `${plusDays(monday, 2)}T19:00:00+08:00`;
    const definition = bed.shipped('three-party-meeting.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.compound.id, DISPUTE);
      const confirm = await convene(kase, org, meetingAt);
      for (const person of [org.branch, org.committee, org.manager]) {
        await kase.acknowledge(confirm, person);
      }
      await kase.waitForEvents('claim.closed', 1, { reason: 'full' });
      await bed.skipTo(Date.parse(meetingAt) + 3600_000);
      await agree(kase, org, plusDays(monday, 9));
      for (const [step, person] of [
        ['property_part', org.manager],
        ['committee_part', org.committee],
      ] as const) {
        const id = kase.taskId(step);
        await kase.waitForTask(step, id, () => true);
        await claimAndComplete(kase, id, person, 'done', { result: '已完成' });
      }
      return kase.waitForDoc('closed', (d) => d.status === 'closed');
    });

    // Assert
    expect(stepsEntered(outcome.timeline)).toEqual([
      'convene',
      'confirm',
      'meeting',
      'record',
      'carry_out',
      'property_part',
      'committee_part',
      'board',
      'closed',
    ]);
    expect(outcome.publication?.fields).toEqual([
      { label: '会议议题', value: '地下车库漏水' },
      { label: '议定事项', value: '物业先行堵漏，业委会启动维修资金使用表决' },
      { label: '落实情况', value: '已完成' },
      { label: '落实情况', value: '已完成' },
    ]);
    expect(flagsOf(outcome)).toMatchObject({
      resolved: 1,
      disputesFound: 1,
      disputesResolved: 1,
    });
  });

  it('when the owners’ committee neither confirms nor carries out its part, then the community secretary is told its name, and at the missed date the community secretary, 3 working days later the street leader', async () => {
    // Arrange
    const org = await compoundOrg();
    const monday = await bed.quietMonday();
    const meetingAt = `${plusDays(monday, 3)}T19:00:00+08:00`;
    const dueDate = plusDays(monday, 11);
    const definition = bed.shipped('three-party-meeting.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.compound.id, DISPUTE);
      const confirm = await convene(kase, org, meetingAt);
      await kase.acknowledge(confirm, org.branch);
      await kase.acknowledge(confirm, org.manager);
      await bed.skipTo(bj(`${plusDays(monday, 1)} 12:00`)); // past the 1 working day to confirm
      const [named] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'confirm_1d',
      });
      await bed.skipTo(bj(`${plusDays(monday, 2)} 12:00`)); // past the 2 working days' window
      await kase.waitForEvents('claim.closed', 1, { reason: 'window-ended' });
      await bed.skipTo(Date.parse(meetingAt) + 3600_000);
      await agree(kase, org, dueDate);
      const property = kase.taskId('property_part');
      await kase.waitForTask('物业落实', property, () => true);
      await claimAndComplete(kase, property, org.manager, 'done', { result: '已堵漏' });
      const committeePart = kase.taskId('committee_part');
      await kase.waitForTask('业委会落实', committeePart, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      const dueAt = Date.parse(`${dueDate}T00:00:00+08:00`) + DAY;
      await bed.skipTo(dueAt + 60_000);
      const [first] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'part_due',
        level: 1,
      });
      await bed.skipTo(dueAt + 7 * DAY);
      const [second] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'part_due',
        level: 2,
      });
      return { named, first, second, dueAt, caseId: kase.caseId, doc: await kase.doc() };
    });

    // Assert: the committee, which had not confirmed, was reminded; the community secretary got its name
    expect(await mailsOf(org.committee, '紧急报到提醒')).toHaveLength(1);
    expect(await mailsOf(org.manager, '紧急报到提醒')).toHaveLength(0);
    const [rollCallMail] = await mailsOf(org.communitySecretary, '超时未报到督办');
    expect(rollCallMail?.text).toContain('业委会主任');
    expect(outcome.named!.detail?.unitId).toBe(org.community.id);
    // …the meeting was held anyway, and the missed part went up the ladder
    expectFiredAt(outcome.first!.at, outcome.dueAt);
    expect(outcome.first!.detail?.task).toBe(`${outcome.caseId}.committee_part.1`);
    expect(outcome.first!.detail?.unitId).toBe(org.community.id);
    expect(outcome.second!.detail?.unitId).toBe(org.street.id);
    expect(await mailsOf(org.streetLeader, outcome.caseId)).toHaveLength(1);
    expect(
      eventsOf(outcome.doc.timeline, 'deadline.escalated', { deadline: 'part_due' }),
    ).toHaveLength(2);
  });
});

describe('小区“三方联席”会议: the record is due 2 working days after the meeting (at + after)', () => {
  it('when the meeting was held on Monday afternoon while the roll-call stayed open until Wednesday, then the record opening on Wednesday is due Wednesday at the meeting’s hour, not 2 working days after it opened', async () => {
    // Arrange
    const org = await compoundOrg();
    const monday = await bed.quietMonday();
    const meetingAt = `${monday}T14:00:00+08:00`;
    const wednesday = plusDays(monday, 2);
    const definition = bed.shipped('three-party-meeting.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.compound.id, DISPUTE);
      const confirm = await convene(kase, org, meetingAt);
      await kase.acknowledge(confirm, org.branch);
      await kase.acknowledge(confirm, org.manager);
      // The roll-call's window (2 working days) ends on Wednesday morning; the meeting is past.
      await bed.skipTo(bj(`${wednesday} 10:00`));
      await kase.waitForEvents('claim.closed', 1, { reason: 'window-ended' });
      const record = await kase.waitForTask('形成议定事项', kase.taskId('record'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${wednesday} 14:01`));
      const [missed] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'record_2d',
      });
      return { record, missed };
    });

    // Assert: Monday 14:00 plus 2 working days is Wednesday 14:00
    const due = bj(`${wednesday} 14:00`).toISOString();
    expect(outcome.record.deadlines.map((d) => d.dueAt)).toEqual([due]);
    expectFiredAt(outcome.missed!.at, due);
    expect(outcome.missed!.detail?.unitId).toBe(org.community.id);
  });
});

describe('小区“三方联席”会议 measures (办结率, 解决率, 按期办结率, 化解率…)', () => {
  it('when known meetings run (agreed and carried out at once, recorded late then carried out on time, coordinated, referred, a part carried out after the date, a coordination never given), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: every meeting on Wednesday evening
    const org = await compoundOrg();
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();
    const meetingAt = `${plusDays(monday, 2)}T19:00:00+08:00`;
    const definition = bed.shipped('three-party-meeting.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = async () => {
        const kase = await bed.startCase(queue, definition, org.compound.id, DISPUTE);
        const confirm = await convene(kase, org, meetingAt);
        for (const person of [org.branch, org.committee, org.manager]) {
          await kase.acknowledge(confirm, person);
        }
        return kase;
      };
      const carryOut = async (kase: RunningCase, step: 'property_part' | 'committee_part') => {
        const id = kase.taskId(step);
        await kase.waitForTask(step, id, () => true);
        const by = step === 'property_part' ? org.manager : org.committee;
        await claimAndComplete(kase, id, by, 'done', { result: '已完成' });
      };
      const disagree = async (kase: RunningCase) => {
        const record = kase.taskId('record');
        await kase.waitForTask('形成议定事项', record, () => true);
        await claimAndComplete(kase, record, org.branch, 'not_agreed', {
          disagreement: '维修资金分摊不一致',
        });
      };
      const coordinate = async (kase: RunningCase, outcome: string) => {
        const id = kase.taskId('coordinate');
        await kase.waitForTask('社区党委协调', id, () => true);
        const comment = outcome === 'referred' ? '转人民调解委员会' : undefined;
        await claimAndComplete(
          kase,
          id,
          org.communitySecretary,
          outcome,
          { result: '已协调' },
          comment,
        );
      };
      const planned = (kase: RunningCase, step: string) =>
        kase.waitForTask(step, kase.taskId(step), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      const cases = [];
      for (let i = 0; i < 6; i++) cases.push(await start());
      const [agreed, lateRecord, coordinated, referred, latePart, uncoordinated] = cases as [
        RunningCase,
        RunningCase,
        RunningCase,
        RunningCase,
        RunningCase,
        RunningCase,
      ];
      await bed.skipTo(Date.parse(meetingAt) + 3600_000);
      // 1. agreed, both parts carried out at once
      await agree(agreed, org, plusDays(monday, 9));
      await carryOut(agreed, 'property_part');
      await carryOut(agreed, 'committee_part');
      // 3. no agreement, the community settles it; 4. no agreement, referred to mediation
      await disagree(coordinated);
      await coordinate(coordinated, 'settled');
      await disagree(referred);
      await coordinate(referred, 'referred');
      // 5. agreed for Thursday: the property company is on time, the committee is not
      await agree(latePart, org, plusDays(monday, 3));
      await carryOut(latePart, 'property_part');
      await planned(latePart, 'committee_part');
      // 6. no agreement, and the community never coordinates it
      await disagree(uncoordinated);
      await planned(uncoordinated, 'coordinate');
      // 2. the record is left past record_2d
      await planned(lateRecord, 'record');

      // The next Monday: record_2d and Thursday's date have passed
      await bed.skipTo(mondayAt + 7 * DAY + 3600_000);
      await lateRecord.waitForEvents('deadline.escalated', 1, { deadline: 'record_2d' });
      await agree(lateRecord, org, plusDays(monday, 11));
      await carryOut(lateRecord, 'property_part');
      await carryOut(lateRecord, 'committee_part');
      await latePart.waitForEvents('deadline.escalated', 1, { deadline: 'part_due' });
      await carryOut(latePart, 'committee_part');
      // Thursday: 5 working days have passed since the Wednesday evening's disagreement
      await bed.skipTo(mondayAt + 10 * DAY + 3600_000);
      await uncoordinated.waitForEvents('deadline.escalated', 1, { deadline: 'coordinate_5d' });
      const docs = [];
      for (const kase of cases.slice(0, 5)) docs.push(await closed(kase));
      docs.push(await uncoordinated.doc());
      return { docs, cases };
    });

    // Assert: the flags each meeting carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'closed',
      'closed',
      'closed',
      'open',
    ]);
    // No `acceptance` is declared: every meeting is dispatched when started, and the branch's
    // convening is its acceptance, at once in all six.
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
    ]);
    // The late record is an intermediate step: the meeting closed within its agreed date. The
    // coordination never given is due once coordinate_5d (its path's 办结时限) passed.
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 0, 1, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.escalated, m.overdue, m.disputesFound, m.disputesResolved]),
    ).toEqual([
      [0, 0, 1, 1],
      [1, 1, 1, 1],
      [0, 0, 1, 1],
      [0, 0, 1, 0],
      [1, 1, 1, 1],
      [1, 1, 0, 0],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 1, // every meeting convened
      responseRate: 1, // convened before convene_5d every time
      completionRate: 0.8333, // 5 closed of 6 due (the uncoordinated one is past coordinate_5d)
      resolutionRate: 0.6667, // 4 settled of 6 due (the referred one is explained)
      onTimeRate: 0.8, // 4 of 5: the committee's part came after the agreed date
      satisfactionRate: null, // no feedback step
      participationRate: null,
      visitRate: 0, // 0 rated of 5 completed: unreachable without a feedback step
      disputeResolutionRate: 0.8, // 4 resolved of 5 found (a running meeting has no figures yet)
      supervisionRate: 0.5, // 3 escalated of 6
      returnRate: 0, // no task is sent back
      overdueRate: 0.5, // 3 with a deadline passed of 6 (the process has no refusal)
    });
    // After a replay: each history replays, and its timeline gives the stored figures again,
    // except the 化解率 figures, which come from the case's form data, not its timeline
    const measures = definition.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual({
        ...metrics[i],
        disputesFound: 0,
        disputesResolved: 0,
      });
    }
  });
});

import { figuresOf } from '../../services/metrics';
import { beijingText, bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import type { SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import {
  claimAndComplete,
  expectFiredAt,
  mailsOf,
  plusDays,
  stepsEntered,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 民情访谈日 (definitions/interview-day-round.yaml and interview-day.yaml) on the
 * time-skipping server with the real activities: the month's round opens one case per community
 * under the unit; the community's party members and resident representatives are invited, the
 * secretary records the forum's 民情清单 within 1 working day, and the dispatcher sorts it within
 * the week. Missed: the forum's record goes to the street's secretary. (The first-Wednesday
 * calendar itself is test/unit/periodic-definitions.test.ts's.)
 */
let bed: SlaTestBed;

useSlaTestBed('interview-day', (ready) => {
  bed = ready;
});

interface InterviewOrg extends SeededOrg {
  dispatcher: SeededPerson;
  member: SeededPerson;
  representative: SeededPerson;
}

async function interviewOrg(): Promise<InterviewOrg> {
  const org = await bed.seedOrg();
  return {
    ...org,
    dispatcher: await bed.addPerson('dispatcher', '社区派单员', [[org.community, 'dispatcher']]),
    member: await bed.addPerson('member', '报到党员', [[org.community, 'party-member']]),
    representative: await bed.addPerson('rep', '居民代表', [[org.community, 'resident-rep']]),
  };
}

describe('民情访谈日 (interview-day-round → interview-day)', () => {
  it('when the forum is held and its list sorted within the week, then the community’s case and the round close', async () => {
    // Arrange
    const org = await interviewOrg();
    const monday = await bed.quietMonday();
    const wednesday = plusDays(monday, 2);
    const round = await bed.shippedWith('interview-day-round.yaml', 'interview-day.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${wednesday} 09:00`));
      const kase = await bed.startCase(queue, round, org.street.id);
      const [started] = await kase.waitForEvents('subprocess.started', 1);
      const community = bed.childCase(String(started!.detail?.caseId));
      const hold = community.taskId('hold');
      await community.waitForTask('座谈会', hold, () => true);
      await claimAndComplete(community, hold, org.communitySecretary, 'held', {
        attendees: 18,
        issues: 7,
        list: '1. 小区停车难；2. 老年助餐；3. 学区划分咨询……',
      });
      const sort = community.taskId('sort');
      await community.waitForTask('分拣', sort, () => true);
      await claimAndComplete(community, sort, org.dispatcher, 'sorted', {
        orders: 4,
        ledger: '已办结 2 件、正在办 3 件、需协调 2 件',
      });
      return {
        community: await community.waitForDoc('closed', (d) => d.status === 'closed'),
        data: (await bed.db.models.Case.findById(community.caseId).lean())?.data as unknown,
        round: await kase.waitForDoc('closed', (d) => d.status === 'closed'),
      };
    });

    // Assert
    expect(outcome.data).toEqual({ day: wednesday });
    expect(stepsEntered(outcome.community.timeline)).toEqual(['invite', 'hold', 'sort', 'closed']);
    expect(stepsEntered(outcome.round.timeline)).toEqual(['communities', 'closed']);
    // …the party members and resident representatives were invited
    expect(await mailsOf(org.member, '邀请党员和居民代表')).toHaveLength(1);
    expect(await mailsOf(org.representative, '邀请党员和居民代表')).toHaveLength(1);
  });

  it('when the forum’s list is not recorded within a working day, then the street’s secretary is told', async () => {
    // Arrange
    const org = await interviewOrg();
    const monday = await bed.quietMonday();
    const wednesday = plusDays(monday, 2);
    const round = await bed.shippedWith('interview-day-round.yaml', 'interview-day.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${wednesday} 09:00`));
      const kase = await bed.startCase(queue, round, org.street.id);
      const [started] = await kase.waitForEvents('subprocess.started', 1);
      const community = bed.childCase(String(started!.detail?.caseId));
      const hold = await community.waitForTask('座谈会', community.taskId('hold'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${plusDays(wednesday, 1)} 12:00`));
      const [escalated] = await community.waitForEvents('deadline.escalated', 1);
      return { hold, escalated };
    });

    // Assert: due the next working day at the same time, then the street's secretary
    expect(beijingText(outcome.hold.dueAt!)).toBe(`${plusDays(wednesday, 1)} 09:00`);
    expectFiredAt(outcome.escalated!.at, outcome.hold.dueAt!.getTime());
    expect(outcome.escalated!.detail?.unitId).toBe(org.street.id);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
  });
});

describe('民情访谈日 measures (接单率, 办结率, 按期办结率, 督办率…)', () => {
  it('when known forums run (recorded and sorted at once, recorded late then sorted on time, sorted after sort_5d, never sorted, never held) and a round, then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange
    const org = await interviewOrg();
    const monday = await bed.quietMonday();
    const wednesday = plusDays(monday, 2);
    const round = await bed.shippedWith('interview-day-round.yaml', 'interview-day.yaml');
    const definition = bed.shipped('interview-day.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${wednesday} 09:00`));
      type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
      const start = () => bed.startCase(queue, definition, org.community.id, { day: wednesday });
      const planned = (kase: Kase, step: string) =>
        kase.waitForTask(step, kase.taskId(step), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const hold = async (kase: Kase) => {
        await kase.waitForTask('座谈会', kase.taskId('hold'), () => true);
        await claimAndComplete(kase, kase.taskId('hold'), org.communitySecretary, 'held', {
          attendees: 18,
          issues: 7,
          list: '1. 小区停车难；2. 老年助餐',
        });
      };
      const sort = async (kase: Kase) => {
        await kase.waitForTask('分拣', kase.taskId('sort'), () => true);
        await claimAndComplete(kase, kase.taskId('sort'), org.dispatcher, 'sorted', {
          orders: 2,
          ledger: '正在办 2 件',
        });
      };
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      // The round opens the community's forum, held and sorted at once
      const roundCase = await bed.startCase(queue, round, org.street.id);
      const [started] = await roundCase.waitForEvents('subprocess.started', 1);
      const child = bed.childCase(String(started!.detail?.caseId));
      await hold(child);
      await sort(child);
      await closed(child);
      const roundDoc = await closed(roundCase);
      const cases = [await start(), await start(), await start(), await start(), await start()];
      const [onTime, lateRecord, lateSort, unsorted, neverHeld] = cases as [
        Kase,
        Kase,
        Kase,
        Kase,
        Kase,
      ];
      // 1. recorded and sorted at once
      await hold(onTime);
      await sort(onTime);
      // 2. taken up at once, but the list recorded after hold_1d
      await lateRecord.waitForTask('座谈会', lateRecord.taskId('hold'), () => true);
      await lateRecord.claim(lateRecord.taskId('hold'), org.communitySecretary);
      // 3. sorted after sort_5d; 4. never sorted
      for (const kase of [lateSort, unsorted]) {
        await hold(kase);
        await planned(kase, 'sort');
      }
      // 5. never held
      await planned(neverHeld, 'hold');

      await bed.skipTo(bj(`${plusDays(wednesday, 1)} 10:00`));
      await lateRecord.waitForEvents('deadline.escalated', 1, { deadline: 'hold_1d' });
      await neverHeld.waitForEvents('deadline.escalated', 1, { deadline: 'hold_1d' });
      await lateRecord.complete(lateRecord.taskId('hold'), org.communitySecretary, 'held', {
        attendees: 12,
        issues: 3,
        list: '1. 垃圾分类',
      });
      await sort(lateRecord);
      // A week on: 5 working days have passed for the sorting
      await bed.skipTo(bj(`${plusDays(wednesday, 7)} 10:00`));
      await lateSort.waitForEvents('deadline.escalated', 1, { deadline: 'sort_5d' });
      await unsorted.waitForEvents('deadline.escalated', 1, { deadline: 'sort_5d' });
      await sort(lateSort);
      const docs = [
        await closed(onTime),
        await closed(lateRecord),
        await closed(lateSort),
        await unsorted.doc(),
        await neverHeld.doc(),
      ];
      return { docs, cases, roundDoc, roundCase };
    });

    // Assert: the flags each forum carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'closed',
      'open',
      'open',
    ]);
    // No `acceptance` is declared: every forum is dispatched when opened, and the secretary's
    // first action its acceptance; the forum never held missed hold_1d before any.
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 0, 0],
    ]);
    // The 办结时限 is sort_5d, which starts with the sorting: the late record is an intermediate
    // step, and a forum never held is in no 办结率 denominator (it shows in 接单率, 督办率, 逾期率).
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.8, // 4 forums taken up of 5
      responseRate: 0.8, // the same 4, before hold_1d passed
      completionRate: 0.75, // 3 sorted of 4 due
      resolutionRate: 0.75, // no 解释说明 outcome: the 3 sorted are resolved
      onTimeRate: 0.6667, // 2 of 3 sorted within sort_5d
      satisfactionRate: null, // no feedback step
      participationRate: null,
      visitRate: 0, // 0 rated of 3 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.8, // 4 escalated of 5
      returnRate: 0, // no task is sent back
      overdueRate: 0.8, // 4 with a deadline passed of 5 (the process has no refusal)
    });
    // The round (`acceptance: []`): closed `closed` once its forums ended, so completed and
    // resolved; nobody takes a round on, so it is never dispatched (in no 接单率 denominator).
    const roundFlags = flagsOf(outcome.roundDoc);
    expect(roundFlags).toMatchObject({
      dispatched: 0,
      accepted: 0,
      due: 1,
      completed: 1,
      resolved: 1,
      completedOnTime: 1,
      overdue: 0,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = definition.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
    expect(await replayedFlags(bed, outcome.roundCase, round.spec.measures)).toEqual(roundFlags);
  });
});

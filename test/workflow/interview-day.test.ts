import { beijingText, bj } from '../support/beijing';
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

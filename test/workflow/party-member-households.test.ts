import { beijingText, bj } from '../support/beijing';
import type { SeededOrg, SeededPerson, SeededUnit, SlaTestBed } from '../support/sla-cases';
import {
  claimAndComplete,
  eventsOf,
  expectFiredAt,
  mailsOf,
  plusDays,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 党员联系家庭 (definitions/party-member-households.yaml) on the time-skipping server
 * with the real activities: a party member linked with a building visits its households once
 * every 30 days for six visits; a need found at a visit is filed as a resident request
 * (resident-request). Missed: a visit not recorded within 10 working days is reminded to the
 * member and told to the community's secretary, and the next visit still opens on time.
 */
let bed: SlaTestBed;
const DAY = 24 * 3600_000;

useSlaTestBed('party-member-households', (ready) => {
  bed = ready;
});

interface HouseholdsOrg extends SeededOrg {
  building: SeededUnit;
  member: SeededPerson;
}

async function householdsOrg(): Promise<HouseholdsOrg> {
  const org = await bed.seedOrg();
  const building = await bed.addUnit('building', '3号楼', org.grid);
  return {
    ...org,
    building,
    member: await bed.addPerson('member', '联系党员', [[org.community, 'party-member']]),
  };
}

describe('党员联系家庭 (party-member-households)', () => {
  it('when the member records each of the six monthly visits and finds a need at the second, then the need is filed as a resident request and the case closes after the sixth', async () => {
    // Arrange
    const org = await householdsOrg();
    const monday = await bed.quietMonday();
    const definition = await bed.shippedWith(
      'party-member-households.yaml',
      'resident-request.yaml',
    );
    const start = bj(`${monday} 09:30`).getTime();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(start);
      const kase = await bed.startCase(queue, definition, org.building.id, {
        member: org.member.personId,
        households: 24,
      });
      const opened: number[] = [];
      for (let visit = 1; visit <= 6; visit += 1) {
        if (visit > 1) await bed.skipTo(start + (visit - 1) * 30 * DAY + 60_000);
        const taskId = kase.taskId('visit', visit);
        const task = await kase.waitForTask(`visit ${visit}`, taskId, () => true);
        opened.push(task.openedAt.getTime());
        if (visit === 2) {
          await claimAndComplete(kase, taskId, org.member, 'need_found', {
            finding: '走访 24 户，3单元楼道灯损坏。',
            needCategory: '公共设施',
            need: '3单元楼道灯损坏，老人夜间出行不便。',
          });
        } else {
          await claimAndComplete(kase, taskId, org.member, 'visited', {
            finding: `第${visit}次走访，住户情况正常。`,
          });
        }
      }
      const doc = await kase.waitForDoc('closed', (d) => d.status === 'closed');
      const [started] = await kase.waitForEvents('subprocess.started', 1);
      const request = bed.childCase(String(started!.detail?.caseId));
      const requestDoc = await request.waitForDoc('request closed', (d) => d.status !== 'open');
      return { doc, opened, request: requestDoc, visit: await kase.task(kase.taskId('visit', 1)) };
    });

    // Assert: one visit every 30 days, each the member's alone; one request, for the need found
    outcome.opened.forEach((at, i) => {
      expect(Math.abs(at - (outcome.opened[0]! + i * 30 * DAY))).toBeLessThan(10_000);
    });
    expect(outcome.visit!.candidates.map((c) => c.personId)).toEqual([org.member.personId]);
    expect(eventsOf(outcome.doc.timeline, 'subprocess.started')).toHaveLength(1);
    expect(outcome.request).toMatchObject({
      definitionKey: 'resident-request',
      unitId: org.building.id,
      data: { category: '公共设施', description: '3单元楼道灯损坏，老人夜间出行不便。' },
    });
    expect(eventsOf(outcome.doc.timeline, 'deadline.escalated')).toHaveLength(0);
  });

  it('when a visit is not recorded within 10 working days, then the member is reminded, the community’s secretary is told, and the next visit still opens 30 days after the first', async () => {
    // Arrange
    const org = await householdsOrg();
    const monday = await bed.quietMonday();
    const definition = await bed.shippedWith(
      'party-member-households.yaml',
      'resident-request.yaml',
    );
    const start = bj(`${monday} 09:30`).getTime();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(start);
      const kase = await bed.startCase(queue, definition, org.building.id, {
        member: org.member.personId,
      });
      const first = await kase.waitForTask('visit 1', kase.taskId('visit', 1), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${plusDays(monday, 15)} 10:00`));
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1);
      await claimAndComplete(kase, kase.taskId('visit', 1), org.member, 'visited', {
        finding: '补记：住户情况正常。',
      });
      await bed.skipTo(start + 30 * DAY + 60_000);
      const second = await kase.waitForTask('visit 2', kase.taskId('visit', 2), () => true);
      return { first, escalated, second };
    });

    // Assert
    expect(beijingText(outcome.first.dueAt!)).toBe(`${plusDays(monday, 14)} 09:30`);
    expectFiredAt(outcome.escalated!.at, outcome.first.dueAt!.getTime());
    expect(await mailsOf(org.member, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(Math.abs(outcome.second.openedAt.getTime() - (start + 30 * DAY))).toBeLessThan(60_000);
    expect(outcome.second.status).toBe('open');
  });
});

import type { DefinitionSnapshot } from '../../lang/definition';
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
 * The shipped 专项治理行动 (definitions/special-campaign.yaml and campaign-compound.yaml) on the
 * time-skipping server with the real activities: a street's campaign opens one case per compound
 * under it; each compound is checked by its party branch secretary (or, without a branch, the
 * community's secretary: 兜底) or its property manager, rectified by the end date with a progress
 * report every 14 days, and accepted by the street (a failed acceptance is reworked); the
 * campaign's dispatcher then reports. A missed end date goes to the community director and,
 * 3 working days later, to the street's 分管领导 with a red slip for the community director.
 */
let bed: SlaTestBed;

useSlaTestBed('special-campaign', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;

interface CampaignOrg extends SeededOrg {
  branched: SeededUnit;
  unbranched: SeededUnit;
  branchSecretary: SeededPerson;
  manager: SeededPerson;
  inspector: SeededPerson;
  streetLeader: SeededPerson;
}

/** Two compounds in the grid: one with a party branch, one with only a property manager. */
async function campaignOrg(): Promise<CampaignOrg> {
  const org = await bed.seedOrg();
  const branched = await bed.addUnit('compound', '惠民小区', org.grid);
  const unbranched = await bed.addUnit('compound', '幸福小区', org.grid);
  await bed.addPost(org.streetDirector, org.street, 'dispatcher');
  return {
    ...org,
    branched,
    unbranched,
    branchSecretary: await bed.addPerson('branch', '小区支部书记', [[branched, 'secretary']]),
    manager: await bed.addPerson('manager', '物业经理', [[unbranched, 'property-manager']]),
    inspector: await bed.addPerson('inspector', '街道专班', [[org.street, 'officer']]),
    streetLeader: await bed.addPerson('street-leader', '街道分管领导', [[org.street, 'leader']]),
  };
}

function campaign(endDate: string) {
  return {
    theme: '消防安全治理',
    description: '清理楼道堆物，检查消防通道和消防设施。',
    endDate,
  };
}

async function campaignDefinition(): Promise<DefinitionSnapshot> {
  return bed.shippedWith('special-campaign.yaml', 'campaign-compound.yaml');
}

/** The compound cases a campaign opened, by compound. */
async function compoundCases(kase: RunningCase, count: number) {
  const started = await kase.waitForEvents('subprocess.started', count);
  return new Map(
    started.map((e) => [String(e.detail?.unitId), bed.childCase(String(e.detail?.caseId))]),
  );
}

describe('专项治理行动 (special-campaign → campaign-compound)', () => {
  it('when every compound is checked, rectified with a progress report and accepted (once after rework), then the campaign is summed up and closes', async () => {
    // Arrange
    const org = await campaignOrg();
    const monday = await bed.quietMonday();
    const definition = await campaignDefinition();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(
        queue,
        definition,
        org.street.id,
        campaign(plusDays(monday, 25)),
      );
      const compounds = await compoundCases(kase, 2);
      const branched = compounds.get(org.branched.id)!;
      const unbranched = compounds.get(org.unbranched.id)!;
      // The compound without a branch: its check falls back to the community's secretary.
      const clearCheck = await unbranched.waitForTask(
        '排查（无支部）',
        unbranched.taskId('inspect'),
        () => true,
      );
      await claimAndComplete(unbranched, unbranched.taskId('inspect'), org.manager, 'clear', {
        found: 0,
        findings: '消防通道畅通',
      });
      await unbranched.waitForTask('验收', unbranched.taskId('accept'), () => true);
      await claimAndComplete(unbranched, unbranched.taskId('accept'), org.inspector, 'passed', {
        opinion: '符合要求',
      });
      // The compound with a branch finds problems, reports progress after 14 days, rectifies.
      await branched.waitForTask('排查', branched.taskId('inspect'), () => true);
      await claimAndComplete(branched, branched.taskId('inspect'), org.branchSecretary, 'found', {
        found: 6,
        findings: '3 栋楼道堆放杂物，2 处消防栓无水',
      });
      await bed.skipTo(bj(`${plusDays(monday, 14)} 10:00`));
      const progress = branched.taskId('progress');
      await branched.waitForTask('进展报送', progress, () => true);
      await claimAndComplete(branched, progress, org.branchSecretary, 'reported', {
        fixedSoFar: 4,
        note: '楼道堆物已清理',
      });
      const rectify = branched.taskId('rectify');
      await claimAndComplete(branched, rectify, org.branchSecretary, 'rectified', {
        fixed: 6,
        result: '全部整改',
      });
      const firstAccept = branched.taskId('accept');
      await branched.waitForTask('验收', firstAccept, () => true);
      await claimAndComplete(
        branched,
        firstAccept,
        org.inspector,
        'failed',
        { opinion: '消防栓仍无水' },
        '返工',
      );
      const rework = branched.taskId('rework');
      await branched.waitForTask('返工', rework, () => true);
      await claimAndComplete(branched, rework, org.branchSecretary, 'reworked', {
        result: '消防栓已接通',
      });
      const secondAccept = branched.taskId('accept', 2);
      await branched.waitForTask('再次验收', secondAccept, () => true);
      await claimAndComplete(branched, secondAccept, org.inspector, 'passed', {
        opinion: '整改到位',
      });
      const summary = kase.taskId('summary');
      await kase.waitForTask('总结通报', summary, () => true);
      await claimAndComplete(kase, summary, org.streetDirector, 'reported', {
        passed: 2,
        fixed: 6,
        report: '两个小区均验收通过',
      });
      return {
        clearCheck,
        doc: await kase.waitForDoc('closed', (d) => d.status === 'closed'),
        branched: await branched.waitForDoc('closed', (d) => d.status === 'closed'),
        unbranched: await unbranched.doc(),
      };
    });

    // Assert: without a party branch the community's secretary answers beside the manager (兜底)
    expect(outcome.clearCheck.candidates.map((c) => c.personId).sort()).toEqual(
      [org.communitySecretary.personId, org.manager.personId].sort(),
    );
    expect(stepsEntered(outcome.unbranched.timeline)).toEqual(['inspect', 'accept', 'passed']);
    // …the branch's compound reported progress while rectifying, and was accepted after rework
    const entered = stepsEntered(outcome.branched.timeline);
    expect(entered).toContain('progress');
    expect(entered.slice(entered.indexOf('accept'))).toEqual([
      'accept',
      'rework',
      'accept',
      'passed',
    ]);
    expect(stepsEntered(outcome.doc.timeline)).toEqual(['compounds', 'summary', 'closed']);
  });

  it('when a compound misses the end date, then the community director is told at once and the street leader 3 working days later, with a red slip for the community director', async () => {
    // Arrange
    const org = await campaignOrg();
    const monday = await bed.quietMonday();
    const endDate = plusDays(monday, 11); // the Friday after next
    const definition = await campaignDefinition();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.street.id, campaign(endDate));
      const branched = (await compoundCases(kase, 2)).get(org.branched.id)!;
      await branched.waitForTask('排查', branched.taskId('inspect'), () => true);
      await claimAndComplete(branched, branched.taskId('inspect'), org.branchSecretary, 'found', {
        found: 2,
        findings: '楼道堆物',
      });
      await branched.waitForTask('整改', branched.taskId('rectify'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      const dueAt = Date.parse(`${endDate}T00:00:00+08:00`) + DAY;
      await bed.skipTo(dueAt + 60_000);
      const [first] = await branched.waitForEvents('deadline.escalated', 1, {
        level: 1,
        deadline: 'by_end',
      });
      await bed.skipTo(dueAt + 7 * DAY);
      const [second] = await branched.waitForEvents('deadline.escalated', 1, {
        level: 2,
        deadline: 'by_end',
      });
      const [slip] = await branched.waitForEvents('supervision.opened', 1);
      return { dueAt, first, second, slip, caseId: branched.caseId, doc: await branched.doc() };
    });

    // Assert: reminded 7 days ahead, then the community director at the end of the end date
    const reminded = eventsOf(outcome.doc.timeline, 'deadline.reminded', { deadline: 'by_end' });
    expect(reminded).toHaveLength(1);
    expectFiredAt(reminded[0]!.at, outcome.dueAt - 7 * DAY);
    expectFiredAt(outcome.first!.at, outcome.dueAt);
    expect(outcome.first!.detail?.unitId).toBe(org.community.id);
    // …then the street's 分管领导, with a red slip for the community director
    expect(outcome.second!.detail?.unitId).toBe(org.street.id);
    const leaderMails = await mailsOf(org.streetLeader, outcome.caseId);
    expect(leaderMails.map((m) => m.subject.includes(SUBJECT.escalated))).toEqual([true]);
    expect(outcome.slip!.detail).toMatchObject({ level: 'red' });
  });
});

import type { DefinitionSnapshot } from '../../lang/definition';
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

describe('专项治理行动 measures (接单率, 办结率, 按期办结率, 督办率…)', () => {
  it('when known compounds run (clear and accepted, accepted after accept_5d and reworked on time, rectified after the end date, never rectified, never inspected), then every declared rate of campaign-compound comes out exactly, on the read model and after a replay', async () => {
    // Arrange
    const org = await campaignOrg();
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();
    const definition = bed.shipped('campaign-compound.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = (endDays: number) =>
        bed.startCase(queue, definition, org.branched.id, campaign(plusDays(monday, endDays)));
      const act = async (
        kase: RunningCase,
        step: string,
        outcome: string,
        form: Record<string, unknown>,
        options: { visit?: number; comment?: string } = {},
      ) => {
        const taskId = kase.taskId(step, options.visit);
        await kase.waitForTask(step, taskId, () => true);
        const by = step === 'accept' ? org.inspector : org.branchSecretary;
        await claimAndComplete(kase, taskId, by, outcome, form, options.comment);
      };
      const inspect = (kase: RunningCase, outcome: 'found' | 'clear') =>
        act(kase, 'inspect', outcome, { found: outcome === 'found' ? 2 : 0, findings: '楼道堆物' });
      const rectify = (kase: RunningCase) =>
        act(kase, 'rectify', 'rectified', { fixed: 2, result: '已清理' });
      const accept = (kase: RunningCase, outcome = 'passed', visit = 1) =>
        act(
          kase,
          'accept',
          outcome,
          { opinion: '验收' },
          {
            visit,
            ...(outcome === 'failed' ? { comment: '仍有堆物' } : {}),
          },
        );
      const planned = (kase: RunningCase, step: string) =>
        kase.waitForTask(step, kase.taskId(step), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      // 1. nothing found, accepted at once
      const clear = await start(25);
      await inspect(clear, 'clear');
      await accept(clear);
      // 2. rectified at once, accepted after accept_5d: failed, reworked, then passed
      const lateAcceptance = await start(25);
      await inspect(lateAcceptance, 'found');
      await rectify(lateAcceptance);
      await planned(lateAcceptance, 'accept');
      // 3. the end date Thursday: rectified on Friday; 4. never rectified
      const lateRectify = await start(3);
      const unrectified = await start(3);
      for (const kase of [lateRectify, unrectified]) {
        await inspect(kase, 'found');
        await planned(kase, 'rectify');
      }
      // 5. never inspected
      const uninspected = await start(25);
      await planned(uninspected, 'inspect');

      await bed.skipTo(mondayAt + 4 * DAY + 3600_000);
      await lateRectify.waitForEvents('deadline.escalated', 1, { deadline: 'by_end' });
      await unrectified.waitForEvents('deadline.escalated', 1, { deadline: 'by_end' });
      await rectify(lateRectify);
      await accept(lateRectify);
      // The next Monday: 5 working days have passed for the acceptance and the inspection
      await bed.skipTo(mondayAt + 7 * DAY + 3600_000);
      await lateAcceptance.waitForEvents('deadline.escalated', 1, { deadline: 'accept_5d' });
      await uninspected.waitForEvents('deadline.escalated', 1, { deadline: 'inspect_5d' });
      await accept(lateAcceptance, 'failed');
      await act(lateAcceptance, 'rework', 'reworked', { result: '已返工' });
      await accept(lateAcceptance, 'passed', 2);
      const docs = [
        await closed(clear),
        await closed(lateAcceptance),
        await closed(lateRectify),
        await unrectified.doc(),
        await uninspected.doc(),
      ];
      return { docs, cases: [clear, lateAcceptance, lateRectify, unrectified, uninspected] };
    });

    // Assert: the flags each compound carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'closed',
      'open',
      'open',
    ]);
    // No `acceptance` is declared: every compound is dispatched when opened, and the branch's
    // inspection is its acceptance; the one never inspected missed inspect_5d before any.
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 0, 0],
    ]);
    // by_end (the rectification's end date) is the 办结时限: a late acceptance is an
    // intermediate step. A compound never inspected never reaches by_end, so it is in no 办结率
    // denominator (it shows in 接单率, 督办率 and 逾期率).
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue, m.returnedCase]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 1, 1, 0],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.8, // 4 inspected of 5
      responseRate: 0.8, // the same 4, before inspect_5d
      completionRate: 0.75, // 3 passed of 4 due (the unrectified one is past by_end)
      resolutionRate: 0.75, // no 解释说明 outcome: the 3 passed are resolved
      onTimeRate: 0.6667, // 2 of 3 rectified by the end date (or with nothing to rectify)
      satisfactionRate: null, // no feedback step
      participationRate: null,
      visitRate: 0, // 0 rated of 3 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.8, // 4 escalated of 5
      returnRate: 0, // 限期返工 is an outcome, not a task sent back
      overdueRate: 0.8, // 4 with a deadline passed of 5 (the process has no refusal)
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = definition.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });

  it('when known campaigns run (summed up at once, summed up after summary_10d, never summed up), then every declared rate of special-campaign comes out exactly, on the read model and after a replay', async () => {
    // Arrange: each campaign opens the street's two compounds, both clear and accepted at once
    const org = await campaignOrg();
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();
    const root = await campaignDefinition();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = async () => {
        const kase = await bed.startCase(
          queue,
          root,
          org.street.id,
          campaign(plusDays(monday, 25)),
        );
        const children = await compoundCases(kase, 2);
        for (const [unitId, child] of children) {
          const inspector = unitId === org.branched.id ? org.branchSecretary : org.manager;
          await child.waitForTask('排查', child.taskId('inspect'), () => true);
          await claimAndComplete(child, child.taskId('inspect'), inspector, 'clear', {
            found: 0,
            findings: '未发现问题',
          });
          await child.waitForTask('验收', child.taskId('accept'), () => true);
          await claimAndComplete(child, child.taskId('accept'), org.inspector, 'passed', {
            opinion: '通过',
          });
        }
        await kase.waitForTask('总结', kase.taskId('summary'), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
        return kase;
      };
      const summarise = (kase: RunningCase) =>
        claimAndComplete(kase, kase.taskId('summary'), org.streetDirector, 'reported', {
          passed: 2,
          fixed: 0,
          report: '两个小区验收通过。',
        });
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      const cases = [await start(), await start(), await start()];
      const [summed, lateSummary, unsummed] = cases as [RunningCase, RunningCase, RunningCase];
      await summarise(summed);
      // Two weeks on: 10 working days have passed for the summaries
      await bed.skipTo(mondayAt + 14 * DAY + 3600_000);
      await lateSummary.waitForEvents('deadline.escalated', 1, { deadline: 'summary_10d' });
      await unsummed.waitForEvents('deadline.escalated', 1, { deadline: 'summary_10d' });
      await summarise(lateSummary);
      const docs = [await closed(summed), await closed(lateSummary), await unsummed.doc()];
      return { docs, cases };
    });

    // Assert: the flags each campaign carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'open']);
    // No `acceptance` is declared: the campaign's only task is the 专班's summary, so taking it
    // up is the acceptance, and a summary taken up after summary_10d was not in time.
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.6667, // 2 summaries taken up of 3 campaigns
      responseRate: 0.3333, // 1 taken up before summary_10d
      completionRate: 0.6667, // 2 summed up of 3 due (the third is past summary_10d)
      resolutionRate: 0.6667, // no 解释说明 outcome: the 2 summed up are resolved
      onTimeRate: 0.5, // 1 of 2 within summary_10d
      satisfactionRate: null, // no feedback step
      participationRate: null,
      visitRate: 0, // 0 rated of 2 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.6667, // 2 escalated of 3
      returnRate: 0, // no task is sent back
      overdueRate: 0.6667, // 2 with a deadline passed of 3 (the process has no refusal)
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, root.spec.measures)).toEqual(metrics[i]);
    }
  });
});

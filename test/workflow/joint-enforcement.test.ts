import type { Principal } from '../../services/auth';
import type { DefinitionSnapshot } from '../../lang/definition';
import { addWorkingDays } from '../../common/working-calendar';
import { createAttachmentService } from '../../services/attachments';
import { createScopeResolver } from '../../services/scope';
import { figuresOf } from '../../services/metrics';
import { bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { phonePhoto } from '../support/photos';
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
 * The shipped 联合执法行动 (definitions/joint-enforcement.yaml and joint-enforcement-team.yaml)
 * on the time-skipping server with the real activities: a street's operation opens one case per
 * department taking part, each confirms its team (or says it cannot); the case waits for the
 * operation, the street's office records it and orders rectification by a date, re-inspects, and
 * closes it. Missed: a team not confirmed goes to the department's director; a rectification date
 * passed walks up the tree from the place, the street's 分管领导 at once and the county's
 * 2 working days later; a case not rectified is filed for penalty.
 */
let bed: SlaTestBed;

useSlaTestBed('joint-enforcement', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;

interface EnforcementOrg extends SeededOrg {
  compound: SeededUnit;
  urban: SeededUnit;
  market: SeededUnit;
  urbanOfficer: SeededPerson;
  urbanDirector: SeededPerson;
  marketOfficer: SeededPerson;
  /** 街道综合执法办. */
  office: SeededPerson;
  streetLeader: SeededPerson;
  countyLeader: SeededPerson;
}

/** A compound in the grid, two county departments, the street's office and both 分管领导. */
async function enforcementOrg(): Promise<EnforcementOrg> {
  const org = await bed.seedOrg();
  const urban = await bed.addUnit('department', '城市管理执法局', org.county);
  const market = await bed.addUnit('department', '市场监督管理局', org.county);
  return {
    ...org,
    compound: await bed.addUnit('compound', '惠民小区', org.grid),
    urban,
    market,
    urbanOfficer: await bed.addPerson('urban-officer', '城管队员', [[urban, 'officer']]),
    urbanDirector: await bed.addPerson('urban-director', '城管局长', [[urban, 'director']]),
    marketOfficer: await bed.addPerson('market-officer', '市场监管员', [[market, 'officer']]),
    office: await bed.addPerson('office', '综合执法办', [[org.street, 'officer']]),
    streetLeader: await bed.addPerson('street-leader', '街道分管领导', [[org.street, 'leader']]),
    countyLeader: await bed.addPerson('county-leader', '县分管领导', [[org.county, 'leader']]),
  };
}

function operation(org: EnforcementOrg, departments: SeededUnit[], operationAt: string) {
  return {
    title: '惠民小区南门占道经营整治',
    problem: '占道经营',
    description: '南门早市占道经营，堵塞消防通道。',
    place: org.compound.id,
    location: '惠民小区南门',
    departments: departments.map((d) => d.id),
    operationAt,
  };
}

async function enforcementDefinition(): Promise<DefinitionSnapshot> {
  return bed.shippedWith('joint-enforcement.yaml', 'joint-enforcement-team.yaml');
}

/** The team cases an operation opened, by department. */
async function teamCases(kase: RunningCase, count: number) {
  const started = await kase.waitForEvents('subprocess.started', count);
  return new Map(
    started.map((e) => [String(e.detail?.unitId), bed.childCase(String(e.detail?.caseId))]),
  );
}

async function confirmTeam(team: RunningCase, officer: SeededPerson): Promise<void> {
  await team.waitForTask('确认派员', team.taskId('confirm'), () => true);
  await claimAndComplete(team, team.taskId('confirm'), officer, 'confirmed', {
    teamLeader: officer.personId,
    members: 4,
  });
}

const ORDER = {
  teamsPresent: 1,
  findings: '南门外 6 个摊位占道经营',
  problems: 6,
  orders: '3 日内撤离占道摊位',
};

describe('联合执法行动 (joint-enforcement → joint-enforcement-team)', () => {
  it('when one department confirms its team and the other cannot come, then the operation is recorded after it happened with a photo from the site, rectification ordered by a date, re-inspected and closed', async () => {
    // Arrange
    const org = await enforcementOrg();
    const monday = await bed.quietMonday();
    const operationAt = `${plusDays(monday, 2)}T09:00:00+08:00`;
    const rectifyBy = plusDays(monday, 9);
    const definition = await enforcementDefinition();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(
        queue,
        definition,
        org.street.id,
        operation(org, [org.urban, org.market], operationAt),
      );
      const teams = await teamCases(kase, 2);
      const urban = teams.get(org.urban.id)!;
      const market = teams.get(org.market.id)!;
      const urbanConfirm = await urban.waitForTask('确认派员', urban.taskId('confirm'), () => true);
      await confirmTeam(urban, org.urbanOfficer);
      await market.waitForTask('确认派员', market.taskId('confirm'), () => true);
      await claimAndComplete(
        market,
        market.taskId('confirm'),
        org.marketOfficer,
        'unable',
        { note: '当日另有执法任务' },
        '当日另有执法任务',
      );
      await kase.waitForEvents('subprocess.ended', 2);
      const beforeOperation = await kase.task(kase.taskId('record'));
      await bed.skipTo(Date.parse(operationAt) + 60_000);
      const record = kase.taskId('record');
      const recordTask = await kase.waitForTask('记录', record, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      // The office's photo from the site, attached to the task and named in the form, through
      // the services the API uses (the completion checks the photo is the case's)
      await kase.claim(record, org.office);
      const office: Principal = {
        kind: 'user',
        id: org.office.userId,
        roles: ['staff'],
        unitIds: [],
      };
      const photos = createAttachmentService({
        models: bed.db.models,
        scope: createScopeResolver(bed.db.models),
        clock: () => new Date(),
      });
      const photo = await photos.attachToTask(office, record, {
        bytes: await phonePhoto({ width: 800, height: 600 }),
        contentType: 'image/jpeg',
      });
      await bed
        .tasks()
        .act(
          office,
          record,
          'complete',
          { outcome: 'ordered', form: { ...ORDER, rectifyBy, photos: [photo.id] } },
          undefined,
        );
      const reinspect = kase.taskId('reinspect');
      const reinspectTask = await kase.waitForTask('复查', reinspect, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await claimAndComplete(kase, reinspect, org.office, 'passed', { result: '摊位已撤离' });
      return {
        photoId: photo.id,
        caseId: kase.caseId,
        urbanConfirm,
        beforeOperation,
        recordTask,
        reinspectTask,
        doc: await kase.waitForDoc('closed', (d) => d.status === 'closed'),
        teams: [await urban.doc(), await market.doc()],
      };
    });

    // Assert: each department's officers were asked in a case of its own, both answered
    expect(outcome.urbanConfirm.candidates.map((c) => c.personId)).toEqual([
      org.urbanOfficer.personId,
    ]);
    expect(outcome.teams.map((t) => t.status)).toEqual(['closed', 'closed']);
    expect(
      outcome.teams.map((t) => eventsOf(t.timeline, 'task.completed')[0]?.detail?.outcome),
    ).toEqual(['confirmed', 'unable']);
    // …nothing was recorded before the operation; then the street's office, by the next working day
    expect(outcome.beforeOperation).toBeNull();
    expect(outcome.recordTask.candidates.map((c) => c.personId)).toEqual([org.office.personId]);
    expectFiredAt(outcome.recordTask.dueAt!, bj(`${plusDays(monday, 3)} 09:00`).getTime());
    // …with its photo from the site on the record
    const recorded = eventsOf(outcome.doc.timeline, 'task.completed').find(
      (e) => e.stepId === 'record',
    );
    expect(recorded?.detail?.outcome).toBe('ordered');
    const stored = await bed.db.models.Attachment.findById(outcome.photoId).lean();
    expect(stored).toMatchObject({ caseId: outcome.caseId, stepId: 'record' });
    // …the re-inspection is due at the end of the rectification date
    expectFiredAt(outcome.reinspectTask.dueAt!, Date.parse(`${rectifyBy}T00:00:00+08:00`) + DAY);
    // …the operation read the departments' answers from their cases: one team of 4 people
    expect(
      eventsOf(outcome.doc.timeline, 'subprocess.ended')
        .map((e) => [e.detail?.outcome, e.detail?.team, e.detail?.members])
        .sort(),
    ).toEqual([
      ['confirmed', true, 4],
      ['unable', false, undefined],
    ]);
    const teamsRead = eventsOf(outcome.doc.timeline, 'step.completed').find(
      (e) => e.stepId === 'teams',
    );
    expect(teamsRead?.detail).toEqual({
      count: 2,
      closed: 2,
      outcomes: ['confirmed: 1', 'unable: 1'],
      team: 1,
      members: 4,
    });
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'teams',
      'staffed',
      'operation',
      'record',
      'reinspect',
      'closed',
    ]);
  });

  it('when no department can send a team, then the operation reads both answers and is called off at once, without waiting for its date', async () => {
    // Arrange
    const org = await enforcementOrg();
    const monday = await bed.quietMonday();
    const operationAt = `${plusDays(monday, 7)}T09:00:00+08:00`;
    const definition = await enforcementDefinition();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(
        queue,
        definition,
        org.street.id,
        operation(org, [org.urban, org.market], operationAt),
      );
      const teams = await teamCases(kase, 2);
      for (const [unitId, officer] of [
        [org.urban.id, org.urbanOfficer],
        [org.market.id, org.marketOfficer],
      ] as const) {
        const team = teams.get(unitId)!;
        await team.waitForTask('确认派员', team.taskId('confirm'), () => true);
        await claimAndComplete(
          team,
          team.taskId('confirm'),
          officer,
          'unable',
          { note: '当日另有执法任务' },
          '当日另有执法任务',
        );
      }
      const doc = await kase.waitForDoc('called off', (d) => d.status !== 'open');
      return { doc, now: await bed.now() };
    });

    // Assert
    expect(outcome.doc.status).toBe('cancelled');
    expect(outcome.now).toBeLessThan(Date.parse(operationAt));
    expect(stepsEntered(outcome.doc.timeline)).toEqual(['teams', 'staffed', 'called_off']);
    const teamsRead = eventsOf(outcome.doc.timeline, 'step.completed').find(
      (e) => e.stepId === 'teams',
    );
    expect(teamsRead?.detail).toEqual({
      count: 2,
      closed: 2,
      outcomes: ['unable: 2'],
      team: 0,
      members: 0,
    });
  });

  it('when a department confirms late and the rectification date passes without a re-inspection, then the department’s director is told, then the street’s 分管领导 at the date and the county’s 2 working days later', async () => {
    // Arrange
    const org = await enforcementOrg();
    const monday = await bed.quietMonday();
    const operationAt = `${plusDays(monday, 3)}T09:00:00+08:00`;
    const rectifyBy = plusDays(monday, 4); // the Friday
    const definition = await enforcementDefinition();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(
        queue,
        definition,
        org.street.id,
        operation(org, [org.urban], operationAt),
      );
      const urban = (await teamCases(kase, 1)).get(org.urban.id)!;
      const confirm = await urban.waitForTask('确认派员', urban.taskId('confirm'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(confirm.dueAt!.getTime() + 60_000);
      const [teamEscalated] = await urban.waitForEvents('deadline.escalated', 1, {
        deadline: 'confirm_1d',
      });
      await confirmTeam(urban, org.urbanOfficer);
      await bed.skipTo(Date.parse(operationAt) + 60_000);
      const record = kase.taskId('record');
      await kase.waitForTask('记录', record, () => true);
      await claimAndComplete(kase, record, org.office, 'ordered', { ...ORDER, rectifyBy });
      const reinspect = await kase.waitForTask('复查', kase.taskId('reinspect'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(reinspect.dueAt!.getTime() + 60_000);
      const [street] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'rectify_by',
        level: 1,
      });
      const countyAt = addWorkingDays(await bed.calendar(), reinspect.dueAt!, 2).at.getTime();
      await bed.skipTo(countyAt + 60_000);
      const [county] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'rectify_by',
        level: 2,
      });
      return { confirm, teamEscalated, reinspect, street, county, countyAt };
    });

    // Assert: the team's confirmation missed: the department's director
    expectFiredAt(outcome.teamEscalated!.at, outcome.confirm.dueAt!.getTime());
    expect(outcome.teamEscalated!.detail?.unitId).toBe(org.urban.id);
    expect(await mailsOf(org.urbanDirector, SUBJECT.escalated)).toHaveLength(1);
    // …the rectification date: up the tree from the compound, the street, then the county
    expectFiredAt(outcome.reinspect.dueAt!, Date.parse(`${rectifyBy}T00:00:00+08:00`) + DAY);
    expectFiredAt(outcome.street!.at, outcome.reinspect.dueAt!.getTime());
    expect(outcome.street!.detail).toMatchObject({ unitId: org.street.id, ladder: 1 });
    expectFiredAt(outcome.county!.at, outcome.countyAt);
    expect(outcome.county!.detail).toMatchObject({ unitId: org.county.id, ladder: 2 });
    expect(await mailsOf(org.streetLeader, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.countyLeader, SUBJECT.escalated)).toHaveLength(1);
  });
});

describe('联合执法行动 measures (接单率, 办结率, 按期办结率, 督办率…)', () => {
  it('when known operations run (nothing found, rectified in time, not rectified by the date and filed for penalty, not held, never recorded), then every declared rate of joint-enforcement comes out exactly, on the read model and after a replay', async () => {
    // Arrange: one department each, confirmed at once; the operations at 10:00 on the Monday
    const org = await enforcementOrg();
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();
    const operationAt = `${monday}T10:00:00+08:00`;
    const definition = await enforcementDefinition();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = async () => {
        const kase = await bed.startCase(
          queue,
          definition,
          org.street.id,
          operation(org, [org.urban], operationAt),
        );
        await confirmTeam((await teamCases(kase, 1)).get(org.urban.id)!, org.urbanOfficer);
        return kase;
      };
      const act = async (
        kase: RunningCase,
        step: string,
        outcome: string,
        form: Record<string, unknown>,
        comment?: string,
      ) => {
        const taskId = kase.taskId(step);
        await kase.waitForTask(step, taskId, () => true);
        await claimAndComplete(kase, taskId, org.office, outcome, form, comment);
      };
      const order = (kase: RunningCase, days: number) =>
        act(kase, 'record', 'ordered', { ...ORDER, rectifyBy: plusDays(monday, days) });
      const planned = (kase: RunningCase, step: string) =>
        kase.waitForTask(step, kase.taskId(step), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      const cases = [await start(), await start(), await start(), await start(), await start()];
      const [clear, rectified, penalised, notHeld, unrecorded] = cases as [
        RunningCase,
        RunningCase,
        RunningCase,
        RunningCase,
        RunningCase,
      ];
      await bed.skipTo(Date.parse(operationAt) + 60_000);
      // 1. nothing found
      await act(clear, 'record', 'clear', { teamsPresent: 1, findings: '未发现占道', problems: 0 });
      // 2. rectification by Wednesday, re-inspected at once
      await order(rectified, 2);
      await act(rectified, 'reinspect', 'passed', { result: '摊位已撤离' });
      // 3. rectification by Tuesday, left past it
      await order(penalised, 1);
      await planned(penalised, 'reinspect');
      // 4. not held
      await act(
        notHeld,
        'record',
        'not_held',
        { teamsPresent: 0, findings: '暴雨', problems: 0 },
        '暴雨',
      );
      // 5. never recorded
      await planned(unrecorded, 'record');

      // Wednesday: record_1d (Tuesday 10:00) and the Tuesday rectification date have passed
      await bed.skipTo(mondayAt + 2 * DAY + 3600_000);
      await penalised.waitForEvents('deadline.escalated', 1, { deadline: 'rectify_by' });
      await unrecorded.waitForEvents('deadline.escalated', 1, { deadline: 'record_1d' });
      await act(penalised, 'reinspect', 'not_rectified', { result: '摊位仍在' }, '拒不整改');
      await act(penalised, 'penalty', 'filed', {
        caseNo: '城执罚〔2026〕18号',
        decision: '已立案',
      });
      const docs = [
        await closed(clear),
        await closed(rectified),
        await closed(penalised),
        await closed(notHeld),
        await unrecorded.doc(),
      ];
      return { docs, cases };
    });

    // Assert: the flags each operation carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'closed',
      'cancelled',
      'open',
    ]);
    // The office's record is the acceptance: dispatched when it opens after the operation
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 0, 0],
    ]);
    // 办结时限: record_1d, and the rectification date once an order was given; the penalty is
    // 办结 but not 解决; the operation not held ended within its limit (in no 办结率)
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 0, 1, 0],
      [0, 0, 0, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 0, 0],
      [0, 0, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.8, // 4 recorded of 5
      responseRate: 0.8, // the same 4, each before record_1d
      completionRate: 0.75, // 3 closed of 4 due
      resolutionRate: 0.5, // 2 resolved (nothing found, rectified) of 4 due
      onTimeRate: 0.6667, // 2 of 3 completed within their limits
      satisfactionRate: null, // no feedback step
      participationRate: null,
      visitRate: 0, // 0 rated of 3 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.4, // 2 escalated of 5
      returnRate: 0, // no task is sent back
      overdueRate: 0.4, // 2 with a limit passed of 5 (the process has no refusal)
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, definition.spec.measures)).toEqual(metrics[i]);
    }
  });
  it('when known team confirmations run (confirmed at once, cannot come, confirmed after confirm_1d, never answered), then every declared rate of joint-enforcement-team comes out exactly, on the read model and after a replay', async () => {
    // Arrange: each started as the operation starts it, for the department
    const org = await enforcementOrg();
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();
    const definition = bed.shipped('joint-enforcement-team.yaml');
    const team = {
      title: '惠民小区南门占道经营整治',
      problem: '占道经营',
      place: org.compound.id,
      operationAt: `${plusDays(monday, 3)}T09:00:00+08:00`,
      street: org.street.id,
    };

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = () => bed.startCase(queue, definition, org.urban.id, team);
      const cases = [await start(), await start(), await start(), await start()];
      const [confirmed, unable, late, silent] = cases as [
        RunningCase,
        RunningCase,
        RunningCase,
        RunningCase,
      ];
      await confirmTeam(confirmed, org.urbanOfficer);
      await unable.waitForTask('确认派员', unable.taskId('confirm'), () => true);
      await claimAndComplete(
        unable,
        unable.taskId('confirm'),
        org.urbanOfficer,
        'unable',
        { note: '当日另有任务' },
        '当日另有任务',
      );
      for (const kase of [late, silent]) {
        await kase.waitForTask('确认派员', kase.taskId('confirm'), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      }
      // Tuesday 11:30: confirm_1d (Tuesday 09:30) has passed
      await bed.skipTo(mondayAt + DAY + 2 * 3600_000);
      await late.waitForEvents('deadline.escalated', 1, { deadline: 'confirm_1d' });
      await silent.waitForEvents('deadline.escalated', 1, { deadline: 'confirm_1d' });
      await confirmTeam(late, org.urbanOfficer);
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const docs = [
        await closed(confirmed),
        await closed(unable),
        await closed(late),
        await silent.doc(),
      ];
      return { docs, cases };
    });

    // Assert: the flags each department's case carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'closed', 'open']);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 1, 0, 0],
    ]);
    // 无法派员 is 办结 but not 解决
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 0, 1, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.75, // 3 taken up of 4
      responseRate: 0.5, // 2 taken up before confirm_1d (Mudan's 响应率)
      completionRate: 0.75, // 3 answered of 4 due
      resolutionRate: 0.5, // 2 teams confirmed of 4 due
      onTimeRate: 0.6667, // 2 of 3 answered within confirm_1d
      satisfactionRate: null, // no feedback step
      participationRate: null,
      visitRate: 0, // 0 rated of 3 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.5, // 2 escalated to the director of 4
      returnRate: 0, // no task is sent back
      overdueRate: 0.5, // 2 past confirm_1d of 4 (the process has no refusal)
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, definition.spec.measures)).toEqual(metrics[i]);
    }
  });
});

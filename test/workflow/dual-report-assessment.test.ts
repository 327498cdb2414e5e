import { beijingText, bj } from '../support/beijing';
import type { SeededOrg, SeededPerson, SeededUnit, SlaTestBed } from '../support/sla-cases';
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
 * The shipped 在职党员“双报到”年度考核 (definitions/dual-report-assessment.yaml, with
 * dual-report-unit-assessment.yaml) on the time-skipping server with the real activities: the
 * case reads the community's registrations and points ledger (the `lookup` step) and opens the
 * secretary's form prefilled with them; the community's secretary assesses the members who
 * reported to it and names their units; each unit's
 * secretary then assesses its own members with the community's ratings in front of them, and the
 * community's secretary gets the result (双评双考). Missed: the community's assessment goes up the
 * tree to the street's and the county's secretaries; a unit's, to the community's secretary and
 * the secretary above the unit.
 */
let bed: SlaTestBed;

useSlaTestBed('dual-report-assessment', (ready) => {
  bed = ready;
});

interface AssessmentOrg extends SeededOrg {
  department: SeededUnit;
  departmentSecretary: SeededPerson;
  countySecretary: SeededPerson;
  member: SeededPerson;
}

async function assessmentOrg(): Promise<AssessmentOrg> {
  const org = await bed.seedOrg();
  const department = await bed.addUnit('department', '民政局', org.county);
  return {
    ...org,
    department,
    departmentSecretary: await bed.addPerson('dept-secretary', '民政局党组书记', [
      [department, 'secretary'],
    ]),
    countySecretary: await bed.addPerson('county-secretary', '县委书记', [
      [org.county, 'secretary'],
    ]),
    member: await bed.addPerson('member', '报到党员', [
      [department, 'officer'],
      [org.community, 'party-member'],
    ]),
  };
}

describe('在职党员“双报到”年度考核 (dual-report-assessment → dual-report-unit-assessment)', () => {
  it('when the community rates its reporting members and names their unit, then the unit’s secretary rates them with the community’s ratings in front of them and the community’s secretary gets the result', async () => {
    // Arrange
    const org = await assessmentOrg();
    const monday = await bed.quietMonday();
    const definition = await bed.shippedWith(
      'dual-report-assessment.yaml',
      'dual-report-unit-assessment.yaml',
    );

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.community.id, { year: 2026 });
      const community = kase.taskId('community');
      await kase.waitForTask('社区评议', community, () => true);
      await claimAndComplete(kase, community, org.communitySecretary, 'assessed', {
        members: [org.member.personId],
        excellent: [org.member.personId],
        workUnits: [org.department.id],
        basis: '全年服务积分 36 分，参加社区工作日 10 次（双报到积分报表）。',
      });
      const [started] = await kase.waitForEvents('subprocess.started', 1);
      const unitCase = bed.childCase(String(started!.detail?.caseId));
      const unitTask = await unitCase.waitForTask(
        '单位评议',
        unitCase.taskId('assess'),
        () => true,
      );
      const unitDoc = await unitCase.doc();
      await claimAndComplete(
        unitCase,
        unitCase.taskId('assess'),
        org.departmentSecretary,
        'assessed',
        {
          excellent: [org.member.personId],
          opinion: '该同志在单位和社区表现均突出，同意评为优秀。',
        },
      );
      const doc = await kase.waitForDoc('closed', (d) => d.status === 'closed');
      return { doc, unitTask, unitDoc };
    });

    // Assert
    expect(stepsEntered(outcome.doc.timeline)).toEqual(['basis', 'community', 'units', 'closed']);
    expect(outcome.unitDoc).toMatchObject({
      definitionKey: 'dual-report-unit-assessment',
      unitId: org.department.id,
      data: {
        community: org.community.id,
        year: 2026,
        members: [org.member.personId],
        communityExcellent: [org.member.personId],
      },
    });
    expect(outcome.unitTask.candidates.map((c) => c.personId)).toEqual([
      org.departmentSecretary.personId,
    ]);
    expect(await mailsOf(org.communitySecretary, '评议结果回告社区')).toHaveLength(1);
    expect(eventsOf(outcome.doc.timeline, 'deadline.escalated')).toHaveLength(0);
  });

  it('when members registered with the community and one earned points serving it, then the assessment reads them and the secretary’s form opens prefilled with the members, their units and their points, and the units named get their cases', async () => {
    // Arrange: a member registered through a dual-report case (no points), and a member of a
    // co-building unit who earned a micro-wish's 10 points in the community (not registered)
    const org = await assessmentOrg();
    const hospital = await bed.addUnit('cobuilding', '县人民医院', org.street);
    const dispatcher = await bed.addPerson('dispatcher', '林派单', [[org.community, 'dispatcher']]);
    const earner = await bed.addPerson('earner', '高党员', [
      [org.community, 'party-member'],
      [hospital, 'officer'],
    ]);
    const definition = await bed.shippedWith(
      'dual-report-assessment.yaml',
      'dual-report-unit-assessment.yaml',
    );

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const registration = await bed.startCase(
        queue,
        bed.shipped('dual-report.yaml'),
        org.community.id,
        { member: org.member.personId, workUnit: org.department.id, services: ['政策宣传'] },
      );
      await registration.waitForTask('社区报到登记', registration.taskId('register'), () => true);
      const wish = await bed.startCase(queue, bed.shipped('micro-wish.yaml'), org.grid.id, {
        wish: '想要一台收音机',
        category: '陪伴关爱',
        residentName: '王秀兰',
      });
      await wish.waitForTask('the review', wish.taskId('review'), () => true);
      await wish.claim(wish.taskId('review'), dispatcher);
      await wish.complete(wish.taskId('review'), dispatcher, 'listed');
      await wish.waitForTask('the pool', wish.taskId('pool'), () => true);
      await wish.claim(wish.taskId('pool'), earner);
      const fulfil = wish.taskId('fulfil');
      await wish.waitForTask('the fulfilment', fulfil, () => true);
      await wish.claim(fulfil, earner);
      await wish.complete(fulfil, earner, 'fulfilled', { summary: '已送上收音机' });
      await wish.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      const [earned] = await bed.db.models.PointsEntry.find({ personId: earner.personId }).lean();
      const year = Number(beijingText(earned!.at).slice(0, 4));

      const kase = await bed.startCase(queue, definition, org.community.id, { year });
      const community = kase.taskId('community');
      const task = await kase.waitForTask('社区评议', community, () => true);
      await claimAndComplete(kase, community, org.communitySecretary, 'assessed', {
        ...(task.prefill as Record<string, unknown>),
        excellent: [earner.personId],
      });
      const started = await kase.waitForEvents('subprocess.started', 2);
      const [read] = await kase.waitForEvents('lookup.read', 1);
      const childIds = started.map((e) => String(e.detail?.caseId));
      for (const id of childIds) await bed.childCase(id).waitForDoc('the unit’s case', () => true);
      const children = await bed.db.models.Case.find({ _id: { $in: childIds } }).lean();
      return { task, read, year, children };
    });

    // Assert
    expect(outcome.read!.detail).toMatchObject({
      source: 'dual-report-members',
      period: outcome.year,
      count: 2,
      points: 10,
    });
    expect(outcome.task.prefill).toEqual({
      members: [earner.personId, org.member.personId],
      workUnits: [org.department.id, hospital.id].sort(),
      basis: `高党员（县人民医院）：10 分，1 次，未登记报到\n报到党员（民政局）：0 分，0 次`,
    });
    expect(outcome.children.map((c) => c.unitId).sort()).toEqual(
      [org.department.id, hospital.id].sort(),
    );
    expect(outcome.children[0]!.data).toMatchObject({
      members: [earner.personId, org.member.personId],
      communityExcellent: [earner.personId],
    });
  });

  it('when the community names nobody (no member reported), then the round closes without asking any unit', async () => {
    // Arrange
    const org = await assessmentOrg();
    const definition = await bed.shippedWith(
      'dual-report-assessment.yaml',
      'dual-report-unit-assessment.yaml',
    );

    // Act
    const doc = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, definition, org.community.id, { year: 2026 });
      await kase.waitForTask('社区评议', kase.taskId('community'), () => true);
      await claimAndComplete(kase, kase.taskId('community'), org.communitySecretary, 'none', {});
      return kase.waitForDoc('closed', (d) => d.status === 'closed');
    });

    // Assert
    expect(stepsEntered(doc.timeline)).toEqual(['basis', 'community', 'closed']);
    expect(eventsOf(doc.timeline, 'subprocess.started')).toHaveLength(0);
  });

  it('when the community does not assess within 15 working days, then its secretary is reminded and the street’s secretary is told at the limit, the county’s 5 working days later', async () => {
    // Arrange
    const org = await assessmentOrg();
    const monday = await bed.quietMonday();
    const definition = await bed.shippedWith(
      'dual-report-assessment.yaml',
      'dual-report-unit-assessment.yaml',
    );

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.community.id, { year: 2026 });
      const task = await kase.waitForTask('社区评议', kase.taskId('community'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${plusDays(monday, 35)} 10:00`));
      const escalated = await kase.waitForEvents('deadline.escalated', 2);
      return { task, escalated };
    });

    // Assert
    expect(beijingText(outcome.task.dueAt!)).toBe(`${plusDays(monday, 21)} 09:30`);
    expectFiredAt(outcome.escalated[0]!.at, outcome.task.dueAt!.getTime());
    expect(outcome.escalated.map((e) => [e.detail?.ladder, e.detail?.unitId])).toEqual([
      [1, org.street.id],
      [2, org.county.id],
    ]);
    expect(await mailsOf(org.communitySecretary, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.countySecretary, SUBJECT.escalated)).toHaveLength(1);
  });

  it('when a unit does not assess within 15 working days, then its secretary is reminded and the community’s secretary and the secretary above the unit are told', async () => {
    // Arrange
    const org = await assessmentOrg();
    const monday = await bed.quietMonday();
    const definition = bed.shipped('dual-report-unit-assessment.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, definition, org.department.id, {
        community: org.community.id,
        year: 2026,
        members: [org.member.personId],
      });
      const task = await kase.waitForTask('单位评议', kase.taskId('assess'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${plusDays(monday, 22)} 10:00`));
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1);
      return { task, escalated };
    });

    // Assert
    expect(beijingText(outcome.task.dueAt!)).toBe(`${plusDays(monday, 21)} 09:30`);
    expectFiredAt(outcome.escalated!.at, outcome.task.dueAt!.getTime());
    expect(await mailsOf(org.departmentSecretary, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.countySecretary, SUBJECT.escalated)).toHaveLength(1);
  });
});

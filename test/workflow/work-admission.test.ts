import { figuresOf } from '../../services/metrics';
import type { CaseStateView } from '../../workflows/projection';
import { beijingText, bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import type { SeededPerson, SlaTestBed } from '../support/sla-cases';
import { CASE_UPDATES } from '../../common/case';
import {
  actor,
  eventsOf,
  expectFiredAt,
  mailsOf,
  SUBJECT,
  useSlaTestBed,
  stepsEntered,
} from '../support/sla-cases';

/**
 * The shipped 社区工作准入 process (definitions/work-admission.yaml): a task a department pushes
 * to a community is checked against the admission list (Binzhou: 20 statutory items, 44 assisted
 * items); a listed item is decided by the street, anything else by the county, and both the
 * department and the community are told; a street that does not decide in 3 working days is
 * escalated to the street party secretary, one working day later to the county's 分管领导.
 */
let bed: SlaTestBed;

useSlaTestBed('work-admission', (ready) => {
  bed = ready;
});

/** The process under test, as shipped (definitions/work-admission.yaml). */
const shipped = () => bed.shipped('work-admission.yaml');

const DAY = 24 * 3600_000;

interface Parties {
  departmentId: string;
  officer: SeededPerson;
  streetLeader: SeededPerson;
  countyLeader: SeededPerson;
  countyDirector: SeededPerson;
}

/** The pushing department under the county, and the street's and county's deciders. */
async function parties(org: Awaited<ReturnType<SlaTestBed['seedOrg']>>): Promise<Parties> {
  const departmentId = (await bed.addUnit('department', '民政局', org.county.id)).id;
  return {
    departmentId,
    officer: await bed.addPerson('dept-officer', '许科员', [[departmentId, 'officer']]),
    streetLeader: await bed.addPerson('street-leader', '何分管', [[org.street, 'leader']]),
    countyLeader: await bed.addPerson('county-leader', '曹县领导', [[org.county, 'leader']]),
    countyDirector: await bed.addPerson('county-director', '袁主任', [[org.county, 'director']]),
  };
}

const pushed = {
  title: '高龄津贴资格年审入户核查',
  description: '请社区于月底前完成辖区 80 岁以上老人高龄津贴资格入户核查',
  items: ['协办·高龄津贴资格核查'],
  funded: true,
};

describe('社区工作准入审核 (work-admission)', () => {
  it('when a department pushes an item of the admission list, then the street admits it and the department and the community are told', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const p = await parties(org);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, shipped(), org.community.id, {
        ...pushed,
        requestingUnit: p.departmentId,
      });
      const review = kase.taskId('street_review');
      const task = await kase.waitForTask('the street review', review, () => true);
      await kase.claim(review, p.streetLeader);
      await kase.complete(review, p.streetLeader, 'admit', { opinion: '属准入清单协办事项' });
      const result = (await kase.handle.result()) as CaseStateView;
      return { kase, task, result, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.task.candidates.map((c) => c.personId)).toEqual([p.streetLeader.personId]);
    expect(outcome.result.status).toBe('closed');
    const timeline = outcome.doc.timeline;
    expect(stepsEntered(timeline)).toEqual([
      'screen',
      'street_review',
      'admitted',
      'admitted_wall',
      'closed',
    ]);
    expect(eventsOf(timeline, 'decision.taken')[0]?.detail).toMatchObject({
      branch: 1,
      next: 'street_review',
    });
    expect(eventsOf(timeline, 'notification.sent', { template: 'case-update' })).toHaveLength(2);
    const [toDepartment] = await mailsOf(p.officer, '准入结果告知');
    expect(toDepartment?.subject).toContain(outcome.kase.caseId);
    expect(await mailsOf(org.communitySecretary, '准入结果告知')).toHaveLength(1);
    expect(await mailsOf(p.countyLeader)).toHaveLength(0);
  });

  it('when an item is off the list (an inspection or appraisal, or no listed item named), then it goes to the county, which refuses it, and the case ends rejected', async () => {
    // Arrange: an appraisal is never on the list; work naming no listed item is outside it
    const org = await bed.seedOrg();
    const p = await parties(org);

    // Act
    const outcomes = await bed.withWorker(async (queue) => {
      const ends = [];
      for (const data of [
        { title: '文明社区创建评比', description: pushed.description, otherKind: '检查考核评比' },
        { ...pushed, items: [] },
      ]) {
        const kase = await bed.startCase(queue, shipped(), org.community.id, {
          ...data,
          requestingUnit: p.departmentId,
        });
        const review = kase.taskId('county_review');
        const task = await kase.waitForTask('the county review', review, () => true);
        await kase.claim(review, p.countyLeader);
        await kase.complete(review, p.countyLeader, 'refuse', {
          opinion: '不在社区工作事项准入清单内',
        });
        const result = (await kase.handle.result()) as CaseStateView;
        ends.push({ task, result, doc: await kase.doc() });
      }
      return ends;
    });

    // Assert
    for (const outcome of outcomes) {
      expect(outcome.task.candidates.map((c) => c.personId)).toEqual([p.countyLeader.personId]);
      expect(outcome.result.status).toBe('rejected');
      expect(stepsEntered(outcome.doc.timeline)).toEqual([
        'screen',
        'county_review',
        'refused',
        'refused_wall',
        'rejected',
      ]);
    }
    expect(await mailsOf(p.officer, '不予准入告知')).toHaveLength(2);
    expect(await mailsOf(p.streetLeader)).toHaveLength(0);
  });

  it('when the street does not decide within 3 working days, then its party secretary is escalated to, and one working day later the county’s 分管领导', async () => {
    // Arrange: a quiet week; the item is pushed on Monday at 10:00
    const org = await bed.seedOrg();
    const p = await parties(org);
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 10:00`).getTime();
    const thursday = beijingText(mondayAt + 3 * DAY).slice(0, 10);
    const friday = beijingText(mondayAt + 4 * DAY).slice(0, 10);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const kase = await bed.startCase(queue, shipped(), org.community.id, {
        ...pushed,
        requestingUnit: p.departmentId,
      });
      const review = kase.taskId('street_review');
      const task = await kase.waitForTask('the street review', review, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(bj(`${thursday} 10:01`));
      const [level1] = await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
      const [reminded] = await kase.waitForEvents('deadline.reminded', 1);
      const beforeLevel2 = await mailsOf(p.countyLeader, SUBJECT.escalated);
      await bed.skipTo(bj(`${friday} 10:01`));
      const [level2] = await kase.waitForEvents('deadline.escalated', 1, { level: 2 });
      return { kase, task, level1, reminded, beforeLevel2, level2 };
    });

    // Assert
    const due = outcome.task.deadlines.find((d) => d.key.endsWith('/review_3d'))!;
    expect(beijingText(due.dueAt!)).toBe(`${thursday} 10:00`);
    expectFiredAt(outcome.reminded!.at, bj(`${thursday} 06:00`).getTime());
    expect(await mailsOf(p.streetLeader, SUBJECT.reminder)).toHaveLength(1);
    expectFiredAt(outcome.level1!.at, bj(`${thursday} 10:00`).getTime());
    expect(outcome.level1!.detail).toMatchObject({ deadline: 'review_3d', unitId: org.street.id });
    expect(outcome.beforeLevel2).toHaveLength(0);
    expectFiredAt(outcome.level2!.at, bj(`${friday} 10:00`).getTime());
    expect(outcome.level2!.detail).toMatchObject({ deadline: 'review_3d', unitId: org.county.id });
    const [toSecretary] = await mailsOf(org.streetSecretary, SUBJECT.escalated);
    expect(toSecretary?.subject).toContain('第 1 级督办');
    const [toCounty] = await mailsOf(p.countyLeader, SUBJECT.escalated);
    expect(toCounty?.subject).toContain('第 2 级督办');
    const outbox = await bed.db.models.Outbox.find({
      caseId: outcome.kase.caseId,
      template: 'task-escalated',
    }).lean();
    expect(outbox.map((m) => m.to).sort()).toEqual(
      [org.streetSecretary.email, p.countyLeader.email].sort(),
    );
  });

  it('when the street checks several listed items and refuses one, then the case closes admitted with the refused item recorded, and a refusal of all ends rejected', async () => {
    // Arrange: one statutory and one assisted item pushed together
    const org = await bed.seedOrg();
    const p = await parties(org);
    const items = ['依法履职·人民调解', '协办·社会救助对象初审'];

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const ends = [];
      for (const [decision, form] of [
        ['partial', { opinion: '社会救助初审未随事转费', refusedItems: ['协办·社会救助对象初审'] }],
        ['refuse', { opinion: '均未随事转费' }],
      ] as const) {
        const kase = await bed.startCase(queue, shipped(), org.community.id, {
          ...pushed,
          items,
          requestingUnit: p.departmentId,
        });
        const review = kase.taskId('street_review');
        await kase.waitForTask('the street review', review, () => true);
        await kase.claim(review, p.streetLeader);
        await kase.handle.executeUpdate(CASE_UPDATES.complete, {
          args: [
            {
              taskId: review,
              actor: actor(p.streetLeader),
              outcome: decision,
              form,
              comment: '逐项审核意见',
            },
          ],
        });
        const doc = await kase.waitForDoc('the case closed', (d) => d.status !== 'open');
        ends.push(doc);
      }
      return ends;
    });

    // Assert: the partial admission closes as admitted, the refused item published as such
    const [partial, refused] = outcome;
    expect(partial!.status).toBe('closed');
    expect(stepsEntered(partial!.timeline)).toEqual([
      'screen',
      'street_review',
      'admitted',
      'admitted_wall',
      'closed',
    ]);
    expect(eventsOf(partial!.timeline, 'task.completed')[0]?.detail).toMatchObject({
      outcome: 'partial',
    });
    expect(partial!.publication?.outcome).toBe('部分准入');
    expect(partial!.publication?.fields).toEqual([
      { label: '事项名称', value: pushed.title },
      { label: '准入清单事项（可多选）', value: '依法履职·人民调解、协办·社会救助对象初审' },
      { label: '不予准入的事项（逐项）', value: '协办·社会救助对象初审' },
    ]);
    expect(refused!.status).toBe('rejected');
    expect(stepsEntered(refused!.timeline)).toEqual([
      'screen',
      'street_review',
      'refused',
      'refused_wall',
      'rejected',
    ]);
    expect(refused!.publication?.outcome).toBe('不予准入');
  });
});

describe('社区工作准入审核 measures (接单率, 响应率, 办结率, 按期办结率…)', () => {
  it('when known pushes run (admitted, refused and partly admitted by the street, decided after review_3d, admitted and refused by the county), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange: a quiet week
    const org = await bed.seedOrg();
    const p = await parties(org);
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 10:00`).getTime();
    const offList = {
      title: '文明社区创建评比',
      description: pushed.description,
      otherKind: '检查考核评比',
    };

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
      const cases: Kase[] = [];
      const start = (data: Record<string, unknown> = pushed) =>
        bed.startCase(queue, shipped(), org.community.id, {
          ...data,
          requestingUnit: p.departmentId,
        });
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const decided = async (
        kase: Kase,
        stepId: string,
        by: SeededPerson,
        outcome: string,
        form: Record<string, unknown> = {},
      ) => {
        const taskId = kase.taskId(stepId);
        await kase.waitForTask(`the ${stepId} task`, taskId, () => true);
        await kase.claim(taskId, by);
        // 部分准入, 不予准入 and 特批准入 require a comment
        await kase.handle.executeUpdate(CASE_UPDATES.complete, {
          args: [
            {
              taskId,
              actor: actor(by),
              outcome,
              form: { opinion: '意见', ...form },
              comment: '已说明',
            },
          ],
        });
        cases.push(kase);
        return closed(kase);
      };

      // 4. the street decides after review_3d passed
      const late = await start();
      await late.waitForTask('the street review', late.taskId('street_review'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      const docs = [
        // 1. admitted by the street; 2. refused (不予准入: rejected, in no denominator);
        // 3. partly admitted (closes admitted)
        await decided(await start(), 'street_review', p.streetLeader, 'admit'),
        await decided(await start(), 'street_review', p.streetLeader, 'refuse'),
        await decided(await start(), 'street_review', p.streetLeader, 'partial', {
          refusedItems: ['协办·高龄津贴资格核查'],
        }),
        // 5. off the list: admitted by the county; 6. refused by the county
        await decided(await start(offList), 'county_review', p.countyLeader, 'admit'),
        await decided(await start(offList), 'county_review', p.countyLeader, 'refuse'),
      ];
      // Thursday 11:00: review_3d has passed
      await bed.skipTo(mondayAt + 3 * DAY + 3600_000);
      await late.waitForEvents('deadline.escalated', 1, { deadline: 'review_3d' });
      docs.splice(3, 0, await decided(late, 'street_review', p.streetLeader, 'admit'));
      cases.splice(3, 0, cases.pop()!);
      return { docs, cases };
    });

    // Assert: the flags each push carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'rejected',
      'closed',
      'closed',
      'closed',
      'rejected',
    ]);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [1, 0, 0, 0],
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 0, 0, 0],
      [1, 0, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 1],
      [0, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.rejected, m.ratingInvited, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 0, 0],
      [1, 0, 0, 0],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 1, // 3 taken of 3 at the street (the county's pushes never reach street_review)
      responseRate: 0.6667, // 2 decided before review_3d passed
      completionRate: 1, // 4 admitted of 4 due (the 2 refused are in no denominator)
      resolutionRate: 1, // no `resolved` declared: a case closed admitted is resolved
      onTimeRate: 0.75, // 3 of 4 within their limit (review_3d is also the street's 办结时限)
      satisfactionRate: null, // nobody is asked to rate
      participationRate: null,
      visitRate: 0, // 0 rated of 4 completed
      disputeResolutionRate: null,
      supervisionRate: 0.3333, // 1 escalated of 3 at the street
      returnRate: 0,
      overdueRate: 0.25, // 1 overdue of 4 received and not refused
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = shipped().spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

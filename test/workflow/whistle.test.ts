import { randomBytes } from 'node:crypto';
import { figuresOf } from '../../services/metrics';
import type { CaseStateView } from '../../workflows/projection';
import type { SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import {
  claimAndComplete,
  eventsOf,
  openedTask,
  plusDays,
  stepsEntered,
  useSlaTestBed,
} from '../support/sla-cases';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { bj } from '../support/beijing';
import { uniqueAddress } from '../support/harness';

/**
 * The shipped 吹哨报到 processes (definitions/whistle-call.yaml and whistle-department.yaml): a
 * street calls several departments at once, each gets a case of its own with its own report-in
 * and completion deadlines, and a department that does not report in is escalated to its
 * director, then to the calling street's leader.
 */
let bed: SlaTestBed;
let org: SeededOrg;

useSlaTestBed('whistle', (ready) => {
  bed = ready;
});

beforeAll(async () => {
  org = await bed.seedOrg();
});

interface Department {
  id: string;
  officer: SeededPerson;
  director: SeededPerson;
}

/** A department under the org's street with an officer and a director, each with an account. */
async function department(label: string): Promise<Department> {
  const tag = randomBytes(3).toString('hex');
  const unit = await bed.addUnit(
    'department',
    `${label}${tag}`,
    org.street,
    `dept-${label}-${tag}`,
  );
  const staff = (role: string) => bed.addPerson(role, `${label}${role}`, [[unit, role]]);
  return { id: unit.id, officer: await staff('officer'), director: await staff('director') };
}

/** A street post for one of the org's people (the seeded org has no dispatcher or leader). */
function streetPost(person: SeededPerson, role: string): Promise<void> {
  return bed.addPost(person, org.street, role);
}

const whistle = {
  title: '占道经营',
  category: '环境治理',
  description: '路口早市占道，堵塞消防通道',
  location: '幸福路口',
};

describe('吹哨报到 (whistle-call → whistle-department)', () => {
  it('when two departments are called, then each reports in its own case, the street verifies and the reporter rates', async () => {
    // Arrange
    const call = await bed.shippedWith('whistle-call.yaml', 'whistle-department.yaml');
    const lead = await department('城管');
    const assist = await department('市场监管');
    await streetPost(org.streetDirector, 'dispatcher');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, call, org.street.id, {
        ...whistle,
        departments: [lead.id, assist.id],
      });
      const started = await kase.waitForEvents('subprocess.started', 2);
      const children = started.map((e) => bed.childCase(String(e.detail?.caseId)));
      for (const [child, dept] of [
        [children[0]!, lead],
        [children[1]!, assist],
      ] as const) {
        const report = child.taskId('report');
        await child.waitForTask('the department task', report, () => true);
        await child.claim(report, dept.officer);
        await child.complete(report, dept.officer, 'resolved', { result: '已清理占道摊点' });
      }
      const verify = kase.taskId('verify');
      await kase.waitForTask('the verification task', verify, () => true);
      await kase.claim(verify, org.streetDirector);
      await kase.complete(verify, org.streetDirector, 'pass', { finding: '现场已恢复通行' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(4);
      const result = (await kase.handle.result()) as CaseStateView;
      const childDocs = await Promise.all(
        children.map((c) => bed.db.models.Case.findById(c.caseId).lean()),
      );
      return { result, doc: await kase.doc(), childDocs };
    });

    // Assert
    expect(outcome.result.status).toBe('closed');
    const children = outcome.childDocs.map((d) => {
      const data = d?.data as { lead?: boolean } | undefined;
      return [d?.unitId, d?.status, data?.lead];
    });
    expect(children).toEqual([
      [lead.id, 'closed', true],
      [assist.id, 'closed', false],
    ]);
    expect(outcome.childDocs.every((d) => d?.parentCaseId !== null)).toBe(true);
    expect(eventsOf(outcome.doc.timeline, 'subprocess.ended')).toHaveLength(2);
  });

  it('when a department does not report in within 30 minutes, then its director is called, and 30 minutes later the street leader', async () => {
    // Arrange
    const call = await bed.shippedWith('whistle-call.yaml', 'whistle-department.yaml');
    const dept = await department('住建');
    await streetPost(org.streetSecretary, 'leader');

    // Act
    const escalated = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, call, org.street.id, {
        ...whistle,
        departments: [dept.id],
      });
      const [started] = await kase.waitForEvents('subprocess.started', 1);
      const child = bed.childCase(String(started!.detail?.caseId));
      const report = child.taskId('report');
      const task = await child.waitForTask('the department task', report, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(task.openedAt.getTime() + 31 * 60_000);
      await child.waitForEvents('deadline.escalated', 1, { deadline: 'report_in', level: 1 });
      await bed.skipTo(task.openedAt.getTime() + 61 * 60_000);
      return child.waitForEvents('deadline.escalated', 2, { deadline: 'report_in' });
    });

    // Assert: level 1 in the department itself, level 2 in the calling street
    expect(escalated.map((e) => [e.detail?.level, e.detail?.unitId])).toEqual([
      [1, dept.id],
      [2, org.street.id],
    ]);
    const mails = await bed.db.models.Outbox.find({ template: 'task-escalated' }).lean();
    expect(mails.map((m) => m.to)).toEqual(
      expect.arrayContaining([dept.director.email, org.streetSecretary.email]),
    );
  });
});

describe('部门报到 answered 非本部门职责 (whistle-department)', () => {
  it('when a called department answers 非本部门职责, then the calling street centre arbitrates, the ruled department handles it, and the case counts as arbitrated', async () => {
    // Arrange
    const wrong = await department('urban');
    const right = await department('housing');
    const centre = await bed.addPerson('centre', '街道中心派单员', [[org.street, 'dispatcher']]);
    const process = await bed.shippedWith('whistle-department.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, process, wrong.id, {
        title: whistle.title,
        description: whistle.description,
        location: whistle.location,
        lead: true,
        caller: org.community.id,
      });
      const report = await openedTask(kase, 'report');
      await claimAndComplete(
        kase,
        report.id,
        wrong.officer,
        'not_ours',
        { result: '占道维修不属城管' },
        '属住建职责',
      );
      const arbitrate = await openedTask(kase, 'arbitrate');
      await claimAndComplete(kase, arbitrate.id, centre, 'redispatch', {
        ruling: '裁定住建承办',
        department: right.id,
      });
      const ruled = await openedTask(kase, 'arbitrated_handle');
      await claimAndComplete(kase, ruled.id, right.officer, 'resolved', { result: '已处理' });
      const result = (await kase.handle.result()) as CaseStateView;
      return { result, arbitrate, ruled, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.result.status).toBe('closed');
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'report',
      'arbitrate',
      'arbitrated_handle',
      'done',
    ]);
    // The street's dispatchers (the seeded one and the centre's): the caller's street, not the department's.
    expect(outcome.arbitrate.candidates.map((c) => c.personId)).toContain(centre.personId);
    expect(outcome.arbitrate.candidates.map((c) => c.unitId)).toEqual(
      outcome.arbitrate.candidates.map(() => org.street.id),
    );
    expect(outcome.ruled.candidates.map((c) => c.personId)).toEqual([right.officer.personId]);
    expect(eventsOf(outcome.doc.timeline, 'case.arbitrated')).toHaveLength(1);
    expect(
      (outcome.doc as unknown as { metrics: { arbitrated?: number } }).metrics.arbitrated,
    ).toBe(1);
  });
});

describe('部门报到 measures (接单率, 响应率, 办结率, 解决率…)', () => {
  it('when known department cases run (sent back after arbitration, resolved, partly solved, reported in late but done on time, ruled to another unit), then every declared rate comes out exactly', async () => {
    // Arrange: two departments under the street and the street centre that arbitrates
    const urban = await department('urbanm');
    const housing = await department('housingm');
    const centre = await bed.addPerson('centre-m', '街道中心仲裁员', [[org.street, 'dispatcher']]);
    const process = await bed.shippedWith('whistle-department.yaml');
    const data = {
      title: whistle.title,
      description: whistle.description,
      location: whistle.location,
      lead: true,
      caller: org.community.id,
    };

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
      // Every case started, in order, for the replay
      const cases: Kase[] = [];
      const start = async () => {
        const kase = await bed.startCase(queue, process, urban.id, data);
        cases.push(kase);
        return kase;
      };
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const report = async (kase: Kase, outcome: string) => {
        const task = await openedTask(kase, 'report');
        await claimAndComplete(kase, task.id, urban.officer, outcome, { result: '已处理' }, '说明');
      };
      const arbitrated = async (outcome: 'close' | 'redispatch') => {
        const kase = await start();
        await report(kase, 'not_ours');
        const arbitrate = await openedTask(kase, 'arbitrate');
        await claimAndComplete(
          kase,
          arbitrate.id,
          centre,
          outcome,
          { ruling: '仲裁', ...(outcome === 'redispatch' ? { department: housing.id } : {}) },
          '退回吹哨单位',
        );
        if (outcome === 'redispatch') {
          const ruled = await openedTask(kase, 'arbitrated_handle');
          await claimAndComplete(kase, ruled.id, housing.officer, 'resolved', { result: '已处理' });
        }
        return closed(kase);
      };
      const reported = async (outcome: string) => {
        const kase = await start();
        await report(kase, outcome);
        return closed(kase);
      };

      // 1. 非本部门职责, sent back to the caller by the centre; 2. resolved; 3. 部分解决
      const done = [
        await arbitrated('close'),
        await reported('resolved'),
        await reported('partly'),
      ];
      // 4. reported in after the 30 minutes (report_in missed, the director called), done in time
      const late = await start();
      await openedTask(late, 'report');
      await bed.skipTo((await bed.now()) + 31 * 60_000);
      await late.waitForEvents('deadline.escalated', 1, { deadline: 'report_in' });
      await report(late, 'resolved');
      done.push(await closed(late));
      // 5. 非本部门职责, ruled to housing, which resolves it
      done.push(await arbitrated('redispatch'));
      return { docs: done, cases };
    });

    // Assert: the flags each case carries
    const metrics = outcome.docs.map(flagsOf);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 0, 0, 0],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 1, 1, 1],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [0, 0, 0, 0, 0],
      [1, 1, 1, 0, 1],
      [1, 1, 0, 1, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
    ]);
    expect(metrics.map((m) => [m.escalated, m.overdue, m.arbitrated])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
      [1, 1, 0],
      [0, 0, 1],
    ]);
    // The rates, summed as the metrics service sums them
    const sums = summedFlags(metrics);
    expect(figuresOf(sums).rates).toEqual({
      acceptanceRate: 1, // 4 reported in of 4 dispatched (the case sent back is in none)
      responseRate: 0.75, // 3 before report_in passed
      completionRate: 1, // 4 completed of 4 due, the ruled unit's handling included
      resolutionRate: 0.75, // 部分解决 is 办结, not 解决
      onTimeRate: 1, // the late report-in still done within handle
      satisfactionRate: null, // no rating step: the caller's whistle case asks for the rating
      participationRate: null,
      visitRate: 0,
      disputeResolutionRate: null,
      supervisionRate: 0.25, // the late report-in escalated to the director
      returnRate: 0,
      overdueRate: 0.25,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, process.spec.measures)).toEqual(metrics[i]);
    }
  });
});

describe('吹哨报到 measures of the call (whistle-call)', () => {
  it('when known whistles run (rated 5, rated 2, verified 重新吹哨 then passed and not rated, verified after verify_2d but within overall, done after overall, never done), then every declared rate comes out exactly, also after a replay', async () => {
    // Arrange: a department under the street; the street's dispatcher verifies, its leader hears
    // of a whistle past its overall limit; a quiet week so the working-day clocks are plain
    const call = await bed.shippedWith('whistle-call.yaml', 'whistle-department.yaml');
    const dept = await department('城管r');
    const verifier = await bed.addPerson('dispatcher-r', '街道派单员', [
      [org.street, 'dispatcher'],
    ]);
    await bed.addPerson('leader-r', '街道分管领导', [[org.street, 'leader']]);
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:00`));
      type Kase = Awaited<ReturnType<SlaTestBed['startCase']>>;
      const start = () =>
        bed.startCase(queue, call, org.street.id, {
          ...whistle,
          departments: [dept.id],
          reporterEmail: uniqueAddress('reporter'),
        });
      const closed = (kase: Kase) => kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      /** The department's `visit`-th case of the call resolves the matter. */
      const departmentDone = async (kase: Kase, visit = 1) => {
        const started = await kase.waitForEvents('subprocess.started', visit);
        const child = bed.childCase(String(started[visit - 1]!.detail?.caseId));
        const report = await openedTask(child, 'report');
        await claimAndComplete(child, report.id, dept.officer, 'resolved', { result: '已清理' });
      };
      const verified = async (kase: Kase, outcome: 'pass' | 'redo', visit = 1) => {
        const verify = await openedTask(kase, 'verify', visit);
        await claimAndComplete(kase, verify.id, verifier, outcome, { finding: '核查' }, '重新吹哨');
      };
      const rated = async (kase: Kase, score: number) => {
        await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
        await kase.rate(score);
        return closed(kase);
      };

      // 1. done and verified at once, rated 5; 2. the same, rated 2 (不满意; the call has no
      // reopen after a rating: the feedback step's score closes it)
      const satisfied = await start();
      await departmentDone(satisfied);
      await verified(satisfied, 'pass');
      const unsatisfied = await start();
      await departmentDone(unsatisfied);
      await verified(unsatisfied, 'pass');
      const done = [await rated(satisfied, 5), await rated(unsatisfied, 2)];
      // 3. 重新吹哨 at the first verification, passed at the second; the reporter never rates
      const redone = await start();
      await departmentDone(redone);
      await verified(redone, 'redo');
      await departmentDone(redone, 2);
      await verified(redone, 'pass', 2);
      await redone.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      // 4. the department done at once, the verification left until verify_2d passed
      const verifiedLate = await start();
      await departmentDone(verifiedLate);
      await openedTask(verifiedLate, 'verify');
      // 5. the department done only after overall passed; 6. the department never acts
      const doneLate = await start();
      const neverDone = await start();
      await neverDone.waitForEvents('subprocess.started', 1);

      // Wednesday 10:00: verify_2d (2 working days) has passed, overall (5) has not
      await bed.skipTo(bj(`${plusDays(monday, 2)} 10:00`));
      await verifiedLate.waitForEvents('deadline.escalated', 1, { deadline: 'verify_2d' });
      await verified(verifiedLate, 'pass');
      done.push(await rated(verifiedLate, 4));
      // Next Monday 10:00: overall passed for the open whistles, the reporter's 3 days for redone
      await bed.skipTo(bj(`${plusDays(monday, 7)} 10:00`));
      done.splice(2, 0, await closed(redone));
      await doneLate.waitForEvents('deadline.escalated', 1, { deadline: 'overall' });
      await neverDone.waitForEvents('deadline.escalated', 1, { deadline: 'overall' });
      await departmentDone(doneLate);
      await verified(doneLate, 'pass');
      done.push(await rated(doneLate, 5), await neverDone.doc());
      const cases = [satisfied, unsatisfied, redone, verifiedLate, doneLate, neverDone];
      return { docs: done, cases };
    });

    // Assert: the flags each whistle carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'closed',
      'closed',
      'closed',
      'open',
    ]);
    // No acceptance declared: every whistle is dispatched when received, and the first human
    // action on its own tasks (the street's verification) is the acceptance
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 1, 1, 0],
      [0, 1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(
      metrics.map((m) => [
        m.ratingInvited,
        m.rated,
        m.satisfied,
        m.ratingMissing,
        m.escalated,
        m.overdue,
        m.returnedCase,
      ]),
    ).toEqual([
      [1, 1, 1, 0, 0, 0, 0],
      [1, 1, 0, 0, 0, 0, 0],
      [1, 0, 0, 1, 0, 0, 0],
      [1, 1, 1, 0, 1, 1, 0],
      [1, 1, 1, 0, 1, 1, 0],
      [0, 0, 0, 0, 1, 1, 0],
    ]);
    // The rates, summed as the metrics service sums them. The call has no 不予受理 and no
    // 解释说明 outcome (a department's 非本部门职责 and 部分解决 are counted on its own case), so
    // excluded and explained cannot be reached by any path; 重新吹哨 loops back, it is not 退单.
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.8333, // 5 verified of 6 called
      responseRate: 0.5, // 3 verified before any deadline of the call passed (verify_2d, overall)
      completionRate: 0.8333, // 5 passed of 6 due (the one never done is past overall)
      resolutionRate: 0.8333, // 核查通过 is 解决, nothing is 解释说明: 5 of 6 due
      onTimeRate: 0.8, // 4 of 5 within overall; the late verification still counts as on time
      satisfactionRate: 0.75, // 5, 4, 5 satisfied; 2 not
      participationRate: 0.8, // 4 rated of 5 asked
      visitRate: 0.8, // 4 rated of 5 completed
      disputeResolutionRate: null,
      supervisionRate: 0.5, // the late verification and the two past overall escalated
      returnRate: 0,
      overdueRate: 0.5, // 3 overdue of 6 received
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = call.spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { createMailRenderer } from '../../mail/renderer';
import { createDefinitionService } from '../../services/definitions';
import { AppError } from '../../services/errors';
import { createEvaluationService } from '../../services/evaluations';
import { figuresOf } from '../../services/metrics';
import { createScopeResolver } from '../../services/scope';
import type { CaseStateView } from '../../workflows/projection';
import { beijingText } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import type { RunningCase, SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import { claimAndComplete, eventsOf, openedTask, useSlaTestBed } from '../support/sla-cases';

/**
 * The shipped 条块考核 (definitions/department-assessment.yaml) on the time-skipping server: two
 * county departments answer the street's whistles (whistle-call → whistle-department) and grid
 * events (grid-event); one reports in late, the other's whistle is rated unsatisfied. The street's
 * assessment sums each department's figures, weighs them into a score, the street's secretary
 * vetoes one department with a reason, and the annual assessment records carry the figures, the
 * street's 30% and the veto. A review left past its 10 working days is escalated to the county.
 */
let bed: SlaTestBed;

useSlaTestBed('department-assessment', (ready) => {
  bed = ready;
});

interface Department {
  id: string;
  officer: SeededPerson;
}

/** A county department (not under the street) with an officer holding an account. */
async function department(org: SeededOrg, label: string): Promise<Department> {
  const tag = randomBytes(3).toString('hex');
  const unit = await bed.addUnit('department', `${label}${tag}`, org.county, `dept-${tag}`);
  return {
    id: unit.id,
    officer: await bed.addPerson('officer', `${label}科员`, [[unit, 'officer']]),
  };
}

const whistle = {
  title: '占道经营',
  category: '环境治理',
  description: '路口早市占道，堵塞消防通道',
  location: '幸福路口',
};

/** The Beijing calendar date of an instant (YYYY-MM-DD). */
const dateOf = (instant: number) => beijingText(instant).slice(0, 10);

const DAY = 24 * 3600_000;

describe('条块考核 (department-assessment)', () => {
  it('when one department reported in late and another was rated unsatisfied, then each gets its figures and score, and the veto fails the vetoed one', async () => {
    // Arrange
    const org = await bed.seedOrg();
    await bed.addPost(org.streetDirector, org.street, 'dispatcher');
    const late = await department(org, '城管局');
    const unsatisfied = await department(org, '住建局');
    const call = await bed.shippedWith('whistle-call.yaml', 'whistle-department.yaml');
    const gridEvent = bed.shipped('grid-event.yaml');
    const assessment = bed.shipped('department-assessment.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      /** A whistle calling one department, answered (after `delayMs`), verified and rated. */
      const answerWhistle = async (dept: Department, delayMs: number, rating: number) => {
        const kase = await bed.startCase(queue, call, org.street.id, {
          ...whistle,
          departments: [dept.id],
        });
        const [started] = await kase.waitForEvents('subprocess.started', 1);
        const child = bed.childCase(String(started!.detail?.caseId));
        const report = await openedTask(child, 'report');
        if (delayMs > 0) await bed.skipTo(report.openedAt.getTime() + delayMs);
        await claimAndComplete(child, report.id, dept.officer, 'resolved', { result: '已清理' });
        await closed(child);
        const verify = await openedTask(kase, 'verify');
        await claimAndComplete(kase, verify.id, org.streetDirector, 'pass', { finding: '已恢复' });
        await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
        await kase.rate(rating);
        await closed(kase);
      };
      /** A grid event the street's centre sends to a department, handled and verified. */
      const handleGridEvent = async (dept: Department) => {
        const kase = await bed.startCase(queue, gridEvent, org.grid.id, {
          category: '市政设施',
          description: '井盖缺失',
          location: '幸福路 3 号',
        });
        const collect = await openedTask(kase, 'collect');
        await claimAndComplete(kase, collect.id, org.streetDirector, 'to_department', {
          opinion: '交部门',
          department: dept.id,
        });
        const handle = await openedTask(kase, 'department_handle');
        await claimAndComplete(kase, handle.id, dept.officer, 'resolved', { result: '已补装' });
        const verify = await openedTask(kase, 'verify');
        await claimAndComplete(kase, verify.id, org.streetDirector, 'pass', { finding: '已核查' });
        await closed(kase);
      };
      await answerWhistle(late, 31 * 60_000, 5); // reported in after its 30 minutes
      await answerWhistle(unsatisfied, 0, 2); // in time, rated 2: not satisfied
      await handleGridEvent(late);
      await handleGridEvent(unsatisfied);

      const now = await bed.now();
      const kase = await bed.startCase(queue, assessment, org.street.id, {
        periodFrom: dateOf(now - DAY),
        periodTo: dateOf(now + DAY),
      });
      const [computed] = await kase.waitForEvents('assessment.computed', 1);
      const review = await openedTask(kase, 'assess');
      await kase.claim(review.id, org.streetSecretary);
      const refusal = await completeReview(kase, review.id, org.streetSecretary, {
        vetoed: [unsatisfied.id],
      }).catch((err: unknown) => err);
      await completeReview(kase, review.id, org.streetSecretary, {
        vetoed: [unsatisfied.id],
        vetoReasons: ['拒不整改，造成重大影响'],
      });
      const result = (await kase.handle.result()) as CaseStateView;
      const records = await bed.db.models.AssessmentRecord.find({ roundId: kase.caseId })
        .sort({ _id: 1 })
        .lean();
      return { computed, review, refusal, result, records, doc: await kase.doc() };
    });

    // Assert: both departments' two cases each, found through the street's calls and grid
    expect(outcome.computed?.detail).toEqual({ cases: 4, departments: 2 });
    expect(outcome.review.candidates.map((c) => c.personId)).toEqual([
      org.streetSecretary.personId,
    ]);
    // A veto without its reason is refused, naming the field
    expect(outcome.refusal).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((outcome.refusal as Error).cause)).toContain('The vetoes are not valid');
    expect(outcome.result.status).toBe('closed');
    const byDepartment = new Map(outcome.records.map((r) => [r.subjectId, r]));
    // 城管局: 响应率 1/2 (the whistle late, the grid event in time), 办结率 2/2, 按期办结率 2/2,
    // 满意率 1/1 (the whistle rated 5): 0.5×30 + 1×30 + 1×20 + 1×20 = 85, × 30% = 25.5
    expect(byDepartment.get(late.id)).toMatchObject({
      kind: 'department',
      roundUnitId: org.street.id,
      items: 2,
      score: 85,
      weight: 30,
      weightedScore: 25.5,
      rates: {
        responseRate: 0.5,
        acceptanceRate: 1,
        completionRate: 1,
        resolutionRate: 1,
        onTimeRate: 1,
        satisfactionRate: 1,
      },
    });
    expect(byDepartment.get(late.id)?.veto ?? null).toBeNull();
    // 住建局: everything in time but rated 2: 30 + 30 + 20 + 0 = 80; vetoed, so it adds 0
    expect(byDepartment.get(unsatisfied.id)).toMatchObject({
      items: 2,
      score: 80,
      weight: 30,
      weightedScore: 0,
      rates: { responseRate: 1, completionRate: 1, onTimeRate: 1, satisfactionRate: 0 },
      veto: { reason: '拒不整改，造成重大影响', by: org.streetSecretary.personId },
    });
    expect(eventsOf(outcome.doc.timeline, 'assessment.recorded')[0]?.detail).toEqual({
      departments: 2,
      vetoed: 1,
    });
    // GET /api/v1/assessments (the service behind it) and its CSV: the street's part, the veto
    const evaluations = createEvaluationService({
      models: bed.db.models,
      temporal: bed.env.client,
      callTimeoutMs: 10_000,
      scope: createScopeResolver(bed.db.models),
    });
    const admin = {
      kind: 'user' as const,
      id: 'usr-admin',
      roles: ['admin' as const],
      unitIds: [],
    };
    const listed = await evaluations.assessments(admin, {
      kind: 'department',
      subjectId: unsatisfied.id,
      page: 1,
      pageSize: 10,
    });
    expect(listed.items.map((r) => [r.kind, r.score, r.weight, r.weightedScore, r.veto])).toEqual([
      [
        'department',
        80,
        30,
        0,
        { reason: '拒不整改，造成重大影响', by: org.streetSecretary.personId },
      ],
    ]);
    const csv = evaluations.assessmentsCsv(listed.items).split('\r\n');
    expect(csv[0]).toContain('综合得分,街道权重(%),计入年度得分,一票否决,否决理由');
    expect(csv[1]).toContain('80.00,30,0.00,是,拒不整改，造成重大影响');
  });

  it('when the street’s secretary leaves the review past its 10 working days, then the county’s secretary is called, and a late confirmation still records it (not on time)', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const countySecretary = await bed.addPerson('county-secretary', '县委书记', [
      [org.county, 'secretary'],
    ]);
    const assessment = bed.shipped('department-assessment.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const now = await bed.now();
      const kase = await bed.startCase(queue, assessment, org.street.id, {
        periodFrom: dateOf(now - DAY),
        periodTo: dateOf(now),
      });
      const review = await openedTask(kase, 'assess');
      const dueAt = Date.parse(String(review.deadlines[0]?.dueAt));
      await bed.skipTo(dueAt + 60_000);
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'review_10d',
        level: 1,
      });
      await kase.claim(review.id, org.streetSecretary);
      await completeReview(kase, review.id, org.streetSecretary, {});
      const result = (await kase.handle.result()) as CaseStateView;
      const stored = await bed.db.models.Case.findById(kase.caseId, { metrics: 1 }).lean();
      const metrics = stored?.metrics as Record<string, number> | null | undefined;
      return { review, dueAt, escalated, result, doc: await kase.doc(), metrics };
    });

    // Assert
    expect(outcome.dueAt - outcome.review.openedAt.getTime()).toBeGreaterThanOrEqual(14 * DAY);
    expect(outcome.escalated?.detail?.unitId).toBe(org.county.id);
    const mails = await bed.db.models.Outbox.find({
      template: 'task-escalated',
      to: countySecretary.email,
    }).lean();
    expect(mails).toHaveLength(1);
    expect(outcome.result.status).toBe('closed');
    expect(eventsOf(outcome.doc.timeline, 'assessment.recorded')[0]?.detail).toEqual({
      departments: 0,
      vetoed: 0,
    });
    // The measures: the assessment was completed, not within its 审定 deadline
    // (stored figures leave zeros out)
    expect(outcome.metrics).toMatchObject({ completed: 1, overdue: 1 });
    expect(outcome.metrics?.completedOnTime ?? 0).toBe(0);
  });
});

describe('条块考核 measures (its own case figures: 办结率, 按期办结率…)', () => {
  it('when known assessments run (confirmed at once, taken and confirmed after review_10d, taken at once but confirmed late, never reviewed), then every rate its measures give comes out exactly, on the read model and after a replay', async () => {
    // Arrange: assessments of an empty period (no department to score: the figures here are the
    // assessment case's own, not the departments')
    const org = await bed.seedOrg();
    await bed.addPerson('county-secretary', '县委书记', [[org.county, 'secretary']]);
    const assessment = bed.shipped('department-assessment.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const now = await bed.now();
      const start = () =>
        bed.startCase(queue, assessment, org.street.id, {
          periodFrom: dateOf(now - DAY),
          periodTo: dateOf(now),
        });
      // Read from the document: awaiting a workflow result would let the test server skip time.
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');
      const confirmAtOnce = async (kase: RunningCase, taskId: string) => {
        await kase.claim(taskId, org.streetSecretary);
        await completeReview(kase, taskId, org.streetSecretary, {});
      };
      const cases = [await start(), await start(), await start(), await start()];
      const [prompt, lateTaken, lateConfirmed, unreviewed] = cases as [
        RunningCase,
        RunningCase,
        RunningCase,
        RunningCase,
      ];
      const reviews = [];
      for (const kase of cases) reviews.push(await openedTask(kase, 'assess'));
      const [promptReview, lateTakenReview, lateConfirmedReview] = reviews;
      // 1. confirmed at once
      await confirmAtOnce(prompt, promptReview!.id);
      // 3. taken at once, confirmed after review_10d
      await lateConfirmed.claim(lateConfirmedReview!.id, org.streetSecretary);
      const docs = [await closed(prompt)];
      const lastDue = Math.max(...reviews.map((r) => Date.parse(String(r.deadlines[0]?.dueAt))));
      await bed.skipTo(lastDue + 60_000);
      for (const kase of [lateTaken, lateConfirmed, unreviewed]) {
        await kase.waitForEvents('deadline.missed', 1, { deadline: 'review_10d' });
      }
      // 2. taken and confirmed after review_10d
      await confirmAtOnce(lateTaken, lateTakenReview!.id);
      await completeReview(lateConfirmed, lateConfirmedReview!.id, org.streetSecretary, {});
      docs.push(await closed(lateTaken), await closed(lateConfirmed), await unreviewed.doc());
      return { cases, docs };
    });

    // Assert: the flags each assessment carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'closed', 'open']);
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 0],
      [0, 1, 1, 1],
      [0, 1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.escalated, m.overdue, m.ratingInvited, m.returnedCase])).toEqual([
      [0, 0, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
    ]);
    // The rates, summed as the metrics service sums them. The measures declare only the 办结时限:
    // every case is dispatched when received and the secretary's first action is the acceptance.
    // Unreachable here: 不予受理 (no rejected end), 解释说明 (no outcome but confirmed), a late
    // intermediate step (review_10d is the only deadline), a rating and its reopen (no feedback).
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.75, // 3 taken of 4
      responseRate: 0.5, // 2 taken before review_10d passed
      completionRate: 0.75, // 3 confirmed of 4 due (the unreviewed one is past review_10d)
      resolutionRate: 0.75, // confirmed `closed` is resolved: no explained outcome
      onTimeRate: 0.3333, // 1 of 3 confirmed within review_10d
      satisfactionRate: null, // nobody rates an assessment
      participationRate: null,
      visitRate: 0, // 0 rated of 3 completed
      disputeResolutionRate: null,
      supervisionRate: 0.75, // 3 escalated to the county's secretary at review_10d
      returnRate: 0, // a review cannot be sent back
      overdueRate: 0.75, // 3 past review_10d of 4 received
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, assessment.spec.measures)).toEqual(metrics[i]);
    }
  });
});

describe('publishing an assessment (条块考核)', () => {
  it('when it names a process that is not published, then publishing is refused naming it with its line', async () => {
    // Arrange: the shipped file, with the grid events misspelt
    const source = readFileSync(
      path.join(__dirname, '..', '..', 'definitions', 'department-assessment.yaml'),
      'utf8',
    ).replace('- grid-event #', '- grid-evnt #');
    const service = createDefinitionService(bed.db.models, createMailRenderer().templateNames);
    await service.publish({
      source: readFileSync(
        path.join(__dirname, '..', '..', 'definitions', 'whistle-department.yaml'),
        'utf8',
      ),
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'test' },
    });

    // Act
    const refusal = await service
      .publish({ source, format: 'yaml', publishedBy: { kind: 'system', id: 'test' } })
      .catch((err: unknown) => err);

    // Assert
    expect(refusal).toBeInstanceOf(AppError);
    expect((refusal as AppError).kind).toBe('unprocessable');
    expect((refusal as AppError).details).toEqual([
      expect.objectContaining({
        path: 'steps[0].cases.definitions[1]',
        message: 'unknown process "grid-evnt": publish it first, or name a published process',
        line: expect.any(Number) as number,
      }),
    ]);
    expect(await bed.db.models.Definition.exists({ key: 'department-assessment' })).toBeNull();
  });
});

/**
 * Waits until the case is closed and projected. Not `handle.result()`: waiting on a result lets
 * the time-skipping server skip ahead, and the cases must stay in the assessed period.
 */
async function closed(kase: RunningCase): Promise<void> {
  await kase.waitForDoc('the case closed', (d) => d.status === 'closed');
}

/** Completes the review (审定确认) with the form given. */
function completeReview(
  kase: RunningCase,
  taskId: string,
  person: SeededPerson,
  form: Record<string, unknown>,
): Promise<void> {
  return kase.complete(taskId, person, 'confirmed', form);
}

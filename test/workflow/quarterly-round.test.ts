import type { DefinitionSnapshot } from '../../lang/definition';
import type { CaseStateView } from '../../workflows/projection';
import type { RunningCase, SeededOrg, SlaTestBed } from '../support/sla-cases';
import { eventsOf, expectFiredAt, mailsOf, SUBJECT, useSlaTestBed } from '../support/sla-cases';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { figuresOf } from '../../services/metrics';

/**
 * The shipped 季度“三个一” processes (definitions/quarterly-round.yaml and
 * quarterly-community.yaml) on the time-skipping server: the quarter's round fans out over every
 * community of the unit it starts for; each community does one visit round, one ledger update
 * and one small project side by side, all due at the end of the quarter (the end of that day,
 * Beijing time); missed ones go to the street's party secretary; the round is reviewed at the end.
 */
let bed: SlaTestBed;

useSlaTestBed('quarterly-round', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;

/** The last day of the quarter a round started on `instant` covers: 3 months on, less a day. */
function quarterEnd(instant: number): string {
  const [y, m, d] = new Date(instant + 8 * 3600_000)
    .toISOString()
    .slice(0, 10)
    .split('-')
    .map(Number) as [number, number, number];
  const first = new Date(Date.UTC(y, m - 1 + 3, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  const sameDay = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(d, last));
  return new Date(sameDay - DAY).toISOString().slice(0, 10);
}

/** Starts the round for the org's street now, and finds the case it opened for the community. */
async function startRound(queue: string, round: DefinitionSnapshot, org: SeededOrg) {
  const startedAt = await bed.now();
  const kase = await bed.startCase(queue, round, org.street.id);
  const [started] = await kase.waitForEvents('subprocess.started', 1);
  return { startedAt, kase, child: bed.childCase(String(started!.detail?.caseId)) };
}

/** The three duties of a community's quarter: step, who does it, outcome, form. */
function duties(org: SeededOrg) {
  return [
    ['visit', org.director, 'visited', { households: 120, needs: 8, summary: '入户走访 120 户' }],
    ['ledger', org.gridWorker, 'updated', { updated: 120, special: 3 }],
    ['project', org.communitySecretary, 'done', { title: '楼道照明改造', beneficiaries: 200 }],
  ] as const;
}

/** The community does the duties of its quarter named by `steps` (all three by default). */
async function dutiesDone(
  kase: RunningCase,
  org: SeededOrg,
  steps: readonly string[] = ['visit', 'ledger', 'project'],
): Promise<void> {
  for (const [step, person, outcomeId, form] of duties(org)) {
    if (!steps.includes(step)) continue;
    const taskId = kase.taskId(step);
    await kase.waitForTask(`the ${step} task`, taskId, () => true);
    await kase.claim(taskId, person);
    await kase.complete(taskId, person, outcomeId, form);
  }
}

describe('季度“三个一” (quarterly-round → quarterly-community)', () => {
  it('when the community does all three, then its case closes and the round is reviewed', async () => {
    // Arrange
    const org = await bed.seedOrg();
    await bed.addPost(org.streetDirector, org.street, 'dispatcher');
    const round = await bed.shippedWith('quarterly-round.yaml', 'quarterly-community.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const { startedAt, kase, child } = await startRound(queue, round, org);
      await dutiesDone(child, org);
      const review = kase.taskId('review');
      await kase.waitForTask('the quarterly review', review, () => true);
      await kase.claim(review, org.streetDirector);
      await kase.complete(review, org.streetDirector, 'reported', {
        completed: 1,
        report: '1 个社区全部完成“三个一”',
      });
      const result = (await kase.handle.result()) as CaseStateView;
      const childDoc = await bed.db.models.Case.findById(child.caseId).lean();
      return { result, childDoc, startedAt };
    });

    // Assert
    expect(outcome.result.status).toBe('closed');
    expect(outcome.childDoc?.status).toBe('closed');
    expect(outcome.childDoc?.unitId).toBe(org.community.id);
    expect(outcome.childDoc?.data).toEqual({ quarterEnd: quarterEnd(outcome.startedAt) });
  });

  it('when the quarter ends with nothing done, then all three are missed at the end of its last day and the street secretary is told of each', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const round = await bed.shippedWith('quarterly-round.yaml', 'quarterly-community.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const { startedAt, child } = await startRound(queue, round, org);
      await child.waitForTask('the project task', child.taskId('project'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      const due = Date.parse(`${quarterEnd(startedAt)}T00:00:00+08:00`) + DAY;
      await bed.skipTo(due + 60_000);
      const escalated = await child.waitForEvents('deadline.escalated', 3, { level: 1 });
      return { due, escalated, doc: await child.doc() };
    });

    // Assert
    expect(outcome.escalated.map((e) => e.stepId).sort()).toEqual(['ledger', 'project', 'visit']);
    for (const event of outcome.escalated) {
      expectFiredAt(event.at, outcome.due);
      expect(event.detail?.unitId).toBe(org.street.id);
    }
    expect(eventsOf(outcome.doc.timeline, 'deadline.reminded')).toHaveLength(3);
    expect(await mailsOf(org.director, SUBJECT.reminder)).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(3);
  });
});

describe('季度“三个一”的考核指标 (quarterly-community and quarterly-round rates)', () => {
  it('when communities do all three in time, one after the quarter’s end, all three after it, or none, then each quarterly-community case carries its flags and the summed rates are exact, also after a replay', async () => {
    // Arrange: a quarter ending 20 days on
    const org = await bed.seedOrg();
    const community = bed.shipped('quarterly-community.yaml');
    const startedAt = await bed.now();
    const lastDay = new Date(startedAt + 20 * DAY + 8 * 3600_000).toISOString().slice(0, 10);
    const due = Date.parse(`${lastDay}T00:00:00+08:00`) + DAY;

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const start = () =>
        bed.startCase(queue, community, org.community.id, { quarterEnd: lastDay });
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the quarter closed', (d) => d.status !== 'open');
      // 1. all three at once
      const allInTime = await start();
      await dutiesDone(allInTime, org);
      const docs = [await closed(allInTime)];
      // 2. the visit and the project at once, the ledger after the quarter's end
      const ledgerLate = await start();
      await dutiesDone(ledgerLate, org, ['visit', 'project']);
      // 3. all three after the quarter's end; 4. none
      const allLate = await start();
      const none = await start();
      for (const kase of [allLate, none]) {
        await kase.waitForTask('the project task', kase.taskId('project'), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      }

      await bed.skipTo(due + 60_000);
      await ledgerLate.waitForEvents('deadline.escalated', 1, { level: 1 });
      await allLate.waitForEvents('deadline.escalated', 3, { level: 1 });
      await none.waitForEvents('deadline.escalated', 3, { level: 1 });
      await dutiesDone(ledgerLate, org, ['ledger']);
      await dutiesDone(allLate, org);
      docs.push(await closed(ledgerLate), await closed(allLate), await none.doc());
      return { docs, cases: [allInTime, ledgerLate, allLate, none] };
    });

    // Assert: the flags each community's quarter carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'closed', 'open']);
    // No acceptance declared: dispatched when received, accepted at the first claim, in time
    // when no deadline had passed by then
    expect(metrics.map((m) => [m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 0],
      [1, 0, 0],
    ]);
    // No outcomes declared: a quarter closed `closed` is 办结 and 解决; each duty's deadline is
    // by_quarter_end, so one late duty makes the quarter late
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [1, 1, 1, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.escalated, m.escalations, m.overdue, m.excluded])).toEqual([
      [0, 0, 0, 0],
      [1, 1, 1, 0],
      [1, 3, 1, 0],
      [1, 3, 1, 0],
    ]);
    // The rates, summed as the metrics service sums them. The quarter's duties have no 不予受理,
    // no 解释说明 and no rating step, and every deadline is by_quarter_end (no intermediate one):
    // excluded, explained and the rating figures cannot be reached by any path.
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.75, // 3 quarters somebody took on of 4
      responseRate: 0.5, // 2 taken on before by_quarter_end passed
      completionRate: 0.75, // 3 finished of 4 due (the untouched one is past the quarter's end)
      resolutionRate: 0.75,
      onTimeRate: 0.3333, // 1 of 3 finished with all three duties in time
      satisfactionRate: null,
      participationRate: null,
      visitRate: 0, // 0 rated of 3 completed: the formula has a denominator, no rating can come
      disputeResolutionRate: null,
      supervisionRate: 0.75, // 3 escalated to the street secretary of 4
      returnRate: 0,
      overdueRate: 0.75,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, community.spec.measures)).toEqual(metrics[i]);
    }
  });

  it('when rounds are reviewed at once, after review_5d, or wait for a community still at work, then each quarterly-round case carries its flags and the summed rates are exact, also after a replay', async () => {
    // Arrange: the street's dispatcher reviews, its leader hears of a late review
    const org = await bed.seedOrg();
    await bed.addPost(org.streetDirector, org.street, 'dispatcher');
    await bed.addPost(org.streetSecretary, org.street, 'leader');
    const round = await bed.shippedWith('quarterly-round.yaml', 'quarterly-community.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const review = async (kase: RunningCase) => {
        const taskId = kase.taskId('review');
        await kase.claim(taskId, org.streetDirector);
        await kase.complete(taskId, org.streetDirector, 'reported', {
          completed: 1,
          report: '1 个社区全部完成“三个一”',
        });
        return kase.waitForDoc('the round closed', (d) => d.status !== 'open');
      };
      const opened = (kase: RunningCase) =>
        kase.waitForTask('the quarterly review', kase.taskId('review'), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      // 1. the community does all three, the round is reviewed at once
      const reviewed = await startRound(queue, round, org);
      await dutiesDone(reviewed.child, org);
      await opened(reviewed.kase);
      const docs = [await review(reviewed.kase)];
      // 2. the community does all three, the review comes after review_5d
      const reviewedLate = await startRound(queue, round, org);
      await dutiesDone(reviewedLate.child, org);
      const task = await opened(reviewedLate.kase);
      // 3. the community is still at work: no review yet, the round within every limit
      const waiting = await startRound(queue, round, org);

      const reviewDue = Date.parse(task.deadlines[0]!.dueAt!);
      await bed.skipTo(reviewDue + 60_000);
      await reviewedLate.kase.waitForEvents('deadline.escalated', 1, { deadline: 'review_5d' });
      docs.push(await review(reviewedLate.kase), await waiting.kase.doc());
      return { docs, cases: [reviewed.kase, reviewedLate.kase, waiting.kase] };
    });

    // Assert: the flags each round carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'open']);
    expect(metrics.map((m) => [m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [1, 1, 1],
      [1, 1, 0],
      [1, 0, 0],
    ]);
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [0, 0, 0, 0, 0], // still running within its limit: in no part of 办结率
    ]);
    expect(metrics.map((m) => [m.escalated, m.overdue, m.excluded])).toEqual([
      [0, 0, 0],
      [1, 1, 0],
      [0, 0, 0],
    ]);
    // The rates, summed as the metrics service sums them. The round has no 不予受理, no 解释说明
    // and no rating step, and its only task is the review: excluded, explained, the rating
    // figures and a late intermediate step cannot be reached by any path.
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.6667, // 2 reviews taken on of 3 rounds (no acceptance declared)
      responseRate: 0.3333, // 1 taken on before review_5d passed
      completionRate: 1, // 2 reviewed of 2 due; the round still waiting is not due yet
      resolutionRate: 1, // 已通报 is 解决
      onTimeRate: 0.5, // 1 of 2 within review_5d
      satisfactionRate: null,
      participationRate: null,
      visitRate: 0, // 0 rated of 2 completed: the formula has a denominator, no rating can come
      disputeResolutionRate: null,
      supervisionRate: 0.3333, // the late review, escalated to the street's leader
      returnRate: 0,
      overdueRate: 0.3333,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, round.spec.measures)).toEqual(metrics[i]);
    }
  });
});

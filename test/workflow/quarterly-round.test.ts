import type { DefinitionSnapshot } from '../../lang/definition';
import type { CaseStateView } from '../../workflows/projection';
import type { SeededOrg, SlaTestBed } from '../support/sla-cases';
import { eventsOf, expectFiredAt, mailsOf, SUBJECT, useSlaTestBed } from '../support/sla-cases';

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

describe('季度“三个一” (quarterly-round → quarterly-community)', () => {
  it('when the community does all three, then its case closes and the round is reviewed', async () => {
    // Arrange
    const org = await bed.seedOrg();
    await bed.addPost(org.streetDirector, org.street, 'dispatcher');
    const round = await bed.shippedWith('quarterly-round.yaml', 'quarterly-community.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const { startedAt, kase, child } = await startRound(queue, round, org);
      for (const [step, person, outcomeId, form] of [
        [
          'visit',
          org.director,
          'visited',
          { households: 120, needs: 8, summary: '入户走访 120 户' },
        ],
        ['ledger', org.gridWorker, 'updated', { updated: 120, special: 3 }],
        ['project', org.communitySecretary, 'done', { title: '楼道照明改造', beneficiaries: 200 }],
      ] as const) {
        const taskId = child.taskId(step);
        await child.waitForTask(`the ${step} task`, taskId, () => true);
        await child.claim(taskId, person);
        await child.complete(taskId, person, outcomeId, form);
      }
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

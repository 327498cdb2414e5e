import { planDeadline } from '../../common/sla';
import { figuresOf } from '../../services/metrics';
import { bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { uniqueAddress } from '../support/harness';
import type { RunningCase, SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import { claimAndComplete, deadlineOf, stepsEntered, useSlaTestBed } from '../support/sla-cases';

/**
 * The shipped 矛盾纠纷调解 (definitions/mediation.yaml) on the time-skipping server with the real
 * activities: the committee accepts (naming a mediator), the mediator mediates within 15 working
 * days of receipt, an agreement is checked 5 working days later (a broken one is mediated again),
 * the parties rate; a declined dispute and a failed mediation close as 不予受理 and 已告知其他途径.
 * The figures: found and resolved disputes feed 化解率; a failed mediation is 办结 but not 解决.
 */
let bed: SlaTestBed;

useSlaTestBed('mediation', (ready) => {
  bed = ready;
});

interface MediationOrg extends SeededOrg {
  committee: SeededPerson;
  mediator: SeededPerson;
}

async function mediationOrg(): Promise<MediationOrg> {
  const org = await bed.seedOrg();
  return {
    ...org,
    committee: await bed.addPerson('committee', '调委会主任', [[org.community, 'dispatcher']]),
    mediator: await bed.addPerson('mediator', '调解员', [[org.community, 'officer']]),
  };
}

function dispute(contactEmail: string) {
  return {
    category: '邻里纠纷',
    description: '楼上住户装修噪音扰民，双方多次争执。',
    parties: 2,
    contactEmail,
  };
}

async function accept(kase: RunningCase, org: MediationOrg): Promise<void> {
  const id = kase.taskId('accept');
  await kase.waitForTask('受理', id, () => true);
  await claimAndComplete(kase, id, org.committee, 'accepted', { mediator: org.mediator.personId });
}

describe('矛盾纠纷调解 (mediation)', () => {
  it('when a dispute is accepted, mediated to an agreement that is broken once, mediated again and kept, then it closes as resolved, its mediation deadline counted from receipt', async () => {
    // Arrange
    const org = await mediationOrg();
    const monday = await bed.quietMonday();

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(
        queue,
        bed.shipped('mediation.yaml'),
        org.community.id,
        dispute(uniqueAddress('party')),
      );
      await accept(kase, org);
      const first = kase.taskId('mediate');
      const mediate = await kase.waitForTask('调解', first, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      const agreement = { record: '当面协商', agreement: '工作日 8:00–18:00 施工' };
      await claimAndComplete(kase, first, org.mediator, 'agreed', agreement);
      await bed.skipTo(Date.parse(kase.input.receivedAt) + 8 * 24 * 3600_000);
      const visit = `${kase.input.caseId}.follow_up.1`;
      await kase.waitForTask('履行回访', visit, () => true);
      await claimAndComplete(
        kase,
        visit,
        org.mediator,
        'broken',
        { visit: '周末仍施工' },
        '未履行',
      );
      const again = `${kase.input.caseId}.mediate.2`;
      await kase.waitForTask('再次调解', again, () => true);
      await claimAndComplete(kase, again, org.mediator, 'agreed', agreement);
      await bed.skipTo(Date.parse(kase.input.receivedAt) + 16 * 24 * 3600_000);
      const second = `${kase.input.caseId}.follow_up.2`;
      await kase.waitForTask('第二次回访', second, () => true);
      await claimAndComplete(kase, second, org.mediator, 'kept', { visit: '已按协议施工' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(5);
      const doc = await kase.waitForDoc('closed', (d) => d.status === 'closed');
      return { kase, mediate, doc, calendar: await bed.calendar() };
    });

    // Assert: the mediator named at acceptance was offered the task
    const { kase, mediate, doc } = outcome;
    expect(mediate.candidates.map((c) => c.personId)).toContain(org.mediator.personId);
    // …its 15 working days run from the case's receipt, not from the task's opening
    const due = deadlineOf(mediate.deadlines, `${kase.taskId('mediate')}/mediate_15d`).dueAt;
    const expected = planDeadline(
      outcome.calendar,
      { within: '15 working days', reminders: [], escalations: [] },
      kase.input.receivedAt,
    ).dueAt;
    expect(due).toBe(expected);
    expect(stepsEntered(doc.timeline)).toEqual([
      'accept',
      'mediate',
      'follow_up_wait',
      'follow_up',
      'mediate',
      'follow_up_wait',
      'follow_up',
      'rate',
      'resolved',
    ]);
    expect(flagsOf(doc)).toMatchObject({
      accepted: 1,
      resolved: 1,
      explained: 0,
      excluded: 0,
      disputesFound: 1,
      disputesResolved: 1,
      rated: 1,
    });
  });

  it('when one dispute is declined and another cannot be settled, then the first is excluded from every rate and the second is 办结 but not 解决: 化解率 counts the two accepted and every declared rate comes out exactly, also after a replay', async () => {
    // Arrange: a Monday with three quiet weeks after it (the follow-up waits 5 working days)
    const org = await mediationOrg();
    const monday = await bed.quietMonday();

    // Act
    const docs = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const start = () =>
        bed.startCase(
          queue,
          bed.shipped('mediation.yaml'),
          org.community.id,
          dispute(uniqueAddress('party')),
        );
      const declined = await start();
      const declinedTask = declined.taskId('accept');
      await declined.waitForTask('受理', declinedTask, () => true);
      await claimAndComplete(declined, declinedTask, org.committee, 'declined', {}, '已起诉至法院');
      const failed = await start();
      await accept(failed, org);
      const mediate = failed.taskId('mediate');
      await failed.waitForTask('调解', mediate, () => true);
      await claimAndComplete(failed, mediate, org.mediator, 'failed', {
        record: '双方分歧较大',
        referral: '诉讼',
      });
      const settled = await start();
      await accept(settled, org);
      const settle = settled.taskId('mediate');
      await settled.waitForTask('调解', settle, () => true);
      await claimAndComplete(settled, settle, org.mediator, 'agreed', {
        record: '协商一致',
        agreement: '赔偿维修费',
      });
      return {
        cases: [declined, failed, settled],
        declined: await declined.waitForDoc('rejected', (d) => d.status === 'rejected'),
        failed: await failed.waitForDoc('closed', (d) => d.status === 'closed'),
        settled: await (async () => {
          await bed.skipTo(Date.parse(settled.input.receivedAt) + 8 * 24 * 3600_000);
          const visit = `${settled.input.caseId}.follow_up.1`;
          await settled.waitForTask('履行回访', visit, () => true);
          await claimAndComplete(settled, visit, org.mediator, 'kept', { visit: '已赔偿' });
          await settled.waitForEvents('step.entered', 1, { stepType: 'feedback' });
          await settled.rate(4);
          return settled.waitForDoc('closed', (d) => d.status === 'closed');
        })(),
      };
    });

    // Assert
    expect(flagsOf(docs.declined)).toMatchObject({ excluded: 1, disputesFound: 0 });
    expect(flagsOf(docs.failed)).toMatchObject({
      completed: 1,
      resolved: 0,
      explained: 1,
      disputesFound: 1,
      disputesResolved: 0,
    });
    const sums = summedFlags([docs.declined, docs.failed, docs.settled].map(flagsOf));
    expect(sums.disputesFound).toBe(2);
    expect(sums.disputesResolved).toBe(1);
    // Every declared rate, summed as the metrics service sums them
    expect(figuresOf(sums).rates).toEqual({
      acceptanceRate: 1, // 2 accepted of 2 received and not declined (不予受理 is in no denominator)
      responseRate: 1, // both accepted within accept_1d
      completionRate: 1, // 2 completed of 2 due: 调解不成功 is 办结
      resolutionRate: 0.5, // 1 agreed of 2: 调解不成功 is 办结, not 解决
      onTimeRate: 1, // both within mediate_15d
      satisfactionRate: 1, // the one rating, 4, is satisfied
      participationRate: 1, // 1 rated of 1 asked: a failed mediation ends without a rating step
      visitRate: 0.5, // 1 rated of 2 completed
      disputeResolutionRate: 0.5, // 1 agreed of 2 accepted (found)
      supervisionRate: 0, // no limit missed
      returnRate: 0,
      overdueRate: 0,
    });
    // After a replay: each history replays, and its timeline gives the stored figures again, but
    // for the dispute figures: they come from the mediation's form as the case closes, which the
    // timeline does not carry (replayedFlags recomputes from the timeline alone), so those two are
    // compared against zero and were asserted from the stored figures above.
    const measures = bed.shipped('mediation.yaml').spec.measures;
    const stored = [docs.declined, docs.failed, docs.settled].map(flagsOf);
    for (const [i, kase] of docs.cases.entries()) {
      const replayed = await replayedFlags(bed, kase, measures);
      expect(replayed).toEqual({ ...stored[i], disputesFound: 0, disputesResolved: 0 });
    }
  });
});

import { figuresOf } from '../../services/metrics';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { uniqueAddress } from '../support/harness';
import type { SlaTestBed } from '../support/sla-cases';
import { mailsToAddress, useSlaTestBed } from '../support/sla-cases';

/**
 * The shipped 居民诉求受理 stub (definitions/resident-request.yaml) on the time-skipping server with
 * the real activities: the platform registers a resident's request, mails the receipt (回执) and
 * closes it at once. It declares `measures: {}`, so its cases are read the engine's default way.
 */
let bed: SlaTestBed;

useSlaTestBed('resident-request', (ready) => {
  bed = ready;
});

/** The process under test, as shipped (definitions/resident-request.yaml). */
const shipped = () => bed.shipped('resident-request.yaml');

describe('居民诉求受理 measures (the default reading of `measures: {}`)', () => {
  it('when known requests are registered (two with a receipt address, one without), then every rate comes out exactly as the default reading gives it, on the read model and after a replay', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const addresses = [uniqueAddress('resident-a'), uniqueAddress('resident-b')];

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const start = (contactEmail?: string) =>
        bed.startCase(queue, shipped(), org.community.id, {
          category: '环境卫生',
          description: '小区垃圾桶满溢',
          ...(contactEmail ? { contactEmail } : {}),
        });
      const cases = [await start(addresses[0]), await start(addresses[1]), await start()];
      const docs = [];
      for (const kase of cases) {
        docs.push(await kase.waitForDoc('the case closed', (d) => d.status !== 'open'));
      }
      return { cases, docs };
    });

    // Assert: each registered and closed, the receipts mailed
    expect(outcome.docs.map((d) => d.status)).toEqual(['closed', 'closed', 'closed']);
    for (const address of addresses) {
      expect(await mailsToAddress(address, '')).toHaveLength(1);
    }
    // The flags: `acceptance: []`, nobody takes it on, so it is never dispatched (in no 接单率
    // denominator); closed `closed` means completed and resolved; there is no deadline, so it is
    // completed on time.
    const metrics = outcome.docs.map(flagsOf);
    for (const flags of metrics) {
      expect(flags).toMatchObject({
        received: 1,
        dispatched: 0,
        accepted: 0,
        respondedInTime: 0,
        due: 1,
        completed: 1,
        resolved: 1,
        explained: 0,
        completedOnTime: 1,
        excluded: 0,
        ratingInvited: 0,
        rated: 0,
        escalated: 0,
        overdue: 0,
        returnedCase: 0,
      });
    }
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: null, // acceptance: []: never dispatched, so no 接单率 to pull a unit down
      responseRate: null, // likewise
      completionRate: 1, // 3 closed `closed` of 3 due
      resolutionRate: 1, // no 解释说明 outcome: every completed case is resolved
      onTimeRate: 1, // no deadline to miss
      satisfactionRate: null, // no feedback step: nobody rates
      participationRate: null, // nobody is asked to rate
      visitRate: 0, // 0 rated of 3 completed
      disputeResolutionRate: null,
      supervisionRate: null, // escalations ÷ dispatched: nothing dispatched
      returnRate: null, // returns ÷ dispatched: likewise
      overdueRate: 0, // no deadline
    });
    // Unreachable here: 不予受理 (no rejected end), explained, a late step, a rating and its
    // reopen: the stub has no task, no deadline and no feedback step.
    // After a replay: each history replays, and its timeline gives the stored figures again
    const measures = shipped().spec.measures;
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, measures)).toEqual(metrics[i]);
    }
  });
});

import type { RoundResults } from '../../common/evaluation';
import type { ActivityDependencies } from '../../activities/dependencies';
import { createEvaluationActivities } from '../../activities/evaluations';
import type { SlaTestBed, SeededOrg } from '../support/sla-cases';
import { useSlaTestBed } from '../support/sla-cases';

/**
 * 评单 done as Xunyi does it (issue 16), on the time-skipping server: a round scores the service
 * orders (the shipped round's list, or by default the processes with an acceptance and a
 * feedback step), not the monthly reports, roll-calls, admissions, whistles' calls or rounds of
 * the street.
 */
let bed: SlaTestBed;

useSlaTestBed('evaluation-orders', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;

interface OrderOptions {
  createdBy?: { kind: string; id: string };
  rating?: number | null;
  servedBy?: { unitIds: string[]; personIds: string[] };
  daysAgo?: number;
}

/** A closed case of `key` in `unitId`, closed `daysAgo` days before `now` (30 by default). */
function closedCase(
  id: string,
  key: string,
  unitId: string,
  now: Date,
  options: OrderOptions = {},
) {
  const daysAgo = options.daysAgo ?? 30;
  return {
    _id: id,
    revision: 5,
    status: 'closed',
    definitionKey: key,
    definitionVersion: 1,
    definitionName: key,
    data: {},
    createdBy: options.createdBy ?? { kind: 'user', id: 'usr_resident' },
    unitId,
    channel: 'api',
    requestHash: 'h',
    createdAt: new Date(now.getTime() - (daysAgo + 1) * DAY),
    updatedAt: now,
    closedAt: new Date(now.getTime() - daysAgo * DAY),
    rating:
      options.rating === undefined || options.rating === null
        ? null
        : { score: options.rating, comment: null, at: now.toISOString() },
    ...(options.servedBy ? { servedBy: options.servedBy } : {}),
  };
}

/** Runs a round of `definition` for `org`'s street to its close; answers the stored round. */
async function runRound(
  definition: ReturnType<SlaTestBed['definition']>,
  org: SeededOrg,
  now: Date,
  during: (roundId: string) => Promise<void> = async () => {},
) {
  return bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, definition, org.street.id);
    await kase.waitForEvents('evaluation.opened', 1);
    await during(kase.caseId);
    await bed.skipTo(now.getTime() + 40 * DAY);
    await kase.waitForEvents('evaluation.closed', 1);
    const round = await bed.db.models.EvaluationRound.findById(kase.caseId).lean();
    return { roundId: kase.caseId, round: round! };
  });
}

function itemsOf(round: { results?: unknown }): string[] {
  return (round.results as RoundResults).items.map((i) => i.itemId).sort();
}

describe('评单: the orders a round scores', () => {
  it('when the street closed service orders, reports, roll-calls, admissions, a whistle and a round, then the shipped round scores the service orders only', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const now = new Date(await bed.now());
    const t = org.street.id;
    await bed.db.models.Case.create([
      closedCase(`${t}-three`, 'three-orders', org.grid.id, now),
      closedCase(`${t}-grid`, 'grid-event', org.grid.id, now),
      closedCase(`${t}-dept`, 'whistle-department', org.community.id, now),
      closedCase(`${t}-call`, 'whistle-call', org.community.id, now),
      closedCase(`${t}-report`, 'dispute-report', org.grid.id, now),
      closedCase(`${t}-rollcall`, 'quarterly-round', org.community.id, now),
      closedCase(`${t}-admission`, 'work-admission', org.community.id, now),
      closedCase(`${t}-round`, 'evaluation-round', org.street.id, now),
      // Another street's service order: outside the round's unit.
      closedCase(`${t}-elsewhere`, 'three-orders', org.county.id, now),
    ]);

    // Act
    const { round } = await runRound(bed.shipped('evaluation-round.yaml'), org, now);

    // Assert
    expect(itemsOf(round)).toEqual([`${t}-dept`, `${t}-grid`, `${t}-three`]);
  });

  it('when a round lists no processes, then it scores the published service orders by default', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const now = new Date(await bed.now());
    const t = org.street.id;
    await bed.publish(bed.shipped('order-service.yaml'));
    await bed.publish(bed.shipped('work-admission.yaml'));
    await bed.publish(bed.shipped('whistle-call.yaml'));
    await bed.db.models.Case.create([
      closedCase(`${t}-order`, 'order-service', org.grid.id, now),
      closedCase(`${t}-admission`, 'work-admission', org.community.id, now),
      closedCase(`${t}-call`, 'whistle-call', org.community.id, now),
      // Not published here: not known to be a service order.
      closedCase(`${t}-unknown`, 'resident-request', org.community.id, now),
    ]);
    const definition = bed.definition({
      key: 'test-round',
      name: '评单',
      starters: ['admin'],
      input: { fields: [{ name: 'note', label: '备注', type: 'string' }] },
      steps: [
        {
          id: 'scoring',
          name: '评单打分',
          type: 'evaluation',
          orders: { from: 'addDays(date(case.receivedAt), -60)', to: 'date(case.receivedAt)' },
          groups: [{ id: 'residents', name: '居民', weight: 100, scorers: 'requester' }],
          within: '15 working days',
        },
        { id: 'closed', name: '结束', type: 'end' },
      ],
    });

    // Act
    const { round } = await runRound(definition, org, now);

    // Assert
    expect(itemsOf(round)).toEqual([`${t}-order`]);
    expect(round.definitions).toEqual(['order-service']);
  });

  it('when a round recorded before the default opens (its request names no processes), then it scores every process but its own, as it did', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const now = new Date(await bed.now());
    const t = org.street.id;
    await bed.db.models.Case.create([
      closedCase(`${t}-order`, 'order-service', org.grid.id, now),
      closedCase(`${t}-admission`, 'work-admission', org.community.id, now),
      closedCase(`${t}-round`, 'old-round', org.street.id, now),
    ]);
    // The opening activity as a worker runs it; it reads and writes the store only.
    const activities = createEvaluationActivities({
      models: bed.db.models,
    } as unknown as ActivityDependencies);

    // Act
    const opened = await activities.openEvaluationRound({
      roundId: `${t}-old-round`,
      stepId: 'scoring',
      definitionKey: 'old-round',
      unitId: org.street.id,
      from: new Date(now.getTime() - 60 * DAY).toISOString(),
      to: now.toISOString(),
      definitions: null,
      criteria: [{ id: 'quality', name: '服务质量' }],
      groups: [{ id: 'residents', name: '居民', weight: 100, requester: true, scorers: [] }],
      orderRatingGroup: null,
      responsibleRole: 'secretary',
      closesAt: new Date(now.getTime() + 30 * DAY).toISOString(),
      openedAt: now.toISOString(),
    });
    const items = await bed.db.models.EvaluationItem.find({ roundId: `${t}-old-round` }).lean();

    // Assert
    expect(opened).toEqual({ items: 2, refused: false });
    expect(items.map((i) => i.caseId).sort()).toEqual([`${t}-admission`, `${t}-order`]);
  });
});

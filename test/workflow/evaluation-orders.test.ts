import type { RoundResults } from '../../common/evaluation';
import type { ActivityDependencies } from '../../activities/dependencies';
import { createEvaluationActivities } from '../../activities/evaluations';
import type { Principal } from '../../services/auth';
import { createEvaluationService } from '../../services/evaluations';
import { createScopeResolver } from '../../services/scope';
import { AppError } from '../../services/errors';
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

function user(id: string, roles: Principal['roles']): Principal {
  return { kind: 'user', id, roles, unitIds: [] };
}

/** An account with `roles` (what tells a resident's own account from staff's). */
async function account(id: string, roles: string[]): Promise<void> {
  await bed.db.models.User.create({
    _id: id,
    username: id,
    displayName: id,
    passwordHash: 'unused',
    roles,
    createdAt: new Date(),
  });
}

const v = (n: number) => ({ quality: n, duration: n, satisfaction: n });

/** What a call answered: its value, or the kind of its refusal. */
async function outcomeOf<T>(call: Promise<T>): Promise<T | string> {
  return call.catch((err: unknown) => {
    if (err instanceof AppError) return `refused: ${err.kind}`;
    throw err;
  });
}

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

describe('评单: who scores (被服务居民, 居民代表)', () => {
  it('when residents, a staff filer and resident representatives score, then the resident scores only their own order, staff not at all, and a representative the orders of their own community', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const now = new Date(await bed.now());
    const t = org.street.id;
    const other = await bed.addUnit('community', '另一社区', org.street);
    const resident = `usr-${t}-resident`;
    const staff = `usr-${t}-staff`;
    await account(resident, ['resident']);
    await account(staff, ['staff']);
    const rep = await bed.addPerson('rep', '居民代表甲', [[org.community, 'resident-rep']]);
    const otherRep = await bed.addPerson('rep2', '居民代表乙', [[other, 'resident-rep']]);
    await bed.db.models.Case.create([
      closedCase(`${t}-own`, 'order-service', org.grid.id, now, {
        createdBy: { kind: 'user', id: resident },
      }),
      // Filed by staff for somebody: nobody scores it as the resident served.
      closedCase(`${t}-for`, 'three-orders', org.community.id, now, {
        createdBy: { kind: 'user', id: staff },
        daysAgo: 29,
      }),
      closedCase(`${t}-other`, 'three-orders', other.id, now, {
        createdBy: { kind: 'user', id: resident },
        daysAgo: 28,
      }),
    ]);
    const evaluations = createEvaluationService({
      models: bed.db.models,
      temporal: bed.env.client,
      callTimeoutMs: 10_000,
      scope: createScopeResolver(bed.db.models),
    });
    const asResident = user(resident, ['resident']);
    const asStaff = user(staff, ['staff']);
    const asRep = user(rep.userId, ['resident']);
    const asOtherRep = user(otherRep.userId, ['resident']);
    const page = { page: 1, pageSize: 20 };
    const seen: Record<string, unknown> = {};

    // Act
    const { roundId, round } = await runRound(
      bed.shipped('evaluation-round.yaml'),
      org,
      now,
      async (id) => {
        const mine = await evaluations.getRound(asResident, id);
        seen.resident = mine.items.map((i) => [i.id, i.groups]);
        seen.residentGroup = mine.groups.find((g) => g.id === 'residents');
        seen.rep = (await evaluations.getRound(asRep, id)).items.map((i) => [i.id, i.groups]);
        seen.staffRound = await outcomeOf(evaluations.getRound(asStaff, id));
        seen.staffScores = await outcomeOf(
          evaluations.submitScores(
            asStaff,
            id,
            { scores: [{ item: `${t}-for`, values: v(5) }] },
            undefined,
          ),
        );
        seen.residentLists = (await evaluations.listRounds(asResident, page)).items.map(
          (r) => r.id,
        );
        seen.staffLists = (await evaluations.listRounds(asStaff, page)).items.map((r) => r.id);
        seen.otherRep = await outcomeOf(
          evaluations.submitScores(
            asOtherRep,
            id,
            { scores: [{ item: `${t}-own`, values: v(1) }] },
            undefined,
          ),
        );
        await evaluations.submitScores(
          asResident,
          id,
          { scores: [{ item: `${t}-own`, values: v(5) }] },
          undefined,
        );
        await evaluations.submitScores(
          asRep,
          id,
          {
            scores: [
              { item: `${t}-own`, values: v(3) },
              { item: `${t}-for`, values: v(4) },
            ],
          },
          undefined,
        );
      },
    );

    // Assert
    expect(seen.resident).toEqual([
      [`${t}-own`, ['residents']],
      [`${t}-other`, ['residents']],
    ]);
    expect(seen.residentGroup).toMatchObject({ requester: true, residentsOnly: true, weight: 35 });
    expect(seen.rep).toEqual([
      [`${t}-own`, ['representatives']],
      [`${t}-for`, ['representatives']],
    ]);
    expect(seen.staffRound).toBe('refused: not_found');
    expect(seen.staffScores).toBe('refused: not_found');
    expect(seen.residentLists).toEqual([roundId]);
    expect(seen.staffLists).toEqual([]);
    expect(seen.otherRep).toBe('refused: forbidden');
    const results = round.results as RoundResults;
    // own: residents 5 ×35 + representatives 3 ×15, over 50 → 4.4; for: representatives 4.
    expect(results.items.map((i) => [i.itemId, i.score, i.missingGroups])).toEqual([
      [`${t}-own`, 4.4, ['meeting', 'units', 'organisations']],
      [`${t}-for`, 4, ['residents', 'meeting', 'units', 'organisations']],
      [`${t}-other`, null, ['residents', 'representatives', 'meeting', 'units', 'organisations']],
    ]);
  });
});

describe('评单: results per serving unit and member', () => {
  it('when co-building units and party members served orders filed in communities, then the results, the CSV and the annual assessment records (年度考核记录) score them on those orders as well as the place', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const now = new Date(await bed.now());
    const t = org.street.id;
    const hospital = await bed.addUnit('cobuilding', '县医院', org.street);
    const member = await bed.addPerson('member', '党员张', [[hospital, 'party-member']]);
    const liaison = await bed.addPerson('liaison', '联络员', [[hospital, 'liaison']]);
    await bed.db.models.Case.create([
      closedCase(`${t}-a`, 'three-orders', org.grid.id, now, {
        servedBy: { unitIds: [hospital.id], personIds: [member.personId] },
        daysAgo: 30,
      }),
      closedCase(`${t}-b`, 'order-service', org.community.id, now, {
        servedBy: {
          unitIds: [hospital.id, org.grid.id],
          personIds: [member.personId, org.gridWorker.personId],
        },
        daysAgo: 29,
      }),
      // Served by nobody on record: the place answers for it alone.
      closedCase(`${t}-c`, 'grid-event', org.grid.id, now, { daysAgo: 28 }),
    ]);
    const evaluations = createEvaluationService({
      models: bed.db.models,
      temporal: bed.env.client,
      callTimeoutMs: 10_000,
      scope: createScopeResolver(bed.db.models),
    });
    const admin = user('usr-admin', ['admin']);

    // Act
    const { roundId } = await runRound(
      bed.shipped('evaluation-round.yaml'),
      org,
      now,
      async (id) => {
        await evaluations.submitScores(
          user(liaison.userId, ['staff']),
          id,
          {
            group: 'units',
            scores: [
              { item: `${t}-a`, values: v(5) },
              { item: `${t}-b`, values: v(3) },
              { item: `${t}-c`, values: v(1) },
            ],
          },
          undefined,
        );
      },
    );
    const results = await evaluations.results(admin, roundId);
    const csv = evaluations.resultsCsv(results);
    // The close again (a retried activity): the same records, no more.
    const activities = createEvaluationActivities({
      models: bed.db.models,
    } as unknown as ActivityDependencies);
    await activities.closeEvaluationRound({ roundId, closedAt: new Date().toISOString() });
    const stored = await bed.db.models.AssessmentRecord.countDocuments({ roundId });
    const year = new Date(Date.parse(results.period.to) - 1 + 8 * 3600_000).getUTCFullYear();
    const records = await evaluations.assessments(admin, { page: 1, pageSize: 100, year });
    const mine = records.items.filter((r) => r.roundId === roundId);
    const stranger = await evaluations.assessments(user('usr-nobody', ['staff']), {
      page: 1,
      pageSize: 100,
    });
    const recordsCsv = evaluations.assessmentsCsv(mine);

    // Assert: a 5, b 3, c 1 (the units' group alone).
    expect(
      results.servedUnits.map((u) => [u.unitId, u.name, u.parentName, u.items, u.score]),
    ).toEqual([
      [hospital.id, '县医院', org.street.name, 2, 4],
      [org.grid.id, org.grid.name, org.community.name, 1, 3],
    ]);
    expect(results.servedPeople.map((p) => [p.personId, p.name, p.items, p.score])).toEqual([
      [member.personId, '党员张', 2, 4],
      [org.gridWorker.personId, org.gridWorker.name, 1, 3],
    ]);
    expect(results.secretaries.map((s) => [s.name, s.items, s.score])).toEqual([
      [org.streetSecretary.name, 3, 3],
      [org.communitySecretary.name, 3, 3],
    ]);
    expect(results.items.map((i) => [i.itemId, i.servedUnitIds])).toEqual([
      [`${t}-a`, [hospital.id]],
      [`${t}-b`, [hospital.id, org.grid.id]],
      [`${t}-c`, []],
    ]);
    // 年度考核记录: one per round and subject, for the secretaries, the place's units and the
    // serving units, readable by the round's supervisors only.
    expect(stored).toBe(mine.length);
    expect(mine.map((r) => [r.kind, r.subjectId, r.items, r.score])).toEqual(
      [
        ['secretary', org.communitySecretary.personId, 3, 3],
        ['secretary', org.streetSecretary.personId, 3, 3],
        ['serving-unit', org.grid.id, 1, 3],
        ['serving-unit', hospital.id, 2, 4],
        ['unit', org.community.id, 3, 3],
        ['unit', org.grid.id, 2, 3],
        ['unit', org.street.id, 3, 3],
      ].sort((a, b) => (`${a[0]}:${a[1]}` < `${b[0]}:${b[1]}` ? -1 : 1)),
    );
    expect(mine.every((r) => r.year === year && r.roundUnitId === org.street.id)).toBe(true);
    expect(stranger.items).toEqual([]);
    expect(recordsCsv.split('\r\n')[0]).toBe(
      '\uFEFF年度,类型,编号,名称,所属单位,评议轮次,评议期起,评议期止,评单数,已评单数,缺评单数,综合得分,街道权重(%),计入年度得分,一票否决,否决理由',
    );
    expect(recordsCsv).toContain(
      `${year},服务单位,${hospital.id},县医院,${org.street.name},${roundId},`,
    );
    const lines = csv.split('\r\n');
    expect(lines.filter((l) => l.startsWith('服务单位,'))).toEqual([
      expect.stringMatching(
        new RegExp(`^服务单位,${hospital.id},县医院,${org.street.name},2,2,0,4\\.00,`),
      ),
      expect.stringMatching(new RegExp(`^服务单位,${org.grid.id},${org.grid.name},`)),
    ]);
    expect(lines.filter((l) => l.startsWith('服务人员,'))).toEqual([
      expect.stringMatching(new RegExp(`^服务人员,${member.personId},党员张,,2,2,0,4\\.00,`)),
      expect.stringMatching(new RegExp(`^服务人员,${org.gridWorker.personId},`)),
    ]);
  });
});

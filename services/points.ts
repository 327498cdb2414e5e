import { createHash } from 'node:crypto';
import type { mongo } from 'mongoose';
import type { StoredPointsEntry } from '../common/points-ledger';
import { ledgerContext } from '../common/points-ledger';
import {
  earningsIn,
  LEDGER_ROW_PROJECTION,
  MAX_REPORT_ENTRIES,
  servedFiguresOf,
} from '../common/points-report';
import { childrenByParent, unitsAtOrBelow } from '../common/org-tree';
import type { Models } from '../models';
import { isDuplicateKeyError } from '../models';
import type { Principal } from './auth';
import { AppError } from './errors';
import type { ScopeResolver } from './scope';
import type { PeriodInput } from './periods';
import { resolvePeriod } from './periods';
import type { PageRequest } from './paging';
import type { DirectoryUnit, UnitDirectoryReader } from './unit-directory';
import { createUnitDirectory } from './unit-directory';
import { skipOf, totalOf } from './paging';
import { isSupervisorRole } from '../common/roles';

/**
 * Volunteer points (积分): each person's balance and ledger, redemptions (积分兑换), and the
 * per-unit report of the 双报到 report-back.
 *
 * The ledger is append-only. Earnings are written by the interpreter (activities/points.ts);
 * debits (redemptions, adjustments) by this service as a chain per person: the n-th debit of a
 * person is stored under `_id` `debit:<person>:<n>`. A redemption reads the last n, then the
 * balance, and inserts debit n+1 only when the balance covers it. Two redemptions racing for the
 * same n cannot both be inserted (the `_id` is unique), so the loser reads again — now seeing the
 * winner's debit in the balance — and is refused if the rest no longer covers it. Earnings only
 * add, so one landing meanwhile cannot make a covered debit overdraw. No transaction is needed,
 * which FerretDB v1 lacks; nothing is written in two steps, so a crash leaves nothing half-done.
 */

export interface UnitView {
  id: string;
  name: string;
  type: string;
}

export interface PointsEntryView {
  id: string;
  kind: 'earn' | 'redeem' | 'adjust';
  points: number;
  reason: string;
  unit: UnitView | null;
  community: UnitView | null;
  caseId: string | null;
  taskId: string | null;
  definitionKey: string | null;
  at: string;
  by: { kind: string; id: string };
}

export interface PointsSums {
  balance: number;
  earned: number;
  redeemed: number;
  adjusted: number;
}

export interface PersonPoints extends PointsSums {
  person: { id: string; name: string };
  items: PointsEntryView[];
  total: number;
  page: number;
  pageSize: number;
}

export interface RedemptionInput {
  personId: string;
  points: number;
  reason: string;
  /** Where the points are redeemed (the community's 积分超市); default the caller's unit. */
  unitId?: string | undefined;
}

export interface RedemptionResult {
  /** False when the Idempotency-Key had already redeemed: the same entry comes back. */
  created: boolean;
  entry: PointsEntryView;
  balance: number;
}

export interface MemberReport {
  person: { id: string; name: string };
  /** The person's own units within the reported unit (where they are reported back to). */
  homeUnits: UnitView[];
  earned: number;
  redeemed: number;
  /** Where the points were earned: the community served (or the case's unit without one). */
  byCommunity: Array<{ unit: UnitView; earned: number }>;
}

export interface ServedReport {
  /** Points earned in the unit's subtree by anybody, in the period. */
  earned: number;
  /** Of those, by members of units outside the subtree (双报到 members serving here). */
  earnedByOutsideMembers: number;
  byHomeUnit: Array<{ unit: UnitView; earned: number; people: number }>;
  members: Array<{
    person: { id: string; name: string };
    homeUnits: UnitView[];
    earned: number;
    /** How many earnings here (each a task or service done: 参加社区工作的次数). */
    services: number;
  }>;
}

export interface UnitPointsReport {
  unit: UnitView;
  period: { from: string; to: string; label: string };
  /** 双报到 report-back: members whose own unit is in the subtree, wherever they earned. */
  reportBack: { earned: number; redeemed: number; members: MemberReport[] };
  /** The community view: points earned in the subtree, by whom from outside. */
  served: ServedReport;
}

export interface PointsService {
  person(principal: Principal, personId: string, page: PageRequest): Promise<PersonPoints>;
  redeem(
    principal: Principal,
    idempotencyKey: string | undefined,
    input: RedemptionInput,
  ): Promise<RedemptionResult>;
  unitReport(principal: Principal, unitId: string, period: PeriodInput): Promise<UnitPointsReport>;
}

/** Debits one redemption may retry when others keep taking its place in the chain. */
const MAX_DEBIT_ATTEMPTS = 10;

type TreeUnit = DirectoryUnit;

function isSupervisor(principal: Principal): boolean {
  return isSupervisorRole(principal.roles);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function createPointsService(deps: {
  models: Pick<Models, 'PointsEntry' | 'Person' | 'Post' | 'Unit' | 'OrgRevision'>;
  scope: ScopeResolver;
  clock: () => Date;
  /** The unit tree as of the org revision (the org snapshot, shared with metrics and board). */
  units?: UnitDirectoryReader;
}): PointsService {
  const { PointsEntry, Person, Post } = deps.models;
  const raw = PointsEntry.collection as unknown as mongo.Collection<StoredPointsEntry>;
  const directory = deps.units ?? createUnitDirectory({ models: deps.models, clock: deps.clock });
  const units = async () => (await directory.get()).byId;

  function unitView(
    tree: ReadonlyMap<string, TreeUnit>,
    id: string | null | undefined,
  ): UnitView | null {
    if (!id) return null;
    const unit = tree.get(id);
    return unit ? { id: unit.id, name: unit.name, type: unit.type } : { id, name: id, type: '' };
  }

  function entryView(tree: ReadonlyMap<string, TreeUnit>, e: StoredPointsEntry): PointsEntryView {
    return {
      id: e._id,
      kind: e.kind,
      points: e.delta,
      reason: e.reason,
      unit: unitView(tree, e.unitId),
      community: unitView(tree, e.communityId),
      caseId: e.caseId ?? null,
      taskId: e.taskId ?? null,
      definitionKey: e.definitionKey ?? null,
      at: e.at.toISOString(),
      by: { kind: e.by.kind, id: e.by.id },
    };
  }

  /** Earned, redeemed and adjusted: one `$group` with one accumulator (FerretDB v1 computes no more). */
  async function sumsOf(personId: string): Promise<PointsSums> {
    const rows = await PointsEntry.aggregate<{ _id: string; total: number }>([
      { $match: { personId } },
      { $group: { _id: '$kind', total: { $sum: '$delta' } } },
    ]);
    const of = (kind: string) => rows.find((r) => r._id === kind)?.total ?? 0;
    const earned = of('earn');
    const redeemed = -of('redeem');
    const adjusted = of('adjust');
    return { balance: earned - redeemed + adjusted, earned, redeemed, adjusted };
  }

  /**
   * The person whose points a caller asks about: the person themselves (their account's person
   * link), or a dispatcher whose scope holds one of their posts, or an admin. Anybody else is
   * refused (403) whether or not the person exists; a dispatcher out of scope gets 404.
   */
  async function personFor(principal: Principal, personId: string) {
    const person = await Person.findById(personId, { name: 1, userId: 1 }).lean();
    if (person && principal.kind === 'user' && person.userId === principal.id) return person;
    if (!isSupervisor(principal)) {
      throw new AppError(
        'forbidden',
        'Only the person themselves, a dispatcher of their units or an admin may see or redeem their points',
      );
    }
    const notFound = new AppError('not_found', `No person "${personId}" in your scope`);
    if (!person) throw notFound;
    const scope = await deps.scope.resolve(principal);
    if (scope.all) return person;
    const posts = await Post.find({ personId }, { unitId: 1 }).lean();
    if (!posts.some((p) => scope.unitIds.has(p.unitId))) throw notFound;
    return person;
  }

  /** A unit in the caller's scope (404 otherwise, as for a unit that does not exist). */
  async function unitFor(principal: Principal, unitId: string): Promise<TreeUnit> {
    const [tree, scope] = await Promise.all([units(), deps.scope.resolve(principal)]);
    const unit = tree.get(unitId);
    if (!unit || (!scope.all && !scope.unitIds.has(unitId))) {
      throw new AppError('not_found', `No unit "${unitId}" in your scope`);
    }
    return unit;
  }

  async function namesOf(ids: Iterable<string>): Promise<Map<string, string>> {
    const list = [...new Set(ids)];
    if (list.length === 0) return new Map();
    const people = await Person.find({ _id: { $in: list } }, { name: 1 }).lean();
    return new Map(people.map((p) => [p._id, p.name]));
  }

  function tooManyEntries(): AppError {
    return new AppError(
      'unprocessable',
      `More than ${MAX_REPORT_ENTRIES} ledger entries in the period: ask for a shorter period or a smaller unit`,
      [{ path: 'query.period', message: 'too many entries; shorten the period' }],
    );
  }

  async function boundedFind(filter: Record<string, unknown>): Promise<StoredPointsEntry[]> {
    const found = await raw
      .find(filter, { projection: LEDGER_ROW_PROJECTION })
      .limit(MAX_REPORT_ENTRIES + 1)
      .toArray();
    if (found.length > MAX_REPORT_ENTRIES) throw tooManyEntries();
    return found;
  }

  return {
    async person(principal, personId, page) {
      const person = await personFor(principal, personId);
      const [tree, sums, items] = await Promise.all([
        units(),
        sumsOf(personId),
        raw
          .find({ personId })
          .sort({ at: -1, _id: -1 })
          .skip(skipOf(page))
          .limit(page.pageSize)
          .toArray(),
      ]);
      const total = await totalOf(page, items.length, () =>
        PointsEntry.countDocuments({ personId }),
      );
      return {
        person: { id: person._id, name: person.name },
        ...sums,
        items: items.map((e) => entryView(tree, e)),
        total,
        page: page.page,
        pageSize: page.pageSize,
      };
    },

    async redeem(principal, idempotencyKey, input) {
      await personFor(principal, input.personId);
      if (!isSupervisor(principal)) {
        throw new AppError('forbidden', 'Only a dispatcher or an admin may redeem points');
      }
      let unitId: string | null = null;
      if (input.unitId !== undefined) {
        unitId = (await unitFor(principal, input.unitId)).id;
      } else {
        const tree = await units();
        unitId = principal.unitIds.find((u) => tree.has(u)) ?? null;
      }
      const requestKey =
        idempotencyKey === undefined ? undefined : sha256(`${principal.id}\n${idempotencyKey}`);
      const requestHash = sha256(
        JSON.stringify([input.personId, input.points, input.reason, input.unitId ?? null]),
      );
      const tree = await units();
      for (let attempt = 0; attempt < MAX_DEBIT_ATTEMPTS; attempt++) {
        // Order matters: the chain's end first, then the key, then the balance (see the top).
        const last = await raw
          .find({ personId: input.personId, seq: { $exists: true } }, { projection: { seq: 1 } })
          .sort({ seq: -1 })
          .limit(1)
          .toArray();
        const seq = (last[0]?.seq ?? 0) + 1;
        if (requestKey !== undefined) {
          const earlier = await raw.findOne({ requestKey });
          if (earlier) {
            if (earlier.requestHash !== requestHash) {
              throw new AppError(
                'unprocessable',
                'This Idempotency-Key was used for another redemption; use a new key for a new one',
                [{ path: 'headers.idempotency-key', message: 'already used with another body' }],
              );
            }
            const sums = await sumsOf(earlier.personId);
            return { created: false, entry: entryView(tree, earlier), balance: sums.balance };
          }
        }
        const { balance } = await sumsOf(input.personId);
        if (balance < input.points) {
          throw new AppError(
            'conflict',
            `Not enough points: the balance is ${balance}, so ${input.points} cannot be redeemed`,
            [{ path: 'body.points', message: `at most ${balance} (the balance)` }],
          );
        }
        const context = await ledgerContext(deps.models, input.personId, unitId);
        const entry: StoredPointsEntry = {
          _id: `debit:${input.personId}:${seq}`,
          seq,
          personId: input.personId,
          kind: 'redeem',
          delta: -input.points,
          reason: input.reason,
          unitId,
          communityId: context.communityId,
          homeUnitIds: context.homeUnitIds,
          caseId: null,
          taskId: null,
          stepId: null,
          definitionKey: null,
          ruleIndex: null,
          ...(requestKey !== undefined ? { requestKey, requestHash } : {}),
          at: deps.clock(),
          by: { kind: principal.kind, id: principal.id },
        };
        try {
          await raw.insertOne(entry);
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          continue; // another debit took this place: read the chain and the balance again
        }
        return { created: true, entry: entryView(tree, entry), balance: balance - input.points };
      }
      throw new AppError(
        'conflict',
        'Too many redemptions for this person at the same moment; try again',
      );
    },

    async unitReport(principal, unitId, periodInput) {
      const period = resolvePeriod(periodInput, deps.clock());
      const unit = await unitFor(principal, unitId);
      const tree = await units();
      const subtree = unitsAtOrBelow(childrenByParent([...tree.values()]), [unit.id]);
      const ids = [...subtree].sort();
      const at = { $gte: new Date(period.from), $lt: new Date(period.to) };
      // Two bounded, projected reads summed here: aggregation stays within what FerretDB v1 does.
      const [back, earnings] = await Promise.all([
        boundedFind({ homeUnitIds: { $in: ids }, at }),
        earningsIn(raw, ids, { from: new Date(period.from), to: new Date(period.to) }),
      ]);
      if (earnings.tooMany) throw tooManyEntries();
      const served = earnings.rows;
      const names = await namesOf([...back, ...served].map((e) => e.personId));
      const personView = (id: string) => ({ id, name: names.get(id) ?? id });
      const views = (list: Iterable<string>) =>
        [...list].sort().flatMap((id) => {
          const view = unitView(tree, id);
          return view ? [view] : [];
        });

      const members = new Map<
        string,
        { home: Set<string>; earned: number; redeemed: number; places: Map<string, number> }
      >();
      let backEarned = 0;
      let backRedeemed = 0;
      for (const e of back) {
        const member = members.get(e.personId) ?? {
          home: new Set<string>(),
          earned: 0,
          redeemed: 0,
          places: new Map<string, number>(),
        };
        members.set(e.personId, member);
        for (const h of e.homeUnitIds ?? []) if (subtree.has(h)) member.home.add(h);
        if (e.kind === 'earn') {
          member.earned += e.delta;
          backEarned += e.delta;
          const place = e.communityId ?? e.unitId;
          if (place) member.places.set(place, (member.places.get(place) ?? 0) + e.delta);
        } else if (e.kind === 'redeem') {
          member.redeemed -= e.delta;
          backRedeemed -= e.delta;
        }
      }

      const servedFigures = servedFiguresOf(served, subtree);
      const byPointsThenId = <T extends { earned: number }>(a: [string, T], b: [string, T]) =>
        b[1].earned - a[1].earned || a[0].localeCompare(b[0]);
      return {
        unit: { id: unit.id, name: unit.name, type: unit.type },
        period,
        reportBack: {
          earned: backEarned,
          redeemed: backRedeemed,
          members: [...members.entries()].sort(byPointsThenId).map(([id, m]) => ({
            person: personView(id),
            homeUnits: views(m.home),
            earned: m.earned,
            redeemed: m.redeemed,
            byCommunity: [...m.places.entries()]
              .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
              .map(([place, earned]) => ({ unit: unitView(tree, place)!, earned })),
          })),
        },
        served: {
          earned: servedFigures.earned,
          earnedByOutsideMembers: servedFigures.earnedByOutsideMembers,
          byHomeUnit: servedFigures.byHomeUnit.map((row) => ({
            unit: unitView(tree, row.unitId)!,
            earned: row.earned,
            people: row.people,
          })),
          members: servedFigures.members.map((m) => ({
            person: personView(m.personId),
            homeUnits: views(m.homeUnitIds),
            earned: m.earned,
            services: m.services,
          })),
        },
      };
    },
  };
}

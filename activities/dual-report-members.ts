import type { mongo } from 'mongoose';
import { BEIJING_OFFSET_MS } from '../lang/beijing';
import type { LookedUpMember, LookupResult } from '../lang/lookup';
import { MAX_LOOKUP_SUMMARY } from '../lang/lookup';
import { childrenByParent, unitsAtOrBelow } from '../common/org-tree';
import type { StoredPointsEntry } from '../common/points-ledger';
import { earningsIn, MAX_UNITS_READ_ONE_BY_ONE, servedFiguresOf } from '../common/points-report';
import type { ActivityDependencies } from './dependencies';

/**
 * The `lookup` step's `dual-report-members` source (读取双报到党员): the members who reported to
 * the case's unit (a community) in a year, read from the registrations (`dual-report` cases filed
 * for the unit or under it) and the points ledger (积分台账: what members of outside units earned
 * serving there, summed by common/points-report.ts as the API's per-unit report sums it). Reads
 * through equalities FerretDB v1 pushes down (`definitionKey` and `unitId`; `unitId` and `kind`),
 * one query per unit of the subtree (a community's handful of grids and compounds).
 */

/** The process whose cases are the registrations (definitions/dual-report.yaml). */
export const REGISTRATION_PROCESS = 'dual-report';

/** Registrations one lookup reads at most (chosen: ten times the most members it returns). */
const MAX_REGISTRATIONS = 5_000;

/** Case statuses that are not a registration: declined (不予登记), withdrawn, failed. */
const NOT_REGISTERED: ReadonlySet<string> = new Set(['rejected', 'cancelled', 'failed']);

export interface ReadDualReportMembersRequest {
  caseId: string;
  /** The case's unit (the community): registrations and earnings at or below it. */
  unitId: string | null;
  /** The Beijing calendar year read. */
  year: number;
  /** The most members the lookup takes (the step's `max`). */
  max: number;
}

export type ReadDualReportMembersResult =
  | { refused: false; result: LookupResult }
  | {
      refused: true;
      reason: 'no-unit' | 'too-many-members' | 'too-many-entries' | 'too-many-registrations';
      count: number;
    };

/** The instants a Beijing calendar year starts and ends. */
export function beijingYear(year: number): { from: Date; to: Date } {
  return {
    from: new Date(Date.UTC(year, 0, 1) - BEIJING_OFFSET_MS),
    to: new Date(Date.UTC(year + 1, 0, 1) - BEIJING_OFFSET_MS),
  };
}

export function createDualReportMemberActivities(deps: ActivityDependencies) {
  const { Case, Unit, Person, PointsEntry } = deps.models;
  const ledger = PointsEntry.collection as unknown as mongo.Collection<StoredPointsEntry>;

  /** The registrations filed for these units: `{ member, workUnit }` of each one standing. */
  async function registrationsIn(
    unitIds: readonly string[],
    before: Date,
  ): Promise<Array<{ member: string; workUnit: string | null }> | null> {
    // A registration's data is three small fields (member, workUnit, services).
    const projection = { data: 1, status: 1, createdAt: 1 };
    const filters =
      unitIds.length > MAX_UNITS_READ_ONE_BY_ONE
        ? [{ definitionKey: REGISTRATION_PROCESS, unitId: { $in: [...unitIds] } }]
        : unitIds.map((unitId) => ({ definitionKey: REGISTRATION_PROCESS, unitId }));
    const found: Array<{ member: string; workUnit: string | null }> = [];
    for (const filter of filters) {
      const cases = await Case.find(filter, projection)
        .limit(MAX_REGISTRATIONS + 1)
        .lean();
      for (const c of cases) {
        if (NOT_REGISTERED.has(c.status) || c.createdAt >= before) continue;
        const data = (c.data ?? {}) as { member?: unknown; workUnit?: unknown };
        if (typeof data.member !== 'string') continue;
        found.push({
          member: data.member,
          workUnit: typeof data.workUnit === 'string' ? data.workUnit : null,
        });
      }
      if (found.length > MAX_REGISTRATIONS) return null;
    }
    return found;
  }

  return {
    /** The members of the case's unit in the year (see the top), at most `max` of them. */
    async readDualReportMembers(
      request: ReadDualReportMembersRequest,
    ): Promise<ReadDualReportMembersResult> {
      if (request.unitId === null) return { refused: true, reason: 'no-unit', count: 0 };
      const units = await Unit.find({}, { _id: 1, parentId: 1, name: 1 }).lean();
      const names = new Map(units.map((u) => [u._id, u.name]));
      const subtree = unitsAtOrBelow(
        childrenByParent(units.map((u) => ({ id: u._id, parentId: u.parentId ?? null }))),
        [request.unitId],
      );
      const ids = [...subtree].sort();
      const period = beijingYear(request.year);
      const [registrations, earnings] = await Promise.all([
        registrationsIn(ids, period.to),
        earningsIn(ledger, ids, period),
      ]);
      if (registrations === null) {
        return { refused: true, reason: 'too-many-registrations', count: MAX_REGISTRATIONS };
      }
      if (earnings.tooMany) return { refused: true, reason: 'too-many-entries', count: 0 };

      const members = new Map<string, LookedUpMember>();
      const memberOf = (person: string) => {
        const known = members.get(person) ?? {
          person,
          homeUnits: [],
          points: 0,
          services: 0,
          registered: false,
        };
        members.set(person, known);
        return known;
      };
      for (const r of registrations) {
        const m = memberOf(r.member);
        m.registered = true;
        if (r.workUnit !== null && !m.homeUnits.includes(r.workUnit)) m.homeUnits.push(r.workUnit);
      }
      for (const served of servedFiguresOf(earnings.rows, subtree).members) {
        const m = memberOf(served.personId);
        m.points += served.earned;
        m.services += served.services;
        for (const h of served.homeUnitIds) if (!m.homeUnits.includes(h)) m.homeUnits.push(h);
      }
      if (members.size > request.max) {
        return { refused: true, reason: 'too-many-members', count: members.size };
      }
      const list = [...members.values()]
        .map((m) => ({ ...m, homeUnits: [...m.homeUnits].sort() }))
        .sort((a, b) => b.points - a.points || a.person.localeCompare(b.person));
      const people = await Person.find({ _id: { $in: list.map((m) => m.person) } }, { name: 1 })
        .lean()
        .then((found) => new Map(found.map((p) => [p._id, p.name])));
      return {
        refused: false,
        result: {
          status: 'read',
          source: 'dual-report-members',
          period: request.year,
          count: list.length,
          members: list,
          people: list.map((m) => m.person),
          homeUnits: [...new Set(list.flatMap((m) => m.homeUnits))].sort(),
          points: list.reduce((sum, m) => sum + m.points, 0),
          summary: summaryOf(list, people, names),
        },
      };
    },
  };
}

/**
 * One line per member for the secretary's form: 姓名（所在单位）：N 分，M 次 (and 未登记 for one
 * the ledger knows but no registration names), cut at MAX_LOOKUP_SUMMARY characters with the
 * count of those left out.
 */
export function summaryOf(
  members: readonly LookedUpMember[],
  people: ReadonlyMap<string, string>,
  units: ReadonlyMap<string, string>,
): string {
  const lines: string[] = [];
  let length = 0;
  for (const [i, m] of members.entries()) {
    const home = m.homeUnits.map((u) => units.get(u) ?? u).join('、');
    const line =
      `${people.get(m.person) ?? m.person}（${home || '单位未知'}）：${m.points} 分，${m.services} 次` +
      (m.registered ? '' : '，未登记报到');
    const rest = `……另有 ${members.length - i} 人`;
    if (length + line.length + 1 + rest.length > MAX_LOOKUP_SUMMARY) {
      lines.push(rest);
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n');
}

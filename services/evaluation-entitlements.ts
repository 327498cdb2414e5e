import type { Candidate } from '../common/case';
import type { RoundGroup } from '../common/evaluation';
import { childrenByParent, unitsAtOrBelow } from '../common/org-tree';
import type { Models } from '../models';
import type { Principal } from './auth';

/**
 * Who may score which order of an evaluation round: in a `requester` group, the account that filed
 * it (the resident served); in a selector group, the people the group's selectors found when the
 * round opened, for the orders at or below the unit they hold their post in (for a co-building
 * unit or a department, the unit it is hung under: the community or street it serves).
 */

/** Unit types hung under the community or street they serve rather than scoring their own subtree. */
const HUNG_UNDER_TYPES = new Set(['cobuilding', 'department']);

/** For each order, the groups the principal may score it in. */
export async function scoringEntitlements(
  unitModel: Models['Unit'],
  principal: Principal,
  groups: readonly RoundGroup[],
  items: ReadonlyArray<{ caseId: string; unitId?: string | null; requesterId: string }>,
): Promise<Map<string, string[]>> {
  const byItem = new Map<string, string[]>();
  const mine = groups.flatMap((g) =>
    g.requester
      ? []
      : g.scorers
          .filter((s: Candidate) => s.userId !== null && s.userId === principal.id)
          .map((s) => ({ group: g.id, unitId: s.unitId })),
  );
  let allowed = new Map<string, Set<string>>();
  if (mine.length > 0) {
    const units = await unitModel.find({}, { _id: 1, parentId: 1, type: 1 }).lean();
    const parent = new Map(units.map((u) => [u._id, u]));
    const children = childrenByParent(
      units.map((u) => ({ id: u._id, parentId: u.parentId ?? null })),
    );
    allowed = new Map();
    for (const { group, unitId } of mine) {
      const unit = parent.get(unitId);
      const root = unit && HUNG_UNDER_TYPES.has(unit.type) ? (unit.parentId ?? unitId) : unitId;
      const set = allowed.get(group) ?? new Set<string>();
      for (const id of unitsAtOrBelow(children, [root])) set.add(id);
      allowed.set(group, set);
    }
  }
  for (const item of items) {
    const list: string[] = [];
    for (const group of groups) {
      if (group.requester) {
        if (principal.kind === 'user' && item.requesterId === principal.id) list.push(group.id);
      } else if (item.unitId && allowed.get(group.id)?.has(item.unitId)) {
        list.push(group.id);
      }
    }
    byItem.set(item.caseId, list);
  }
  return byItem;
}

import type { Candidate } from '../common/case';
import type { RoundGroup } from '../common/evaluation';
import { unitsAtOrBelow } from '../common/org-tree';
import type { Principal } from './auth';
import type { OrgSnapshot } from '../common/org-snapshot';

/**
 * Who may score which order of an evaluation round: in a `requester` group, the account that filed
 * it; in a `served` group (`residentsOnly`), that account only when it is a resident's (the
 * resident served, not staff who filed it for somebody); in a selector group (co-building units,
 * social organisations, 居民代表 `resident-rep`), the people the group's selectors found when the
 * round opened, for the orders at or below the unit they hold their post in (for a co-building
 * unit or a department, the unit it is hung under: the community or street it serves).
 */

/** Unit types hung under the community or street they serve rather than scoring their own subtree. */
const HUNG_UNDER_TYPES = new Set(['cobuilding', 'department']);

/**
 * For each order, the groups the principal may score it in. The unit tree comes from the process's
 * org snapshot (`org.units()`, the scope resolver's), not a read of every unit per call.
 */
export async function scoringEntitlements(
  org: { units(): Promise<OrgSnapshot> },
  principal: Principal,
  groups: readonly RoundGroup[],
  items: ReadonlyArray<{
    caseId: string;
    unitId?: string | null;
    requesterId: string;
    requesterResident?: boolean | null;
  }>,
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
    const { byId: parent, children } = await org.units();
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
        if (
          principal.kind === 'user' &&
          item.requesterId === principal.id &&
          (!group.residentsOnly || item.requesterResident === true)
        ) {
          list.push(group.id);
        }
      } else if (item.unitId && allowed.get(group.id)?.has(item.unitId)) {
        list.push(group.id);
      }
    }
    byItem.set(item.caseId, list);
  }
  return byItem;
}

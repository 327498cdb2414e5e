import type { Principal } from './auth';

/**
 * Org scope, in one place: which cases a principal may see. Admins see all; dispatchers and
 * staff see cases of their units; everyone sees the cases they started themselves (a resident
 * follows their own requests, a system its own submissions).
 */
export interface ScopedCase {
  createdBy: { id: string };
  unitId?: string | null;
}

export function canSeeCase(principal: Principal, item: ScopedCase): boolean {
  if (principal.roles.includes('admin')) return true;
  if (item.createdBy.id === principal.id) return true;
  return (
    seesUnitCases(principal) &&
    typeof item.unitId === 'string' &&
    principal.unitIds.includes(item.unitId)
  );
}

/** The same rule as {@link canSeeCase}, as a MongoDB filter for list queries. */
export function caseScopeFilter(principal: Principal): Record<string, unknown> {
  if (principal.roles.includes('admin')) return {};
  const own = { 'createdBy.id': principal.id };
  if (!seesUnitCases(principal) || principal.unitIds.length === 0) return own;
  return { $or: [own, { unitId: { $in: principal.unitIds } }] };
}

function seesUnitCases(principal: Principal): boolean {
  return principal.roles.includes('dispatcher') || principal.roles.includes('staff');
}

/** Whether a principal may file a case for a unit: its own units, or any unit for admins. */
export function mayActForUnit(principal: Principal, unitId: string): boolean {
  if (principal.roles.includes('admin')) return true;
  if (principal.roles.includes('resident') || principal.roles.includes('system')) return true;
  return principal.unitIds.includes(unitId);
}

import type { Models } from '../models';

/**
 * The points ledger's stored entry and where an entry belongs (the person's own units, the
 * community served): shared by the engine's awards (activities/points.ts) and the API's
 * redemptions and adjustments (services/points.ts), so both write the same shape.
 */

/**
 * Post roles through which a person serves a community they reported to (双报到) rather than
 * belongs to: their other posts name their own units (工作单位), the units points are reported
 * back to.
 */
export const REPORTING_ROLES: ReadonlySet<string> = new Set(['party-member', 'volunteer']);

/** A ledger entry as stored in the `points` collection. */
export interface StoredPointsEntry {
  _id: string;
  personId: string;
  kind: 'earn' | 'redeem' | 'adjust';
  /** Positive for earnings, negative for redemptions. */
  delta: number;
  reason: string;
  /** Where: the case's unit for earnings, the redeeming office's unit for redemptions. */
  unitId: string | null;
  /** The community at or above `unitId` (the community served), when there is one. */
  communityId: string | null;
  /** The person's own units (of their posts other than 党员/志愿者 reporting posts) at the time. */
  homeUnitIds: string[];
  caseId: string | null;
  taskId: string | null;
  stepId: string | null;
  definitionKey: string | null;
  ruleIndex: number | null;
  /** Debits only: the person's debit sequence number (see services/points.ts). */
  seq?: number;
  /** Redemptions with an Idempotency-Key: hashes of the key and of the request. */
  requestKey?: string;
  requestHash?: string;
  at: Date;
  by: { kind: string; id: string };
}

/** Where a person belongs and where a unit sits: read from the org data for each write. */
export async function ledgerContext(
  models: Pick<Models, 'Unit' | 'Post'>,
  personId: string,
  unitId: string | null,
): Promise<{ homeUnitIds: string[]; communityId: string | null }> {
  const posts = await models.Post.find({ personId }, { unitId: 1, role: 1 }).lean();
  const homeUnitIds = [
    ...new Set(posts.filter((p) => !REPORTING_ROLES.has(p.role)).map((p) => p.unitId)),
  ].sort();
  let communityId: string | null = null;
  // Up the tree from the unit to the nearest community (a handful of `_id` reads at most).
  for (let id = unitId, depth = 0; id !== null && depth < 32; depth++) {
    const unit = await models.Unit.findById(id, { type: 1, parentId: 1 }).lean();
    if (!unit) break;
    if (unit.type === 'community') {
      communityId = unit._id;
      break;
    }
    id = unit.parentId ?? null;
  }
  return { homeUnitIds, communityId };
}

import type { mongo } from 'mongoose';
import { awardKey } from '../lang/points';
import { isDuplicateKeyError } from '../models';
import type { Models } from '../models';
import type { ActivityDependencies } from '.';

/** What the interpreter asks the ledger to write when a step earned points. */
export interface AwardPointsRequest {
  caseId: string;
  /** `<case id>.<step id>.<visit>`: the task or pool that completed. */
  taskId: string;
  stepId: string;
  definitionKey: string;
  /** The case's unit: where the points were earned. */
  caseUnitId: string | null;
  /** When the step completed (workflow time): the entries' `at`. */
  at: string;
  awards: Array<{ personId: string; ruleIndex: number; points: number; reason: string }>;
}

export interface AwardPointsResult {
  /** Entries written now. */
  awarded: number;
  /** Entries an earlier attempt (or replay) had already written. */
  already: number;
  /** People the org data does not know: nothing is written for them. */
  unknown: number;
}

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
  /** Debits only: the person's debit sequence number (see api/services/points.ts). */
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

/**
 * The points ledger's side of the interpreter: each award is inserted under its key (case, task,
 * person, rule), so an activity retried after a lost completion, or a replayed workflow, finds
 * the entry there and writes nothing more.
 */
export function createPointsActivities(deps: ActivityDependencies) {
  const { Person, PointsEntry } = deps.models;
  const raw = PointsEntry.collection as unknown as mongo.Collection<StoredPointsEntry>;

  return {
    async awardPoints(request: AwardPointsRequest): Promise<AwardPointsResult> {
      const result: AwardPointsResult = { awarded: 0, already: 0, unknown: 0 };
      for (const award of request.awards) {
        const _id = awardKey(request.caseId, request.taskId, award.personId, award.ruleIndex);
        if (await PointsEntry.exists({ _id })) {
          result.already++;
          continue;
        }
        if (!(await Person.exists({ _id: award.personId }))) {
          result.unknown++;
          continue;
        }
        const context = await ledgerContext(deps.models, award.personId, request.caseUnitId);
        try {
          await raw.insertOne({
            _id,
            personId: award.personId,
            kind: 'earn',
            delta: award.points,
            reason: award.reason,
            unitId: request.caseUnitId,
            communityId: context.communityId,
            homeUnitIds: context.homeUnitIds,
            caseId: request.caseId,
            taskId: request.taskId,
            stepId: request.stepId,
            definitionKey: request.definitionKey,
            ruleIndex: award.ruleIndex,
            at: new Date(request.at),
            by: { kind: 'system', id: 'engine' },
          });
          result.awarded++;
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          result.already++;
        }
      }
      if (result.unknown > 0) {
        deps.logger.warn(
          { caseId: request.caseId, taskId: request.taskId, unknown: result.unknown },
          'points not awarded to people the org data does not know',
        );
      }
      return result;
    },
  };
}

import type { mongo } from 'mongoose';
import { awardKey } from '../lang/points';
import { isDuplicateKeyError } from '../models';
import type { ActivityDependencies } from './dependencies';
import type { StoredPointsEntry } from '../common/points-ledger';
import { ledgerContext } from '../common/points-ledger';

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

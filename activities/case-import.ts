import { ApplicationFailure } from '@temporalio/activity';
import type { ImportedCaseDocument } from '../common/case-import';
import { importedTimeline } from '../common/case-import';
import { storedMetrics } from '../common/case-measures';
import { isDuplicateKeyError } from '../models';
import type { ActivityDependencies } from './dependencies';
import type { ListKeys } from './list-days';
import { syncCaseRollup } from './metric-rollups';

/**
 * Writes imported (historical) cases: the case document, closed, with its timeline and figures.
 * Idempotent: a record already written under its case id with the same content hash is left as
 * it is; one with another hash is refused (two sources claiming one id), never overwritten.
 */
export function createCaseImportActivities(
  deps: ActivityDependencies,
  /** The worker's one day-key writer (its unit tree is read once per org revision, shared). */
  listKeys: ListKeys,
) {
  const { Case } = deps.models;
  return {
    async importCase(record: ImportedCaseDocument): Promise<'imported' | 'already-there'> {
      const { timeline, metrics } = importedTimeline(record);
      const keys = await keysOfRecord(record);
      try {
        await Case.create({
          ...keys,
          _id: record.caseId,
          revision: 1,
          status: record.status,
          definitionKey: record.definitionKey,
          definitionVersion: record.definitionVersion,
          definitionName: record.definitionName,
          currentStep: null,
          data: record.data,
          createdBy: record.createdBy,
          ...(record.unitId !== null ? { unitId: record.unitId } : {}),
          ...(record.category !== null ? { category: record.category } : {}),
          channel: 'import',
          requestHash: record.requestHash,
          createdAt: new Date(record.receivedAt),
          updatedAt: new Date(record.closedAt),
          closedAt: new Date(record.closedAt),
          timeline: timeline.map((entry) => ({ ...entry, at: new Date(entry.at) })),
          deadlines: [],
          rating: record.rating,
          publication: record.publication,
          metrics: storedMetrics(metrics),
          ...(record.servedBy !== undefined ? { servedBy: record.servedBy } : {}),
        });
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
        return alreadyThere(record);
      }
      // Outside the create's catch: a duplicate key here (a day marker) is not this case's.
      await listKeys.countKeys(keys);
      await syncCaseRollup(deps.models, record.caseId);
      return 'imported';
    },
  };

  function keysOfRecord(record: ImportedCaseDocument) {
    return listKeys.keysOf({
      createdAt: new Date(record.receivedAt),
      unitId: record.unitId,
      createdBy: record.createdBy,
      publication: record.publication,
      // Keyed roots of its process, category and final state (common/list-days.ts).
      definitionKey: record.definitionKey,
      category: record.category,
      status: record.status,
      overdue: storedMetrics(importedTimeline(record).metrics).overdue === 1,
    });
  }

  /** The record's case exists: the same content (an earlier attempt) or a conflict. */
  async function alreadyThere(record: ImportedCaseDocument): Promise<'already-there'> {
    const stored = await Case.findById(record.caseId, { requestHash: 1 }).lean();
    if (stored?.requestHash === record.requestHash) {
      // An earlier attempt may have written the case and lost its roll-up, its markers' stamps
      // (the seals recount the days it marks). Imported cases are closed: no open entry.
      await listKeys.touchKeys(await keysOfRecord(record));
      await syncCaseRollup(deps.models, record.caseId);
      return 'already-there';
    }
    throw ApplicationFailure.nonRetryable(
      `Case ${record.caseId} already exists with other content`,
      'ImportConflict',
    );
  }
}

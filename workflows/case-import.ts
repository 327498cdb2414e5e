import { proxyActivities } from '@temporalio/workflow';
import type { CaseActivities } from '../activities';
import type { ImportedCaseDocument } from '../common/case-import';

export const CASE_IMPORT_WORKFLOW_TYPE = 'caseImportWorkflow';

export interface CaseImportResult {
  imported: number;
  alreadyThere: number;
}

const importer = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['ImportConflict'],
  },
});

/** How many records one activity call writes at most at once (FerretDB handles few writers well). */
const PARALLEL_WRITES = 4;

/**
 * One batch of historical cases (历史工单导入), checked by the API before it starts this: each
 * record is written by an activity, idempotently, so a batch run again (or a worker restart in
 * the middle) writes each case once.
 */
export async function caseImportWorkflow(
  records: ImportedCaseDocument[],
): Promise<CaseImportResult> {
  const result: CaseImportResult = { imported: 0, alreadyThere: 0 };
  for (let start = 0; start < records.length; start += PARALLEL_WRITES) {
    const outcomes = await Promise.all(
      records.slice(start, start + PARALLEL_WRITES).map((record) => importer.importCase(record)),
    );
    for (const outcome of outcomes) {
      if (outcome === 'imported') result.imported++;
      else result.alreadyThere++;
    }
  }
  return result;
}

import { proxyActivities } from '@temporalio/workflow';
import type { CaseActivities } from '../activities';

export const RECONCILE_CASES_WORKFLOW_TYPE = 'reconcileCasesWorkflow';

const reconciler = proxyActivities<CaseActivities>({
  // A pass reads at most 10 000 executions (activities/case-failures.ts): minutes, not hours.
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumAttempts: 3 },
});

/**
 * One pass of the case reconciler, started by its Temporal Schedule every few minutes
 * (services/case-failures.ts): case executions that ended without closing their case are
 * projected `failed` or `cancelled` and the administrators mailed.
 */
export async function reconcileCasesWorkflow(): Promise<{ scanned: number; ended: number }> {
  return reconciler.reconcileCases();
}

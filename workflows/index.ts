// The worker bundles this file: every workflow type the engine runs is exported here.
export { caseWorkflow } from './case-workflow';
export { caseStateQuery } from './handlers';
export { scheduledCaseWorkflow } from './scheduled';
export { caseImportWorkflow } from './case-import';
export type { CaseStateView } from './case-workflow';
export { fanOutBatchWorkflow } from './fan-out-batch';
export { reconcileCasesWorkflow } from './reconciler';

// The worker bundles this file: every workflow type the engine runs is exported here.
export { caseWorkflow, caseStateQuery } from './case-workflow';
export { scheduledCaseWorkflow } from './scheduled';
export { caseImportWorkflow } from './case-import';
export type { CaseStateView } from './case-workflow';

import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { CaseActivities } from '../activities';

/**
 * Activity stubs the interpreter calls, grouped by retry policy. Reads and the read model must
 * eventually succeed, so they retry without limit but back off. The mail activity only renders
 * and enqueues (delivery retries happen in the worker's outbox dispatcher, for days); an enqueue
 * that still fails after its retries is recorded on the case.
 */
export const store = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export const lookups = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    // A definition naming a process that does not exist cannot be fixed by retrying.
    nonRetryableErrorTypes: ['DefinitionNotFound', 'CalendarError'],
  },
});

export const mail = proxyActivities<CaseActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '15 minutes',
    maximumAttempts: 8,
    nonRetryableErrorTypes: ['TemplateError', 'InvalidRecipient'],
  },
});

/**
 * Quick reads of admin data (who holds a post) as local activities: they run in the worker that
 * runs the case, without a round trip through the task queue between two human steps.
 */
export const localLookups = proxyLocalActivities<CaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

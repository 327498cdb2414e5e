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

/**
 * The read model's writes as local activities (workflows/projection.ts, for cases that recorded
 * the local-projection-writes change): run by the worker that runs the case, inside the workflow
 * task that asked for them, retried as {@link store} is.
 */
export const localStore = proxyLocalActivities<CaseActivities>({
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

/**
 * How long a roster activity may go without a heartbeat before the server takes its worker for
 * dead and runs it again elsewhere (chosen: 1 minute; the activities beat per mail and per batch
 * of entries, each seconds at most). Without it, a worker killed mid-roster held the roll-call
 * until the start-to-close timeout (10 minutes).
 */
const ROSTER_HEARTBEAT_TIMEOUT = '1 minute';

/**
 * A roster roll-call's mails (activities/roll-calls.ts): one activity mails a whole roster a few
 * at a time, so it may run for minutes (chosen: 10). The mails still failing retry with the
 * activity (sent ones are not sent again) and are given up on its 8th attempt, as `mail` does.
 */
export const rollCallMail = proxyActivities<CaseActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: ROSTER_HEARTBEAT_TIMEOUT,
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '15 minutes',
    maximumAttempts: 8,
    nonRetryableErrorTypes: ['TemplateError', 'InvalidRecipient'],
  },
});

/**
 * A roster roll-call's opening, figures and closing (activities/roll-calls.ts): writes and counts
 * over one document per person, so longer than a lookup (chosen: 5 minutes); retried like the
 * read model, without limit.
 */
export const roster = proxyActivities<CaseActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * The roster's opening (resolving the people and writing an entry each), which beats per batch:
 * a worker killed while it writes thousands of entries is noticed within the heartbeat timeout.
 * The figures and the close are one query or update each and cannot beat between, so they keep
 * `roster`'s options.
 */
export const rosterOpening = proxyActivities<CaseActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: ROSTER_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Logger } from '../common/logger';
import type { Models } from '../models';
import { isDuplicateKeyError } from '../models';

/** The longest error text an alert keeps (chosen: enough to name the cause, not a dump). */
const MAX_ERROR_LENGTH = 300;

export interface StuckActivityAlertDependencies {
  models: Pick<Models, 'ActivityAlert'>;
  clock: () => Date;
  logger: Logger;
  /** How long an activity may keep failing before it raises an alert (STUCK_ACTIVITY_ALERT_SECONDS). */
  thresholdMs: number;
}

/**
 * The worker's activity interceptor that turns "retries for ever, silently" into an alert: an
 * activity whose attempts keep failing for longer than the threshold since its first attempt was
 * scheduled records an alert document (once per activity execution; later failures keep its
 * attempt count and last error current), and clears it when an attempt finally succeeds or the
 * last one fails (the reconciler clears what this missed: case-failures.ts). The
 * reconciler's pass mails the admins of each new alert once (activities/case-failures.ts), the
 * admin API and console list the open ones. Only failures Temporal will retry count: a final
 * failure is the workflow's to handle (the case is projected failed).
 *
 * Bookkeeping never changes the activity's outcome: its own errors are logged and dropped. A
 * healthy activity costs nothing here (no store access before the threshold).
 */
export function stuckActivityAlerts(
  deps: StuckActivityAlertDependencies,
): ActivityInterceptorsFactory {
  const { ActivityAlert } = deps.models;

  function alertIdOf(info: Context['info']): string {
    const run = info.workflowExecution;
    return `${run?.workflowId ?? '-'}:${run?.runId ?? '-'}:${info.activityId}`;
  }

  function pastThreshold(info: Context['info']): boolean {
    return deps.clock().getTime() - info.scheduledTimestampMs >= deps.thresholdMs;
  }

  async function raise(info: Context['info'], err: unknown): Promise<void> {
    const now = deps.clock();
    const lastError = describe(err);
    const _id = alertIdOf(info);
    try {
      await ActivityAlert.create({
        _id,
        workflowId: info.workflowExecution?.workflowId ?? '-',
        runId: info.workflowExecution?.runId ?? '-',
        activityId: info.activityId,
        activityType: info.activityType,
        workflowType: info.workflowType ?? null,
        local: info.isLocal,
        since: new Date(info.scheduledTimestampMs),
        attempts: info.attempt,
        lastError,
        lastFailedAt: now,
      });
      deps.logger.warn(
        { alertId: _id, activityType: info.activityType, attempts: info.attempt },
        'an activity has kept failing past the alert threshold',
      );
    } catch (e) {
      if (!isDuplicateKeyError(e)) throw e;
      // Raised before: only this activity's own (serial) attempts write it.
      await ActivityAlert.updateOne(
        { _id },
        { $set: { attempts: info.attempt, lastError, lastFailedAt: now } },
      );
    }
  }

  async function resolve(info: Context['info'], resolution: 'succeeded' | 'failed'): Promise<void> {
    await ActivityAlert.updateOne(
      { _id: alertIdOf(info), resolvedAt: null },
      { $set: { resolvedAt: deps.clock(), attempts: info.attempt, resolution } },
    );
  }

  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const info = ctx.info;
        let result: unknown;
        try {
          result = await next(input);
        } catch (err) {
          if (willRetry(info, err)) {
            if (pastThreshold(info)) {
              await raise(info, err).catch((e: unknown) =>
                deps.logger.warn({ err: (e as Error).name }, 'activity alert not recorded'),
              );
            }
          } else if (info.attempt > 1 && pastThreshold(info)) {
            // Its last attempt: nothing is stuck any more, the workflow has the failure.
            await resolve(info, 'failed').catch((e: unknown) =>
              deps.logger.warn({ err: (e as Error).name }, 'activity alert not cleared'),
            );
          }
          throw err;
        }
        // Only an activity old enough to have raised an alert can have one to clear.
        if (info.attempt > 1 && pastThreshold(info)) {
          await resolve(info, 'succeeded').catch((e: unknown) =>
            deps.logger.warn({ err: (e as Error).name }, 'activity alert not cleared'),
          );
        }
        return result;
      },
    },
  });
}

/** Whether Temporal retries this failure: not a non-retryable one, not the last attempt. */
function willRetry(info: Context['info'], err: unknown): boolean {
  if ((err as { nonRetryable?: boolean } | null)?.nonRetryable === true) return false;
  const type = (err as { type?: string; name?: string } | null)?.type ?? (err as Error)?.name;
  if (type && info.retryPolicy?.nonRetryableErrorTypes?.includes(type)) return false;
  const max = info.retryPolicy?.maximumAttempts ?? 0;
  return max === 0 || info.attempt < max;
}

function describe(err: unknown): string {
  const e = err as { type?: string; name?: string; message?: string } | null;
  const text = `${e?.type ?? e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { REJECTION } from '../common/case';
import type { ErrorDetail } from './errors';
import { AppError } from './errors';

/**
 * What Temporal answers when an Update on a case is refused or comes too late, as the HTTP errors
 * the task and evaluation actions give their callers.
 */

const REJECTION_KINDS: Record<string, AppError['kind']> = {
  [REJECTION.notFound]: 'not_found',
  [REJECTION.forbidden]: 'forbidden',
  [REJECTION.conflict]: 'conflict',
  [REJECTION.invalid]: 'unprocessable',
};

/** Maps an Update's rejection to the HTTP error the caller should see. */
export function asAppError(err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError) {
    return new AppError('conflict', 'The case is no longer running');
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const failure = err.cause;
    const kind = REJECTION_KINDS[failure.type ?? ''];
    if (kind) {
      const problems = (failure.details?.[0] ?? []) as ErrorDetail[];
      return new AppError(
        kind,
        failure.message,
        Array.isArray(problems)
          ? problems.map((p) => ({ path: `body.${p.path}`, message: p.message }))
          : [],
      );
    }
  }
  if (
    err instanceof Error &&
    /already completed|workflow execution.*(completed|closed)/i.test(err.message)
  ) {
    return new AppError('conflict', 'The case is no longer running');
  }
  return err;
}

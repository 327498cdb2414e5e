import type { Client } from '@temporalio/client';
import {
  isGrpcServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { REJECTION } from '../common/case';
import type { ErrorDetail } from './errors';
import { AppError } from './errors';

/**
 * What Temporal answers when an Update or a start is refused, fails or comes too late, as the HTTP
 * errors the case, task and evaluation actions give their callers; and the deadline those calls
 * run under, so a stuck server is a 503 rather than a request that hangs.
 */

const REJECTION_KINDS: Record<string, AppError['kind']> = {
  [REJECTION.notFound]: 'not_found',
  [REJECTION.forbidden]: 'forbidden',
  [REJECTION.conflict]: 'conflict',
  [REJECTION.invalid]: 'unprocessable',
};

/**
 * The server's failure for an accepted Update whose workflow completed (or continued as new)
 * first. Cases continue as new only when no Update handler runs (workflows/continuation.ts), so
 * this is rare; an Update the server had not yet accepted is retried by the client on the new run.
 */
const UPDATE_OUTLIVED_WORKFLOW = 'AcceptedUpdateCompletedWorkflow';

/** gRPC status codes (grpc/status.proto), as the client's errors carry them. */
const GRPC = {
  CANCELLED: 1,
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
} as const;

/** Seconds a caller waits before retrying when Temporal is down or slow. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
/** Seconds before retrying when the workflow has too many Updates in flight: they finish fast. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * Runs Temporal calls (an Update, a start) under a deadline: past it the call fails with
 * `DEADLINE_EXCEEDED`, which {@link asAppError} answers as 503.
 */
export function withCallDeadline<R>(
  temporal: Client,
  timeoutMs: number,
  fn: () => Promise<R>,
): Promise<R> {
  return temporal.withDeadline(Date.now() + timeoutMs, fn);
}

/**
 * Maps what an Update or a start threw to the HTTP error the caller should see; anything else is
 * returned as it is (a 500). `subject` names what the workflow is to the caller.
 */
export function asAppError(err: unknown, subject = 'case'): unknown {
  if (err instanceof WorkflowNotFoundError) {
    return new AppError('conflict', `The ${subject} is no longer running`);
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const failure = err.cause;
    if (failure.type === UPDATE_OUTLIVED_WORKFLOW) {
      // The run ended, or continued as new (a case whose history grew long goes on in a new run
      // of the same id): the caller looks again and, if the case is still open, retries.
      return new AppError(
        'conflict',
        `The ${subject} ended or went on in a new run before this action completed; retry if it is still open`,
        [],
        { retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS },
      );
    }
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
  const refusal = serverRefusal(err, subject);
  if (refusal) return refusal;
  if (
    err instanceof Error &&
    /already completed|workflow execution.*(completed|closed)/i.test(err.message)
  ) {
    return new AppError('conflict', `The ${subject} is no longer running`);
  }
  return err;
}

/** The gRPC refusals: Temporal's per-workflow Update limits, and Temporal down or too slow. */
function serverRefusal(err: unknown, subject: string): AppError | undefined {
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return unavailable();
  // A connection that fails or breaks is a gRPC UNAVAILABLE too; what carries no gRPC status is
  // not a refusal of the server's (a 500).
  const grpc = grpcErrorIn(err);
  if (!grpc) return undefined;
  switch (grpc.code) {
    case GRPC.RESOURCE_EXHAUSTED:
      return /concurrent in-flight updates/i.test(grpc.details)
        ? new AppError(
            'too_many_requests',
            `The ${subject} is busy with other actions; retry in a moment`,
            [],
            { retryAfterSeconds: IN_FLIGHT_RETRY_AFTER_SECONDS },
          )
        : new AppError('too_many_requests', 'Temporal is over its limits; retry shortly', [], {
            retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
          });
    case GRPC.FAILED_PRECONDITION:
      return /limit on number of total updates/i.test(grpc.details)
        ? new AppError(
            'conflict',
            `The ${subject} has taken all the actions it can (Temporal's limit on Updates per run)`,
          )
        : undefined;
    case GRPC.UNAVAILABLE:
    case GRPC.DEADLINE_EXCEEDED:
    case GRPC.CANCELLED:
      return unavailable();
    default:
      return undefined;
  }
}

function unavailable(): AppError {
  return new AppError(
    'unavailable',
    'The workflow service did not answer in time; retry shortly (with the same Idempotency-Key, an action is not done twice)',
    [],
    { retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS },
  );
}

/** The gRPC error an SDK error wraps (its `cause` chain), or the error itself. */
function grpcErrorIn(err: unknown): { code: number; details: string } | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (isGrpcServiceError(e)) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

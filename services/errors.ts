import { isStoreUnreachableError } from '../models';

/**
 * Errors a service may throw for the caller to act on; the route pipeline maps each kind to its
 * HTTP status. Anything else becomes a logged, generic 500.
 */
export type ErrorKind =
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'unavailable';

const STATUS: Record<ErrorKind, number> = {
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  too_many_requests: 429,
  unavailable: 503,
};

export interface ErrorDetail {
  /** Where the problem is, e.g. `body.data.category` or `headers.idempotency-key`. */
  path: string;
  message: string;
}

export interface AppErrorOptions {
  /**
   * When a retry may succeed: the edges answer it as `Retry-After` (seconds). Only for refusals
   * that pass (`too_many_requests`, `unavailable`); a refusal that lasts has none.
   */
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly details: ErrorDetail[] = [],
    options: AppErrorOptions = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return STATUS[this.kind];
  }
}

/** The body of every error response. */
export interface ErrorBody {
  error: {
    code: ErrorKind | 'internal';
    message: string;
    details: ErrorDetail[];
    requestId: string;
  };
}

/** Seconds a caller waits before retrying when the store is down or not answering. */
export const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * A store call that failed because the store could not be reached or stopped answering, as the
 * 503 the edges give (a passing condition, not a bug of ours: logged as one warning line, no
 * stack); undefined for anything else.
 */
export function storeUnavailable(err: unknown): AppError | undefined {
  if (!isStoreUnreachableError(err)) return undefined;
  return new AppError('unavailable', 'The data store is not answering; try again shortly', [], {
    retryAfterSeconds: STORE_RETRY_AFTER_SECONDS,
  });
}

import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError as GrpcServiceError } from '@grpc/grpc-js';
import { callErrorFromStatus } from '@grpc/grpc-js/build/src/call';
import { Connection, WorkflowClient, WorkflowUpdateFailedError } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { defaultPayloadConverter, DefaultFailureConverter } from '@temporalio/common';
import { AppError } from '../../services/errors';
import {
  asAppError,
  IN_FLIGHT_RETRY_AFTER_SECONDS,
  UNAVAILABLE_RETRY_AFTER_SECONDS,
} from '../../services/temporal-errors';

/**
 * Temporal's refusals as the SDK throws them, mapped to the HTTP errors callers get. The errors
 * are built the SDK's own way: grpc-js's call error from a status, wrapped by the workflow
 * client's own rethrow methods; an Update's failure decoded by the SDK's failure converter from
 * the failure the server sends.
 */

/** The workflow client's error wrapping, reached through a subclass (the methods are protected). */
class SdkErrors extends WorkflowClient {
  fromUpdate(err: unknown): unknown {
    try {
      this.rethrowUpdateGrpcError(err, 'Workflow Update failed', { workflowId: 'case-1' });
    } catch (thrown) {
      return thrown;
    }
  }

  fromStart(err: unknown): unknown {
    try {
      this.rethrowGrpcError(err, 'Failed to start Workflow', { workflowId: 'case-1' });
    } catch (thrown) {
      return thrown;
    }
  }
}

/** A gRPC error as grpc-js raises it when the server (or the deadline) ends a call. */
function grpcError(code: status, details: string): GrpcServiceError {
  return callErrorFromStatus({ code, details, metadata: new Metadata() }, 'at test');
}

/** An Update's outcome failure as the SDK decodes it from the server's proto. */
function updateFailure(failure: temporal.api.failure.v1.IFailure): WorkflowUpdateFailedError {
  const cause = new DefaultFailureConverter().failureToError(failure, defaultPayloadConverter);
  return new WorkflowUpdateFailedError('Workflow Update failed', cause);
}

let connection: Connection;
let sdk: SdkErrors;

beforeAll(() => {
  // Lazy: never dials; the client is only used for its error wrapping.
  connection = Connection.lazy({ address: '127.0.0.1:1' });
  sdk = new SdkErrors({ connection });
});

afterAll(async () => {
  await connection.close();
});

function asError(err: unknown): AppError {
  const mapped = asAppError(err);
  expect(mapped).toBeInstanceOf(AppError);
  return mapped as AppError;
}

describe('asAppError', () => {
  it('when the workflow completed or continued as new before an accepted Update completed, then 409 says so with a short Retry-After', () => {
    // Arrange: the server's own failure (service/history/workflow/update/errors_failures.go)
    const err = updateFailure({
      message: 'Workflow Update failed because the Workflow completed before the Update completed.',
      source: 'Server',
      applicationFailureInfo: { type: 'AcceptedUpdateCompletedWorkflow', nonRetryable: true },
    });

    // Act
    const mapped = asError(err);

    // Assert
    expect(mapped.status).toBe(409);
    expect(mapped.message).toBe(
      'The case ended or went on in a new run before this action completed; retry if it is still open',
    );
    expect(mapped.retryAfterSeconds).toBe(IN_FLIGHT_RETRY_AFTER_SECONDS);
  });

  it('when the workflow completed before the Update was accepted, then 409 says the case is no longer running', () => {
    // Arrange
    const err = sdk.fromUpdate(grpcError(status.NOT_FOUND, 'update aborted by closing workflow'));

    // Act
    const mapped = asError(err);

    // Assert
    expect(mapped.status).toBe(409);
    expect(mapped.message).toBe('The case is no longer running');
  });

  it('when the workflow has too many Updates in flight, then 429 with a short Retry-After', () => {
    // Arrange
    const err = sdk.fromUpdate(
      grpcError(
        status.RESOURCE_EXHAUSTED,
        'limit on number of concurrent in-flight updates has been reached (10)',
      ),
    );

    // Act
    const mapped = asError(err);

    // Assert
    expect(mapped.status).toBe(429);
    expect(mapped.kind).toBe('too_many_requests');
    expect(mapped.retryAfterSeconds).toBe(IN_FLIGHT_RETRY_AFTER_SECONDS);
  });

  it('when Temporal is over another limit (rate, payload size), then 429 with Retry-After', () => {
    // Arrange
    const err = sdk.fromUpdate(
      grpcError(
        status.RESOURCE_EXHAUSTED,
        'limit on total payload size of in-flight updates has been reached (20971520 bytes)',
      ),
    );

    // Act
    const mapped = asError(err);

    // Assert
    expect(mapped.status).toBe(429);
    expect(mapped.retryAfterSeconds).toBe(UNAVAILABLE_RETRY_AFTER_SECONDS);
  });

  it('when the workflow has taken its total number of Updates, then 409 without Retry-After', () => {
    // Arrange
    const err = sdk.fromUpdate(
      grpcError(
        status.FAILED_PRECONDITION,
        'limit on number of total updates has been reached (2000)',
      ),
    );

    // Act
    const mapped = asError(err);

    // Assert
    expect(mapped.status).toBe(409);
    expect(mapped.message).toMatch(/has taken all the actions it can/);
    expect(mapped.retryAfterSeconds).toBeUndefined();
  });

  it.each([
    ['the deadline passes during an Update', () => sdk.fromUpdate(deadline())],
    ['the deadline passes during a start', () => sdk.fromStart(deadline())],
    [
      'Temporal cannot be reached',
      () =>
        sdk.fromStart(
          grpcError(status.UNAVAILABLE, 'No connection established. Last error: ECONNREFUSED'),
        ),
    ],
    [
      'an Update is cancelled',
      () => sdk.fromUpdate(grpcError(status.CANCELLED, 'Cancelled on client')),
    ],
  ])('when %s, then 503 with Retry-After', (_what, thrown) => {
    // Act
    const mapped = asError(thrown());

    // Assert
    expect(mapped.status).toBe(503);
    expect(mapped.kind).toBe('unavailable');
    expect(mapped.retryAfterSeconds).toBe(UNAVAILABLE_RETRY_AFTER_SECONDS);
  });

  it('when the workflow rejects an Update as invalid, then 422 names the fields under body', () => {
    // Arrange: the validator's ApplicationFailure (common/case REJECTION), as the server relays it
    const err = updateFailure({
      message: 'The form is not valid',
      source: 'TypeScriptSDK',
      applicationFailureInfo: {
        type: 'Invalid',
        nonRetryable: true,
        details: {
          payloads: [
            defaultPayloadConverter.toPayload([{ path: 'form.note', message: 'required' }]),
          ],
        },
      },
    });

    // Act
    const mapped = asError(err);

    // Assert
    expect(mapped.status).toBe(422);
    expect(mapped.details).toEqual([{ path: 'body.form.note', message: 'required' }]);
  });

  it('when an evaluation round ended first, then the message names the round', () => {
    // Arrange
    const err = sdk.fromUpdate(grpcError(status.NOT_FOUND, 'workflow execution already completed'));

    // Act
    const mapped = asAppError(err, 'evaluation round') as AppError;

    // Assert
    expect(mapped.message).toBe('The evaluation round is no longer running');
  });

  it('when the server fails otherwise (INTERNAL), then the error is left for a logged 500', () => {
    // Arrange
    const err = sdk.fromStart(grpcError(status.INTERNAL, 'something broke'));

    // Act
    const mapped = asAppError(err);

    // Assert
    expect(mapped).toBe(err);
  });
});

function deadline(): GrpcServiceError {
  return grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded after 10.001s');
}

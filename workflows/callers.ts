import { ApplicationFailure } from '@temporalio/workflow';
import { SUPERVISOR_ROLES } from '../common/roles';
import type { ActingPrincipal } from '../common/case';
import { REJECTION } from '../common/case';

/**
 * The people who call a case's Updates: who they are on the timeline, whether they supervise,
 * and how a validator refuses them (`NotFound`, `Forbidden`, `Conflict`, `Invalid` become
 * 404/403/409/422 in the API).
 */

export function isSupervisor(actor: ActingPrincipal): boolean {
  return actor.roles.some((r) => (SUPERVISOR_ROLES as readonly string[]).includes(r));
}

export function reject(type: keyof typeof REJECTION, message: string, problems?: unknown): never {
  throw ApplicationFailure.create({
    type: REJECTION[type],
    message,
    nonRetryable: true,
    ...(problems !== undefined ? { details: [problems] } : {}),
  });
}

export function actorOf(actor: ActingPrincipal) {
  return { kind: actor.kind, id: actor.id };
}

import { z } from 'zod';
import type { RouteRegistry } from '../pipeline';
import type { CaseFailureService } from '../../services/case-failures';
import { MAX_NOTE_LENGTH } from '../../services/case-failures';
import { caseIdParams, errorResponses } from './shared';

const failedCaseSchema = z.object({
  id: z.string(),
  status: z.enum(['open', 'closed', 'rejected', 'cancelled', 'failed']),
  definition: z.object({ key: z.string(), version: z.number().int(), name: z.string() }),
  unitId: z.string().nullable(),
  stepId: z.string().nullable(),
  reason: z.string().nullable(),
  message: z.string().nullable(),
  updatedAt: z.string(),
  execution: z.string().optional().meta({
    description: "Stuck cases: the execution's state in Temporal (TERMINATED, NOT_FOUND…)",
  }),
});

const activityAlertSchema = z.object({
  id: z.string(),
  caseId: z.string().meta({ description: "The workflow id: a case's, or a schedule's run" }),
  workflowType: z.string().nullable(),
  activityType: z.string(),
  since: z.string().meta({ description: 'When its first attempt was scheduled' }),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  lastFailedAt: z.string(),
  mailed: z.boolean(),
});

const listQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }).strict();
const cancelBody = z.object({ note: z.string().trim().min(1).max(MAX_NOTE_LENGTH) }).strict();
const retryBody = z
  .object({
    stepId: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/, 'a step id')
      .optional()
      .meta({ description: 'A top-level step of the latest version; by default the failing step' }),
  })
  .strict();

/** Failed and stuck cases (异常案件) for administrators: list, cancel, retry, reconcile now. */
export function registerCaseFailureRoutes(
  routes: RouteRegistry,
  failures: CaseFailureService,
): void {
  routes.add<undefined, z.infer<typeof listQuery>>({
    method: 'get',
    path: '/api/v1/admin/cases/failed',
    tag: 'cases',
    summary: 'List failed cases, newest first, with their reason',
    roles: ['admin'],
    query: listQuery,
    responses: {
      200: { description: 'Failed cases', schema: z.object({ items: z.array(failedCaseSchema) }) },
      ...errorResponses(400, 401, 403),
    },
    async handle({ principal, query }) {
      return { status: 200, body: await failures.listFailed(principal, query) };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/v1/admin/cases/stuck',
    tag: 'cases',
    summary: 'List open cases whose execution is not running',
    description:
      'Open cases unchanged for 10 minutes whose execution in Temporal is closed or gone (checks the 200 oldest). The reconciler ends closed ones on its next pass; NOT_FOUND ones (past retention) only an admin can cancel.',
    roles: ['admin'],
    responses: {
      200: { description: 'Stuck cases', schema: z.object({ items: z.array(failedCaseSchema) }) },
      ...errorResponses(401, 403),
    },
    async handle({ principal }) {
      return { status: 200, body: await failures.listStuck(principal) };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/v1/admin/activities/stuck',
    tag: 'cases',
    summary: 'List activities failing past the alert threshold',
    description:
      'Activities (a projection, a store write) that have kept failing for longer than STUCK_ACTIVITY_ALERT_SECONDS and have not succeeded since, newest first (at most 200). The admins are mailed of each once by the reconciler pass; the entry leaves the list when the activity succeeds.',
    roles: ['admin'],
    responses: {
      200: {
        description: 'Stuck activities',
        schema: z.object({ items: z.array(activityAlertSchema) }),
      },
      ...errorResponses(401, 403),
    },
    async handle({ principal }) {
      return { status: 200, body: await failures.listStuckActivities(principal) };
    },
  });

  routes.add<z.infer<typeof caseIdParams>, undefined, undefined, z.infer<typeof cancelBody>>({
    method: 'post',
    path: '/api/v1/admin/cases/:id/cancel',
    tag: 'cases',
    summary: 'Cancel an open case with a note',
    description:
      'Terminates the execution if it runs, then projects the case `cancelled`: open tasks withdrawn, clocks stopped, `case.cancelled` on the timeline with the note (no personal data, please).',
    roles: ['admin'],
    params: caseIdParams,
    body: cancelBody,
    responses: {
      200: {
        description: 'Cancelled',
        schema: z.object({ id: z.string(), status: z.literal('cancelled') }),
      },
      ...errorResponses(400, 401, 403, 404, 409),
    },
    async handle({ principal, params, body }) {
      return { status: 200, body: await failures.cancelCase(principal, params.id, body.note) };
    },
  });

  routes.add<z.infer<typeof caseIdParams>, undefined, undefined, z.infer<typeof retryBody>>({
    method: 'post',
    path: '/api/v1/admin/cases/:id/retry',
    tag: 'cases',
    summary: 'Retry a failed case from a step',
    description:
      "Starts a new run of the case under the same id with the latest published version of its process and its data, resuming at `stepId` (by default the step it failed in). Results of the failed run's steps are not carried over.",
    roles: ['admin'],
    params: caseIdParams,
    body: retryBody,
    responses: {
      202: {
        description: 'Retried: the case is open again',
        schema: z.object({
          id: z.string(),
          status: z.literal('open'),
          stepId: z.string(),
          definitionVersion: z.number().int(),
        }),
      },
      ...errorResponses(400, 401, 403, 404, 409, 422),
    },
    async handle({ principal, params, body }) {
      return { status: 202, body: await failures.retryCase(principal, params.id, body) };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/v1/admin/cases/reconcile',
    tag: 'cases',
    summary: 'Run a reconciler pass now',
    roles: ['admin'],
    responses: {
      202: { description: 'Triggered', schema: z.object({ triggered: z.literal(true) }) },
      ...errorResponses(401, 403),
    },
    async handle({ principal }) {
      return { status: 202, body: await failures.reconcileNow(principal) };
    },
  });
}

import { z } from 'zod';
import type { CaseService, CaseSummary, CaseView } from '../../services/cases';
import type { RouteRegistry } from '../pipeline';
import { attachmentViewSchema } from './attachments';
import {
  caseIdParams,
  cursorLink,
  deadlineViewSchema,
  errorResponses,
  idempotencyKey,
  nextSchema,
  pageQuery,
} from './shared';

const caseSummarySchema = z.object({
  id: z.string(),
  status: z.enum(['open', 'closed', 'rejected', 'cancelled', 'failed']),
  definition: z.object({ key: z.string(), version: z.number().int(), name: z.string() }),
  unitId: z.string().nullable(),
  category: z.string().nullable(),
  currentStep: z.object({ id: z.string(), name: z.string(), type: z.string() }).nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  closedAt: z.iso.datetime().nullable(),
});

const caseViewSchema = caseSummarySchema.extend({
  data: z.record(z.string(), z.unknown()),
  createdBy: z.object({ kind: z.string(), id: z.string() }),
  channel: z.string(),
  projected: z.boolean(),
  timeline: z.array(
    z.object({
      seq: z.number().int(),
      type: z.string(),
      at: z.iso.datetime(),
      actor: z.object({ kind: z.string(), id: z.string() }),
      stepId: z.string().optional(),
      via: z.string().optional(),
      detail: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  deadlines: z.array(deadlineViewSchema),
  rating: z
    .object({
      score: z.number().int().nullable(),
      comment: z.string().nullable(),
      at: z.iso.datetime(),
    })
    .nullable(),
  publication: z
    .object({
      title: z.string(),
      outcome: z.string().nullable(),
      fields: z.array(z.object({ label: z.string(), value: z.string() })),
      publishedAt: z.iso.datetime(),
    })
    .nullable(),
  parentCaseId: z.string().nullable(),
  attachments: z.array(attachmentViewSchema).meta({
    description: 'Photos attached to the case, oldest first: who, when, from which task',
  }),
  access: z.enum(['scope', 'rater']).meta({
    description:
      'Why you see the case: `scope` (your units, your own case), or `rater`: a feedback step names you to rate it (docs 6.8), and you see what a rater needs (personal data masked, no step details, no deadlines)',
  }),
  namedRater: z.boolean().meta({
    description: 'You are a rater the waiting feedback step names: you may rate the case now',
  }),
});

const startCaseBody = z
  .object({
    definitionKey: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,62}$/, 'a definition key such as resident-request'),
    data: z
      .record(z.string(), z.unknown())
      .meta({ description: "Field values, as the definition's input fields describe them" }),
    unitId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id')
      .optional()
      .meta({ description: 'A unit of the org tree; an unknown one is refused (422)' }),
    category: z.string().max(63).optional().meta({
      description:
        "One of the process's category codes (诉求类别); required when the process has categories",
    }),
  })
  .strict();

const idempotencyHeaders = z.object({ 'idempotency-key': idempotencyKey });

const DEFINITION_KEY = /^[a-z][a-z0-9-]{1,62}$/;
/** The most processes one list request may name (chosen: a dashboard's worth). */
const MAX_LIST_PROCESSES = 20;

/** `true` or `false`, nothing else (a bare `?overdue` or `yes` is a 400). */
const flag = z
  .enum(['true', 'false'], { error: 'true or false' })
  .transform((v) => v === 'true')
  .optional();

const listQuery = pageQuery.extend({
  status: caseSummarySchema.shape.status.optional(),
  definitionKey: z
    .union([z.string(), z.array(z.string())])
    .transform((v) =>
      (Array.isArray(v) ? v : [v]).flatMap((k) => k.split(',')).map((k) => k.trim()),
    )
    .pipe(
      z
        .array(z.string().regex(DEFINITION_KEY, 'a definition key such as resident-request'))
        .min(1)
        .max(MAX_LIST_PROCESSES, `at most ${MAX_LIST_PROCESSES} processes`),
    )
    .optional()
    .meta({
      description: 'One or more process keys, repeated or comma-separated: cases of any of them',
    }),
  category: z.string().max(63).optional(),
  unitId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id')
    .optional()
    .meta({ description: 'Cases filed for this unit (an unknown unit is a 400)' }),
  subtree: flag.meta({ description: 'With unitId: also the units below it' }),
  from: z.string().max(40).optional().meta({
    description: 'Created on or after: a Beijing day (2026-05-01, from its midnight) or an instant',
  }),
  to: z.string().max(40).optional().meta({
    description: 'Created before: a Beijing day (2026-05-31, included) or an instant (excluded)',
  }),
  before: z.string().max(200).optional().meta({
    description:
      "A page's `next`: the cases after it (keyset paging, cheap at any depth; `page` then counts from it)",
  }),
  overdue: flag.meta({ description: 'Whether a deadline of the case was missed' }),
  escalated: flag.meta({ description: 'Whether an escalation level of the case fired' }),
});

export function registerCaseRoutes(routes: RouteRegistry, cases: CaseService): void {
  routes.add<
    undefined,
    undefined,
    z.infer<typeof idempotencyHeaders>,
    z.infer<typeof startCaseBody>
  >({
    method: 'post',
    path: '/api/v1/cases',
    tag: 'cases',
    summary: 'Start a case',
    description:
      'Starts a case of the latest published version of a process. The Idempotency-Key makes the call safe to retry: the same key and body return the same case (200), the same key with another body is rejected (422). A process with a `limit` (书记项目: 1–2 a year per unit) refuses a start beyond it (409 naming the rule).',
    limit: 'case-start',
    roles: ['admin', 'dispatcher', 'staff', 'resident', 'system'],
    headers: idempotencyHeaders,
    body: startCaseBody,
    responses: {
      201: { description: 'Case started', schema: caseSummarySchema },
      200: {
        description: 'The case this Idempotency-Key already started',
        schema: caseSummarySchema,
      },
      ...errorResponses(400, 401, 403, 409, 422, 429),
    },
    async handle({ principal, headers, body }) {
      const result = await cases.startCase(principal, headers['idempotency-key'], body);
      return {
        status: result.created ? 201 : 200,
        body: result.case satisfies CaseSummary,
        headers: { Location: `/api/v1/cases/${result.case.id}` },
      };
    },
  });

  routes.add<z.infer<typeof caseIdParams>, undefined, undefined, undefined, CaseView>({
    method: 'get',
    path: '/api/v1/cases/:id',
    tag: 'cases',
    summary: 'Get a case with its timeline',
    roles: ['admin', 'dispatcher', 'staff', 'resident', 'system'],
    params: caseIdParams,
    responses: {
      200: { description: 'The case', schema: caseViewSchema },
      ...errorResponses(400, 401, 404),
    },
    // The scope check is part of finding: a case outside the caller's scope does not exist for it.
    find: ({ principal, params }) => cases.getCase(principal, params.id),
    handle: (_ctx, found) => Promise.resolve({ status: 200, body: found }),
  });

  routes.add<undefined, z.infer<typeof listQuery>>({
    method: 'get',
    path: '/api/v1/cases',
    tag: 'cases',
    summary: 'List cases in your scope, newest first',
    description:
      'Filters combine (all must hold): status, processes, category, unit (with subtree=true its whole subtree; results stay within your scope), createdAt from/to (Beijing days or ISO instants), overdue and escalated (true|false). Each bad value is a 400 naming its parameter. Paging: `page` still works; `next` links to the following page by `before` (a cursor: cheap at any depth, where a high `page` reads every case before it). A total the list did not read to its end is an estimate (`totalIsEstimate: true`).',
    roles: ['admin', 'dispatcher', 'staff', 'resident', 'system'],
    query: listQuery,
    responses: {
      200: {
        description: 'A page of cases',
        schema: z.object({
          items: z.array(caseSummarySchema),
          page: z.number().int(),
          pageSize: z.number().int(),
          total: z.number().int().meta({
            description:
              'Cases matching (from `before` on): exact when totalIsEstimate is false, else estimated from per-day counts',
          }),
          totalIsEstimate: z.boolean(),
          next: nextSchema,
        }),
      },
      ...errorResponses(400, 401),
    },
    async handle({ principal, query }) {
      const { definitionKey, ...rest } = query;
      const filters = definitionKey ? { ...rest, definitionKeys: definitionKey } : rest;
      const { nextBefore, ...listed } = await cases.listCases(principal, filters);
      return {
        status: 200,
        body: { ...listed, next: cursorLink('/api/v1/cases', query, nextBefore) },
      };
    },
  });
}

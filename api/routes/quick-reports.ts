import { z } from 'zod';
import type { RouteRegistry } from '../pipeline';
import type { QuickReportService } from '../../services/quick-reports';
import { caseIdParams, errorResponses } from './shared';

/**
 * Quick reports (随手报) from registered mobile grid members, without an account: a one-time
 * code by SMS, then the report (services/quick-reports.ts). Public routes, limited per client
 * address (and the code per phone number).
 */

const phone = z
  .string({ error: 'required: the mobile number you registered with' })
  .max(20)
  .meta({ description: 'A mainland mobile number (`13800138000`, `+86 138 0013 8000`)' });

const codeBody = z.object({ phone }).strict();

const reportBody = z
  .object({
    phone,
    code: z
      .string({ error: 'required: the code from the SMS' })
      .regex(/^\d{4,8}$/, 'the digits of the code from the SMS'),
    process: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,62}$/, 'a process key')
      .optional()
      .meta({ description: 'The process; may be left out when one process takes quick reports' }),
    category: z
      .string({ error: 'required: a category from GET /api/v1/quick-reports/form' })
      .min(1)
      .max(63),
    description: z
      .string({ error: 'required: what you saw' })
      .trim()
      .min(1, 'required: what you saw')
      .max(3000),
    place: z
      .string({ error: 'required: the grid or compound where it is' })
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id (a grid or a compound)'),
    location: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'Where exactly (an address, a landmark); the place’s name if absent' }),
  })
  .strict();

const processRef = z.object({ key: z.string(), name: z.string() });

export function registerQuickReportRoutes(
  routes: RouteRegistry,
  quickReports: QuickReportService,
): void {
  routes.add({
    method: 'get',
    path: '/api/v1/quick-reports/form',
    tag: 'quick reports',
    summary: 'What a quick report may name: the processes taking them and their categories',
    roles: 'public',
    responses: {
      200: {
        description: 'The processes, their categories, and the code’s length and lifetime',
        schema: z.object({
          processes: z.array(
            processRef.extend({
              categories: z.array(z.object({ code: z.string(), name: z.string() })),
            }),
          ),
          codeDigits: z.number().int(),
          codeTtlSeconds: z.number().int(),
        }),
      },
    },
    async handle() {
      return { status: 200, body: await quickReports.form() };
    },
  });

  routes.add<undefined, undefined, undefined, z.infer<typeof codeBody>>({
    method: 'post',
    path: '/api/v1/quick-reports/codes',
    tag: 'quick reports',
    summary: 'Send a one-time code by SMS to a registered mobile grid member',
    description:
      'The answer is the same whether or not the number is registered (nobody can learn who is): only a registered member receives an SMS. Limited per phone number (RATE_LIMIT_QUICK_REPORT_CODE_PHONE) and per client address.',
    roles: 'public',
    limit: 'quick-report-code',
    body: codeBody,
    responses: {
      202: {
        description: 'Accepted: a code is on its way if the number is registered',
        schema: z.object({ message: z.string(), expiresInSeconds: z.number().int() }),
      },
      ...errorResponses(400, 429),
      503: { description: 'No SMS provider is configured' },
    },
    async handle({ body }) {
      return { status: 202, body: await quickReports.requestCode(body.phone) };
    },
  });

  routes.add<undefined, undefined, undefined, z.infer<typeof reportBody>>({
    method: 'post',
    path: '/api/v1/quick-reports',
    tag: 'quick reports',
    summary: 'File a quick report with the code: starts a case with the member as reporter',
    description:
      'The report is checked first (process, category, place: 422 naming each problem, no attempt spent); then the code: 401 for no, an expired, a wrong (attempts left named) or a void code, 409 for a used one. The place must be a grid or compound under the unit where the member is registered (403). A code starts one case: sending the same report again answers the same case.',
    roles: 'public',
    limit: 'quick-report',
    body: reportBody,
    responses: {
      201: {
        description: 'The case started (or, for a repeat of the same report, the one it started)',
        schema: z.object({
          caseId: z.string(),
          created: z.boolean(),
          process: processRef,
          follow: z.object({
            api: z.string().meta({ description: 'GET it for the case’s progress' }),
            page: z.string().meta({ description: 'The same in the console, phone-sized' }),
          }),
        }),
      },
      ...errorResponses(400, 401, 403, 409, 422, 429),
    },
    async handle({ body }) {
      const { process, location, ...rest } = body;
      return {
        status: 201,
        body: await quickReports.submit({
          ...rest,
          ...(process !== undefined ? { process } : {}),
          ...(location !== undefined ? { location } : {}),
        }),
      };
    },
  });

  routes.add<z.infer<typeof caseIdParams>>({
    method: 'get',
    path: '/api/v1/quick-reports/cases/:id',
    tag: 'quick reports',
    summary: 'A quick report’s progress, for whoever holds its case id (nothing personal)',
    roles: 'public',
    params: caseIdParams,
    responses: {
      200: {
        description: 'Status and current step',
        schema: z.object({
          caseId: z.string(),
          process: processRef,
          status: z.string(),
          currentStep: z.string().nullable(),
          receivedAt: z.iso.datetime(),
          closedAt: z.iso.datetime().nullable(),
        }),
      },
      ...errorResponses(400, 404),
    },
    async handle({ params }) {
      return { status: 200, body: await quickReports.status(params.id) };
    },
  });
}

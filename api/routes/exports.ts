import { z } from 'zod';
import { UNIT_TYPES } from '../../lang/vocabulary';
import type { Role } from '../../common/roles';
import type { RouteRegistry, RouteResult } from '../pipeline';
import type { Ledger, LedgerFormat, LedgerService } from '../../services/ledgers';
import {
  LEDGER_CONTENT_TYPES as CONTENT_TYPES,
  LEDGER_FORMATS,
  ledgerHeaders,
  writeLedger,
} from '../../services/ledgers';
import { ATTRIBUTIONS, RANKING_KEYS } from '../../services/metrics';
import { caseId, errorResponses } from './shared';

/**
 * Ledger exports (台账): `GET /api/v1/exports/<ledger>?format=csv|xlsx&…filters`, streamed. The
 * filters are validated and the scope resolved before anything is sent, so a bad request is a
 * plain 400/404; a failure while rows are being written aborts the download.
 */

const unitIdParam = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id');
const periodFields = {
  period: z.string().max(10).optional().meta({
    description: 'Beijing-time period: 2026, 2026-H1, 2026-Q3 or 2026-05',
  }),
  from: z.string().max(40).optional().meta({ description: 'First day (2026-01-01) or instant' }),
  to: z
    .string()
    .max(40)
    .optional()
    .meta({ description: 'Last day (inclusive) or instant (exclusive)' }),
};
const format = z
  .enum(LEDGER_FORMATS, { error: 'format must be csv or xlsx' })
  .meta({ description: 'csv (UTF-8 with BOM) or xlsx' });

/** `true` or `false`, as the case list takes its flags. */
const booleanParam = z.enum(['true', 'false'], 'true or false').transform((v) => v === 'true');

const casesQuery = z
  .object({
    format,
    status: z.enum(['open', 'closed', 'rejected', 'cancelled', 'failed']).optional(),
    definitionKey: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{1,62}(,[a-z][a-z0-9-]{1,62}){0,19}$/,
        'a process key, or up to 20 separated by commas',
      )
      .optional(),
    category: z.string().max(63).optional(),
    unitId: unitIdParam.optional().meta({ description: 'A unit, with everything below it' }),
    overdue: booleanParam
      .optional()
      .meta({ description: 'Only cases with (true) or without (false) a missed deadline' }),
    escalated: booleanParam
      .optional()
      .meta({ description: 'Only cases with (true) or without (false) an escalation' }),
    ...periodFields,
  })
  .strict();

const tasksQuery = z
  .object({
    format,
    status: z
      .enum(['open', 'claimed', 'completed', 'returned', 'cancelled', 'unclaimed'])
      .optional(),
    definitionKey: z.string().max(63).optional(),
    caseId: caseId.optional(),
    unitId: unitIdParam
      .optional()
      .meta({ description: "The case's unit, with everything below it" }),
    ...periodFields,
  })
  .strict();

const metricsQuery = z
  .object({
    format,
    unitId: unitIdParam
      .optional()
      .meta({ description: 'The unit (with everything below it); default: your top unit' }),
    definitionKey: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{1,62}(,[a-z][a-z0-9-]{1,62}){0,19}$/,
        'a process key, or up to 20 separated by commas',
      )
      .optional(),
    category: z.string().max(63).optional(),
    attribution: z
      .enum(ATTRIBUTIONS, { error: 'attribution must be place or served' })
      .optional()
      .meta({ description: 'place (default, where filed) or served (the units that served)' }),
    ...periodFields,
  })
  .strict();

/** Figures per person are always by who served: no attribution to choose. */
const peopleQuery = metricsQuery.omit({ attribution: true }).strict();

const rankingQuery = metricsQuery.extend({
  unitType: z.enum(UNIT_TYPES).optional(),
  by: z.enum(RANKING_KEYS).optional(),
});

const bulletinQuery = rankingQuery
  .omit({ period: true, from: true, to: true })
  .extend({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month such as 2026-11') })
  .strict();

const pointsQuery = z.object({ format, unitId: unitIdParam, ...periodFields }).strict();

const evaluationQuery = z.object({ format, roundId: caseId }).strict();

/** The streamed answer of a ledger. */
export function ledgerResponse(ledger: Ledger, format: LedgerFormat, sheet: string): RouteResult {
  return {
    status: 200,
    headers: ledgerHeaders(ledger, format),
    stream: (out) => writeLedger(ledger, format, out, sheet),
  };
}

const FORMAT_NOTE =
  'format=csv answers UTF-8 CSV with a byte order mark, CRLF records and RFC 4180 quoting; format=xlsx one worksheet of string and number cells (never formulas). In both, a text cell starting with = + - @, a tab or a CR gets a leading apostrophe so no spreadsheet runs it. Streamed page by page in bounded memory; a failure midway aborts the download. Spends the export rate limit.';

const SUPERVISORS: Role[] = ['admin', 'dispatcher', 'staff'];

export function registerExportRoutes(routes: RouteRegistry, ledgers: LedgerService): void {
  const file = {
    description: 'The ledger file, named in Content-Disposition (ASCII and UTF-8 names)',
    media: {
      [CONTENT_TYPES.csv]: { schema: { type: 'string' } },
      [CONTENT_TYPES.xlsx]: { schema: { type: 'string', format: 'binary' } },
    },
  };

  routes.add<undefined, z.infer<typeof casesQuery>>({
    method: 'get',
    path: '/api/v1/exports/cases',
    tag: 'exports',
    summary: 'Case ledger (案件台账) in your scope, as CSV or XLSX',
    description: `One row per case in your scope, oldest id first: id, process, version, status, unit, category, channel, received and closed times (Beijing), current step, overdue and escalated flags, and the case's metric figures. Never the case's data. ${FORMAT_NOTE}`,
    limit: 'export',
    roles: ['admin', 'dispatcher', 'staff', 'resident', 'system'],
    query: casesQuery,
    responses: { 200: file, ...errorResponses(400, 401, 403, 404, 429) },
    async handle({ principal, query }) {
      const { format: f, ...filters } = query;
      return ledgerResponse(await ledgers.cases(principal, filters), f, '案件台账');
    },
  });

  routes.add<undefined, z.infer<typeof tasksQuery>>({
    method: 'get',
    path: '/api/v1/exports/tasks',
    tag: 'exports',
    summary: 'Task ledger (任务台账) in your scope, as CSV or XLSX',
    description: `One row per task in your scope, oldest id first: task and case ids, process, step, status, outcome, the case's unit, the assignee's account id (never a name), opened and completed times, the due time and whether a deadline was missed. The period filters on when the task opened. ${FORMAT_NOTE}`,
    limit: 'export',
    roles: SUPERVISORS,
    query: tasksQuery,
    responses: { 200: file, ...errorResponses(400, 401, 403, 404, 429) },
    async handle({ principal, query }) {
      const { format: f, ...filters } = query;
      return ledgerResponse(await ledgers.tasks(principal, filters), f, '任务台账');
    },
  });

  routes.add<undefined, z.infer<typeof metricsQuery>>({
    method: 'get',
    path: '/api/v1/exports/metrics',
    tag: 'exports',
    summary: "A unit's metrics and its children's (指标台账), as CSV or XLSX",
    description: `The figures of GET /api/v1/metrics: the unit's totals, then one row per child unit with its subtree. ${FORMAT_NOTE}`,
    limit: 'export',
    roles: SUPERVISORS,
    query: metricsQuery,
    responses: { 200: file, ...errorResponses(400, 401, 403, 404, 429) },
    async handle({ principal, query }) {
      const { format: f, ...filters } = query;
      return ledgerResponse(await ledgers.metrics(principal, filters), f, '指标台账');
    },
  });

  routes.add<undefined, z.infer<typeof peopleQuery>>({
    method: 'get',
    path: '/api/v1/exports/people',
    tag: 'exports',
    summary: 'Figures per person who served (服务人员台账), as CSV or XLSX',
    description: `The rows of GET /api/v1/metrics/people, most cases first: each person holding a post in the unit's subtree who served cases received in the period (party members, volunteers, grid workers…), with their counts and rates. Names for admins and dispatchers only; staff get person ids and an empty name column. ${FORMAT_NOTE}`,
    limit: 'export',
    roles: SUPERVISORS,
    query: peopleQuery,
    responses: { 200: file, ...errorResponses(400, 401, 403, 404, 429) },
    async handle({ principal, query }) {
      const { format: f, ...filters } = query;
      return ledgerResponse(await ledgers.people(principal, filters), f, '服务人员台账');
    },
  });

  routes.add<undefined, z.infer<typeof rankingQuery>>({
    method: 'get',
    path: '/api/v1/exports/ranking',
    tag: 'exports',
    summary: 'A ranking of units (排名), as CSV or XLSX',
    description: `The rows of GET /api/v1/metrics/ranking, best first. ${FORMAT_NOTE}`,
    limit: 'export',
    roles: SUPERVISORS,
    query: rankingQuery,
    responses: { 200: file, ...errorResponses(400, 401, 403, 404, 429) },
    async handle({ principal, query }) {
      const { format: f, ...filters } = query;
      return ledgerResponse(await ledgers.ranking(principal, filters), f, '排名');
    },
  });

  routes.add<undefined, z.infer<typeof bulletinQuery>>({
    method: 'get',
    path: '/api/v1/exports/bulletin',
    tag: 'exports',
    summary: 'A monthly bulletin (月通报) with its red and black lists, as CSV or XLSX',
    description: `The rows of GET /api/v1/metrics/bulletin: the unit's totals (合计), the red list (红榜), the black list (黑榜), then the whole ranking (排名). ${FORMAT_NOTE}`,
    limit: 'export',
    roles: SUPERVISORS,
    query: bulletinQuery,
    responses: { 200: file, ...errorResponses(400, 401, 403, 404, 429) },
    async handle({ principal, query }) {
      const { format: f, ...filters } = query;
      return ledgerResponse(await ledgers.bulletin(principal, filters), f, '月通报');
    },
  });

  routes.add<undefined, z.infer<typeof pointsQuery>>({
    method: 'get',
    path: '/api/v1/exports/points',
    tag: 'exports',
    summary: "A unit's points ledger (积分台账), as CSV or XLSX",
    description: `Every points entry in the period earned in the unit's subtree or by members reporting to it, oldest id first, members named as the unit's points report names them. ${FORMAT_NOTE}`,
    limit: 'export',
    roles: SUPERVISORS,
    query: pointsQuery,
    responses: { 200: file, ...errorResponses(400, 401, 403, 404, 429) },
    async handle({ principal, query }) {
      const { format: f, ...filters } = query;
      return ledgerResponse(await ledgers.points(principal, filters), f, '积分台账');
    },
  });

  routes.add<undefined, z.infer<typeof evaluationQuery>>({
    method: 'get',
    path: '/api/v1/exports/evaluation-results',
    tag: 'exports',
    summary: "A closed 评单 round's results, as CSV or XLSX",
    description: `The rows of GET /api/v1/evaluations/{roundId}/results?format=csv: one per unit and one per secretary. 409 while the round is open. ${FORMAT_NOTE}`,
    limit: 'export',
    roles: SUPERVISORS,
    query: evaluationQuery,
    responses: { 200: file, ...errorResponses(400, 401, 403, 404, 409, 429) },
    async handle({ principal, query }) {
      return ledgerResponse(
        await ledgers.evaluationResults(principal, query.roundId),
        query.format,
        '评单结果',
      );
    },
  });
}

import { z } from 'zod';
import { UNIT_TYPES } from '../../lang/vocabulary';
import type { RouteRegistry } from '../pipeline';
import type { MetricsService } from '../../services/metrics';
import { ATTRIBUTIONS, BULLETIN_LIST_SIZE, RANKING_KEYS } from '../../services/metrics';
import { errorResponses } from './shared';

const unitRef = z.object({ id: z.string(), name: z.string(), type: z.string() });
const share = z.number().min(0).max(1).nullable();

const figures = z.object({
  received: z.number().int(),
  dispatched: z.number().int().meta({ description: '派单: the acceptance step opened' }),
  accepted: z.number().int(),
  respondedInTime: z.number().int(),
  completed: z.number().int(),
  completedOnTime: z.number().int(),
  resolved: z.number().int(),
  explained: z.number().int(),
  excluded: z.number().int().meta({ description: '不予受理: in no denominator' }),
  due: z.number().int().meta({ description: '办结率 denominator: completed or past 办结时限' }),
  rejected: z.number().int(),
  overdue: z.number().int(),
  escalated: z.number().int(),
  escalations: z.number().int(),
  returned: z.number().int(),
  returnedCase: z.number().int(),
  ratingInvited: z.number().int(),
  arbitrated: z
    .number()
    .int()
    .meta({ description: '兜底仲裁: cases a 非本部门职责 answer sent to arbitration' }),
  rated: z.number().int(),
  satisfied: z.number().int(),
  ratingMissing: z.number().int(),
  disputesFound: z.number().int(),
  disputesResolved: z.number().int(),
  rates: z.object({
    acceptanceRate: share.meta({ description: '接单率: accepted ÷ dispatched' }),
    responseRate: share.meta({
      description: '响应率: accepted before the acceptance deadline passed ÷ dispatched',
    }),
    completionRate: share.meta({ description: '办结率: completed ÷ due' }),
    resolutionRate: share.meta({ description: '解决率: resolved ÷ due' }),
    onTimeRate: share.meta({
      description: '按期办结率: completed before the 办结时限 passed ÷ completed',
    }),
    satisfactionRate: share.meta({ description: '满意率: rated 4 or 5 ÷ rated' }),
    participationRate: share.meta({ description: '参评率: rated ÷ asked to rate' }),
    visitRate: share.meta({ description: '回访率: rated ÷ completed' }),
    disputeResolutionRate: share.meta({
      description: '化解率: disputes resolved ÷ disputes found',
    }),
    supervisionRate: share.meta({ description: '督办率: escalated ÷ dispatched' }),
    returnRate: share.meta({ description: '退单率: cases with a task sent back ÷ dispatched' }),
    overdueRate: share.meta({ description: '逾期率: overdue ÷ received and not excluded' }),
  }),
  averages: z.object({
    score: z.number().nullable(),
    responseMinutes: z.number().nullable(),
    handlingMinutes: z.number().nullable(),
  }),
});

const period = z.object({ from: z.iso.datetime(), to: z.iso.datetime(), label: z.string() });

const DEFINITION_KEY = /^[a-z][a-z0-9-]{1,62}$/;
/** The most processes one metrics request may name (chosen: as the case list). */
const MAX_PROCESSES = 20;

/** One or more process keys, repeated or separated by commas. */
export const definitionKeysParam = z
  .union([z.string(), z.array(z.string())])
  .transform((v) =>
    (Array.isArray(v) ? v : [v])
      .flatMap((k) => k.split(','))
      .map((k) => k.trim())
      .filter((k) => k !== ''),
  )
  .pipe(
    z
      .array(z.string().regex(DEFINITION_KEY, 'a definition key such as resident-request'))
      .min(1, 'name a process')
      .max(MAX_PROCESSES, `at most ${MAX_PROCESSES} processes`),
  )
  .optional()
  .meta({ description: 'One or more process keys, repeated or comma-separated: any of them' });

const filters = z.object({
  definitionKey: z.string().nullable(),
  definitionKeys: z.array(z.string()),
  category: z.string().nullable(),
  attribution: z.enum(ATTRIBUTIONS),
});

const metricsQuery = z
  .object({
    unitId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id')
      .optional()
      .meta({ description: 'The unit (with everything below it); default: your top unit' }),
    period: z.string().max(10).optional().meta({
      description:
        'Beijing-time period: 2026, 2026-H1, 2026-Q3 or 2026-05 (default: the current half year)',
    }),
    from: z.string().max(40).optional().meta({ description: 'First day (2026-01-01) or instant' }),
    to: z
      .string()
      .max(40)
      .optional()
      .meta({ description: 'Last day (inclusive) or instant (exclusive)' }),
    definitionKey: definitionKeysParam,
    category: z.string().max(63).optional(),
    attribution: z
      .enum(ATTRIBUTIONS, { error: 'attribution must be place or served' })
      .optional()
      .meta({
        description:
          "place (default): a case counts for the unit it was filed for; served: for the unit(s) that served it (its acceptance step's holders)",
      }),
  })
  .strict();

const rankingQuery = metricsQuery.extend({
  unitType: z.enum(UNIT_TYPES).optional().meta({
    description: "Rank every unit of this type below unitId (default: unitId's children)",
  }),
  by: z
    .enum(RANKING_KEYS)
    .optional()
    .meta({ description: 'What to rank by (default completionRate)' }),
});

const peopleQuery = metricsQuery.omit({ attribution: true }).strict();

const bulletinQuery = rankingQuery
  .omit({ period: true, from: true, to: true })
  .extend({
    month: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month such as 2026-11')
      .meta({ description: 'The Beijing calendar month (cases received in it)' }),
  })
  .strict();

const rankedItem = figures.extend({ rank: z.number().int().nullable(), unit: unitRef });

export function registerMetricsRoutes(routes: RouteRegistry, metrics: MetricsService): void {
  routes.add<undefined, z.infer<typeof metricsQuery>>({
    method: 'get',
    path: '/api/v1/metrics',
    tag: 'metrics',
    summary: 'Metrics of a unit and its children over a period',
    description:
      'Cases received in the period for the unit and every unit below it: counts, the rates (接单率, 响应率, 办结率, 解决率, 按期办结率, 满意率, 参评率, 回访率, 化解率, 督办率, 退单率; formulas in docs/definition-language.md section 3.5), mean score and times, each child unit with its own subtree, and received/completed per month.',
    roles: ['admin', 'dispatcher', 'staff'],
    query: metricsQuery,
    responses: {
      200: {
        description: 'The figures',
        schema: z.object({
          unit: unitRef,
          period,
          filters,
          totals: figures,
          children: z.array(figures.extend({ unit: unitRef })),
          months: z.array(
            z.object({
              month: z.string(),
              received: z.number().int(),
              completed: z.number().int(),
              overdue: z.number().int(),
            }),
          ),
          proactive: z.object({ opened: z.number().int(), closed: z.number().int() }).meta({
            description:
              '未诉先办: proactive cases (opened by a recurrence analysis) of the unit and below, opened in the period and closed in it',
          }),
          quickReports: z.object({ received: z.number().int(), closed: z.number().int() }).meta({
            description:
              '随手报: cases mobile grid members reported (channel quick-report) in the unit and below, received in the period and closed in it',
          }),
          computedAt: z.iso.datetime(),
        }),
      },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, query }) {
      return { status: 200, body: await metrics.unitMetrics(principal, query) };
    },
  });

  routes.add<undefined, z.infer<typeof rankingQuery>>({
    method: 'get',
    path: '/api/v1/metrics/ranking',
    tag: 'metrics',
    summary: 'Rank units by a rate over a period',
    description:
      'Units below unitId (its children, or every unit of unitType), best first. Units with nothing to measure have rank null and come last; equal values share a rank.',
    roles: ['admin', 'dispatcher', 'staff'],
    query: rankingQuery,
    responses: {
      200: {
        description: 'The ranking',
        schema: z.object({
          unit: unitRef,
          period,
          by: z.enum(RANKING_KEYS),
          unitType: z.string().nullable(),
          filters,
          items: z.array(figures.extend({ rank: z.number().int().nullable(), unit: unitRef })),
        }),
      },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, query }) {
      return { status: 200, body: await metrics.ranking(principal, query) };
    },
  });

  routes.add<undefined, z.infer<typeof peopleQuery>>({
    method: 'get',
    path: '/api/v1/metrics/people',
    tag: 'metrics',
    summary: 'Figures per person who served cases in a unit',
    description:
      "Cases received in the period that a person holding a post in the unit's subtree served (held its acceptance step's task): each person's counts and rates, most cases first. Names only for admins and dispatchers; staff see person ids.",
    roles: ['admin', 'dispatcher', 'staff'],
    query: peopleQuery,
    responses: {
      200: {
        description: 'The figures per person',
        schema: z.object({
          unit: unitRef,
          period,
          filters,
          named: z.boolean(),
          people: z.array(
            figures.extend({ person: z.object({ id: z.string(), name: z.string().nullable() }) }),
          ),
        }),
      },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, query }) {
      return { status: 200, body: await metrics.people(principal, query) };
    },
  });

  routes.add<undefined, z.infer<typeof bulletinQuery>>({
    method: 'get',
    path: '/api/v1/metrics/bulletin',
    tag: 'metrics',
    summary: 'Monthly bulletin (月通报) of a unit, with its red and black lists (红黑榜)',
    description: `The unit's figures for the cases received in the month (received, completed, overdue, escalated and every rate), the ranking of the units below it, the red list (the best ${BULLETIN_LIST_SIZE}, chosen) and the black list (the worst ${BULLETIN_LIST_SIZE}, never overlapping the red list). Computed from the cases' stored figures, so a past month reads the same again; attribution=served ranks the units that served.`,
    roles: ['admin', 'dispatcher', 'staff'],
    query: bulletinQuery,
    responses: {
      200: {
        description: 'The bulletin',
        schema: z.object({
          unit: unitRef,
          month: z.string(),
          period,
          by: z.enum(RANKING_KEYS),
          unitType: z.string().nullable(),
          filters,
          totals: figures,
          ranking: z.array(rankedItem),
          redList: z.array(rankedItem),
          blackList: z.array(rankedItem),
          listSize: z.number().int(),
          computedAt: z.iso.datetime(),
        }),
      },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, query }) {
      return { status: 200, body: await metrics.bulletin(principal, query) };
    },
  });
}

import { z } from 'zod';
import {
  ASSESSMENT_CSV_MAX,
  MEETING_ATTENDANCE_MAX,
  MEETING_MINUTES_MAX,
  SCORE_MAX,
  SCORE_MIN,
} from '../../common/evaluation';
import { AppError } from '../../services/errors';
import type { RouteRegistry } from '../pipeline';
import type { EvaluationService } from '../../services/evaluations';
import { caseId, errorResponses, idempotencyKey, pageQuery } from './shared';

const roundParams = z.object({ roundId: caseId });
const idempotencyHeaders = z.object({ 'idempotency-key': idempotencyKey.optional() });

const criterion = z.object({ id: z.string(), name: z.string() });
const groupFigure = z.object({
  id: z.string(),
  scores: z.number().int(),
  mean: z.number().nullable(),
});
const figures = z.object({
  items: z.number().int(),
  scored: z.number().int().meta({ description: 'Orders with at least one score' }),
  missing: z.number().int().meta({ description: 'Orders nobody scored (missing, never zero)' }),
  score: z.number().nullable().meta({ description: 'Mean weighted score of the scored orders' }),
  groups: z.array(groupFigure),
  criteria: z.array(z.object({ id: z.string(), mean: z.number().nullable() })),
});

const roundView = z.object({
  id: z.string(),
  unitId: z.string().nullable(),
  status: z.enum(['open', 'closed']),
  period: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }),
  openedAt: z.iso.datetime(),
  closesAt: z.iso.datetime(),
  closedAt: z.iso.datetime().nullable(),
  criteria: z.array(criterion),
  groups: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      weight: z.number(),
      requester: z.boolean(),
      residentsOnly: z.boolean().meta({
        description:
          "A `served` group: each order's requester scores it only when a resident's account filed it",
      }),
      scorers: z.number().int(),
      meeting: z.object({ unitsOfType: z.string(), host: z.string() }).nullable().meta({
        description:
          'A 评单会 group: one meeting per unit of this type, whose host (holder of this post there) records its collective scores (POST …/meetings); null for the others',
      }),
    }),
  ),
  orderRatingGroup: z.string().nullable(),
  itemCount: z.number().int(),
  items: z.array(
    z.object({
      id: z.string(),
      unitId: z.string().nullable(),
      definitionKey: z.string(),
      definitionName: z.string(),
      category: z.string().nullable(),
      closedAt: z.iso.datetime(),
      groups: z.array(z.string()).meta({ description: 'Groups you may score this order in' }),
      myScore: z
        .object({
          group: z.string(),
          values: z.record(z.string(), z.number()),
          at: z.iso.datetime(),
        })
        .nullable(),
    }),
  ),
});

const scoreList = z
  .array(
    z
      .object({
        item: caseId.meta({ description: 'The order (its case id)' }),
        values: z
          .record(
            z.string().max(64),
            z
              .number()
              .int(`a whole number from ${SCORE_MIN} to ${SCORE_MAX}`)
              .min(SCORE_MIN, `a whole number from ${SCORE_MIN} to ${SCORE_MAX}`)
              .max(SCORE_MAX, `a whole number from ${SCORE_MIN} to ${SCORE_MAX}`),
          )
          .meta({
            description: 'A score 1–5 per criterion: { quality, duration, satisfaction }',
          }),
        comment: z.string().trim().max(500).optional(),
      })
      .strict(),
  )
  .min(1)
  .max(200);

const scoreBody = z
  .object({
    group: z
      .string()
      .max(64)
      .optional()
      .meta({ description: 'The scorer group; needed only when you may score in several' }),
    scores: scoreList,
  })
  .strict();

const attendance = z
  .number()
  .int(`a whole number from 0 to ${MEETING_ATTENDANCE_MAX}`)
  .min(0, `a whole number from 0 to ${MEETING_ATTENDANCE_MAX}`)
  .max(MEETING_ATTENDANCE_MAX, `a whole number from 0 to ${MEETING_ATTENDANCE_MAX}`);

const meetingBody = z
  .object({
    group: z
      .string()
      .max(64)
      .optional()
      .meta({ description: 'The meeting group; needed only when the round has several' }),
    unitId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id')
      .meta({ description: 'The unit whose 评单会 this is (the community you host it for)' }),
    heldOn: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
      .meta({ description: 'The day it was held (Beijing), while the round is open' }),
    representatives: attendance.meta({ description: '居民代表 present' }),
    residents: attendance.meta({ description: '被服务居民 present' }),
    minutes: z
      .string()
      .trim()
      .min(1, 'a short minute of the meeting')
      .max(MEETING_MINUTES_MAX)
      .meta({ description: '个人讲述、集体评议: a short minute' }),
    scores: scoreList.meta({
      description: "The meeting's collective score of each order of the unit it scored",
    }),
  })
  .strict();

const meetingRecord = z.object({
  group: z.string(),
  unitId: z.string(),
  unitName: z.string(),
  hostPersonId: z.string(),
  hostName: z.string(),
  heldOn: z.string(),
  representatives: z.number().int(),
  residents: z.number().int(),
  minutes: z.string(),
  orders: z.number().int(),
  recordedAt: z.iso.datetime(),
});

const resultsQuery = z
  .object({
    format: z.enum(['json', 'csv']).default('json').meta({
      description: 'csv: UTF-8 with BOM, a header row, one row per unit and per secretary',
    }),
  })
  .strict();

const resultsView = z.object({
  roundId: z.string(),
  unitId: z.string().nullable(),
  period: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }),
  closedAt: z.iso.datetime(),
  criteria: z.array(criterion),
  groups: z.array(z.object({ id: z.string(), name: z.string(), weight: z.number() })),
  overall: figures,
  units: z.array(
    figures.extend({
      unitId: z.string(),
      name: z.string(),
      type: z.string(),
      parentId: z.string().nullable(),
      parentName: z.string().nullable(),
    }),
  ),
  secretaries: z.array(
    figures.extend({
      personId: z.string(),
      name: z.string(),
      units: z.array(z.object({ id: z.string(), name: z.string() })),
    }),
  ),
  servedUnits: z
    .array(
      figures.extend({
        unitId: z.string(),
        name: z.string(),
        type: z.string().nullable(),
        parentName: z.string().nullable(),
      }),
    )
    .meta({
      description:
        'Per unit that served orders (co-building unit, department, grid…): the orders it served, wherever filed',
    }),
  servedPeople: z
    .array(figures.extend({ personId: z.string(), name: z.string() }))
    .meta({ description: 'Per person who served orders (party member, volunteer…): their orders' }),
  meetings: z
    .array(meetingRecord)
    .meta({ description: 'The 评单会 recorded in the round (meeting groups), by group and unit' }),
  items: z.array(
    z.object({
      itemId: z.string(),
      unitId: z.string().nullable(),
      definitionKey: z.string(),
      servedUnitIds: z.array(z.string()),
      servedPersonIds: z.array(z.string()),
      score: z.number().nullable(),
      groups: z.array(groupFigure),
      missingGroups: z.array(z.string()),
    }),
  ),
});

const assessmentQuery = pageQuery
  .extend({
    year: z.coerce
      .number({ error: 'year must be a year such as 2026' })
      .int('year must be a year such as 2026')
      .min(2000, 'year must be a year such as 2026')
      .max(2100, 'year must be a year such as 2026')
      .optional(),
    kind: z.enum(['secretary', 'unit', 'serving-unit', 'department']).optional().meta({
      description:
        'secretary: 党组织书记 (述职考核); unit: a place with everything below it; serving-unit: a unit on the orders it served (双评双考); department: a department the street assessed (条块考核)',
    }),
    subjectId: z.string().min(1).max(200).optional().meta({
      description: 'A person id (secretary) or unit id',
    }),
    format: z
      .enum(['json', 'csv'])
      .default('json')
      .meta({
        description: `csv: every matching record (at most ${ASSESSMENT_CSV_MAX}, chosen; more is refused, 422), UTF-8 with BOM`,
      }),
  })
  .strict();

const assessmentRecord = z.object({
  id: z.string(),
  roundId: z.string(),
  roundUnitId: z.string().nullable(),
  year: z.number().int(),
  kind: z.enum(['secretary', 'unit', 'serving-unit', 'department']),
  subjectId: z.string(),
  name: z.string(),
  unitNames: z.array(z.string()),
  period: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }),
  items: z.number().int(),
  scored: z.number().int(),
  missing: z.number().int(),
  score: z.number().nullable(),
  closedAt: z.iso.datetime(),
  weight: z.number().optional().meta({
    description: "department: the street's share of the department's annual score, percent",
  }),
  weightedScore: z.number().nullable().optional().meta({
    description: 'department: score × weight ÷ 100; 0 when vetoed, null without a score',
  }),
  rates: z.record(z.string(), z.number().nullable()).optional().meta({
    description: 'department: the rates weighed (响应率, 办结率, 按期办结率, 满意率…), 0–1',
  }),
  veto: z
    .object({ reason: z.string(), by: z.string().nullable() })
    .nullable()
    .optional()
    .meta({ description: "department: the street's veto (一票否决), which fails the year" }),
});

export function registerEvaluationRoutes(
  routes: RouteRegistry,
  evaluations: EvaluationService,
): void {
  routes.add<z.infer<typeof roundParams>>({
    method: 'get',
    path: '/api/v1/evaluations/:roundId',
    tag: 'evaluations',
    summary: 'An evaluation round (评单评议) and the orders you may score',
    description:
      "The round is the case of an `evaluation` step (its id is the case id). Supervisors (admins; dispatchers and staff whose scope holds the round's unit) see every order; scorers see the orders they may score, with the groups they score them in and their own score so far.",
    roles: ['admin', 'dispatcher', 'staff', 'resident'],
    params: roundParams,
    responses: {
      200: { description: 'The round', schema: roundView },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, params }) {
      return { status: 200, body: await evaluations.getRound(principal, params.roundId) };
    },
  });

  routes.add<
    z.infer<typeof roundParams>,
    undefined,
    z.infer<typeof idempotencyHeaders>,
    z.infer<typeof scoreBody>
  >({
    method: 'post',
    path: '/api/v1/evaluations/:roundId/scores',
    tag: 'evaluations',
    summary: 'Score orders of an open round',
    description:
      'One scorer, one group, up to 200 orders, each with a whole number 1–5 per criterion. Scoring an order again before the round closes replaces your earlier score (one score per scorer and order). 403: you may not score that order (in that group); 409: the round has closed; 422: an order not in the round, a criterion missing or unknown, or the group unclear.',
    roles: ['admin', 'dispatcher', 'staff', 'resident'],
    params: roundParams,
    headers: idempotencyHeaders,
    body: scoreBody,
    responses: {
      200: {
        description: 'Recorded',
        schema: z.object({
          roundId: z.string(),
          group: z.string(),
          recorded: z.number().int(),
        }),
      },
      ...errorResponses(400, 401, 403, 404, 409, 422),
    },
    async handle({ principal, params, headers, body }) {
      return {
        status: 200,
        body: await evaluations.submitScores(
          principal,
          params.roundId,
          body,
          headers['idempotency-key'],
        ),
      };
    },
  });

  routes.add<
    z.infer<typeof roundParams>,
    undefined,
    z.infer<typeof idempotencyHeaders>,
    z.infer<typeof meetingBody>
  >({
    method: 'post',
    path: '/api/v1/evaluations/:roundId/meetings',
    tag: 'evaluations',
    summary: "Record a community's 评单会 (a meeting group's collective scores)",
    description:
      "The host of a meeting unit (e.g. the community's secretary, as the round's meeting group names) records the meeting held with resident representatives and residents served: the day, who came, a short minute, and the collective score 1–5 per criterion of orders of that unit. One record per round, group and unit: sending it again replaces the record and its scores (scores of orders it leaves out are removed). The scores count under the group's weight like any group's. 403: you do not host that unit's meeting; 409: the round has closed; 422: no meeting group, an order not in the round or not of that unit, a day outside the round, scores not valid.",
    roles: ['admin', 'dispatcher', 'staff'],
    params: roundParams,
    headers: idempotencyHeaders,
    body: meetingBody,
    responses: {
      200: {
        description: 'Recorded',
        schema: z.object({
          roundId: z.string(),
          group: z.string(),
          unitId: z.string(),
          recorded: z.number().int(),
          removed: z.number().int(),
        }),
      },
      ...errorResponses(400, 401, 403, 404, 409, 422),
    },
    async handle({ principal, params, body }) {
      return {
        status: 200,
        body: await evaluations.recordMeeting(principal, params.roundId, body),
      };
    },
  });

  routes.add<z.infer<typeof roundParams>, z.infer<typeof resultsQuery>>({
    method: 'get',
    path: '/api/v1/evaluations/:roundId/results',
    tag: 'evaluations',
    summary: "A closed round's weighted results, per unit and per secretary (JSON or CSV)",
    description:
      'Frozen when the round closed: per order (weighted over the groups that scored it), per unit with everything below it, per holder of the responsible post (党组织书记), and overall. Orders nobody scored count as missing, never as a score. `format=csv` answers text/csv (UTF-8 with BOM, CRLF, RFC 4180 quoting; a text cell starting with = + - @, a tab or a CR gets a leading apostrophe so spreadsheets do not run it as a formula): a header row, then one row per unit and one per secretary (and per serving unit and person), then, in rounds with a meeting group, a blank row and a block of the 评单会 records. 409 while the round is open.',
    limit: 'export',
    roles: ['admin', 'dispatcher', 'staff'],
    params: roundParams,
    query: resultsQuery,
    responses: {
      200: { description: 'The results (or the CSV text with format=csv)', schema: resultsView },
      ...errorResponses(400, 401, 403, 404, 409, 429),
    },
    async handle({ principal, params, query }) {
      const results = await evaluations.results(principal, params.roundId);
      if (query.format === 'csv') {
        return {
          status: 200,
          body: evaluations.resultsCsv(results),
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="evaluation-${params.roundId}.csv"`,
          },
        };
      }
      return { status: 200, body: results };
    },
  });

  routes.add<never, z.infer<typeof assessmentQuery>>({
    method: 'get',
    path: '/api/v1/assessments',
    tag: 'evaluations',
    summary:
      'Annual assessment records (年度考核记录) of secretaries, units and departments (JSON or CSV)',
    description:
      "Written when an evaluation round closes, one per round and subject: each party secretary's (述职考核), each unit's of the place and each serving unit's (双评双考) figures of the round. Admins see all; dispatchers and staff those of rounds whose unit their scope holds. Newest year first. `format=csv` answers every matching record as text/csv (UTF-8 with BOM, formula-escaped), at most 5,000 (chosen): narrow by year or kind beyond.",
    limit: 'export',
    roles: ['admin', 'dispatcher', 'staff'],
    query: assessmentQuery,
    responses: {
      200: {
        description: 'The records (or the CSV text with format=csv)',
        schema: z.object({
          items: z.array(assessmentRecord),
          page: z.number().int(),
          pageSize: z.number().int(),
          total: z.number().int(),
        }),
      },
      ...errorResponses(400, 401, 403, 422, 429),
    },
    async handle({ principal, query }) {
      const { format, ...filter } = query;
      if (format === 'csv') {
        const all = await evaluations.assessments(principal, {
          ...filter,
          page: 1,
          pageSize: ASSESSMENT_CSV_MAX + 1,
        });
        if (all.items.length > ASSESSMENT_CSV_MAX) {
          throw new AppError(
            'unprocessable',
            `More than ${ASSESSMENT_CSV_MAX} records: narrow the export by year or kind`,
            [{ path: 'query.year', message: 'name a year (or a kind)' }],
          );
        }
        return {
          status: 200,
          body: evaluations.assessmentsCsv(all.items),
          headers: {
            'content-type': 'text/csv; charset=utf-8',
            'content-disposition': `attachment; filename="assessments${filter.year !== undefined ? `-${filter.year}` : ''}.csv"`,
          },
        };
      }
      return { status: 200, body: await evaluations.assessments(principal, filter) };
    },
  });
}

import { z } from 'zod';
import type { RouteRegistry } from '../pipeline';
import type { PointsService } from '../../services/points';
import { errorResponses, idempotencyKey, pageQuery } from './shared';
import { SUPERVISOR_ROLES } from '../../common/roles';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, up to 64');
const unitView = z.object({ id: z.string(), name: z.string(), type: z.string() });
const personView = z.object({ id: z.string(), name: z.string() });

const entrySchema = z.object({
  id: z.string(),
  kind: z.enum(['earn', 'redeem', 'adjust']),
  points: z.number().int().meta({ description: 'Positive when earned, negative when redeemed' }),
  reason: z.string(),
  unit: unitView.nullable().meta({ description: 'Where: the case’s unit, or the redeeming unit' }),
  community: unitView.nullable(),
  caseId: z.string().nullable(),
  taskId: z.string().nullable(),
  definitionKey: z.string().nullable(),
  at: z.iso.datetime(),
  by: z.object({ kind: z.string(), id: z.string() }),
});

const sums = {
  balance: z.number().int(),
  earned: z.number().int(),
  redeemed: z.number().int(),
  adjusted: z.number().int(),
};

const redemptionBody = z
  .object({
    personId: id,
    points: z
      .number({ error: 'a whole number of points from 1 to 100000' })
      .int('a whole number of points from 1 to 100000')
      .min(1, 'a whole number of points from 1 to 100000')
      .max(100_000, 'a whole number of points from 1 to 100000'),
    reason: z.string().trim().min(1, 'say what the points were exchanged for').max(200),
    unitId: id.optional().meta({
      description: 'Where the points are redeemed (the community’s 积分超市); default: your unit',
    }),
  })
  .strict();

const reportQuery = z
  .object({
    period: z.string().max(10).optional().meta({
      description:
        'Beijing-time period: 2026, 2026-H1, 2026-Q3 or 2026-05 (default: this half year)',
    }),
    from: z.string().max(40).optional().meta({ description: 'First day (2026-01-01) or instant' }),
    to: z.string().max(40).optional().meta({ description: 'Last day (inclusive) or instant' }),
  })
  .strict();

export function registerPointsRoutes(routes: RouteRegistry, points: PointsService): void {
  routes.add<{ personId: string }, z.infer<typeof pageQuery>>({
    method: 'get',
    path: '/api/v1/points/people/:personId',
    tag: 'points',
    summary: 'A person’s points: balance and ledger',
    description:
      'Balance, earned, redeemed and adjusted totals and the ledger, newest first. For the person themselves (through their account’s person link), dispatchers of a unit where they hold a post (or above it), and admins; others get 403, a dispatcher out of scope 404.',
    roles: ['admin', 'dispatcher', 'staff', 'resident'],
    params: z.object({ personId: id }),
    query: pageQuery,
    responses: {
      200: {
        description: 'The balance and a page of the ledger',
        schema: z.object({
          person: personView,
          ...sums,
          items: z.array(entrySchema),
          total: z.number().int(),
          page: z.number().int(),
          pageSize: z.number().int(),
        }),
      },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, params, query }) {
      return { status: 200, body: await points.person(principal, params.personId, query) };
    },
  });

  const redemptionHeaders = z.object({ 'idempotency-key': idempotencyKey.optional() });
  routes.add<
    undefined,
    undefined,
    z.infer<typeof redemptionHeaders>,
    z.infer<typeof redemptionBody>
  >({
    method: 'post',
    path: '/api/v1/points/redemptions',
    tag: 'points',
    summary: 'Redeem a person’s points (积分兑换)',
    description:
      'A dispatcher (of one of the person’s units) or an admin redeems points for goods or a discount. The balance never goes negative: a redemption it does not cover is refused with 409, also when two redemptions race. An optional Idempotency-Key makes a retry answer the same redemption (200); the same key with another body is 422.',
    roles: SUPERVISOR_ROLES,
    headers: redemptionHeaders,
    body: redemptionBody,
    responses: {
      201: {
        description: 'Redeemed',
        schema: z.object({ entry: entrySchema, balance: z.number().int() }),
      },
      200: {
        description: 'This Idempotency-Key already redeemed: the same redemption',
        schema: z.object({ entry: entrySchema, balance: z.number().int() }),
      },
      ...errorResponses(400, 401, 403, 404, 409, 422),
    },
    async handle({ principal, headers, body }) {
      const result = await points.redeem(principal, headers['idempotency-key'], body);
      return {
        status: result.created ? 201 : 200,
        body: { entry: result.entry, balance: result.balance },
      };
    },
  });

  routes.add<{ unitId: string }, z.infer<typeof reportQuery>>({
    method: 'get',
    path: '/api/v1/points/units/:unitId',
    tag: 'points',
    summary: 'Points per unit over a period (双报到 report-back)',
    description:
      '`reportBack`: every member whose own unit (the unit of a post other than 党员/志愿者, e.g. a co-building unit or a department) is the unit or below it, with the points they earned in the period by community served, and redeemed. `served`: the points earned in the unit’s subtree, and those of members of units outside it, by home unit.',
    roles: ['admin', 'dispatcher', 'staff'],
    params: z.object({ unitId: id }),
    query: reportQuery,
    responses: {
      200: {
        description: 'The report',
        schema: z.object({
          unit: unitView,
          period: z.object({ from: z.iso.datetime(), to: z.iso.datetime(), label: z.string() }),
          reportBack: z.object({
            earned: z.number().int(),
            redeemed: z.number().int(),
            members: z.array(
              z.object({
                person: personView,
                homeUnits: z.array(unitView),
                earned: z.number().int(),
                redeemed: z.number().int(),
                byCommunity: z.array(z.object({ unit: unitView, earned: z.number().int() })),
              }),
            ),
          }),
          served: z.object({
            earned: z.number().int(),
            earnedByOutsideMembers: z.number().int(),
            byHomeUnit: z.array(
              z.object({ unit: unitView, earned: z.number().int(), people: z.number().int() }),
            ),
            members: z.array(
              z.object({
                person: personView,
                homeUnits: z.array(unitView),
                earned: z.number().int(),
                services: z.number().int().meta({
                  description:
                    'How many earnings in the unit’s subtree in the period (each a task or service done: 参加社区工作的次数)',
                }),
              }),
            ),
          }),
        }),
      },
      ...errorResponses(400, 401, 403, 404, 422),
    },
    async handle({ principal, params, query }) {
      return { status: 200, body: await points.unitReport(principal, params.unitId, query) };
    },
  });
}

import { z } from 'zod';
import type { RouteRegistry } from '../pipeline';
import { orgId } from '../../services/org-id';
import { pairingInput } from '../../services/pairing-input';
import type { PairingService } from '../../services/pairings';
import { PAIRING_KINDS } from '../../lang/vocabulary';
import { errorResponses, nextLink, nextSchema, pageQuery } from './shared';

/**
 * 包联 (pairings) over HTTP: admins create and end them (or import them: `POST
 * /api/v1/org/import` with `pairings`, or `POST /api/v1/org/import/pairings` as CSV); admins,
 * dispatchers and staff read them, outside admins only those whose unit or partner unit lies in
 * their scope.
 */

export const pairingViewSchema = z.object({
  id: z.string().meta({
    description: '`<kind>:<unitId>:person:<personId>` or `<kind>:<unitId>:unit:<partnerUnitId>`',
  }),
  unitId: z.string(),
  unitName: z.string(),
  kind: z.string(),
  personId: z.string().optional(),
  personName: z.string().optional(),
  partnerUnitId: z.string().optional(),
  partnerUnitName: z.string().optional(),
  validFrom: z.string().optional(),
  validUntil: z.string().optional(),
});

const listQuery = pageQuery.extend({
  unitId: orgId.optional(),
  partnerUnitId: orgId.optional(),
  personId: orgId.optional(),
  kind: z.enum(PAIRING_KINDS as [string, ...string[]]).optional(),
});

const pairingParams = z.object({
  id: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{1,40}:[A-Za-z0-9_-]{1,64}:(person|unit):[A-Za-z0-9_-]{1,64}$/,
      'a pairing id',
    ),
});

export function registerPairingRoutes(routes: RouteRegistry, pairings: PairingService): void {
  routes.add<undefined, undefined, undefined, z.infer<typeof pairingInput>>({
    method: 'post',
    path: '/api/v1/org/pairings',
    tag: 'org',
    summary: 'Pair a person or a unit with a unit (包联), or change the period of a pairing',
    description:
      `Kinds: ${PAIRING_KINDS.join(', ')}. Give either \`personId\` or \`partnerUnitId\`; ` +
      '`validFrom` and `validUntil` are days (YYYY-MM-DD, China time, both inclusive), each optional.',
    roles: ['admin'],
    body: pairingInput,
    responses: {
      201: { description: 'Created', schema: pairingViewSchema },
      200: { description: 'Updated', schema: pairingViewSchema },
      ...errorResponses(400, 401, 403, 422),
    },
    async handle({ body }) {
      const { created, pairing } = await pairings.save(body);
      return {
        status: created ? 201 : 200,
        body: pairing,
        headers: { Location: `/api/v1/org/pairings?unitId=${pairing.unitId}` },
      };
    },
  });

  routes.add<undefined, z.infer<typeof listQuery>>({
    method: 'get',
    path: '/api/v1/org/pairings',
    tag: 'org',
    summary: 'List pairings: who looks after a unit (unitId), or what a person or unit looks after',
    description:
      'Admins see every pairing; dispatchers and staff those whose unit or partner unit lies in ' +
      'their scope. Names only, never contacts.',
    roles: ['admin', 'dispatcher', 'staff'],
    query: listQuery,
    responses: {
      200: {
        description: 'A page of pairings',
        schema: z.object({
          items: z.array(pairingViewSchema),
          page: z.number(),
          pageSize: z.number(),
          total: z.number(),
          next: nextSchema,
        }),
      },
      ...errorResponses(400, 401, 403),
    },
    async handle({ principal, query }) {
      const page = await pairings.list(principal, query);
      return {
        status: 200,
        body: { ...page, next: nextLink('/api/v1/org/pairings', query, page.total) },
      };
    },
  });

  routes.add<z.infer<typeof pairingParams>>({
    method: 'delete',
    path: '/api/v1/org/pairings/:id',
    tag: 'org',
    summary: 'End a pairing',
    roles: ['admin'],
    params: pairingParams,
    responses: {
      204: { description: 'Removed' },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ params }) {
      await pairings.remove(params.id);
      return { status: 204 };
    },
  });
}

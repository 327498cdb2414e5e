import { z } from 'zod';
import { UNIT_TYPES } from '../../common/org-tree';
import type { RouteRegistry } from '../pipeline';
import type { OrgService } from '../services/org';
import { errorResponses, pageQuery } from './shared';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, up to 64');

const importBody = z
  .object({
    units: z
      .array(
        z
          .object({
            id,
            name: z.string().trim().min(1).max(100),
            type: z.enum(UNIT_TYPES),
            parentId: id.nullable(),
          })
          .strict(),
      )
      .max(20_000)
      .default([]),
    people: z
      .array(
        z
          .object({
            id,
            name: z.string().trim().min(1).max(100),
            email: z.email().optional(),
            phone: z
              .string()
              .regex(/^\+?[0-9][0-9 -]{4,19}$/, 'a phone number')
              .optional(),
            userId: z.string().max(64).optional(),
          })
          .strict(),
      )
      .max(50_000)
      .default([]),
    posts: z
      .array(
        z
          .object({
            unitId: id,
            role: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, 'a role key such as grid-worker'),
            personId: id,
          })
          .strict(),
      )
      .max(50_000)
      .default([]),
  })
  .strict();

const unitSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  parentId: z.string().nullable(),
});

export function registerOrgRoutes(routes: RouteRegistry, org: OrgService): void {
  routes.add<undefined, undefined, undefined, z.infer<typeof importBody>>({
    method: 'post',
    path: '/api/v1/org/import',
    tag: 'org',
    summary: 'Import units, people and their posts (JSON); checked as a whole, safe to repeat',
    roles: ['admin'],
    body: importBody,
    responses: {
      200: {
        description: 'Imported',
        schema: z.object({ units: z.number(), people: z.number(), posts: z.number() }),
      },
      ...errorResponses(400, 401, 403, 422),
    },
    async handle({ body }) {
      return { status: 200, body: await org.importOrg(body) };
    },
  });

  const listQuery = pageQuery.extend({ parentId: id.optional() });
  routes.add<undefined, z.infer<typeof listQuery>>({
    method: 'get',
    path: '/api/v1/org/units',
    tag: 'org',
    summary: 'List units, optionally the children of one',
    roles: ['admin', 'dispatcher', 'staff'],
    query: listQuery,
    responses: {
      200: {
        description: 'A page of units',
        schema: z.object({
          items: z.array(unitSchema),
          page: z.number(),
          pageSize: z.number(),
          total: z.number(),
        }),
      },
      ...errorResponses(400, 401, 403),
    },
    async handle({ query }) {
      return { status: 200, body: await org.listUnits(query) };
    },
  });

  const unitParams = z.object({ id });
  routes.add<z.infer<typeof unitParams>>({
    method: 'get',
    path: '/api/v1/org/units/:id',
    tag: 'org',
    summary: 'A unit with its ancestry and the people holding posts in it',
    roles: ['admin', 'dispatcher', 'staff'],
    params: unitParams,
    responses: {
      200: {
        description: 'The unit',
        schema: unitSchema.extend({
          ancestry: z.array(z.object({ id: z.string(), name: z.string(), type: z.string() })),
          posts: z.array(
            z.object({ role: z.string(), personId: z.string(), personName: z.string() }),
          ),
        }),
      },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ params }) {
      return { status: 200, body: await org.getUnit(params.id) };
    },
  });
}

import { z } from 'zod';
import { csvCell } from '../../services/csv-records';
import {
  IMPORT_KINDS,
  type ImportKind,
  importBody,
  importFromCsv,
  orgId,
  unitInput,
} from '../../services/org-input';
import type { RouteRegistry } from '../pipeline';
import type { OrgService } from '../../services/org';
import { errorResponses, nextLink, nextSchema, pageQuery } from './shared';
import { pairingViewSchema } from './pairings';

/** Imports may be large (a county's roster); every other route keeps API_BODY_LIMIT. */
const IMPORT_BODY_LIMIT = '5mb';

const importResult = z.object({
  units: z.number(),
  people: z.number(),
  posts: z.number(),
  pairings: z.number(),
});

const importKindParams = z.object({ kind: z.enum(IMPORT_KINDS) });

const csvBody = z.string({ error: 'send the rows as the body with Content-Type: text/csv' }).meta({
  description:
    'A header row, then one row per item. Columns (any order): units `id,name,type,parentId` ' +
    '(parentId empty for a root); people `id,name,email,phone,userId` (the last three optional); ' +
    'posts `unitId,role,personId`; pairings (包联) `unitId,kind,personId,partnerUnitId,validFrom,validUntil` ' +
    '(either personId or partnerUnitId; the days optional). UTF-8 (a BOM is fine; other encodings such as GBK via the ' +
    'charset parameter), fields quoted as RFC 4180 describes.',
  example: 'id,name,type,parentId\ncounty,城固县,county,\nstreet-a,博望街道,street,county\n',
});

/** A group robot as admins read it: the webhook's key masked, the secret never returned. */
export const robotViewSchema = z
  .object({ channel: z.string(), webhook: z.string(), signed: z.boolean() })
  .meta({
    description:
      'Admins only. The webhook with its key masked; `signed`: a DingTalk signing secret is stored. Both are write-only.',
  });

const unitSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  parentId: z.string().nullable(),
  groupRobot: robotViewSchema.optional(),
  location: z
    .object({ lat: z.number(), lng: z.number() })
    .optional()
    .meta({ description: 'Where the unit is (WGS-84): check-ins (签到) are measured against it' }),
});

export function registerOrgRoutes(routes: RouteRegistry, org: OrgService): void {
  const robotUnitParams = z.object({ id: orgId });
  routes.add<z.infer<typeof robotUnitParams>>({
    method: 'post',
    path: '/api/v1/org/units/:id/robot/test',
    tag: 'org',
    summary: "Send a test message to a unit's group robot and answer what its vendor said",
    description:
      'A direct send, outside the outbox: the message says it is a test, and no figure counts it. `delivered` is the vendor’s `errcode: 0`; otherwise `answer` names the vendor’s errcode and message, the HTTP status, or the network error (never the webhook). 404 when the unit has no robot. Limited to 5 a minute per admin (chosen, under the vendors’ 20 a minute per robot).',
    roles: ['admin'],
    limit: 'robot-test',
    params: robotUnitParams,
    responses: {
      200: {
        description: 'What the robot answered',
        schema: z.object({
          delivered: z.boolean(),
          outcome: z.enum(['accepted', 'retryable', 'refused']),
          answer: z.string(),
        }),
      },
      ...errorResponses(400, 401, 403, 404, 429),
    },
    async handle({ params }) {
      return { status: 200, body: await org.testUnitRobot(params.id) };
    },
  });

  routes.add<undefined, undefined, undefined, z.infer<typeof importBody>>({
    method: 'post',
    path: '/api/v1/org/import',
    tag: 'org',
    summary:
      'Import units, people, their posts and pairings (JSON); checked as a whole, safe to repeat',
    description:
      'One sign-in account, one person: rows giving a `userId` that another person holds (stored, ' +
      'or another row of the import) refuse the whole import with 409, each named; nothing is ' +
      'written. Moving an account is two steps: unlink it from its holder ' +
      '(`POST /api/v1/org/people` without `userId`), then import or save the new link.',
    roles: ['admin'],
    body: importBody,
    bodyLimit: IMPORT_BODY_LIMIT,
    responses: {
      200: { description: 'Imported', schema: importResult },
      ...errorResponses(400, 401, 403, 409, 413, 422),
    },
    async handle({ body }) {
      return { status: 200, body: await org.importOrg(body) };
    },
  });

  routes.add<z.infer<typeof importKindParams>, undefined, undefined, string>({
    method: 'post',
    path: '/api/v1/org/import/:kind',
    tag: 'org',
    summary:
      'Import units, people, posts or pairings from a CSV file; checked as a whole, safe to repeat',
    description:
      'Send `Content-Type: text/csv`. Any bad row rejects the whole file and nothing is written; each problem names its cell (`row 7, column type`, the header being row 1). Import units, then people, then posts and pairings. A `userId` another person holds (one account, one person) is refused with 409, every such row named.',
    roles: ['admin'],
    params: importKindParams,
    body: csvBody,
    bodyFormat: 'csv',
    bodyLimit: IMPORT_BODY_LIMIT,
    responses: {
      200: { description: 'Imported', schema: importResult },
      ...errorResponses(400, 401, 403, 409, 413, 422),
    },
    async handle({ params, body }) {
      const { input, rows } = importFromCsv(params.kind, body);
      const pathOf = (_kind: ImportKind, index: number, field: string) =>
        csvCell(rows[index]!, field);
      return { status: 200, body: await org.importOrg(input, { pathOf }) };
    },
  });

  routes.add<undefined, undefined, undefined, z.infer<typeof unitInput>>({
    method: 'post',
    path: '/api/v1/org/units',
    tag: 'org',
    summary: 'Create a unit under an existing parent, or rename or move one',
    roles: ['admin'],
    body: unitInput,
    responses: {
      201: { description: 'Created', schema: unitSchema },
      200: { description: 'Updated', schema: unitSchema },
      ...errorResponses(400, 401, 403, 422),
    },
    async handle({ body }) {
      const { created, unit } = await org.saveUnit(body);
      return {
        status: created ? 201 : 200,
        body: unit,
        headers: { Location: `/api/v1/org/units/${unit.id}` },
      };
    },
  });

  const listQuery = pageQuery.extend({ parentId: orgId.optional() });
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
          next: nextSchema,
        }),
      },
      ...errorResponses(400, 401, 403),
    },
    async handle({ query }) {
      const page = await org.listUnits(query);
      return {
        status: 200,
        body: { ...page, next: nextLink('/api/v1/org/units', query, page.total) },
      };
    },
  });

  const unitParams = z.object({ id: orgId });
  routes.add<z.infer<typeof unitParams>>({
    method: 'get',
    path: '/api/v1/org/units/:id',
    tag: 'org',
    summary: 'A unit with its ancestry, the people holding posts in it and those paired with it',
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
          pairings: z.array(pairingViewSchema).meta({
            description:
              'Who is paired with the unit (包联), the first 100 by id; all of them: GET /api/v1/org/pairings?unitId=',
          }),
        }),
      },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, params }) {
      return { status: 200, body: await org.getUnit(params.id, principal) };
    },
  });
}

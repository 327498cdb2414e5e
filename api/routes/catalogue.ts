import { z } from 'zod';
import type { RouteRegistry } from '../pipeline';
import type { CatalogueService } from '../../services/catalogue';
import { CATALOGUE_CSV_COLUMNS, catalogueEntryInput } from '../../services/catalogue';
import { errorResponses } from './shared';

/** A county's catalogue may run to a few thousand rows; other routes keep API_BODY_LIMIT. */
const CATALOGUE_BODY_LIMIT = '2mb';

const ownerParams = z.object({ unitId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) });
const revisionParams = ownerParams.extend({ revision: z.coerce.number().int().min(1) });

const entrySchema = z.object({
  category: z.string(),
  subcategory: z.string().optional(),
  keywords: z.array(z.string()).optional(),
  unitId: z.string(),
  coUnitIds: z.array(z.string()).optional(),
  timeLimit: z.string().optional(),
  note: z.string().optional(),
});
const actorSchema = z.object({ kind: z.string(), id: z.string() });
const revisionSummary = z.object({
  ownerUnitId: z.string(),
  revision: z.number(),
  entryCount: z.number(),
  checksum: z.string(),
  publishedAt: z.iso.datetime(),
  publishedBy: actorSchema,
});
const catalogueSchema = revisionSummary.extend({
  ownerName: z.string().nullable(),
  current: z.boolean(),
  entries: z.array(entrySchema),
});
const publishBody = z.object({ entries: z.array(catalogueEntryInput) }).strict();

const csvBody = z.string({ error: 'send the rows as the body with Content-Type: text/csv' }).meta({
  description:
    `A header row, then one row per entry. Columns (any order): ${CATALOGUE_CSV_COLUMNS.join(', ')}; ` +
    'category and unitId required; keywords and coUnitIds list several values separated by ; or 、. ' +
    'UTF-8 (a BOM is fine), fields quoted as RFC 4180 describes.',
  example: 'category,unitId,coUnitIds,timeLimit\n环境卫生,dept-city,street-a,5 working days\n',
});

const readers = ['admin', 'dispatcher', 'staff'] as const;

export function registerCatalogueRoutes(routes: RouteRegistry, catalogue: CatalogueService): void {
  routes.add({
    method: 'get',
    path: '/api/v1/catalogues',
    tag: 'catalogue',
    summary: 'The dispatch catalogues (派单目录) you may read, each with its current revision',
    roles: [...readers],
    responses: {
      200: {
        description: 'Catalogues by owning unit',
        schema: z.object({
          items: z.array(
            z.object({
              ownerUnitId: z.string(),
              ownerName: z.string().nullable(),
              revision: z.number(),
              entryCount: z.number(),
              updatedAt: z.iso.datetime(),
            }),
          ),
        }),
      },
      ...errorResponses(401, 403),
    },
    async handle({ principal }) {
      return { status: 200, body: { items: await catalogue.list(principal) } };
    },
  });

  routes.add<z.infer<typeof ownerParams>>({
    method: 'get',
    path: '/api/v1/catalogues/:unitId',
    tag: 'catalogue',
    summary: 'The current dispatch catalogue of a unit',
    description:
      'Readers other than admins read the catalogues of their units and of the units above and below them.',
    roles: [...readers],
    params: ownerParams,
    responses: {
      200: { description: 'The current revision', schema: catalogueSchema },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, params }) {
      return { status: 200, body: await catalogue.get(principal, params.unitId) };
    },
  });

  routes.add<z.infer<typeof ownerParams>>({
    method: 'get',
    path: '/api/v1/catalogues/:unitId/revisions',
    tag: 'catalogue',
    summary: 'Every published revision of a unit’s dispatch catalogue, newest first',
    roles: [...readers],
    params: ownerParams,
    responses: {
      200: {
        description: 'Revisions',
        schema: z.object({ items: z.array(revisionSummary) }),
      },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, params }) {
      return {
        status: 200,
        body: { items: await catalogue.revisions(principal, params.unitId) },
      };
    },
  });

  routes.add<z.infer<typeof revisionParams>>({
    method: 'get',
    path: '/api/v1/catalogues/:unitId/revisions/:revision',
    tag: 'catalogue',
    summary: 'One revision of a unit’s dispatch catalogue',
    roles: [...readers],
    params: revisionParams,
    responses: {
      200: { description: 'The revision', schema: catalogueSchema },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, params }) {
      return {
        status: 200,
        body: await catalogue.get(principal, params.unitId, params.revision),
      };
    },
  });

  routes.add<z.infer<typeof ownerParams>, undefined, undefined, z.infer<typeof publishBody>>({
    method: 'put',
    path: '/api/v1/catalogues/:unitId',
    tag: 'catalogue',
    summary: 'Publish a unit’s dispatch catalogue as its next revision',
    description:
      'The whole catalogue: every category (the case category as the definitions spell it) with its responsible unit. Checked as a whole: an empty or duplicate category or an unknown unit rejects it and nothing is written. The same entries as the current revision publish nothing (200); a new revision answers 201. Running cases route by the revision current when their step runs.',
    roles: ['admin'],
    params: ownerParams,
    body: publishBody,
    bodyLimit: CATALOGUE_BODY_LIMIT,
    responses: {
      201: { description: 'Published as a new revision', schema: catalogueSchema },
      200: { description: 'Unchanged: the current revision', schema: catalogueSchema },
      ...errorResponses(400, 401, 403, 404, 409, 413, 422),
    },
    async handle({ principal, params, body }) {
      const result = await catalogue.publish(principal, params.unitId, body.entries);
      return { status: result.created ? 201 : 200, body: result.catalogue };
    },
  });

  routes.add<z.infer<typeof ownerParams>, undefined, undefined, string>({
    method: 'post',
    path: '/api/v1/catalogues/:unitId/import',
    tag: 'catalogue',
    summary: 'Publish a unit’s dispatch catalogue from a CSV file',
    description:
      'Send `Content-Type: text/csv`; the file is the whole catalogue. Any bad row rejects the file and nothing is written; each problem names its cell (`row 7, column unitId`, the header being row 1).',
    roles: ['admin'],
    params: ownerParams,
    body: csvBody,
    bodyFormat: 'csv',
    bodyLimit: CATALOGUE_BODY_LIMIT,
    responses: {
      201: { description: 'Published as a new revision', schema: catalogueSchema },
      200: { description: 'Unchanged: the current revision', schema: catalogueSchema },
      ...errorResponses(400, 401, 403, 404, 409, 413, 415, 422),
    },
    async handle({ principal, params, body }) {
      const result = await catalogue.importCsv(principal, params.unitId, body);
      return { status: result.created ? 201 : 200, body: result.catalogue };
    },
  });
}

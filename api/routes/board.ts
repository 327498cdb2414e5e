import { z } from 'zod';
import type { RouteRegistry } from '../pipeline';
import type { BoardService } from '../../services/board';
import { caseIdParams, cursorLink, errorResponses, nextSchema, pageQuery } from './shared';

const boardItem = z.object({
  id: z.string(),
  process: z.object({ key: z.string(), name: z.string() }),
  category: z.string().nullable(),
  place: z
    .array(z.object({ id: z.string(), name: z.string(), type: z.string() }))
    .meta({ description: 'County down to the compound at most (never a building or a floor)' }),
  title: z.string(),
  outcome: z.string().nullable(),
  fields: z
    .array(z.object({ label: z.string(), value: z.string() }))
    .meta({ description: 'The fields the process shows, personal data masked' }),
  status: z.string(),
  receivedAt: z.iso.datetime(),
  publishedAt: z.iso.datetime(),
  closedAt: z.iso.datetime().nullable(),
  handlingMinutes: z.number().int().nullable(),
  score: z.number().int().nullable(),
});

const boardCase = boardItem.extend({
  photos: z.array(z.object({ id: z.string(), url: z.string(), thumbnailUrl: z.string() })).meta({
    description:
      "The case's photos, only when its publish step shows them (photos: true); re-encoded without metadata",
  }),
});

const boardPhotoParams = caseIdParams.extend({
  attachmentId: z.string().regex(/^att-[0-9a-f]{24}$/, 'an attachment id'),
});

const boardQuery = pageQuery.extend({
  unitId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id')
    .optional()
    .meta({ description: 'A community, street… : its cases and those below it' }),
  category: z.string().max(63).optional(),
  definitionKey: z.string().max(63).optional(),
  before: z
    .string()
    .max(200)
    .optional()
    .meta({ description: "A page's `next`: the cases after it (keyset paging)" }),
});

export function registerBoardRoutes(routes: RouteRegistry, board: BoardService): void {
  routes.add<undefined, z.infer<typeof boardQuery>>({
    method: 'get',
    path: '/api/v1/public/board',
    tag: 'public board',
    summary: 'The public board (公示): published cases, newest first, no sign-in',
    roles: 'public',
    query: boardQuery,
    responses: {
      200: {
        description: 'A page of published cases',
        schema: z.object({
          items: z.array(boardItem),
          page: z.number().int(),
          pageSize: z.number().int(),
          total: z.number().int().meta({
            description:
              'Published cases matching (from `before` on): exact when totalIsEstimate is false, else estimated from per-day counts',
          }),
          totalIsEstimate: z.boolean(),
          next: nextSchema,
        }),
      },
      ...errorResponses(400, 404),
    },
    async handle({ query }) {
      const { nextBefore, ...listed } = await board.list(query);
      return {
        status: 200,
        body: { ...listed, next: cursorLink('/api/v1/public/board', query, nextBefore) },
      };
    },
  });

  routes.add<z.infer<typeof caseIdParams>>({
    method: 'get',
    path: '/api/v1/public/board/:id',
    tag: 'public board',
    summary: 'One published case on the public board',
    roles: 'public',
    params: caseIdParams,
    responses: {
      200: { description: 'The published case', schema: boardCase },
      ...errorResponses(400, 404),
    },
    async handle({ params }) {
      return { status: 200, body: await board.get(params.id) };
    },
  });

  for (const variant of ['image', 'thumbnail'] as const) {
    routes.add<z.infer<typeof boardPhotoParams>>({
      method: 'get',
      path:
        variant === 'image'
          ? '/api/v1/public/board/:id/photos/:attachmentId'
          : '/api/v1/public/board/:id/photos/:attachmentId/thumbnail',
      tag: 'public board',
      summary:
        variant === 'image'
          ? 'A photo of a published case, no sign-in'
          : "A published photo's thumbnail, no sign-in",
      description:
        'Only while the case is on the board and its publish step shows photos (photos: true); 404 otherwise. The JPEG carries no metadata (no EXIF or GPS).',
      roles: 'public',
      params: boardPhotoParams,
      responses: {
        200: {
          description: 'The JPEG',
          media: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } },
        },
        ...errorResponses(400, 404),
      },
      async handle({ params }) {
        const file = await board.photo(params.id, params.attachmentId, variant);
        return { status: 200, body: file.data, headers: file.headers };
      },
    });
  }
}

import { z } from 'zod';
import type { AttachmentService, AttachmentView } from '../../services/attachments';
import { ATTACHMENT_LIMITS } from '../../services/attachments';
import type { ImageBody, RouteRegistry } from '../pipeline';
import { caseIdParams, errorResponses } from './shared';
import { taskIdParams } from './tasks';

/** Photos on cases: upload (to a case or from a task), list, read the photo and its thumbnail. */

export const attachmentViewSchema = z.object({
  id: z.string(),
  caseId: z.string(),
  taskId: z.string().nullable().meta({ description: 'The task it was attached from, if any' }),
  stepId: z.string().nullable(),
  uploadedBy: z.object({ kind: z.string(), id: z.string() }),
  uploadedAt: z.iso.datetime(),
  contentType: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
  url: z.string(),
  thumbnailUrl: z.string(),
});

export const attachmentIdParams = z.object({
  id: z.string().regex(/^att-[0-9a-f]{24}$/, 'an attachment id (att- and 24 hex digits)'),
});

const imageBody = z.object(
  {
    image: z.object(
      { bytes: z.instanceof(Buffer), contentType: z.string() },
      {
        error:
          'attach the photo: one file part of a multipart/form-data body, or a raw image/* body',
      },
    ),
  },
  { error: 'attach the photo' },
) satisfies z.ZodType<ImageBody>;

const UPLOAD_NOTE = `Send one image (JPEG, PNG, WebP or HEIF) as multipart/form-data (the first file part) or as a raw image/* body, at most ${ATTACHMENT_LIMITS.maxUploadBytes / 1024 / 1024} MB. It is turned upright by its EXIF orientation, shrunk to at most ${ATTACHMENT_LIMITS.maxLongEdge} px on its long edge, re-encoded as JPEG with every metadata removed (EXIF, GPS, XMP), and stored with a ${ATTACHMENT_LIMITS.thumbnailLongEdge} px thumbnail. A case takes at most ${ATTACHMENT_LIMITS.maxPerCase} photos (409 past it). 413 for a larger image, 415 for anything that is not an image.`;

const photoFile = {
  description: 'The JPEG (no metadata)',
  media: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } },
};

const UPLOADERS = ['admin', 'dispatcher', 'staff', 'resident', 'system'] as const;

export function registerAttachmentRoutes(
  routes: RouteRegistry,
  attachments: AttachmentService,
): void {
  routes.add<z.infer<typeof caseIdParams>, undefined, undefined, z.infer<typeof imageBody>>({
    method: 'post',
    path: '/api/v1/cases/:id/attachments',
    tag: 'attachments',
    summary: 'Attach a photo to a case',
    description: `Anyone who may see the case, or holds or may claim one of its tasks, while the case is open. ${UPLOAD_NOTE}`,
    roles: UPLOADERS,
    limit: 'attachment-upload',
    params: caseIdParams,
    body: imageBody,
    bodyFormat: 'image',
    imageLimitBytes: ATTACHMENT_LIMITS.maxUploadBytes,
    responses: {
      201: { description: 'The stored photo', schema: attachmentViewSchema },
      ...errorResponses(400, 401, 403, 404, 409, 413, 415),
    },
    async handle({ principal, params, body }) {
      const view = await attachments.attachToCase(principal, params.id, body.image);
      return created(view);
    },
  });

  routes.add<z.infer<typeof taskIdParams>, undefined, undefined, z.infer<typeof imageBody>>({
    method: 'post',
    path: '/api/v1/tasks/:id/attachments',
    tag: 'attachments',
    summary: "Attach a photo from a task (to the task's case)",
    description: `For a photo field of the task's form: attach first, then complete the task naming the returned id. The task must be open and in your scope (you hold it, claimed it, may claim it, or see its case). ${UPLOAD_NOTE}`,
    roles: UPLOADERS,
    limit: 'attachment-upload',
    params: taskIdParams,
    body: imageBody,
    bodyFormat: 'image',
    imageLimitBytes: ATTACHMENT_LIMITS.maxUploadBytes,
    responses: {
      201: { description: 'The stored photo', schema: attachmentViewSchema },
      ...errorResponses(400, 401, 403, 404, 409, 413, 415),
    },
    async handle({ principal, params, body }) {
      return created(await attachments.attachToTask(principal, params.id, body.image));
    },
  });

  routes.add<z.infer<typeof caseIdParams>>({
    method: 'get',
    path: '/api/v1/cases/:id/attachments',
    tag: 'attachments',
    summary: "A case's photos, oldest first (who attached each, when, from which task)",
    roles: UPLOADERS,
    params: caseIdParams,
    responses: {
      200: {
        description: 'The photos',
        schema: z.object({ items: z.array(attachmentViewSchema) }),
      },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ principal, params }) {
      return { status: 200, body: { items: await attachments.listOfCase(principal, params.id) } };
    },
  });

  for (const variant of ['image', 'thumbnail'] as const) {
    routes.add<z.infer<typeof attachmentIdParams>>({
      method: 'get',
      path: variant === 'image' ? '/api/v1/attachments/:id' : '/api/v1/attachments/:id/thumbnail',
      tag: 'attachments',
      summary: variant === 'image' ? 'A photo' : "A photo's thumbnail",
      description: 'Under the scope of its case: 404 for a photo of a case you may not see.',
      roles: UPLOADERS,
      params: attachmentIdParams,
      responses: { 200: photoFile, ...errorResponses(400, 401, 403, 404) },
      async handle({ principal, params }) {
        const file = await attachments.read(principal, params.id, variant);
        return { status: 200, body: file.data, headers: file.headers };
      },
    });
  }
}

function created(view: AttachmentView) {
  return { status: 201, body: view, headers: { Location: view.url } };
}

import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { PhotoAttached } from '../common/case';
import { PHOTO_ATTACHED_SIGNAL } from '../common/case';
import type { Logger } from '../common/logger';
import { asAppError, withCallDeadline } from './temporal-errors';
import sharp from 'sharp';
import { MAX_PHOTOS_PER_CASE } from '../lang/definition';
import type { Models } from '../models';
import type { AttachmentDocument } from '../models/attachment';
import type { Principal } from './auth';
import { AppError } from './errors';
import type { ScopeResolver } from './scope';
import { canSee, isNamedRater } from './scope';
import { TASK_SCOPE } from './tasks';

/**
 * Photo attachments of cases (现场照片): uploaded from a task's page or to a case, decoded,
 * turned upright by their EXIF orientation, shrunk, re-encoded as JPEG without any metadata (no
 * EXIF, GPS, XMP or maker notes survive), and stored with a thumbnail in MongoDB
 * (models/attachment.ts). Read under the same scope as the case: whoever may see the case, or
 * holds (or may claim) one of its tasks, may add and see its photos. Task forms name photos by id
 * (a `photo` field); the workflow never sees an image.
 */

/** Each number chosen here: phones send 2–8 MB photos; what is stored stays a few hundred KB. */
export const ATTACHMENT_LIMITS = {
  /** The largest upload taken (chosen: 10 MB holds any phone's full-size JPEG or HEIF). */
  maxUploadBytes: 10 * 1024 * 1024,
  /** Decoded size refused past this many pixels (chosen: 50 MP, above any phone's camera). */
  maxInputPixels: 50_000_000,
  /** The stored photo's long edge (chosen: 1600 px reads well on a screen, ~200–400 KB). */
  maxLongEdge: 1600,
  /** The thumbnail's long edge (chosen: 320 px, a phone-width grid of two). */
  thumbnailLongEdge: 320,
  /** JPEG quality of the stored photo and of the thumbnail (chosen). */
  jpegQuality: 80,
  thumbnailQuality: 70,
  /** Photos one case may carry (lang/definition.ts MAX_PHOTOS_PER_CASE, chosen there). */
  maxPerCase: MAX_PHOTOS_PER_CASE,
} as const;

/** Image formats taken (what phones and browsers send; sharp decodes each). */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'heif', 'avif']);

/** How long a browser may keep a photo it fetched (chosen: 5 minutes, private to that browser). */
const CACHE_CONTROL = 'private, max-age=300';

export interface UploadedImage {
  bytes: Buffer;
  /** The type the client declared (a multipart part's or the body's Content-Type). */
  contentType: string;
}

export interface AttachmentView {
  id: string;
  caseId: string;
  /** The task it was attached from, and that task's step; null when attached to the case. */
  taskId: string | null;
  stepId: string | null;
  uploadedBy: { kind: string; id: string };
  uploadedAt: string;
  contentType: string;
  width: number;
  height: number;
  bytes: number;
  url: string;
  thumbnailUrl: string;
}

export type AttachmentVariant = 'image' | 'thumbnail';

export interface AttachmentFile {
  contentType: string;
  data: Buffer;
  headers: Record<string, string>;
}

export interface AttachmentService {
  /** Attaches a photo to a case the principal may reach (404 otherwise); the case must be open. */
  attachToCase(principal: Principal, caseId: string, image: UploadedImage): Promise<AttachmentView>;
  /** Attaches a photo from a task's page: to the task's case, recorded with the task and step. */
  attachToTask(principal: Principal, taskId: string, image: UploadedImage): Promise<AttachmentView>;
  /** The case's photos, oldest first (404 when the case is out of the principal's scope). */
  listOfCase(principal: Principal, caseId: string): Promise<AttachmentView[]>;
  /** The photo or its thumbnail, under the case's scope (404 otherwise). */
  read(
    principal: Principal,
    attachmentId: string,
    variant: AttachmentVariant,
  ): Promise<AttachmentFile>;
}

export function createAttachmentService(deps: {
  models: Models;
  scope: ScopeResolver;
  clock: () => Date;
  /** Tells the case's workflow of each photo stored, for its timeline (`attachment.added`). */
  temporal?: Client;
  callTimeoutMs?: number;
  logger?: Logger;
}): AttachmentService {
  const { Attachment, AttachmentBlob, Case, Task } = deps.models;

  /**
   * The case, when the principal may reach it: its scope (the unit's staff, its requester), or a
   * task of it that the principal holds, has claimed or may claim (a property worker posted at
   * the compound, a broadcast pool's claimant). To read (`reading`), also a rater a feedback step
   * names (docs 6.8): they see the photos of the service they rate, but add none. Anything else
   * is a 404, so ids do not leak.
   */
  async function reachableCase(principal: Principal, caseId: string, reading = false) {
    const scope = await deps.scope.resolve(principal);
    const kase = await Case.findById(caseId, {
      unitId: 1,
      createdBy: 1,
      status: 1,
      raterUserIds: 1,
      raterReaderUserIds: 1,
    }).lean();
    if (!kase) throw caseNotFound(caseId);
    if (canSee(scope, kase) || (reading && isNamedRater(principal, kase))) return kase;
    const tasks = await Task.find(
      { caseId },
      {
        kind: 1,
        status: 1,
        caseUnitId: 1,
        candidateUserIds: 1,
        assigneeUserId: 1,
        claimantUserIds: 1,
      },
    ).lean();
    if (tasks.some((task) => canSee(scope, task, TASK_SCOPE))) return kase;
    throw caseNotFound(caseId);
  }

  async function store(
    principal: Principal,
    caseId: string,
    task: { id: string; stepId: string } | null,
    image: UploadedImage,
  ): Promise<AttachmentView> {
    // Counted before the work of decoding; two uploads at the same instant may both pass
    // (no transactions on FerretDB), so a case can end one or two photos over: harmless.
    const count = await Attachment.countDocuments({ caseId });
    if (count >= ATTACHMENT_LIMITS.maxPerCase) {
      throw new AppError(
        'conflict',
        `Case "${caseId}" already has ${count} photos, the most a case takes (${ATTACHMENT_LIMITS.maxPerCase})`,
      );
    }
    const processed = await processImage(image);
    const id = `att-${randomBytes(12).toString('hex')}`;
    // The bytes first: a listed attachment always has them. A crash between the two writes
    // leaves unlisted blobs, never a listed photo without its image.
    await AttachmentBlob.insertMany([
      { _id: `${id}:image`, contentType: 'image/jpeg', data: processed.image.data },
      { _id: `${id}:thumbnail`, contentType: 'image/jpeg', data: processed.thumbnail.data },
    ]);
    const doc = {
      _id: id,
      caseId,
      taskId: task?.id ?? null,
      stepId: task?.stepId ?? null,
      uploadedBy: { kind: principal.kind, id: principal.id },
      uploadedAt: deps.clock(),
      contentType: 'image/jpeg',
      width: processed.image.width,
      height: processed.image.height,
      bytes: processed.image.data.length,
      thumbnailWidth: processed.thumbnail.width,
      thumbnailHeight: processed.thumbnail.height,
      originalBytes: image.bytes.length,
    };
    await Attachment.create(doc);
    await tellTheCase(caseId, {
      attachmentId: id,
      taskId: doc.taskId,
      stepId: doc.stepId,
      actor: { kind: principal.kind, id: principal.id },
    });
    return viewOf(doc);
  }

  /**
   * The photo on the case's timeline: the workflow records `attachment.added` with the ids (never
   * the bytes, never a position), once however often it hears of it. The photo is stored either
   * way: a case that ended meanwhile has no timeline to add to, and a signal lost to an outage
   * leaves the photo beside the case, where the console still shows it in its place by time.
   */
  async function tellTheCase(caseId: string, photo: PhotoAttached): Promise<void> {
    const temporal = deps.temporal;
    if (!temporal) return;
    try {
      await withCallDeadline(temporal, deps.callTimeoutMs ?? 10_000, () =>
        temporal.workflow.getHandle(caseId).signal(PHOTO_ATTACHED_SIGNAL, photo),
      );
    } catch (err) {
      const mapped = asAppError(err);
      if (mapped instanceof AppError && mapped.kind === 'not_found') return;
      deps.logger?.warn(
        {
          caseId,
          attachmentId: photo.attachmentId,
          error: err instanceof Error ? err.message : String(err),
        },
        'photo not put on the case timeline',
      );
    }
  }

  return {
    async attachToCase(principal, caseId, image) {
      const kase = await reachableCase(principal, caseId);
      if (kase.status !== 'open') throw caseClosed(caseId);
      return store(principal, caseId, null, image);
    },

    async attachToTask(principal, taskId, image) {
      const task = await Task.findById(taskId).lean();
      if (!task || !canSee(await deps.scope.resolve(principal), task, TASK_SCOPE)) {
        throw new AppError('not_found', `No task "${taskId}" in your scope`);
      }
      if (task.status !== 'open' && task.status !== 'claimed') {
        throw new AppError(
          'conflict',
          `Task "${taskId}" is ${task.status}: photos go with open work`,
        );
      }
      return store(principal, task.caseId, { id: task._id, stepId: task.stepId }, image);
    },

    async listOfCase(principal, caseId) {
      await reachableCase(principal, caseId, true);
      return attachmentsOfCase(deps.models, caseId);
    },

    async read(principal, attachmentId, variant) {
      const attachment = await Attachment.findById(attachmentId).lean();
      if (!attachment) throw attachmentNotFound(attachmentId);
      try {
        await reachableCase(principal, attachment.caseId, true);
      } catch (err) {
        if (err instanceof AppError && err.kind === 'not_found') {
          throw attachmentNotFound(attachmentId);
        }
        throw err;
      }
      return blobOf(deps.models, attachmentId, variant);
    },
  };
}

/** The case's photos, oldest first, without their bytes (callers check scope or publication). */
export async function attachmentsOfCase(
  models: Pick<Models, 'Attachment'>,
  caseId: string,
): Promise<AttachmentView[]> {
  const docs = await models.Attachment.find({ caseId }).sort({ uploadedAt: 1, _id: 1 }).lean();
  return docs.map(viewOf);
}

/** The stored bytes of a photo or its thumbnail (callers check scope or publication). */
export async function blobOf(
  models: Pick<Models, 'AttachmentBlob'>,
  attachmentId: string,
  variant: AttachmentVariant,
): Promise<AttachmentFile> {
  // Hydrated, not lean: mongoose turns the stored BSON binary back into a Buffer.
  const blob = await models.AttachmentBlob.findById(`${attachmentId}:${variant}`);
  if (!blob) throw attachmentNotFound(attachmentId);
  const data = Buffer.from(blob.data);
  return {
    contentType: blob.contentType,
    data,
    headers: {
      'content-type': blob.contentType,
      'cache-control': CACHE_CONTROL,
      'content-disposition': `inline; filename="${attachmentId}${variant === 'thumbnail' ? '-thumbnail' : ''}.jpg"`,
    },
  };
}

function viewOf(doc: AttachmentDocument & { _id: string }): AttachmentView {
  return {
    id: doc._id,
    caseId: doc.caseId,
    taskId: doc.taskId ?? null,
    stepId: doc.stepId ?? null,
    uploadedBy: { kind: doc.uploadedBy.kind, id: doc.uploadedBy.id },
    uploadedAt: doc.uploadedAt.toISOString(),
    contentType: doc.contentType,
    width: doc.width,
    height: doc.height,
    bytes: doc.bytes,
    url: `/api/v1/attachments/${doc._id}`,
    thumbnailUrl: `/api/v1/attachments/${doc._id}/thumbnail`,
  };
}

interface Encoded {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Decode, orient, shrink, re-encode: what is stored is pixels only. sharp writes no metadata
 * unless asked (`keepMetadata`/`withMetadata`, never called here), so EXIF (GPS, the camera, the
 * time), XMP and IPTC of the upload are gone; the orientation is applied to the pixels first so
 * the photo still stands upright without its EXIF tag. A transparent PNG is flattened on white.
 */
export async function processImage(
  image: UploadedImage,
): Promise<{ image: Encoded; thumbnail: Encoded }> {
  const declared = image.contentType.split(';')[0]!.trim().toLowerCase();
  if (!declared.startsWith('image/')) {
    throw new AppError(
      'unsupported_media_type',
      `A photo must be an image (JPEG, PNG, WebP or HEIF); got ${declared || 'no type'}`,
    );
  }
  if (image.bytes.length > ATTACHMENT_LIMITS.maxUploadBytes) throw tooLarge();
  if (image.bytes.length === 0) {
    throw new AppError('unsupported_media_type', 'The photo is empty (0 bytes)');
  }
  const options = { limitInputPixels: ATTACHMENT_LIMITS.maxInputPixels, failOn: 'error' as const };
  let format: string | undefined;
  try {
    format = (await sharp(image.bytes, options).metadata()).format;
  } catch {
    throw notAnImage();
  }
  if (format === undefined || !ACCEPTED_FORMATS.has(format)) {
    throw new AppError(
      'unsupported_media_type',
      `Photos are taken as JPEG, PNG, WebP or HEIF; this one is ${format ?? 'of no known format'}`,
    );
  }
  const encode = async (longEdge: number, quality: number): Promise<Encoded> => {
    const { data, info } = await sharp(image.bytes, options)
      .autoOrient()
      .resize({ width: longEdge, height: longEdge, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .jpeg({ quality, mozjpeg: true })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  };
  try {
    return {
      image: await encode(ATTACHMENT_LIMITS.maxLongEdge, ATTACHMENT_LIMITS.jpegQuality),
      thumbnail: await encode(
        ATTACHMENT_LIMITS.thumbnailLongEdge,
        ATTACHMENT_LIMITS.thumbnailQuality,
      ),
    };
  } catch (err) {
    if (/pixel limit/i.test((err as Error).message)) throw tooLarge();
    throw notAnImage();
  }
}

function tooLarge(): AppError {
  return new AppError(
    'payload_too_large',
    `The photo is larger than this server takes: at most ${ATTACHMENT_LIMITS.maxUploadBytes / 1024 / 1024} MB and ${ATTACHMENT_LIMITS.maxInputPixels / 1_000_000} megapixels`,
  );
}

function notAnImage(): AppError {
  return new AppError(
    'unsupported_media_type',
    'The upload could not be read as an image (JPEG, PNG, WebP or HEIF); it may be damaged or another kind of file',
  );
}

function caseNotFound(caseId: string): AppError {
  return new AppError('not_found', `No case "${caseId}"`);
}

function attachmentNotFound(attachmentId: string): AppError {
  return new AppError('not_found', `No attachment "${attachmentId}"`);
}

function caseClosed(caseId: string): AppError {
  return new AppError('conflict', `Case "${caseId}" is closed: photos go with open cases`);
}

import mongoose from 'mongoose';
import type { Connection, InferSchemaType } from 'mongoose';

/**
 * Photo attachments of cases (services/attachments.ts), in two collections:
 *
 * - `attachments`: what a case page lists (who attached it, when, for which task, sizes), small
 *   documents found by `caseId`. FerretDB v1 on SQLite scans a collection for any filter but
 *   `_id`, so the image bytes are kept out of this one: listing a case's photos never reads them.
 * - `attachmentBlobs`: the bytes, read only by `_id` (`<attachment id>:image` and
 *   `<attachment id>:thumbnail`), each a re-encoded JPEG of a few hundred KB at most, far below
 *   the 16 MB document limit.
 *
 * Written by the API's attachment service when a photo is uploaded (admin-like data beside the
 * case, not case state: the workflow only ever sees the attachment ids a form names), each
 * document inserted once and never updated, so FerretDB's lost concurrent updates cannot touch
 * them.
 */
export const attachmentSchema = new mongoose.Schema(
  {
    /** `att-` and 24 hex digits, random: not guessable from a case id. */
    _id: { type: String, required: true },
    caseId: { type: String, required: true },
    /** The task it was attached from (a form's photo field), or null when attached to the case. */
    taskId: { type: String, default: null },
    /** The step of that task, so the case page can say which step a photo belongs to. */
    stepId: { type: String, default: null },
    uploadedBy: {
      type: new mongoose.Schema(
        { kind: { type: String, required: true }, id: { type: String, required: true } },
        { _id: false },
      ),
      required: true,
    },
    uploadedAt: { type: Date, required: true },
    contentType: { type: String, required: true },
    width: { type: Number, required: true },
    height: { type: Number, required: true },
    bytes: { type: Number, required: true },
    thumbnailWidth: { type: Number, required: true },
    thumbnailHeight: { type: Number, required: true },
    /** How many bytes were sent, for the record (the original itself is never stored). */
    originalBytes: { type: Number, required: true },
  },
  { collection: 'attachments', versionKey: false },
);
attachmentSchema.index({ caseId: 1, uploadedAt: 1 });

export const attachmentBlobSchema = new mongoose.Schema(
  {
    /** `<attachment id>:image` or `<attachment id>:thumbnail`. */
    _id: { type: String, required: true },
    contentType: { type: String, required: true },
    data: { type: Buffer, required: true },
  },
  { collection: 'attachmentBlobs', versionKey: false },
);

export type AttachmentDocument = InferSchemaType<typeof attachmentSchema>;

export function createAttachmentModels(connection: Connection) {
  return {
    Attachment: connection.model('Attachment', attachmentSchema),
    AttachmentBlob: connection.model('AttachmentBlob', attachmentBlobSchema),
  };
}

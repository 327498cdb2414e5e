import type { FieldSpec } from '../lang/definition';
import { ATTACHMENT_ID } from '../lang/definition';
import type { Models } from '../models';

/**
 * Photo fields (`type: photo`) of a task's form name attachments by id. The workflow checks their
 * shape; this checks, on the request path before the Update, that each photo exists, belongs to
 * the task's case, and was attached by the person completing the task or from this very task
 * (a colleague's photo of the same task counts; a photo of another case, or one that someone
 * else attached elsewhere on the case, does not). Ids only: nothing of the image is read.
 */
export async function unusablePhotos(
  Attachment: Models['Attachment'],
  fields: readonly FieldSpec[],
  form: Record<string, unknown>,
  prefix: string,
  task: { id: string; caseId: string },
  actorId: string,
): Promise<Array<{ path: string; message: string }>> {
  const named: Array<{ path: string; id: string }> = [];
  for (const field of fields) {
    if (field.type !== 'photo' || form[field.name] === undefined) continue;
    const value = form[field.name];
    (Array.isArray(value) ? value : [value]).forEach((id, i) => {
      // A malformed id is the workflow's to name (with the field's own message).
      if (typeof id !== 'string' || !ATTACHMENT_ID.test(id)) return;
      named.push({
        path: field.multiple ? `${prefix}.${field.name}[${i}]` : `${prefix}.${field.name}`,
        id,
      });
    });
  }
  if (named.length === 0) return [];
  // One `_id` read (what FerretDB on SQLite answers by key), without the sizes.
  const found = await Attachment.find(
    { _id: { $in: [...new Set(named.map((n) => n.id))].sort() } },
    { caseId: 1, taskId: 1, uploadedBy: 1 },
  ).lean();
  const byId = new Map(found.map((doc) => [doc._id, doc]));
  const problems: Array<{ path: string; message: string }> = [];
  const seen = new Set<string>();
  for (const { path, id } of named) {
    const doc = byId.get(id);
    if (seen.has(id)) {
      problems.push({ path, message: `photo "${id}" is named twice` });
    } else if (!doc || doc.caseId !== task.caseId) {
      problems.push({ path, message: `no photo "${id}" on this case` });
    } else if (doc.uploadedBy.id !== actorId && doc.taskId !== task.id) {
      problems.push({
        path,
        message: `photo "${id}" was attached by someone else, not from this task: attach your own`,
      });
    }
    seen.add(id);
  }
  return problems;
}

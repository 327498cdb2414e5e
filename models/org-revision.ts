import type { Models } from './index';

/** The one document that holds the org tree's revision. */
const ORG = 'org';

/**
 * Records that the org tree changed (a unit, person or post written). Every org write calls it
 * after its own write, so a reader that sees the new revision also sees the write.
 */
export async function bumpOrgRevision(models: Pick<Models, 'OrgRevision'>): Promise<void> {
  await models.OrgRevision.updateOne({ _id: ORG }, { $inc: { revision: 1 } }, { upsert: true });
}

/** The org tree's current revision (0 before the first write through the services). */
export async function readOrgRevision(models: Pick<Models, 'OrgRevision'>): Promise<number> {
  const doc = await models.OrgRevision.findById(ORG, { revision: 1 }).lean();
  return doc?.revision ?? 0;
}

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { createOrgSnapshot } from '../common/org-snapshot';
import {
  personEmailField,
  personNameField,
  personPhoneField,
  upsertPerson,
  upsertPost,
} from '../common/org-writes';
import { OrgTree } from '../common/org-tree';
import { baseOfReference } from '../common/people-selector';
import type { UnitType } from '../lang/vocabulary';
import type { ActivityDependencies } from './dependencies';
import type { WireUnitRef } from './lookups';

/** What a `grant` step asks (workflows/steps/grant.ts): the unit as a lookup's, the person named or new. */
export interface GrantPostRequest {
  caseId: string;
  stepId: string;
  post: string;
  unit: WireUnitRef;
  caseUnitId: string | null;
  data: Record<string, unknown>;
  /** A person of the org data (the expression's value), or null to record `newPerson`. */
  personId: string | null;
  newPerson: { name: unknown; phone: unknown; email: unknown } | null;
}

export type GrantPostResult =
  | { refused: null; personId: string; unitId: string; created: boolean; alreadyHeld: boolean }
  | { refused: 'unit' | 'person' | 'new-person'; detail: string };

/**
 * The id a grant's new person gets: one per case and step, so a retry or a replay of the step
 * finds the person its first attempt recorded instead of recording a second.
 */
export function grantedPersonId(caseId: string, stepId: string): string {
  return `p-grant-${createHash('sha256').update(`${caseId}\n${stepId}`).digest('hex').slice(0, 24)}`;
}

/**
 * Writes the org data for a `grant` step through the org service's own writes (savePerson,
 * addPost: each bumps the org revision, so the next people lookup reads the new post). Safe to
 * repeat: the post is upserted, and a new person already recorded by an earlier attempt is kept
 * as it is. Refusals (no such unit, no such person, a new person without a usable name or phone)
 * are answers, not failures: the workflow fails the case saying which.
 */
/** A new person from a case's data: the org data's own field rules (common/org-writes.ts). */
const newPersonInput = z.object({
  name: personNameField,
  email: personEmailField.optional(),
  phone: personPhoneField.optional(),
});

export function createOrgGrantActivities(deps: ActivityDependencies) {
  const snapshot = createOrgSnapshot({ models: deps.models });

  return {
    async grantPost(request: GrantPostRequest): Promise<GrantPostResult> {
      const { byId } = await snapshot.get();
      const tree = new OrgTree([...byId.values()].map((u) => ({ ...u, type: u.type as UnitType })));
      const { base, relation } = baseOfReference(tree, request.unit, {
        caseUnitId: request.caseUnitId,
        assigneeUnitId: null,
        data: request.data,
      });
      const unit = base === null ? null : tree.relate(base, relation);
      if (!unit) {
        return { refused: 'unit', detail: 'the unit the step names does not exist for this case' };
      }
      const { Person, Post } = deps.models;
      let personId = request.personId;
      let created = false;
      if (personId !== null) {
        if (!(await Person.findById(personId, { _id: 1 }).lean())) {
          return { refused: 'person', detail: `no person "${personId}" in the org data` };
        }
      } else {
        personId = grantedPersonId(request.caseId, request.stepId);
        if (!(await Person.findById(personId, { _id: 1 }).lean())) {
          const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
          // Which fields, never their values: the answer is recorded in the case's history.
          const parsed = newPersonInput.safeParse({
            name: text(request.newPerson?.name),
            phone: text(request.newPerson?.phone),
            email: text(request.newPerson?.email),
          });
          if (!parsed.success) {
            const unusable = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.')))];
            return { refused: 'new-person', detail: `newPerson: unusable ${unusable.join(', ')}` };
          }
          await upsertPerson(deps.models, { id: personId, ...parsed.data }, deps.clock(), [
            'email',
            'phone',
          ]);
          created = true;
        }
      }
      const held = await Post.exists({ unitId: unit.id, role: request.post, personId });
      await upsertPost(deps.models, { unitId: unit.id, role: request.post, personId });
      return { refused: null, personId, unitId: unit.id, created, alreadyHeld: held !== null };
    },
  };
}

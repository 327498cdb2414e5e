import { createHash } from 'node:crypto';
import { z } from 'zod';
import { createOrgSnapshot } from '../common/org-snapshot';
import {
  AccountTakenError,
  linkPersonAccount,
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
  /**
   * `account: requester` on the step: the account of the resident who filed the case (`userId`),
   * or null when it was filed by anyone else (staff, a dispatcher, an API key, the engine).
   * Absent: the step links no account.
   */
  account?: { userId: string | null };
}

/**
 * What became of the account link a step with `account: requester` asks for (docs 6.17):
 * - `linked`: the person granted signs in with the requester's account (now or already);
 * - `not-a-resident`: the case was not filed by a resident's own account: nothing linked;
 * - `no-account`: the requester's account no longer exists: nothing linked;
 * - `account-taken`: the account is another person's: refused, that person keeps it;
 * - `person-has-account`: the person granted has another account: refused, they keep theirs.
 */
export type GrantAccountLink =
  'linked' | 'not-a-resident' | 'no-account' | 'account-taken' | 'person-has-account';

export type GrantPostResult =
  | {
      refused: null;
      personId: string;
      unitId: string;
      created: boolean;
      alreadyHeld: boolean;
      /** Only when the step asks for the requester's account. */
      account?: GrantAccountLink;
    }
  | { refused: 'unit' | 'person' | 'new-person'; detail: string };

/**
 * The id a grant's new person gets: one per case and step, so a retry or a replay of the step
 * finds the person its first attempt recorded instead of recording a second.
 */
export function grantedPersonId(caseId: string, stepId: string): string {
  return `p-grant-${createHash('sha256').update(`${caseId}\n${stepId}`).digest('hex').slice(0, 24)}`;
}

/** A new person from a case's data: the org data's own field rules (common/org-writes.ts). */
const newPersonInput = z.object({
  name: personNameField,
  email: personEmailField.optional(),
  phone: personPhoneField.optional(),
});

/**
 * Writes the org data for a `grant` step through the org service's own writes (savePerson,
 * addPost: each bumps the org revision, so the next people lookup reads the new post). Safe to
 * repeat: the post is upserted, and a new person already recorded by an earlier attempt is kept
 * as it is. Refusals (no such unit, no such person, a new person without a usable name or phone)
 * are answers, not failures: the workflow fails the case saying which. With `account` (the step's
 * `account: requester`), the person granted is linked to the resident's account, one account to
 * one person: the account's own person is granted instead of a new one, and a link that would take
 * an account from its person, or give a person a second account, is refused and said
 * (GrantAccountLink), never made.
 */
export function createOrgGrantActivities(deps: ActivityDependencies) {
  const snapshot = createOrgSnapshot({ models: deps.models });

  /**
   * One account, one person: links `personId` to `userId` unless either is another's. Never
   * moves an account from one person to another: a refusal is the answer, recorded by the step.
   * Repeating it is harmless (a link already made answers `linked` again).
   */
  async function linkAccount(
    personId: string,
    userId: string,
    accountHolder: string | null,
  ): Promise<GrantAccountLink> {
    const person = await deps.models.Person.findById(personId, { userId: 1 }).lean();
    if (person?.userId === userId) return 'linked';
    if (person?.userId) return 'person-has-account';
    if (accountHolder !== null && accountHolder !== personId) return 'account-taken';
    try {
      await linkPersonAccount(deps.models, personId, userId, deps.clock());
    } catch (err) {
      // Another write linked the account since it was read: the org writes' own refusal.
      if (err instanceof AccountTakenError) return 'account-taken';
      throw err;
    }
    return 'linked';
  }

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
      const { Person, Post, User } = deps.models;
      // The requester's account and the person it already signs in as (one account, one
      // person): read before the person is chosen, so a resident's second filing grants the
      // person their first one recorded instead of recording another.
      const userId = request.account?.userId ?? null;
      let account: GrantAccountLink | undefined;
      let accountHolder: string | null = null;
      if (request.account !== undefined) {
        if (userId === null) account = 'not-a-resident';
        else if (!(await User.exists({ _id: userId }))) account = 'no-account';
        else accountHolder = (await Person.findOne({ userId }, { _id: 1 }).lean())?._id ?? null;
      }
      const linking = request.account !== undefined && account === undefined;
      let personId = request.personId;
      let created = false;
      if (personId !== null) {
        if (!(await Person.findById(personId, { _id: 1 }).lean())) {
          return { refused: 'person', detail: `no person "${personId}" in the org data` };
        }
      } else if (
        linking &&
        accountHolder !== null &&
        !(await Person.exists({ _id: grantedPersonId(request.caseId, request.stepId) }))
      ) {
        // The resident is a person of the org data already: they are the one granted.
        personId = accountHolder;
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
          // Linked as it is recorded: the account has no person (else it was granted above).
          // Should another write link it meanwhile, upsertPerson refuses and the activity's
          // retry grants the account's person instead, as above.
          const linked = linking && userId !== null ? { userId } : {};
          await upsertPerson(
            deps.models,
            { id: personId, ...parsed.data, ...linked },
            deps.clock(),
            ['email', 'phone'],
          );
          created = true;
        }
      }
      if (linking && userId !== null) {
        account = await linkAccount(personId, userId, accountHolder);
      }
      const held = await Post.exists({ unitId: unit.id, role: request.post, personId });
      await upsertPost(deps.models, { unitId: unit.id, role: request.post, personId });
      return {
        refused: null,
        personId,
        unitId: unit.id,
        created,
        alreadyHeld: held !== null,
        ...(account !== undefined ? { account } : {}),
      };
    },
  };
}

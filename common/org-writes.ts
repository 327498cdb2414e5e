import { z } from 'zod';
import type { Models } from '../models';
import { bumpOrgRevision } from '../models/org-revision';

/**
 * The org data's two writes that more than the org service makes: a person upserted and a post
 * upserted, each bumping the org revision so the next people lookup reads them. The org service
 * (services/org.ts, the API's checks around them) and the `grant` activity both call these.
 */

/** A person's name, e-mail and phone as the org data takes them (services/org-input.ts personInput). */
export const personNameField = z.string().trim().min(1).max(100);
export const personEmailField = z.email();
export const personPhoneField = z.string().regex(/^\+?[0-9][0-9 -]{4,19}$/, 'a phone number');

/** The `_id` of a post: one per unit, role and person. */
export function postIdOf(post: { unitId: string; role: string; personId: string }): string {
  return `${post.unitId}:${post.role}:${post.personId}`;
}

/**
 * One sign-in account, one person (docs 8.1): a write giving a person an account that another
 * person holds is refused with this, naming the account and its holder by id only (no names or
 * phones: the message reaches logs). Moving an account is two writes: unlink it from its holder
 * (save the holder without `userId`), then link it to the other person.
 */
export class AccountTakenError extends Error {
  constructor(
    readonly userId: string,
    readonly personId: string,
    readonly holderId: string,
  ) {
    super(
      `Account "${userId}" is linked to person "${holderId}"; unlink it there first ` +
        `(save "${holderId}" without userId) to link it to "${personId}"`,
    );
    this.name = 'AccountTakenError';
  }
}

/**
 * The people each of these accounts is linked to, by id (more than one only in a store written
 * before the rule, or past it: `findDuplicatedAccountLinks` lists those). Accounts nobody holds
 * are absent. One `$in` read on the `userId` index.
 */
export async function accountHolders(
  models: Pick<Models, 'Person'>,
  userIds: readonly string[],
): Promise<Map<string, string[]>> {
  const holders = new Map<string, string[]>();
  if (userIds.length === 0) return holders;
  const rows = await models.Person.find(
    { userId: { $in: [...new Set(userIds)].sort() } },
    { userId: 1 },
  ).lean();
  for (const row of rows.sort((a, b) => (a._id < b._id ? -1 : 1))) {
    if (!row.userId) continue;
    holders.set(row.userId, [...(holders.get(row.userId) ?? []), row._id]);
  }
  return holders;
}

/** Throws {@link AccountTakenError} when a person other than `personId` holds `userId`. */
export async function assertAccountFree(
  models: Pick<Models, 'Person'>,
  personId: string,
  userId: string,
): Promise<void> {
  const holder = (await accountHolders(models, [userId]))
    .get(userId)
    ?.find((id) => id !== personId);
  if (holder !== undefined) throw new AccountTakenError(userId, personId, holder);
}

/**
 * Runs a write that links `userId` to `personId`, checked first. The unique `userId` index
 * (models/index.ts) refuses the loser of two such writes racing; its error, whatever the store
 * calls it, is answered as the refusal the check would have given.
 */
async function writeLinking(
  models: Pick<Models, 'Person'>,
  personId: string,
  userId: string | undefined,
  write: () => Promise<unknown>,
): Promise<void> {
  if (userId === undefined) {
    await write();
    return;
  }
  await assertAccountFree(models, personId, userId);
  try {
    await write();
  } catch (err) {
    await assertAccountFree(models, personId, userId);
    throw err;
  }
}

/**
 * Upserts a person (fields not given are removed) and moves the org revision. A `userId` another
 * person holds is refused ({@link AccountTakenError}) before anything is written.
 */
export async function upsertPerson(
  models: Pick<Models, 'Person' | 'OrgRevision'>,
  input: { id: string; userId?: string },
  now: Date,
  optionalFields: readonly string[],
): Promise<void> {
  const { id, ...fields } = input as { id: string } & Record<string, unknown>;
  const absent = optionalFields.filter((f) => fields[f] === undefined);
  await writeLinking(models, id, input.userId, () =>
    models.Person.updateOne(
      { _id: id },
      {
        $set: { ...fields, updatedAt: now },
        ...(absent.length > 0 ? { $unset: Object.fromEntries(absent.map((f) => [f, 1])) } : {}),
      },
      { upsert: true },
    ),
  );
  await bumpOrgRevision(models);
}

/** Upserts a post (held already is fine) and moves the org revision. */
export async function upsertPost(
  models: Pick<Models, 'Post' | 'OrgRevision'>,
  post: { unitId: string; role: string; personId: string },
): Promise<void> {
  await models.Post.updateOne({ _id: postIdOf(post) }, { $set: post }, { upsert: true });
  await bumpOrgRevision(models);
}

/**
 * Links a person to a sign-in account (`userId`) and moves the org revision, so the next people
 * lookup offers the person's tasks to that account. One account, one person: an account another
 * person holds is refused ({@link AccountTakenError}); the `grant` activity checks both sides
 * first and says a refusal on the case instead.
 */
export async function linkPersonAccount(
  models: Pick<Models, 'Person' | 'OrgRevision'>,
  personId: string,
  userId: string,
  now: Date,
): Promise<void> {
  await writeLinking(models, personId, userId, () =>
    models.Person.updateOne({ _id: personId }, { $set: { userId, updatedAt: now } }),
  );
  await bumpOrgRevision(models);
}

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

/** Upserts a person (fields not given are removed) and moves the org revision. */
export async function upsertPerson(
  models: Pick<Models, 'Person' | 'OrgRevision'>,
  input: { id: string },
  now: Date,
  optionalFields: readonly string[],
): Promise<void> {
  const { id, ...fields } = input as { id: string } & Record<string, unknown>;
  const absent = optionalFields.filter((f) => fields[f] === undefined);
  await models.Person.updateOne(
    { _id: id },
    {
      $set: { ...fields, updatedAt: now },
      ...(absent.length > 0 ? { $unset: Object.fromEntries(absent.map((f) => [f, 1])) } : {}),
    },
    { upsert: true },
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
 * lookup offers the person's tasks to that account. The caller has checked one account ↔ one
 * person (the `grant` activity: neither is linked to another).
 */
export async function linkPersonAccount(
  models: Pick<Models, 'Person' | 'OrgRevision'>,
  personId: string,
  userId: string,
  now: Date,
): Promise<void> {
  await models.Person.updateOne({ _id: personId }, { $set: { userId, updatedAt: now } });
  await bumpOrgRevision(models);
}

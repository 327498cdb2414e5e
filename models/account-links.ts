import type { mongo } from 'mongoose';

/** An account linked to more than one person: the people by id, sorted. */
export interface DuplicatedAccountLink {
  userId: string;
  personIds: string[];
}

/**
 * The sign-in accounts linked to more than one person in the store (one account, one person:
 * docs 8.1). The org writes refuse new ones (common/org-writes.ts); these are what a store
 * written before that rule, or by hand, may still hold. Read once over the linked people, grouped
 * here rather than by a `$group` (FerretDB v1 reliably computes only one accumulator, and a
 * count and a list are two). Ids only: no names or phones.
 */
export async function findDuplicatedAccountLinks(
  people: mongo.Collection<{ _id: string; userId?: string }>,
): Promise<DuplicatedAccountLink[]> {
  const holders = new Map<string, string[]>();
  const rows = people.find({ userId: { $type: 'string' } }, { projection: { userId: 1 } });
  for await (const row of rows) {
    if (typeof row.userId !== 'string') continue;
    holders.set(row.userId, [...(holders.get(row.userId) ?? []), row._id]);
  }
  return [...holders]
    .filter(([, personIds]) => personIds.length > 1)
    .map(([userId, personIds]) => ({ userId, personIds: personIds.sort() }))
    .sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
}

/** The start-up warning for a store whose people share accounts (ids only). */
export function duplicatedAccountLinksWarning(
  duplicates: readonly DuplicatedAccountLink[],
): string {
  const shown = duplicates
    .slice(0, 5) // chosen: enough to start from; the script lists them all
    .map((d) => `"${d.userId}": ${d.personIds.join(', ')}`)
    .join('; ');
  return (
    `${duplicates.length} sign-in account(s) are linked to more than one person (${shown}` +
    `${duplicates.length > 5 ? '; …' : ''}): the unique index on people.userId is not created ` +
    'until each is linked to one person (unlink the others: POST /api/v1/org/people without ' +
    'userId); writes are checked all the same. `npm run check-account-links` lists them all.'
  );
}

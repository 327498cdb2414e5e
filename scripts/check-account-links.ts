import { loadConfig } from '../common/config';
import { findDuplicatedAccountLinks } from '../models/account-links';
import { connectDatabase, peopleCollection } from '../models';

/**
 * `npm run check-account-links`: lists the sign-in accounts linked to more than one person in the
 * configured MongoDB (MONGODB_URI; by default the local stack's), one line per account with the
 * people by id (no names or phones). One account, one person (docs 8.1): the org writes refuse
 * new shared links; a store written before that rule may hold some, and until they are settled
 * (every holder but one saved without `userId`) the unique index on people.userId is not created
 * (the API and worker say so at start-up). Exits 1 when any account is shared. Reads only.
 */
async function main(): Promise<number> {
  const config = loadConfig(process.env);
  // The start-up warning says the same as this script: keep the output to the list.
  const db = await connectDatabase(config.MONGODB_URI, { warn: () => undefined });
  try {
    const duplicates = await findDuplicatedAccountLinks(peopleCollection(db.models));
    for (const { userId, personIds } of duplicates) {
      process.stdout.write(`${userId}: ${personIds.join(', ')}\n`);
    }
    process.stdout.write(
      duplicates.length === 0
        ? 'No sign-in account is linked to more than one person.\n'
        : `${duplicates.length} sign-in account(s) linked to more than one person: keep one ` +
            'person per account and save the others without userId (POST /api/v1/org/people).\n',
    );
    return duplicates.length === 0 ? 0 : 1;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  },
);

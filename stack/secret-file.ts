import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

/**
 * A secret the local stack keeps in its data folder: read back (and checked by `problemOf`, which
 * names what is wrong, or returns null) when the file is there, else made by `generate` and written
 * for this user alone. A file that fails the check is an error naming it, never silently
 * replaced: what was made with the old secret would no longer read.
 */
export async function ensureSecretFile(
  file: string,
  what: string,
  problemOf: (secret: string) => string | null,
  generate: () => string,
): Promise<string> {
  if (existsSync(file)) {
    const secret = (await readFile(file, 'utf8')).trim();
    const problem = problemOf(secret);
    if (problem !== null) throw new Error(`${file} is not a valid ${what}: ${problem}`);
    return secret;
  }
  const secret = generate();
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PHONE_KEY_SECRET_MIN_LENGTH } from '../services/phone-keys';

/** Where a stack keeps its PHONE_KEY_SECRET: beside the store whose phone keys it made. */
export function phoneKeySecretFile(dataDir: string): string {
  return path.join(dataDir, 'phone-key-secret');
}

/**
 * The local stack's PHONE_KEY_SECRET (services/phone-keys.ts): generated into the data folder on
 * first start (a file only this user can read, 32 random bytes as hex), the same on every later
 * start, so codes asked before a restart are still found. A file too short to be one is an error
 * naming it, never silently replaced.
 */
export async function ensurePhoneKeySecret(dataDir: string): Promise<string> {
  const file = phoneKeySecretFile(dataDir);
  if (existsSync(file)) {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length < PHONE_KEY_SECRET_MIN_LENGTH) {
      throw new Error(
        `${file} is not a valid PHONE_KEY_SECRET: at least ${PHONE_KEY_SECRET_MIN_LENGTH} characters`,
      );
    }
    return secret;
  }
  const secret = randomBytes(32).toString('hex');
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PHONE_KEY_SECRET_MIN_LENGTH } from '../services/phone-keys';
import { ensureSecretFile } from './secret-file';

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
export function ensurePhoneKeySecret(dataDir: string): Promise<string> {
  return ensureSecretFile(
    phoneKeySecretFile(dataDir),
    'PHONE_KEY_SECRET',
    (secret) =>
      secret.length < PHONE_KEY_SECRET_MIN_LENGTH
        ? `at least ${PHONE_KEY_SECRET_MIN_LENGTH} characters`
        : null,
    () => randomBytes(32).toString('hex'),
  );
}

import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { AppConfig } from '../common/config';
import { ConfigError } from '../common/config';

/**
 * Keys that stand for a phone number in the store (quick-report codes, the per-number rate
 * limit), so a database dump never yields the numbers. An 11-digit mainland mobile number has
 * under 10^10 values: a plain hash of it is reversed by hashing them all (minutes on one GPU).
 * The keys are therefore an HMAC-SHA256 under a deployment secret (`PHONE_KEY_SECRET`) that the
 * store never holds: without the secret, the dump's keys cannot be enumerated.
 *
 * Why a secret of its own rather than one derived (HKDF) from a secret the API already has:
 * `CONSOLE_SECRET` is optional (random per process when unset) and is what an operator rotates
 * to void the console's CSRF tokens, and `TEMPORAL_CODEC_KEYS` is a ring meant to rotate; a key
 * that must stay stable across restarts and be the same on every API replica needs its own
 * lifetime. Rotating `PHONE_KEY_SECRET` voids the codes in flight (minutes) and restarts the
 * per-number budgets: nothing lasting is keyed by it.
 *
 * Each purpose has its own key (the purpose is part of the HMAC input), so a code document's key
 * cannot be matched to a rate-limit counter's.
 *
 * The rate limiter keys its other counters (client addresses, accounts, usernames) with the same
 * scheme under the purpose `rate-limit` (services/limits.ts): an IPv4 address has 2^32 values and
 * usernames are guessable, so a plain hash of them is as enumerable as a phone number's.
 */
export type PhoneKeyPurpose = 'quick-report-code' | 'quick-report-code-limit';
/** Every purpose keyed under the secret: the phone numbers', and the rate limiter's other keys. */
export type KeyPurpose = PhoneKeyPurpose | 'rate-limit';

export interface PhoneKeys {
  /** The key stored for `value` (a phone number's normalised digits, an address…) for `purpose`. */
  of(purpose: KeyPurpose, value: string): string;
  /**
   * The unsalted key earlier versions stored for the same purpose (a plain SHA-256): read only
   * to carry records written before the upgrade over to {@link of} (re-keyed when read).
   */
  legacyOf(purpose: PhoneKeyPurpose, phone: string): string;
}

/** Shortest secret accepted (chosen: 32 characters, as CONSOLE_SECRET; `openssl rand -hex 32`). */
export const PHONE_KEY_SECRET_MIN_LENGTH = 32;

export function createPhoneKeys(secret: string): PhoneKeys {
  if (secret.length < PHONE_KEY_SECRET_MIN_LENGTH) {
    throw new Error(`PHONE_KEY_SECRET: at least ${PHONE_KEY_SECRET_MIN_LENGTH} characters`);
  }
  return {
    of(purpose, value) {
      return createHmac('sha256', secret).update(`${purpose}\n${value}`).digest('base64url');
    },
    legacyOf(purpose, phone) {
      const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
      // Exactly what services/quick-reports.ts and services/limits.ts wrote before: the code
      // documents' `phoneKey`, and the rate limiter's key (its hashKey, cut to 32 characters).
      return purpose === 'quick-report-code'
        ? sha256(`quick-report\n${phone}`)
        : sha256(`phone\n${phone}`).slice(0, 32);
    },
  };
}

/**
 * The API's phone keys from its configuration. Production refuses to start without
 * PHONE_KEY_SECRET (a secret made up per process would differ between replicas and restarts:
 * codes sent by one replica would be unknown to the next). Development and tests without one get
 * a random secret per process, and `warn` says so (the local stack and the tests' stacks always
 * provide one, generated into their data folder).
 */
export function phoneKeysFor(
  config: Pick<AppConfig, 'NODE_ENV' | 'PHONE_KEY_SECRET'>,
  warn: (message: string) => void,
): PhoneKeys {
  if (config.PHONE_KEY_SECRET) return createPhoneKeys(config.PHONE_KEY_SECRET);
  if (config.NODE_ENV === 'production') {
    throw new ConfigError([
      'PHONE_KEY_SECRET: required in production: quick-report codes and the per-number rate ' +
        'limit are stored under an HMAC of the phone number with this secret, so a copy of the ' +
        'database does not reveal the numbers. Set it to at least 32 random characters (e.g. ' +
        '`openssl rand -hex 32`), the same on every API replica',
    ]);
  }
  warn(
    'PHONE_KEY_SECRET is not set: quick-report phone keys use a random secret for this process ' +
      '(codes asked before a restart, or from another replica, are not found)',
  );
  return createPhoneKeys(randomBytes(32).toString('hex'));
}

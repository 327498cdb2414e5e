import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { RateLimiterMongo, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppConfig } from '../common/config';
import { AppError } from './errors';
import type { PhoneKeys } from './phone-keys';

/**
 * Rate limits held in the database, so every API replica spends the same budget
 * (rate-limiter-flexible's MongoDB store). Counters are keyed by an HMAC of what they count (a
 * client address, an account, a username) under PHONE_KEY_SECRET with the purpose `rate-limit`
 * (services/phone-keys.ts), never the plain value nor a plain hash of it (an IPv4 address has only
 * 2^32 values: a plain hash is reversed by hashing them all). Earlier versions keyed them by a
 * truncated plain SHA-256; those counters are not carried over: they expire with their window
 * (minutes for request budgets, SIGNIN_FAILURE_WINDOW_SECONDS for sign-in failures), so an
 * upgrade restarts each budget once. Rotating the secret does the same.
 *
 * FerretDB v1 has no TTL indexes: the library finds a counter only while its `expire` is in the
 * future and replaces an expired one in place (its unique `key` index turns the race into a
 * retry), so an expired counter counts as gone whether or not anything deleted it. Expired
 * counters are swept now and then (see {@link SWEEP_EVERY_MS}) so the collection stays small.
 */

/** The operations limited per client address and per account. */
export type LimitName =
  | 'case-start'
  | 'open311-post'
  | 'definition-validate'
  | 'export'
  | 'attachment-upload'
  | 'quick-report-code'
  | 'quick-report'
  | 'robot-test';

/** `points` requests per `seconds`; `null` switches the limit off. */
export interface Rate {
  points: number;
  seconds: number;
}

export interface LimitsConfig {
  perAccount: Record<LimitName, Rate | null>;
  perAddress: Record<LimitName, Rate | null>;
  /** Quick-report codes asked for one phone number (whoever asks, registered or not). */
  quickReportCodePerPhone: Rate | null;
  signIn: {
    /** Sign-in attempts per client address, whatever the username. */
    perAddress: Rate | null;
    /** Failures per (address, username) answered at once; each further one doubles a wait. */
    freeFailures: number;
    /** Failures per username (from every address) before addresses that failed it must wait. */
    accountFreeFailures: number;
    /** The longest wait, in seconds. */
    maxDelaySeconds: number;
    /** How long failures are remembered, in seconds from the first one. */
    failureWindowSeconds: number;
  };
}

/** The collection every counter lives in (one document per key). */
export const RATE_LIMIT_COLLECTION = 'rateLimits';
/** Chosen: expired counters are deleted at most every 10 minutes per process. */
const SWEEP_EVERY_MS = 10 * 60_000;
/**
 * Failed sign-ins, one inserted document each (`key`, `expire`): counted by counting documents.
 * Inserts never lose a count, whereas FerretDB v1 loses concurrent updates of one document (a
 * counter's `$inc`: 9 of 10 parallel failures counted, measured), so every parallel guess counts,
 * on every replica. Each failure is remembered for the failure window from when it happened.
 */
export const SIGN_IN_FAILURE_COLLECTION = 'signInFailures';

/** Who a request counts against. */
export interface LimitKeys {
  /** The caller's account or API key, e.g. `user:usr_…`; absent for anonymous callers. */
  account?: string;
  /** The client address (Express's `req.ip`, behind proxies as TRUST_PROXY says). */
  address?: string;
}

type Db = NonNullable<Connection['db']>;

export function createRateLimits(deps: { db: Db; config: LimitsConfig; keys: PhoneKeys }) {
  const { db, config } = deps;
  const counterKey = rateLimitKeyOf(deps.keys);
  const collection = db.collection(RATE_LIMIT_COLLECTION);
  let lastSweep = 0;

  const limiter = (keyPrefix: string, points: number, seconds: number) =>
    new RateLimiterMongo({
      storeClient: db,
      tableName: RATE_LIMIT_COLLECTION,
      keyPrefix,
      points,
      duration: seconds,
      // Indexes are created by ensureIndexes (the library's own includes a TTL index FerretDB lacks).
      disableIndexesCreation: true,
    });

  const routeLimiters = new Map<string, { limiter: RateLimiterMongo; rate: Rate; per: string }>();
  for (const per of ['account', 'address'] as const) {
    const rates = per === 'account' ? config.perAccount : config.perAddress;
    for (const [name, rate] of Object.entries(rates) as Array<[LimitName, Rate | null]>) {
      if (rate) {
        routeLimiters.set(`${name}/${per}`, {
          limiter: limiter(`${name}/${per}`, rate.points, rate.seconds),
          rate,
          per,
        });
      }
    }
  }

  const perPhone = config.quickReportCodePerPhone;
  const codePhone = perPhone
    ? limiter('quick-report-code/phone', perPhone.points, perPhone.seconds)
    : null;

  const s = config.signIn;
  const signInAddress = s.perAddress
    ? limiter('sign-in/address', s.perAddress.points, s.perAddress.seconds)
    : null;
  const failures = db.collection<{ _id: string; key: string; expire: Date }>(
    SIGN_IN_FAILURE_COLLECTION,
  );
  /** The failures of one key (an (address, username) pair, or a username) still remembered. */
  const failureLog = (prefix: string) => ({
    async add(key: string): Promise<number> {
      const now = Date.now();
      await failures.insertOne({
        _id: randomUUID(),
        key: `${prefix}:${key}`,
        expire: new Date(now + s.failureWindowSeconds * 1000),
      });
      return this.count(key);
    },
    count(key: string): Promise<number> {
      return failures.countDocuments({ key: `${prefix}:${key}`, expire: { $gt: new Date() } });
    },
    async clear(key: string): Promise<void> {
      await failures.deleteMany({ key: `${prefix}:${key}` });
    },
  });
  const pairFailures = failureLog('address+account');
  const accountFailures = failureLog('account');
  // Waits: a blocked key (points above 1) refuses until its expiry.
  const pairWait = limiter('sign-in-wait/address+account', 1, s.failureWindowSeconds);
  const accountWait = limiter('sign-in-wait/account', 1, s.failureWindowSeconds);

  /** The wait after `failures` when the first `free` ones were answered at once: 1 s, 2 s, 4 s… */
  const delayAfter = (failures: number, free: number): number =>
    failures <= free ? 0 : Math.min(2 ** Math.min(failures - free - 1, 30), s.maxDelaySeconds);

  function sweep(): void {
    const now = Date.now();
    if (now - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = now;
    for (const store of [collection, failures]) {
      store.deleteMany({ expire: { $lte: new Date(now) } }).catch(() => {
        // The next sweep tries again; an expired counter or failure is ignored meanwhile.
      });
    }
  }

  /** A 429 whose message names the limit and when to try again (also as Retry-After). */
  function refusal(message: string, msBeforeNext: number): AppError {
    const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    return new AppError('too_many_requests', `${message}; try again in ${seconds} s`, [], {
      retryAfterSeconds: seconds,
    });
  }

  const pairKey = (address: string, username: string) => counterKey(`${address}\n${username}`);

  async function waiting(wait: RateLimiterMongo, key: string): Promise<number> {
    const res = await wait.get(key);
    return res && res.consumedPoints > 1 ? res.msBeforeNext : 0;
  }

  return {
    /** Creates the unique key index (serially, at start-up) that keeps one counter per key. */
    async ensureIndexes(): Promise<void> {
      await collection.createIndex({ key: 1 }, { unique: true });
      await failures.createIndex({ key: 1, expire: 1 });
    },

    /** Counts one request of `limit` against the caller's account and address; 429 past either. */
    async consume(limit: LimitName, keys: LimitKeys): Promise<void> {
      sweep();
      for (const per of ['address', 'account'] as const) {
        const value = keys[per];
        const entry = routeLimiters.get(`${limit}/${per}`);
        if (value === undefined || !entry) continue;
        try {
          await entry.limiter.consume(counterKey(value));
        } catch (err) {
          if (!(err instanceof RateLimiterRes)) throw err;
          throw refusal(
            `Rate limit "${limit}" reached: ${entry.rate.points} requests per ${entry.rate.seconds} s per ${per === 'account' ? 'account' : 'client address'}`,
            err.msBeforeNext,
          );
        }
      }
    },

    /**
     * Counts one code asked for a phone number, keyed by the number's HMAC key
     * (services/phone-keys.ts); 429 past the number's budget. Spent for every number alike,
     * registered or not, so the answer never tells them apart. A counter still kept under the
     * number's unsalted `legacyKey` (written before the upgrade) is carried over to the new key
     * and deleted, so an upgrade restarts no budget.
     */
    async consumeQuickReportCode(phoneKey: string, legacyKey?: string): Promise<void> {
      sweep();
      if (!codePhone || !perPhone) return;
      try {
        if (legacyKey !== undefined) {
          const legacy = await codePhone.get(legacyKey);
          if (legacy && legacy.consumedPoints > 0) {
            // Spent points carried over, refused or not (the consume below refuses past them).
            await codePhone.penalty(phoneKey, legacy.consumedPoints);
            await codePhone.delete(legacyKey);
          }
        }
        await codePhone.consume(phoneKey);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        throw refusal(
          `Rate limit "quick-report-code" reached: ${perPhone.points} codes per ${perPhone.seconds} s per phone number`,
          err.msBeforeNext,
        );
      }
    },

    signIn: {
      /**
       * Before checking a password: refuses (429) an address past its attempts, an (address,
       * username) pair still waiting after its failures, and, while a username's failures from
       * everywhere are past their budget, addresses that have failed it. An address that has not
       * failed for this username is never refused for it, so nobody can lock the owner out.
       */
      async check(address: string, username: string): Promise<void> {
        sweep();
        if (signInAddress && s.perAddress) {
          try {
            await signInAddress.consume(counterKey(address));
          } catch (err) {
            if (!(err instanceof RateLimiterRes)) throw err;
            throw refusal(
              `Rate limit "sign-in" reached: ${s.perAddress.points} attempts per ${s.perAddress.seconds} s per client address`,
              err.msBeforeNext,
            );
          }
        }
        const pair = pairKey(address, username);
        const pairMs = await waiting(pairWait, pair);
        if (pairMs > 0) {
          throw refusal('Too many failed sign-ins for this username from your address', pairMs);
        }
        const accountMs = await waiting(accountWait, counterKey(username));
        if (accountMs > 0) {
          if ((await pairFailures.count(pair)) > 0) {
            throw refusal('Too many failed sign-ins for this username', accountMs);
          }
        }
      },

      /** Counts a failure (one inserted document: none is lost) and starts the waits it earned. */
      async failed(address: string, username: string): Promise<void> {
        const pair = pairKey(address, username);
        const account = counterKey(username);
        const [pairCount, accountCount] = await Promise.all([
          pairFailures.add(pair),
          accountFailures.add(account),
        ]);
        const pairDelay = delayAfter(pairCount, s.freeFailures);
        const accountDelay = delayAfter(accountCount, s.accountFreeFailures);
        await Promise.all([
          pairDelay > 0 ? pairWait.block(pair, pairDelay) : undefined,
          accountDelay > 0 ? accountWait.block(account, accountDelay) : undefined,
        ]);
      },

      /** A correct password: this address's failures for the username are forgotten. */
      async succeeded(address: string, username: string): Promise<void> {
        const pair = pairKey(address, username);
        await Promise.all([pairFailures.clear(pair), pairWait.delete(pair)]);
      },

      /** Failures counted so far (for tests and operators). */
      async failures(
        address: string,
        username: string,
      ): Promise<{ pair: number; account: number }> {
        const [pair, account] = await Promise.all([
          pairFailures.count(pairKey(address, username)),
          accountFailures.count(counterKey(username)),
        ]);
        return { pair, account };
      },
    },
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;

/** The key a counter of `value` (a client address, an account, a username…) is stored under. */
export function rateLimitKeyOf(keys: PhoneKeys): (value: string) => string {
  return (value) => keys.of('rate-limit', value);
}

/** Robot test messages per admin account (chosen: see limitsConfigOf). */
const ROBOT_TEST_RATE: Rate = { points: 5, seconds: 60 };

/** The limits as the configuration states them (see common/config.ts, RATE_LIMIT_* and SIGNIN_*). */
export function limitsConfigOf(config: AppConfig): LimitsConfig {
  return {
    perAccount: {
      'case-start': config.RATE_LIMIT_CASE_START,
      'open311-post': config.RATE_LIMIT_OPEN311_POST,
      'definition-validate': config.RATE_LIMIT_DEFINITION_VALIDATE,
      export: config.RATE_LIMIT_EXPORT,
      'attachment-upload': config.RATE_LIMIT_ATTACHMENT_UPLOAD,
      // Quick reports come from people without an account: counted per address and per phone.
      'quick-report-code': null,
      'quick-report': null,
      // Chosen: 5 test messages a minute per admin, under the vendors' 20 a minute per robot
      // (channels/robots.ts), so checking a robot never gets it held back from real notices.
      'robot-test': ROBOT_TEST_RATE,
    },
    perAddress: {
      'case-start': config.RATE_LIMIT_CASE_START_ADDRESS,
      'open311-post': config.RATE_LIMIT_OPEN311_POST_ADDRESS,
      'definition-validate': config.RATE_LIMIT_DEFINITION_VALIDATE_ADDRESS,
      export: config.RATE_LIMIT_EXPORT_ADDRESS,
      'attachment-upload': config.RATE_LIMIT_ATTACHMENT_UPLOAD_ADDRESS,
      'quick-report-code': config.RATE_LIMIT_QUICK_REPORT_CODE_ADDRESS,
      'quick-report': config.RATE_LIMIT_QUICK_REPORT_ADDRESS,
      // Admins only: their accounts are counted (an office behind one address has several).
      'robot-test': null,
    },
    quickReportCodePerPhone: config.RATE_LIMIT_QUICK_REPORT_CODE_PHONE,
    signIn: {
      perAddress: config.RATE_LIMIT_SIGNIN_ADDRESS,
      freeFailures: config.SIGNIN_FREE_FAILURES,
      accountFreeFailures: config.SIGNIN_ACCOUNT_FREE_FAILURES,
      maxDelaySeconds: config.SIGNIN_MAX_DELAY_SECONDS,
      failureWindowSeconds: config.SIGNIN_FAILURE_WINDOW_SECONDS,
    },
  };
}

import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Actor } from '../common/case';
import type { Role } from '../common/roles';
import type { Models } from '../models';
import { AppError } from './errors';

/** The authenticated caller of a request. */
export interface Principal {
  /**
   * `person`: a person of the org data without an account, verified for one request only (a
   * quick report's one-time code, services/quick-reports.ts); never from a credential.
   */
  kind: 'user' | 'apiKey' | 'person';
  /** User id, the API key's public id, or the person's id. */
  id: string;
  roles: Role[];
  /** Org units whose cases this principal may see and act on, and every unit below them. */
  unitIds: string[];
}

/** The principal as records name who acted: its kind and id, nothing more. */
export function actorOf(principal: Principal): Actor {
  return { kind: principal.kind, id: principal.id };
}

const API_KEY_PREFIX = 'gfk';
const SESSION_PREFIX = 'gfs';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new secret: `<prefix>_<publicId>_<secret>`; only its hash is stored. */
export function newToken(kind: 'apiKey' | 'session'): { token: string; publicId: string } {
  const publicId = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const prefix = kind === 'apiKey' ? API_KEY_PREFIX : SESSION_PREFIX;
  return {
    token: `${prefix}_${publicId}_${secret}`,
    publicId: `${kind === 'apiKey' ? 'key' : 'ses'}_${publicId}`,
  };
}

/**
 * Resolves `Authorization: Bearer <token>` to a principal. Tokens are looked up by their hash as
 * `_id`, the one lookup FerretDB on SQLite serves from an index.
 */
export async function authenticate(
  models: Models,
  authorization: string | undefined,
  now: Date,
): Promise<Principal> {
  return (await resolveCredential(models, authorization, now)).principal;
}

async function resolveCredential(
  models: Models,
  authorization: string | undefined,
  now: Date,
): Promise<{ principal: Principal; expiresAt: number | null }> {
  if (!authorization) {
    throw new AppError(
      'unauthenticated',
      'Missing Authorization header: send "Authorization: Bearer <API key or session token>"',
    );
  }
  const hash = hashOfHeader(authorization);
  if (hash === null) {
    throw new AppError(
      'unauthenticated',
      'Authorization header must be "Bearer <API key or session token>"',
    );
  }
  const credential = await models.Credential.findById(hash).lean();
  if (
    !credential ||
    credential.revokedAt ||
    (credential.expiresAt && credential.expiresAt <= now)
  ) {
    throw new AppError('unauthenticated', 'Invalid, expired or revoked credentials');
  }
  const expiresAt = credential.expiresAt ? credential.expiresAt.getTime() : null;
  if (credential.kind === 'session') {
    const user = await models.User.findById(credential.principal.id, {
      disabled: 1,
      roles: 1,
      unitIds: 1,
    }).lean();
    if (!user || user.disabled) throw new AppError('unauthenticated', 'This account is disabled');
    // Roles and units are read from the account, so a change applies to open sessions (within
    // the authenticator's short memory, see createAuthenticator).
    return {
      principal: { kind: 'user', id: user._id, roles: user.roles as Role[], unitIds: user.unitIds },
      expiresAt,
    };
  }
  return {
    principal: {
      kind: 'apiKey',
      id: credential.publicId,
      roles: credential.roles as Role[],
      unitIds: credential.unitIds,
    },
    expiresAt,
  };
}

/**
 * Authenticates with a short memory: a credential's principal (its account's roles and units) is
 * kept for `ttlMs` (default 2 s), so a client polling a work list does not read the credential
 * and the account on every request. Revocations through this process (logout, revoking an API
 * key) take effect at once (`forget`/`forgetAll`); other API replicas and direct database edits
 * within `ttlMs`. A credential's own expiry is checked on every request.
 */
export function createAuthenticator(
  models: Models,
  options: { clock: () => Date; ttlMs?: number; maxEntries?: number },
) {
  const ttlMs = options.ttlMs ?? 2_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const remembered = new Map<
    string,
    { principal: Principal; until: number; credentialExpiresAt: number | null }
  >();

  return {
    async authenticate(authorization: string | undefined): Promise<Principal> {
      const now = options.clock();
      const hash = hashOfHeader(authorization);
      const known = hash === null ? undefined : remembered.get(hash);
      if (known && known.until > now.getTime()) {
        if (known.credentialExpiresAt === null || known.credentialExpiresAt > now.getTime()) {
          return known.principal;
        }
      }
      if (hash !== null) remembered.delete(hash);
      const { principal, expiresAt } = await resolveCredential(models, authorization, now);
      if (hash !== null && ttlMs > 0) {
        if (remembered.size >= maxEntries) {
          // Map keeps insertion order: the oldest entry goes first.
          const oldest = remembered.keys().next().value;
          if (oldest !== undefined) remembered.delete(oldest);
        }
        remembered.set(hash, {
          principal,
          until: now.getTime() + ttlMs,
          credentialExpiresAt: expiresAt,
        });
      }
      return principal;
    },
    /** Forgets one credential (by the Authorization header it came in). */
    forget(authorization: string | undefined): void {
      const hash = hashOfHeader(authorization);
      if (hash !== null) remembered.delete(hash);
    },
    forgetAll(): void {
      remembered.clear();
    },
  };
}

export type Authenticator = ReturnType<typeof createAuthenticator>;

function hashOfHeader(authorization: string | undefined): string | null {
  const match = authorization
    ? /^Bearer\s+([A-Za-z0-9_-]{20,200})$/.exec(authorization.trim())
    : null;
  return match ? hashToken(match[1]!) : null;
}

export function hasAnyRole(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.some((role) => roles.includes(role));
}

/**
 * scrypt at OWASP's current recommendation (N=2^17, r=8, p=1: 128 MiB and a few hundred ms per
 * hash). Each hash stores its parameters (`scrypt$N$r$p$salt$hash`), so hashes written with older
 * ones still verify and are replaced at the next successful sign-in (see {@link needsRehash}).
 */
export const SCRYPT = { N: 2 ** 17, r: 8, p: 1, keyLength: 32 };
/** The largest cost a stored hash may ask for (chosen: 8 times today's), so no hash can exhaust memory. */
const MAX_SCRYPT_COST = 2 ** 20;

export async function hashPassword(password: string): Promise<string> {
  return hashPasswordWith(password, SCRYPT);
}

/** A hash with the given parameters (tests write old-parameter hashes with it). */
export async function hashPasswordWith(
  password: string,
  params: { N: number; r: number; p: number },
): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, params.N, params.r, params.p, SCRYPT.keyLength);
  return [
    'scrypt',
    params.N,
    params.r,
    params.p,
    salt.toString('base64url'),
    hash.toString('base64url'),
  ].join('$');
}

/** True when a stored hash was written with other parameters than today's. */
export function needsRehash(stored: string): boolean {
  const [scheme, n, r, p] = stored.split('$');
  return (
    scheme !== 'scrypt' ||
    Number(n) !== SCRYPT.N ||
    Number(r) !== SCRYPT.r ||
    Number(p) !== SCRYPT.p
  );
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  // A truncated or tampered hash must never shorten the comparison (an empty key matches anything).
  if (expected.length !== SCRYPT.keyLength) return false;
  if (Number(n) * Number(r) * Number(p) > MAX_SCRYPT_COST * SCRYPT.r) return false;
  try {
    const actual = await scryptAsync(
      password,
      Buffer.from(salt, 'base64url'),
      Number(n),
      Number(r),
      Number(p),
      expected.length,
    );
    return timingSafeEqual(actual, expected);
  } catch {
    // Parameters scrypt refuses: not a hash this system wrote.
    return false;
  }
}

/** A hash to compare against when the user does not exist, so timing does not reveal usernames. */
export const DUMMY_PASSWORD_HASH =
  'scrypt$131072$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

function scryptAsync(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  keyLength: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    // scrypt needs 128·N·r·p bytes; Node refuses over 32 MiB unless maxmem says more.
    scrypt(
      password,
      salt,
      keyLength,
      { N, r, p, maxmem: 256 * N * r * p + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

import { randomBytes } from 'node:crypto';
import type { Actor } from '../common/case';
import type { Role } from '../common/roles';
import type { Models } from '../models';
import { isDuplicateKeyError } from '../models';
import {
  actorOf,
  DUMMY_PASSWORD_HASH,
  hashPassword,
  hashToken,
  needsRehash,
  newToken,
  verifyPassword,
} from './auth';
import type { Principal } from './auth';
import { AppError } from './errors';
import type { RateLimits } from './limits';
import { skipOf, totalOf } from './paging';

export interface ApiKeyView {
  id: string;
  name: string;
  roles: string[];
  unitIds: string[];
  createdAt: string;
  revokedAt: string | null;
}

export interface UserView {
  id: string;
  username: string;
  displayName: string;
  roles: string[];
  unitIds: string[];
  disabled: boolean;
  createdAt: string;
}

/** People's accounts, their sign-in sessions, and API keys for other systems. */
export function createAccountService(deps: {
  models: Models;
  clock: () => Date;
  sessionTtlHours: number;
  /** Sign-in failure counts and waits, shared by every API replica. */
  limits: RateLimits;
  /** Told of every revocation, so a remembered principal is dropped at once (see createAuthenticator). */
  onRevoked?: (which: { authorization: string } | 'all') => void;
}) {
  const { Credential, User } = deps.models;
  const displayNames = new Map<string, { name: string; until: number }>();

  async function storeApiKey(input: {
    token: string;
    publicId: string;
    name: string;
    roles: Role[];
    unitIds: string[];
    createdBy: Actor;
  }) {
    const doc = await Credential.create({
      _id: hashToken(input.token),
      kind: 'apiKey',
      publicId: input.publicId,
      name: input.name,
      principal: { kind: 'apiKey', id: input.publicId },
      roles: input.roles,
      unitIds: input.unitIds,
      createdAt: deps.clock(),
      createdBy: input.createdBy,
    });
    return doc.toObject();
  }

  return {
    async createApiKey(
      principal: Principal,
      input: { name: string; roles: Role[]; unitIds: string[] },
    ): Promise<{ key: string; apiKey: ApiKeyView }> {
      const { token, publicId } = newToken('apiKey');
      const doc = await storeApiKey({ token, publicId, ...input, createdBy: actorOf(principal) });
      return { key: token, apiKey: apiKeyView(doc) };
    },

    async listApiKeys(): Promise<ApiKeyView[]> {
      const docs = await Credential.find({ kind: 'apiKey' }).sort({ createdAt: -1 }).lean();
      return docs.map(apiKeyView);
    },

    async revokeApiKey(publicId: string): Promise<void> {
      const result = await Credential.updateOne(
        { kind: 'apiKey', publicId, revokedAt: { $exists: false } },
        { $set: { revokedAt: deps.clock() } },
      );
      // The key's hash is not known here (only its public id): forget every remembered one.
      deps.onRevoked?.('all');
      if (result.matchedCount === 0) {
        const exists = await Credential.exists({ kind: 'apiKey', publicId });
        if (!exists) throw new AppError('not_found', `No API key "${publicId}"`);
      }
    },

    /**
     * Registers a known admin key: in production (BOOTSTRAP_ADMIN_API_KEY) only while no admin
     * key exists, so a leaked bootstrap value is useless once real keys are issued; on the local
     * stack always, so the key in `.stack/data/admin-api-key` works.
     */
    async ensureBootstrapAdminKey(
      secret: string,
      options: { onlyIfNoAdmin: boolean } = { onlyIfNoAdmin: true },
    ): Promise<'created' | 'exists'> {
      const hash = hashToken(secret);
      if (await Credential.exists({ _id: hash })) return 'exists';
      const anyAdmin = await Credential.exists({
        kind: 'apiKey',
        roles: 'admin',
        revokedAt: { $exists: false },
      });
      if (anyAdmin && options.onlyIfNoAdmin) return 'exists';
      try {
        await storeApiKey({
          token: secret,
          publicId: `key_bootstrap_${randomBytes(3).toString('hex')}`,
          name: 'bootstrap admin key',
          roles: ['admin'],
          unitIds: [],
          createdBy: { kind: 'system', id: 'bootstrap' },
        });
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
      return 'created';
    },

    async createUser(input: {
      username: string;
      displayName: string;
      password: string;
      roles: Role[];
      unitIds: string[];
    }): Promise<UserView> {
      try {
        const doc = await User.create({
          _id: `usr_${randomBytes(8).toString('hex')}`,
          username: input.username,
          displayName: input.displayName,
          passwordHash: await hashPassword(input.password),
          roles: input.roles,
          unitIds: input.unitIds,
          disabled: false,
          createdAt: deps.clock(),
        });
        return userView(doc.toObject());
      } catch (err) {
        if (isDuplicateKeyError(err)) {
          throw new AppError('conflict', `Username "${input.username}" is taken`, [
            { path: 'body.username', message: 'already taken' },
          ]);
        }
        throw err;
      }
    },

    /**
     * The name to greet a principal by: a person's display name, an API key's name. Kept for a
     * minute per id, as the console asks on every page.
     */
    async displayNameOf(principal: Principal): Promise<string> {
      const known = displayNames.get(principal.id);
      const now = deps.clock().getTime();
      if (known && known.until > now) return known.name;
      const name =
        principal.kind === 'user'
          ? ((await User.findById(principal.id, { displayName: 1 }).lean())?.displayName ??
            principal.id)
          : ((await Credential.findOne({ publicId: principal.id }, { name: 1 }).lean())?.name ??
            principal.id);
      if (displayNames.size > 10_000) displayNames.clear();
      displayNames.set(principal.id, { name, until: now + 60_000 });
      return name;
    },

    async listUsers(page: number, pageSize: number): Promise<{ items: UserView[]; total: number }> {
      const docs = await User.find({}, { passwordHash: 0 })
        .sort({ username: 1 })
        .skip(skipOf({ page, pageSize }))
        .limit(pageSize)
        .lean();
      const total = await totalOf({ page, pageSize }, docs.length, () => User.countDocuments({}));
      return { items: docs.map(userView), total };
    },

    /**
     * Signs a person in; the same answer for a wrong username or password. Failures are counted
     * per (client address, username) and per username, whether or not the account exists (so
     * the answer does not reveal which usernames do): past a few, that address waits longer after
     * each one (429 with Retry-After); past many for the username, every address that has failed
     * it waits. An address that has not failed is never refused for the username, so guessing
     * from elsewhere cannot lock its owner out. A hash with older scrypt parameters is replaced
     * on the way in.
     */
    async login(
      username: string,
      password: string,
      from: { address: string },
    ): Promise<{ token: string; expiresAt: Date; user: UserView }> {
      await deps.limits.signIn.check(from.address, username);
      const user = await User.findOne({ username }).lean();
      const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!user || !ok || user.disabled) {
        await deps.limits.signIn.failed(from.address, username);
        throw new AppError('unauthenticated', 'Wrong username or password');
      }
      await deps.limits.signIn.succeeded(from.address, username);
      if (needsRehash(user.passwordHash)) {
        // Guarded by the old hash: a password changed meanwhile is not overwritten.
        await User.updateOne(
          { _id: user._id, passwordHash: user.passwordHash },
          { $set: { passwordHash: await hashPassword(password) } },
        );
      }
      const now = deps.clock();
      const { token, publicId } = newToken('session');
      const expiresAt = new Date(now.getTime() + deps.sessionTtlHours * 3600_000);
      await Credential.create({
        _id: hashToken(token),
        kind: 'session',
        publicId,
        name: 'sign-in session',
        principal: { kind: 'user', id: user._id },
        roles: user.roles,
        unitIds: user.unitIds,
        createdAt: now,
        createdBy: { kind: 'user', id: user._id },
        expiresAt,
      });
      return { token, expiresAt, user: userView(user) };
    },

    async logout(authorization: string | undefined): Promise<void> {
      const token = authorization?.replace(/^Bearer\s+/, '') ?? '';
      await Credential.updateOne(
        { _id: hashToken(token), kind: 'session' },
        { $set: { revokedAt: deps.clock() } },
      );
      if (authorization !== undefined) deps.onRevoked?.({ authorization });
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;

function apiKeyView(doc: {
  publicId: string;
  name: string;
  roles: string[];
  unitIds: string[];
  createdAt: Date;
  revokedAt?: Date | null;
}): ApiKeyView {
  return {
    id: doc.publicId,
    name: doc.name,
    roles: doc.roles,
    unitIds: doc.unitIds,
    createdAt: doc.createdAt.toISOString(),
    revokedAt: doc.revokedAt ? doc.revokedAt.toISOString() : null,
  };
}

function userView(doc: {
  _id: string;
  username: string;
  displayName: string;
  roles: string[];
  unitIds: string[];
  disabled: boolean;
  createdAt: Date;
}): UserView {
  return {
    id: doc._id,
    username: doc.username,
    displayName: doc.displayName,
    roles: doc.roles,
    unitIds: doc.unitIds,
    disabled: doc.disabled,
    createdAt: doc.createdAt.toISOString(),
  };
}

import { z } from 'zod';
import { ROLES } from '../../common/roles';
import { createUserBody, unitIds } from '../../services/account-input';
import type { RouteRegistry } from '../pipeline';
import type { AccountService } from '../../services/accounts';
import { errorResponses, nextLink, nextSchema, pageQuery } from './shared';

const createApiKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    roles: z.array(z.enum(ROLES)).min(1),
    unitIds,
  })
  .strict();

const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  roles: z.array(z.string()),
  unitIds: z.array(z.string()),
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable(),
});

const userSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  roles: z.array(z.string()),
  unitIds: z.array(z.string()),
  disabled: z.boolean(),
  createdAt: z.iso.datetime(),
});

const loginBody = z
  .object({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) })
  .strict();

export function registerAccountRoutes(routes: RouteRegistry, accounts: AccountService): void {
  routes.add<undefined, undefined, undefined, z.infer<typeof loginBody>>({
    method: 'post',
    path: '/api/v1/auth/login',
    tag: 'auth',
    summary: 'Sign in with a username and password; returns a bearer session token',
    description:
      'Failed sign-ins are counted per (client address, username) and per username: past a few, that address waits longer after each failure (429 with Retry-After); an address that has not failed is not refused for the username. Sign-in attempts per client address are limited too.',
    roles: 'public',
    body: loginBody,
    responses: {
      200: {
        description: 'Signed in',
        schema: z.object({ token: z.string(), expiresAt: z.iso.datetime(), user: userSchema }),
      },
      ...errorResponses(400, 401, 429),
    },
    async handle({ body, req }) {
      const session = await accounts.login(body.username, body.password, {
        address: req.ip ?? '',
      });
      return {
        status: 200,
        body: {
          token: session.token,
          expiresAt: session.expiresAt.toISOString(),
          user: session.user,
        },
      };
    },
  });

  routes.add({
    method: 'post',
    path: '/api/v1/auth/logout',
    tag: 'auth',
    summary: 'End the current session',
    roles: ['admin', 'dispatcher', 'staff', 'resident'],
    responses: { 204: { description: 'Signed out' }, ...errorResponses(401) },
    async handle({ req }) {
      await accounts.logout(req.headers.authorization);
      return { status: 204 };
    },
  });

  routes.add<undefined, undefined, undefined, z.infer<typeof createApiKeyBody>>({
    method: 'post',
    path: '/api/v1/api-keys',
    tag: 'admin',
    summary: 'Create an API key for a system; the key is shown once',
    roles: ['admin'],
    body: createApiKeyBody,
    responses: {
      201: { description: 'Created', schema: z.object({ key: z.string(), apiKey: apiKeySchema }) },
      ...errorResponses(400, 401, 403),
    },
    async handle({ principal, body }) {
      return { status: 201, body: await accounts.createApiKey(principal, body) };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/v1/api-keys',
    tag: 'admin',
    summary: 'List API keys (never their secrets)',
    roles: ['admin'],
    responses: {
      200: { description: 'Keys', schema: z.object({ items: z.array(apiKeySchema) }) },
      ...errorResponses(401, 403),
    },
    async handle() {
      return { status: 200, body: { items: await accounts.listApiKeys() } };
    },
  });

  const keyParams = z.object({ id: z.string().regex(/^key_[a-z0-9_]{6,40}$/, 'an API key id') });
  routes.add<z.infer<typeof keyParams>>({
    method: 'delete',
    path: '/api/v1/api-keys/:id',
    tag: 'admin',
    summary: 'Revoke an API key',
    roles: ['admin'],
    params: keyParams,
    responses: { 204: { description: 'Revoked' }, ...errorResponses(400, 401, 403, 404) },
    async handle({ params }) {
      await accounts.revokeApiKey(params.id);
      return { status: 204 };
    },
  });

  routes.add<undefined, undefined, undefined, z.infer<typeof createUserBody>>({
    method: 'post',
    path: '/api/v1/users',
    tag: 'admin',
    summary: "Create a person's account with roles and units",
    roles: ['admin'],
    body: createUserBody,
    responses: {
      201: { description: 'Created', schema: userSchema },
      ...errorResponses(400, 401, 403, 409),
    },
    async handle({ body }) {
      return { status: 201, body: await accounts.createUser(body) };
    },
  });

  routes.add<undefined, z.infer<typeof pageQuery>>({
    method: 'get',
    path: '/api/v1/users',
    tag: 'admin',
    summary: 'List accounts',
    roles: ['admin'],
    query: pageQuery,
    responses: {
      200: {
        description: 'A page of accounts',
        schema: z.object({
          items: z.array(userSchema),
          page: z.number(),
          pageSize: z.number(),
          total: z.number(),
          next: nextSchema,
        }),
      },
      ...errorResponses(400, 401, 403),
    },
    async handle({ query }) {
      const result = await accounts.listUsers(query.page, query.pageSize);
      return {
        status: 200,
        body: {
          ...result,
          page: query.page,
          pageSize: query.pageSize,
          next: nextLink('/api/v1/users', query, result.total),
        },
      };
    },
  });
}

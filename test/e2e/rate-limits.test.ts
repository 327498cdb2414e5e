/**
 * Rate limits held in the database (FerretDB here), spent across API replicas: two API
 * instances on one database share each budget; sign-in failures are counted atomically and grow
 * a wait per (address, username) that never locks the owner out from another address; old
 * scrypt hashes are replaced on sign-in.
 */
import { hashPasswordWith, SCRYPT } from '../../services/auth';
import type { RunningApi } from '../../server';
import { startApi } from '../../server';
import type { ErrorBody } from '../../services/errors';
import { createRateLimits, limitsConfigOf, RATE_LIMIT_COLLECTION } from '../../services/limits';
import type { RateLimits } from '../../services/limits';
import { createPhoneKeys } from '../../services/phone-keys';
import { consoleClient } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { startTestApp, TEST_PASSWORD, testConfig } from '../support/harness';

jest.setTimeout(120_000);

const config = testConfig('limits', {
  // Clients name their address in X-Forwarded-For, as behind a reverse proxy on this host.
  TRUST_PROXY: 'loopback',
  RATE_LIMIT_DEFINITION_VALIDATE: '4/60',
  RATE_LIMIT_OPEN311_POST: '2/60',
  SIGNIN_FREE_FAILURES: '3',
  SIGNIN_ACCOUNT_FREE_FAILURES: '5',
});

let app: TestApp;
let second: RunningApi;
let limits: RateLimits;

beforeAll(async () => {
  app = await startTestApp('limits', { config, worker: false });
  second = await startApi(config, { definitionsDir: null });
  limits = createRateLimits({
    db: app.db.connection.db!,
    config: limitsConfigOf(config),
    // The API's own keys (same secret), so both count against the same counters.
    keys: createPhoneKeys(config.PHONE_KEY_SECRET!),
  });
});

afterAll(async () => {
  await second?.stop();
  await app?.stop();
});

async function post(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: ErrorBody & { token?: string }; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as never, headers: res.headers };
}

const from = (address: string) => ({ 'x-forwarded-for': address });
const signIn = (base: string, address: string, username: string, password: string) =>
  post(base, '/api/v1/auth/login', { username, password }, from(address));

describe('limits shared by API replicas', () => {
  it('when two API instances share a database, then they spend one budget and the next call gets 429 with Retry-After naming the limit', async () => {
    const auth = { authorization: `Bearer ${app.adminKey}` };
    const validate = (base: string) =>
      post(base, '/api/v1/definitions/validate', { source: 'key: x' }, auth);
    const answers = [
      await validate(app.api.url),
      await validate(second.url),
      await validate(app.api.url),
      await validate(second.url),
    ];
    expect(answers.map((a) => a.status)).not.toContain(429);
    for (const base of [app.api.url, second.url]) {
      const refused = await validate(base);
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('too_many_requests');
      expect(refused.body.error.message).toMatch(
        /^Rate limit "definition-validate" reached: 4 requests per 60 s per account; try again in \d+ s$/,
      );
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // Counters are stored under hashed keys: no address or account in plain text.
    const stored = await app.db.connection.db!.collection(RATE_LIMIT_COLLECTION).find().toArray();
    expect(stored.length).toBeGreaterThan(0);
    expect(JSON.stringify(stored)).not.toContain('key_');
  });

  it('when an Open311 client posts past its limit, then the answer is Open311-shaped 429 with Retry-After', async () => {
    const body = { service_code: 'none', lat: 30, long: 120 };
    const auth = { authorization: `Bearer ${app.adminKey}` };
    await post(app.api.url, '/open311/v2/requests.json', body, auth);
    await post(second.url, '/open311/v2/requests.json', body, auth);
    const refused = await post(app.api.url, '/open311/v2/requests.json', body, auth);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body).toEqual([
      {
        code: 429,
        description: expect.stringMatching(/^Rate limit "open311-post" reached/) as string,
      },
    ]);
  });

  it('when the console editor validates past the limit, then the page answers 429 with Retry-After naming the limit', async () => {
    const client = consoleClient(app.api.url);
    client.useSession(await app.signIn('console-admin', ['admin']));
    await client.get('/console/admin/definitions/new');
    const form = { format: 'yaml', action: 'validate', source: 'key: x' };
    for (let i = 0; i < 4; i++) {
      const page = await client.post('/console/admin/definitions/new', form);
      expect(page.status).not.toBe(429);
    }
    const refused = await client.post('/console/admin/definitions/new', form);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.html).toContain('Rate limit &quot;definition-validate&quot; reached');
  });
});

describe('sign-in failures', () => {
  beforeAll(async () => {
    for (const username of ['victim', 'slowed', 'rehashed']) {
      const created = await post(
        app.api.url,
        '/api/v1/users',
        {
          username,
          displayName: username,
          password: TEST_PASSWORD,
          roles: ['resident'],
          unitIds: [],
        },
        { authorization: `Bearer ${app.adminKey}` },
      );
      expect(created.status).toBe(201);
    }
  });

  it('when ten wrong passwords arrive at once on two replicas, then all ten are counted', async () => {
    const guesses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        signIn(i % 2 ? second.url : app.api.url, '203.0.113.7', 'victim', `guess ${i}`),
      ),
    );
    expect(guesses.map((g) => g.status)).toEqual(Array(10).fill(401));
    expect(await limits.signIn.failures('203.0.113.7', 'victim')).toEqual({
      pair: 10,
      account: 10,
    });
  });

  it('when that address then sends the right password, then it waits (429, Retry-After) on either replica', async () => {
    for (const base of [app.api.url, second.url]) {
      const refused = await signIn(base, '203.0.113.7', 'victim', TEST_PASSWORD);
      expect(refused.status).toBe(429);
      expect(refused.body.error.message).toMatch(
        /^Too many failed sign-ins for this username from your address; try again in \d+ s$/,
      );
      // 10 failures, 3 free: the 7th wait, 2^6 s.
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(50);
      expect(retryAfter).toBeLessThanOrEqual(64);
    }
  });

  it('when the owner signs in from another address meanwhile, then it works', async () => {
    const owner = await signIn(second.url, '198.51.100.20', 'victim', TEST_PASSWORD);
    expect(owner.status).toBe(200);
    expect(owner.body.token).toEqual(expect.any(String));
  });

  it('when a third address fails once while the username is under attack, then it waits too', async () => {
    const wrong = await signIn(app.api.url, '198.51.100.30', 'victim', 'nope');
    expect(wrong.status).toBe(401);
    const next = await signIn(app.api.url, '198.51.100.30', 'victim', TEST_PASSWORD);
    expect(next.status).toBe(429);
    expect(next.body.error.message).toMatch(/^Too many failed sign-ins for this username;/);
  });

  it('when failures go on past the free ones, then each wait is longer than the last', async () => {
    const address = '192.0.2.44';
    for (let i = 0; i < 3; i++) {
      expect((await signIn(app.api.url, address, 'slowed', `x${i}`)).status).toBe(401);
    }
    // The 4th failure earns 1 s, the 5th 2 s.
    expect((await signIn(app.api.url, address, 'slowed', 'x3')).status).toBe(401);
    const first = await signIn(app.api.url, address, 'slowed', 'x4');
    expect(first.status).toBe(429);
    expect(Number(first.headers.get('retry-after'))).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await signIn(second.url, address, 'slowed', 'x5')).status).toBe(401);
    const secondWait = await signIn(app.api.url, address, 'slowed', TEST_PASSWORD);
    expect(secondWait.status).toBe(429);
    expect(Number(secondWait.headers.get('retry-after'))).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    // The right password after the wait works and forgets this address's failures.
    expect((await signIn(app.api.url, address, 'slowed', TEST_PASSWORD)).status).toBe(200);
    expect((await limits.signIn.failures(address, 'slowed')).pair).toBe(0);
  });

  it('when an account has a hash with older scrypt parameters, then signing in works and replaces it', async () => {
    const old = await hashPasswordWith(TEST_PASSWORD, { N: 16384, r: 8, p: 1 });
    await app.db.models.User.updateOne({ username: 'rehashed' }, { $set: { passwordHash: old } });
    expect((await signIn(app.api.url, '192.0.2.50', 'rehashed', TEST_PASSWORD)).status).toBe(200);
    const user = await app.db.models.User.findOne({ username: 'rehashed' }).lean();
    expect(user!.passwordHash.startsWith(`scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$`)).toBe(true);
    expect(user!.passwordHash).not.toBe(old);
    expect((await signIn(second.url, '192.0.2.50', 'rehashed', TEST_PASSWORD)).status).toBe(200);
  });

  it('when the console sign-in is refused for failures, then the page says when to try again, with Retry-After', async () => {
    const client = consoleClient(app.api.url);
    await client.get('/console/login');
    let page = await client.post('/console/login', { username: 'nobody-here', password: 'x' });
    for (let i = 0; i < 3; i++) {
      page = await client.post('/console/login', { username: 'nobody-here', password: `x${i}` });
    }
    page = await client.post('/console/login', { username: 'nobody-here', password: 'y' });
    expect(page.status).toBe(429);
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(page.html).toMatch(/登录尝试过多，请在 \d+ 秒后再试/);
  });
});

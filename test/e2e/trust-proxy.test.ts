import type { TestApp } from '../support/harness';
import { startTestApp, testConfig, TEST_PASSWORD } from '../support/harness';

/**
 * Behind a TLS proxy (TRUST_PROXY): the app believes the proxy's X-Forwarded-* headers, so the
 * console's cookies stay `Secure` though the proxy speaks plain HTTP to it; without the setting a
 * client could not claim HTTPS for itself.
 */
let proxied: TestApp;
let direct: TestApp;

beforeAll(async () => {
  proxied = await startTestApp('trust-proxy', {
    worker: false,
    config: testConfig('trust-proxy', { TRUST_PROXY: '1' }),
  });
  direct = await startTestApp('no-trust-proxy', { worker: false });
  for (const app of [proxied, direct]) await app.signIn('proxy-admin', ['admin']);
});

afterAll(async () => {
  await proxied?.stop();
  await direct?.stop();
});

/** Signs in through the console as the proxy would forward it; the session cookie it sets. */
async function sessionCookie(app: TestApp, forwarded: Record<string, string>): Promise<string> {
  const page = await fetch(`${app.api.url}/console/login`, { headers: forwarded });
  const csrfCookie = page.headers.getSetCookie().find((c) => c.startsWith('gf_csrf='))!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const login = await fetch(`${app.api.url}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      ...forwarded,
      'content-type': 'application/x-www-form-urlencoded',
      cookie: csrfCookie.split(';')[0]!,
    },
    body: new URLSearchParams({ _csrf: csrf, username: 'proxy-admin', password: TEST_PASSWORD }),
  });
  expect(login.status).toBe(303);
  return login.headers.getSetCookie().find((c) => c.startsWith('gf_session='))!;
}

it('when TRUST_PROXY=1 and the proxy forwards HTTPS, then the session cookie is Secure', async () => {
  // Act
  const session = await sessionCookie(proxied, {
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'gov.example.org',
    'x-forwarded-for': '203.0.113.7',
  });

  // Assert
  expect(session).toMatch(/; Secure/);
  expect(session).toMatch(/; HttpOnly/);
});

it('when TRUST_PROXY=1 and the proxy forwards plain HTTP for a name, then the cookie is not Secure', async () => {
  // Act
  const session = await sessionCookie(proxied, {
    'x-forwarded-proto': 'http',
    'x-forwarded-host': 'gov.example.org',
  });

  // Assert: the app follows the proxy's word, so browsers on plain HTTP keep the cookie
  expect(session).not.toMatch(/; Secure/);
});

it('when TRUST_PROXY is unset, then a client claiming a name over HTTP is not believed', async () => {
  // Act: without trust, X-Forwarded-Host is ignored and the loopback address decides
  const claimed = await sessionCookie(direct, {
    'x-forwarded-proto': 'http',
    'x-forwarded-host': 'gov.example.org',
  });

  // Assert
  expect(claimed).toMatch(/; Secure/);
});

import { DEMO_PASSWORD } from '../../demo/county';
import { accountsStage, openDemoSeedDeps, orgStage, seedDemo } from '../../demo/seed';
import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, waitFor } from '../support/harness';

/**
 * The console's rules without a browser: sign-in with the real password check and a session
 * cookie, CSRF on every form, roles per page, the language switch, and a form the engine refuses
 * shown again with the engine's reason.
 */
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp('console-session');
  const seeder = await openDemoSeedDeps(app.config);
  try {
    await seedDemo(seeder.deps, { stages: [accountsStage, orgStage], force: true });
  } finally {
    await seeder.close();
  }
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

async function apiToken(username: string): Promise<string> {
  const login = await app.http<{ token: string }>('POST', '/api/v1/auth/login', {
    body: { username, password: DEMO_PASSWORD },
  });
  expect(login.status).toBe(200);
  return login.body.token;
}

it('when someone not signed in opens a page, then they are sent to sign in and come back after', async () => {
  const client = consoleClient(app.api.url);

  const inbox = await client.get('/console/inbox?view=mine');
  expect(inbox.status).toBe(303);
  expect(inbox.location).toBe('/console/login?next=%2Fconsole%2Finbox%3Fview%3Dmine');

  await client.get(inbox.location!);
  const wrong = await client.post('/console/login', {
    username: 'demo-grid-worker',
    password: 'not the password',
    next: '/console/inbox?view=mine',
  });
  expect(wrong.status).toBe(401);
  expect(textOf(wrong.html)).toContain('用户名或密码错误');
  expect(client.cookie('gf_session')).toBeUndefined();

  const signedIn = await client.post('/console/login', {
    username: 'demo-grid-worker',
    password: DEMO_PASSWORD,
    next: '/console/inbox?view=mine',
  });
  expect(signedIn.status).toBe(303);
  expect(signedIn.location).toBe('/console/inbox?view=mine');
  const page = await client.get(signedIn.location!);
  expect(page.status).toBe(200);
  expect(textOf(page.html)).toContain('我的待办');

  // Signing out revokes the session itself, not only the cookie
  const token = client.cookie('gf_session')!;
  await client.post('/console/logout', {});
  const after = await app.http('GET', '/api/v1/tasks', { token });
  expect(after.status).toBe(401);
});

it('when the session cookie is set, then it is HttpOnly and SameSite, and Secure on loopback', async () => {
  const res = await fetch(`${app.api.url}/console/login`, { redirect: 'manual' });
  // Pages are never framed, cached or given inline script
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  const csrfCookie = res.headers.getSetCookie().find((c) => c.startsWith('gf_csrf='))!;
  const html = await res.text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
  const login = await fetch(`${app.api.url}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: csrfCookie.split(';')[0]!,
    },
    body: new URLSearchParams({ _csrf: csrf, username: 'demo-admin', password: DEMO_PASSWORD }),
  });
  expect(login.status).toBe(303);
  const session = login.headers.getSetCookie().find((c) => c.startsWith('gf_session='))!;
  expect(session).toMatch(/; HttpOnly/);
  expect(session).toMatch(/; SameSite=Lax/);
  expect(session).toMatch(/; Secure/);
  expect(session).toMatch(/; Max-Age=\d+/);
});

it('when a form comes without its CSRF token or from another site, then it is refused and nothing is done', async () => {
  const client = consoleClient(app.api.url);
  client.useSession(await apiToken('demo-admin'));
  await client.get('/console/inbox');

  const forged = await fetch(`${app.api.url}/console/logout`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: `gf_session=${client.cookie('gf_session')!}; gf_csrf=${client.cookie('gf_csrf')!}`,
    },
    body: '_csrf=guessed',
  });
  expect(forged.status).toBe(403);
  expect(textOf(await forged.text())).toContain('CSRF');

  const crossSite = await fetch(`${app.api.url}/console/logout`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: 'https://evil.example',
      cookie: `gf_session=${client.cookie('gf_session')!}; gf_csrf=${client.cookie('gf_csrf')!}`,
    },
    body: '_csrf=guessed',
  });
  expect(crossSite.status).toBe(403);

  // The session survived both attempts
  expect((await client.get('/console/inbox')).status).toBe(200);
});

it('when a resident opens a staff page, then it is refused; the public board needs no sign-in', async () => {
  const client = consoleClient(app.api.url);
  client.useSession(await apiToken('demo-resident'));

  expect((await client.get('/console/inbox')).status).toBe(403);
  expect((await client.get('/console/admin/definitions')).status).toBe(403);
  expect((await client.get('/console/my/requests')).status).toBe(200);
  expect((await consoleClient(app.api.url).get('/console/board')).status).toBe(200);
  expect((await client.get('/console/no-such-page')).status).toBe(404);
});

it('when the language is switched, then pages speak English until switched back', async () => {
  const client = consoleClient(app.api.url);
  const switched = await client.get('/console/lang/en?back=%2Fconsole%2Flogin');
  expect(switched.status).toBe(303);
  expect(switched.location).toBe('/console/login');
  const page = await client.get('/console/login');
  expect(page.html).toContain('<html lang="en">');
  expect(textOf(page.html)).toContain('Sign in');
  // Only this site: an absolute URL as `back` is not followed
  const away = await client.get('/console/lang/zh-CN?back=https%3A%2F%2Fevil.example');
  expect(away.location).toBe('/console/');
});

it('when a dispatcher refuses an order without the comment the outcome needs, then the form comes back with the engine’s reason and what was typed', async () => {
  // Arrange: a resident's order waiting for the community's dispatch
  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: await apiToken('demo-resident'),
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: 'three-orders',
      unitId: 'demo-wenhualu-g1-c1',
      data: { channel: '接听热线', category: '便民服务', description: '小区门口路灯不亮' },
    },
  });
  expect(started.status).toBe(201);
  const client = consoleClient(app.api.url);
  client.useSession(await apiToken('demo-community-dispatcher'));
  const taskId = await waitFor('the dispatch task', async () => {
    const page = await client.get('/console/inbox?view=scope');
    return /data-task="([^"]+)"/.exec(page.html)?.[1];
  });
  const taskPage = await client.get(`/console/tasks/${taskId}`);
  expect(textOf(taskPage.html)).toContain('小区门口路灯不亮');
  // 转派 suggests the post holders of the case's compound and of the grid above it
  expect(taskPage.html).toMatch(/<datalist id="reassign-people"><option value="demo-p\d+">/);
  expect(
    (await client.post(`/console/tasks/${taskId}/claim`, { formKey: 'claim-once-0001' })).status,
  ).toBe(303);
  await client.get(`/console/tasks/${taskId}`);

  // Act
  const refused = await client.post(`/console/tasks/${taskId}/complete`, {
    formKey: 'complete-once-0001',
    outcome: 'reject',
    note: '已电话联系物业',
    comment: '',
  });

  // Assert
  expect(refused.status).toBe(422);
  const text = textOf(refused.html);
  expect(text).toMatch(/comment/i);
  expect(refused.html).toContain('已电话联系物业');
  expect(refused.html).toMatch(/value="reject" checked/);
  // The case page shows staff the mail the case sent: the dispatch task announced to the dispatcher
  const casePage = await waitFor('the announcement in the case page', async () => {
    const page = await client.get(`/console/cases/${started.body.id}`);
    return page.html.includes('task-assigned') ? page : undefined;
  });
  expect(textOf(casePage.html)).toContain('已发送的邮件');
});

import { randomBytes } from 'node:crypto';
import type { ConsoleClient } from '../support/console-client';
import { consoleClient } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { mailsTo, startTestApp, uniqueAddress, waitFor } from '../support/harness';

/**
 * Failed mail for admins: listed through the API and the console, sent again from either; the
 * worker's outbox dispatcher (polling) delivers a resent mail to the SMTP sink.
 */
let app: TestApp;
let admin: ConsoleClient;
let staffToken: string;

beforeAll(async () => {
  app = await startTestApp('mail-admin');
  admin = consoleClient(app.api.url);
  admin.useSession(await app.signIn('mail-admin1', ['admin']));
  staffToken = await app.signIn('mail-staff1', ['staff']);
});

afterAll(async () => {
  await app?.stop();
});

/** A mail the outbox gave up on (expired while the relay was down), with its text kept. */
async function failedMail(to: string) {
  const caseId = `case-${randomBytes(12).toString('hex')}`;
  const doc = {
    _id: `${caseId}:acknowledge:1`,
    caseId,
    template: 'case-received',
    to,
    subject: '【测试】您的诉求已受理',
    html: '<p>您的诉求已受理</p>',
    text: '您的诉求已受理',
    messageId: `<${randomBytes(16).toString('hex')}@governance.local>`,
    status: 'failed' as const,
    attempts: 40,
    lastError: 'expired after 40 attempts: connect ECONNREFUSED 127.0.0.1:25',
    createdAt: new Date(Date.now() - 3 * 86_400_000),
    failedAt: new Date(),
    expiresAt: new Date(),
  };
  await app.db.models.Outbox.create(doc);
  return doc;
}

it('when an admin resends a failed mail through the API, then it is delivered with its Message-ID and cannot be resent twice', async () => {
  // Arrange
  const to = uniqueAddress('resend-api');
  const mail = await failedMail(to);

  // Act
  const listed = await app.http<{ items: Array<Record<string, unknown>> }>(
    'GET',
    '/api/v1/mail/failed',
    { token: app.adminKey },
  );
  const resent = await app.http<Record<string, unknown>>(
    'POST',
    `/api/v1/mail/${encodeURIComponent(mail._id)}/resend`,
    { token: app.adminKey },
  );

  // Assert: listed with its reason and never its text; delivered once after the resend
  expect(listed.status).toBe(200);
  const item = listed.body.items.find((m) => m.id === mail._id);
  expect(item).toMatchObject({ to, attempts: 40, lastError: mail.lastError, status: 'failed' });
  expect(item).not.toHaveProperty('html');
  expect(item).not.toHaveProperty('subject');
  expect(resent.status).toBe(200);
  expect(resent.body).toMatchObject({ id: mail._id, status: 'pending' });
  const [sunk] = await waitFor('the resent mail', async () => {
    const found = await mailsTo(to);
    return found.length > 0 ? found : null;
  });
  expect(sunk!.messageId).toBe(mail.messageId);
  const again = await app.http('POST', `/api/v1/mail/${encodeURIComponent(mail._id)}/resend`, {
    token: app.adminKey,
  });
  expect(again.status).toBe(409);
});

it('when someone other than an admin asks, or the mail does not exist, then the API refuses', async () => {
  expect((await app.http('GET', '/api/v1/mail/failed', { token: staffToken })).status).toBe(403);
  const missing = await app.http('POST', '/api/v1/mail/case-none%3Ax%3A1/resend', {
    token: app.adminKey,
  });
  expect(missing.status).toBe(404);
  const bad = await app.http('POST', '/api/v1/mail/%3Cscript%3E/resend', { token: app.adminKey });
  expect(bad.status).toBe(400);
});

it('when an admin opens the failed mail page and sends one again, then it leaves the list and arrives', async () => {
  // Arrange
  const to = uniqueAddress('resend-console');
  const mail = await failedMail(to);

  // Act
  const page = await admin.get('/console/admin/mail');
  const posted = await admin.post('/console/admin/mail/resend', { id: mail._id });

  // Assert
  expect(page.status).toBe(200);
  expect(page.html).toContain(mail._id);
  expect(page.html).toContain(to);
  expect(page.html).toContain('ECONNREFUSED');
  expect(page.html).not.toContain('您的诉求已受理');
  expect(posted.status).toBe(303);
  expect(posted.location).toBe('/console/admin/mail?done=resent');
  await waitFor('the mail from the console', async () => (await mailsTo(to)).length === 1);
  expect((await admin.get('/console/admin/mail')).html).not.toContain(mail._id);
});

import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { CommandStartedEvent } from 'mongodb';
import { connectDatabase } from '../../models';
import { createRateLimits, limitsConfigOf, RATE_LIMIT_COLLECTION } from '../../services/limits';
import { createPhoneKeys } from '../../services/phone-keys';
import { createQuickReportService } from '../../services/quick-reports';
import type { SunkWebhook } from '../../stack/webhook-sink';
import { consoleClient } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { startTestApp, testConfig, waitFor } from '../support/harness';
import { testStack, webhookSinkUrl } from '../support/test-stack';

/**
 * Quick reports from mobile grid members (issue 17) on the dev server: members registered through
 * the org import (post `mobile-grid-member`, their phone), codes sent by the worker's outbox to
 * the local SMS sink, and the report starting a grid-event case. Nothing of ours is faked; an
 * expired code is made by moving its stored expiry into the past.
 */
jest.setTimeout(180_000);

interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}

const run = randomBytes(4).toString('hex');
const SMS_PATH = `/sms/${run}`;
const MEMBER_PHONE = '13900139001';
/** The same member's number as people type it. */
const MEMBER_PHONE_TYPED = '+86 139-0013-9001';
const OTHER_MEMBER_PHONE = '13900139002';
const UNREGISTERED_PHONE = '13900139009';

let app: TestApp;
/** Each test gets its own client address, so per-address budgets do not mix. */
let address = 0;
const nextAddress = () => `203.0.113.${++address}`;

beforeAll(async () => {
  const config = testConfig('quick-reports', {
    SMS_HTTP_URL: `${webhookSinkUrl()}${SMS_PATH}`,
    TRUST_PROXY: 'loopback',
    RATE_LIMIT_QUICK_REPORT_CODE_PHONE: '4/3600',
    QUICK_REPORT_CODE_ATTEMPTS: '3',
  });
  app = await startTestApp('quick-reports', { config });
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'qr-county', name: '汉台区', type: 'county', parentId: null },
        { id: 'qr-street', name: '北关街道', type: 'street', parentId: 'qr-county' },
        { id: 'qr-community', name: '东大街社区', type: 'community', parentId: 'qr-street' },
        { id: 'qr-grid', name: '第一网格', type: 'grid', parentId: 'qr-community' },
        { id: 'qr-compound', name: '天汉小区', type: 'compound', parentId: 'qr-grid' },
        { id: 'qr-street-2', name: '中山街道', type: 'street', parentId: 'qr-county' },
        { id: 'qr-community-2', name: '西大街社区', type: 'community', parentId: 'qr-street-2' },
        { id: 'qr-grid-2', name: '第九网格', type: 'grid', parentId: 'qr-community-2' },
      ],
      people: [
        { id: 'qr-rider', name: '李骑手', phone: MEMBER_PHONE },
        { id: 'qr-driver', name: '王司机', phone: OTHER_MEMBER_PHONE },
        // A grid worker with a phone but no mobile-grid-member post: not registered for this.
        { id: 'qr-worker', name: '赵网格员', phone: UNREGISTERED_PHONE },
      ],
      posts: [
        { unitId: 'qr-street', role: 'mobile-grid-member', personId: 'qr-rider' },
        { unitId: 'qr-street', role: 'mobile-grid-member', personId: 'qr-driver' },
        { unitId: 'qr-grid', role: 'grid-worker', personId: 'qr-worker' },
      ],
    },
  });
  expect(imported.status).toBe(200);
});

afterAll(async () => {
  await app?.stop();
});

async function smsTo(phone: string): Promise<SunkWebhook[]> {
  const response = await fetch(`${webhookSinkUrl()}/messages?path=${encodeURIComponent(SMS_PATH)}`);
  const all = (await response.json()) as SunkWebhook[];
  return all.filter((m) => (m.body as { phone?: string }).phone === phone);
}

async function askCode(phone: string, from = nextAddress()) {
  return app.http<ErrorBody & { message: string; expiresInSeconds: number }>(
    'POST',
    '/api/v1/quick-reports/codes',
    { body: { phone }, headers: { 'x-forwarded-for': from } },
  );
}

/** Asks for a code and reads it from the SMS sink (the worker's outbox sends it). */
async function codeFor(phone: string): Promise<string> {
  const before = (await smsTo(phone)).length;
  const asked = await askCode(phone);
  expect(asked.status).toBe(202);
  const texts = await waitFor('the code by SMS', async () => {
    const now = await smsTo(phone);
    return now.length > before ? now : null;
  });
  const body = texts.at(-1)!.body as { templateId: string; params: { code: string } };
  expect(body.templateId).toBe('quick-report-code');
  return body.params.code;
}

function report(fields: Record<string, unknown>, from = nextAddress()) {
  return app.http<ErrorBody & Record<string, unknown>>('POST', '/api/v1/quick-reports', {
    body: {
      phone: MEMBER_PHONE,
      category: '市政设施',
      description: '人民路与北大街路口井盖缺失',
      place: 'qr-grid',
      ...fields,
    },
    headers: { 'x-forwarded-for': from },
  });
}

const wrongCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

it('offers the processes that take quick reports with their categories', async () => {
  const form = await app.http<{
    processes: Array<{ key: string; categories: Array<{ code: string }> }>;
    codeDigits: number;
  }>('GET', '/api/v1/quick-reports/form');
  expect(form.status).toBe(200);
  const gridEvent = form.body.processes.find((p) => p.key === 'grid-event');
  expect(gridEvent?.categories.map((c) => c.code)).toContain('市政设施');
  expect(form.body.codeDigits).toBe(6);
});

it('sends one code to a registered member, and none (with the same answer) to an unregistered number', async () => {
  // A code from the day before yesterday, swept by the first request of the process.
  const stored = app.db.connection.db!.collection<{ _id: string; [key: string]: unknown }>(
    'quickReportCodes',
  );
  const longAgo = new Date(Date.now() - 2 * 86_400_000);
  await stored.insertOne({
    _id: 'ancient',
    phoneKey: 'ancient',
    personId: null,
    salt: 's',
    codeHash: 'h',
    createdAt: longAgo,
    expiresAt: longAgo,
  });
  const registered = await askCode(MEMBER_PHONE_TYPED);
  const unregistered = await askCode(UNREGISTERED_PHONE);
  expect(registered.status).toBe(202);
  expect(unregistered.status).toBe(202);
  expect(unregistered.body).toEqual(registered.body);

  const texts = await waitFor('the code by SMS', async () => {
    const sent = await smsTo(MEMBER_PHONE);
    return sent.length > 0 ? sent : null;
  });
  // Give the outbox another poll: the code goes once, and the unregistered number gets nothing.
  await new Promise((r) => setTimeout(r, 6_000));
  expect(await smsTo(MEMBER_PHONE)).toHaveLength(texts.length);
  expect(texts).toHaveLength(1);
  expect((texts[0]!.body as { params: { code: string } }).params.code).toMatch(/^\d{6}$/);
  expect(await smsTo(UNREGISTERED_PHONE)).toEqual([]);
  await waitFor(
    'the old code swept',
    async () => (await stored.findOne({ _id: 'ancient' })) === null,
  );
  // Stored hashed: no code document holds the digits or the number.
  const text = JSON.stringify(await stored.find({}).toArray());
  expect(text).not.toContain(MEMBER_PHONE);
  expect(text).not.toContain((texts[0]!.body as { params: { code: string } }).params.code);
});

it('refuses a malformed number and a report with bad fields, naming each, without spending the code', async () => {
  const badPhone = await askCode('12345');
  expect(badPhone.status).toBe(400);
  expect(badPhone.body.error.details.map((d) => d.path)).toEqual(['body.phone']);

  const code = await codeFor(MEMBER_PHONE);
  const bad = await report({ code, category: '不存在', place: 'qr-community' });
  expect(bad.status).toBe(422);
  expect(bad.body.error.details.map((d) => d.path).sort()).toEqual(['body.category', 'body.place']);
  const missing = await report({ code, description: undefined });
  expect(missing.status).toBe(400);
  expect(missing.body.error.details.map((d) => d.path)).toEqual(['body.description']);
  const outside = await report({ code, place: 'qr-grid-2' });
  expect(outside.status).toBe(403);
  expect(outside.body.error.details.map((d) => d.path)).toEqual(['body.place']);

  // The code still works after all that.
  const filed = await report({ code });
  expect(filed.status).toBe(201);
});

it('starts a grid-event case with the member as creator and reporter, the place as its unit, channel quick-report; the code is single use', async () => {
  const code = await codeFor(MEMBER_PHONE);
  const filed = await report({ code, phone: MEMBER_PHONE_TYPED, location: '人民路口' });
  expect(filed.status).toBe(201);
  const caseId = filed.body.caseId as string;
  expect(filed.body).toMatchObject({
    created: true,
    process: { key: 'grid-event' },
    follow: { api: `/api/v1/quick-reports/cases/${caseId}` },
  });

  // Answered at once, from the start memo until the worker has written the case.
  const early = await app.http('GET', `/api/v1/quick-reports/cases/${caseId}`);
  expect(early.status).toBe(200);
  expect(early.body).toMatchObject({ caseId, status: 'open', process: { key: 'grid-event' } });

  const started = await waitFor('the case projected', async () => {
    const view = await app.http<Record<string, unknown>>('GET', `/api/v1/cases/${caseId}`, {
      token: app.adminKey,
    });
    // Projected a moment after the start, its first task a moment after that.
    return view.status === 200 && view.body.currentStep ? view.body : null;
  });
  expect(started).toMatchObject({
    unitId: 'qr-grid',
    channel: 'quick-report',
    createdBy: { kind: 'person', id: 'qr-rider' },
    data: {
      category: '市政设施',
      description: '人民路与北大街路口井盖缺失',
      location: '人民路口',
      reporter: 'qr-rider',
    },
    currentStep: { id: 'collect' },
  });
  // No phone number in the workflow's memo or search attributes (the case id is a hash).
  expect(JSON.stringify(started)).not.toContain(MEMBER_PHONE);

  // The code is spent: the same report again, or another one, is refused.
  const again = await report({ code });
  expect(again.status).toBe(409);
  expect(again.body.error.details.map((d) => d.path)).toEqual(['body.code']);
  const other = await report({ code, description: '另一件事' });
  expect(other.status).toBe(409);

  const unknown = await app.http(
    'GET',
    '/api/v1/quick-reports/cases/case-000000000000000000000000',
  );
  expect(unknown.status).toBe(404);
  const status = await app.http('GET', `/api/v1/quick-reports/cases/${caseId}`);
  expect(status.status).toBe(200);
  expect(status.body).toMatchObject({ caseId, status: 'open', process: { key: 'grid-event' } });
  expect(JSON.stringify(status.body)).not.toContain('qr-rider');
});

it('refuses a wrong code with the attempts left, voids the code after the last, and refuses an expired one', async () => {
  const code = await codeFor(OTHER_MEMBER_PHONE);
  const asOther = (fields: Record<string, unknown>) =>
    report({ phone: OTHER_MEMBER_PHONE, ...fields });
  const first = await asOther({ code: wrongCode(code) });
  expect(first.status).toBe(401);
  expect(first.body.error.details).toEqual([
    { path: 'body.code', message: 'wrong code; 2 attempt(s) left' },
  ]);
  await asOther({ code: wrongCode(code) });
  const last = await asOther({ code: wrongCode(code) });
  expect(last.body.error.details[0]!.message).toBe(
    'wrong code; no attempts left: ask for a new one',
  );
  // The right code no longer counts.
  const voided = await asOther({ code });
  expect(voided.status).toBe(401);
  expect(voided.body.error.details[0]!.message).toBe('too many wrong codes: ask for a new one');

  const fresh = await codeFor(OTHER_MEMBER_PHONE);
  await app.db.connection
    .db!.collection('quickReportCodes')
    .updateMany(
      { expiresAt: { $gt: new Date() } },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
  const expired = await asOther({ code: fresh });
  expect(expired.status).toBe(401);
  expect(expired.body.error.details[0]!.message).toBe('the code has expired: ask for a new one');
});

it('gives guesses sent at once no more comparisons than the attempt budget', async () => {
  const code = await codeFor(OTHER_MEMBER_PHONE);
  const guesses = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      report({
        phone: OTHER_MEMBER_PHONE,
        code: String(i).padStart(6, '0') === code ? wrongCode(code) : String(i).padStart(6, '0'),
      }),
    ),
  );
  const messages = guesses.map((g) => g.body.error.details[0]!.message);
  expect(guesses.every((g) => g.status === 401)).toBe(true);
  // Three attempts (QUICK_REPORT_CODE_ATTEMPTS here): at most three guesses were compared.
  expect(messages.filter((m) => m.startsWith('wrong code')).length).toBeLessThanOrEqual(3);
  expect(
    messages.filter((m) => m === 'too many wrong codes: ask for a new one').length,
  ).toBeGreaterThanOrEqual(5);
  const right = await report({ phone: OTHER_MEMBER_PHONE, code });
  expect(right.body.error.details[0]!.message).toBe('too many wrong codes: ask for a new one');
});

it('answers an unregistered number’s wrong code as a registered one’s', async () => {
  expect((await askCode(UNREGISTERED_PHONE)).status).toBe(202);
  const guess = await report({ phone: UNREGISTERED_PHONE, code: '123456' });
  expect(guess.status).toBe(401);
  expect(guess.body.error.details).toEqual([
    { path: 'body.code', message: 'wrong code; 2 attempt(s) left' },
  ]);
  const never = await report({ phone: '13900139555', code: '123456' });
  expect(never.body.error.details[0]!.message).toBe('no code was sent to this number: ask for one');
});

it('limits codes per number, registered or not, with 429 naming the limit', async () => {
  const phone = '13900139077';
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await askCode(phone));
  expect(answers.slice(0, 4).map((a) => a.status)).toEqual([202, 202, 202, 202]);
  expect(answers[4]!.status).toBe(429);
  expect(answers[4]!.body.error.message).toMatch(
    /^Rate limit "quick-report-code" reached: 4 codes per 3600 s per phone number; try again in \d+ s$/,
  );
  expect(Number(answers[4]!.headers.get('retry-after'))).toBeGreaterThan(0);
});

describe('the console’s phone page /console/report', () => {
  it('asks for a code, then files the report with it and shows the case and its progress, in Chinese', async () => {
    const browser = consoleClient(app.api.url);
    const first = await browser.get('/console/report');
    expect(first.status).toBe(200);
    expect(first.html).toContain('获取验证码');
    expect(first.html).toContain('width=device-width');

    const before = (await smsTo(MEMBER_PHONE)).length;
    const asked = await browser.post('/console/report/code', { phone: MEMBER_PHONE });
    expect(asked.status).toBe(200);
    expect(asked.html).toContain('验证码已通过短信发送');
    // Step two keeps the number in the form, never in a link.
    expect(asked.html).toContain(`value="${MEMBER_PHONE}"`);
    expect(asked.html).not.toContain(`?phone=`);
    const texts = await waitFor('the code by SMS', async () => {
      const now = await smsTo(MEMBER_PHONE);
      return now.length > before ? now : null;
    });
    const code = (texts.at(-1)!.body as { params: { code: string } }).params.code;

    const wrong = await browser.post('/console/report', {
      phone: MEMBER_PHONE,
      code: wrongCode(code),
      process: 'grid-event',
      category: '环境卫生',
      description: '小区门口垃圾堆放',
      place: 'qr-compound',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('验证码错误，还可尝试');
    expect(wrong.html).toContain('小区门口垃圾堆放');

    const done = await browser.post('/console/report', {
      phone: MEMBER_PHONE,
      code,
      process: 'grid-event',
      category: '环境卫生',
      description: '小区门口垃圾堆放',
      place: 'qr-compound',
      location: '',
    });
    expect(done.status).toBe(200);
    expect(done.html).toContain('上报成功');
    const caseId = /data-case-id>(case-[0-9a-f]{24})</.exec(done.html)?.[1];
    expect(caseId).toBeDefined();

    const progress = await waitFor('the progress page', async () => {
      const page = await browser.get(`/console/report/cases/${caseId}`);
      // Projected a moment after the start, its current step a moment after that.
      return page.status === 200 && page.html.includes('当前环节') ? page : null;
    });
    expect(progress.html).toContain('办理中');
    expect(progress.html).toContain('中心汇集研判分流');
    // The place's name stands for the location left empty.
    const view = await app.http<{ data: Record<string, unknown> }>(
      'GET',
      `/api/v1/cases/${caseId}`,
      { token: app.adminKey },
    );
    expect(view.body.data.location).toBe('天汉小区');
  });
});

it('counts the quick reports of a unit and below in the metrics, for officials', async () => {
  const year = new Date().getUTCFullYear();
  const counted = await waitFor('the quick reports counted', async () => {
    const metrics = await app.http<{ quickReports: { received: number; closed: number } }>(
      'GET',
      `/api/v1/metrics?unitId=qr-street&period=${year}`,
      { token: app.adminKey },
    );
    expect(metrics.status).toBe(200);
    // The earlier tests filed three: two in the grid, one in the compound.
    return metrics.body.quickReports.received === 3 ? metrics.body.quickReports : null;
  });
  expect(counted).toEqual({ received: 3, closed: 0 });
  const elsewhere = await app.http<{ quickReports: unknown }>(
    'GET',
    `/api/v1/metrics?unitId=qr-street-2&period=${year}`,
    { token: app.adminKey },
  );
  expect(elsewhere.body.quickReports).toEqual({ received: 0, closed: 0 });
});

it('registers members from CSV files like other people and posts: the next code request reaches the new member', async () => {
  const csv = (kind: string, text: string) =>
    app.http('POST', `/api/v1/org/import/${kind}`, {
      token: app.adminKey,
      rawBody: text,
      headers: { 'content-type': 'text/csv' },
    });
  expect((await csv('people', 'id,name,phone\nqr-courier,陈快递,139 0013 9003\n')).status).toBe(
    200,
  );
  expect(
    (await csv('posts', 'unitId,role,personId\nqr-grid,mobile-grid-member,qr-courier\n')).status,
  ).toBe(200);
  const code = await codeFor('13900139003');
  const filed = await report({ phone: '13900139003', code, place: 'qr-compound' });
  expect(filed.status).toBe(201);
  // Registered in a grid: a grid of another street is not theirs.
  const other = await codeFor('13900139003');
  const outside = await report({ phone: '13900139003', code: other, place: 'qr-grid-2' });
  expect(outside.status).toBe(403);
});

describe('phone keys (an HMAC under PHONE_KEY_SECRET, not a hash a dump can be enumerated against)', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
  const hmac = (text: string) =>
    createHmac('sha256', testStack().env.PHONE_KEY_SECRET!).update(text).digest('base64url');
  const codes = () =>
    app.db.connection.db!.collection<{ _id: string; [key: string]: unknown }>('quickReportCodes');

  it('stores a new code under the HMAC of the number with the stack’s secret', async () => {
    const phone = '13900139055';
    expect((await askCode(phone)).status).toBe(202);
    const latest = await codes().find({}).sort({ createdAt: -1 }).limit(1).toArray();
    expect(latest[0]!.phoneKey).toBe(hmac(`quick-report-code\n${phone}`));
    expect(latest[0]!.phoneKey).not.toBe(sha256(`quick-report\n${phone}`));
  });

  it('accepts a code stored before the upgrade under the unsalted key, and re-keys it when read', async () => {
    // A code as the previous version wrote it: keyed by the plain SHA-256 of the number.
    const legacyKey = sha256(`quick-report\n${MEMBER_PHONE}`);
    const salt = 'salt-of-an-old-code';
    const code = '246802';
    const now = new Date();
    await codes().insertOne({
      _id: `legacy-${run}`,
      phoneKey: legacyKey,
      personId: 'qr-rider',
      salt,
      codeHash: sha256(`${salt}\n${code}`),
      createdAt: now,
      expiresAt: new Date(now.getTime() + 300_000),
    });

    const filed = await report({ code });

    expect(filed.status).toBe(201);
    expect(await codes().countDocuments({ phoneKey: legacyKey })).toBe(0);
    expect((await codes().findOne({ _id: `legacy-${run}` }))?.phoneKey).toBe(
      hmac(`quick-report-code\n${MEMBER_PHONE}`),
    );
  });

  it('keeps the per-number budget spent under the unsalted key before the upgrade, and re-keys the counter', async () => {
    const phone = '13900139066';
    const counters = app.db.connection.db!.collection(RATE_LIMIT_COLLECTION);
    // The counter as the previous version left it: 4 codes (this file's limit) in the hour.
    const legacyCounter = `quick-report-code/phone:${sha256(`phone\n${phone}`).slice(0, 32)}`;
    await counters.insertOne({
      key: legacyCounter,
      points: 4,
      expire: new Date(Date.now() + 3_600_000),
    });

    const refused = await askCode(phone);

    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/^Rate limit "quick-report-code" reached: 4 codes/);
    expect(await counters.countDocuments({ key: legacyCounter })).toBe(0);
    const carried = await counters.findOne({
      key: `quick-report-code/phone:${hmac(`quick-report-code-limit\n${phone}`)}`,
    });
    expect(carried?.points).toBe(5);
  });
});

it('does the same store work before answering a registered and an unregistered number; the member’s SMS is queued after the answer', async () => {
  // The service over a connection that reports every command it sends (the driver's command
  // monitoring), on this file's database, with the API's limits and phone keys.
  const monitored = await connectDatabase(`${app.config.MONGODB_URI}?monitorCommands=true`);
  try {
    const commands: string[] = [];
    monitored.connection.getClient().on('commandStarted', (event: CommandStartedEvent) => {
      const target = event.command[event.commandName] as unknown;
      commands.push(`${event.commandName} ${typeof target === 'string' ? target : ''}`.trim());
    });
    const service = createQuickReportService({
      models: monitored.models,
      // requestCode reads no case, definition or unit: these parts are not built here.
      cases: undefined as never,
      definitions: undefined as never,
      units: undefined as never,
      limits: createRateLimits({
        db: monitored.connection.db!,
        config: limitsConfigOf(app.config),
        keys: createPhoneKeys(testStack().env.PHONE_KEY_SECRET!),
      }),
      phoneKeys: createPhoneKeys(testStack().env.PHONE_KEY_SECRET!),
      settings: { codeTtlSeconds: 300, maxAttempts: 3, smsEnabled: true },
      clock: () => new Date(),
    });
    const outbox = () => monitored.models.Outbox.countDocuments({ template: 'quick-report-code' });
    // The first request reads the member directory and starts the sweep: done once, for neither.
    await service.requestCode('13900139044');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const queuedBefore = await outbox();

    const storeWorkOf = async (phone: string) => {
      commands.length = 0;
      const answer = await service.requestCode(phone);
      // Taken as the answer comes back, before anything scheduled after it runs.
      const before = [...commands];
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      return { answer, before, after: commands.slice(before.length) };
    };
    const registered = await storeWorkOf(OTHER_MEMBER_PHONE);
    const unregistered = await storeWorkOf(UNREGISTERED_PHONE);

    expect(unregistered.answer).toEqual(registered.answer);
    expect(registered.before).toEqual(unregistered.before);
    expect(registered.before.filter((c) => c.startsWith('insert'))).toEqual([
      'insert quickReportCodes',
    ]);
    expect(registered.before.join()).not.toMatch(/outbox/);
    // The member's SMS went into the outbox after the answer; nothing for the other number.
    expect(registered.after).toEqual(
      expect.arrayContaining(['insert outbox', 'insert outboxQueue']),
    );
    expect(unregistered.after.join()).not.toMatch(/outbox/);
    expect(await outbox()).toBe(queuedBefore + 1);
  } finally {
    await monitored.close();
  }
});

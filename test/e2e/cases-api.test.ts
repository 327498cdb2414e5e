import { DOCS_CSP } from '../../api/routes/docs';
import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import { DISPATCH_ONLY } from '../fixtures/definitions';
import type { TestApp } from '../support/harness';
import {
  idempotencyKey,
  mailsTo,
  startTestApp,
  TEST_PASSWORD,
  uniqueAddress,
  waitFor,
} from '../support/harness';

interface CaseBody {
  id: string;
  status: string;
  definition: { key: string; version: number };
  timeline: Array<{ seq: number; type: string; stepId?: string; detail?: Record<string, unknown> }>;
  data: Record<string, unknown>;
}
interface ErrorBody {
  error: {
    code: string;
    message: string;
    details: Array<{ path: string; message: string }>;
    requestId: string;
  };
}

let app: TestApp;
let residentToken: string;
let otherResidentToken: string;
let dispatcherToken: string;

function residentRequest(email: string, extra: Record<string, unknown> = {}) {
  return {
    definitionKey: 'resident-request',
    data: {
      category: '环境卫生',
      description: '楼道堆放杂物 <b>请清理</b>',
      contactEmail: email,
      ...extra,
    },
  };
}

beforeAll(async () => {
  app = await startTestApp('cases-api');
  await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
    source: DISPATCH_ONLY,
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  residentToken = await app.signIn('resident-a', ['resident']);
  otherResidentToken = await app.signIn('resident-b', ['resident']);
  dispatcherToken = await app.signIn('dispatcher-a', ['dispatcher'], ['community-01']);
});

afterAll(async () => {
  await app?.stop();
});

describe('authentication and roles', () => {
  it('when no credentials are sent, then 401 with a WWW-Authenticate header', async () => {
    const res = await app.http<ErrorBody>('GET', '/api/v1/cases');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.body.error.code).toBe('unauthenticated');
  });

  it('when a forged or revoked key is sent, then 401', async () => {
    const forged = await app.http('GET', '/api/v1/cases', {
      token: 'gfk_000000000000_notarealsecretatallxx',
    });
    expect(forged.status).toBe(401);

    const created = await app.http<{ key: string; apiKey: { id: string } }>(
      'POST',
      '/api/v1/api-keys',
      {
        token: app.adminKey,
        body: { name: '12345 hotline bridge', roles: ['system'] },
      },
    );
    expect(created.status).toBe(201);
    expect((await app.http('GET', '/api/v1/cases', { token: created.body.key })).status).toBe(200);
    const revoked = await app.http('DELETE', `/api/v1/api-keys/${created.body.apiKey.id}`, {
      token: app.adminKey,
    });
    expect(revoked.status).toBe(204);
    expect((await app.http('GET', '/api/v1/cases', { token: created.body.key })).status).toBe(401);
  });

  it('when a resident calls an admin route, then 403', async () => {
    const res = await app.http<ErrorBody>('GET', '/api/v1/api-keys', { token: residentToken });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
  });

  it('when a resident starts a process only dispatchers may start, then 403 and no case', async () => {
    const res = await app.http<ErrorBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { definitionKey: 'dispatch-only', data: { note: 'x' } },
    });
    expect(res.status).toBe(403);
    expect(await app.db.models.Case.countDocuments({ definitionKey: 'dispatch-only' })).toBe(0);
  });

  it('when the password is wrong, then 401 without saying which part was wrong', async () => {
    const res = await app.http<ErrorBody>('POST', '/api/v1/auth/login', {
      body: { username: 'resident-a', password: 'wrong password' },
    });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe('Wrong username or password');
  });

  it('when a username fails to sign in too often from one address, then that address waits (429 with Retry-After, even with the right password) and other accounts are not refused', async () => {
    await app.signIn('guessed', ['resident']);
    // The defaults: 5 failures answered at once, then a wait of 1 s, 2 s, 4 s…
    for (let attempt = 0; attempt < app.config.SIGNIN_FREE_FAILURES + 1; attempt++) {
      const wrong = await app.http('POST', '/api/v1/auth/login', {
        body: { username: 'guessed', password: `guess ${attempt}` },
      });
      expect(wrong.status).toBe(401);
    }
    const right = await app.http<ErrorBody>('POST', '/api/v1/auth/login', {
      body: { username: 'guessed', password: TEST_PASSWORD },
    });
    expect(right.status).toBe(429);
    expect(right.body.error.code).toBe('too_many_requests');
    expect(right.body.error.message).toMatch(/failed sign-ins .* try again in \d+ s/);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const other = await app.http('POST', '/api/v1/auth/login', {
      body: { username: 'resident-a', password: TEST_PASSWORD },
    });
    expect(other.status).toBe(200);
  });

  it('when a session is logged out, then its token stops working', async () => {
    const token = await app.signIn('short-lived', ['staff']);
    expect((await app.http('POST', '/api/v1/auth/logout', { token })).status).toBe(204);
    expect((await app.http('GET', '/api/v1/cases', { token })).status).toBe(401);
  });
});

describe('starting a case', () => {
  it('when a resident files a request, then the case runs to its end, with a timeline and an escaped receipt mail', async () => {
    const email = uniqueAddress('resident');
    const started = await app.http<CaseBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': idempotencyKey() },
      body: residentRequest(email),
    });
    expect(started.status).toBe(201);
    expect(started.body.id).toMatch(/^case-[0-9a-f]{24}$/);
    expect(started.headers.get('location')).toBe(`/api/v1/cases/${started.body.id}`);

    const closed = await waitFor('the case to close', async () => {
      const res = await app.http<CaseBody>('GET', `/api/v1/cases/${started.body.id}`, {
        token: residentToken,
      });
      return res.status === 200 && res.body.status === 'closed' ? res.body : undefined;
    });
    expect(closed.definition).toEqual(
      expect.objectContaining({ key: 'resident-request', version: 1 }),
    );
    expect(closed.timeline.map((e) => e.type)).toEqual([
      'case.started',
      'step.entered',
      'notification.sent',
      'step.completed',
      'case.closed',
    ]);
    expect(closed.timeline.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);

    const [mail, ...more] = await waitFor('the receipt mail', async () => {
      const mails = await mailsTo(email);
      return mails.length > 0 ? mails : undefined;
    });
    expect(more).toHaveLength(0);
    expect(mail!.subject).toBe(`【居民诉求受理】您的诉求已受理（编号 ${started.body.id}）`);
    expect(mail!.html).toContain('楼道堆放杂物 &lt;b&gt;请清理&lt;/b&gt;');
    expect(mail!.html).not.toContain('<b>请清理</b>');
  });

  it('when the same Idempotency-Key and body are sent twice, then the second call returns the same case with 200', async () => {
    const key = idempotencyKey();
    const body = residentRequest(uniqueAddress('twice'));
    const first = await app.http<CaseBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': key },
      body,
    });
    const second = await app.http<CaseBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': key },
      body,
    });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    // Also once the case has closed and its document exists.
    await waitFor(
      'the case to close',
      async () => (await app.db.models.Case.findById(first.body.id).lean())?.status === 'closed',
    );
    const third = await app.http<CaseBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': key },
      body,
    });
    expect(third.status).toBe(200);
    expect(third.body.id).toBe(first.body.id);
    expect(await app.db.models.Case.countDocuments({ _id: first.body.id })).toBe(1);
  });

  it('when an Idempotency-Key is reused with a different body, then 422 naming the header', async () => {
    const key = idempotencyKey();
    const first = await app.http('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': key },
      body: residentRequest(uniqueAddress('first')),
    });
    expect(first.status).toBe(201);
    const second = await app.http<ErrorBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': key },
      body: residentRequest(uniqueAddress('second')),
    });
    expect(second.status).toBe(422);
    expect(second.body.error.details).toEqual([
      { path: 'headers.idempotency-key', message: 'reused with a different body' },
    ]);
  });

  it('when two people use the same Idempotency-Key, then they get two different cases', async () => {
    const key = idempotencyKey();
    const a = await app.http<CaseBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': key },
      body: residentRequest(uniqueAddress('a')),
    });
    const b = await app.http<CaseBody>('POST', '/api/v1/cases', {
      token: otherResidentToken,
      headers: { 'idempotency-key': key },
      body: residentRequest(uniqueAddress('b')),
    });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.id).not.toBe(b.body.id);
  });

  it('when the Idempotency-Key header is missing, then 400 naming it and nothing is written', async () => {
    const email = uniqueAddress('no-key');
    const res = await app.http<ErrorBody>('POST', '/api/v1/cases', {
      token: residentToken,
      body: residentRequest(email),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      expect.objectContaining({ path: 'headers.idempotency-key' }),
    ]);
    await new Promise((r) => setTimeout(r, 500));
    expect(await app.db.models.Case.countDocuments({ 'data.contactEmail': email })).toBe(0);
  });

  it('when the case data breaks the process fields, then 422 naming every field and no workflow starts', async () => {
    const key = idempotencyKey();
    const res = await app.http<ErrorBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': key },
      body: {
        definitionKey: 'resident-request',
        data: { category: '不存在的类别', contactEmail: 'not-an-email', extra: 1 },
      },
    });
    expect(res.status).toBe(422);
    const paths = res.body.error.details.map((d) => d.path).sort();
    expect(paths).toEqual(['data.category', 'data.contactEmail', 'data.description', 'data.extra']);
    // The same key still starts a case once the body is fixed: nothing was reserved.
    const fixed = await app.http('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': key },
      body: residentRequest(uniqueAddress('fixed')),
    });
    expect(fixed.status).toBe(201);
  });

  it('when a case names a unit the org tree does not have, then 422 naming unitId and no case or workflow starts', async () => {
    // Arrange
    const key = idempotencyKey();
    const email = uniqueAddress('unknown-unit');
    const send = (token: string, unitId: string, idempotency = key) =>
      app.http<ErrorBody & CaseBody>('POST', '/api/v1/cases', {
        token,
        headers: { 'idempotency-key': idempotency },
        body: { ...residentRequest(email), unitId },
      });

    // Act
    const refused = await send(residentToken, 'no-such-unit');
    // A dispatcher learns the unit is unknown rather than that it is outside their scope.
    const dispatcher = await send(dispatcherToken, 'no-such-unit', idempotencyKey());

    // Assert
    for (const res of [refused, dispatcher]) {
      expect(res.status).toBe(422);
      expect(res.body.error.details).toEqual([
        { path: 'body.unitId', message: 'no unit "no-such-unit" in the org tree' },
      ]);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(await app.db.models.Case.countDocuments({ 'data.contactEmail': email })).toBe(0);
    // Nothing was reserved: once the unit exists, the same key starts the case, and a double
    // submit of it returns that case.
    const unit = { id: 'no-such-unit', name: '新建社区', type: 'community', parentId: null };
    expect(
      (await app.http('POST', '/api/v1/org/units', { token: app.adminKey, body: unit })).status,
    ).toBe(201);
    const started = await send(residentToken, 'no-such-unit');
    const again = await send(residentToken, 'no-such-unit');
    expect([started.status, again.status]).toEqual([201, 200]);
    expect(again.body.id).toBe(started.body.id);
    expect(started.body).toEqual(expect.objectContaining({ unitId: 'no-such-unit' }));
  });

  it('when a case names an unknown unit and breaks the process fields, then one 422 names them all', async () => {
    const res = await app.http<ErrorBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': idempotencyKey() },
      body: {
        definitionKey: 'resident-request',
        unitId: 'nowhere',
        data: { category: '环境卫生', contactEmail: 'not-an-email' },
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d) => d.path).sort()).toEqual([
      'body.unitId',
      'data.contactEmail',
      'data.description',
    ]);
  });

  it('when the body is malformed, then 400 naming the field', async () => {
    const unknownProcess = await app.http<ErrorBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { definitionKey: 'no-such-process', data: {} },
    });
    expect(unknownProcess.status).toBe(422);
    expect(unknownProcess.body.error.details[0]!.path).toBe('body.definitionKey');

    const badShape = await app.http<ErrorBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { definitionKey: 'Bad Key!', data: 'text', surprise: true },
    });
    expect(badShape.status).toBe(400);
    expect(badShape.body.error.details.map((d) => d.path).sort()).toEqual([
      'body.data',
      'body.definitionKey',
      'body.surprise',
    ]);

    const notJson = await app.http<ErrorBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': idempotencyKey() },
      rawBody: '{"definitionKey": ',
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.details[0]!.path).toBe('body');
  });

  it('when the body is larger than the limit, then 413', async () => {
    const res = await app.http<ErrorBody>('POST', '/api/v1/cases', {
      token: residentToken,
      headers: { 'idempotency-key': idempotencyKey() },
      body: residentRequest(uniqueAddress('big'), { description: 'x'.repeat(200_000) }),
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });
});

describe('reading cases', () => {
  let ownCaseId: string;

  beforeAll(async () => {
    const started = await app.http<CaseBody>('POST', '/api/v1/cases', {
      token: otherResidentToken,
      headers: { 'idempotency-key': idempotencyKey() },
      body: residentRequest(uniqueAddress('reader')),
    });
    ownCaseId = started.body.id;
    await waitFor('the case document', () => app.db.models.Case.exists({ _id: ownCaseId }));
  });

  it("when a resident asks for another resident's case, then 404 as if it did not exist", async () => {
    const res = await app.http('GET', `/api/v1/cases/${ownCaseId}`, { token: residentToken });
    expect(res.status).toBe(404);
    expect(
      (await app.http('GET', `/api/v1/cases/${ownCaseId}`, { token: otherResidentToken })).status,
    ).toBe(200);
  });

  it('when a resident lists cases, then only their own appear', async () => {
    const res = await app.http<{ items: CaseBody[]; total: number }>(
      'GET',
      '/api/v1/cases?pageSize=100',
      { token: otherResidentToken },
    );
    expect(res.status).toBe(200);
    expect(res.body.items.map((c) => c.id)).toContain(ownCaseId);
    const owner = (await app.db.models.Case.findById(ownCaseId).lean())!.createdBy.id;
    const listed = await app.db.models.Case.find({
      _id: { $in: res.body.items.map((c) => c.id) },
    }).lean();
    expect(listed.every((c) => c.createdBy.id === owner)).toBe(true);
    // resident-a filed cases earlier in this file; none of them may show up here.
    expect(
      await app.db.models.Case.countDocuments({ 'createdBy.id': { $ne: owner } }),
    ).toBeGreaterThan(0);
    expect(await app.db.models.Case.countDocuments({ 'createdBy.id': owner })).toBe(res.body.total);
    expect(res.body.total).toBe(res.body.items.length);
  });

  it('when a dispatcher of another unit lists cases, then residents’ cases without their unit are hidden', async () => {
    const res = await app.http<{ items: CaseBody[] }>('GET', '/api/v1/cases', {
      token: dispatcherToken,
    });
    expect(res.status).toBe(200);
    expect(res.body.items.map((c) => c.id)).not.toContain(ownCaseId);
  });

  it('when an admin pages through cases, then pages do not overlap and the total is stable', async () => {
    const first = await app.http<{ items: CaseBody[]; total: number; page: number }>(
      'GET',
      '/api/v1/cases?pageSize=2&page=1',
      { token: app.adminKey },
    );
    const second = await app.http<{ items: CaseBody[]; total: number; page: number }>(
      'GET',
      '/api/v1/cases?pageSize=2&page=2',
      { token: app.adminKey },
    );
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.total).toBeGreaterThanOrEqual(4);
    expect(second.body.page).toBe(2);
    const ids = new Set([...first.body.items, ...second.body.items].map((c) => c.id));
    expect(ids.size).toBe(first.body.items.length + second.body.items.length);
  });

  it('when the paging query is out of range, then 400 naming the parameter', async () => {
    const res = await app.http<ErrorBody>('GET', '/api/v1/cases?pageSize=1000', {
      token: app.adminKey,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]!.path).toBe('query.pageSize');
  });

  it('when the case id is malformed, then 400; when unknown, then 404', async () => {
    expect(
      (await app.http('GET', '/api/v1/cases/not-a-case', { token: app.adminKey })).status,
    ).toBe(400);
    expect(
      (await app.http('GET', `/api/v1/cases/case-${'0'.repeat(24)}`, { token: app.adminKey }))
        .status,
    ).toBe(404);
  });
});

describe('operations', () => {
  it('when the stack is up, then /healthz and /readyz answer 200', async () => {
    expect((await app.http('GET', '/healthz')).status).toBe(200);
    const ready = await app.http<{ checks: Record<string, string> }>('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ temporal: 'ok', mongodb: 'ok' });
  });

  it('when a caller sends a request id, then it is echoed back; otherwise one is made up', async () => {
    const echoed = await app.http('GET', '/healthz', {
      headers: { 'x-request-id': 'trace-12345678' },
    });
    expect(echoed.headers.get('x-request-id')).toBe('trace-12345678');
    const generated = await app.http('GET', '/healthz');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('when the docs are opened, then the OpenAPI document and the docs page are served without a CDN', async () => {
    const doc = await app.http<{ paths: Record<string, unknown> }>('GET', '/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/cases', '/api/v1/cases/{id}']),
    );
    const page = await app.http<string>('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.body).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(page.body).not.toMatch(/https?:\/\//);
    // Everything from this server: no inline script or style, no other origin (see DOCS_CSP).
    expect(page.headers.get('content-security-policy')).toBe(DOCS_CSP);
    expect(page.body).not.toMatch(/<script>|<style|style="/);
    expect((await app.http('GET', '/docs/assets/swagger-ui-bundle.js')).status).toBe(200);
  });

  it('when a route does not exist, then a JSON 404', async () => {
    const res = await app.http<ErrorBody>('GET', '/api/v1/nothing-here', { token: app.adminKey });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('a definition limit (书记项目: 1—2 a year)', () => {
  const LIMITED = `
key: yearly-limit
name: 年度限额测试
starters: [admin]
limit: { max: 2, per: [year], rule: 每个单位每年至多 2 件 }
input:
  fields:
    - { name: year, label: 年度, type: integer, required: true }
steps:
  - { id: done, name: 完成, type: end }
`;

  it('when a unit already has 2 cases of a process for a year, then a third start is refused with 409 naming the rule, while another year or another unit starts', async () => {
    // Arrange: the process and two units
    await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
      source: LIMITED,
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'test' },
    });
    for (const id of ['limit-a', 'limit-b']) {
      const unit = { id, name: `限额社区${id}`, type: 'community', parentId: null };
      expect(
        (await app.http('POST', '/api/v1/org/units', { token: app.adminKey, body: unit })).status,
      ).toBe(201);
    }
    const start = (unitId: string, year: number) =>
      app.http<ErrorBody & CaseBody>('POST', '/api/v1/cases', {
        token: app.adminKey,
        headers: { 'idempotency-key': idempotencyKey() },
        body: { definitionKey: 'yearly-limit', unitId, data: { year } },
      });
    const first = [await start('limit-a', 2026), await start('limit-a', 2026)];
    // The count reads the read model: wait until both cases are projected
    await waitFor('both cases projected', async () =>
      (await app.db.models.Case.countDocuments({ definitionKey: 'yearly-limit' })) === 2
        ? true
        : undefined,
    );

    // Act
    const third = await start('limit-a', 2026);
    const nextYear = await start('limit-a', 2027);
    const otherUnit = await start('limit-b', 2026);

    // Assert
    expect(first.map((r) => r.status)).toEqual([201, 201]);
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe('conflict');
    expect(third.body.error.message).toContain('每个单位每年至多 2 件');
    expect(third.body.error.message).toContain('at most 2');
    expect(third.body.error.details).toEqual([
      { path: 'data.year', message: 'at most 2 cases per unit for the same value' },
    ]);
    expect([nextYear.status, otherUnit.status]).toEqual([201, 201]);
    expect(
      await app.db.models.Case.countDocuments({ definitionKey: 'yearly-limit', unitId: 'limit-a' }),
    ).toBeLessThanOrEqual(3);
  });
});

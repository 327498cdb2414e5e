import { readdirSync } from 'node:fs';
import path from 'node:path';
import {
  DEFINITION_SCHEMA_ID,
  definitionJsonSchema,
  MAX_NESTING_DEPTH,
  MAX_SYNTAX_MARKS,
} from '../../lang/source';
import { waitingProcess } from '../../scripts/recorded-processes';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';

interface ProblemBody {
  error: {
    code: string;
    message: string;
    details: Array<{ path: string; message: string; line?: number; column?: number }>;
  };
}
interface PublishBody {
  key: string;
  version: number;
  checksum: string;
  published: boolean;
}
interface SummaryBody {
  key: string;
  name: string;
  latestVersion: number | null;
  status: string;
  hasDraft: boolean;
}

/** A small process; line numbers in the tests below refer to this layout. */
function complaint(key: string, name = '噪声投诉'): string {
  return `key: ${key}
name: ${name}
starters: [resident, admin]
input:
  fields:
    - { name: contactEmail, label: 邮箱, type: email, required: true }
steps:
  - id: acknowledge
    name: 受理回执
    type: notify
    template: case-received
    to: { field: contactEmail }
  - id: closed
    name: 办结
    type: end
`;
}

let app: TestApp;
let dispatcherToken: string;
let residentToken: string;

beforeAll(async () => {
  app = await startTestApp('definitions-api');
  dispatcherToken = await app.signIn('definitions-dispatcher', ['dispatcher']);
  residentToken = await app.signIn('definitions-resident', ['resident']);
});

afterAll(async () => {
  await app?.stop();
});

function asAdmin(method: string, path: string, body?: unknown) {
  return app.http(method, path, { token: app.adminKey, ...(body === undefined ? {} : { body }) });
}

function startCase(key: string, token: string, email = uniqueAddress('definitions')) {
  return app.http<{ id: string; definition: { version: number } } & ProblemBody>(
    'POST',
    '/api/v1/cases',
    {
      token,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { definitionKey: key, data: { contactEmail: email } },
    },
  );
}

describe('start-up', () => {
  it('when the API starts, then it publishes the shipped definitions and not the JSON Schema beside them', () => {
    // Arrange: one definition per YAML file shipped in definitions/
    const dir = path.join(__dirname, '..', '..', 'definitions');
    const shipped = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

    // Assert
    // Published in file-name order, which is not key order (`a-b.yaml` sorts before `a.yaml`).
    expect(app.api.definitions.map((r) => r.key).sort()).toEqual(
      shipped.map((f) => f.replace(/\.yaml$/, '')).sort(),
    );
    expect(shipped.length).toBeGreaterThanOrEqual(3);
  });
});

describe('GET /api/v1/definitions/schema.json', () => {
  it('when an editor fetches the schema without credentials, then it gets the generated JSON Schema', async () => {
    // Act
    const res = await app.http('GET', '/api/v1/definitions/schema.json');

    // Assert
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body).toEqual(definitionJsonSchema());
    expect(res.body.$id).toBe(DEFINITION_SCHEMA_ID);
  });
});

describe('POST /api/v1/definitions/validate', () => {
  it('when the definition is valid, then 200 with its key', async () => {
    // Act
    const res = await app.http('POST', '/api/v1/definitions/validate', {
      token: dispatcherToken,
      body: { format: 'yaml', source: complaint('valid-one') },
    });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ valid: true, key: 'valid-one', name: '噪声投诉' });
    expect(await app.db.models.Definition.countDocuments({ key: 'valid-one' })).toBe(0);
  });

  it('when the YAML has several problems, then 422 lists every one with its line and column', async () => {
    // Arrange: an unknown template (line 11) and a jump to an unknown step (line 13)
    const source = complaint('invalid-one')
      .replace('template: case-received', 'template: no-such-mail')
      .replace(
        '    to: { field: contactEmail }\n',
        '    to: { field: contactEmail }\n    next: nowhere\n',
      );

    // Act
    const res = await app.http<ProblemBody>('POST', '/api/v1/definitions/validate', {
      token: app.adminKey,
      body: { format: 'yaml', source },
    });

    // Assert
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('unprocessable');
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([
        {
          path: 'steps[0].template',
          message: expect.stringContaining(
            'unknown mail template "no-such-mail" (known: ',
          ) as string,
          line: 11,
          column: 15,
        },
        { path: 'steps[0].next', message: 'unknown step "nowhere"', line: 13, column: 11 },
      ]),
    );
  });

  it('when the YAML does not parse, then 422 with the line and column of the syntax error', async () => {
    // Act
    const res = await app.http<ProblemBody>('POST', '/api/v1/definitions/validate', {
      token: app.adminKey,
      body: { format: 'yaml', source: 'key: broken\nname: x\nstarters: [resident\n' },
    });

    // Assert
    expect(res.status).toBe(422);
    expect(res.body.error.details[0]).toMatchObject({
      path: '',
      message: expect.stringMatching(/^YAML syntax: /) as string,
      line: expect.any(Number) as number,
      column: expect.any(Number) as number,
    });
  });

  it('when JSON has a trailing comma, then 422 at its line and column', async () => {
    // Act
    const res = await app.http<ProblemBody>('POST', '/api/v1/definitions/validate', {
      token: app.adminKey,
      body: { format: 'json', source: '{\n  "key": "json-one",\n}' },
    });

    // Assert
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      { path: '', message: expect.stringMatching(/^JSON syntax: /) as string, line: 3, column: 1 },
    ]);
  });

  it('when the envelope is wrong, then 400 naming the field', async () => {
    // Act
    const res = await app.http<ProblemBody>('POST', '/api/v1/definitions/validate', {
      token: app.adminKey,
      body: { format: 'toml', source: '' },
    });

    // Assert
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d) => d.path)).toEqual(
      expect.arrayContaining(['body.format', 'body.source']),
    );
  });

  it('when a resident or nobody calls, then 403 or 401', async () => {
    // Act
    const asResident = await app.http('POST', '/api/v1/definitions/validate', {
      token: residentToken,
      body: { source: complaint('x-one') },
    });
    const anonymous = await app.http('POST', '/api/v1/definitions/validate', {
      body: { source: complaint('x-one') },
    });

    // Assert
    expect(asResident.status).toBe(403);
    expect(anonymous.status).toBe(401);
  });
});

describe('POST /api/v1/definitions/validate: limits', () => {
  /** The most keys the syntax-mark limit lets through: each costs ":" and a line break. */
  function largestAccepted(): string {
    const head = complaint('largest-accepted');
    const headMarks = head.replace(/[^\n,[\]{}\-:?#&*!|>"']/g, '').length;
    const keys = Math.floor((MAX_SYNTAX_MARKS - headMarks) / 2);
    return head + Array.from({ length: keys }, (_, i) => `extra${i}: x`).join('\n');
  }

  it('when the largest definition the limits accept is checked, then /healthz still answers meanwhile', async () => {
    // Arrange: the first checks compile the parser's code paths; measure the steady state
    const source = largestAccepted();
    const body = { format: 'yaml', source };
    for (let warmUp = 0; warmUp < 3; warmUp++) {
      const res = await app.http('POST', '/api/v1/definitions/validate', {
        token: app.adminKey,
        body,
      });
      expect(res.status).toBe(422);
    }
    const healthz: number[] = [];

    // Act: ask /healthz one after the other for as long as the check runs
    let checking = true;
    const checked = app
      .http<ProblemBody>('POST', '/api/v1/definitions/validate', { token: app.adminKey, body })
      .finally(() => (checking = false));
    do {
      const started = performance.now();
      expect((await app.http('GET', '/healthz')).status).toBe(200);
      healthz.push(performance.now() - started);
    } while (checking);
    const res = await checked;

    // Assert: it was checked, not refused; and no /healthz waited long (generous for a loaded
    // 2-core machine: before the limits, 10,000 keys held it for over a second)
    expect(res.status).toBe(422);
    expect(res.body.error.details[0]!.message).toMatch(/^Unrecognized keys: "extra0"/);
    expect(Math.max(...healthz)).toBeLessThan(250);
  });

  it('when a definition has more syntax marks than the limit, then 422 names the count and the limit', async () => {
    // Arrange: 49,000 keys, under the body limit
    const source = Array.from({ length: 49_000 }, (_, i) => `k${i}: x`).join('\n');

    // Act
    const started = performance.now();
    const res = await app.http<ProblemBody>('POST', '/api/v1/definitions/validate', {
      token: app.adminKey,
      body: { format: 'yaml', source },
    });
    const elapsed = performance.now() - started;

    // Assert
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      {
        path: '',
        message: `The definition is too large to check: it has 97,999 syntax marks (line breaks, keys, list items, brackets); at most ${MAX_SYNTAX_MARKS.toLocaleString('en')} are accepted`,
      },
    ]);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('when a definition nests deeper than the limit, then 422 names the limit and where', async () => {
    // Act
    const res = await app.http<ProblemBody>('POST', '/api/v1/definitions/validate', {
      token: app.adminKey,
      body: { format: 'json', source: '['.repeat(5_000) },
    });

    // Assert
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      {
        path: '',
        message: `The definition nests lists and maps more than ${MAX_NESTING_DEPTH} levels deep; at most ${MAX_NESTING_DEPTH} are accepted`,
        line: 1,
        column: MAX_NESTING_DEPTH + 1,
      },
    ]);
  });
});

describe('drafts, versions and retirement', () => {
  const key = 'noise-complaint';

  it('when a draft is saved and published, then it becomes version 1 with a checksum and the draft is gone', async () => {
    // Act
    const saved = await asAdmin('POST', '/api/v1/definitions/drafts', {
      format: 'yaml',
      source: complaint(key),
    });
    const listedDraft = await asAdmin('GET', '/api/v1/definitions');
    const notRunnable = await startCase(key, app.adminKey);
    const published = await app.http<PublishBody>('POST', `/api/v1/definitions/${key}/publish`, {
      token: app.adminKey,
    });

    // Assert
    expect(saved.status).toBe(201);
    expect(saved.headers.get('location')).toBe(`/api/v1/definitions/${key}/draft`);
    expect(saved.body).toMatchObject({ key, format: 'yaml', source: complaint(key) });
    expect((listedDraft.body.items as SummaryBody[]).find((d) => d.key === key)).toMatchObject({
      latestVersion: null,
      status: 'draft',
      hasDraft: true,
    });
    expect(notRunnable.status).toBe(422);
    expect(published.status).toBe(201);
    expect(published.body).toEqual({
      key,
      version: 1,
      checksum: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as string,
      published: true,
    });
    expect(published.headers.get('location')).toBe(`/api/v1/definitions/${key}/versions/1`);
    expect((await asAdmin('GET', `/api/v1/definitions/${key}/draft`)).status).toBe(404);
  });

  it('when version 1 is read, then it has its source, spec, checksum and publication', async () => {
    // Act
    const res = await app.http('GET', `/api/v1/definitions/${key}/versions/1`, {
      token: dispatcherToken,
    });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      key,
      version: 1,
      status: 'published',
      format: 'yaml',
      source: complaint(key),
      checksum: expect.stringMatching(/^sha256:/) as string,
      publishedBy: { kind: 'apiKey' },
      spec: { key, steps: [{ id: 'acknowledge' }, { id: 'closed', status: 'closed' }] },
    });
    expect(Number.isNaN(Date.parse(res.body.publishedAt as string))).toBe(false);
  });

  it('when the same content is published again (reformatted, as JSON), then 200 and no new version', async () => {
    // Arrange
    const current = await asAdmin('GET', `/api/v1/definitions/${key}/versions/1`);
    const asJson = JSON.stringify(current.body.spec);

    // Act
    const res = await app.http<PublishBody>('POST', `/api/v1/definitions/${key}/publish`, {
      token: app.adminKey,
      body: { format: 'json', source: asJson },
    });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 1, published: false });
    expect(await app.db.models.Definition.countDocuments({ key, status: 'published' })).toBe(1);
  });

  it('when changed content is published, then 201 version 2, and new cases start version 2', async () => {
    // Arrange: a start just before, so the API holds version 1 as the one to start.
    const before = await startCase(key, residentToken);

    // Act
    const res = await app.http<PublishBody>('POST', `/api/v1/definitions/${key}/publish`, {
      token: app.adminKey,
      body: { format: 'yaml', source: complaint(key, '噪声投诉（第二版）') },
    });
    const started = await startCase(key, residentToken);

    // Assert
    expect(before.body.definition.version).toBe(1);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ key, version: 2, published: true });
    expect(started.status).toBe(201);
    expect(started.body.definition.version).toBe(2);
  });

  it('when the versions are listed, then newest first', async () => {
    // Act
    const res = await app.http<{ items: Array<{ version: number; status: string }> }>(
      'GET',
      `/api/v1/definitions/${key}/versions`,
      { token: dispatcherToken },
    );

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.items.map((v) => [v.version, v.status])).toEqual([
      [2, 'published'],
      [1, 'published'],
    ]);
  });

  it('when the processes are listed, then each key shows its latest version, status and name', async () => {
    // Act
    const res = await app.http<{ items: SummaryBody[] }>('GET', '/api/v1/definitions', {
      token: dispatcherToken,
    });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          key,
          name: '噪声投诉（第二版）',
          latestVersion: 2,
          status: 'published',
          hasDraft: false,
        }),
        expect.objectContaining({ key: 'resident-request', latestVersion: 1 }),
      ]),
    );
  });

  it('when a source for another key is published under this key, then 422 pointing at its key', async () => {
    // Act
    const res = await app.http<ProblemBody>('POST', `/api/v1/definitions/${key}/publish`, {
      token: app.adminKey,
      body: { source: complaint('other-key') },
    });

    // Assert
    expect(res.status).toBe(422);
    expect(res.body.error.details).toEqual([
      { path: 'key', message: expect.any(String) as string, line: 1, column: 6 },
    ]);
  });

  it('when there is no draft and no source, then publishing answers 404', async () => {
    // Act
    const res = await app.http('POST', `/api/v1/definitions/${key}/publish`, {
      token: app.adminKey,
    });

    // Assert
    expect(res.status).toBe(404);
  });

  it('when a dispatcher tries to publish or retire, then 403', async () => {
    // Act
    const publish = await app.http('POST', `/api/v1/definitions/${key}/publish`, {
      token: dispatcherToken,
      body: { source: complaint(key) },
    });
    const retire = await app.http('POST', `/api/v1/definitions/${key}/retire`, {
      token: dispatcherToken,
    });

    // Assert
    expect(publish.status).toBe(403);
    expect(retire.status).toBe(403);
  });

  it('when the process is retired, then no version starts new cases, and publishing again brings it back', async () => {
    // Arrange: a start just before, so the API holds version 2 as the one to start.
    expect((await startCase(key, residentToken)).status).toBe(201);

    // Act
    const retired = await asAdmin('POST', `/api/v1/definitions/${key}/retire`);
    const refused = await startCase(key, residentToken);
    const versions = await asAdmin('GET', `/api/v1/definitions/${key}/versions`);
    const again = await app.http<PublishBody>('POST', `/api/v1/definitions/${key}/publish`, {
      token: app.adminKey,
      body: { source: complaint(key, '噪声投诉（第二版）') },
    });
    const restarted = await startCase(key, residentToken);

    // Assert
    expect(retired.status).toBe(200);
    expect(retired.body).toMatchObject({ key, latestVersion: 2, status: 'retired' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.details).toEqual([
      { path: 'body.definitionKey', message: expect.any(String) as string },
    ]);
    expect((versions.body.items as Array<{ status: string }>).map((v) => v.status)).toEqual([
      'retired',
      'retired',
    ]);
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ version: 3, published: true });
    expect(restarted.status).toBe(201);
    expect(restarted.body.definition.version).toBe(3);
  });

  it('when unknown keys or versions are read, then 404', async () => {
    // Act
    const version = await asAdmin('GET', `/api/v1/definitions/${key}/versions/99`);
    const versions = await asAdmin('GET', '/api/v1/definitions/no-such-process/versions');
    const retire = await asAdmin('POST', '/api/v1/definitions/no-such-process/retire');

    // Assert
    expect([version.status, versions.status, retire.status]).toEqual([404, 404, 404]);
  });
});

describe('drafts', () => {
  it('when an invalid draft is saved, then 422 and nothing is stored', async () => {
    // Act
    const res = await app.http<ProblemBody>('POST', '/api/v1/definitions/drafts', {
      token: app.adminKey,
      body: { source: complaint('bad-draft').replace('type: end', 'type: finish') },
    });

    // Assert
    expect(res.status).toBe(422);
    expect(res.body.error.details[0]).toMatchObject({
      path: 'steps[1].type',
      line: 15,
      column: 11,
    });
    expect(await app.db.models.Definition.countDocuments({ key: 'bad-draft' })).toBe(0);
  });

  it('when a draft is saved twice, then the second replaces the first, and it can be read and discarded', async () => {
    // Act
    const first = await asAdmin('POST', '/api/v1/definitions/drafts', {
      source: complaint('twice-drafted'),
    });
    const second = await asAdmin('POST', '/api/v1/definitions/drafts', {
      source: complaint('twice-drafted', '第二稿'),
    });
    const read = await app.http('GET', '/api/v1/definitions/twice-drafted/draft', {
      token: dispatcherToken,
    });
    const discarded = await asAdmin('DELETE', '/api/v1/definitions/twice-drafted/draft');
    const gone = await asAdmin('GET', '/api/v1/definitions/twice-drafted/draft');

    // Assert
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(read.body).toMatchObject({ key: 'twice-drafted', name: '第二稿' });
    expect(discarded.status).toBe(204);
    expect(gone.status).toBe(404);
  });

  it('when a dispatcher saves a draft, then 403', async () => {
    // Act
    const res = await app.http('POST', '/api/v1/definitions/drafts', {
      token: dispatcherToken,
      body: { source: complaint('dispatcher-draft') },
    });

    // Assert
    expect(res.status).toBe(403);
  });
});

describe('running cases keep their snapshot', () => {
  it('when a process is republished and retired while a case runs, then the case finishes on the version it started with', async () => {
    // Arrange
    const key = 'slow-complaint';
    await asAdmin('POST', `/api/v1/definitions/${key}/publish`, {
      source: waitingProcess(key, 'PT3S'),
    });
    const started = await app.http<{ id: string; definition: { version: number } }>(
      'POST',
      '/api/v1/cases',
      {
        token: residentToken,
        headers: { 'idempotency-key': idempotencyKey() },
        body: {
          definitionKey: key,
          data: {
            category: '噪声',
            description: '夜间施工',
            contactEmail: uniqueAddress('snapshot'),
          },
        },
      },
    );

    // Act
    const v2 = await asAdmin('POST', `/api/v1/definitions/${key}/publish`, {
      source: waitingProcess(key, 'PT1S').replace('name: 等待测试', 'name: 等待测试二'),
    });
    await asAdmin('POST', `/api/v1/definitions/${key}/retire`);

    // Assert
    expect(started.status).toBe(201);
    expect(v2.body).toMatchObject({ version: 2 });
    const closed = await waitFor('the case to close', async () => {
      const res = await app.http<{ status: string; definition: { version: number } }>(
        'GET',
        `/api/v1/cases/${started.body.id}`,
        { token: app.adminKey },
      );
      return res.body.status === 'closed' ? res.body : undefined;
    });
    expect(closed.definition.version).toBe(1);
  });
});

describe('sub-process steps without data', () => {
  const parent = (key: string, child: string) => `
key: ${key}
name: 无数据转办
starters: [admin]
input: { fields: [] }
steps:
  - { id: spawn, name: 转办子流程, type: subprocess, definition: ${child} }
  - { id: closed, name: 办结, type: end }
`;
  const child = `
key: nodata-child
name: 无数据子流程
starters: [admin]
input: { fields: [] }
steps:
  - { id: done, name: 完成, type: end }
`;

  async function runToClose(key: string) {
    const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
      token: app.adminKey,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { definitionKey: key, data: {} },
    });
    expect(started.status).toBe(201);
    return waitFor(`case of ${key} to close`, async () => {
      const doc = await app.db.models.Case.findById(started.body.id, { status: 1 }).lean();
      return doc?.status === 'closed' || doc?.status === 'failed' ? doc.status : undefined;
    });
  }

  it('when a process with a sub-process step without data is published and run, then its stored spec keeps the empty data and the case closes; a version stored without it runs too', async () => {
    // Arrange: the child, a parent published now, and one whose stored spec lost `data` (as
    // versions stored before the schema kept empty objects did)
    expect(
      (await asAdmin('POST', '/api/v1/definitions/nodata-child/publish', { source: child })).status,
    ).toBe(201);
    const fresh = await asAdmin('POST', '/api/v1/definitions/nodata-parent/publish', {
      source: parent('nodata-parent', 'nodata-child'),
    });
    const legacy = await asAdmin('POST', '/api/v1/definitions/nodata-legacy/publish', {
      source: parent('nodata-legacy', 'nodata-child'),
    });
    await app.db.models.Definition.updateOne(
      { _id: 'nodata-legacy@1' },
      { $unset: { 'spec.steps.0.data': 1 } },
    );

    // Act
    const stored = await app.db.models.Definition.findById('nodata-parent@1').lean();
    const legacyStored = await app.db.models.Definition.findById('nodata-legacy@1').lean();
    const freshStatus = await runToClose('nodata-parent');
    const legacyStatus = await runToClose('nodata-legacy');

    // Assert
    expect([fresh.status, legacy.status]).toEqual([201, 201]);
    const steps = (spec: unknown) => (spec as { steps: Array<Record<string, unknown>> }).steps;
    expect(steps(stored!.spec)[0]!.data).toEqual({});
    expect(steps(legacyStored!.spec)[0]).not.toHaveProperty('data');
    expect(freshStatus).toBe('closed');
    expect(legacyStatus).toBe('closed');
  });
});

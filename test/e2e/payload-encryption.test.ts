import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import type { TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, uniqueAddress, waitFor } from '../support/harness';
import { testStack } from '../support/test-stack';

/**
 * Temporal history is written encrypted: a case's personal fields never reach Temporal in plain
 * text, while the API, whose client holds the key, shows the case as usual. And the Temporal UI's
 * codec endpoint decrypts for admins only.
 */
const PERSONAL_INTAKE = `
key: personal-intake
name: 个人信息登记
starters: [resident, dispatcher, admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
    - { name: description, label: 内容, type: text, required: true }
    - { name: residentName, label: 姓名, type: string, personal: true }
    - { name: contactPhone, label: 电话, type: phone, personal: true }
    - { name: address, label: 地址, type: string, personal: true }
    - { name: contactEmail, label: 邮箱, type: email, personal: true }
steps:
  - { id: acknowledge, name: 受理回执, type: notify, template: case-received, to: { field: contactEmail } }
  - { id: registered, name: 已登记, type: end, status: closed }
`;

interface CaseBody {
  id: string;
  status: string;
  data: Record<string, unknown>;
}
interface WirePayload {
  metadata: Record<string, string>;
  data?: string;
}

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp('payload-encryption');
  await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
    source: PERSONAL_INTAKE,
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
});

afterAll(async () => {
  await app?.stop();
});

/** The history as Temporal stores and serves it: its protobuf bytes, read as text. */
function rawText(history: temporal.api.history.v1.IHistory): string {
  return Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('utf8');
}

async function startPersonalCase(data: Record<string, string>): Promise<CaseBody> {
  const started = await app.http<CaseBody>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: 'personal-intake', data },
  });
  expect(started.status).toBe(201);
  return waitFor('the case to close', async () => {
    const res = await app.http<CaseBody>('GET', `/api/v1/cases/${started.body.id}`, {
      token: app.adminKey,
    });
    return res.status === 200 && res.body.status === 'closed' ? res.body : undefined;
  });
}

it('when a case with personal fields has run, then its raw Temporal history holds none of them in plain text, and the API shows them', async () => {
  // Arrange
  const personal = {
    residentName: '欧阳娜娜',
    contactPhone: '13912345678',
    address: '幸福小区7号楼2单元301室',
    contactEmail: uniqueAddress('encrypted-resident'),
  };

  // Act
  const shown = await startPersonalCase({ category: '其他', description: '登记', ...personal });
  const connection = await Connection.connect({ address: app.config.TEMPORAL_ADDRESS });
  let history: temporal.api.history.v1.IHistory;
  try {
    // A client without the codec sees what Temporal stores (and what its UI shows by default).
    const plainClient = new Client({ connection, namespace: app.config.TEMPORAL_NAMESPACE });
    history = await plainClient.workflow.getHandle(shown.id).fetchHistory();
  } finally {
    await connection.close();
  }

  // Assert
  expect(shown.data).toEqual(expect.objectContaining(personal));
  const raw = rawText(history);
  expect(history.events?.length).toBeGreaterThan(5);
  expect(raw).toContain('binary/encrypted');
  for (const value of Object.values(personal)) {
    expect(raw).not.toContain(value);
  }
  // The search works on raw bytes: the same values in a plain payload are found.
  const plain = temporal.api.history.v1.History.encode({
    events: [
      {
        workflowExecutionStartedEventAttributes: {
          input: { payloads: [defaultPayloadConverter.toPayload(personal)] },
        },
      },
    ],
  }).finish();
  expect(Buffer.from(plain).toString('utf8')).toContain(personal.residentName);
});

it('when a case fails, then the failures in its raw history carry no message or stack in plain text, and the API still names the reason', async () => {
  // Arrange: a process whose sub-process was never published fails at its first step
  const missingChild = `no-such-child-${idempotencyKey().slice(0, 8)}`;
  await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
    source: `
key: failing-spawn
name: 转办
starters: [admin]
input: { fields: [] }
steps:
  - { id: spawn, name: 转办子流程, type: subprocess, definition: ${missingChild}, data: { origin: case.id } }
  - { id: closed, name: 办结, type: end }
`,
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  const started = await app.http<CaseBody>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: 'failing-spawn', data: {} },
  });
  expect(started.status).toBe(201);

  // Act
  const connection = await Connection.connect({ address: app.config.TEMPORAL_ADDRESS });
  let history: temporal.api.history.v1.IHistory;
  try {
    const plainClient = new Client({ connection, namespace: app.config.TEMPORAL_NAMESPACE });
    const handle = plainClient.workflow.getHandle(started.body.id);
    // (describe would decode the encrypted memo: this client has no key, so read the history)
    history = await waitFor('the run to fail', async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      return events.at(-1)?.workflowExecutionFailedEventAttributes ? { events } : undefined;
    });
  } finally {
    await connection.close();
  }
  const failed = await app.http<{ items: Array<{ id: string; reason: string }> }>(
    'GET',
    '/api/v1/admin/cases/failed',
    { token: app.adminKey },
  );

  // Assert: every failure is encoded (the activity's and the run's), none readable in the bytes
  const failures = (history.events ?? []).flatMap((e) => [
    ...(e.activityTaskFailedEventAttributes?.failure
      ? [e.activityTaskFailedEventAttributes.failure]
      : []),
    ...(e.workflowExecutionFailedEventAttributes?.failure
      ? [e.workflowExecutionFailedEventAttributes.failure]
      : []),
  ]);
  expect(failures.length).toBeGreaterThanOrEqual(2);
  for (const failure of failures) {
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace ?? '').toBe('');
    expect(failure.encodedAttributes?.metadata?.encoding?.toString()).toBe('binary/encrypted');
  }
  const raw = rawText(history);
  expect(raw).not.toContain(`"${missingChild}"`);
  expect(raw).not.toContain('at async');
  expect(failed.body.items.find((c) => c.id === started.body.id)).toMatchObject({
    reason: 'DefinitionNotFound',
  });
});

describe('the codec endpoint for the Temporal UI', () => {
  async function encryptedInputOf(caseId: string): Promise<WirePayload[]> {
    const connection = await Connection.connect({ address: app.config.TEMPORAL_ADDRESS });
    try {
      const history = await new Client({
        connection,
        namespace: app.config.TEMPORAL_NAMESPACE,
      }).workflow
        .getHandle(caseId)
        .fetchHistory();
      const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input;
      return (input?.payloads ?? []).map((p) => ({
        metadata: Object.fromEntries(
          Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
        ),
        data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
      }));
    } finally {
      await connection.close();
    }
  }

  it('when an admin posts the encrypted input of a case, then it comes back decrypted', async () => {
    // Arrange
    const kase = await startPersonalCase({
      category: '其他',
      description: '解码',
      residentName: '司马光',
      contactEmail: uniqueAddress('codec'),
    });
    const payloads = await encryptedInputOf(kase.id);

    // Act
    const res = await app.http<{ payloads: WirePayload[] }>('POST', '/codec/decode', {
      token: app.adminKey,
      body: { payloads },
    });

    // Assert
    expect(res.status).toBe(200);
    const [decoded] = res.body.payloads;
    expect(Buffer.from(decoded!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(Buffer.from(decoded!.data!, 'base64').toString()).toContain('司马光');
  });

  it('when an admin encodes a payload and decodes the result, then it round-trips, encrypted between', async () => {
    // Arrange
    const plain = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from(JSON.stringify({ name: '王五' })).toString('base64'),
    };

    // Act
    const encoded = await app.http<{ payloads: WirePayload[] }>('POST', '/codec/encode', {
      token: app.adminKey,
      body: { payloads: [plain] },
    });
    const decoded = await app.http<{ payloads: WirePayload[] }>('POST', '/codec/decode', {
      token: app.adminKey,
      body: encoded.body,
    });

    // Assert
    expect(encoded.status).toBe(200);
    expect(Buffer.from(encoded.body.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(
      'binary/encrypted',
    );
    expect(decoded.status).toBe(200);
    expect(decoded.body.payloads).toEqual([plain]);
  });

  it('when a dispatcher asks to decode, then 403; without credentials, 401', async () => {
    // Arrange
    const dispatcher = await app.signIn('codec-dispatcher', ['dispatcher'], []);
    const body = { payloads: [] };

    // Act
    const forbidden = await app.http('POST', '/codec/decode', { token: dispatcher, body });
    const anonymous = await app.http('POST', '/codec/decode', { body });

    // Assert
    expect(forbidden.status).toBe(403);
    expect(anonymous.status).toBe(401);
  });

  it('when an admin’s console session cookie is sent instead of a header, then it decodes (the Temporal UI sends cookies)', async () => {
    // Arrange
    const adminSession = await app.signIn('codec-admin', ['admin'], []);

    // Act
    const res = await app.http('POST', '/codec/decode', {
      headers: { cookie: `gf_session=${adminSession}` },
      body: { payloads: [] },
    });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ payloads: [] });
  });

  it('when a payload names an unknown key id or is altered, then 422 naming the key id', async () => {
    // Arrange
    const [encrypted] = (
      await app.http<{ payloads: WirePayload[] }>('POST', '/codec/encode', {
        token: app.adminKey,
        body: { payloads: [{ metadata: {}, data: Buffer.from('x').toString('base64') }] },
      })
    ).body.payloads;
    const unknown = {
      ...encrypted!,
      metadata: {
        ...encrypted!.metadata,
        'encryption-key-id': Buffer.from('retired-2020').toString('base64'),
      },
    };

    // Act
    const res = await app.http<{ error: { message: string } }>('POST', '/codec/decode', {
      token: app.adminKey,
      body: { payloads: [unknown] },
    });

    // Assert
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain('key id "retired-2020"');
  });

  it('when the Temporal UI’s origin sends a preflight, then only a configured origin is allowed, with credentials', async () => {
    // Arrange
    const uiOrigin = 'http://127.0.0.1:8233';
    const corsApp = await startTestApp('codec-cors', {
      worker: false,
      config: {
        ...app.config,
        API_PORT: 0,
        TEMPORAL_CODEC_CORS_ORIGINS: [uiOrigin],
      },
    });
    try {
      const preflight = (origin: string) =>
        corsApp.http('OPTIONS', '/codec/decode', {
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type,x-namespace',
          },
        });

      // Act
      const allowed = await preflight(uiOrigin);
      const other = await preflight('https://evil.example');

      // Assert
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(uiOrigin);
      expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
      expect(allowed.headers.get('access-control-allow-headers')).toContain('X-Namespace');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await corsApp.stop();
    }
  });
});

it('when the test stack runs, then its codec key lives in its data folder and is the one the app uses', () => {
  // Assert
  expect(testStack().env.TEMPORAL_CODEC_KEYS).toMatch(
    /^local-\d{4}-\d{2}-\d{2}:[A-Za-z0-9+/]{43}=$/,
  );
  expect(app.config.TEMPORAL_CODEC_KEYS?.[0]?.id).toMatch(/^local-/);
});

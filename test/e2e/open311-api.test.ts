import { Client, Connection } from '@temporalio/client';
import { dataConverterFor } from '../../common/payload-codec';
import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import type { Open311Kind } from '../support/open311-schemas';
import { open311Problems } from '../support/open311-schemas';
import type { HttpResponse, TestApp } from '../support/harness';
import { idempotencyKey, startTestApp, waitFor } from '../support/harness';

/**
 * Open311 GeoReport v2 beside the native API, on the real stack. Every Open311 response body is
 * checked against the Open311 v2 JSON Schemas (test/fixtures/open311) by {@link open311}.
 */

/** A street's service desk: categories, standard parameters by convention, attributes. */
const STREET_DESK = `
key: street-desk
name: 街道服务台
description: 居民反映的市容和设施问题
categories:
  - { code: waste-sorting, name: 垃圾分类, keywords: [垃圾, 分类], group: 市容环境 }
  - { code: street-light, name: 路灯损坏, description: 路灯不亮或闪烁 }
open311: true
starters: [resident, system, dispatcher]
input:
  fields:
    - { name: description, label: 问题描述, type: text, required: true }
    - { name: address, label: 地址, type: string, personal: true }
    - { name: lat, label: 纬度, type: number, personal: true }
    - { name: long, label: 经度, type: number, personal: true }
    - { name: contactEmail, label: 联系邮箱, type: email, personal: true }
    - { name: contactName, label: 联系人, type: string, personal: true }
    - { name: contactPhone, label: 联系电话, type: phone, personal: true }
    - { name: floor, label: 楼层, type: integer, min: 1, max: 40, required: true }
    - { name: urgent, label: 是否紧急, type: boolean }
    - { name: wishes, label: 希望的处理方式, type: string, options: [上门查看, 电话回复, 短信告知], multiple: true }
deadlines:
  - { id: finish, name: 办结时限, within: P10D }
steps:
  - { id: wait, name: 等待处理, type: timer, duration: P30D }
  - { id: closed, name: 办结, type: end }
`;

/** No categories, no location fields: closes at once. */
const QUICK_NOTE = `
key: quick-note
name: 随手记
open311: true
starters: [resident, system]
input:
  fields:
    - { name: description, label: 内容, type: text, required: true }
steps:
  - { id: closed, name: 办结, type: end }
`;

/** Offered, but systems may not file it. */
const STAFF_ONLY = `
key: staff-only
name: 内部登记
open311: true
starters: [staff]
input:
  fields:
    - { name: description, label: 内容, type: text }
steps:
  - { id: closed, name: 办结, type: end }
`;

/** Not offered through Open311. */
const INTERNAL = `
key: internal-only
name: 内部流程
starters: [system]
input:
  fields:
    - { name: description, label: 内容, type: text }
steps:
  - { id: closed, name: 办结, type: end }
`;

interface Open311Error {
  code: number;
  description: string;
}
interface Open311Request {
  service_request_id: string;
  status: string;
  status_notes: string | null;
  service_name: string | null;
  service_code: string;
  description: string | null;
  agency_responsible: string | null;
  requested_datetime: string;
  updated_datetime: string | null;
  expected_datetime: string | null;
  address: string | null;
  address_id: string | null;
  lat: number | null;
  long: number | null;
}
interface CaseBody {
  id: string;
  status: string;
  category: string | null;
  unitId: string | null;
  channel: string;
  data: Record<string, unknown>;
  projected: boolean;
}

let app: TestApp;
let bridgeKey: string;
let otherKey: string;
let residentToken: string;
let dispatcherToken: string;

const EMAIL = 'zhang.san@example.cn';
const PHONE = '13800138000';

/** The schema a successful Open311 response answers with, by method and path. */
function kindOf(method: string, path: string): Open311Kind {
  const bare = path.split('?')[0]!;
  if (bare.endsWith('/services.json')) return 'services';
  if (bare.includes('/services/')) return 'serviceDefinition';
  return method === 'POST' ? 'created' : 'requests';
}

/**
 * One Open311 call; its body is checked against the Open311 v2 schema for what it answers (the
 * error array for every error status) before the test looks at it.
 */
async function open311<T = unknown>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: {
    form?: Record<string, string | string[]>;
    json?: unknown;
    token?: string;
    headers?: Record<string, string>;
    rawBody?: string;
  } = {},
): Promise<HttpResponse<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let rawBody = options.rawBody;
  if (options.form) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(options.form)) {
      for (const one of [value].flat()) params.append(name, one);
    }
    rawBody = params.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
  }
  const res = await app.http<T>(method, `/open311/v2${path}`, {
    ...(options.token ? { token: options.token } : {}),
    ...(options.json !== undefined ? { body: options.json } : {}),
    ...(rawBody !== undefined ? { rawBody } : {}),
    headers,
  });
  const kind = res.status >= 400 ? 'errors' : kindOf(method, path);
  expect({ kind, problems: open311Problems(kind, res.body) }).toEqual({ kind, problems: [] });
  expect(res.headers.get('content-type')).toMatch(/^application\/json; charset=utf-8/);
  return res;
}

/** A street-desk request as a form, as GeoReport v2 clients send it. */
function streetLightForm(extra: Record<string, string | string[]> = {}) {
  return {
    api_key: bridgeKey,
    service_code: 'street-desk.street-light',
    lat: '39.9042',
    long: '116.4074',
    address_string: '幸福小区3号楼东侧',
    address_id: 'c1',
    email: EMAIL,
    first_name: '三',
    last_name: '张',
    phone: PHONE,
    description: '3号楼门口路灯不亮，晚上很黑',
    'attribute[floor]': '1',
    'attribute[urgent]': 'true',
    'attribute[wishes][]': ['上门查看', '电话回复'],
    ...extra,
  };
}

function withoutApiKey(form: Record<string, string | string[]>) {
  return Object.fromEntries(Object.entries(form).filter(([name]) => name !== 'api_key'));
}

async function file(form: Record<string, string | string[]>): Promise<string> {
  const res = await open311<Array<{ service_request_id: string }>>('POST', '/requests.json', {
    form,
  });
  expect(res.status).toBe(200);
  return res.body[0]!.service_request_id;
}

/** Waits until the workflow has written the case document. */
async function projected(id: string): Promise<CaseBody> {
  return waitFor(`case ${id} to be projected`, async () => {
    const res = await app.http<CaseBody>('GET', `/api/v1/cases/${id}`, { token: app.adminKey });
    return res.status === 200 && res.body.projected ? res.body : undefined;
  });
}

/** An error response as `<code> <description>` lines. */
function descriptions(res: HttpResponse<Open311Error[]>): string[] {
  return res.body.map((e) => `${e.code} ${e.description}`);
}

beforeAll(async () => {
  app = await startTestApp('open311-api');
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  for (const source of [STREET_DESK, QUICK_NOTE, STAFF_ONLY, INTERNAL]) {
    await definitions.publish({
      source,
      format: 'yaml',
      publishedBy: { kind: 'system', id: 'test' },
    });
  }
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 's1', name: '东街道', type: 'street', parentId: null },
        { id: 'c1', name: '东社区', type: 'community', parentId: 's1' },
        { id: 'c2', name: '西社区', type: 'community', parentId: 's1' },
      ],
    },
  });
  expect(imported.status).toBe(200);
  const newKey = async (name: string) =>
    (
      await app.http<{ key: string }>('POST', '/api/v1/api-keys', {
        token: app.adminKey,
        body: { name, roles: ['system'] },
      })
    ).body.key;
  bridgeKey = await newKey('12345 bridge');
  otherKey = await newKey('another system');
  residentToken = await app.signIn('resident-open311', ['resident']);
  dispatcherToken = await app.signIn('dispatcher-c1', ['dispatcher'], ['c1']);
});

afterAll(async () => {
  await app?.stop();
});

describe('GET services', () => {
  it('when anyone asks for the services, then each category of each offered process is one service', async () => {
    // Act
    const res = await open311<Array<{ service_code: string; service_name: string }>>(
      'GET',
      '/services.json',
    );

    // Assert
    expect(res.status).toBe(200);
    const codes = res.body.map((s) => s.service_code);
    expect(codes).toEqual(
      expect.arrayContaining([
        'quick-note',
        'resident-request',
        'staff-only',
        'street-desk.waste-sorting',
        'street-desk.street-light',
      ]),
    );
    expect(codes).not.toContain('internal-only');
    expect(codes).not.toContain('street-desk');
    expect(res.body).toContainEqual({
      service_code: 'street-desk.waste-sorting',
      service_name: '垃圾分类',
      description: '居民反映的市容和设施问题',
      metadata: true,
      type: 'realtime',
      keywords: '垃圾,分类',
      group: '市容环境',
    });
  });

  it('when a service definition is asked for, then its attributes are the fields no standard parameter fills', async () => {
    // Act
    const res = await open311<{
      service_code: string;
      attributes: Array<{ code: string; datatype: string; required: boolean; order: number }>;
    }>('GET', '/services/street-desk.street-light.json');

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.service_code).toBe('street-desk.street-light');
    expect(res.body.attributes.map((a) => [a.order, a.code, a.datatype, a.required])).toEqual([
      [1, 'floor', 'number', true],
      [2, 'urgent', 'singlevaluelist', false],
      [3, 'wishes', 'multivaluelist', false],
    ]);
  });

  it('when a service code names nothing offered, then 404 in Open311 errors', async () => {
    // Act
    const unknown = await open311<Open311Error[]>('GET', '/services/no-such-thing.json');
    const keyOfCategorised = await open311<Open311Error[]>('GET', '/services/street-desk.json');
    const notOffered = await open311<Open311Error[]>('GET', '/services/internal-only.json');

    // Assert
    for (const res of [unknown, keyOfCategorised, notOffered]) expect(res.status).toBe(404);
    expect(descriptions(unknown)).toEqual([
      '404 service_code: no service "no-such-thing"; GET services.json lists them',
    ]);
  });

  it('when XML or an unknown Open311 path is asked for, then a clear Open311 error (400, 404)', async () => {
    // Act
    const xml = await open311<Open311Error[]>('GET', '/services.xml');
    const xmlPost = await open311<Open311Error[]>('POST', '/requests.xml', {
      form: streetLightForm(),
    });
    const unknown = await open311<Open311Error[]>('GET', '/tokens/123.json');

    // Assert
    expect(xml.status).toBe(400);
    expect(xml.body[0]!.description).toContain('XML is not supported');
    expect(xmlPost.status).toBe(400);
    expect(unknown.status).toBe(404);
  });
});

describe('POST requests', () => {
  it('when a system files a form with its api_key, then a case starts with the mapped data, unit and category', async () => {
    // Act
    const res = await open311<Array<{ service_request_id: string }>>('POST', '/requests.json', {
      form: streetLightForm(),
    });

    // Assert
    expect(res.status).toBe(200);
    const id = res.body[0]!.service_request_id;
    expect(id).toMatch(/^case-[0-9a-f]{24}$/);
    expect(res.headers.get('location')).toBe(`/open311/v2/requests/${id}.json`);
    const stored = await projected(id);
    expect(stored).toMatchObject({
      category: 'street-light',
      unitId: 'c1',
      channel: 'open311',
      data: {
        description: '3号楼门口路灯不亮，晚上很黑',
        address: '幸福小区3号楼东侧',
        lat: 39.9042,
        long: 116.4074,
        contactEmail: EMAIL,
        contactName: '张三',
        contactPhone: PHONE,
        floor: 1,
        urgent: true,
        wishes: ['上门查看', '电话回复'],
      },
    });
  });

  it('when a request is sent as JSON with the key in the Authorization header, then it is filed too', async () => {
    // Act
    const res = await open311<Array<{ service_request_id: string }>>('POST', '/requests.json', {
      token: bridgeKey,
      json: {
        service_code: 'street-desk.waste-sorting',
        address_string: '幸福小区垃圾站',
        description: '垃圾未分类',
        attribute: { floor: 2, urgent: false },
      },
    });

    // Assert
    expect(res.status).toBe(200);
    const stored = await projected(res.body[0]!.service_request_id);
    expect(stored).toMatchObject({
      category: 'waste-sorting',
      unitId: null,
      data: { address: '幸福小区垃圾站', description: '垃圾未分类', floor: 2, urgent: false },
    });
  });

  it('when the process has no field for a parameter, then the value is not stored', async () => {
    // Act
    const id = await file({
      api_key: bridgeKey,
      service_code: 'quick-note',
      address_string: '幸福小区',
      email: EMAIL,
      phone: PHONE,
      first_name: '三',
      last_name: '张',
      description: '随手记一笔',
    });

    // Assert
    const stored = await projected(id);
    expect(stored.data).toEqual({ description: '随手记一笔' });
  });

  it('when no key, a wrong key or a session token as api_key is sent, then 403 as GeoReport v2 says', async () => {
    // Arrange
    const withoutKey = withoutApiKey(streetLightForm());

    // Act
    const none = await open311<Open311Error[]>('POST', '/requests.json', { form: withoutKey });
    const wrong = await open311<Open311Error[]>('POST', '/requests.json', {
      form: { ...withoutKey, api_key: 'gfk_000000000000_notarealsecretatallxx' },
    });
    const session = await open311<Open311Error[]>('POST', '/requests.json', {
      form: { ...withoutKey, api_key: residentToken },
    });

    // Assert
    expect([none.status, wrong.status, session.status]).toEqual([403, 403, 403]);
    expect(descriptions(none)).toEqual([
      '403 Missing credentials: send an api_key parameter or "Authorization: Bearer <API key>"',
    ]);
    expect(descriptions(session)).toEqual(['403 api_key takes an API key, not a session token']);
  });

  it('when a resident files with a session in the Authorization header, then the case is theirs', async () => {
    // Arrange
    const form = withoutApiKey(streetLightForm());

    // Act
    const res = await open311<Array<{ service_request_id: string }>>('POST', '/requests.json', {
      token: residentToken,
      form,
    });

    // Assert
    expect(res.status).toBe(200);
    const mine = await app.http<CaseBody>(
      'GET',
      `/api/v1/cases/${res.body[0]!.service_request_id}`,
      { token: residentToken },
    );
    expect(mine.status).toBe(200);
  });

  it('when the key may not start the process, then 403 and no case', async () => {
    // Act
    const res = await open311<Open311Error[]>('POST', '/requests.json', {
      form: { api_key: bridgeKey, service_code: 'staff-only', address_string: '某处' },
    });

    // Assert
    expect(res.status).toBe(403);
    expect(await app.db.models.Case.countDocuments({ definitionKey: 'staff-only' })).toBe(0);
  });

  it('when the request has several problems, then 400 with one Open311 error per problem, named as sent', async () => {
    // Act
    const res = await open311<Open311Error[]>('POST', '/requests.json', {
      form: {
        api_key: bridgeKey,
        service_code: 'street-desk.street-light',
        lat: '39.9',
        address_id: 'no-such-unit',
        'attribute[floor]': 'third',
        'attribute[colour]': 'red',
      },
    });
    const shape = await open311<Open311Error[]>('POST', '/requests.json', {
      form: { api_key: bridgeKey, lat: '91', colour: 'red', media_url: 'ftp://x' },
    });
    const missing = await open311<Open311Error[]>('POST', '/requests.json', {
      form: { api_key: bridgeKey, service_code: 'street-desk.street-light', address_id: 'c1' },
    });

    // Assert
    expect(res.status).toBe(400);
    expect(descriptions(res)).toEqual([
      '400 long: required with the other coordinate',
      '400 address_id: not a unit of the org tree',
      '400 attribute[floor]: must be a whole number',
      '400 attribute[colour]: this service has no attribute "colour"',
    ]);
    expect(shape.status).toBe(400);
    expect(descriptions(shape)).toEqual(
      expect.arrayContaining([
        '400 service_code: required: a service_code from services.json',
        expect.stringMatching(/^400 lat: /) as unknown,
        expect.stringMatching(/^400 media_url: /) as unknown,
        '400 colour: unknown parameter',
      ]),
    );
    // Required fields the case service checks are named by the parameter that fills them.
    expect(missing.status).toBe(400);
    expect(descriptions(missing)).toEqual([
      '400 description: required',
      '400 attribute[floor]: required',
    ]);
  });

  it('when attributes are named after members every object has, then each is refused as unknown, none is dropped', async () => {
    // Act
    const res = await open311<Open311Error[]>('POST', '/requests.json', {
      form: {
        api_key: bridgeKey,
        service_code: 'street-desk.street-light',
        address_id: 'c1',
        description: '路灯不亮',
        'attribute[floor]': '3',
        'attribute[constructor]': 'x',
        'attribute[__proto__]': 'y',
      },
    });

    // Assert
    expect(res.status).toBe(400);
    expect(descriptions(res)).toEqual([
      '400 attribute[constructor]: this service has no attribute "constructor"',
      '400 attribute[__proto__]: this service has no attribute "__proto__"',
    ]);
  });

  it('when no location is sent or the service code is unknown, then 400 and 404', async () => {
    // Act
    const noLocation = await open311<Open311Error[]>('POST', '/requests.json', {
      form: { api_key: bridgeKey, service_code: 'quick-note', description: '没有位置' },
    });
    const unknown = await open311<Open311Error[]>('POST', '/requests.json', {
      form: { api_key: bridgeKey, service_code: 'street-desk.pothole', address_string: '某处' },
    });

    // Assert
    expect(noLocation.status).toBe(400);
    expect(descriptions(noLocation)).toEqual([
      '400 location: required: lat and long, address_string or address_id',
    ]);
    expect(unknown.status).toBe(404);
  });

  it('when a body is neither a form nor JSON, then 415', async () => {
    // Act
    const res = await open311<Open311Error[]>('POST', `/requests.json?api_key=${bridgeKey}`, {
      rawBody: '<service_request/>',
      headers: { 'content-type': 'text/xml' },
    });

    // Assert
    expect(res.status).toBe(415);
  });

  it('when an Idempotency-Key is sent again, then the same request answers; with another body, 400', async () => {
    // Arrange
    const key = idempotencyKey();
    const form = streetLightForm({ description: '重复提交测试' });

    // Act
    const first = await open311<Array<{ service_request_id: string }>>('POST', '/requests.json', {
      form,
      headers: { 'idempotency-key': key },
    });
    const again = await open311<Array<{ service_request_id: string }>>('POST', '/requests.json', {
      form,
      headers: { 'idempotency-key': key },
    });
    const other = await open311<Open311Error[]>('POST', '/requests.json', {
      form: { ...form, description: '另一件事' },
      headers: { 'idempotency-key': key },
    });
    const without = await file(form);

    // Assert
    expect([first.status, again.status, other.status]).toEqual([200, 200, 400]);
    expect(again.body[0]!.service_request_id).toBe(first.body[0]!.service_request_id);
    expect(descriptions(other)).toEqual([
      '400 idempotency-key header: reused with a different body',
    ]);
    expect(without).not.toBe(first.body[0]!.service_request_id);
  });

  it('when a request is filed, then no personal data reaches the workflow id, memo or search attributes', async () => {
    // Arrange
    const id = await file(streetLightForm({ description: '隐私检查' }));
    const connection = await Connection.connect({ address: app.config.TEMPORAL_ADDRESS });

    try {
      // Act
      const description = await new Client({
        connection,
        namespace: app.config.TEMPORAL_NAMESPACE,
        dataConverter: dataConverterFor(app.config.TEMPORAL_CODEC_KEYS),
      }).workflow
        .getHandle(id)
        .describe();

      // Assert
      const visible = JSON.stringify({
        id: description.workflowId,
        memo: description.memo,
        searchAttributes: description.searchAttributes,
      });
      for (const personal of [EMAIL, PHONE, '张三', '幸福小区3号楼东侧', '39.9042', '隐私检查']) {
        expect(visible).not.toContain(personal);
      }
      expect(visible).toContain('street-light');
    } finally {
      await connection.close();
    }
  });
});

describe('GET requests', () => {
  let lightId: string;
  let noteId: string;

  beforeAll(async () => {
    lightId = await file(streetLightForm({ description: '列表测试：路灯' }));
    noteId = await file({
      api_key: otherKey,
      service_code: 'quick-note',
      address_string: '西社区',
      description: '列表测试：随手记',
    });
    await projected(lightId);
    await waitFor(
      'the quick note to close',
      async () => (await projected(noteId)).status === 'closed',
    );
    // A case of a process Open311 does not offer never shows there.
    const internal = await app.http<{ id: string }>('POST', '/api/v1/cases', {
      token: bridgeKey,
      headers: { 'idempotency-key': idempotencyKey() },
      body: { definitionKey: 'internal-only', data: { description: '内部' } },
    });
    await projected(internal.body.id);
  });

  it('when one request is asked for, then it is a list of one with status, notes, agency and deadline', async () => {
    // Act: the case deadline is planned by the workflow, so wait for it to be written
    const res = await waitFor('the case deadline', async () => {
      const found = await open311<Open311Request[]>('GET', `/requests/${lightId}.json`, {
        token: bridgeKey,
      });
      return found.body[0]?.expected_datetime ? found : undefined;
    });

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1);
    const [request] = res.body;
    expect(request).toMatchObject({
      service_request_id: lightId,
      status: 'open',
      service_name: '路灯损坏',
      service_code: 'street-desk.street-light',
      description: '列表测试：路灯',
      agency_responsible: '东社区',
      address: '幸福小区3号楼东侧',
      address_id: 'c1',
      lat: 39.9042,
      long: 116.4074,
    });
    expect(request!.status_notes).toEqual(expect.any(String));
    expect(request!.expected_datetime).not.toBeNull();
    expect(Date.parse(request!.expected_datetime!)).toBeGreaterThan(
      Date.parse(request!.requested_datetime),
    );
  });

  it('when nobody signed in lists requests, then personal data is masked and contact details never appear', async () => {
    // Act
    const res = await open311<Open311Request[]>('GET', '/requests.json');

    // Assert
    expect(res.status).toBe(200);
    const light = res.body.find((r) => r.service_request_id === lightId);
    expect(light).toMatchObject({
      description: '列表测试：路灯',
      address: '幸福***',
      lat: null,
      long: null,
    });
    const text = JSON.stringify(res.body);
    for (const personal of [EMAIL, PHONE, '张三', '幸福小区3号楼东侧', '116.4074']) {
      expect(text).not.toContain(personal);
    }
    expect(res.body.map((r) => r.service_code)).not.toContain('internal-only');
  });

  it('when a description holds phone and identity numbers, then anonymous readers see them masked and the filer in full', async () => {
    // Arrange
    const description =
      '路灯不亮，联系 138-1234-5678 或座机 010-12345678，身份证 11010519900307123X';
    const id = await file(streetLightForm({ description }));
    await projected(id);

    // Act
    const list = await open311<Open311Request[]>('GET', `/requests.json?service_request_id=${id}`);
    const one = await open311<Open311Request[]>('GET', `/requests/${id}.json`);
    const filer = await open311<Open311Request[]>(
      'GET',
      `/requests/${id}.json?api_key=${bridgeKey}`,
    );

    // Assert
    const masked = '路灯不亮，联系 138****5678 或座机 010****5678，身份证 110***********123X';
    expect(list.body.map((r) => r.description)).toEqual([masked]);
    expect(one.body[0]!.description).toBe(masked);
    expect(filer.body[0]!.description).toBe(description);
  });

  it('when another system or a dispatcher of another unit lists, then the case is masked; its filer and its unit see it in full', async () => {
    // Arrange
    const path = `/requests/${lightId}.json`;
    const westDispatcher = await app.signIn('dispatcher-c2', ['dispatcher'], ['c2']);

    // Act
    const other = await open311<Open311Request[]>('GET', `${path}?api_key=${otherKey}`);
    const west = await open311<Open311Request[]>('GET', path, { token: westDispatcher });
    const filer = await open311<Open311Request[]>('GET', `${path}?api_key=${bridgeKey}`);
    const east = await open311<Open311Request[]>('GET', path, { token: dispatcherToken });

    // Assert
    expect(other.body[0]!.address).toBe('幸福***');
    expect(west.body[0]!.address).toBe('幸福***');
    expect(filer.body[0]!.address).toBe('幸福小区3号楼东侧');
    expect(east.body[0]!.address).toBe('幸福小区3号楼东侧');
  });

  it('when requests are filtered by service, status, dates or ids, then only those answer, newest first', async () => {
    // Act
    const byService = await open311<Open311Request[]>(
      'GET',
      '/requests.json?service_code=quick-note',
    );
    const closed = await open311<Open311Request[]>('GET', '/requests.json?status=closed');
    const open = await open311<Open311Request[]>('GET', '/requests.json?status=open&status=closed');
    const byIds = await open311<Open311Request[]>(
      'GET',
      `/requests.json?service_request_id=${lightId},${noteId}&status=closed`,
    );
    const future = await open311<Open311Request[]>(
      'GET',
      `/requests.json?start_date=${new Date(Date.now() + 3_600_000).toISOString()}`,
    );
    const past = await open311<Open311Request[]>(
      'GET',
      '/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-12-31T00:00:00%2B08:00',
    );

    // Assert
    expect(byService.body.map((r) => r.service_code)).toEqual(
      byService.body.map(() => 'quick-note'),
    );
    expect(byService.body.map((r) => r.service_request_id)).toContain(noteId);
    expect(closed.body.every((r) => r.status === 'closed')).toBe(true);
    expect(closed.body.map((r) => r.service_request_id)).toContain(noteId);
    const times = open.body.map((r) => r.requested_datetime);
    expect(times).toEqual([...times].sort().reverse());
    expect(byIds.body.map((r) => r.service_request_id).sort()).toEqual([lightId, noteId].sort());
    expect(future.body).toEqual([]);
    expect(past.body).toEqual([]);
    const note = closed.body.find((r) => r.service_request_id === noteId)!;
    expect(note.status_notes).toBe('已办结：办结');
    expect(note.updated_datetime).not.toBeNull();
  });

  it('when requests are paged, then pages follow each other and page_size is capped at 1000', async () => {
    // Act
    const first = await open311<Open311Request[]>('GET', '/requests.json?page_size=1');
    const second = await open311<Open311Request[]>('GET', '/requests.json?page_size=1&page=2');
    const all = await open311<Open311Request[]>('GET', '/requests.json?page_size=1000');
    const tooMany = await open311<Open311Error[]>('GET', '/requests.json?page_size=1001');
    const badDate = await open311<Open311Error[]>('GET', '/requests.json?start_date=yesterday');
    const badStatus = await open311<Open311Error[]>('GET', '/requests.json?status=pending');
    const unknownService = await open311<Open311Error[]>('GET', '/requests.json?service_code=nope');

    // Assert
    expect(first.body).toHaveLength(1);
    expect(second.body).toHaveLength(1);
    expect(second.body[0]!.service_request_id).not.toBe(first.body[0]!.service_request_id);
    expect(all.body.slice(0, 2).map((r) => r.service_request_id)).toEqual(
      [...first.body, ...second.body].map((r) => r.service_request_id),
    );
    expect([tooMany.status, badDate.status, badStatus.status]).toEqual([400, 400, 400]);
    expect(tooMany.body[0]!.description).toMatch(/^page_size: /);
    expect(unknownService.status).toBe(404);
  });

  it('when a request does not exist, is malformed or belongs to a process not offered, then 404', async () => {
    // Arrange
    const internal = await app.db.models.Case.findOne({ definitionKey: 'internal-only' }).lean();

    // Act
    const missing = await open311<Open311Error[]>(
      'GET',
      '/requests/case-000000000000000000000000.json',
      {
        token: bridgeKey,
      },
    );
    const malformed = await open311<Open311Error[]>('GET', '/requests/12345.json');
    const hidden = await open311<Open311Error[]>('GET', `/requests/${internal!._id}.json`, {
      token: bridgeKey,
    });

    // Assert
    expect([missing.status, malformed.status, hidden.status]).toEqual([404, 404, 404]);
  });
});

describe('categories in the native API', () => {
  async function start(body: Record<string, unknown>) {
    return app.http<{ id: string; category: string | null; error?: { details: unknown[] } }>(
      'POST',
      '/api/v1/cases',
      { token: bridgeKey, headers: { 'idempotency-key': idempotencyKey() }, body },
    );
  }
  const data = { description: '原生接口', floor: 3 };

  it('when a process has categories, then a case needs one of its codes, named body.category otherwise', async () => {
    // Act
    const missing = await start({ definitionKey: 'street-desk', data });
    const unknown = await start({ definitionKey: 'street-desk', data, category: 'pothole' });
    const none = await start({
      definitionKey: 'quick-note',
      data: { description: 'x' },
      category: 'other',
    });
    const good = await start({ definitionKey: 'street-desk', data, category: 'waste-sorting' });

    // Assert
    expect([missing.status, unknown.status, none.status, good.status]).toEqual([
      422, 422, 422, 201,
    ]);
    expect(missing.body.error?.details).toEqual([
      { path: 'body.category', message: 'required: one of waste-sorting, street-light' },
    ]);
    expect(unknown.body.error?.details).toEqual([
      { path: 'body.category', message: 'must be one of: waste-sorting, street-light' },
    ]);
    expect(none.body.error?.details).toEqual([
      { path: 'body.category', message: 'this process has no categories' },
    ]);
    expect(good.body.category).toBe('waste-sorting');
    expect((await projected(good.body.id)).category).toBe('waste-sorting');
  });

  it('when the case list is filtered by category, then only cases of that category answer', async () => {
    // Arrange
    const light = await start({ definitionKey: 'street-desk', data, category: 'street-light' });
    await projected(light.body.id);

    // Act
    const res = await app.http<{ items: Array<{ id: string; category: string | null }> }>(
      'GET',
      '/api/v1/cases?category=street-light&pageSize=100',
      { token: app.adminKey },
    );

    // Assert
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
    expect(res.body.items.every((c) => c.category === 'street-light')).toBe(true);
    expect(res.body.items.map((c) => c.id)).toContain(light.body.id);
  });
});

import type { DefinitionSpec, FieldSpec } from '../../lang/definition';
import { validateDefinitionSource } from '../../lang/source';
import {
  attributesOf,
  attributeValue,
  caseDataOf,
  categoryOfService,
  contactName,
  datatypeOf,
  parameterFields,
  parseServiceCode,
  serviceDefinitionOf,
  servicesOf,
} from '../../services/open311-mapping';
import type { CaseForOpen311 } from '../../services/open311-requests';
import { requestOf, statusNotesOf } from '../../services/open311-requests';
import { createMailRenderer } from '../../mail/renderer';
import { open311Problems } from '../support/open311-schemas';

const options = { knownTemplates: createMailRenderer().templateNames };

function spec(yaml: string): DefinitionSpec {
  const result = validateDefinitionSource(yaml, 'yaml', options);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.spec;
}

/** A street's service desk: three categories, standard parameters by convention, attributes. */
const SERVICE_DESK = spec(`
key: street-desk
name: 街道服务台
description: 居民反映的市容和设施问题
categories:
  - { code: waste-sorting, name: 垃圾分类, keywords: [垃圾, 分类], group: 市容环境 }
  - { code: street-light, name: 路灯损坏, description: 路灯不亮或闪烁 }
  - { code: other, name: 其他 }
open311: true
starters: [resident, system]
input:
  fields:
    - { name: description, label: 问题描述, type: text, required: true }
    - { name: address, label: 地址, type: string, personal: true }
    - { name: lat, label: 纬度, type: number }
    - { name: long, label: 经度, type: number }
    - { name: contactEmail, label: 联系邮箱, type: email, personal: true }
    - { name: contactName, label: 联系人, type: string, personal: true }
    - { name: floor, label: 楼层, type: integer, min: 1, max: 40, required: true }
    - { name: urgent, label: 是否紧急, type: boolean }
    - { name: severity, label: 严重程度, type: string, options: [一般, 严重] }
    - { name: seenAt, label: 发现日期, type: date }
    - { name: note, label: 补充说明, type: text, maxLength: 500 }
steps:
  - { id: serve, name: 网格员办理, type: task, candidates: [{ role: grid-worker, unit: case }] }
  - { id: closed, name: 办结, type: end }
`);

/** No categories, no conventional fields: every field is an attribute. */
const PLAIN = spec(`
key: plain-request
name: 简单诉求
open311: true
starters: [system]
input:
  fields:
    - { name: summary, label: 概要, type: string, required: true }
steps:
  - { id: closed, name: 办结, type: end }
`);

function caseOf(overrides: Partial<CaseForOpen311> = {}): CaseForOpen311 {
  return {
    id: 'case-0123456789abcdef01234567',
    status: 'open',
    definitionKey: 'street-desk',
    category: 'street-light',
    unitId: 'community-01',
    data: {
      description: '3号楼门口路灯不亮',
      address: '幸福小区3号楼',
      lat: 39.9042,
      long: 116.4074,
      contactEmail: 'zhang@example.cn',
      contactName: '张三',
      floor: 1,
    },
    createdAt: new Date('2025-10-09T01:00:00Z'),
    updatedAt: new Date('2025-10-09T02:00:00Z'),
    closedAt: null,
    deadlines: [],
    lastEntry: { type: 'task.claimed', stepId: 'serve' },
    ...overrides,
  };
}

describe('services', () => {
  it('when a process has categories, then it offers one service per category, coded <key>.<code>', () => {
    // Act
    const services = servicesOf(SERVICE_DESK);

    // Assert
    expect(services.map((s) => s.service_code)).toEqual([
      'street-desk.waste-sorting',
      'street-desk.street-light',
      'street-desk.other',
    ]);
    expect(services[0]).toEqual({
      service_code: 'street-desk.waste-sorting',
      service_name: '垃圾分类',
      description: '居民反映的市容和设施问题',
      metadata: true,
      type: 'realtime',
      keywords: '垃圾,分类',
      group: '市容环境',
    });
    expect(services[1]).toMatchObject({ description: '路灯不亮或闪烁', group: '街道服务台' });
    expect(services[2]).toMatchObject({ keywords: null });
    expect(open311Problems('services', services)).toEqual([]);
  });

  it('when a process has no categories, then its key is its one service code', () => {
    // Act
    const services = servicesOf(PLAIN);

    // Assert
    expect(services).toEqual([
      {
        service_code: 'plain-request',
        service_name: '简单诉求',
        description: null,
        metadata: true,
        type: 'realtime',
        keywords: null,
        group: null,
      },
    ]);
    expect(open311Problems('services', services)).toEqual([]);
  });

  it('when a service code is parsed, then it names the process and the category of that process only', () => {
    // Act
    const withCategory = parseServiceCode('street-desk.street-light');
    const keyOnly = parseServiceCode('plain-request');

    // Assert
    expect(withCategory).toEqual({ definitionKey: 'street-desk', category: 'street-light' });
    expect(keyOnly).toEqual({ definitionKey: 'plain-request' });
    expect(categoryOfService(SERVICE_DESK, 'street-light')?.name).toBe('路灯损坏');
    expect(categoryOfService(SERVICE_DESK, 'pothole')).toBeUndefined();
    expect(categoryOfService(SERVICE_DESK, undefined)).toBeUndefined();
    expect(categoryOfService(PLAIN, undefined)).toBeNull();
    expect(categoryOfService(PLAIN, 'other')).toBeUndefined();
  });
});

describe('service definitions: input fields as attributes', () => {
  it('when the standard parameters fill their conventional fields, then only the other fields are attributes, in order', () => {
    // Act
    const attributes = attributesOf(SERVICE_DESK);

    // Assert
    expect(attributes.map((a) => [a.order, a.code, a.datatype, a.required])).toEqual([
      [1, 'floor', 'number', true],
      [2, 'urgent', 'singlevaluelist', false],
      [3, 'severity', 'singlevaluelist', false],
      [4, 'seenAt', 'datetime', false],
      [5, 'note', 'text', false],
    ]);
    expect(attributes[0]).toEqual({
      variable: true,
      code: 'floor',
      datatype: 'number',
      required: true,
      datatype_description: '整数，1–40',
      order: 1,
      description: '楼层',
    });
    expect(attributes[1]!.values).toEqual([
      { key: 'true', name: '是' },
      { key: 'false', name: '否' },
    ]);
    expect(attributes[2]!.values).toEqual([
      { key: '一般', name: '一般' },
      { key: '严重', name: '严重' },
    ]);
    expect(attributes[4]!.datatype_description).toBe('最多 500 字');
    const definition = serviceDefinitionOf(SERVICE_DESK, 'street-desk.other');
    expect(open311Problems('serviceDefinition', definition)).toEqual([]);
  });

  it.each([
    [{ type: 'string' }, 'string'],
    [{ type: 'text' }, 'text'],
    [{ type: 'integer' }, 'number'],
    [{ type: 'number' }, 'number'],
    [{ type: 'boolean' }, 'singlevaluelist'],
    [{ type: 'email' }, 'string'],
    [{ type: 'phone' }, 'string'],
    [{ type: 'date' }, 'datetime'],
    [{ type: 'datetime' }, 'datetime'],
    [{ type: 'unit' }, 'string'],
    [{ type: 'string', options: ['a', 'b'] }, 'singlevaluelist'],
    [{ type: 'string', options: ['a', 'b'], multiple: true }, 'multivaluelist'],
    [{ type: 'unit', multiple: true }, 'string'],
  ] as const)('when a field is %j, then its Open311 datatype is %s', (field, datatype) => {
    // Arrange
    const spec = {
      name: 'f',
      label: 'F',
      required: false,
      personal: false,
      multiple: false,
      ...field,
    };

    // Act
    const mapped = datatypeOf(spec as never);

    // Assert
    expect(mapped).toBe(datatype);
  });

  it('when open311.fields names other fields, then those take the parameters and the conventional ones become attributes', () => {
    // Arrange
    const renamed = spec(`
key: renamed
name: 改名字段
open311: { fields: { description: details, address_string: location, phone: mobile } }
starters: [system]
input:
  fields:
    - { name: details, label: 详情, type: text }
    - { name: location, label: 位置, type: string }
    - { name: mobile, label: 手机, type: phone }
    - { name: description, label: 另一个描述, type: text }
    - { name: lat, label: 纬度（文本）, type: string }
steps:
  - { id: closed, name: 办结, type: end }
`);

    // Act
    const fields = parameterFields(renamed);
    const attributes = attributesOf(renamed).map((a) => a.code);

    // Assert
    expect(Object.fromEntries(Object.entries(fields).map(([p, f]) => [p, f.name]))).toEqual({
      description: 'details',
      address_string: 'location',
      phone: 'mobile',
    });
    // `lat` is text, not a number: it is not a coordinate, so it stays an attribute.
    expect(attributes).toEqual(['description', 'lat']);
  });
});

describe('submissions into case data', () => {
  it('when a form is submitted, then standard parameters fill their fields and attributes are converted to their types', () => {
    // Arrange
    const submission = {
      description: '路灯不亮',
      address_string: '幸福小区3号楼',
      lat: 39.9,
      long: 116.4,
      email: 'zhang@example.cn',
      first_name: '三',
      last_name: '张',
      phone: '13800138000',
      media_url: 'https://example.cn/photo.jpg',
      attributes: {
        floor: '12',
        urgent: 'true',
        severity: '严重',
        seenAt: '2025-10-09T20:30:00+08:00',
        note: '',
      },
    };

    // Act
    const result = caseDataOf(SERVICE_DESK, submission);

    // Assert
    expect(result).toEqual({
      ok: true,
      data: {
        description: '路灯不亮',
        address: '幸福小区3号楼',
        lat: 39.9,
        long: 116.4,
        contactEmail: 'zhang@example.cn',
        contactName: '张三',
        floor: 12,
        urgent: true,
        severity: '严重',
        seenAt: '2025-10-09',
      },
      sources: expect.objectContaining({
        description: 'description',
        address: 'address_string',
        contactName: 'first_name',
        floor: 'attribute[floor]',
      }) as unknown,
    });
  });

  it('when the process has no field for a parameter, then its value is not stored (no personal data it did not ask for)', () => {
    // Arrange
    const submission = {
      email: 'someone@example.cn',
      phone: '13800138000',
      description: '概要写在描述里',
      attributes: { summary: '路面破损' },
    };

    // Act
    const result = caseDataOf(PLAIN, submission);

    // Assert
    expect(result).toEqual({
      ok: true,
      data: { summary: '路面破损' },
      sources: { summary: 'attribute[summary]' },
    });
  });

  it('when attributes are unknown, filled by a standard parameter or of the wrong type, then each is named as sent', () => {
    // Arrange
    const submission = {
      attributes: {
        colour: 'red',
        description: 'sent as an attribute',
        floor: 'third',
        urgent: 'maybe',
        seenAt: 'yesterday',
        severity: ['一般', '严重'],
      },
    };

    // Act
    const result = caseDataOf(SERVICE_DESK, submission);

    // Assert
    expect(result).toEqual({
      ok: false,
      problems: [
        { parameter: 'attribute[colour]', message: 'this service has no attribute "colour"' },
        {
          parameter: 'attribute[description]',
          message: '"description" is filled from a standard parameter, not an attribute',
        },
        { parameter: 'attribute[floor]', message: 'must be a whole number' },
        { parameter: 'attribute[urgent]', message: 'must be true or false' },
        {
          parameter: 'attribute[seenAt]',
          message: 'must be a date (2025-10-09) or an ISO 8601 date-time',
        },
        { parameter: 'attribute[severity]', message: 'takes one value' },
      ],
    });
  });

  it('when a multiple field gets repeated values, then they become a list, and none gives no value', () => {
    // Arrange
    const field: FieldSpec = {
      name: 'wishes',
      label: '心愿',
      type: 'string',
      options: ['助餐', '助浴', '陪诊'],
      multiple: true,
      required: false,
      personal: false,
    };

    // Act
    const several = attributeValue(field, ['助餐', '陪诊']);
    const one = attributeValue(field, '助浴');
    const none = attributeValue(field, ['', '']);

    // Assert
    expect(several).toEqual({ ok: true, value: ['助餐', '陪诊'] });
    expect(one).toEqual({ ok: true, value: ['助浴'] });
    expect(none).toEqual({ ok: true, value: undefined });
  });

  it.each([
    ['三', '张', '张三'],
    ['三丰', '欧阳', '欧阳三丰'],
    ['John', 'Smith', 'John Smith'],
    [undefined, '王', '王'],
    ['Ann', undefined, 'Ann'],
    [undefined, undefined, undefined],
  ])('when first_name is %s and last_name %s, then the contact name is %s', (first, last, name) => {
    // Act
    const joined = contactName(first, last);

    // Assert
    expect(joined).toBe(name);
  });
});

describe('cases as Open311 requests', () => {
  it('when the caller may see the case, then the request shows its data, unit name and category', () => {
    // Arrange
    const doc = caseOf({
      data: { ...caseOf().data, mediaUrl: 'https://example.cn/a.jpg' },
      deadlines: [
        {
          key: 'case/finish',
          name: '办结',
          dueAt: '2025-10-12T09:00:00.000Z',
          paused: false,
          missed: false,
          stopped: false,
          escalationLevel: 0,
        },
        {
          key: 'case/early',
          name: '已停',
          dueAt: '2025-10-10T09:00:00.000Z',
          paused: false,
          missed: false,
          stopped: true,
          escalationLevel: 0,
        },
        {
          key: 'serve.1/claim',
          name: '签收',
          dueAt: '2025-10-09T09:00:00.000Z',
          paused: false,
          missed: false,
          stopped: false,
          escalationLevel: 0,
        },
      ],
    });

    // Act
    const request = requestOf(doc, SERVICE_DESK, { visible: true, agency: '幸福社区' });

    // Assert
    expect(request).toEqual({
      service_request_id: 'case-0123456789abcdef01234567',
      status: 'open',
      status_notes: '已签收：网格员办理',
      service_name: '路灯损坏',
      service_code: 'street-desk.street-light',
      description: '3号楼门口路灯不亮',
      agency_responsible: '幸福社区',
      service_notice: null,
      requested_datetime: '2025-10-09T01:00:00.000Z',
      updated_datetime: '2025-10-09T02:00:00.000Z',
      expected_datetime: '2025-10-12T09:00:00.000Z',
      address: '幸福小区3号楼',
      address_id: 'community-01',
      zipcode: null,
      lat: 39.9042,
      long: 116.4074,
      media_url: null, // mediaUrl is no input field of this process
    });
    expect(JSON.stringify(request)).not.toContain('zhang@example.cn');
    expect(open311Problems('requests', [request])).toEqual([]);
  });

  it('when the caller may not see the case, then personal text is masked and personal coordinates left out', () => {
    // Arrange
    const personalCoordinates = spec(`
key: home-visit
name: 上门服务
open311: true
starters: [system]
input:
  fields:
    - { name: description, label: 描述, type: text, personal: true }
    - { name: address, label: 地址, type: string, personal: true }
    - { name: lat, label: 纬度, type: number, personal: true }
    - { name: long, label: 经度, type: number, personal: true }
steps:
  - { id: closed, name: 办结, type: end }
`);
    const doc = caseOf({ definitionKey: 'home-visit', category: null });

    // Act
    const request = requestOf(doc, personalCoordinates, { visible: false, agency: null });
    const notPersonal = requestOf(caseOf(), SERVICE_DESK, { visible: false, agency: null });

    // Assert
    expect(request).toMatchObject({
      service_code: 'home-visit',
      service_name: '上门服务',
      description: '3号***',
      address: '幸福***',
      lat: null,
      long: null,
    });
    // Fields the process does not mark personal are shown as they are.
    expect(notPersonal).toMatchObject({
      description: '3号楼门口路灯不亮',
      address: '幸福***',
      lat: 39.9042,
    });
    expect(open311Problems('requests', [request, notPersonal])).toEqual([]);
  });

  it('when a case has ended, then it is closed, updated when it closed, and its notes say how it ended', () => {
    // Arrange
    const closedAt = new Date('2025-10-10T03:00:00Z');
    const rejected = caseOf({
      status: 'rejected',
      closedAt,
      updatedAt: new Date('2025-10-10T03:00:01Z'),
      lastEntry: { type: 'case.closed', stepId: 'closed', detail: { status: 'rejected' } },
    });

    // Act
    const request = requestOf(rejected, SERVICE_DESK, { visible: true, agency: null });

    // Assert
    expect(request).toMatchObject({
      status: 'closed',
      updated_datetime: '2025-10-10T03:00:00.000Z',
      status_notes: '不予受理：办结',
    });
    expect(statusNotesOf({ type: 'case.closed', detail: { status: 'closed' } }, SERVICE_DESK)).toBe(
      '已办结',
    );
    expect(statusNotesOf(null, SERVICE_DESK)).toBeNull();
  });

  it('when a description is longer than Open311 allows or a media link is not http(s), then they are cut and left out', () => {
    // Arrange
    const withMedia = spec(`
key: with-media
name: 带图片
open311: true
starters: [system]
input:
  fields:
    - { name: description, label: 描述, type: text, maxLength: 6000 }
    - { name: mediaUrl, label: 图片链接, type: string, maxLength: 2000 }
steps:
  - { id: closed, name: 办结, type: end }
`);
    const long = caseOf({
      definitionKey: 'with-media',
      category: null,
      data: { description: '长'.repeat(4500), mediaUrl: 'javascript:alert(1)' },
    });
    const linked = caseOf({
      definitionKey: 'with-media',
      category: null,
      data: { mediaUrl: 'https://example.cn/a.jpg' },
    });

    // Act
    const cut = requestOf(long, withMedia, { visible: true, agency: null });
    const shown = requestOf(linked, withMedia, { visible: true, agency: null });

    // Assert
    expect([...cut.description!]).toHaveLength(4000);
    expect(cut.media_url).toBeNull();
    expect(shown.media_url).toBe('https://example.cn/a.jpg');
    expect(open311Problems('requests', [cut, shown])).toEqual([]);
  });
});

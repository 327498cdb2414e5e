import type { CategorySpec, DefinitionSpec, FieldSpec, Open311Parameter } from '../lang/definition';
import { OPEN311_PARAMETERS } from '../lang/definition';

/**
 * Open311 GeoReport v2 over the definition language, as pure functions: which services a process
 * offers (one per category, `<key>.<code>`, or the key alone), the attributes of a service (its
 * input fields that no standard parameter fills), a submission turned into case data, and a case
 * shown as an Open311 request (open311-requests.ts), personal data masked for callers who may not
 * see the case. The Open311 service (services/open311.ts) adds storage and authorisation.
 */

export type Open311Datatype =
  'string' | 'number' | 'datetime' | 'text' | 'singlevaluelist' | 'multivaluelist';

export interface Open311Service {
  service_code: string;
  service_name: string;
  description: string | null;
  metadata: boolean;
  type: 'realtime';
  keywords: string | null;
  group: string | null;
}

export interface Open311Attribute {
  variable: boolean;
  code: string;
  datatype: Open311Datatype;
  required: boolean;
  datatype_description: string | null;
  order: number;
  description: string;
  values?: Array<{ key: string; name: string }>;
}

export interface Open311ServiceDefinition {
  service_code: string;
  attributes: Open311Attribute[];
}

/** Whether a process is offered through Open311 (`open311: true` or `open311: { … }`). */
export function isOffered(spec: DefinitionSpec): boolean {
  return spec.open311 !== undefined && spec.open311 !== false;
}

/** `<definition key>.<category code>`, or the key alone for a process without categories. */
export function serviceCodeOf(definitionKey: string, category?: string | null): string {
  return category ? `${definitionKey}.${category}` : definitionKey;
}

/** The two halves of a service code; neither a key nor a category code contains a `.`. */
export function parseServiceCode(code: string): { definitionKey: string; category?: string } {
  const dot = code.indexOf('.');
  return dot < 0
    ? { definitionKey: code }
    : { definitionKey: code.slice(0, dot), category: code.slice(dot + 1) };
}

/**
 * The category a service code names in a process, `null` for the key alone on a process without
 * categories, `undefined` when the code names nothing the process offers.
 */
export function categoryOfService(
  spec: DefinitionSpec,
  category: string | undefined,
): CategorySpec | null | undefined {
  if (spec.categories === undefined) return category === undefined ? null : undefined;
  return category === undefined ? undefined : spec.categories.find((c) => c.code === category);
}

/** The services a process offers: one per category, or one for the whole process. */
export function servicesOf(spec: DefinitionSpec): Open311Service[] {
  const metadata = attributesOf(spec).length > 0;
  if (spec.categories === undefined) {
    return [
      {
        service_code: spec.key,
        service_name: spec.name,
        description: spec.description ?? null,
        metadata,
        type: 'realtime',
        keywords: null,
        group: null,
      },
    ];
  }
  return spec.categories.map((category) => ({
    service_code: serviceCodeOf(spec.key, category.code),
    service_name: category.name,
    description: category.description ?? spec.description ?? null,
    metadata,
    type: 'realtime',
    keywords: category.keywords?.length ? category.keywords.join(',') : null,
    // A process's categories are grouped under it unless they name their own group.
    group: category.group ?? spec.name,
  }));
}

/**
 * The input field each standard parameter fills: the one `open311.fields` names, else the
 * conventional name (OPEN311_PARAMETERS) when the process has such a field of a suitable type
 * and no other parameter was given it. Parameters without a field are not stored.
 */
export function parameterFields(
  spec: DefinitionSpec,
): Partial<Record<Open311Parameter, FieldSpec>> {
  const explicit = typeof spec.open311 === 'object' ? (spec.open311.fields ?? {}) : {};
  const byName = new Map(spec.input.fields.map((f) => [f.name, f]));
  const taken = new Set(Object.values(explicit).filter((n) => n !== undefined));
  const result: Partial<Record<Open311Parameter, FieldSpec>> = {};
  for (const [parameter, rule] of Object.entries(OPEN311_PARAMETERS) as Array<
    [Open311Parameter, (typeof OPEN311_PARAMETERS)[Open311Parameter]]
  >) {
    const named = explicit[parameter];
    const field = byName.get(named ?? rule.field);
    if (!field || field.multiple || !(rule.types as readonly string[]).includes(field.type)) {
      continue;
    }
    if (named === undefined && taken.has(field.name)) continue;
    result[parameter] = field;
  }
  return result;
}

/** The input fields a client fills as `attribute[code]`: those no standard parameter fills. */
export function attributeFields(spec: DefinitionSpec): FieldSpec[] {
  const filled = new Set(Object.values(parameterFields(spec)).map((f) => f.name));
  return spec.input.fields.filter((f) => !filled.has(f.name));
}

export function attributesOf(spec: DefinitionSpec): Open311Attribute[] {
  return attributeFields(spec).map((field, i) => {
    const values = valuesOf(field);
    return {
      variable: true,
      code: field.name,
      datatype: datatypeOf(field),
      required: field.required,
      datatype_description: datatypeDescription(field),
      order: i + 1,
      description: field.label,
      ...(values ? { values } : {}),
    };
  });
}

export function serviceDefinitionOf(
  spec: DefinitionSpec,
  serviceCode: string,
): Open311ServiceDefinition {
  return { service_code: serviceCode, attributes: attributesOf(spec) };
}

/**
 * The Open311 datatype of a field: lists for options and yes/no (several values of a `multiple`
 * field with options: multivaluelist), otherwise by type. A `multiple` field without options has
 * its values' datatype; clients repeat the parameter (`attribute[code][]=a&attribute[code][]=b`).
 */
export function datatypeOf(field: FieldSpec): Open311Datatype {
  if (field.options) return field.multiple ? 'multivaluelist' : 'singlevaluelist';
  if (field.type === 'boolean') return 'singlevaluelist';
  switch (field.type) {
    case 'text':
      return 'text';
    case 'integer':
    case 'number':
      return 'number';
    case 'date':
    case 'datetime':
      return 'datetime';
    default:
      return 'string';
  }
}

function valuesOf(field: FieldSpec): Array<{ key: string; name: string }> | undefined {
  if (field.options) return field.options.map((option) => ({ key: option, name: option }));
  if (field.type === 'boolean') {
    return [
      { key: 'true', name: '是' },
      { key: 'false', name: '否' },
    ];
  }
  return undefined;
}

/** What to type, in the words the form shows (zh-CN), or null when the datatype says it all. */
function datatypeDescription(field: FieldSpec): string | null {
  const single = singleDatatypeDescription(field);
  if (!field.multiple || field.options) return single;
  return `可填多个${single ? `（每个：${single}）` : ''}`;
}

function singleDatatypeDescription(field: FieldSpec): string | null {
  const range = (unit: string) =>
    field.min !== undefined && field.max !== undefined
      ? `${unit}，${field.min}–${field.max}`
      : field.min !== undefined
        ? `${unit}，不小于 ${field.min}`
        : field.max !== undefined
          ? `${unit}，不大于 ${field.max}`
          : unit;
  switch (field.type) {
    case 'integer':
      return range('整数');
    case 'number':
      return range('数字');
    case 'date':
      return '日期，如 2025-10-09（只取日期部分）';
    case 'datetime':
      return '日期时间，带时区，如 2026-05-01T09:30:00+08:00';
    case 'unit':
      return '组织单位编号';
    case 'person':
      return '人员编号';
    case 'photo':
      return '照片编号（先上传照片）';
    case 'email':
      return '电子邮箱地址';
    case 'phone':
      return '电话号码，如 13800138000';
    case 'string':
    case 'text':
      return field.options
        ? null
        : `最多 ${field.maxLength ?? (field.type === 'text' ? 5000 : 200)} 字`;
    case 'boolean':
      return null;
  }
}

/** An attribute value as a form (`attribute[code]=v`, `attribute[code][]=v`) or JSON sends it. */
export type AttributeValue = string | number | boolean | Array<string | number | boolean>;

/** The standard parameters of a POST, already checked for shape (lengths, ranges, a URL). */
export interface Open311Submission {
  lat?: number;
  long?: number;
  address_string?: string;
  email?: string;
  phone?: string;
  first_name?: string;
  last_name?: string;
  description?: string;
  media_url?: string;
  attributes: Record<string, AttributeValue>;
}

/** A problem with a submission, named by the Open311 parameter it came from. */
export interface SubmissionProblem {
  parameter: string;
  message: string;
}

/**
 * Case data from a submission: each standard parameter into the field it fills (values without a
 * field are dropped, so the process stores no personal data it did not ask for), each attribute
 * converted to its field's type. `sources` names the parameter each data field came from, so a
 * problem found later (`data.description`) can be reported as the client sent it.
 */
export function caseDataOf(
  spec: DefinitionSpec,
  submission: Open311Submission,
):
  | { ok: true; data: Record<string, unknown>; sources: Record<string, string> }
  | { ok: false; problems: SubmissionProblem[] } {
  const data: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  const problems: SubmissionProblem[] = [];
  const fields = parameterFields(spec);
  const name = contactName(submission.first_name, submission.last_name);
  const standard: Record<Open311Parameter, { value: unknown; parameter: string }> = {
    description: { value: submission.description, parameter: 'description' },
    address_string: { value: submission.address_string, parameter: 'address_string' },
    lat: { value: submission.lat, parameter: 'lat' },
    long: { value: submission.long, parameter: 'long' },
    email: { value: submission.email, parameter: 'email' },
    phone: { value: submission.phone, parameter: 'phone' },
    name: { value: name, parameter: submission.first_name ? 'first_name' : 'last_name' },
    media_url: { value: submission.media_url, parameter: 'media_url' },
  };
  for (const [parameter, field] of Object.entries(fields) as Array<[Open311Parameter, FieldSpec]>) {
    const given = standard[parameter];
    sources[field.name] = given.parameter;
    if (given.value !== undefined) data[field.name] = given.value;
  }
  const attributes = new Map(attributeFields(spec).map((f) => [f.name, f]));
  for (const field of attributes.values()) sources[field.name] = `attribute[${field.name}]`;
  for (const [code, raw] of Object.entries(submission.attributes)) {
    const parameter = `attribute[${code}]`;
    const field = attributes.get(code);
    if (!field) {
      problems.push({
        parameter,
        message: Object.values(fields).some((f) => f.name === code)
          ? `"${code}" is filled from a standard parameter, not an attribute`
          : `this service has no attribute "${code}"`,
      });
      continue;
    }
    const converted = attributeValue(field, raw);
    if (converted.ok) {
      if (converted.value !== undefined) data[field.name] = converted.value;
    } else {
      problems.push({ parameter, message: converted.message });
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, data, sources };
}

/**
 * One attribute value in its field's type. Forms send text, so numbers and yes/no are parsed; an
 * empty value counts as not sent (GeoReport v2: an empty optional parameter is no parameter).
 */
export function attributeValue(
  field: FieldSpec,
  raw: AttributeValue,
): { ok: true; value: unknown } | { ok: false; message: string } {
  const values = (Array.isArray(raw) ? raw : [raw]).filter((v) => v !== '');
  if (field.multiple) {
    const converted: unknown[] = [];
    for (const value of values) {
      const one = singleValue(field, value);
      if (!one.ok) return one;
      if (one.value !== undefined) converted.push(one.value);
    }
    return { ok: true, value: converted.length > 0 ? converted : undefined };
  }
  if (values.length > 1) return { ok: false, message: 'takes one value' };
  return values.length === 0 ? { ok: true, value: undefined } : singleValue(field, values[0]!);
}

function singleValue(
  field: FieldSpec,
  raw: string | number | boolean,
): { ok: true; value: unknown } | { ok: false; message: string } {
  switch (field.type) {
    case 'integer':
    case 'number': {
      if (typeof raw === 'string' && raw.trim() === '') return { ok: true, value: undefined };
      const value =
        typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
      return Number.isFinite(value)
        ? { ok: true, value }
        : {
            ok: false,
            message: field.type === 'integer' ? 'must be a whole number' : 'must be a number',
          };
    }
    case 'boolean':
      if (raw === true || raw === 'true') return { ok: true, value: true };
      if (raw === false || raw === 'false') return { ok: true, value: false };
      return { ok: false, message: 'must be true or false' };
    case 'date': {
      // Open311's datetime: a date, or an ISO 8601 date-time whose date part is taken as written.
      const match =
        typeof raw === 'string' ? /^(\d{4}-\d{2}-\d{2})(?:T.*)?$/.exec(raw.trim()) : null;
      return match
        ? { ok: true, value: match[1] }
        : { ok: false, message: 'must be a date (2025-10-09) or an ISO 8601 date-time' };
    }
    default:
      // Text, e-mail, phone, date-time, unit id: the case data check says what is wrong.
      if (typeof raw === 'boolean') return { ok: false, message: 'must be text' };
      return { ok: true, value: typeof raw === 'string' ? raw.trim() : String(raw) };
  }
}

/**
 * A person's name from Open311's first and last name: family name first without a space when
 * either part is Chinese (张 + 三 → 张三), given name first otherwise (John Smith).
 */
export function contactName(
  first: string | undefined,
  last: string | undefined,
): string | undefined {
  const parts = [first?.trim() ?? '', last?.trim() ?? ''];
  if (!parts[0] && !parts[1]) return undefined;
  return /[\u3400-\u9fff]/.test(parts.join(''))
    ? `${parts[1]}${parts[0]}`
    : parts.filter(Boolean).join(' ');
}

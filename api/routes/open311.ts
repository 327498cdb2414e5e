import type { Router } from 'express';
import { z } from 'zod';
import type { AttributeValue } from '../../services/open311-mapping';
import { AppError } from '../../services/errors';
import type { ErrorResponse, RouteRegistry } from '../pipeline';
import { logOf, requestIdOf, sendError } from '../pipeline';
import type { CreateRequestInput, Open311Api } from '../../services/open311';
import { caseId, idempotencyKey } from './shared';

/**
 * Open311 GeoReport v2 (JSON) under /open311/v2: services, service definitions, and requests
 * (create, list, get). The API key is an `api_key` parameter as the standard says, or the
 * Authorization header. Errors are GeoReport v2's `[{ code, description }]`, with its statuses:
 * 404 for what does not exist, 403 for a missing or wrong api_key, 400 for the rest.
 */

export const OPEN311_BASE = '/open311/v2';

// GeoReport v2: "Optional" means an empty parameter is the same as none.
const empty = (value: unknown) => (value === '' ? undefined : value);
const optionalText = (max: number) => z.preprocess(empty, z.string().trim().max(max).optional());
const coordinate = (limit: number) =>
  z.preprocess(empty, z.coerce.number().min(-limit).max(limit).optional());
const singleValue = z.union([z.string().max(5000), z.number(), z.boolean()]);
const attributeValue = z.union([singleValue, z.array(singleValue).max(1000)]);
/** `attribute[code]`, or `attribute[code][]` for one of several values of a multivaluelist. */
const ATTRIBUTE_KEY = /^attribute\[([^[\]]+)\](\[\])?$/;

const standardParameters = {
  api_key: z
    .string()
    .optional()
    .meta({ description: 'Your API key (or send it as a bearer token)' }),
  jurisdiction_id: optionalText(200).meta({ description: 'Ignored: one jurisdiction here' }),
  service_code: z.preprocess(
    empty,
    z
      .string({ error: 'required: a service_code from services.json' })
      .max(130)
      .meta({ description: '`<process key>.<category code>`, or the process key' }),
  ),
  lat: coordinate(90).meta({ description: 'WGS-84 latitude; with long' }),
  long: coordinate(180).meta({ description: 'WGS-84 longitude; with lat' }),
  address_string: optionalText(500),
  address_id: z
    .preprocess(
      empty,
      z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id')
        .optional(),
    )
    .meta({ description: 'A unit of the org tree: the case is filed for it' }),
  email: z.preprocess(empty, z.email().max(254).optional()),
  device_id: optionalText(200).meta({ description: 'Ignored' }),
  account_id: optionalText(200).meta({ description: 'Ignored' }),
  first_name: optionalText(100),
  last_name: optionalText(100),
  phone: optionalText(40),
  description: optionalText(4000),
  media_url: z.preprocess(
    empty,
    z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional(),
  ),
  attribute: z
    .record(z.string().max(64), attributeValue)
    .optional()
    .meta({ description: 'JSON bodies may send attributes as one object, `{ code: value }`' }),
};

const createBody = z
  .object(standardParameters)
  .catchall(attributeValue)
  .superRefine(
    (body, ctx) => {
      for (const key of Object.keys(body)) {
        if (!(key in standardParameters) && !ATTRIBUTE_KEY.test(key)) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'unknown parameter' });
        }
      }
    },
    // Named along with every other problem, not only once the rest is valid.
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  )
  .meta({
    description:
      'Form fields as GeoReport v2 names them; attributes as `attribute[code]=value` (`attribute[code][]=value` repeated for a multivaluelist).',
  });
type CreateBody = z.infer<typeof createBody>;

/** A comma list, declared once or repeated (`status=open,closed` or `status=open&status=closed`). */
const commaList = <T extends z.ZodType>(item: T, max: number) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value, ctx) => {
      const items = (Array.isArray(value) ? value : value === undefined ? [] : [value])
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (items.length > max) ctx.addIssue({ code: 'custom', message: `at most ${max} values` });
      const parsed: Array<z.output<T>> = [];
      for (const text of items) {
        const one = item.safeParse(text);
        if (one.success) parsed.push(one.data);
        else
          ctx.addIssue({ code: 'custom', message: `"${text}": ${one.error.issues[0]?.message}` });
      }
      return parsed.length > 0 ? parsed : undefined;
    });

const dateTime = z.preprocess(
  empty,
  z.iso
    .datetime({ offset: true, error: 'a w3 date-time with its offset, e.g. 2025-10-01T00:00:00Z' })
    .optional(),
);

const listQuery = z
  .object({
    api_key: z.string().optional(),
    jurisdiction_id: z.string().max(200).optional(),
    service_request_id: commaList(caseId, 1000).meta({
      description: 'Comma list of ids; overrides every other filter',
    }),
    service_code: commaList(z.string().max(130), 100),
    start_date: dateTime,
    end_date: dateTime,
    status: commaList(z.enum(['open', 'closed']), 2),
    page: z.preprocess(empty, z.coerce.number().int().min(1).default(1)),
    page_size: z.preprocess(empty, z.coerce.number().int().min(1).max(1000).default(50)),
  })
  .strict()
  .superRefine((query, ctx) => {
    if (query.start_date && query.end_date && query.start_date > query.end_date) {
      ctx.addIssue({ code: 'custom', path: ['end_date'], message: 'is before start_date' });
    }
  });

const keyQuery = z
  .object({ api_key: z.string().optional(), jurisdiction_id: z.string().optional() })
  .strict();

const serviceSchema = z.object({
  service_code: z.string(),
  service_name: z.string(),
  description: z.string().nullable(),
  metadata: z.boolean(),
  type: z.enum(['realtime', 'batch', 'blackbox']),
  keywords: z.string().nullable(),
  group: z.string().nullable(),
});
const serviceDefinitionSchema = z.object({
  service_code: z.string(),
  attributes: z.array(
    z.object({
      variable: z.boolean(),
      code: z.string(),
      datatype: z.enum([
        'string',
        'number',
        'datetime',
        'text',
        'singlevaluelist',
        'multivaluelist',
      ]),
      required: z.boolean(),
      datatype_description: z.string().nullable(),
      order: z.number().int(),
      description: z.string(),
      values: z.array(z.object({ key: z.string(), name: z.string() })).optional(),
    }),
  ),
});
const requestSchema = z.object({
  service_request_id: z.string(),
  status: z.enum(['open', 'closed']),
  status_notes: z.string().nullable(),
  service_name: z.string().nullable(),
  service_code: z.string(),
  description: z.string().nullable(),
  agency_responsible: z.string().nullable(),
  service_notice: z.string().nullable(),
  requested_datetime: z.iso.datetime(),
  updated_datetime: z.iso.datetime().nullable(),
  expected_datetime: z.iso.datetime().nullable(),
  address: z.string().nullable(),
  address_id: z.string().nullable(),
  zipcode: z.string().nullable(),
  lat: z.number().nullable(),
  long: z.number().nullable(),
  media_url: z.string().nullable(),
});
/** `service_notice` and `account_id` "may not be returned" (GeoReport v2), so they are not. */
const createdSchema = z.array(z.object({ service_request_id: z.string() }));
const errorsSchema = z.array(z.object({ code: z.number().int(), description: z.string() }));

function errors(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: OPEN311_ERRORS[status] ?? 'Error', schema: errorsSchema },
    ]),
  );
}
const OPEN311_ERRORS: Record<number, string> = {
  400: 'Not valid: one error per problem, named by its parameter',
  403: 'Missing or wrong api_key, or your role may not file this service',
  404: 'No such service or service request',
  413: 'The body is too large',
  415: 'The body is neither a form nor JSON',
  429: 'A rate limit, named in the description; Retry-After says when to try again',
};

/** GeoReport v2 statuses: 403 for credentials, 404 for what does not exist, 400 for the rest. */
const OPEN311_STATUS: Partial<Record<number, number>> = { 401: 403, 409: 400, 422: 400 };

/** An error as GeoReport v2 shapes it: one `{ code, description }` per problem. */
export function open311ErrorResponse(error: ErrorResponse): { status: number; body: unknown } {
  const status = OPEN311_STATUS[error.status] ?? error.status;
  const body =
    error.details.length > 0
      ? error.details.map((d) => ({
          code: status,
          description: `${parameterOf(d.path)}: ${d.message}`,
        }))
      : [{ code: status, description: error.message }];
  return { status, body };
}

/** A problem's path as the client named it: `body.attribute.floor` → `attribute[floor]`. */
function parameterOf(path: string): string {
  const bare = path.replace(/^(body|query|params)\./, '');
  if (bare.startsWith('headers.')) return `${bare.slice('headers.'.length)} header`;
  return bare.replace(/^attribute\.([^.[]+)(.*)$/, 'attribute[$1]$2');
}

/** The service's input from the form: attributes gathered from `attribute[…]` keys and `attribute`. */
function requestInput(body: CreateBody): CreateRequestInput {
  // A Map, then own properties: a code is the client's text, and on a plain object
  // `attribute[constructor]` would read the inherited member and `attribute[__proto__]` vanish.
  const gathered = new Map<string, AttributeValue>(Object.entries(body.attribute ?? {}));
  const standard = new Set(Object.keys(standardParameters));
  for (const [key, value] of Object.entries(body)) {
    const match = standard.has(key) ? null : ATTRIBUTE_KEY.exec(key);
    if (!match) continue;
    const code = match[1]!;
    const previous = gathered.get(code);
    const next = value as AttributeValue;
    gathered.set(code, previous === undefined ? next : [previous, next].flat());
  }
  const attributes: Record<string, AttributeValue> = Object.fromEntries(gathered);
  const { service_code, lat, long, address_string, address_id, email, phone } = body;
  const { first_name, last_name, description, media_url } = body;
  const given = {
    lat,
    long,
    address_string,
    address_id,
    email,
    phone,
    first_name,
    last_name,
    description,
    media_url,
  };
  return {
    service_code,
    ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
    attributes,
  };
}

const ANYONE_WHO_FILES = ['admin', 'dispatcher', 'staff', 'resident', 'system'] as const;

export function registerOpen311Routes(routes: RouteRegistry, open311: Open311Api): void {
  const common = { tag: 'open311', errorResponse: open311ErrorResponse } as const;

  routes.add<undefined, z.infer<typeof keyQuery>>({
    ...common,
    method: 'get',
    path: `${OPEN311_BASE}/services.json`,
    summary: 'Open311: the services offered',
    description:
      'One service per category of each process that says `open311` (`<process key>.<category code>`), or one for a process without categories. No credentials needed.',
    roles: 'public',
    query: keyQuery,
    responses: {
      200: { description: 'The services', schema: z.array(serviceSchema) },
      ...errors(400),
    },
    handle: async () => ({ status: 200, body: await open311.listServices() }),
  });

  routes.add<{ code: string }, z.infer<typeof keyQuery>>({
    ...common,
    method: 'get',
    path: `${OPEN311_BASE}/services/:code.json`,
    summary: 'Open311: a service definition (its attributes)',
    description:
      "The process's input fields that no standard parameter fills, in order, with their Open311 datatypes.",
    roles: 'public',
    params: z.object({ code: z.string().max(130) }),
    query: keyQuery,
    responses: {
      200: { description: 'The service definition', schema: serviceDefinitionSchema },
      ...errors(400, 404),
    },
    handle: async ({ params }) => ({
      status: 200,
      body: await open311.serviceDefinition(params.code),
    }),
  });

  const createHeaders = z.object({ 'idempotency-key': idempotencyKey.optional() });
  routes.add<undefined, z.infer<typeof keyQuery>, z.infer<typeof createHeaders>, CreateBody>({
    ...common,
    method: 'post',
    path: `${OPEN311_BASE}/requests.json`,
    summary: 'Open311: file a service request (starts a case)',
    description:
      "Form-encoded as GeoReport v2 says, or JSON. Starts a case of the service's process through the same checks as POST /api/v1/cases; `service_request_id` is the case id. A location is required (lat and long, address_string or address_id). An optional Idempotency-Key makes a retry return the same request.",
    roles: ANYONE_WHO_FILES,
    limit: 'open311-post',
    apiKeyParameter: true,
    query: keyQuery,
    headers: createHeaders,
    body: createBody,
    bodyFormat: 'form',
    responses: {
      200: {
        description: 'The request was filed (or this Idempotency-Key filed it before)',
        schema: createdSchema,
      },
      ...errors(400, 403, 404, 413, 415, 429),
    },
    async handle({ principal, headers, body }) {
      const result = await open311.createRequest(
        principal,
        headers['idempotency-key'],
        requestInput(body),
      );
      return {
        status: 200,
        body: [{ service_request_id: result.serviceRequestId }],
        headers: { Location: `${OPEN311_BASE}/requests/${result.serviceRequestId}.json` },
      };
    },
  });

  routes.add<undefined, z.infer<typeof listQuery>>({
    ...common,
    method: 'get',
    path: `${OPEN311_BASE}/requests.json`,
    summary: 'Open311: service requests, newest first',
    description:
      '`page_size` requests (default 50, at most 1000) of page `page`. Without credentials, or for requests outside your scope, personal data is masked; contact details are never shown.',
    roles: 'public',
    optionalCredentials: true,
    apiKeyParameter: true,
    query: listQuery,
    responses: {
      200: { description: 'The requests', schema: z.array(requestSchema) },
      ...errors(400, 403, 404),
    },
    async handle({ principal, query }) {
      const body = await open311.listRequests(principal, {
        ...(query.service_request_id ? { serviceRequestIds: query.service_request_id } : {}),
        ...(query.service_code ? { serviceCodes: query.service_code } : {}),
        ...(query.start_date ? { startDate: new Date(query.start_date) } : {}),
        ...(query.end_date ? { endDate: new Date(query.end_date) } : {}),
        ...(query.status ? { statuses: query.status } : {}),
        page: query.page,
        pageSize: query.page_size,
      });
      return { status: 200, body };
    },
  });

  routes.add<{ id: string }, z.infer<typeof keyQuery>>({
    ...common,
    method: 'get',
    path: `${OPEN311_BASE}/requests/:id.json`,
    summary: 'Open311: one service request (a list of one, as GeoReport v2 answers)',
    roles: 'public',
    optionalCredentials: true,
    apiKeyParameter: true,
    params: z.object({ id: z.string().max(100) }),
    query: keyQuery,
    responses: {
      200: { description: 'The request', schema: z.array(requestSchema) },
      ...errors(403, 404),
    },
    async handle({ principal, params }) {
      if (!caseId.safeParse(params.id).success) {
        throw new AppError('not_found', `No service request "${params.id}"`);
      }
      return { status: 200, body: await open311.getRequest(principal, params.id) };
    },
  });
}

/**
 * Everything else under /open311/v2 answers in Open311's shape too: `.xml` is refused with a
 * clear error (this server speaks GeoReport v2 JSON only), an unknown path is a 404.
 */
export function mountOpen311Fallback(router: Router): void {
  router.all(`${OPEN311_BASE}/{*rest}`, (req, res) => {
    const error = req.path.endsWith('.xml')
      ? new AppError(
          'invalid_request',
          'XML is not supported: this server answers GeoReport v2 in JSON; use the .json URL',
        )
      : new AppError('not_found', `No Open311 resource ${req.method} ${req.path}`);
    sendError(res, error, requestIdOf(req), logOf(req), open311ErrorResponse);
  });
}

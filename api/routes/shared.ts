import { z } from 'zod';

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })),
    requestId: z.string(),
  }),
});

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed; `details` names each bad field',
  401: 'Missing or invalid credentials',
  403: 'Your role or org scope does not allow this',
  404: 'Not found (or not in your scope)',
  409: 'Conflicts with the current state',
  413: 'The body is larger than this route accepts',
  415: 'The body is not of a type this route accepts (for photos: not an image)',
  422: 'Well-formed but not acceptable; `details` names each problem',
  429: 'Too many requests: a rate limit, named in the message; Retry-After says when to try again',
};

export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: ERROR_DESCRIPTIONS[status] ?? 'Error', schema: errorBodySchema },
    ]),
  );
}

/** Items per page when a list request names none, and the most it may ask for (both chosen). */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export const pageQuery = z
  .object({
    page: z.coerce
      .number({ error: 'page must be a whole number from 1' })
      .int('page must be a whole number from 1')
      .min(1, 'page must be a whole number from 1')
      .default(1),
    pageSize: z.coerce
      .number({ error: `pageSize must be a whole number from 1 to ${MAX_PAGE_SIZE}` })
      .int(`pageSize must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
      .min(1, `pageSize must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
      .max(MAX_PAGE_SIZE, `pageSize must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
      .default(DEFAULT_PAGE_SIZE),
  })
  .strict();

/** A list's `next` field: the link to the page after this one, null on the last page. */
export const nextSchema = z
  .string()
  .nullable()
  .meta({ description: 'The same list, one page on (same filters and pageSize); null when none' });

/**
 * The link to the page after `query`'s, keeping its filters, or null when this page reaches
 * `total`. Values left out of the request (undefined) stay out; null is sent as empty.
 */
export function nextLink(
  path: string,
  query: { page: number; pageSize: number } & Record<
    string,
    string | number | boolean | null | undefined
  >,
  total: number,
): string | null {
  if (query.page * query.pageSize >= total) return null;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || key === 'page') continue;
    params.set(key, value === null ? '' : String(value));
  }
  params.set('page', String(query.page + 1));
  return `${path}?${params.toString()}`;
}

/**
 * The link to the page after a keyset-paged one (the case list, the board): the same filters and
 * pageSize, `before` the page's cursor and no `page` (it counts from the cursor); null on the last.
 */
export function cursorLink(
  path: string,
  query: Record<string, string | number | boolean | readonly string[] | undefined>,
  before: string | null,
): string | null {
  if (before === null) return null;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || key === 'page' || key === 'before') continue;
    params.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  params.set('before', before);
  return `${path}?${params.toString()}`;
}

/** A case id as the API makes them: `case-` and 24 hex digits. */
export const caseId = z.string().regex(/^case-[0-9a-f]{24}$/, 'a case id');
export const caseIdParams = z.object({ id: caseId });

/** The Idempotency-Key header's value (required on case starts, optional on actions). */
export const idempotencyKey = z
  .string({ error: 'the Idempotency-Key header is required' })
  .regex(/^[A-Za-z0-9_.:-]{8,128}$/, '8 to 128 characters of letters, digits, _ . : -');

/** An SLA clock as cases and tasks show it. */
export const deadlineViewSchema = z.object({
  key: z.string(),
  name: z.string(),
  dueAt: z.iso.datetime().nullable(),
  paused: z.boolean(),
  missed: z.boolean(),
  stopped: z.boolean(),
  escalationLevel: z.number().int(),
  assumedYears: z.array(z.number().int()).optional().meta({
    description:
      'Years the working-day calendar lacks that this deadline crosses, counted as normal weeks (no holidays or make-up days): the due time may change once an admin enters them',
  }),
});

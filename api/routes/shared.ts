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

export const pageQuery = z
  .object({
    page: z.coerce.number().int().min(1).default(1),
    pageSize: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

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

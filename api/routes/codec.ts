import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { RouteRegistry } from '../pipeline';
import type { PayloadCodecService } from '../../services/payload-codec';
import { errorResponses } from './shared';

/**
 * Temporal's remote codec protocol, for the Temporal Web UI: `POST /codec/decode` and
 * `/codec/encode` take `{ payloads: [{ metadata, data }] }` (base64 values) and answer the same
 * shape. Admins only: decoding shows case data in full.
 */
export const CODEC_BASE = '/codec';

/**
 * Largest codec request, chosen: twice Temporal's default 2 MB limit on one payload, as the UI
 * sends the payloads of one event at a time.
 */
const CODEC_BODY_LIMIT = '4mb';

/** How long a browser may cache a preflight answer, chosen: 10 minutes. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64')
  .refine((s) => s.length % 4 === 0, 'base64 (length a multiple of 4)');

const wirePayload = z
  .object({
    metadata: z.record(z.string().max(256), base64).default({}),
    data: base64.optional(),
  })
  .strict();

const codecBody = z.object({ payloads: z.array(wirePayload).max(1000) }).strict();
const codecResponse = z.object({ payloads: z.array(wirePayload) });

export function registerCodecRoutes(routes: RouteRegistry, codec: PayloadCodecService): void {
  for (const direction of ['decode', 'encode'] as const) {
    routes.add<undefined, undefined, undefined, z.infer<typeof codecBody>>({
      method: 'post',
      path: `${CODEC_BASE}/${direction}`,
      tag: 'codec',
      summary:
        direction === 'decode'
          ? 'Decrypt Temporal payloads (remote codec for the Temporal Web UI)'
          : 'Encrypt Temporal payloads (remote codec for the Temporal Web UI)',
      description:
        'Temporal’s remote codec server protocol: `{ payloads: [{ metadata, data }] }` with base64 values, answered in the same shape. Admins only, with an `Authorization` header or the console’s session cookie; browsers from the origins in TEMPORAL_CODEC_CORS_ORIGINS may call it. A payload encrypted with a key id not in TEMPORAL_CODEC_KEYS, or altered, is 422 naming the key id.',
      roles: ['admin'],
      body: codecBody,
      bodyLimit: CODEC_BODY_LIMIT,
      responses: {
        200: { description: 'The payloads, in order', schema: codecResponse },
        ...errorResponses(400, 401, 403, 413, 422),
      },
      handle: async ({ body }) => ({
        status: 200,
        body: { payloads: await codec[direction](body.payloads) },
      }),
    });
  }
}

/**
 * CORS for the codec endpoint: the Temporal UI runs on another origin and calls it from the
 * browser. Only the configured origins get CORS headers (credentials included, so the console's
 * session cookie can authenticate); a preflight is answered here, other requests go on.
 */
export function codecCors(allowedOrigins: readonly string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    res.append('Vary', 'Origin');
    const ok = origin !== undefined && allowed.has(origin);
    if (ok) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (req.method !== 'OPTIONS') return next();
    if (ok) {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, X-Namespace');
      res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
    }
    res.status(204).end();
  };
}

/**
 * The Temporal UI cannot send our API's bearer token, but a browser includes the console's
 * session cookie (same site) when the UI's codec setting "include cross-origin credentials" is
 * on: a request without an Authorization header is authenticated by that cookie instead.
 */
export function codecSessionCookie(cookieName: string): RequestHandler {
  return (req, _res, next) => {
    if (req.headers.authorization === undefined) {
      const token = sessionCookieOf(req.headers.cookie, cookieName);
      if (token) req.headers.authorization = `Bearer ${token}`;
    }
    next();
  };
}

function sessionCookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_.~-]{16,256}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

import busboy from 'busboy';
import express from 'express';
import type {
  ErrorRequestHandler,
  NextFunction,
  Request,
  RequestHandler,
  Response,
  Router,
} from 'express';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { formatPath } from '../lang/case-data';
import type { Role } from '../common/roles';
import type { Principal } from '../services/auth';
import { hasAnyRole } from '../services/auth';
import type { ErrorBody, ErrorDetail, ErrorKind } from '../services/errors';
import { AppError, storeUnavailable } from '../services/errors';
import type { LimitName, RateLimits } from '../services/limits';

/**
 * The one route pipeline: authenticate → check role → validate params, query, headers and body
 * (400 naming each field) → find the resource (404) → authorise on it (403) → call one service
 * → map typed errors, or log and answer a plain 500. Each route also describes itself for the
 * OpenAPI document, from the same zod schemas that validate it.
 */

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteContext<P, Q, H, B> {
  params: P;
  query: Q;
  headers: H;
  body: B;
  principal: Principal;
  requestId: string;
  log: Logger;
  req: Request;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Writes the body itself (a ledger export streamed page by page; the status and headers go out
   * with its first bytes) and ends the response. If it fails midway the response is aborted (the connection
   * closed without the final chunk), so the client sees a broken download, never a file that
   * looks complete but is not.
   */
  stream?: (out: Writable) => Promise<void>;
}

export interface RouteSpec<P, Q, H, B, R> {
  method: Method;
  /** Express-style path, e.g. `/api/v1/cases/:id`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  /** Roles allowed to call, or `public` for routes that need no credentials. */
  roles: readonly Role[] | 'public';
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  headers?: z.ZodType<H>;
  body?: z.ZodType<B>;
  /**
   * How the body is sent: `json` (default, `application/json`), `csv` (`text/csv`, UTF-8 unless
   * its charset says otherwise; the body schema then receives the text), or `form`
   * (`application/x-www-form-urlencoded` or JSON, as Open311 clients send; other types are 415).
   */
  bodyFormat?: 'json' | 'csv' | 'form' | 'image';
  /**
   * For `image` bodies: the largest image taken, in bytes (past it, 413). The body is one image,
   * sent as `multipart/form-data` (one file part; phone browsers' forms) or as a raw `image/*`
   * body; the body schema receives `{ image: { bytes, contentType } }`.
   */
  imageLimitBytes?: number;
  /** Largest body this route accepts, e.g. `5mb` for imports; default: the app's body limit. */
  bodyLimit?: string;
  /**
   * Also take an API key from an `api_key` query or body parameter, as Open311 GeoReport v2 says
   * (the Authorization header still works and wins). Only API keys are accepted there, never
   * session tokens: a person's session does not belong in URLs and form posts.
   */
  apiKeyParameter?: boolean;
  /** For `public` routes: authenticate when credentials are sent (bad ones are still refused). */
  optionalCredentials?: boolean;
  /**
   * A rate limit this route spends, per account (API key or person) and per client address,
   * after authentication: past it, 429 with Retry-After naming the limit.
   */
  limit?: LimitName;
  /** Answers errors in the route's own shape (Open311's `[{ code, description }]`) and status. */
  errorResponse?: (error: ErrorResponse) => { status: number; body: unknown };
  /** Per status: a JSON body's schema, or `media` (OpenAPI content by type) for a file answer. */
  responses: Record<
    number,
    { description: string; schema?: z.ZodType; media?: Record<string, unknown> }
  >;
  find?: (ctx: RouteContext<P, Q, H, B>) => Promise<R>;
  authorise?: (ctx: RouteContext<P, Q, H, B>, resource: R) => void;
  handle: (ctx: RouteContext<P, Q, H, B>, resource: R) => Promise<RouteResult>;
}

/** An error as the pipeline answers it, before a route's {@link RouteSpec.errorResponse} shapes it. */
export interface ErrorResponse {
  status: number;
  code: ErrorKind | 'internal';
  message: string;
  details: ErrorDetail[];
  requestId: string;
}

export interface PipelineDeps {
  authenticate: (authorization: string | undefined) => Promise<Principal>;
  /** Largest body a route accepts unless it says otherwise (API_BODY_LIMIT). */
  bodyLimit: string;
  /** Counts the routes that name a {@link RouteSpec.limit}; without it nothing is limited. */
  limits?: RateLimits;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry of routes of any shape
type AnyRoute = RouteSpec<any, any, any, any, any>;

export class RouteRegistry {
  private readonly routes: AnyRoute[] = [];

  add<P = undefined, Q = undefined, H = undefined, B = undefined, R = undefined>(
    spec: RouteSpec<P, Q, H, B, R>,
  ): void {
    this.routes.push(spec as AnyRoute);
  }

  mount(router: Router, deps: PipelineDeps): void {
    for (const route of this.routes) {
      const handlers: Array<RequestHandler | ErrorRequestHandler> = [
        ...bodyParsers(route, deps),
        toHandler(route, deps),
      ];
      // Body parser errors (413, malformed JSON) in the route's own error shape.
      const render = route.errorResponse;
      if (render) {
        handlers.push((err: unknown, req: Request, res: Response, _next: NextFunction) => {
          sendError(res, err, requestIdOf(req), logOf(req), render);
        });
      }
      router[route.method](route.path, ...handlers);
    }
  }

  list(): readonly AnyRoute[] {
    return this.routes;
  }
}

/**
 * Each route parses only the body it declares, with its own size limit, so an import can take
 * megabytes while every other route keeps the small default. Parser errors (413, malformed JSON,
 * an unknown charset) reach the app's error middleware and {@link sendError}.
 */
function bodyParsers(route: AnyRoute, deps: PipelineDeps): RequestHandler[] {
  if (!route.body) return [];
  const limit = route.bodyLimit ?? deps.bodyLimit;
  switch (route.bodyFormat) {
    case 'csv':
      return [express.text({ type: 'text/csv', limit, defaultCharset: 'utf-8' })];
    case 'form':
      return [
        // `attribute[code]=v` stays one flat key (no qs nesting); repeated keys become lists.
        express.urlencoded({ extended: false, limit, parameterLimit: 200 }),
        express.json({ limit }),
        (req, _res, next) => {
          const hasBody =
            req.headers['transfer-encoding'] !== undefined ||
            Number(req.headers['content-length'] ?? 0) > 0;
          next(
            hasBody && !req.is(['application/x-www-form-urlencoded', 'application/json'])
              ? new AppError(
                  'unsupported_media_type',
                  'Send the body as application/x-www-form-urlencoded or application/json',
                )
              : undefined,
          );
        },
      ];
    case 'image':
      return [imageBody(route.imageLimitBytes ?? 1024 * 1024)];
    default:
      return [express.json({ limit })];
  }
}

/** What an `image` route's body schema receives. */
export interface ImageBody {
  image?: { bytes: Buffer; contentType: string };
}

/**
 * One image from a `multipart/form-data` form (its first file part; other parts are ignored) or a
 * raw `image/*` body, read into memory up to `limitBytes` (413 past it; the rest of the upload is
 * drained, not stored). Any other type is a 415 that says what to send.
 */
function imageBody(limitBytes: number): RequestHandler {
  const tooLarge = () =>
    new AppError(
      'payload_too_large',
      `The image is larger than this route takes (at most ${Math.floor(limitBytes / 1024 / 1024)} MB)`,
    );
  const raw = express.raw({ type: 'image/*', limit: limitBytes });
  return (req, res, next) => {
    if (req.is('image/*')) {
      raw(req, res, (err?: unknown) => {
        if ((err as { type?: string } | undefined)?.type === 'entity.too.large') {
          next(tooLarge());
          return;
        }
        if (err) {
          next(err);
          return;
        }
        const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        req.body = { image: { bytes, contentType: req.headers['content-type'] ?? '' } };
        next();
      });
      return;
    }
    if (!req.is('multipart/form-data')) {
      next(
        new AppError(
          'unsupported_media_type',
          'Send the photo as multipart/form-data (one file field) or as a raw image/* body (image/jpeg, image/png…)',
        ),
      );
      return;
    }
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fileSize: limitBytes, fields: 20, parts: 30 },
      });
    } catch (err) {
      next(
        new AppError(
          'invalid_request',
          `The multipart body cannot be read: ${(err as Error).message}`,
        ),
      );
      return;
    }
    let image: ImageBody['image'];
    let overLimit = false;
    let failed = false;
    parser.on('file', (_name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => {
        overLimit = true;
      });
      stream.on('end', () => {
        if (!overLimit) image = { bytes: Buffer.concat(chunks), contentType: info.mimeType };
      });
    });
    parser.on('error', (err: Error) => {
      if (failed) return;
      failed = true;
      req.unpipe(parser);
      next(new AppError('invalid_request', `The multipart body cannot be read: ${err.message}`));
    });
    parser.on('close', () => {
      if (failed) return;
      if (overLimit) {
        next(tooLarge());
        return;
      }
      req.body = image ? { image } : {};
      next();
    });
    req.pipe(parser);
  };
}

const PUBLIC_PRINCIPAL: Principal = { kind: 'apiKey', id: 'anonymous', roles: [], unitIds: [] };

function toHandler(route: AnyRoute, deps: PipelineDeps): RequestHandler {
  return async (req, res) => {
    const log = logOf(req);
    const requestId = requestIdOf(req);
    try {
      const principal = await authenticateFor(route, req, deps);
      if (route.roles !== 'public' && !hasAnyRole(principal, route.roles)) {
        throw new AppError(
          'forbidden',
          `This action needs one of the roles: ${route.roles.join(', ')}`,
        );
      }
      if (route.limit && deps.limits) {
        await deps.limits.consume(route.limit, {
          ...(principal === PUBLIC_PRINCIPAL
            ? {}
            : { account: `${principal.kind}:${principal.id}` }),
          ...(req.ip !== undefined ? { address: req.ip } : {}),
        });
      }
      const details: ErrorDetail[] = [];
      const params = parsePart(route.params, req.params, 'params', details);
      const query = parsePart(route.query, req.query, 'query', details);
      const headers = parsePart(route.headers, req.headers, 'headers', details);
      const body = parsePart(route.body, (req.body as unknown) ?? {}, 'body', details);
      if (details.length > 0) {
        throw new AppError('invalid_request', 'The request is not valid', details);
      }
      const ctx: RouteContext<unknown, unknown, unknown, unknown> = {
        params,
        query,
        headers,
        body,
        principal,
        requestId,
        log,
        req,
      };
      const resource: unknown = route.find ? await route.find(ctx) : undefined;
      route.authorise?.(ctx, resource);
      const result = await route.handle(ctx, resource);
      await send(res, result);
    } catch (err) {
      if (res.headersSent) {
        // Too late for an error answer: abort, so the download fails visibly. No details of the
        // rows (they may name people), only what failed.
        log.warn({ err: { message: (err as Error).message }, path: route.path }, 'stream aborted');
        res.destroy();
        return;
      }
      sendError(res, err, requestId, log, route.errorResponse);
    }
  };
}

/** The caller: anonymous on public routes (unless it sends credentials it may), else authenticated. */
async function authenticateFor(
  route: AnyRoute,
  req: Request,
  deps: PipelineDeps,
): Promise<Principal> {
  const fromParameter = route.apiKeyParameter ? apiKeyParameterOf(req) : undefined;
  const authorization =
    req.headers.authorization ?? (fromParameter ? `Bearer ${fromParameter}` : undefined);
  if (route.roles === 'public' && (!route.optionalCredentials || authorization === undefined)) {
    return PUBLIC_PRINCIPAL;
  }
  if (authorization === undefined && route.apiKeyParameter) {
    throw new AppError(
      'unauthenticated',
      'Missing credentials: send an api_key parameter or "Authorization: Bearer <API key>"',
    );
  }
  const principal = await deps.authenticate(authorization);
  if (req.headers.authorization === undefined && principal.kind !== 'apiKey') {
    throw new AppError('unauthenticated', 'api_key takes an API key, not a session token');
  }
  return principal;
}

/** `api_key` from the body (form or JSON) or the query string; empty counts as absent. */
function apiKeyParameterOf(req: Request): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  for (const value of [body?.api_key, req.query.api_key]) {
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** The request id pino-http gave the request (echoed as X-Request-Id). */
export function requestIdOf(req: Request): string {
  const id = (req as Request & { id?: string | number }).id;
  return id === undefined ? '' : String(id);
}

/** The request's logger (pino-http's child logger with the request id). */
export function logOf(req: Request): Logger {
  return (req as Request & { log: Logger }).log;
}

function parsePart(
  schema: z.ZodType | undefined,
  value: unknown,
  part: string,
  details: ErrorDetail[],
): unknown {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  details.push(...zodDetails(parsed.error, part));
  return undefined;
}

export function zodDetails(error: z.ZodError, prefix: string): ErrorDetail[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: formatPath([prefix, ...issue.path, key]),
          message: 'unknown field',
        }))
      : [{ path: formatPath([prefix, ...issue.path]), message: issue.message }],
  );
}

async function send(res: Response, result: RouteResult): Promise<void> {
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  if (result.stream) {
    res.status(result.status);
    await result.stream(res);
  } else if (result.body === undefined) {
    res.status(result.status).end();
  } else if (Buffer.isBuffer(result.body)) {
    // A file answer (a photo) in the type the route set.
    res.status(result.status).send(result.body);
  } else if (typeof result.body === 'string' && result.headers?.['content-type'] !== undefined) {
    // A text answer in the type the route set (a CSV export), sent as it is.
    res.status(result.status).send(result.body);
  } else {
    res.status(result.status).json(result.body);
  }
}

/**
 * Maps an error to its response (in a route's own shape when it has one); also used by the app's
 * last-resort error middleware.
 */
export function sendError(
  res: Response,
  err: unknown,
  requestId: string,
  log: Logger,
  render: (error: ErrorResponse) => { status: number; body: unknown } = defaultErrorResponse,
): void {
  const appError = toAppError(err);
  if (!appError) log.error({ err }, 'unhandled error');
  // A dependency down or too slow: one line for operators, no stack (it is not a bug of ours).
  else if (appError.kind === 'unavailable') log.warn({ code: appError.kind }, appError.message);
  const error: ErrorResponse = appError
    ? {
        status: appError.status,
        code: appError.kind,
        message: appError.message,
        details: appError.details,
        requestId,
      }
    : { status: 500, code: 'internal', message: 'Internal server error', details: [], requestId };
  const { status, body } = render(error);
  if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
  if (appError?.retryAfterSeconds !== undefined) {
    res.setHeader('Retry-After', String(appError.retryAfterSeconds));
  }
  res.status(status).json(body);
}

function defaultErrorResponse(error: ErrorResponse): { status: number; body: ErrorBody } {
  const { status, code, message, details, requestId } = error;
  return { status, body: { error: { code, message, details, requestId } } };
}

/**
 * Known errors, including the ones Express raises before a route runs: its body parsers', and
 * the router's when a path's percent-encoding does not decode (`/api/v1/cases/%`), a client's
 * mistake answered 400 rather than logged as a failure of ours.
 */
function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const unavailable = storeUnavailable(err);
  if (unavailable) return unavailable;
  if (err instanceof URIError) {
    return new AppError(
      'invalid_request',
      'The request path is not a valid URI: a % must start an escape such as %20',
      [{ path: 'path', message: err.message }],
    );
  }
  const e = err as { type?: string; status?: number; message?: string } | null;
  if (e?.type === 'entity.too.large') {
    return new AppError('payload_too_large', 'The request body is too large');
  }
  if (e?.type === 'parameters.too.many') {
    return new AppError('payload_too_large', 'The form has too many parameters');
  }
  if (e?.type === 'entity.parse.failed') {
    return new AppError('invalid_request', 'The request body is not valid JSON', [
      { path: 'body', message: e.message ?? 'invalid JSON' },
    ]);
  }
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new AppError('invalid_request', e.message ?? 'Unsupported encoding');
  }
  return undefined;
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import busboy from 'busboy';
import express from 'express';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { Principal } from '../services/auth';
import { hasAnyRole } from '../services/auth';
import { AppError, storeUnavailable } from '../services/errors';
import type { LimitName, RateLimits } from '../services/limits';
import type { ErrorDetail } from '../services/errors';
import type { Role } from '../common/roles';
import { SUPERVISOR_ROLES } from '../common/roles';
import { clearCookie, cookieSecurity, readCookies, setCookie } from './cookies';
import type { Lang, Translate } from './i18n';
import { DEFAULT_LANG, isLang, translator } from './i18n';
import type { PageModel, Renderer } from './render';

/**
 * The console's one page pipeline, the HTML twin of the API's: read the session cookie →
 * require sign-in and a role → check the CSRF token on every POST → call the page's handler
 * (which calls one service) → render a view, redirect, or render the error page with the
 * status the service's error carries. Nothing here knows about cases or tasks.
 */

export const SESSION_COOKIE = 'gf_session';
export const CSRF_COOKIE = 'gf_csrf';
export const LANG_COOKIE = 'gf_lang';

export interface SessionUser {
  id: string;
  displayName: string;
  roles: Role[];
}

export interface PageContext {
  req: Request;
  res: Response;
  principal: Principal | null;
  user: SessionUser | null;
  /** `Bearer <token>` of the session, for services that revoke it (sign-out). */
  authorization: string | undefined;
  lang: Lang;
  t: Translate;
  now: Date;
  /** Whether cookies set on this response get `Secure` (see cookieSecurity). */
  secureCookies: boolean;
  /** Form fields of a POST (url-encoded, or multipart on pages that take files); empty for GET. */
  form: Record<string, string | string[]>;
  /** Files of a multipart POST, on pages that take them ({@link PageSpec.files}); else empty. */
  files: PostedFile[];
  query: Record<string, string>;
  log: Logger;
  /**
   * Spends one request of `limit` for the signed-in caller's account and client address, as the
   * API's routes do (the same counters, so console and API share one budget); 429 past either.
   * For a page that does a limited thing a varying number of times (each photo of a form).
   */
  spend(limit: LimitName): Promise<void>;
}

export type PageResult =
  | { view: string; model: PageModel; status?: number }
  /** After a POST (303); a confirmation travels as a known `?done=` key, never as free text. */
  | { redirect: string }
  | { download: { filename: string; contentType: string; body: string } }
  /** A file shown in the page (a photo): its bytes with its own headers (type, caching). */
  | { file: { headers: Record<string, string>; body: Buffer } }
  /**
   * A file written as it is produced (a ledger): the headers go out first, then `write` streams
   * the body and ends it; a failure midway aborts the response rather than leaving a file that
   * looks complete.
   */
  | { stream: { headers: Record<string, string>; write(out: Writable): Promise<void> } };

/** A file part of a multipart form (a photo from a phone's camera). */
export interface PostedFile {
  /** The form field it was sent as. */
  field: string;
  bytes: Buffer;
  /** The type the browser declared. */
  contentType: string;
  filename: string;
  /** Cut at the page's `maxBytes`: larger than the page takes (the page refuses it). */
  truncated: boolean;
}

export interface PageSpec {
  method: 'get' | 'post';
  /**
   * A POST page that takes files: the form may be `multipart/form-data` (a phone's camera input),
   * each file read up to `maxBytes` (a larger one arrives `truncated`), at most `maxFiles`, and
   * at most `maxTotalBytes` held in memory for the whole form (files past it arrive `truncated`).
   */
  files?: { maxBytes: number; maxFiles: number; maxTotalBytes: number };
  path: string;
  /** `public`: no sign-in; `signed-in`: any role; else the roles allowed. */
  access: 'public' | 'signed-in' | readonly Role[];
  /** A rate limit the page spends per account and client address, as the API's route does. */
  limit?: LimitName;
  handle(ctx: PageContext): PageResult | Promise<PageResult>;
}

export interface PipelineDeps {
  authenticate: (authorization: string | undefined) => Promise<Principal>;
  displayNameOf: (principal: Principal) => Promise<string>;
  renderer: Renderer;
  clock: () => Date;
  cookieMode: 'auto' | 'always' | 'never';
  /** Signs CSRF tokens; random per process unless configured (several replicas share one). */
  secret: Buffer;
  logger: Logger;
  /** Counts the pages that name a {@link PageSpec.limit}; without it nothing is limited. */
  limits?: RateLimits;
  /** A banner for admins on the admin pages (`/admin/…`), such as a calendar year to enter. */
  adminBanner?: (ctx: PageContext) => Promise<string | null>;
}

/** Where pages live; the console's own links are all under it. */
export const BASE = '/console';

export class PageRouter {
  private readonly pages: PageSpec[] = [];
  constructor(private readonly deps: PipelineDeps) {}

  add(spec: PageSpec): void {
    this.pages.push(spec);
  }

  mount(router: Router): void {
    const parseForm = express.urlencoded({ extended: false, limit: '2mb', parameterLimit: 2000 });
    for (const spec of this.pages) {
      const handler = (req: Request, res: Response) => void this.serve(spec, req, res);
      if (spec.method === 'get') router.get(spec.path, handler);
      else if (spec.files) router.post(spec.path, multipartForm(spec.files, parseForm), handler);
      else router.post(spec.path, parseForm, handler);
    }
  }

  /** The CSRF token of a browser: an HMAC of its CSRF cookie, so a page can embed it safely. */
  csrfTokenOf(cookieValue: string): string {
    return createHmac('sha256', this.deps.secret).update(cookieValue).digest('base64url');
  }

  private async serve(spec: PageSpec, req: Request, res: Response): Promise<void> {
    const cookies = readCookies(req);
    const secure = cookieSecurity(req, this.deps.cookieMode);
    const langCookie = cookies.get(LANG_COOKIE);
    const lang: Lang = isLang(langCookie) ? langCookie : DEFAULT_LANG;
    const t = translator(lang);
    const log = (req as Request & { log?: Logger }).log ?? this.deps.logger;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );

    // Every browser gets a CSRF cookie on its first page; forms carry the token derived from it.
    let csrfCookie = cookies.get(CSRF_COOKIE);
    if (!csrfCookie || !/^[A-Za-z0-9_-]{32,64}$/.test(csrfCookie)) {
      csrfCookie = randomBytes(24).toString('base64url');
      setCookie(res, CSRF_COOKIE, csrfCookie, { sameSite: 'Strict', secure });
    }
    const csrfToken = this.csrfTokenOf(csrfCookie);

    const sessionToken = cookies.get(SESSION_COOKIE);
    const authorization = sessionToken ? `Bearer ${sessionToken}` : undefined;
    const ctx: PageContext = {
      req,
      res,
      principal: null,
      user: null,
      authorization,
      lang,
      t,
      now: this.deps.clock(),
      secureCookies: secure,
      form: spec.method === 'post' ? formOf(req.body) : {},
      files: (req as Request & { files?: PostedFile[] }).files ?? [],
      query: queryOf(req.query),
      log,
      spend: (limit) => this.spend(limit, ctx.principal, req),
    };
    const common = {
      lang,
      csrfToken,
      path: req.originalUrl,
      otherLang: lang === 'en' ? 'zh-CN' : 'en',
    };

    try {
      if (authorization) {
        try {
          ctx.principal = await this.deps.authenticate(authorization);
          ctx.user = {
            id: ctx.principal.id,
            displayName: await this.deps.displayNameOf(ctx.principal),
            roles: ctx.principal.roles,
          };
        } catch (err) {
          if (!(err instanceof AppError && err.kind === 'unauthenticated')) throw err;
          // An expired or revoked session: forget the cookie and treat the visit as signed out.
          clearCookie(res, SESSION_COOKIE, secure);
        }
      }
      if (spec.method === 'post') this.checkCsrf(req, ctx.form, csrfToken);
      if (spec.access !== 'public') {
        if (!ctx.principal) {
          if (spec.method === 'get') {
            res.redirect(303, `${BASE}/login?next=${encodeURIComponent(req.originalUrl)}`);
            return;
          }
          throw new AppError('unauthenticated', t('error.signInAgain'));
        }
        if (spec.access !== 'signed-in' && !hasAnyRole(ctx.principal, spec.access)) {
          throw new AppError('forbidden', t('error.forbidden'));
        }
      }
      if (spec.limit) await this.spend(spec.limit, ctx.principal, req);
      const result = await spec.handle(ctx);
      if ('redirect' in result) {
        res.redirect(303, safeLocalPath(result.redirect));
        return;
      }
      if ('stream' in result) {
        for (const [name, value] of Object.entries(result.stream.headers)) {
          res.setHeader(name, value);
        }
        res.status(200);
        await result.stream.write(res);
        return;
      }
      if ('file' in result) {
        for (const [name, value] of Object.entries(result.file.headers)) res.setHeader(name, value);
        res.status(200).send(result.file.body);
        return;
      }
      if ('download' in result) {
        res.setHeader('Content-Type', result.download.contentType);
        res.setHeader(
          'Content-Disposition',
          `attachment; filename="${result.download.filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
        );
        res.send(result.download.body);
        return;
      }
      const banner =
        this.deps.adminBanner &&
        spec.path.startsWith('/admin/') &&
        ctx.principal &&
        hasAnyRole(ctx.principal, ['admin'])
          ? await this.deps.adminBanner(ctx)
          : null;
      this.send(
        res,
        result.status ?? 200,
        result.view,
        {
          ...common,
          user: ctx.user,
          nav: navigationFor(ctx.principal, req.originalUrl.split('?')[0]!),
          adminBanner: banner,
          ...result.model,
        },
        t,
      );
    } catch (err) {
      if (res.headersSent) {
        // A streamed file failed midway: abort it; log what failed, never the rows.
        log.warn({ err: { message: (err as Error).message }, path: spec.path }, 'stream aborted');
        res.destroy();
        return;
      }
      this.sendError(
        res,
        err,
        {
          ...common,
          user: ctx.user,
          nav: navigationFor(ctx.principal, req.originalUrl.split('?')[0]!),
        },
        t,
        log,
      );
    }
  }

  /** One request of `limit` against the caller's account and address (none when signed out). */
  private async spend(limit: LimitName, principal: Principal | null, req: Request): Promise<void> {
    if (!this.deps.limits || !principal) return;
    await this.deps.limits.consume(limit, {
      account: `${principal.kind}:${principal.id}`,
      ...(req.ip !== undefined ? { address: req.ip } : {}),
    });
  }

  private checkCsrf(req: Request, form: Record<string, string | string[]>, expected: string): void {
    // A cross-site form post carries another Origin; browsers always send it on POST.
    const origin = req.headers.origin;
    if (typeof origin === 'string' && origin !== 'null') {
      let host: string | null = null;
      try {
        host = new URL(origin).host;
      } catch {
        host = null;
      }
      if (host !== req.headers.host) {
        throw new AppError('forbidden', 'This form was sent from another site (Origin mismatch)');
      }
    }
    const given = form._csrf;
    if (typeof given !== 'string' || !sameString(given, expected)) {
      throw new AppError(
        'forbidden',
        'The form has expired or did not come from this console (CSRF token missing or wrong); reload the page and send it again',
      );
    }
  }

  send(res: Response, status: number, view: string, model: PageModel, t: Translate): void {
    res
      .status(status)
      .type('html')
      .send(this.deps.renderer.render(view, model, t));
  }

  private sendError(
    res: Response,
    err: unknown,
    common: Record<string, unknown>,
    t: Translate,
    log: Logger,
  ): void {
    const known = err instanceof AppError ? err : (storeUnavailable(err) ?? null);
    if (!known) log.error({ err }, 'console page failed');
    // A dependency down or too slow: one line for operators, no stack (as the API logs it).
    else if (known.kind === 'unavailable') log.warn({ code: known.kind }, known.message);
    const status = known ? known.status : 500;
    if (known?.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(known.retryAfterSeconds));
    }
    const title =
      status === 404
        ? t('error.notFound')
        : status === 403
          ? t('error.forbiddenTitle')
          : status === 401
            ? t('error.unauthenticated')
            : known
              ? t('error.refused')
              : t('error.internal');
    this.send(
      res,
      status,
      'error',
      {
        ...common,
        title,
        status,
        message: known ? known.message : t('error.internalDetail'),
        details: known ? known.details : [],
        signIn: status === 401,
      },
      t,
    );
  }
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * A multipart form's fields into `req.body` (as the url-encoded parser gives them: a repeated
 * field becomes a list) and its files into `req.files`; any other body goes to `otherwise`. A
 * file input left empty (no name, no bytes) is not a file. A form that cannot be read leaves the
 * body empty, so the CSRF check refuses it.
 */
function multipartForm(
  limits: { maxBytes: number; maxFiles: number; maxTotalBytes: number },
  otherwise: RequestHandler,
): RequestHandler {
  return (req, res, next) => {
    if (!req.is('multipart/form-data')) {
      otherwise(req, res, next);
      return;
    }
    const fields: Record<string, string | string[]> = {};
    const files: PostedFile[] = [];
    let held = 0;
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          fileSize: limits.maxBytes,
          files: limits.maxFiles,
          fields: 2000,
          fieldSize: 2 * 1024 * 1024,
        },
      });
    } catch {
      req.body = {};
      next();
      return;
    }
    parser.on('field', (name, value) => {
      const known = fields[name];
      fields[name] =
        known === undefined ? value : [...(Array.isArray(known) ? known : [known]), value];
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      let truncated = false;
      stream.on('data', (chunk: Buffer) => {
        if (truncated) return;
        held += chunk.length;
        if (held > limits.maxTotalBytes) truncated = true;
        else chunks.push(chunk);
      });
      stream.on('limit', () => {
        truncated = true;
      });
      stream.on('end', () => {
        const bytes = truncated ? Buffer.alloc(0) : Buffer.concat(chunks);
        if (bytes.length === 0 && !truncated && !info.filename) return;
        files.push({
          field: name,
          bytes,
          contentType: info.mimeType,
          filename: info.filename ?? '',
          truncated,
        });
      });
    });
    let done = false;
    const finish = (body: Record<string, string | string[]>) => {
      if (done) return;
      done = true;
      req.body = body;
      (req as Request & { files?: PostedFile[] }).files = files;
      next();
    };
    parser.on('error', () => {
      req.unpipe(parser);
      req.resume();
      finish({});
    });
    parser.on('close', () => finish(fields));
    req.pipe(parser);
  };
}

function formOf(body: unknown): Record<string, string | string[]> {
  if (typeof body !== 'object' || body === null) return {};
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value))
      out[key] = value.filter((v): v is string => typeof v === 'string');
  }
  return out;
}

function queryOf(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof query !== 'object' || query === null) return out;
  for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
    if (typeof value === 'string') out[key] = value;
    // A repeated parameter (a group of checkboxes) arrives comma-separated.
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      out[key] = value.join(',');
    }
  }
  return out;
}

/** Redirects stay on this site: `next=` and `back=` parameters never send a user elsewhere. */
export function safeLocalPath(target: string | undefined, fallback = `${BASE}/`): string {
  if (!target || !target.startsWith('/') || target.startsWith('//') || target.includes('\\')) {
    return fallback;
  }
  return target;
}

/**
 * The confirmation after a redirect (`?done=published`): only the names a page knows, each
 * translated as `<messagePrefix><name>`, so a link can never make a page say something else.
 */
export function doneNotice(
  ctx: PageContext,
  known: readonly string[],
  messagePrefix: string,
  params: Record<string, unknown> = {},
): string | null {
  const done = ctx.query.done;
  return done && known.includes(done) ? ctx.t(`${messagePrefix}${done}`, params) : null;
}

/** A form field as one string ('' when absent or repeated). */
export function field(form: Record<string, string | string[]>, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value : '';
}

/** Maps a service's 422 details to the form fields they name (`form.result` → `result`). */
export function fieldErrors(err: AppError, prefixes: readonly string[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const detail of err.details) {
    const name = stripPrefix(detail, prefixes);
    errors[name] ??= detail.message;
  }
  return errors;
}

function stripPrefix(detail: ErrorDetail, prefixes: readonly string[]): string {
  for (const prefix of prefixes) {
    if (detail.path.startsWith(`${prefix}.`))
      return detail.path.slice(prefix.length + 1).split(/[.[]/)[0]!;
  }
  return detail.path;
}

export interface NavLink {
  href: string;
  label: string;
  current: boolean;
}

/** The navigation a role sees: message keys, translated by the layout. */
function navigationFor(principal: Principal | null, currentPath: string): NavLink[] {
  const links: Array<{ href: string; label: string; roles: readonly Role[] | 'any' }> = [
    { href: `${BASE}/inbox`, label: 'nav.inbox', roles: ['dispatcher', 'staff', 'admin'] },
    { href: `${BASE}/cases`, label: 'nav.cases', roles: ['dispatcher', 'staff', 'admin'] },
    {
      href: `${BASE}/supervisions`,
      label: 'nav.supervisions',
      roles: ['dispatcher', 'staff', 'admin'],
    },
    { href: `${BASE}/my/requests`, label: 'nav.myRequests', roles: ['resident'] },
    { href: `${BASE}/order`, label: 'nav.order', roles: ['resident', 'dispatcher', 'staff'] },
    { href: `${BASE}/dashboard`, label: 'nav.dashboard', roles: SUPERVISOR_ROLES },
    {
      href: `${BASE}/evaluations`,
      label: 'nav.evaluations',
      roles: ['dispatcher', 'staff', 'admin'],
    },
    { href: `${BASE}/emergency`, label: 'nav.emergency', roles: ['admin'] },
    { href: `${BASE}/admin/definitions`, label: 'nav.definitions', roles: ['admin'] },
    { href: `${BASE}/admin/org`, label: 'nav.org', roles: ['admin'] },
    { href: `${BASE}/admin/calendar`, label: 'nav.calendar', roles: ['admin'] },
    { href: `${BASE}/admin/catalogues`, label: 'nav.catalogue', roles: ['admin'] },
    { href: `${BASE}/admin/mail`, label: 'nav.mail', roles: ['admin'] },
    { href: `${BASE}/admin/failures`, label: 'nav.failures', roles: ['admin'] },
    { href: `${BASE}/board`, label: 'nav.board', roles: 'any' },
  ];
  return links
    .filter((l) => l.roles === 'any' || (principal !== null && hasAnyRole(principal, l.roles)))
    .map((l) => ({ href: l.href, label: l.label, current: currentPath.startsWith(l.href) }));
}

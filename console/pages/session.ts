import { AppError } from '../../services/errors';
import type { Principal } from '../../services/auth';
import { hasAnyRole } from '../../services/auth';
import { clearCookie, setCookie } from '../cookies';
import { isLang } from '../i18n';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, LANG_COOKIE, SESSION_COOKIE, field, safeLocalPath } from '../pipeline';

/** Sign-in (password, or one click on a demo account on the local stack), sign-out, language. */
export function registerSessionPages({ pages, services, demoAccounts }: ConsoleKit): void {
  const loginPage = (
    ctx: PageContext,
    extra: { error?: string; username?: string } = {},
    status = 200,
  ): PageResult => ({
    status,
    view: 'login',
    model: {
      title: ctx.t('login.title'),
      next: safeLocalPath(ctx.query.next ?? field(ctx.form, 'next'), ''),
      username: extra.username ?? '',
      error: extra.error ?? null,
      demoAccounts: demoAccounts().map((a) => ({
        username: a.username,
        displayName: a.displayName,
        persona: a.persona,
        roles: a.roles.join(', '),
      })),
    },
  });

  const signIn = async (
    ctx: PageContext,
    username: string,
    password: string,
  ): Promise<PageResult> => {
    try {
      const session = await services.accounts.login(username, password, {
        address: ctx.req.ip ?? '',
      });
      setCookie(ctx.res, SESSION_COOKIE, session.token, {
        sameSite: 'Lax',
        secure: ctx.secureCookies,
        maxAgeSeconds: Math.max(
          60,
          Math.floor((session.expiresAt.getTime() - ctx.now.getTime()) / 1000),
        ),
      });
      const next = safeLocalPath(field(ctx.form, 'next'), '');
      return { redirect: next || homeOf(session.user.roles as Principal['roles']) };
    } catch (err) {
      if (err instanceof AppError && err.kind === 'too_many_requests') {
        const seconds = err.retryAfterSeconds ?? 1;
        ctx.res.setHeader('Retry-After', String(seconds));
        return loginPage(
          ctx,
          { error: ctx.t('login.throttled', { seconds: String(seconds) }), username },
          err.status,
        );
      }
      if (err instanceof AppError && err.kind === 'unauthenticated') {
        return loginPage(ctx, { error: ctx.t('login.wrong'), username }, err.status);
      }
      throw err;
    }
  };

  pages.add({
    method: 'get',
    path: '/',
    access: 'public',
    handle: (ctx) => ({
      redirect: ctx.principal ? homeOf(ctx.principal.roles) : `${BASE}/login`,
    }),
  });

  pages.add({
    method: 'get',
    path: '/login',
    access: 'public',
    handle: (ctx) => loginPage(ctx),
  });

  pages.add({
    method: 'post',
    path: '/login',
    access: 'public',
    handle: async (ctx) => {
      const username = field(ctx.form, 'username').trim();
      const password = field(ctx.form, 'password');
      if (!username || !password) {
        return loginPage(ctx, { error: ctx.t('login.missing'), username }, 422);
      }
      return signIn(ctx, username, password);
    },
  });

  pages.add({
    method: 'post',
    path: '/login/demo',
    access: 'public',
    handle: async (ctx) => {
      const account = demoAccounts().find((a) => a.username === field(ctx.form, 'username'));
      if (!account) throw new AppError('not_found', ctx.t('login.noDemo'));
      return signIn(ctx, account.username, account.password);
    },
  });

  pages.add({
    method: 'post',
    path: '/logout',
    access: 'public',
    handle: async (ctx) => {
      if (ctx.authorization) await services.accounts.logout(ctx.authorization);
      clearCookie(ctx.res, SESSION_COOKIE, ctx.secureCookies);
      return { redirect: `${BASE}/login` };
    },
  });

  pages.add({
    method: 'get',
    path: '/lang/:lang',
    access: 'public',
    handle: (ctx) => {
      const lang = ctx.req.params.lang;
      if (!isLang(lang)) throw new AppError('not_found', `No language "${String(lang)}"`);
      setCookie(ctx.res, LANG_COOKIE, lang, {
        sameSite: 'Lax',
        secure: ctx.secureCookies,
        maxAgeSeconds: 365 * 86_400,
      });
      return { redirect: safeLocalPath(ctx.query.back) };
    },
  });
}

/** A role's first page after sign-in. */
export function homeOf(roles: Principal['roles']): string {
  const principal = { roles } as Principal;
  if (hasAnyRole(principal, ['dispatcher', 'staff'])) return `${BASE}/inbox`;
  if (hasAnyRole(principal, ['admin'])) return `${BASE}/dashboard`;
  if (hasAnyRole(principal, ['resident'])) return `${BASE}/my/requests`;
  return `${BASE}/board`;
}

/** Registered last: any other console path is a page that does not exist. */
export function registerNotFoundPage({ pages }: ConsoleKit): void {
  pages.add({
    method: 'get',
    path: '/{*rest}',
    access: 'public',
    handle: (ctx) => {
      throw new AppError(
        'not_found',
        ctx.t('error.noPage', { path: ctx.req.originalUrl.split('?')[0] }),
      );
    },
  });
}

import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import path from 'node:path';
import express from 'express';
import type { ErrorRequestHandler, Router } from 'express';
import type { Logger } from 'pino';
import type { Principal } from '../services/auth';
import type { ConsoleServices, DemoSignIn } from './kit';
import { BASE, PageRouter } from './pipeline';
import { createRenderer } from './render';
import { yearToEnter } from './admin-calendar-view';
import { registerNotFoundPage, registerSessionPages } from './pages/session';
import { registerWorkPages } from './pages/work';
import { registerCasePages } from './pages/cases';
import { registerSupervisionPages } from './pages/supervisions';
import { registerResidentPages } from './pages/resident';
import { registerDefinitionPages } from './pages/admin-definitions';
import { registerOrgPages } from './pages/admin-org';
import { registerAvailabilityPages } from './pages/admin-availability';
import { registerRotaPages } from './pages/admin-rota';
import { registerCalendarPages } from './pages/admin-calendar';
import { registerCataloguePages } from './pages/admin-catalogue';
import { registerMailPages } from './pages/admin-mail';
import { registerCaseFailurePages } from './pages/admin-failures';
import { registerDashboardPages } from './pages/dashboard';
import { registerBoardPages } from './pages/board';
import { registerAttachmentPages } from './pages/attachments';
import { registerQuickReportPages } from './pages/quick-report';
import type { RateLimits } from '../services/limits';
import { registerAssessmentPages } from './pages/assessments';
import { registerEvaluationPages } from './pages/evaluations';
import { registerExportPages } from './pages/exports';
import { registerEmergencyPages } from './pages/emergency';

export { BASE } from './pipeline';
export type { ConsoleServices, DemoSignIn } from './kit';

export interface ConsoleOptions {
  /** `Secure` on cookies: `auto` (HTTPS and loopback), `always` or `never`. */
  cookieMode: 'auto' | 'always' | 'never';
  /** Signs CSRF tokens; replicas behind one address need the same (CONSOLE_SECRET). */
  secret?: string;
}

export interface ConsoleDeps {
  services: ConsoleServices;
  authenticate: (authorization: string | undefined) => Promise<Principal>;
  logger: Logger;
  clock: () => Date;
  options: ConsoleOptions;
  /** Rate limits for the pages that start cases, validate definitions or export (as the API's). */
  limits?: RateLimits;
}

export interface WebConsole {
  router: Router;
  /** Offers demo accounts for one-click sign-in (the local stack does, once the demo is loaded). */
  offerDemoAccounts(accounts: readonly DemoSignIn[]): void;
}

/**
 * What the static files answer for a file that is not there (404) or a path that is not one
 * (400: bad percent-encoding, a NUL byte; 403: a dotfile or `..`): the status `send` chose, in
 * plain text, never logged as a failure of ours.
 */
const staticMiss: ErrorRequestHandler = (err, _req, res, next) => {
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) {
    next(err);
    return;
  }
  res
    .status(status)
    .type('text')
    .send(STATUS_CODES[status] ?? 'Bad request');
};

/**
 * The web console: server-rendered pages over the API's services, mounted at `/console`.
 * Static files (CSS, the small enhancement script) come from this folder, never a CDN.
 */
export function createConsole(deps: ConsoleDeps): WebConsole {
  let demo: readonly DemoSignIn[] = [];
  const pages = new PageRouter({
    authenticate: deps.authenticate,
    displayNameOf: (principal) => deps.services.accounts.displayNameOf(principal),
    renderer: createRenderer(),
    clock: deps.clock,
    cookieMode: deps.options.cookieMode,
    secret: deps.options.secret ? Buffer.from(deps.options.secret) : randomBytes(32),
    logger: deps.logger,
    ...(deps.limits ? { limits: deps.limits } : {}),
    adminBanner: async (ctx) => {
      const years = (await deps.services.calendar.listYears()).map((y) => y.year);
      const year = yearToEnter(ctx.now, years);
      return year === null ? null : ctx.t('admin.cal.enterNextYear', { year });
    },
  });
  const kit = { pages, services: deps.services, clock: deps.clock, demoAccounts: () => demo };
  registerSessionPages(kit);
  registerWorkPages(kit);
  registerCasePages(kit);
  registerSupervisionPages(kit);
  registerResidentPages(kit);
  registerDefinitionPages(kit);
  registerOrgPages(kit);
  registerAvailabilityPages(kit);
  registerRotaPages(kit);
  registerCalendarPages(kit);
  registerCataloguePages(kit);
  registerMailPages(kit);
  registerCaseFailurePages(kit);
  registerDashboardPages(kit);
  registerBoardPages(kit);
  registerAttachmentPages(kit);
  registerQuickReportPages(kit);
  registerEvaluationPages(kit);
  registerAssessmentPages(kit);
  registerExportPages(kit);
  registerEmergencyPages(kit);
  registerNotFoundPage(kit);

  const router = express.Router();
  router.use(
    `${BASE}/static`,
    express.static(path.join(__dirname, 'static'), {
      maxAge: '1h',
      index: false,
      fallthrough: false,
    }),
    staticMiss,
  );
  const pageRouter = express.Router();
  pages.mount(pageRouter);
  router.use(BASE, pageRouter);
  router.get('/', (_req, res) => res.redirect(302, `${BASE}/`));
  return {
    router,
    offerDemoAccounts(accounts) {
      demo = [...accounts];
    },
  };
}

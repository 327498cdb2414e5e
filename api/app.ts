import { randomUUID } from 'node:crypto';
import express from 'express';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Principal } from '../services/auth';
import type { RateLimits } from '../services/limits';
import { AppError } from '../services/errors';
import { buildOpenApi } from './openapi';
import { logOf, requestIdOf, RouteRegistry, sendError } from './pipeline';
import { registerAccountRoutes } from './routes/accounts';
import { registerCalendarRoutes } from './routes/calendar';
import { registerCatalogueRoutes } from './routes/catalogue';
import { registerOrgRoutes } from './routes/org';
import { registerPairingRoutes } from './routes/pairings';
import { registerPeopleRoutes } from './routes/people';
import { registerAvailabilityRoutes } from './routes/availability';
import { registerCaseRoutes } from './routes/cases';
import { registerDefinitionRoutes } from './routes/definitions';
import { registerTaskRoutes } from './routes/tasks';
import { registerMetricsRoutes } from './routes/metrics';
import { registerBoardRoutes } from './routes/board';
import { registerAttachmentRoutes } from './routes/attachments';
import { registerEvaluationRoutes } from './routes/evaluations';
import { registerPointsRoutes } from './routes/points';
import { registerExportRoutes } from './routes/exports';
import { registerCaseImportRoutes } from './routes/case-import';
import { registerCaseFailureRoutes } from './routes/case-failures';
import {
  mountOpen311Fallback,
  OPEN311_BASE,
  open311ErrorResponse,
  registerOpen311Routes,
} from './routes/open311';
import { CODEC_BASE, codecCors, codecSessionCookie, registerCodecRoutes } from './routes/codec';
import { mountDocs } from './routes/docs';
import type { ReadinessCheck } from './routes/health';
import { mountHealthRoutes } from './routes/health';
import type { AccountService } from '../services/accounts';
import type { CalendarService } from '../services/calendar';
import type { CatalogueService } from '../services/catalogue';
import type { OrgService } from '../services/org';
import type { AvailabilityService } from '../services/availability';
import type { CaseService } from '../services/cases';
import type { DefinitionService } from '../services/definitions';
import type { TaskService } from '../services/tasks';
import type { Open311Api } from '../services/open311';
import type { MetricsService } from '../services/metrics';
import type { BoardService } from '../services/board';
import type { AttachmentService } from '../services/attachments';
import type { EvaluationService } from '../services/evaluations';
import type { PointsService } from '../services/points';
import type { CaseImportService } from '../services/case-import';
import type { PayloadCodecService } from '../services/payload-codec';
import type { CaseFailureService } from '../services/case-failures';
import type { LedgerService } from '../services/ledgers';
import type { WebConsole } from '../console';
import { SESSION_COOKIE } from '../console/pipeline';
import type { MailService } from '../services/mail';
import { registerMailRoutes } from './routes/mail';
import { registerQuickReportRoutes } from './routes/quick-reports';
import type { QuickReportService } from '../services/quick-reports';

export interface AppDependencies {
  logger: Logger;
  bodyLimit: string;
  version: string;
  authenticate: (authorization: string | undefined) => Promise<Principal>;
  /** Rate limits for the routes that name one (RouteSpec.limit); none when absent. */
  limits?: RateLimits;
  services: {
    cases: CaseService;
    accounts: AccountService;
    calendar: CalendarService;
    org: OrgService;
    availability: AvailabilityService;
    tasks: TaskService;
    definitions: DefinitionService;
    open311: Open311Api;
    metrics: MetricsService;
    board: BoardService;
    attachments: AttachmentService;
    evaluations: EvaluationService;
    points: PointsService;
    caseImport: CaseImportService;
    payloadCodec: PayloadCodecService;
    mail: MailService;
    caseFailures: CaseFailureService;
    catalogue: CatalogueService;
    ledgers: LedgerService;
    quickReports: QuickReportService;
  };
  /** Browser origins (the Temporal Web UI's) allowed to call the codec endpoint. */
  codecCorsOrigins?: readonly string[];
  readiness: ReadinessCheck[];
  /** The web console, mounted at `/console` (and `/`), when the app serves it. */
  console?: WebConsole;
  /** Express's `trust proxy` (TRUST_PROXY): which proxies' X-Forwarded-* headers count. */
  trustProxy?: boolean | number | string[];
}

/** All routes, described once: the same registry mounts them and generates the OpenAPI document. */
export function createRoutes(services: AppDependencies['services']): RouteRegistry {
  const routes = new RouteRegistry();
  registerCaseRoutes(routes, services.cases);
  registerTaskRoutes(routes, services.tasks);
  registerAccountRoutes(routes, services.accounts);
  registerCalendarRoutes(routes, services.calendar);
  registerOrgRoutes(routes, services.org);
  registerPairingRoutes(routes, services.org.pairings);
  registerPeopleRoutes(routes, services.org);
  registerAvailabilityRoutes(routes, services.availability);
  registerDefinitionRoutes(routes, services.definitions);
  registerOpen311Routes(routes, services.open311);
  registerMetricsRoutes(routes, services.metrics);
  registerBoardRoutes(routes, services.board);
  registerAttachmentRoutes(routes, services.attachments);
  registerEvaluationRoutes(routes, services.evaluations);
  registerPointsRoutes(routes, services.points);
  registerCaseImportRoutes(routes, services.caseImport);
  registerCodecRoutes(routes, services.payloadCodec);
  registerMailRoutes(routes, services.mail);
  registerCaseFailureRoutes(routes, services.caseFailures);
  registerCatalogueRoutes(routes, services.catalogue);
  registerExportRoutes(routes, services.ledgers);
  registerQuickReportRoutes(routes, services.quickReports);
  return routes;
}

/** The Express app: only HTTP concerns live here; behaviour is in services/. */
export function createApp(deps: AppDependencies): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Off unless configured: a client could otherwise claim HTTPS or another address itself.
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(
    pinoHttp({
      logger: deps.logger,
      // Accept a caller's request id (for tracing across systems) only in a safe shape.
      genReqId(req, res) {
        const incoming = req.headers['x-request-id'];
        const id =
          typeof incoming === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(incoming)
            ? incoming
            : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // A 5xx line carries no error pino-http invents ("failed with status code 503", with a
      // stack): sendError has logged a bug's error with its stack, or a warn line for a
      // dependency that is down, once.
      customErrorObject(_req, res, error, val: Record<string, unknown>) {
        if (error.message !== `failed with status code ${res.statusCode}`) return val;
        const line = { ...val };
        delete line.err;
        return line;
      },
      // Log the route, never query strings or bodies (they may carry personal data).
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split('?')[0],
        }),
      },
    }),
  );
  app.use((_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });

  const router = express.Router();
  mountHealthRoutes(router, deps.readiness);
  if (deps.console) router.use(deps.console.router);
  const routes = createRoutes(deps.services);
  // The Temporal UI's remote codec calls come from its own origin, with the console's cookie.
  router.use(
    CODEC_BASE,
    codecCors(deps.codecCorsOrigins ?? []),
    codecSessionCookie(SESSION_COOKIE),
  );
  // Bodies are parsed per route (see RouteSpec.bodyFormat and bodyLimit), not app-wide.
  routes.mount(router, {
    authenticate: deps.authenticate,
    bodyLimit: deps.bodyLimit,
    ...(deps.limits ? { limits: deps.limits } : {}),
  });
  mountDocs(router, buildOpenApi(routes, { version: deps.version }));
  mountOpen311Fallback(router);
  app.use(router);

  app.use((req, res) => {
    sendError(
      res,
      new AppError('not_found', `No route ${req.method} ${req.path}`),
      requestIdOf(req),
      logOf(req),
    );
  });
  // Errors no route answered (a path whose percent-encoding does not decode fails before any
  // route runs): Open311's paths answer in Open311's shape, the rest in the API's.
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const open311 = req.path === OPEN311_BASE || req.path.startsWith(`${OPEN311_BASE}/`);
    sendError(res, err, requestIdOf(req), logOf(req), open311 ? open311ErrorResponse : undefined);
  };
  app.use(onError);
  return app;
}

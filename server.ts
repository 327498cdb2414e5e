import type { Server } from 'node:http';
import { Client, Connection } from '@temporalio/client';
import type { AppConfig } from './common/config';
import { loadConfig } from './common/config';
import type { Logger } from './common/logger';
import { createLogger } from './common/logger';
import { EncryptionCodec, FAILURE_CONVERTER_PATH } from './common/payload-codec';
import { createMailRenderer } from './mail/renderer';
import { connectDatabase } from './models';
import { createApp } from './api/app';
import { createAuthenticator } from './services/auth';
import { createScopeResolver } from './services/scope';
import { createOrgSnapshot, unitsMissingFrom } from './common/org-snapshot';
import { createAccountService } from './services/accounts';
import { createRateLimits, limitsConfigOf } from './services/limits';
import { createCalendarService } from './services/calendar';
import { createMailService } from './services/mail';
import { createCaseService } from './services/cases';
import { createOpen311Service } from './services/open311';
import { createQuickReportService } from './services/quick-reports';
import { phoneKeysFor } from './services/phone-keys';
import { createOrgService } from './services/org';
import { createAvailabilityService } from './services/availability';
import { createTaskService } from './services/tasks';
import { createMetricsService } from './services/metrics';
import { createUnitDirectory } from './services/unit-directory';
import { createBoardService } from './services/board';
import { createAttachmentService } from './services/attachments';
import { createEvaluationService } from './services/evaluations';
import { createPointsService } from './services/points';
import { createLedgerService } from './services/ledgers';
import { createCaseImportService } from './services/case-import';
import { createDefinitionService } from './services/definitions';
import { SHIPPED_DEFINITIONS_DIR } from './services/definition-folder';
import type { PublishResult } from './services/definitions';
import { createScheduleService } from './services/schedules';
import { createPayloadCodecService } from './services/payload-codec';
import { createCaseFailureService } from './services/case-failures';
import { createCatalogueService } from './services/catalogue';
import { createConsole } from './console';
import type { DemoSignIn } from './console';

export interface RunningApi {
  url: string;
  port: number;
  /** What start-up published from `definitions/` (unchanged files are listed as not published). */
  definitions: PublishResult[];
  /** Registers an admin key (see AccountService.ensureBootstrapAdminKey). */
  ensureBootstrapAdminKey(
    secret: string,
    options?: { onlyIfNoAdmin: boolean },
  ): Promise<'created' | 'exists'>;
  /** Offers demo accounts on the console's sign-in page (the local stack does after seeding). */
  offerDemoAccounts(accounts: readonly DemoSignIn[]): void;
  stop(): Promise<void>;
}

/**
 * Connects to MongoDB and Temporal once for the process, publishes the shipped definitions whose
 * content changed, and listens. Tests pass port 0.
 */
export async function startApi(
  config: AppConfig,
  options: { definitionsDir?: string | null; logger?: Logger } = {},
): Promise<RunningApi> {
  const logger = options.logger ?? createLogger('api', config.LOG_LEVEL);
  // Before connecting: production without PHONE_KEY_SECRET refuses to start, naming it.
  const phoneKeys = phoneKeysFor(config, (message) => logger.warn(message));
  const db = await connectDatabase(config.MONGODB_URI, {
    callTimeoutMs: config.STORE_CALL_TIMEOUT_MS,
    warn: (message) => logger.warn(message),
  });
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  // Payloads are encrypted before they reach Temporal (common/payload-codec.ts); the same codec
  // serves the Temporal UI's codec endpoint.
  const codec = config.TEMPORAL_CODEC_KEYS
    ? new EncryptionCodec(config.TEMPORAL_CODEC_KEYS)
    : undefined;
  const temporal = new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: {
      failureConverterPath: FAILURE_CONVERTER_PATH,
      payloadCodecs: codec ? [codec] : [],
    },
  });
  const clock = () => new Date();

  try {
    // One org snapshot per process (the unit tree, reloaded only when the org revision moves),
    // shared by the definitions' publish check, the scope resolver and the unit directory; one
    // resolver for every service that reads cases, tasks or people within a scope.
    const orgSnapshot = createOrgSnapshot({ models: db.models });
    // Schedules follow the latest published version of each key (created, updated, deleted).
    const schedules = createScheduleService({
      temporal,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      latestSnapshot: (key) => definitions.latestSnapshot(key),
      logger,
    });
    const definitions = createDefinitionService(db.models, createMailRenderer().templateNames, {
      changed: (key) => schedules.sync(key),
      missingUnits: async (unitIds) => unitsMissingFrom(await orgSnapshot.get(), unitIds),
    });
    const authenticator = createAuthenticator(db.models, { clock });
    const limits = createRateLimits({
      db: db.connection.db!,
      config: limitsConfigOf(config),
      keys: phoneKeys,
    });
    await limits.ensureIndexes();
    const accounts = createAccountService({
      models: db.models,
      clock,
      limits,
      sessionTtlHours: config.SESSION_TTL_HOURS,
      onRevoked: (which) =>
        which === 'all' ? authenticator.forgetAll() : authenticator.forget(which.authorization),
    });
    const calendar = createCalendarService({
      models: db.models,
      clock,
      workingWindows: config.WORKING_HOURS,
      temporal,
      logger,
    });
    const scope = createScopeResolver(db.models, { snapshot: orgSnapshot });
    await calendar.seedShippedYears();
    const cases = createCaseService({
      models: db.models,
      temporal,
      callTimeoutMs: config.TEMPORAL_CALL_TIMEOUT_MS,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      definitions,
      scope,
      clock,
    });

    const definitionsDir =
      options.definitionsDir === undefined ? SHIPPED_DEFINITIONS_DIR : options.definitionsDir;
    const published = definitionsDir
      ? await definitions.publishFolder(definitionsDir, { kind: 'system', id: 'startup' })
      : [];
    for (const result of published.filter((r) => r.published)) {
      logger.info({ key: result.key, version: result.version }, 'published definition');
    }
    // Keys published through the API earlier, or retired, get their schedules checked too.
    await schedules.syncAll((await definitions.list()).map((d) => d.key));
    if (config.BOOTSTRAP_ADMIN_API_KEY) {
      const outcome = await accounts.ensureBootstrapAdminKey(config.BOOTSTRAP_ADMIN_API_KEY);
      if (outcome === 'created') logger.info('registered the bootstrap admin API key');
    }

    // Failed and stuck cases for admins; the reconciler's schedule runs a pass every few minutes.
    const caseFailures = createCaseFailureService({
      models: db.models,
      temporal,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      callTimeoutMs: config.TEMPORAL_CALL_TIMEOUT_MS,
      latestSnapshot: (key) => definitions.latestSnapshot(key),
      clock,
      logger,
    });
    await caseFailures.ensureReconcilerSchedule();

    // The same snapshot names and places units for the read-side reports (metrics, board, points).
    const units = createUnitDirectory({ models: db.models, snapshot: orgSnapshot });
    const services = {
      cases,
      accounts,
      calendar,
      org: createOrgService({ models: db.models, scope, clock }),
      availability: createAvailabilityService({ models: db.models, scope, clock }),
      tasks: createTaskService({
        models: db.models,
        temporal,
        callTimeoutMs: config.TEMPORAL_CALL_TIMEOUT_MS,
        scope,
        definitions,
      }),
      definitions,
      open311: createOpen311Service({ models: db.models, cases, definitions, scope }),
      metrics: createMetricsService({ models: db.models, scope, clock, units }),
      board: createBoardService({ models: db.models, clock, units, definitions }),
      attachments: createAttachmentService({
        models: db.models,
        scope,
        clock,
        temporal,
        callTimeoutMs: config.TEMPORAL_CALL_TIMEOUT_MS,
        logger,
      }),
      evaluations: createEvaluationService({
        models: db.models,
        temporal,
        callTimeoutMs: config.TEMPORAL_CALL_TIMEOUT_MS,
        scope,
      }),
      points: createPointsService({ models: db.models, scope, clock, units }),
      caseImport: createCaseImportService({
        temporal,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        definitions,
        scope,
        models: db.models,
      }),
      payloadCodec: createPayloadCodecService(codec),
      mail: createMailService({
        models: db.models,
        clock,
        expiryMs: config.MAIL_EXPIRY_HOURS * 3_600_000,
      }),
      caseFailures,
      catalogue: createCatalogueService({ models: db.models, snapshot: orgSnapshot, clock }),
      quickReports: createQuickReportService({
        models: db.models,
        cases,
        definitions,
        units: orgSnapshot,
        limits,
        phoneKeys,
        clock,
        logger,
        temporal: { client: temporal, callTimeoutMs: config.TEMPORAL_CALL_TIMEOUT_MS },
        settings: {
          codeTtlSeconds: config.QUICK_REPORT_CODE_TTL_SECONDS,
          maxAttempts: config.QUICK_REPORT_CODE_ATTEMPTS,
          smsEnabled: config.SMS_HTTP_URL !== undefined,
        },
      }),
    };
    await services.quickReports.ensureIndexes();
    const ledgers = createLedgerService({
      models: db.models,
      scope,
      units,
      metrics: services.metrics,
      evaluations: services.evaluations,
      clock,
    });
    const authenticate = (authorization: string | undefined) =>
      authenticator.authenticate(authorization);
    const webConsole = createConsole({
      services: { ...services, units, ledgers },
      authenticate,
      logger,
      clock,
      limits,
      options: {
        cookieMode: config.CONSOLE_SECURE_COOKIES,
        ...(config.CONSOLE_SECRET ? { secret: config.CONSOLE_SECRET } : {}),
      },
    });
    const app = createApp({
      logger,
      bodyLimit: config.API_BODY_LIMIT,
      trustProxy: config.TRUST_PROXY,
      version: process.env.npm_package_version ?? '0.1.0',
      authenticate,
      limits,
      services: { ...services, ledgers },
      console: webConsole,
      codecCorsOrigins: config.TEMPORAL_CODEC_CORS_ORIGINS ?? [],
      readiness: [
        {
          name: 'temporal',
          check: async () => void (await connection.workflowService.getSystemInfo({})),
        },
        { name: 'mongodb', check: async () => void (await db.connection.db!.admin().ping()) },
      ],
    });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.API_PORT, config.API_HOST, (err?: Error) =>
        err ? reject(err) : resolve(s),
      );
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.API_PORT;
    const host = config.API_HOST === '0.0.0.0' ? '127.0.0.1' : config.API_HOST;
    logger.info({ port }, 'api listening');

    return {
      url: `http://${host}:${port}`,
      port,
      definitions: published,
      ensureBootstrapAdminKey: (secret, opts) => accounts.ensureBootstrapAdminKey(secret, opts),
      offerDemoAccounts: (demo) => webConsole.offerDemoAccounts(demo),
      async stop() {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await connection.close();
        await db.close();
      },
    };
  } catch (err) {
    await connection.close();
    await db.close();
    throw err;
  }
}

// Entry point of the API process (production image, `npm run api`): stops cleanly on a signal.
if (require.main === module) {
  const logger = createLogger('api');
  startApi(loadConfig()).then(
    (api) => {
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        api.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    },
    (err: unknown) => {
      logger.error({ err }, 'api failed to start');
      process.exit(1);
    },
  );
}

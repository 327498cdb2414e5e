import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { startListDayKeeper } from './activities/list-days';
import { startRollupKeeper } from './activities/metric-rollups';
import type { OutboxStats } from './activities/outbox';
import { createOutboxDispatcher, DEFAULT_OUTBOX_OPTIONS } from './activities/outbox';
import { stuckActivityAlerts } from './activities/stuck-activities';
import type { AppConfig } from './common/config';
import { loadConfig } from './common/config';
import { createLogger } from './common/logger';
import { dataConverterFor } from './common/payload-codec';
import { createMailRenderer } from './mail/renderer';
import { createSmtpTransport } from './mail/transport';
import { createChannelSender } from './channels/sender';
import { createHttpSmsProvider } from './channels/sms';
import { connectDatabase } from './models';

export interface RunningWorker {
  /** Settles when the worker has stopped (after {@link stop} or a fatal error). */
  readonly finished: Promise<void>;
  /** The outbox dispatcher's counters (bench:rollcall prints them). */
  outboxStats(): OutboxStats;
  stop(): Promise<void>;
}

/**
 * Connects to Temporal, MongoDB and SMTP, registers the interpreter workflow and the activities,
 * and starts polling. `workflowBundle` lets tests reuse one pre-built bundle.
 */
export async function startWorker(
  config: AppConfig,
  options: { workflowBundle?: WorkerOptions['workflowBundle'] } = {},
): Promise<RunningWorker> {
  const logger = createLogger('worker', config.LOG_LEVEL);
  const db = await connectDatabase(config.MONGODB_URI, { warn: (message) => logger.warn(message) });
  // One pooled connection per mail the dispatcher sends at once, so no send waits for a
  // connection (with 4 for 8 sends, half of them queued inside nodemailer).
  const transport = createSmtpTransport(config.SMTP_URL, {
    maxConnections: DEFAULT_OUTBOX_OPTIONS.sends,
  });
  const renderer = createMailRenderer();
  // SMS only with a provider configured; the robots' webhooks are per unit or person (org data).
  const channels = createChannelSender({
    sms: config.SMS_HTTP_URL
      ? createHttpSmsProvider({
          url: config.SMS_HTTP_URL,
          authHeader: config.SMS_HTTP_AUTH ?? null,
        })
      : null,
    smsTemplateIds: config.SMS_TEMPLATE_IDS,
  });
  const outbox = createOutboxDispatcher({
    channels,
    models: db.models,
    transport,
    renderer,
    from: config.MAIL_FROM,
    clock: () => new Date(),
    logger,
    options: {
      ...DEFAULT_OUTBOX_OPTIONS,
      expiryMs: config.MAIL_EXPIRY_HOURS * 3_600_000,
      maxBackoffMs: config.MAIL_RETRY_MAX_BACKOFF_SECONDS * 1000,
      leaseMs: config.MAIL_SEND_LEASE_SECONDS * 1000,
    },
  });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const dataConverter = dataConverterFor(config.TEMPORAL_CODEC_KEYS);
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    // Payloads are encrypted before they reach Temporal (common/payload-codec.ts).
    dataConverter,
    ...workflowSource(config, options.workflowBundle),
    // An activity failing past the threshold raises an alert (activities/stuck-activities.ts).
    interceptors: {
      activity: [
        stuckActivityAlerts({
          models: db.models,
          clock: () => new Date(),
          logger,
          thresholdMs: config.STUCK_ACTIVITY_ALERT_SECONDS * 1000,
        }),
      ],
    },
    activities: createActivities({
      models: db.models,
      mail: { transport, renderer, from: config.MAIL_FROM, outbox },
      channels,
      clock: () => new Date(),
      logger,
      workingWindows: config.WORKING_HOURS,
      // The reconciler reads visibility through the worker's own connection.
      temporal: {
        client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter }),
        taskQueue: config.TEMPORAL_TASK_QUEUE,
      },
    }),
  });
  // Sends what the outbox holds (also what an earlier process left) while the worker runs.
  outbox.start();
  // Folds the metric roll-ups' changes, and backfills them once on an upgraded store.
  const rollups = startRollupKeeper({ models: db.models, logger });
  // Gives an upgraded store's cases their list and board day keys once, and recounts the days
  // the projection marked dirty every 30 s (activities/list-days.ts).
  const listDays = startListDayKeeper({ models: db.models, logger });
  const finished = worker.run().finally(async () => {
    await rollups.stop();
    await listDays.stop();
    await outbox.stop();
    transport.close();
    await connection.close();
    await db.close();
  });
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker started');
  return {
    finished,
    outboxStats: () => outbox.stats(),
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await finished;
    },
  };
}

function workflowSource(
  config: AppConfig,
  bundle: WorkerOptions['workflowBundle'] | undefined,
): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (bundle) return { workflowBundle: bundle };
  if (config.WORKFLOW_BUNDLE_PATH)
    return { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } };
  return { workflowsPath: require.resolve('./workflows') };
}

/** The SDK's log levels for ours: its INFO is chatty (every bundle it builds), so start at WARN. */
export function sdkLogLevel(
  level: AppConfig['LOG_LEVEL'],
): 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' {
  if (level === 'trace') return 'TRACE';
  if (level === 'debug') return 'DEBUG';
  if (level === 'error' || level === 'fatal' || level === 'silent') return 'ERROR';
  return 'WARN';
}

if (require.main === module) {
  const logger = createLogger('worker');
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger(sdkLogLevel(config.LOG_LEVEL)) });
  startWorker(config)
    .then((running) => {
      // The SDK already shuts the worker down on SIGINT/SIGTERM; wait for it to drain.
      running.finished.then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'worker stopped with an error');
          process.exit(1);
        },
      );
    })
    .catch((err: unknown) => {
      logger.error({ err }, 'worker failed to start');
      process.exit(1);
    });
}

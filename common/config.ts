import { z } from 'zod';

/**
 * Configuration shared by the API, the worker and the local stack. Parsed once at boot from the
 * environment; a bad value fails fast with the variable's name so nobody debugs a half-started
 * process.
 */
const port = z.coerce.number().int().min(0).max(65535);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** Largest JSON body the API accepts, in bytes or a size such as `100kb`. */
  API_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)?$/i, 'a size such as 100kb')
    .default('100kb'),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'host:port, e.g. 127.0.0.1:7233')
    .default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('governance-cases'),
  /**
   * How long the API waits on Temporal for an Update (a task or evaluation action) or a case start
   * before answering 503 with Retry-After. 10 s: far above the sub-second answers of a healthy
   * server, well below the proxy timeouts (30-60 s) that would cut the request without an answer.
   */
  TEMPORAL_CALL_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
  /** A workflow bundle built by `npm run bundle`; without it the worker bundles at start-up. */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// or mongodb+srv:// URI')
    .default('mongodb://127.0.0.1:27017/governance'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'an smtp:// or smtps:// URL')
    .default('smtp://127.0.0.1:1025'),
  MAIL_FROM: z.string().min(3).default('社区治理服务平台 <noreply@governance.local>'),
  /**
   * How long the outbox keeps retrying a mail before it is marked failed (an admin can send it
   * again from the console). 72 hours (chosen): a relay outage over a long weekend still delivers.
   */
  MAIL_EXPIRY_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(72),
  /** Office hours SLA working time counts, Beijing time: `09:00-12:00,13:30-17:30`. */
  WORKING_HOURS: z
    .string()
    .regex(
      /^\d{2}:\d{2}-\d{2}:\d{2}(,\d{2}:\d{2}-\d{2}:\d{2})*$/,
      'windows such as 09:00-12:00,13:30-17:30',
    )
    .default('09:00-12:00,13:30-17:30')
    .transform((value, ctx) => {
      const windows = value.split(',').map((w) => {
        const [start, end] = w.split('-').map((t) => {
          const [h, m] = t.split(':').map(Number);
          return h! * 60 + m!;
        });
        return { start: start!, end: end! };
      });
      const bad = windows.some(
        (w, i) => w.start >= w.end || w.end > 1440 || (i > 0 && w.start < windows[i - 1]!.end),
      );
      if (bad) {
        ctx.addIssue({
          code: 'custom',
          message: 'windows must be ordered, each start before its end',
        });
        return z.NEVER;
      }
      return windows;
    }),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(12),
  /**
   * `Secure` on the console's cookies: `auto` (over HTTPS, and on loopback where browsers accept
   * it over HTTP), `always`, or `never` (an intranet served over plain HTTP by name).
   */
  CONSOLE_SECURE_COOKIES: z.enum(['auto', 'always', 'never']).default('auto'),
  /** Signs the console's CSRF tokens; set the same value on every API replica behind one address. */
  CONSOLE_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /**
   * An API key to register as an admin key at boot when none exists yet: the first key of a
   * production install (the local stack creates one itself).
   */
  BOOTSTRAP_ADMIN_API_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{32,128}$/, '32 to 128 characters of [A-Za-z0-9_-]')
    .optional()
    .or(z.literal('').transform(() => undefined)),
});

export type AppConfig = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws {@link ConfigError} naming every bad variable at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  // An empty variable (`API_PORT=`) means "not set", as in most shells' and compose files' usage.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  return parsed.data;
}

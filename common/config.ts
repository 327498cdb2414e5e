import { isIP } from 'node:net';
import { z } from 'zod';
import { parseCodecKeys } from './payload-codec';

/**
 * Configuration shared by the API, the worker and the local stack. Parsed once at boot from the
 * environment; a bad value fails fast with the variable's name so nobody debugs a half-started
 * process.
 */
const port = z.coerce.number().int().min(0).max(65535);

/** A rate limit: `120/60` is 120 requests per 60 s; `off` switches it off. */
const rate = (fallback: string) =>
  z
    .string()
    .regex(/^(off|[1-9]\d*\/[1-9]\d*)$/, 'a rate such as 120/60 (requests/seconds), or off')
    .default(fallback)
    .transform((value) => {
      if (value === 'off') return null;
      const [points, seconds] = value.split('/').map(Number);
      return { points: points!, seconds: seconds! };
    });

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
  /**
   * How long the API waits on the store (MongoDB/FerretDB) before answering 503 with Retry-After:
   * to find a reachable server, and for a reply on a connection that has gone quiet. 15 s
   * (chosen): above the slowest list query a loaded embedded store answers, below the proxy
   * timeouts (30-60 s) that would cut the request without an answer. The worker waits longer
   * (activities retry on their own).
   */
  STORE_CALL_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
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
  /**
   * The longest wait between two delivery attempts of a mail in the outbox (the wait doubles from
   * 5 s up to this). 900 s = 15 minutes (chosen); the chaos run (`npm run chaos -- --fast`) sets
   * it low so mail goes out within seconds of the relay's return.
   */
  MAIL_RETRY_MAX_BACKOFF_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 3600)
    .default(900),
  /**
   * How long a dispatcher holds a mail it is sending (its lease): a worker killed mid-send leaves
   * the mail `sending`, and another worker sends it again (same Message-ID) once the lease runs
   * out. 120 s (chosen): far above one SMTP send, short enough that a crash delays a mail little.
   */
  MAIL_SEND_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(120),
  /**
   * The SMS provider's JSON HTTP endpoint (channels/sms.ts); unset: no SMS channel (people who
   * prefer it get their next channel). `npm start` points it at the local webhook sink.
   */
  SMS_HTTP_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** One header line sent with every SMS request, `Name: value` (e.g. an API key). Secret. */
  SMS_HTTP_AUTH: z
    .string()
    .regex(/^[A-Za-z0-9-]+:\s*\S.*$/, 'one header line, "Name: value"')
    .optional(),
  /**
   * The provider's approved template id per notification kind, as JSON
   * (`{"task-reminder":"SMS_12345"}`); a kind left out is sent with its own name as the id.
   */
  SMS_TEMPLATE_IDS: z
    .string()
    .default('{}')
    .transform((value, ctx) => {
      try {
        const parsed = JSON.parse(value) as unknown;
        if (
          parsed &&
          typeof parsed === 'object' &&
          !Array.isArray(parsed) &&
          Object.values(parsed).every((v) => typeof v === 'string')
        ) {
          return parsed as Record<string, string>;
        }
      } catch {
        // reported below
      }
      ctx.addIssue({ code: 'custom', message: 'a JSON object of template name → template id' });
      return z.NEVER;
    }),
  /**
   * How long an activity may keep failing (counted from its first attempt) before the worker
   * records an alert and the admins are mailed (a projection that cannot apply its revision, a
   * store write refused again and again). 600 s = 10 minutes (chosen): past a store restart or a
   * deploy, well before anyone notices a case that stopped moving.
   */
  STUCK_ACTIVITY_ALERT_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(600),
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
  /**
   * Which proxies in front of the API are trusted for `X-Forwarded-For/-Proto/-Host`, with
   * Express's `trust proxy` semantics: `false` (the default: the headers are ignored), `true`
   * (trust every hop: only when nothing reaches the API but through the proxy), a hop count
   * (`1`: the one proxy in front), or a comma-separated list of addresses, subnets (CIDR) and the
   * names `loopback`, `linklocal`, `uniquelocal`. Behind a TLS proxy it keeps cookies `Secure`
   * and client addresses right.
   */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((value, ctx): boolean | number | string[] => {
      const text = value.trim();
      if (text === 'false') return false;
      if (text === 'true') return true;
      if (/^\d+$/.test(text)) return Number(text);
      const entries = text.split(',').map((entry) => entry.trim());
      const bad = entries.filter((entry) => !isProxyEntry(entry));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `true, false, a hop count, or addresses/subnets/loopback,linklocal,uniquelocal; not ${bad.map((b) => `"${b}"`).join(', ')}`,
        });
        return z.NEVER;
      }
      return entries;
    }),
  /** Signs the console's CSRF tokens; set the same value on every API replica behind one address. */
  CONSOLE_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /**
   * Keys phone numbers in the store (quick-report codes, the per-number rate limit) by HMAC, so
   * a copy of the database does not reveal them (services/phone-keys.ts). Required by the API in
   * production; the same on every API replica; the local stack generates one.
   */
  PHONE_KEY_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  /*
   * Rate limits (chosen defaults, generous for people and tests; see README "Rate limits"). Each
   * is `<requests>/<seconds>` or `off`, per account (API key or person) and per client address,
   * counted in the database so every API replica spends the same budget.
   */
  RATE_LIMIT_CASE_START: rate('120/60'),
  RATE_LIMIT_CASE_START_ADDRESS: rate('600/60'),
  RATE_LIMIT_OPEN311_POST: rate('120/60'),
  RATE_LIMIT_OPEN311_POST_ADDRESS: rate('600/60'),
  RATE_LIMIT_DEFINITION_VALIDATE: rate('60/60'),
  RATE_LIMIT_DEFINITION_VALIDATE_ADDRESS: rate('300/60'),
  RATE_LIMIT_EXPORT: rate('30/60'),
  RATE_LIMIT_EXPORT_ADDRESS: rate('120/60'),
  /** Photo uploads: each is decoded and re-encoded, the costliest request a person can repeat. */
  RATE_LIMIT_ATTACHMENT_UPLOAD: rate('120/60'),
  RATE_LIMIT_ATTACHMENT_UPLOAD_ADDRESS: rate('600/60'),
  /** Quick-report codes per phone number, registered or not (an SMS costs and disturbs). */
  RATE_LIMIT_QUICK_REPORT_CODE_PHONE: rate('5/3600'),
  /** Quick-report codes asked from one client address (a carrier's NAT hides many phones). */
  RATE_LIMIT_QUICK_REPORT_CODE_ADDRESS: rate('60/600'),
  /** Quick reports submitted from one client address, wrong codes included. */
  RATE_LIMIT_QUICK_REPORT_ADDRESS: rate('60/600'),
  /** How long a quick-report code stays valid, in seconds (chosen: 5 minutes). */
  QUICK_REPORT_CODE_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  /** Tries of a quick-report code (wrong ones, and the one that files) before it is void (chosen: 5). */
  QUICK_REPORT_CODE_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  /** Sign-in attempts per client address (an office behind one NAT address signs in together). */
  RATE_LIMIT_SIGNIN_ADDRESS: rate('300/300'),
  /** Failed sign-ins per (address, username) answered at once; each further one doubles a wait. */
  SIGNIN_FREE_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  /** Failed sign-ins per username from every address before the addresses that failed must wait. */
  SIGNIN_ACCOUNT_FREE_FAILURES: z.coerce.number().int().min(1).max(100_000).default(20),
  /** The longest wait after failed sign-ins, in seconds. */
  SIGNIN_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** How long failed sign-ins are remembered, in seconds from the first. */
  SIGNIN_FAILURE_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(3600),
  /**
   * An API key to register as an admin key at boot when none exists yet: the first key of a
   * production install (the local stack creates one itself).
   */
  BOOTSTRAP_ADMIN_API_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{32,128}$/, '32 to 128 characters of [A-Za-z0-9_-]')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /**
   * The payload codec's keyring, `id:base64key,id:base64key` (32-byte AES-256 keys); the first
   * encrypts, all decrypt. Required in production unless TEMPORAL_CODEC_DISABLED=true.
   */
  TEMPORAL_CODEC_KEYS: z
    .string()
    .transform((value, ctx) => {
      try {
        return parseCodecKeys(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  /** `true` runs production without payload encryption: histories keep payloads in plain text. */
  TEMPORAL_CODEC_DISABLED: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  /**
   * Origins (comma-separated) allowed to call the codec endpoint from a browser: the Temporal
   * Web UI's, e.g. `https://temporal.example.gov`. Unset: no cross-origin calls.
   */
  TEMPORAL_CODEC_CORS_ORIGINS: z
    .string()
    .transform((value, ctx) => {
      const origins = value.split(',').map((o) => o.trim());
      const bad = origins.find((o) => !/^https?:\/\/[^/\s]+$/.test(o));
      if (bad !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${bad}" is not an origin such as https://temporal.example.gov (no path)`,
        });
        return z.NEVER;
      }
      return origins;
    })
    .optional(),
});

export type AppConfig = z.infer<typeof envSchema>;

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** A `trust proxy` list entry: a preset name, an IP address, or a subnet `address/prefix`. */
function isProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

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
  const codecProblem = codecKeysProblem(parsed.data);
  if (codecProblem) throw new ConfigError([codecProblem]);
  return parsed.data;
}

/**
 * Production refuses to start without payload encryption unless told so explicitly; keys and
 * TEMPORAL_CODEC_DISABLED together are a contradiction. Development and tests without keys run
 * without the codec (the local stack always provides a key).
 */
function codecKeysProblem(config: AppConfig): string | undefined {
  if (config.TEMPORAL_CODEC_KEYS && config.TEMPORAL_CODEC_DISABLED) {
    return 'TEMPORAL_CODEC_KEYS: set, but TEMPORAL_CODEC_DISABLED=true: keep one of them';
  }
  if (
    config.NODE_ENV === 'production' &&
    !config.TEMPORAL_CODEC_KEYS &&
    !config.TEMPORAL_CODEC_DISABLED
  ) {
    return (
      'TEMPORAL_CODEC_KEYS: required in production, or payloads (case data, names, phone ' +
      'numbers) are stored in Temporal history in plain text. Set it to id:base64key ' +
      '(32 random bytes, e.g. `openssl rand -base64 32`), or set TEMPORAL_CODEC_DISABLED=true ' +
      'to accept plain-text history'
    );
  }
  return undefined;
}

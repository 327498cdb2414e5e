import { ConfigError, loadConfig } from '../../common/config';

function configErrorOf(env: NodeJS.ProcessEnv): ConfigError | undefined {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  return undefined;
}

describe('loadConfig', () => {
  it('when the environment is empty, then every setting has its default', () => {
    // Act
    const config = loadConfig({});

    // Assert
    expect(config).toEqual({
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      API_HOST: '127.0.0.1',
      API_PORT: 3000,
      API_BODY_LIMIT: '100kb',
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'governance-cases',
      TEMPORAL_CALL_TIMEOUT_MS: 10_000,
      STORE_CALL_TIMEOUT_MS: 15_000,
      SMS_TEMPLATE_IDS: {},
      STUCK_ACTIVITY_ALERT_SECONDS: 600,
      WORKING_HOURS: [
        { start: 540, end: 720 },
        { start: 810, end: 1050 },
      ],
      MONGODB_URI: 'mongodb://127.0.0.1:27017/governance',
      SMTP_URL: 'smtp://127.0.0.1:1025',
      MAIL_FROM: '社区治理服务平台 <noreply@governance.local>',
      MAIL_EXPIRY_HOURS: 72,
      MAIL_RETRY_MAX_BACKOFF_SECONDS: 900,
      MAIL_SEND_LEASE_SECONDS: 120,
      SESSION_TTL_HOURS: 12,
      CONSOLE_SECURE_COOKIES: 'auto',
      TRUST_PROXY: false,
      TEMPORAL_CODEC_DISABLED: false,
      RATE_LIMIT_CASE_START: { points: 120, seconds: 60 },
      RATE_LIMIT_CASE_START_ADDRESS: { points: 600, seconds: 60 },
      RATE_LIMIT_OPEN311_POST: { points: 120, seconds: 60 },
      RATE_LIMIT_OPEN311_POST_ADDRESS: { points: 600, seconds: 60 },
      RATE_LIMIT_DEFINITION_VALIDATE: { points: 60, seconds: 60 },
      RATE_LIMIT_DEFINITION_VALIDATE_ADDRESS: { points: 300, seconds: 60 },
      RATE_LIMIT_EXPORT: { points: 30, seconds: 60 },
      RATE_LIMIT_EXPORT_ADDRESS: { points: 120, seconds: 60 },
      RATE_LIMIT_ATTACHMENT_UPLOAD: { points: 120, seconds: 60 },
      RATE_LIMIT_ATTACHMENT_UPLOAD_ADDRESS: { points: 600, seconds: 60 },
      RATE_LIMIT_QUICK_REPORT_CODE_PHONE: { points: 5, seconds: 3600 },
      RATE_LIMIT_QUICK_REPORT_CODE_ADDRESS: { points: 60, seconds: 600 },
      RATE_LIMIT_QUICK_REPORT_ADDRESS: { points: 60, seconds: 600 },
      QUICK_REPORT_CODE_TTL_SECONDS: 300,
      QUICK_REPORT_CODE_ATTEMPTS: 5,
      RATE_LIMIT_SIGNIN_ADDRESS: { points: 300, seconds: 300 },
      SIGNIN_FREE_FAILURES: 5,
      SIGNIN_ACCOUNT_FREE_FAILURES: 20,
      SIGNIN_MAX_DELAY_SECONDS: 900,
      SIGNIN_FAILURE_WINDOW_SECONDS: 3600,
    });
  });

  it('when a rate limit is set to off or to requests/seconds, then it is parsed; anything else is named', () => {
    // Act
    const config = loadConfig({ RATE_LIMIT_EXPORT: 'off', RATE_LIMIT_CASE_START: '5/10' });
    const err = configErrorOf({ RATE_LIMIT_OPEN311_POST: '5 per minute' });

    // Assert
    expect(config.RATE_LIMIT_EXPORT).toBeNull();
    expect(config.RATE_LIMIT_CASE_START).toEqual({ points: 5, seconds: 10 });
    expect(err?.problems).toEqual([
      'RATE_LIMIT_OPEN311_POST: a rate such as 120/60 (requests/seconds), or off',
    ]);
  });

  it.each([
    ['false', false],
    ['true', true],
    ['0', 0],
    ['1', 1],
    ['2', 2],
    ['loopback', ['loopback']],
    ['10.0.0.0/8, 192.168.1.7,fd00::/8', ['10.0.0.0/8', '192.168.1.7', 'fd00::/8']],
    ['loopback,uniquelocal', ['loopback', 'uniquelocal']],
  ])('when TRUST_PROXY is "%s", then Express is told %j', (value, trusted) => {
    // Act
    const config = loadConfig({ TRUST_PROXY: value });

    // Assert
    expect(config.TRUST_PROXY).toEqual(trusted);
  });

  it.each(['yes', '10.0.0.0/33', 'proxy.example.org', '1.2.3', '10.0.0.1,nonsense', '-1'])(
    'when TRUST_PROXY is "%s", then the error names the variable and the bad entry',
    (value) => {
      // Act
      const err = configErrorOf({ TRUST_PROXY: value });

      // Assert
      expect(err?.problems).toHaveLength(1);
      expect(err!.problems[0]).toMatch(/^TRUST_PROXY: true, false, a hop count/);
    },
  );

  it('when values are given, then they are parsed and numbers coerced', () => {
    // Act
    const config = loadConfig({
      API_PORT: '8080',
      MONGODB_URI: 'mongodb+srv://cluster.example.org/gov',
      SMTP_URL: 'smtps://mail.example.org:465',
      TEMPORAL_ADDRESS: 'temporal:7233',
      SESSION_TTL_HOURS: '1.5',
      TEMPORAL_CALL_TIMEOUT_MS: '2500',
    });

    // Assert
    expect(config).toMatchObject({
      API_PORT: 8080,
      MONGODB_URI: 'mongodb+srv://cluster.example.org/gov',
      SMTP_URL: 'smtps://mail.example.org:465',
      TEMPORAL_ADDRESS: 'temporal:7233',
      SESSION_TTL_HOURS: 1.5,
      TEMPORAL_CALL_TIMEOUT_MS: 2500,
    });
  });

  it.each([
    ['API_PORT', 'abc'],
    ['API_PORT', '70000'],
    ['MONGODB_URI', 'http://x'],
    ['SMTP_URL', 'ftp://x'],
    ['SMS_HTTP_URL', 'ftp://sms'],
    ['SMS_HTTP_AUTH', 'Bearer abc'],
    ['SMS_TEMPLATE_IDS', '{"task-reminder":1}'],
    ['SMS_TEMPLATE_IDS', 'not json'],
    ['TEMPORAL_ADDRESS', 'nohost'],
    ['NODE_ENV', 'staging'],
    ['API_BODY_LIMIT', 'lots'],
    ['TEMPORAL_CALL_TIMEOUT_MS', '10s'],
    ['TEMPORAL_CALL_TIMEOUT_MS', '50'],
  ])('when %s is %j, then the ConfigError names the variable', (name, value) => {
    // Act
    const err = configErrorOf({ [name]: value });

    // Assert
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.problems).toEqual([expect.stringMatching(new RegExp(`^${name}: `))]);
    expect(err?.message).toContain(name);
  });

  it('when several variables are bad, then one ConfigError reports all of them', () => {
    // Act
    const err = configErrorOf({
      API_PORT: 'abc',
      MONGODB_URI: 'http://x',
      SMTP_URL: 'ftp://x',
      TEMPORAL_ADDRESS: 'nohost',
    });

    // Assert
    const names = err?.problems.map((p) => p.split(':')[0]);
    expect(names?.sort()).toEqual(['API_PORT', 'MONGODB_URI', 'SMTP_URL', 'TEMPORAL_ADDRESS']);
  });

  it('when MAIL_EXPIRY_HOURS is set, then it is parsed, and a non-positive value is refused by name', () => {
    expect(loadConfig({ MAIL_EXPIRY_HOURS: '0.5' }).MAIL_EXPIRY_HOURS).toBe(0.5);
    expect(configErrorOf({ MAIL_EXPIRY_HOURS: '0' })?.problems[0]).toMatch(/^MAIL_EXPIRY_HOURS:/);
  });

  it('when MAIL_RETRY_MAX_BACKOFF_SECONDS is set, then it is parsed, and zero is refused by name', () => {
    expect(
      loadConfig({ MAIL_RETRY_MAX_BACKOFF_SECONDS: '10' }).MAIL_RETRY_MAX_BACKOFF_SECONDS,
    ).toBe(10);
    expect(configErrorOf({ MAIL_RETRY_MAX_BACKOFF_SECONDS: '0' })?.problems[0]).toMatch(
      /^MAIL_RETRY_MAX_BACKOFF_SECONDS:/,
    );
  });

  it('when BOOTSTRAP_ADMIN_API_KEY is empty, then it is treated as unset', () => {
    // Act
    const config = loadConfig({ BOOTSTRAP_ADMIN_API_KEY: '' });

    // Assert
    expect(config.BOOTSTRAP_ADMIN_API_KEY).toBeUndefined();
  });

  it('when BOOTSTRAP_ADMIN_API_KEY is long enough, then it is kept', () => {
    // Arrange
    const key = 'a'.repeat(48);

    // Act
    const config = loadConfig({ BOOTSTRAP_ADMIN_API_KEY: key });

    // Assert
    expect(config.BOOTSTRAP_ADMIN_API_KEY).toBe(key);
  });

  it.each(['short', 'a'.repeat(31), `${'a'.repeat(40)}!`])(
    'when BOOTSTRAP_ADMIN_API_KEY is %j, then it is rejected by name',
    (key) => {
      // Act
      const err = configErrorOf({ BOOTSTRAP_ADMIN_API_KEY: key });

      // Assert
      expect(err?.problems).toEqual([expect.stringMatching(/^BOOTSTRAP_ADMIN_API_KEY: /)]);
    },
  );
});

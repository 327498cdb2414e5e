import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../common/config';
import { rateLimitKeyOf } from '../../services/limits';
import { createPhoneKeys, phoneKeysFor } from '../../services/phone-keys';
import { ensurePhoneKeySecret, phoneKeySecretFile } from '../../stack/phone-key-secret';

const SECRET = 'a-deployment-secret-of-at-least-32-characters';
const OTHER_SECRET = 'another-deployment-secret-of-32-characters-too';
const PHONE = '13800138000';

describe('phone keys', () => {
  it('when a number is keyed, then the key is the HMAC-SHA256 of purpose and number under the secret, stable for one secret', () => {
    // Act
    const key = createPhoneKeys(SECRET).of('quick-report-code', PHONE);
    const again = createPhoneKeys(SECRET).of('quick-report-code', PHONE);

    // Assert
    expect(key).toBe(
      createHmac('sha256', SECRET).update(`quick-report-code\n${PHONE}`).digest('base64url'),
    );
    expect(again).toBe(key);
  });

  it('when the key is compared with the unsalted hashes a dump could be enumerated against, then it matches none', () => {
    // Arrange
    const keys = createPhoneKeys(SECRET);
    const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

    // Act
    const stored = [keys.of('quick-report-code', PHONE), keys.of('quick-report-code-limit', PHONE)];

    // Assert
    for (const key of stored) {
      expect(key).not.toBe(sha256(PHONE));
      expect(key).not.toBe(sha256(`quick-report\n${PHONE}`));
      expect(key).not.toBe(sha256(`phone\n${PHONE}`).slice(0, 32));
      expect(key).not.toContain(PHONE);
    }
  });

  it('when the secret or the purpose differs, then the key differs (a code’s key cannot be matched to a counter’s)', () => {
    // Act
    const code = createPhoneKeys(SECRET).of('quick-report-code', PHONE);
    const counter = createPhoneKeys(SECRET).of('quick-report-code-limit', PHONE);
    const otherDeployment = createPhoneKeys(OTHER_SECRET).of('quick-report-code', PHONE);
    const otherNumber = createPhoneKeys(SECRET).of('quick-report-code', '13800138001');

    // Assert
    expect(new Set([code, counter, otherDeployment, otherNumber]).size).toBe(4);
  });

  it('when the legacy keys are asked for, then they are exactly what earlier versions stored (to find those records)', () => {
    // Act
    const keys = createPhoneKeys(SECRET);

    // Assert
    expect(keys.legacyOf('quick-report-code', PHONE)).toBe(
      createHash('sha256').update(`quick-report\n${PHONE}`).digest('base64url'),
    );
    expect(keys.legacyOf('quick-report-code-limit', PHONE)).toBe(
      createHash('sha256').update(`phone\n${PHONE}`).digest('base64url').slice(0, 32),
    );
  });

  it('when the rate limiter keys a client address or a username, then the key is the HMAC under the secret with its own purpose, not the plain SHA-256 earlier versions stored', () => {
    // Arrange: an IPv4 address (2^32 values: a plain hash of it is enumerable) and a username.
    const keys = createPhoneKeys(SECRET);
    const keyOf = rateLimitKeyOf(keys);
    const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

    for (const value of ['203.0.113.7', 'zhang.wei', `203.0.113.7\nzhang.wei`]) {
      // Act
      const key = keyOf(value);

      // Assert
      expect(key).toBe(
        createHmac('sha256', SECRET).update(`rate-limit\n${value}`).digest('base64url'),
      );
      expect(key).not.toBe(sha256(value).slice(0, 32));
      expect(key).not.toContain(value);
      expect(key).not.toBe(rateLimitKeyOf(createPhoneKeys(OTHER_SECRET))(value));
    }
    // A number counted as a rate-limit key never shares a key with its phone-number counter.
    expect(keyOf(PHONE)).not.toBe(keys.of('quick-report-code-limit', PHONE));
  });

  it('when the secret is shorter than 32 characters, then keys are refused naming the variable', () => {
    expect(() => createPhoneKeys('short')).toThrow(/^PHONE_KEY_SECRET: at least 32 characters$/);
    expect(() => loadConfig({ PHONE_KEY_SECRET: 'short' })).toThrow(
      /PHONE_KEY_SECRET: at least 32 characters/,
    );
  });
});

describe('PHONE_KEY_SECRET at start-up', () => {
  it('when production has none, then the API refuses to start naming the variable and how to make one', () => {
    // Arrange
    const config = loadConfig({ NODE_ENV: 'production', TEMPORAL_CODEC_DISABLED: 'true' });
    const warnings: string[] = [];

    // Act
    const starting = () => phoneKeysFor(config, (w) => warnings.push(w));

    // Assert
    expect(starting).toThrow(
      /^Invalid configuration:\n {2}- PHONE_KEY_SECRET: required in production: .*openssl rand -hex 32/s,
    );
    expect(warnings).toEqual([]);
  });

  it('when production has one, then its keys are the configured secret’s', () => {
    // Arrange
    const config = loadConfig({
      NODE_ENV: 'production',
      TEMPORAL_CODEC_DISABLED: 'true',
      PHONE_KEY_SECRET: SECRET,
    });

    // Act
    const keys = phoneKeysFor(config, () => {});

    // Assert
    expect(keys.of('quick-report-code', PHONE)).toBe(
      createPhoneKeys(SECRET).of('quick-report-code', PHONE),
    );
  });

  it('when development has none, then a random secret per process is used, with a warning', () => {
    // Arrange
    const warnings: string[] = [];
    const config = loadConfig({});

    // Act
    const first = phoneKeysFor(config, (w) => warnings.push(w));
    const second = phoneKeysFor(config, (w) => warnings.push(w));

    // Assert
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^PHONE_KEY_SECRET is not set/);
    expect(first.of('quick-report-code', PHONE)).not.toBe(second.of('quick-report-code', PHONE));
  });
});

describe('the local stack’s PHONE_KEY_SECRET', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'phone-key-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('when a stack starts twice on one data folder, then the secret is generated once, private, and reused', async () => {
    // Act
    const first = await ensurePhoneKeySecret(dataDir);
    const second = await ensurePhoneKeySecret(dataDir);

    // Assert
    expect(second).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect((await readFile(phoneKeySecretFile(dataDir), 'utf8')).trim()).toBe(first);
    expect((await stat(phoneKeySecretFile(dataDir))).mode & 0o777).toBe(0o600);
  });

  it('when the secret file is damaged, then start-up fails naming the file instead of replacing it', async () => {
    // Arrange
    await writeFile(phoneKeySecretFile(dataDir), 'too short\n');

    // Act
    const starting = ensurePhoneKeySecret(dataDir);

    // Assert
    await expect(starting).rejects.toThrow(
      `${phoneKeySecretFile(dataDir)} is not a valid PHONE_KEY_SECRET: at least 32 characters`,
    );
  });
});

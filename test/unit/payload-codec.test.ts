import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { ConfigError, loadConfig } from '../../common/config';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  KEY_ID_METADATA,
  PayloadCodecError,
  generateCodecKey,
  parseCodecKeys,
} from '../../common/payload-codec';

const PERSONAL = { resident: '张三', phone: '13800138000', email: 'zhang@example.test' };
const decoder = new TextDecoder();

function text(payload: Payload): string {
  return `${JSON.stringify(payload.metadata ? Object.keys(payload.metadata) : [])}${Buffer.from(payload.data ?? []).toString('latin1')}${decoder.decode(payload.data ?? new Uint8Array())}`;
}

function codecWith(...ids: string[]): EncryptionCodec {
  return new EncryptionCodec(parseCodecKeys(ids.map((id) => generateCodecKey(id)).join(',')));
}

describe('EncryptionCodec', () => {
  it('when a payload is encoded and decoded, then it comes back the same and is unreadable between', async () => {
    // Arrange
    const codec = codecWith('k1');
    const payload = defaultPayloadConverter.toPayload(PERSONAL);

    // Act
    const [encoded] = await codec.encode([payload]);
    const [decoded] = await codec.decode([encoded!]);

    // Assert
    expect(decoder.decode(encoded!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(decoder.decode(encoded!.metadata![KEY_ID_METADATA])).toBe('k1');
    for (const value of Object.values(PERSONAL)) expect(text(encoded!)).not.toContain(value);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(PERSONAL);
    expect(decoded!.metadata).toEqual(payload.metadata);
  });

  it('when the same payload is encoded twice, then the ciphertexts differ (a fresh IV each time)', async () => {
    // Arrange
    const codec = codecWith('k1');
    const payload = defaultPayloadConverter.toPayload(PERSONAL);

    // Act
    const [a, b] = await codec.encode([payload, payload]);

    // Assert
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('when a new key is put first, then payloads of the old key still decode and new ones use the new key', async () => {
    // Arrange
    const old = generateCodecKey('2026-01');
    const fresh = generateCodecKey('2026-07');
    const before = new EncryptionCodec(parseCodecKeys(old));
    const rotated = new EncryptionCodec(parseCodecKeys(`${fresh},${old}`));
    const [oldPayload] = await before.encode([defaultPayloadConverter.toPayload(PERSONAL)]);

    // Act
    const [decodedOld] = await rotated.decode([oldPayload!]);
    const [newPayload] = await rotated.encode([defaultPayloadConverter.toPayload('新')]);

    // Assert
    expect(defaultPayloadConverter.fromPayload(decodedOld!)).toEqual(PERSONAL);
    expect(decoder.decode(newPayload!.metadata![KEY_ID_METADATA])).toBe('2026-07');
    await expect(before.decode([newPayload!])).rejects.toThrow(/key id "2026-07"/);
  });

  it('when the ciphertext is altered, then decoding fails naming tampering, not returning garbage', async () => {
    // Arrange
    const codec = codecWith('k1');
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(PERSONAL)]);
    const data = Buffer.from(encoded!.data!);
    data[20] = data[20]! ^ 0x01;

    // Act
    const decoding = codec.decode([{ metadata: encoded!.metadata!, data }]);

    // Assert
    await expect(decoding).rejects.toThrow(PayloadCodecError);
    await expect(codec.decode([{ metadata: encoded!.metadata!, data }])).rejects.toThrow(
      /key id "k1"\) fails authentication: it was altered/,
    );
  });

  it('when a payload is relabelled with another key id of the ring, then it fails authentication', async () => {
    // Arrange
    const keys = parseCodecKeys(`${generateCodecKey('a')},${generateCodecKey('b')}`);
    const codec = new EncryptionCodec(keys);
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(PERSONAL)]);
    const relabelled = {
      metadata: { ...encoded!.metadata!, [KEY_ID_METADATA]: new TextEncoder().encode('b') },
      data: encoded!.data!,
    };

    // Act
    const decoding = codec.decode([relabelled]);

    // Assert
    await expect(decoding).rejects.toThrow(/fails authentication/);
  });

  it('when a payload names a key id not in the ring, then the error names that id and the known ones', async () => {
    // Arrange
    const [encoded] = await codecWith('gone').encode([defaultPayloadConverter.toPayload(1)]);

    // Act
    const decoding = codecWith('k1', 'k0').decode([encoded!]);

    // Assert
    await expect(decoding).rejects.toThrow(
      'a payload is encrypted with key id "gone", which is not in TEMPORAL_CODEC_KEYS (known ids: k1, k0)',
    );
  });

  it('when a payload is not encrypted (recorded before the codec), then decoding passes it through untouched', async () => {
    // Arrange
    const plain = defaultPayloadConverter.toPayload(PERSONAL);
    const binary = defaultPayloadConverter.toPayload(new Uint8Array([1, 2, 3]));
    const nullPayload = defaultPayloadConverter.toPayload(undefined);

    // Act
    const decoded = await codecWith('k1').decode([plain, binary, nullPayload]);

    // Assert
    expect(decoded[0]).toBe(plain);
    expect(decoded[1]).toBe(binary);
    expect(decoded[2]).toBe(nullPayload);
  });
});

describe('parseCodecKeys', () => {
  it('when keys are well formed, then the first is first and each has 32 bytes', () => {
    // Act
    const keys = parseCodecKeys(`${generateCodecKey('new')}, ${generateCodecKey('old')}`);

    // Assert
    expect(keys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(keys.every((k) => k.key.length === 32)).toBe(true);
  });

  it.each([
    ['no-colon-here', 'entry 1 is not "id:base64key"'],
    [`bad id:${randomBytes(32).toString('base64')}`, 'entry 1: the key id must be'],
    [
      `k:${randomBytes(16).toString('base64')}`,
      'entry 1 (key id "k"): the key must be 32 bytes (AES-256), not 16',
    ],
    ['k:not base64!', 'entry 1 (key id "k"): the key is not base64'],
    [`${generateCodecKey('k')},${generateCodecKey('k')}`, 'entry 2: key id "k" appears twice'],
  ])('when the value is %s, then the error names the entry: %s', (value, message) => {
    // Act
    const parsing = () => parseCodecKeys(value);

    // Assert
    expect(parsing).toThrow(message);
  });

  it('when a key is invalid, then the error does not repeat the key material', () => {
    // Arrange
    const short = randomBytes(16).toString('base64');

    // Act
    let message = '';
    try {
      loadConfig({ TEMPORAL_CODEC_KEYS: `k:${short}` });
    } catch (err) {
      message = (err as Error).message;
    }

    // Assert
    expect(message).toMatch(/^Invalid configuration:\n {2}- TEMPORAL_CODEC_KEYS: entry 1/);
    expect(message).not.toContain(short);
  });
});

describe('payload encryption in the configuration', () => {
  it('when production has no TEMPORAL_CODEC_KEYS, then it refuses to start naming the variable and the way out', () => {
    // Act
    const loading = () => loadConfig({ NODE_ENV: 'production' });

    // Assert
    expect(loading).toThrow(ConfigError);
    expect(loading).toThrow(
      /TEMPORAL_CODEC_KEYS: required in production.*TEMPORAL_CODEC_DISABLED=true/s,
    );
  });

  it('when production disables the codec explicitly, then it starts without keys', () => {
    // Act
    const config = loadConfig({ NODE_ENV: 'production', TEMPORAL_CODEC_DISABLED: 'true' });

    // Assert
    expect(config.TEMPORAL_CODEC_DISABLED).toBe(true);
    expect(config.TEMPORAL_CODEC_KEYS).toBeUndefined();
  });

  it('when keys are set and the codec disabled at once, then the contradiction is refused', () => {
    // Act
    const loading = () =>
      loadConfig({ TEMPORAL_CODEC_KEYS: generateCodecKey('k'), TEMPORAL_CODEC_DISABLED: 'true' });

    // Assert
    expect(loading).toThrow(/TEMPORAL_CODEC_KEYS: set, but TEMPORAL_CODEC_DISABLED=true/);
  });

  it('when the codec CORS origins are set, then they are parsed, and a path is refused', () => {
    // Act
    const config = loadConfig({
      TEMPORAL_CODEC_CORS_ORIGINS: 'https://temporal.example.gov, http://127.0.0.1:8233',
    });
    const loading = () => loadConfig({ TEMPORAL_CODEC_CORS_ORIGINS: 'https://ui.example/x' });

    // Assert
    expect(config.TEMPORAL_CODEC_CORS_ORIGINS).toEqual([
      'https://temporal.example.gov',
      'http://127.0.0.1:8233',
    ]);
    expect(loading).toThrow(/"https:\/\/ui.example\/x" is not an origin/);
  });
});

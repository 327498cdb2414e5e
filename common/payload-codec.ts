import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { METADATA_ENCODING_KEY } from '@temporalio/common';

/**
 * The payload codec that keeps personal data out of Temporal's history in plain text: every
 * payload the API and the worker send (workflow input, activity arguments and results, Update
 * arguments, query answers…) is encrypted with AES-256-GCM before it leaves the process.
 *
 * Keys form a ring (`TEMPORAL_CODEC_KEYS`): the first encrypts, every one decrypts, and each
 * encrypted payload names its key id in its metadata, so a key is rotated by putting a new one
 * first and dropping the old one only once no history still needs it. A payload without our
 * encoding (recorded before encryption was turned on) is passed through untouched, so those
 * histories still decode and replay.
 *
 * Codecs run outside the workflow sandbox, in the client and the worker; search attributes and
 * memos are not encoded by codecs at all (we put nothing personal there).
 */

/** The `encoding` metadata value of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key that names the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

/** One key of the ring: its id (stored in each payload) and its 32 bytes. */
export interface CodecKey {
  id: string;
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Raised for a payload that cannot be decrypted; its message never carries key material. */
export class PayloadCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadCodecError';
  }
}

/**
 * Parses `id:base64key,id:base64key` (the first is current). Throws naming the entry at fault,
 * by position and id only: the key itself is never repeated in an error.
 */
export function parseCodecKeys(value: string): CodecKey[] {
  const entries = value.split(',').map((e) => e.trim());
  const keys: CodecKey[] = [];
  entries.forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`${where} is not "id:base64key"`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) {
      throw new Error(`${where}: the key id must be 1-64 characters of [A-Za-z0-9._-]`);
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
      throw new Error(`${where} (key id "${id}"): the key is not base64`);
    }
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new Error(
        `${where} (key id "${id}"): the key must be ${KEY_BYTES} bytes (AES-256), not ${key.length}`,
      );
    }
    if (keys.some((k) => k.id === id)) throw new Error(`${where}: key id "${id}" appears twice`);
    keys.push({ id, key });
  });
  return keys;
}

/** A fresh key entry (`id:base64key`), for the local stack and for operators' first key. */
export function generateCodecKey(id: string): string {
  if (!KEY_ID.test(id)) throw new Error('the key id must be 1-64 characters of [A-Za-z0-9._-]');
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

export class EncryptionCodec implements PayloadCodec {
  private readonly current: CodecKey;
  private readonly ring: ReadonlyMap<string, Buffer>;

  /** `keys[0]` encrypts; all of them decrypt. */
  constructor(keys: readonly CodecKey[]) {
    const current = keys[0];
    if (!current) throw new Error('the payload codec needs at least one key');
    this.current = current;
    this.ring = new Map(keys.map((k) => [k.id, k.key]));
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the interface is async; errors reject
  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- the interface is async; errors reject
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const { id, key } = this.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    // The key id is authenticated too: relabelling a payload with another id fails to decrypt.
    cipher.setAAD(utf8.encode(id));
    const body = Buffer.concat([cipher.update(serialise(payload)), cipher.final()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: utf8.encode(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: utf8.encode(id),
      },
      data: Buffer.concat([iv, body, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!idBytes) throw new PayloadCodecError(`an encrypted payload has no ${KEY_ID_METADATA}`);
    const id = fromUtf8.decode(idBytes);
    const key = this.ring.get(id);
    if (!key) {
      throw new PayloadCodecError(
        `a payload is encrypted with key id "${id}", which is not in TEMPORAL_CODEC_KEYS ` +
          `(known ids: ${[...this.ring.keys()].join(', ')})`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadCodecError(`an encrypted payload (key id "${id}") is truncated`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(idBytes);
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return deserialise(plain);
    } catch {
      throw new PayloadCodecError(
        `an encrypted payload (key id "${id}") fails authentication: it was altered, or the key ` +
          `with that id is not the one it was encrypted with`,
      );
    }
  }
}

/** The payload inside the envelope: its metadata and data, base64 in a small JSON document. */
function serialise(payload: Payload): Buffer {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload.metadata ?? {})) {
    if (v) metadata[k] = Buffer.from(v).toString('base64');
  }
  return Buffer.from(
    JSON.stringify({
      metadata,
      data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
    }),
  );
}

function deserialise(plain: Buffer): Payload {
  const parsed = JSON.parse(plain.toString('utf8')) as {
    metadata: Record<string, string>;
    data: string;
  };
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(parsed.metadata)) metadata[k] = Buffer.from(v, 'base64');
  return { metadata, data: Buffer.from(parsed.data, 'base64') };
}

/**
 * The module of the failure converter (common/failure-converter.ts), by path: clients and
 * workers load it from there, and the workflow bundle is built with it.
 */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * The data converter every Temporal client and worker of the project uses: failures with their
 * message and stack encoded as a payload (common/failure-converter.ts), and the encryption codec
 * when keys are configured; without keys (development, or `TEMPORAL_CODEC_DISABLED=true`)
 * payloads, those included, stay plain.
 */
export function dataConverterFor(keys: readonly CodecKey[] | undefined): DataConverter {
  return {
    failureConverterPath: FAILURE_CONVERTER_PATH,
    ...(keys && keys.length > 0 ? { payloadCodecs: [new EncryptionCodec(keys)] } : {}),
  };
}

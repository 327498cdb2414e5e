import type { Payload, PayloadCodec } from '@temporalio/common';
import { PayloadCodecError } from '../common/payload-codec';
import { AppError } from './errors';

/** A payload as Temporal's remote codec protocol sends it: metadata values and data in base64. */
export interface WirePayload {
  metadata: Record<string, string>;
  data?: string;
}

/**
 * The payload codec for the Temporal Web UI's remote codec endpoint (admins only, see api/): it
 * decodes what Temporal stores so an admin can read a case's history in the UI, and encodes what
 * the UI sends (a signal or query argument typed there). Without a codec configured (development
 * without keys, or TEMPORAL_CODEC_DISABLED) payloads go back unchanged, as stored.
 */
export interface PayloadCodecService {
  encode(payloads: WirePayload[]): Promise<WirePayload[]>;
  decode(payloads: WirePayload[]): Promise<WirePayload[]>;
}

export function createPayloadCodecService(codec: PayloadCodec | undefined): PayloadCodecService {
  const run = async (
    payloads: WirePayload[],
    step: (codec: PayloadCodec, p: Payload[]) => Promise<Payload[]>,
  ): Promise<WirePayload[]> => {
    if (!codec) return payloads;
    try {
      return (await step(codec, payloads.map(fromWire))).map(toWire);
    } catch (err) {
      // A payload of another key or an altered one: say which, never what it holds.
      if (err instanceof PayloadCodecError) throw new AppError('unprocessable', err.message);
      throw err;
    }
  };
  return {
    encode: (payloads) => run(payloads, (c, p) => c.encode(p)),
    decode: (payloads) => run(payloads, (c, p) => c.decode(p)),
  };
}

function fromWire(payload: WirePayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toWire(payload: Payload): WirePayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v ?? new Uint8Array()).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

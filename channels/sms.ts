import type { ChannelOutcome } from './outcome';

/**
 * The SMS provider boundary. Chinese SMS providers send only templates approved in advance
 * (短信模板, with a signature 签名), filled with short parameters, so a message is a template id
 * and its parameters, never free text.
 *
 * `send` answers `accepted` (the provider took it), `retryable` (try again later: throttled, a
 * server error, no answer) or `refused` (never: bad number, unknown template, no balance). The
 * message id is stable across retries of one message, so a provider that deduplicates can drop
 * the rare second copy of an at-least-once delivery.
 */
export interface SmsProvider {
  send(
    phone: string,
    templateId: string,
    params: Record<string, string>,
    options?: { messageId?: string },
  ): Promise<ChannelOutcome>;
}

export interface HttpSmsOptions {
  /** `SMS_HTTP_URL`: where messages are posted as JSON. */
  url: string;
  /** `SMS_HTTP_AUTH`: one header line, `Name: value` (e.g. `Authorization: Bearer …`). */
  authHeader?: string | null;
  /** How long one request may take (chosen default: 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** One request's time limit (chosen: providers answer in well under a second). */
const SMS_TIMEOUT_MS = 10_000;

/**
 * A provider behind a generic JSON HTTP API (a gateway in front of the vendor's SDK, or the local
 * sink): `POST <url>` with `{ phone, templateId, params, messageId }`. A 2xx answer is accepted
 * unless its JSON says `{ "ok": false }` (then refused, with its `reason`); 408, 429 and 5xx are
 * retried; any other status is refused.
 */
export function createHttpSmsProvider(options: HttpSmsOptions): SmsProvider {
  const header = parseHeader(options.authHeader ?? null);
  const send = options.fetch ?? fetch;
  return {
    async send(phone, templateId, params, extra = {}) {
      let response: Response;
      try {
        response = await send(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            ...(header ? { [header.name]: header.value } : {}),
          },
          body: JSON.stringify({ phone, templateId, params, messageId: extra.messageId ?? null }),
          signal: AbortSignal.timeout(options.timeoutMs ?? SMS_TIMEOUT_MS),
        });
      } catch (err) {
        return { outcome: 'retryable', reason: `network: ${(err as Error).name}` };
      }
      const status = response.status;
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfter = Number(response.headers.get('retry-after'));
        return {
          outcome: 'retryable',
          reason: `HTTP ${status}`,
          ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
        };
      }
      if (status < 200 || status >= 300) return { outcome: 'refused', reason: `HTTP ${status}` };
      const body = (await response.json().catch(() => null)) as {
        ok?: unknown;
        reason?: unknown;
      } | null;
      if (body && body.ok === false) {
        const reason = typeof body.reason === 'string' ? body.reason.slice(0, 200) : 'refused';
        return { outcome: 'refused', reason: withoutDigits(reason) };
      }
      return { outcome: 'accepted' };
    },
  };
}

/** `Name: value` → its parts; a line without a colon is a configuration error. */
export function parseHeader(line: string | null): { name: string; value: string } | null {
  if (line === null || line.trim() === '') return null;
  const at = line.indexOf(':');
  if (at <= 0) throw new Error('SMS_HTTP_AUTH must be one header line, "Name: value"');
  return { name: line.slice(0, at).trim(), value: line.slice(at + 1).trim() };
}

/** A provider's reason may quote the number it refused: long runs of digits are removed. */
function withoutDigits(text: string): string {
  return text.replace(/\d{5,}/g, '[number]');
}

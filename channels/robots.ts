import { createHmac } from 'node:crypto';
import type { RobotChannel } from '../lang/vocabulary';
import type { ChannelOutcome } from './outcome';

/**
 * WeCom (企业微信) and DingTalk (钉钉) group robots: a webhook URL per robot (the URL holds the
 * robot's key, so it is a secret), and for DingTalk an optional signing secret. Payloads as the
 * vendors document them (`msgtype: markdown | text`); success is `errcode: 0`.
 */
export interface GroupRobot {
  channel: RobotChannel;
  webhook: string;
  /** DingTalk's 加签 secret (`SEC…`); the request then carries `timestamp` and `sign`. */
  secret?: string | null;
}

export interface RobotMessage {
  /** A one-line title: DingTalk shows it in the conversation list; WeCom has none. */
  title: string;
  /** The body: markdown (both vendors read a subset), or plain text with `format: text`. */
  body: string;
  format: 'markdown' | 'text';
}

/**
 * The largest body sent, in characters (chosen): WeCom takes up to 4096 bytes of markdown and
 * 2048 of text (its robot documentation); 600 CJK characters are 1800 bytes in UTF-8, under both.
 */
export const MAX_ROBOT_BODY_CHARS = 600;

/** The JSON a robot's webhook expects for one message. */
export function robotPayload(channel: RobotChannel, message: RobotMessage): object {
  const body =
    message.body.length > MAX_ROBOT_BODY_CHARS
      ? `${message.body.slice(0, MAX_ROBOT_BODY_CHARS - 1)}…`
      : message.body;
  if (channel === 'wecom') {
    return message.format === 'markdown'
      ? { msgtype: 'markdown', markdown: { content: body } }
      : { msgtype: 'text', text: { content: body } };
  }
  return message.format === 'markdown'
    ? { msgtype: 'markdown', markdown: { title: message.title, text: body } }
    : { msgtype: 'text', text: { content: body } };
}

/**
 * DingTalk's signature: HMAC-SHA256 of `"<timestamp>\n<secret>"` keyed by the secret, base64,
 * then URL-encoded; the timestamp in milliseconds must be within an hour of DingTalk's clock.
 */
export function dingtalkSignature(secret: string, timestampMs: number): string {
  const digest = createHmac('sha256', secret)
    .update(`${timestampMs}\n${secret}`, 'utf8')
    .digest('base64');
  return encodeURIComponent(digest);
}

/** The URL a message is posted to: DingTalk's signed robots get `&timestamp=…&sign=…`. */
export function robotUrl(robot: GroupRobot, nowMs: number): string {
  if (robot.channel !== 'dingtalk' || !robot.secret) return robot.webhook;
  const separator = robot.webhook.includes('?') ? '&' : '?';
  return `${robot.webhook}${separator}timestamp=${nowMs}&sign=${dingtalkSignature(robot.secret, nowMs)}`;
}

/**
 * The errcodes that mean "too many messages": WeCom's 45009 (api freq out of limit; 20 messages a
 * minute per robot) and DingTalk's 130101 (send too fast; 20 a minute, then the robot is held for
 * 10 minutes), as their robot documentation says.
 */
export const RATE_LIMIT_ERRCODES: Readonly<Record<RobotChannel, readonly number[]>> = {
  wecom: [45009],
  dingtalk: [130101],
};

/**
 * How long to wait after a rate-limit answer: WeCom counts a sliding minute, so a minute and a
 * few seconds (65 s, chosen); DingTalk holds a robot that went over for 10 minutes (its robot
 * documentation), so 10 minutes and a few seconds (chosen).
 */
export const RATE_LIMIT_WAIT_MS: Readonly<Record<RobotChannel, number>> = {
  wecom: 65_000,
  dingtalk: 605_000,
};

/** What a robot's answer means: `errcode: 0` delivered; a rate-limit code later; others never. */
export function robotOutcome(
  channel: RobotChannel,
  httpStatus: number,
  body: unknown,
): ChannelOutcome {
  if (httpStatus === 429) {
    return { outcome: 'retryable', reason: 'HTTP 429', retryAfterMs: RATE_LIMIT_WAIT_MS[channel] };
  }
  if (httpStatus >= 500) return { outcome: 'retryable', reason: `HTTP ${httpStatus}` };
  if (httpStatus < 200 || httpStatus >= 300) {
    return { outcome: 'refused', reason: `HTTP ${httpStatus}` };
  }
  const answer = (body ?? {}) as { errcode?: unknown; errmsg?: unknown };
  const errcode = typeof answer.errcode === 'number' ? answer.errcode : Number(answer.errcode);
  // The message the vendor sends back names the problem; it never quotes the webhook's key.
  const errmsg = typeof answer.errmsg === 'string' ? answer.errmsg.slice(0, 200) : '';
  if (errcode === 0) return { outcome: 'accepted' };
  if (Number.isNaN(errcode)) return { outcome: 'retryable', reason: 'answer without errcode' };
  if (RATE_LIMIT_ERRCODES[channel].includes(errcode)) {
    return {
      outcome: 'retryable',
      reason: `errcode ${errcode} ${errmsg}`.trim(),
      retryAfterMs: RATE_LIMIT_WAIT_MS[channel],
    };
  }
  return { outcome: 'refused', reason: `errcode ${errcode} ${errmsg}`.trim() };
}

/** How long one webhook request may take (chosen: the vendors answer in well under a second). */
export const ROBOT_TIMEOUT_MS = 10_000;

/** Posts one message to a robot; never throws, never names the webhook in what it returns. */
export async function postToRobot(
  robot: GroupRobot,
  message: RobotMessage,
  options: { now?: () => number; fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<ChannelOutcome> {
  const send = options.fetch ?? fetch;
  const url = robotUrl(robot, (options.now ?? Date.now)());
  let response: Response;
  try {
    response = await send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(robotPayload(robot.channel, message)),
      signal: AbortSignal.timeout(options.timeoutMs ?? ROBOT_TIMEOUT_MS),
    });
  } catch (err) {
    // A network error's message may carry the URL (its key): only its kind is kept.
    return { outcome: 'retryable', reason: `network: ${(err as Error).name}` };
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return robotOutcome(robot.channel, response.status, body);
}

/**
 * A webhook as the console and the API show it: scheme, host and path with the robot's key (a
 * query value or a long last path segment) cut to its first 4 characters and stars.
 */
export function maskWebhook(webhook: string): string {
  let url: URL;
  try {
    url = new URL(webhook);
  } catch {
    return '****';
  }
  const cut = (value: string) => (value.length > 4 ? `${value.slice(0, 4)}****` : '****');
  const segments = url.pathname.split('/');
  const last = segments.length - 1;
  if (segments[last] && segments[last].length > 12) segments[last] = cut(segments[last]);
  const query = [...url.searchParams.entries()].map(([k, v]) => `${k}=${cut(v)}`).join('&');
  return `${url.protocol}//${url.host}${segments.join('/')}${query ? `?${query}` : ''}`;
}

import type { Channel } from '../lang/vocabulary';
import type { ChannelOutcome } from './outcome';
import type { ShortMessageRenderer } from './renderer';
import { createShortMessageRenderer } from './renderer';
import type { GroupRobot } from './robots';
import { postToRobot } from './robots';
import type { SmsProvider } from './sms';

/** One message of a channel other than mail, its address already looked up. */
export type ChannelMessage = {
  template: string;
  context: Record<string, unknown>;
  /** Stable per message across its retries (the SMS provider gets it for deduplication). */
  messageId: string;
} & (
  | { channel: 'sms'; phone: string }
  | { channel: 'wecom' | 'dingtalk'; robot: GroupRobot; group: boolean }
);

/** Sends one message on its channel; never throws for the far end's answers. */
export interface ChannelSender {
  /** The channels this sender can deliver (mail is the SMTP transport's). */
  readonly channels: ReadonlySet<Exclude<Channel, 'mail'>>;
  send(message: ChannelMessage): Promise<ChannelOutcome>;
}

export function createChannelSender(deps: {
  /** The SMS provider; without it the `sms` channel is not offered (people fall back). */
  sms?: SmsProvider | null;
  /** Provider template ids per notification kind (`SMS_TEMPLATE_IDS`); default the kind's name. */
  smsTemplateIds?: Readonly<Record<string, string>>;
  renderer?: ShortMessageRenderer;
  fetch?: typeof fetch;
  now?: () => number;
}): ChannelSender {
  let renderer = deps.renderer;
  const channels = new Set<Exclude<Channel, 'mail'>>(['wecom', 'dingtalk']);
  if (deps.sms) channels.add('sms');
  return {
    channels,
    async send(message) {
      renderer ??= createShortMessageRenderer();
      if (message.channel === 'sms') {
        if (!deps.sms) return { outcome: 'refused', reason: 'no SMS provider configured' };
        const rendered = renderer.render(message.template, message.context);
        return deps.sms.send(
          message.phone,
          deps.smsTemplateIds?.[message.template] ?? message.template,
          rendered.smsParams,
          { messageId: message.messageId },
        );
      }
      const rendered = renderer.render(message.template, message.context, {
        group: message.group,
      });
      return postToRobot(
        message.robot,
        { title: rendered.title, body: rendered.markdown, format: 'markdown' },
        { ...(deps.fetch ? { fetch: deps.fetch } : {}), ...(deps.now ? { now: deps.now } : {}) },
      );
    },
  };
}

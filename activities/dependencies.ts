import type { Client } from '@temporalio/client';
import type { ShortMessageRenderer } from '../channels/renderer';
import type { ChannelSender } from '../channels/sender';
import type { Logger } from '../common/logger';
import type { WorkingWindow } from '../common/working-calendar';
import type { MailRenderer } from '../mail/renderer';
import type { MailTransport } from '../mail/transport';
import type { Models } from '../models';
import type { OutboxDispatcher } from './outbox';

/** What every group of activities is built over (index.ts assembles them). */
export interface ActivityDependencies {
  models: Models;
  mail: {
    transport: MailTransport;
    renderer: MailRenderer;
    from: string;
    /** Delivers the outbox; without one, createActivities makes one that sends on enqueue. */
    outbox?: OutboxDispatcher;
  };
  /**
   * Sends the channels besides mail (SMS, WeCom and DingTalk robots, channels/); without it only
   * mail is offered and a robot message fails over to the next channel.
   */
  channels?: ChannelSender | null;
  /** The short texts of those channels (default: channels/templates). */
  shortRenderer?: ShortMessageRenderer;
  clock: () => Date;
  logger: Logger;
  /** Office hours the working-time clocks count (default 09:00–12:00, 13:30–17:30). */
  workingWindows?: readonly WorkingWindow[];
  /** For the reconciler's pass over visibility (worker.ts); its task queue bounds the pass. */
  temporal?: { client: Client; taskQueue: string };
}

import type { Client } from '@temporalio/client';
import type { ShortMessageRenderer } from '../channels/renderer';
import type { ChannelSender } from '../channels/sender';
import type { Logger } from '../common/logger';
import type { WorkingWindow } from '../common/working-calendar';
import type { MailRenderer } from '../mail/renderer';
import type { MailTransport } from '../mail/transport';
import type { Models } from '../models';
import type { OutboxDispatcher } from './outbox';

/**
 * The org data's own writes, for the `grant` activity (activities/org-grants.ts). The worker hands
 * them in from the org service (services/org-writes.ts): activities sit below services, and the
 * writes (their checks and the org revision bump) are the service's, not copied here.
 */
export interface OrgWrites {
  /**
   * Records a new person from a case's data: the names of the fields that are unusable (never
   * their values), or an empty list once recorded.
   */
  recordPerson(input: {
    id: string;
    name?: string;
    phone?: string;
    email?: string;
  }): Promise<string[]>;
  /** Gives a person a post in a unit (already held is fine); both must exist. */
  addPost(post: { unitId: string; role: string; personId: string }): Promise<void>;
}

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
  /** The org writes a `grant` step makes; without them a grant fails saying so. */
  orgWrites?: OrgWrites;
  /** For the reconciler's pass over visibility (worker.ts); its task queue bounds the pass. */
  temporal?: { client: Client; taskQueue: string };
}

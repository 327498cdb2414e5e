import type { Channel, ChannelChoice } from '../lang/vocabulary';
import { CHANNELS } from '../lang/vocabulary';

/**
 * Which channels a notification to a person goes out on, in order (docs/definition-language.md,
 * "Channels"): the definition's list when it gives one (`preferred` standing for the person's own
 * preferences), else the person's preferences, with mail last; for a person with no e-mail (a
 * resident's person record: a phone), the preferences, then SMS, then mail. A channel is kept only when the
 * person has its address (mail: an email; sms: a phone and an SMS provider; wecom/dingtalk: a
 * robot of that vendor) — the first kept is sent, the others are its fallbacks.
 */
export interface PersonContact {
  name: string;
  email?: string | null;
  phone?: string | null;
  channels?: readonly string[] | null;
  groupRobot?: { channel?: string | null; webhook?: string | null } | null;
}

/** The fields a person is read with for a notification. */
export const PERSON_CONTACT_FIELDS = {
  name: 1,
  email: 1,
  phone: 1,
  channels: 1,
  'groupRobot.channel': 1,
  'groupRobot.webhook': 1,
} as const;

export const DEFAULT_CHANNEL_CHOICE: readonly ChannelChoice[] = ['preferred', 'mail'];

/**
 * The default for a person without an e-mail: a resident (the requester holding a task, a
 * household reached by phone) whose person record holds a phone only. The order the announcement
 * of a task offered to the requester takes (REQUESTER_CHANNELS in workflows/steps/task.ts), so a
 * reminder or an escalation that names no channels reaches them as the announcement did, by SMS,
 * instead of trying mail they have no address for (`no-address`). Decided here, from the person
 * record, so no workflow command changes: recorded cases replay as they ran.
 */
export const NO_EMAIL_CHANNEL_CHOICE: readonly ChannelChoice[] = ['preferred', 'sms', 'mail'];

export function planChannels(
  personId: string,
  person: PersonContact,
  requested: readonly ChannelChoice[] | undefined,
  /** The channels this worker can send besides mail (SMS needs a provider). */
  available: ReadonlySet<string>,
): Array<{ channel: Channel; to: string }> {
  const own = (person.channels ?? []).filter((c): c is Channel =>
    (CHANNELS as readonly string[]).includes(c),
  );
  const defaults = person.email ? DEFAULT_CHANNEL_CHOICE : NO_EMAIL_CHANNEL_CHOICE;
  const order = (requested ?? defaults).flatMap((c) => (c === 'preferred' ? own : [c]));
  const plan: Array<{ channel: Channel; to: string }> = [];
  for (const channel of new Set(order)) {
    const to = addressOn(channel, personId, person, available);
    if (to !== null) plan.push({ channel, to });
  }
  return plan;
}

function addressOn(
  channel: Channel,
  personId: string,
  person: PersonContact,
  available: ReadonlySet<string>,
): string | null {
  switch (channel) {
    case 'mail':
      return person.email || null;
    case 'sms':
      return available.has('sms') && person.phone ? person.phone : null;
    case 'wecom':
    case 'dingtalk':
      return person.groupRobot?.channel === channel && person.groupRobot.webhook
        ? `person:${personId}`
        : null;
  }
}

/**
 * What one attempt to deliver a message on a channel came to: `accepted` (done), `retryable`
 * (try again later, not before `retryAfterMs` when the far end asked for a pause), or `refused`
 * (the far end will never take it: the outbox marks it failed and falls back to the next
 * channel). Reasons name the problem, never an address, a phone number or a webhook key.
 */
export type ChannelOutcome =
  | { outcome: 'accepted' }
  | { outcome: 'retryable'; reason: string; retryAfterMs?: number }
  | { outcome: 'refused'; reason: string };

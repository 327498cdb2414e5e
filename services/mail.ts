import { maskValue } from '../lang/mask';
import type { Models } from '../models';
import { AppError } from './errors';

/** A mail in the outbox as admins see it: who, which template, why it failed; never its text. */
export interface OutboxMailView {
  id: string;
  caseId: string;
  template: string;
  /**
   * Mail: the address (admins only read this). Other channels: the phone masked (138****8000),
   * or the robot's owner (`unit:<id>`, `person:<id>`), never its webhook.
   */
  to: string;
  /** `mail`, `sms`, `wecom` or `dingtalk`. */
  channel: string;
  status: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  failedAt: string | null;
  nextAttemptAt: string | null;
}

/**
 * The outbox for admins (routes and console check the role): mail that failed (refused for good
 * or expired after `MAIL_EXPIRY_HOURS` of retries) and sending it again. The worker's outbox
 * dispatcher (activities/outbox.ts) picks a resent mail up at its next poll.
 */
export function createMailService(deps: { models: Models; clock: () => Date; expiryMs: number }) {
  const { Outbox } = deps.models;

  function view(d: {
    _id: string;
    caseId: string;
    template: string;
    to: string;
    channel?: string | null;
    status: string;
    attempts?: number | null;
    lastError?: string | null;
    createdAt: Date;
    failedAt?: Date | null;
    nextAttemptAt?: Date | null;
  }): OutboxMailView {
    return {
      id: d._id,
      caseId: d.caseId,
      template: d.template,
      to: d.channel === 'sms' ? maskValue('phone', d.to) : d.to,
      channel: d.channel ?? 'mail',
      status: d.status,
      attempts: d.attempts ?? 0,
      lastError: d.lastError ?? null,
      createdAt: d.createdAt.toISOString(),
      failedAt: d.failedAt ? d.failedAt.toISOString() : null,
      nextAttemptAt: d.nextAttemptAt ? d.nextAttemptAt.toISOString() : null,
    };
  }

  return {
    /** Failed mail, most recent failure first, at most `limit`. */
    async listFailed(limit = 100): Promise<OutboxMailView[]> {
      const docs = await Outbox.find(
        { status: 'failed' },
        { html: 0, text: 0, contextJson: 0, subject: 0, messageId: 0 },
      )
        .sort({ failedAt: -1, _id: 1 })
        .limit(limit)
        .lean();
      return docs.map(view);
    },

    /**
     * The latest messages of the channels besides mail (sms, wecom, dingtalk), newest first, at
     * most `limit`: one equality read per channel (FerretDB v1 hands those to its store).
     */
    async listChannelMessages(limit = 50): Promise<OutboxMailView[]> {
      const docs = [];
      for (const channel of ['sms', 'wecom', 'dingtalk']) {
        docs.push(
          ...(await Outbox.find(
            { channel },
            { html: 0, text: 0, contextJson: 0, subject: 0, messageId: 0 },
          )
            .sort({ createdAt: -1 })
            .limit(limit)
            .lean()),
        );
      }
      docs.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
      return docs.slice(0, limit).map(view);
    },

    /**
     * Sends a failed mail again: pending now, with a fresh expiry and the same Message-ID. 404 for
     * an unknown id, 409 for a mail that has not failed (it is sent or still being retried).
     */
    async resend(id: string): Promise<OutboxMailView> {
      const now = deps.clock();
      const updated = await Outbox.findOneAndUpdate(
        // Mail failed before the outbox kept its text (no `html`) cannot be sent again.
        {
          _id: id,
          status: 'failed',
          $or: [{ html: { $exists: true } }, { contextJson: { $exists: true } }],
        },
        {
          $set: {
            status: 'pending',
            nextAttemptAt: now,
            expiresAt: new Date(now.getTime() + deps.expiryMs),
          },
          $unset: { failedAt: '' },
        },
        { returnDocument: 'after' },
      ).lean();
      if (updated) {
        // Queued for the worker's dispatcher, which reads due mail from the ready queue.
        await deps.models.OutboxQueue.updateOne(
          { _id: id },
          { $set: { dueAt: now } },
          { upsert: true },
        );
        return view(updated);
      }
      const existing = await Outbox.findById(id, { status: 1, html: 1 }).lean();
      if (!existing) throw new AppError('not_found', `No mail ${id} in the outbox`);
      if (existing.status === 'failed') {
        throw new AppError(
          'conflict',
          `Mail ${id} failed before its text was kept; it cannot be sent again`,
        );
      }
      throw new AppError(
        'conflict',
        `Mail ${id} is ${existing.status}; only failed mail can be sent again`,
      );
    },
  };
}

export type MailService = ReturnType<typeof createMailService>;

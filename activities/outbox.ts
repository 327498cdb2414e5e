import { createHash, randomBytes } from 'node:crypto';
import type { mongo } from 'mongoose';
import type { ChannelOutcome } from '../channels/outcome';
import type { RobotLimiter } from '../channels/limiter';
import { createRobotLimiter } from '../channels/limiter';
import type { ChannelSender } from '../channels/sender';
import type { GroupRobot } from '../channels/robots';
import type { Logger } from '../common/logger';
import type { MailRenderer } from '../mail/renderer';
import { createMailRenderer, TemplateError } from '../mail/renderer';
import type { MailTransport } from '../mail/transport';
import type { Models } from '../models';
import { isDuplicateKeyError } from '../models';

/**
 * The outbox dispatcher: sends the mail the `sendNotification` activity enqueued, outside the
 * workflow, until it is delivered or expires.
 *
 * - Mail is taken from the ready queue a batch at a time. An attempt is claimed by inserting
 *   `<key>#<attempt>` into `outboxClaims`, the batch's claims in one unordered insert: the first
 *   dispatcher to insert a claim holds that attempt (an insert under a unique `_id` is the one
 *   atomic compare-and-set on FerretDB v1), so several workers (or a worker and its restarted
 *   self) never send the same attempt. The claim, an insert-only record with its time, is the
 *   attempt's lease: the mail's row stays `pending` while it is in flight (no `sending` write;
 *   rows in that state are from dispatchers before this one and are honoured until their lease).
 * - The stored Message-ID goes out with the mail. A worker that dies between the SMTP answer
 *   and the `sent` write leaves the mail `pending` and its claim in place; once the claim is
 *   older than the lease another dispatcher counts that attempt as made and sends it again with
 *   the same Message-ID. Delivery is therefore at-least-once, never at-most-once: a lost mail
 *   is worse than a duplicate, and the stable Message-ID lets receiving systems and mail
 *   clients drop the rare second copy. (SMTP cannot be asked whether a message was accepted.)
 *   A dead worker leaves at most one batch's claimed mails waiting for the lease.
 * - Per mail the dispatcher reads its row; delivered rows are recorded `sent` in bulk writes of
 *   up to `concurrency` rows while the batch's other mails are being sent (a retry or failure is
 *   written alone); the claims and the queue entries of the sent mail are inserted and removed
 *   a batch at a time (bench/README.md, "The roll-call at scale").
 * - Failed attempts back off exponentially; a permanent refusal (5xx) or the expiry ends in
 *   `failed`, listed for admins, who may send it again.
 * - The same outbox carries the other channels (`channel`: sms, wecom, dingtalk; absent for
 *   mail), sent through a {@link ChannelSender} with the same claims, leases, back-off and expiry.
 *   A robot's rate limit is kept before a message is claimed (it waits in the queue), and a
 *   far end that asks for a pause (a rate-limit errcode) gets at least that pause. A message
 *   refused for good or expired that lists `fallbacks` inserts the next one (`<key>~<channel>`,
 *   an insert under a deterministic `_id`, so a repeated failure handling adds nothing).
 */
export interface OutboxOptions {
  /**
   * Mails claimed and sent at once. 8 (chosen): a relay's usual per-client limit is 10 or more,
   * and each mail in flight may hold one of FerretDB v1's store connections during an update
   * (bench/README.md, "The roll-call at scale").
   */
  concurrency: number;
  /**
   * Mails delivered at once, each over its own pooled SMTP connection. 16 (chosen): a delivery
   * holds no store connection (its `sent` write waits for the batch's bulk write), and it waits
   * on the relay's round trips, not on CPU, so more of them than store lanes keep a busy event
   * loop's connections full (bench/README.md, "The roll-call at scale").
   */
  sends: number;
  /** Ready-queue entries read at once. 128 (chosen: one small read per 128 mails). */
  batch: number;
  /**
   * How often the outbox itself is read for mail with no ready-queue entry (written in the old
   * shape, before the queue existed): at the first drain and then every 10 minutes (chosen).
   */
  sweepMs: number;
  /** How long a claimed mail is held before another dispatcher may take it over. */
  leaseMs: number;
  /** How often the outbox is read without a wake-up. 5 s (chosen). */
  pollMs: number;
  /** First retry delay; it doubles after each failure up to `maxBackoffMs`. 5 s (chosen). */
  initialBackoffMs: number;
  /** Longest retry delay. 15 minutes (chosen). */
  maxBackoffMs: number;
  /** How long a mail is retried before it is marked failed (`MAIL_EXPIRY_HOURS`, default 72 h). */
  expiryMs: number;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = {
  concurrency: 8, // chosen
  sends: 16, // chosen
  batch: 128, // chosen
  sweepMs: 10 * 60_000, // chosen
  // chosen: far above one SMTP transaction (seconds), short enough that a crashed worker's
  // mail goes out again within minutes
  leaseMs: 2 * 60_000,
  pollMs: 5_000, // chosen
  initialBackoffMs: 5_000, // chosen
  maxBackoffMs: 15 * 60_000, // chosen
  expiryMs: 72 * 3_600_000, // MAIL_EXPIRY_HOURS default (chosen)
};

export interface OutboxDispatcherDeps {
  models: Models;
  transport: MailTransport;
  /**
   * Renders mail stored as its template and context (`contextJson`) when it is sent; default
   * the shipped templates.
   */
  renderer?: MailRenderer;
  from: string;
  clock: () => Date;
  logger: Logger;
  options?: Partial<OutboxOptions>;
  /** Delivers sms, wecom and dingtalk messages; without it they fail and fall back. */
  channels?: ChannelSender | null;
  /** Keeps each robot under its rate (default 20 a minute, channels/limiter.ts). */
  robotLimiter?: RobotLimiter;
}

export interface OutboxDispatcher {
  readonly options: OutboxOptions;
  /** Sends what is due now, soon (coalesced): called after an enqueue in this process. */
  wake(): void;
  /** Starts polling every `pollMs` (the worker process); without it only wake-ups send. */
  start(): void;
  /** Stops polling and waits for the mails in flight. */
  stop(): Promise<void>;
  /** Sends everything due now; resolves with the number of mails attempted. */
  drain(): Promise<number>;
  /** What this dispatcher has done so far (a copy): counts and where its time went. */
  stats(): OutboxStats;
}

/**
 * A dispatcher's counters since it was created, for profiling (bench:rollcall prints them).
 * `ms.queue`, `inspect`, `claim` and `cleanUp` are the wall time of those phases of each batch;
 * `deliver` (rendering and SMTP) is summed over mails, which run `sends` at once; `mark` over
 * the outcome writes (a bulk write of `sent` rows counts once, a retry's or failure's per mail).
 */
export interface OutboxStats {
  batches: number;
  /** Queue entries read. */
  read: number;
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  /** Reads and writes the dispatcher sent to the store. */
  storeOps: number;
  /**
   * Mail recorded `sent`, by template: what bench:rollcall polls while it waits, instead of
   * counting outbox rows (on FerretDB v1 a count converts every row it matches).
   */
  sentByTemplate: Record<string, number>;
  ms: {
    queue: number;
    inspect: number;
    claim: number;
    deliver: number;
    mark: number;
    cleanUp: number;
  };
}

/** Counters at zero: a dispatcher's start, and a reader's before the first report. */
export function emptyOutboxStats(): OutboxStats {
  return {
    batches: 0,
    read: 0,
    claimed: 0,
    sent: 0,
    retried: 0,
    failed: 0,
    storeOps: 0,
    sentByTemplate: {},
    ms: { queue: 0, inspect: 0, claim: 0, deliver: 0, mark: 0, cleanUp: 0 },
  };
}

type Counter = Exclude<keyof OutboxStats, 'ms' | 'sentByTemplate'>;

/** A batch's delivered mail waiting to be recorded `sent` (`sentMarks`). */
interface SentMarks {
  add(mail: Claimed): void;
  /** Writes what still waits; answers the mail recorded `sent` by these writes. */
  done(): Promise<Claimed[]>;
}

/** Queue entries the start-up sweep inserts per request (chosen). */
const SWEEP_BATCH = 500;

/**
 * Inserts documents under their `_id`s, leaving those already there as they are: the
 * duplicate-key errors of an unordered insert are the documents written before (a retry).
 */
export async function insertIgnoringDuplicates<T extends { _id: string }>(
  collection: mongo.Collection<T>,
  docs: T[],
): Promise<number> {
  if (docs.length === 0) return 0;
  try {
    const result = await collection.insertMany(docs as never, { ordered: false });
    return result.insertedCount;
  } catch (err) {
    const errors = (err as { writeErrors?: unknown }).writeErrors;
    const list = Array.isArray(errors) ? errors : errors ? [errors] : [];
    if (list.length === 0 && !isDuplicateKeyError(err)) throw err;
    if (
      !list.every(
        (e: { code?: number; err?: { code?: number } }) => (e.code ?? e.err?.code) === 11000,
      )
    ) {
      throw err;
    }
    return (
      (err as { result?: { insertedCount?: number } }).result?.insertedCount ??
      docs.length - list.length
    );
  }
}

/**
 * The positions an unordered insert's error names as refused duplicate keys, or null when it is a
 * duplicate-key error that names none (the caller reads its documents back). Any other error,
 * or a bulk error listing another failure beside the duplicates, is thrown.
 */
function duplicatePositionsOf(err: unknown): Set<number> | null {
  const errors = (err as { writeErrors?: unknown }).writeErrors;
  const list = (Array.isArray(errors) ? errors : errors ? [errors] : []) as Array<{
    code?: number;
    index?: number;
    err?: { code?: number; index?: number };
  }>;
  if (list.length === 0 && !isDuplicateKeyError(err)) throw err;
  if (!list.every((e) => (e.code ?? e.err?.code) === 11000)) throw err;
  const positions = list.map((e) => e.index ?? e.err?.index);
  if (list.length > 0 && positions.every((i): i is number => typeof i === 'number')) {
    return new Set(positions);
  }
  return null;
}

/**
 * Inserts documents under their `_id`s with one unordered insert, leaving those already there as
 * they are, and answers the positions the store refused as duplicate keys (documents written
 * before: a retry). Where the store names no positions, every document is answered as possibly
 * there (the caller reads them back). Any other error is thrown.
 */
export async function insertReportingDuplicates<T extends { _id: string }>(
  collection: mongo.Collection<T>,
  docs: readonly T[],
): Promise<Set<number>> {
  if (docs.length === 0) return new Set();
  try {
    await collection.insertMany(docs as never, { ordered: false });
    return new Set();
  } catch (err) {
    const named = duplicatePositionsOf(err);
    if (named !== null) return named;
    return new Set(docs.map((_, i) => i));
  }
}

type Claimed = {
  _id: string;
  to: string;
  template: string;
  subject: string;
  html?: string | null;
  text?: string | null;
  contextJson?: string | null;
  messageId: string;
  attempts?: number | null;
  expiresAt?: Date | null;
  channel?: string | null;
  notificationKey?: string | null;
  fallbacks?: Array<{ channel?: string | null; to?: string | null }> | null;
  group?: boolean | null;
  caseId: string;
  createdAt?: Date | null;
};

/** A mail or channel message's row as the enqueue writes it (also a fallback's). */
export type OutboxRow = {
  _id: string;
  caseId: string;
  template: string;
  to: string;
  subject: string;
  contextJson: string;
  messageId: string;
  status: 'pending';
  attempts: 0;
  nextAttemptAt: Date;
  expiresAt: Date;
  createdAt: Date;
  channel?: string;
  notificationKey?: string;
  fallbacks?: Array<{ channel: string; to: string }>;
  group?: boolean;
};

export function createOutboxDispatcher(deps: OutboxDispatcherDeps): OutboxDispatcher {
  const options = {
    ...DEFAULT_OUTBOX_OPTIONS,
    ...deps.options,
    // A caller that sets only `concurrency` (as before `sends` existed) sends that many at once.
    sends:
      deps.options?.sends ??
      (deps.options?.concurrency !== undefined
        ? deps.options.concurrency
        : DEFAULT_OUTBOX_OPTIONS.sends),
  };
  const { Outbox, OutboxClaim, OutboxQueue } = deps.models;
  const limiter = deps.robotLimiter ?? createRobotLimiter();
  const owner = randomBytes(6).toString('hex');
  let renderer = deps.renderer;
  let draining: Promise<number> | null = null;
  let again = false;
  let stopped = false;
  let poll: NodeJS.Timeout | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let retryAt = Infinity;
  const stats: OutboxStats = emptyOutboxStats();
  const counted = (counter: Counter, n = 1) => {
    stats[counter] += n;
  };

  /**
   * Queues the mail written in the old shape (an outbox row with no ready-queue entry: written
   * before the queue existed, or by hand) once per dispatcher, at its first drain, and every
   * `sweepMs` after that: one read of the outbox's undelivered rows, each queued under its
   * business key (an entry already there is kept).
   */
  let sweptAt = -Infinity;
  async function sweep(): Promise<void> {
    const now = deps.clock();
    if (now.getTime() - sweptAt < options.sweepMs) return;
    sweptAt = now.getTime();
    // One equality filter per status: FerretDB v1 hands those to its store, an `$in` it would
    // apply to every row itself.
    const rows = [];
    for (const status of ['pending', 'sending'] as const) {
      rows.push(
        ...(await Outbox.find({ status }, { status: 1, nextAttemptAt: 1, leaseUntil: 1 }).lean()),
      );
    }
    for (let i = 0; i < rows.length; i += SWEEP_BATCH) {
      await insertIgnoringDuplicates(
        OutboxQueue.collection as unknown as mongo.Collection<{ _id: string; dueAt: Date }>,
        rows.slice(i, i + SWEEP_BATCH).map((row) => ({
          _id: String(row._id),
          dueAt: (row.status === 'sending' ? row.leaseUntil : row.nextAttemptAt) ?? now,
        })),
      );
    }
  }

  /** Moves a queue entry still due to when its mail may be claimed. */
  async function later(id: string, now: Date, at: Date): Promise<void> {
    counted('storeOps');
    await OutboxQueue.updateOne({ _id: id, dueAt: { $lte: now } }, { $set: { dueAt: at } });
  }

  /**
   * Reads one queued mail and says whether it may be claimed now: pending and its time has come,
   * or `sending` (left by a dispatcher before claims were the lease) with its lease run out. The
   * answer carries the attempt to claim. A queue entry that is not claimable now is moved to when
   * it may be (or removed once the mail is sent or failed), so the next read of the queue finds
   * other mail.
   */
  async function inspect(id: string, now: Date): Promise<Claimed | null> {
    counted('storeOps');
    const doc = await Outbox.findById(id).lean();
    if (!doc || doc.status === 'sent' || doc.status === 'failed') {
      counted('storeOps');
      await OutboxQueue.deleteOne({ _id: id });
      return null;
    }
    if (doc.status === 'pending' && doc.nextAttemptAt && doc.nextAttemptAt > now) {
      await later(id, now, doc.nextAttemptAt);
      return null;
    }
    if (doc.status === 'sending' && doc.leaseUntil && doc.leaseUntil > now) {
      await later(id, now, doc.leaseUntil);
      return null;
    }
    if (doc.channel === 'wecom' || doc.channel === 'dingtalk') {
      // A robot over its rate waits in the queue, unclaimed, until a slot is free.
      const wait = limiter.take(`${doc.channel}:${doc.to}`, now.getTime());
      if (wait > 0) {
        await later(id, now, new Date(now.getTime() + wait));
        return null;
      }
    }
    return { ...doc, _id: id, attempts: (doc.attempts ?? 0) + 1 };
  }

  /**
   * Claims the due mails of a batch with one unordered insert of their `<id>#<attempt>` claims
   * and answers the ones this dispatcher now holds. A duplicate key is an attempt another
   * dispatcher holds, or one that died holding it: past the lease that attempt is counted as
   * made (the mail's `attempts`), so a later pass claims the next one.
   */
  async function claimAll(mails: Claimed[], now: Date): Promise<Claimed[]> {
    if (mails.length === 0) return [];
    const claims = mails.map((m) => ({ _id: claimIdOf(m), mailId: m._id, owner, at: now }));
    let refused: Set<number>;
    counted('storeOps');
    try {
      await (
        OutboxClaim.collection as unknown as mongo.Collection<(typeof claims)[number]>
      ).insertMany(claims, { ordered: false });
      refused = new Set();
    } catch (err) {
      refused = await refusedClaims(err, claims);
    }
    const held: Claimed[] = [];
    for (const [i, mail] of mails.entries()) {
      if (!refused.has(i)) {
        held.push(mail);
        continue;
      }
      const attempt = mail.attempts ?? 1;
      counted('storeOps');
      const other = await OutboxClaim.findById(claimIdOf(mail)).lean();
      if (other && other.at.getTime() + options.leaseMs <= now.getTime()) {
        counted('storeOps');
        await Outbox.updateOne(
          { _id: mail._id, attempts: attempt - 1 },
          { $set: { attempts: attempt } },
        );
      } else if (other) {
        await later(mail._id, now, new Date(other.at.getTime() + options.leaseMs));
      }
    }
    return held;
  }

  /**
   * The positions of the claims an unordered insert refused as duplicates. Any other error is
   * thrown; if the store named no positions, each claim is read back (ours: this owner, now).
   */
  async function refusedClaims(
    err: unknown,
    claims: Array<{ _id: string; owner: string; at: Date }>,
  ): Promise<Set<number>> {
    const named = duplicatePositionsOf(err);
    if (named !== null) return named;
    const refused = new Set<number>();
    for (const [i, claim] of claims.entries()) {
      counted('storeOps');
      const stored = await OutboxClaim.findById(claim._id).lean();
      if (stored?.owner !== owner || stored.at.getTime() !== claim.at.getTime()) refused.add(i);
    }
    return refused;
  }

  /** One attempt on the message's channel, as an outcome (mail's exceptions mapped to one). */
  async function deliver(mail: Claimed): Promise<ChannelOutcome> {
    if (mail.channel) return deliverOnChannel(mail);
    try {
      // Mail written in the old shape carries its text; newer mail its template's context,
      // rendered here (the enqueue rendered it once already, so the template is known to work).
      let body = { subject: mail.subject, html: mail.html ?? '', text: mail.text ?? '' };
      if ((mail.html ?? null) === null && mail.contextJson) {
        renderer ??= createMailRenderer();
        body = renderer.render(
          mail.template,
          JSON.parse(mail.contextJson) as Record<string, unknown>,
        );
      }
      await deps.transport.send({
        from: deps.from,
        to: mail.to,
        subject: body.subject,
        html: body.html,
        text: body.text,
        messageId: mail.messageId,
      });
      return { outcome: 'accepted' };
    } catch (err) {
      // SMTP replies often quote the recipient ("550 <someone@…>: unknown user"): addresses are
      // removed before the reason is stored or logged.
      const reason = withoutAddresses(String((err as Error).message)).slice(0, 500);
      // A template that no longer renders this context will not on a retry either.
      return isPermanent(err) || err instanceof TemplateError
        ? { outcome: 'refused', reason }
        : { outcome: 'retryable', reason };
    }
  }

  /** An sms or robot message: its robot read now (no webhook in the outbox), then sent. */
  async function deliverOnChannel(mail: Claimed): Promise<ChannelOutcome> {
    const sender = deps.channels;
    const channel = mail.channel as 'sms' | 'wecom' | 'dingtalk';
    if (!sender?.channels.has(channel)) {
      return { outcome: 'refused', reason: `channel ${channel} is not configured` };
    }
    let context: Record<string, unknown>;
    try {
      context = JSON.parse(mail.contextJson ?? '{}') as Record<string, unknown>;
    } catch {
      return { outcome: 'refused', reason: 'unreadable context' };
    }
    try {
      if (channel === 'sms') {
        return await sender.send({
          channel,
          phone: mail.to,
          template: mail.template,
          context,
          messageId: mail.messageId,
        });
      }
      const robot = await robotOf(mail.to);
      if (!robot || robot.channel !== channel) {
        return { outcome: 'refused', reason: `no ${channel} robot on file` };
      }
      return await sender.send({
        channel,
        robot,
        group: mail.group ?? true,
        template: mail.template,
        context,
        messageId: mail.messageId,
      });
    } catch (err) {
      if (err instanceof TemplateError) return { outcome: 'refused', reason: err.message };
      return { outcome: 'retryable', reason: errorName(err) };
    }
  }

  /** The robot of `unit:<id>` or `person:<id>`, read by `_id` when its message is sent. */
  async function robotOf(owner: string): Promise<GroupRobot | null> {
    const at = owner.indexOf(':');
    const kind = owner.slice(0, at);
    const id = owner.slice(at + 1);
    const doc =
      kind === 'unit'
        ? await deps.models.Unit.findById(id, { groupRobot: 1 }).lean()
        : kind === 'person'
          ? await deps.models.Person.findById(id, { groupRobot: 1 }).lean()
          : null;
    const robot = doc?.groupRobot;
    if (!robot?.webhook) return null;
    return {
      channel: robot.channel,
      webhook: robot.webhook,
      secret: robot.secret ?? null,
    };
  }

  /**
   * After a permanent failure: the next channel of the message's `fallbacks`, inserted under
   * `<key>~<channel>` (a repeat finds it there) and queued.
   */
  async function fallBack(mail: Claimed): Promise<void> {
    const [next, ...rest] = mail.fallbacks ?? [];
    if (!next?.channel || !next.to) return;
    const key = mail.notificationKey ?? mail._id;
    const now = deps.clock();
    const id = `${key}~${next.channel}`;
    const row: OutboxRow = {
      _id: id,
      caseId: mail.caseId,
      template: mail.template,
      to: next.to,
      subject: mail.subject,
      contextJson: mail.contextJson ?? '{}',
      messageId: messageIdOf(id),
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      expiresAt: new Date(now.getTime() + options.expiryMs),
      createdAt: now,
      notificationKey: key,
      ...(next.channel !== 'mail' ? { channel: next.channel } : {}),
      ...(rest.length > 0
        ? { fallbacks: rest.map((f) => ({ channel: f.channel!, to: f.to! })) }
        : {}),
      ...(next.channel === 'wecom' || next.channel === 'dingtalk' ? { group: true } : {}),
    };
    await insertIgnoringDuplicates(Outbox.collection as unknown as mongo.Collection<OutboxRow>, [
      row,
    ]);
    await insertIgnoringDuplicates(
      OutboxQueue.collection as unknown as mongo.Collection<{ _id: string; dueAt: Date }>,
      [{ _id: id, dueAt: now }],
    );
    deps.logger.info(
      { businessKey: key, channel: next.channel, after: mail.channel ?? 'mail' },
      'notification falls back to the next channel',
    );
    dispatcher.wake();
  }

  /**
   * Sends one claimed mail. A mail the far end accepted is recorded `sent` by the batch's
   * {@link SentMarks} (answers true); any other outcome is recorded on its row here, guarded on
   * the attempts before this one (a dispatcher that took the mail over after the lease has
   * counted this attempt, and its record wins), and answers false.
   */
  async function sendOne(mail: Claimed): Promise<boolean> {
    const attempts = mail.attempts ?? 1;
    const mine = { _id: mail._id, attempts: attempts - 1 };
    const sending = performance.now();
    const result = await deliver(mail);
    const marking = performance.now();
    stats.ms.deliver += marking - sending;
    if (result.outcome === 'accepted') return true;
    try {
      const reason = result.reason;
      const now = deps.clock();
      const delay = Math.max(
        Math.min(options.maxBackoffMs, options.initialBackoffMs * 2 ** Math.min(attempts - 1, 30)),
        // The far end asked for a pause (a robot's rate-limit errcode): at least that long.
        result.outcome === 'retryable' ? (result.retryAfterMs ?? 0) : 0,
      );
      const next = new Date(now.getTime() + delay);
      const permanent = result.outcome === 'refused';
      const expired = !!mail.expiresAt && next.getTime() > mail.expiresAt.getTime();
      const channel = mail.channel ?? 'mail';
      counted('storeOps', 2);
      if (permanent || expired) {
        counted('failed');
        await Outbox.updateOne(mine, {
          $set: {
            status: 'failed',
            attempts,
            failedAt: now,
            lastError: permanent ? reason : `expired after ${attempts} attempts: ${reason}`,
          },
          $unset: { leaseUntil: '', leaseOwner: '', nextAttemptAt: '' },
        });
        await OutboxQueue.deleteOne({ _id: mail._id });
        deps.logger.warn({ businessKey: mail._id, channel, reason, attempts }, 'mail failed');
        await fallBack(mail);
      } else {
        counted('retried');
        await Outbox.updateOne(mine, {
          $set: { status: 'pending', attempts, nextAttemptAt: next, lastError: reason },
          $unset: { leaseUntil: '', leaseOwner: '' },
        });
        await OutboxQueue.updateOne({ _id: mail._id }, { $set: { dueAt: next } });
        deps.logger.warn({ businessKey: mail._id, channel, reason, attempts }, 'mail send failed');
        scheduleRetry(next.getTime());
      }
      return false;
    } finally {
      stats.ms.mark += performance.now() - marking;
    }
  }

  /**
   * Records delivered mail `sent`, several rows in one bulk write (one round trip and one turn
   * of the event loop for up to `concurrency` rows, instead of one update each; the updates stay
   * `_id` writes, which FerretDB v1 hands to PostgreSQL's index). A write starts as soon as
   * `concurrency` mails wait for it, while the lanes go on sending, so a crash leaves at most
   * a few delivered mails unrecorded (sent again after the lease with the same Message-ID, as
   * before). Each update is guarded on the attempts before this one, as every outcome write is.
   */
  function sentMarks(): SentMarks {
    const waiting: Claimed[] = [];
    const writes: Array<Promise<void>> = [];
    const recorded: Claimed[] = [];
    let failure: Error | null = null;
    const rawOutbox = Outbox.collection as unknown as mongo.Collection<{ _id: string }>;
    const write = async (mails: Claimed[]): Promise<void> => {
      const started = performance.now();
      const at = deps.clock();
      counted('storeOps');
      const result = await rawOutbox.bulkWrite(
        mails.map((mail) => ({
          updateOne: {
            filter: { _id: mail._id, attempts: (mail.attempts ?? 1) - 1 },
            update: {
              $set: { status: 'sent', attempts: mail.attempts ?? 1, sentAt: at },
              // No mail text at rest once it is delivered.
              $unset: {
                lastError: '',
                html: '',
                text: '',
                contextJson: '',
                leaseUntil: '',
                leaseOwner: '',
                nextAttemptAt: '',
              },
            },
          },
        })),
        { ordered: false },
      );
      counted('sent', mails.length);
      if (result.matchedCount === mails.length) {
        recorded.push(...mails);
        for (const mail of mails) {
          stats.sentByTemplate[mail.template] = (stats.sentByTemplate[mail.template] ?? 0) + 1;
        }
      } else {
        // Some row had moved on (another dispatcher took the mail over after the lease and
        // counted this attempt): only the rows this write recorded are cleaned up as sent.
        for (const mail of mails) {
          counted('storeOps');
          const row = await Outbox.findById(mail._id, { status: 1, attempts: 1, sentAt: 1 }).lean();
          if (
            row?.status === 'sent' &&
            row.attempts === (mail.attempts ?? 1) &&
            row.sentAt?.getTime() === at.getTime()
          ) {
            recorded.push(mail);
            stats.sentByTemplate[mail.template] = (stats.sentByTemplate[mail.template] ?? 0) + 1;
          }
        }
      }
      stats.ms.mark += performance.now() - started;
    };
    const flush = () => {
      if (waiting.length === 0) return;
      writes.push(
        write(waiting.splice(0)).catch((err: unknown) => {
          failure ??= err instanceof Error ? err : new Error(String(err));
        }),
      );
    };
    return {
      add(mail) {
        waiting.push(mail);
        if (waiting.length >= options.concurrency) flush();
      },
      async done() {
        flush();
        await Promise.all(writes);
        if (failure !== null) throw failure;
        return recorded;
      },
    };
  }

  /**
   * After a batch: the queue entries of the mail it recorded `sent` and the claims of every
   * attempt of that mail, each in one delete (both collections hold only mail in flight, so
   * FerretDB's scan for an `$in` reads a few rows, not the outbox). A crash before it leaves
   * entries whose mail is `sent` (removed when next read) and claims nobody reads again.
   */
  async function cleanUp(sent: Claimed[]): Promise<void> {
    if (sent.length === 0) return;
    const started = performance.now();
    counted('storeOps', 2);
    await OutboxQueue.deleteMany({ _id: { $in: sent.map((m) => m._id) } });
    await OutboxClaim.deleteMany({
      _id: {
        $in: sent.flatMap((m) =>
          Array.from({ length: m.attempts ?? 1 }, (_, i) => `${m._id}#${i + 1}`),
        ),
      },
    });
    stats.ms.cleanUp += performance.now() - started;
  }

  /** A wake-up at the earliest retry this dispatcher knows of (polling finds the others). */
  function scheduleRetry(at: number): void {
    if (stopped || at >= retryAt) return;
    if (retryTimer) clearTimeout(retryTimer);
    retryAt = at;
    retryTimer = setTimeout(
      () => {
        retryTimer = null;
        retryAt = Infinity;
        dispatcher.wake();
      },
      Math.max(0, at - Date.now()),
    );
    retryTimer.unref();
  }

  /**
   * Reads due entries of the ready queue `batch` at a time; for each batch, reads their rows
   * (`concurrency` at once), claims the due ones in one insert, sends them `concurrency` at once
   * and removes what was sent in one delete per collection; until a read finds nothing this
   * dispatcher could claim.
   */
  async function drainAll(): Promise<number> {
    await sweep();
    let attempted = 0;
    for (;;) {
      const now = deps.clock();
      let started = performance.now();
      // The due entries oldest first, so a roll-call's calls go out before the reminders
      // queued after them (read in store order, the reminders took the slots the sent calls
      // had freed and went first: bench/README.md). FerretDB v1 filters and sorts the queue
      // in its own process; the queue holds only mail still to deliver, in small documents,
      // so that costs a read of those, once per batch.
      counted('storeOps');
      const due = await OutboxQueue.find({ dueAt: { $lte: now } }, { _id: 1, dueAt: 1 })
        .sort({ dueAt: 1, _id: 1 })
        .limit(options.batch)
        .lean();
      stats.ms.queue += performance.now() - started;
      if (due.length === 0) return attempted;
      counted('batches');
      counted('read', due.length);
      started = performance.now();
      const found = await inLanes(due, (d) => inspect(String(d._id), now));
      const claimable = found.filter((m): m is Claimed => m !== null);
      stats.ms.inspect += performance.now() - started;
      started = performance.now();
      const claimed = await claimAll(claimable, now);
      stats.ms.claim += performance.now() - started;
      counted('claimed', claimed.length);
      const marks = sentMarks();
      const unsent: Claimed[] = [];
      await inLanes(
        claimed,
        async (mail) => {
          // Stopping: mail claimed but not sent is released at once, not left to its lease.
          if (stopped) unsent.push(mail);
          // A slow batch (an SMTP server timing out) may outlive its claims: past the lease
          // another dispatcher may have taken the mail over, so this one leaves it (the claim
          // stays, and the next pass counts that attempt as made) rather than send a second copy
          // beside it.
          else if (deps.clock().getTime() - now.getTime() >= options.leaseMs) return;
          else if (await sendOne(mail)) marks.add(mail);
        },
        options.sends,
      );
      await cleanUp(await marks.done());
      if (unsent.length > 0) {
        counted('storeOps');
        await OutboxClaim.deleteMany({ _id: { $in: unsent.map(claimIdOf) } });
      }
      attempted += claimed.length - unsent.length;
      // Every entry read was sent, moved to when it may be claimed, or removed: the next read
      // finds other mail, and none once nothing is due.
      if (stopped) return attempted;
    }
  }

  /** Runs `work` over `items`, `lanes` at once, answering in the items' order. */
  async function inLanes<T, R>(
    items: T[],
    work: (item: T) => Promise<R>,
    lanes = options.concurrency,
  ): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const lane = async () => {
      while (next < items.length) {
        const at = next++;
        results[at] = await work(items[at]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
    return results;
  }

  const dispatcher: OutboxDispatcher = {
    options,
    wake() {
      if (stopped) return;
      void dispatcher.drain().catch((err: unknown) => {
        deps.logger.error({ err: errorName(err) }, 'outbox dispatch failed');
      });
    },
    async drain() {
      if (draining) {
        // Mail enqueued while a drain runs is picked up by one more pass.
        again = true;
        return draining;
      }
      draining = (async () => {
        let total = 0;
        try {
          do {
            again = false;
            total += await drainAll();
          } while (again && !stopped);
        } finally {
          draining = null;
        }
        return total;
      })();
      return draining;
    },
    start() {
      if (poll || stopped) return;
      poll = setInterval(() => dispatcher.wake(), options.pollMs);
      poll.unref();
      dispatcher.wake();
    },
    stats() {
      return { ...stats, sentByTemplate: { ...stats.sentByTemplate }, ms: { ...stats.ms } };
    },
    async stop() {
      stopped = true;
      if (poll) clearInterval(poll);
      if (retryTimer) clearTimeout(retryTimer);
      poll = null;
      retryTimer = null;
      await draining?.catch(() => undefined);
    },
  };
  return dispatcher;
}

/** The claim of a mail's attempt in `outboxClaims`. */
function claimIdOf(mail: { _id: string; attempts?: number | null }): string {
  return `${mail._id}#${mail.attempts ?? 1}`;
}

/**
 * The stable message id of a notification's row: the same key always gives the same id, so a
 * resend after a crash carries it again (a Message-ID for mail; the SMS provider's dedup key).
 */
export function messageIdOf(businessKey: string): string {
  return `<${createHash('sha256').update(businessKey).digest('hex').slice(0, 32)}@governance.local>`;
}

/** A 5xx SMTP reply: the relay refuses this mail for good (unknown user, policy). */
function isPermanent(err: unknown): boolean {
  const code = (err as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

function errorName(err: unknown): string {
  return err instanceof Error ? withoutAddresses(err.message) : 'unknown error';
}

/** Replaces anything shaped like a mail address, so delivery errors carry no personal data. */
export function withoutAddresses(text: string): string {
  return text.replace(/<?[^\s<>@]+@[^\s<>]+>?/g, '[address]');
}

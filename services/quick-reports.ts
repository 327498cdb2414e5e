import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { DefinitionSnapshot, QuickReportSpec } from '../lang/definition';
import { insertIgnoringDuplicates, messageIdOf } from '../activities/outbox';
import type { Logger } from '../common/logger';
import type { Models } from '../models';
import { isDuplicateKeyError } from '../models';
import { readOrgRevision } from '../models/org-revision';
import type { Principal } from './auth';
import type { CaseService } from './cases';
import type { DefinitionService } from './definitions';
import type { ErrorDetail } from './errors';
import { AppError } from './errors';
import type { RateLimits } from './limits';
import type { OrgSnapshotReader } from '../common/org-snapshot';
import type { PhoneKeys } from './phone-keys';
import { startOf } from './started-case';
import { asAppError, withCallDeadline } from './temporal-errors';

/**
 * Quick reports (随手报) from mobile grid members (流动网格员, seeds/004: Hanzhong's 4,800 riders,
 * couriers and drivers): people of the org data holding the post `mobile-grid-member` in a grid
 * or street, with their phone number, and no account. A one-time code sent by SMS proves the
 * phone; the report then starts a case of a process that declares `quickReport`, in the grid or
 * compound named, with the member as its creator and reporter, channel `quick-report`.
 *
 * - No enumeration: asking for a code answers the same for every well-formed number. An
 *   unregistered number gets a code record too (never sent, never accepted), so a wrong code, an
 *   expired code and the attempt budget read the same whether the number is registered or not.
 *   Nor does the answer's time tell: both do the same store work before answering (the budget,
 *   one code document), and a member's SMS is queued in the outbox only after the answer.
 * - Codes: {@link CODE_DIGITS} digits, stored as a salted SHA-256 (never plain), valid
 *   QUICK_REPORT_CODE_TTL_SECONDS, void after QUICK_REPORT_CODE_ATTEMPTS tries (each an inserted
 *   document, recorded before the comparison and counted after it, so parallel guesses get no
 *   more comparisons than serial ones). A new code replaces the number's earlier ones (only
 *   the latest is read).
 * - Single use: the case id is derived from the code, so a code starts one case at most (two
 *   submissions at once join that case); the code is marked used after the start, and a used
 *   code is refused. A start that fails (Temporal unavailable) leaves the code unused: the
 *   member retries with it, nothing half-written.
 * - Personal data: phone numbers are kept only in the people collection and in the SMS's outbox
 *   row (as every SMS); codes and rate-limit counters are keyed by an HMAC of the number under
 *   PHONE_KEY_SECRET (services/phone-keys.ts: a plain hash of an 11-digit number is reversed by
 *   trying them all); no log line, workflow id, memo or search attribute carries it. Codes and
 *   counters stored under the unsalted SHA-256 of earlier versions are found too and re-keyed
 *   when read (both live minutes to hours: the fallback reads nothing once they are gone).
 */

/** The channel recorded on the cases a quick report starts (the ledger and metrics count it). */
export const QUICK_REPORT_CHANNEL = 'quick-report';
/** The post role of a registered mobile grid member (lang/vocabulary.ts). */
export const MOBILE_GRID_MEMBER_ROLE = 'mobile-grid-member';
/** The notification kind (channels/templates/quick-report-code.hbs) of the code's SMS. */
export const QUICK_REPORT_CODE_TEMPLATE = 'quick-report-code';
/** Digits of a code (chosen: 6, the usual length of a Chinese 短信验证码). */
export const CODE_DIGITS = 6;
/** Unit types a report can be filed for: where a member sees something. */
export const QUICK_REPORT_PLACE_TYPES = ['grid', 'compound'] as const;

export const QUICK_REPORT_CODE_COLLECTION = 'quickReportCodes';
/**
 * Codes and their attempts are deleted a day after the code expired (chosen: an expired code
 * still answers "expired" meanwhile), swept at most every 10 minutes per process (chosen).
 */
const KEEP_AFTER_EXPIRY_MS = 24 * 3_600_000;
const SWEEP_EVERY_MS = 10 * 60_000;
const ATTEMPT_COLLECTION = 'quickReportCodeAttempts';

interface CodeDocument {
  _id: string;
  /** The normalised phone number's HMAC key (services/phone-keys.ts, `quick-report-code`). */
  phoneKey: string;
  /** The member the code was sent to; null for a number nobody registered (never sent). */
  personId: string | null;
  salt: string;
  codeHash: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt?: Date;
  caseId?: string;
}

interface Member {
  personId: string;
  /** The units where the person holds the post: reports may name a place under them. */
  unitIds: string[];
}

export interface QuickReportSettings {
  codeTtlSeconds: number;
  maxAttempts: number;
  /** Whether an SMS provider is configured (SMS_HTTP_URL); without one no code can be sent. */
  smsEnabled: boolean;
}

export interface CodeRequestAnswer {
  message: string;
  expiresInSeconds: number;
}

export interface QuickReportInput {
  phone: string;
  code: string;
  /** The process key; may be left out when one process accepts quick reports. */
  process?: string;
  category: string;
  description: string;
  /** A grid or compound of the org tree. */
  place: string;
  /** Where exactly (an address, a landmark); the place's name when absent. */
  location?: string;
}

export interface QuickReportAnswer {
  caseId: string;
  created: boolean;
  process: { key: string; name: string };
  /** Where to follow the case without an account. */
  follow: { api: string; page: string };
}

export interface QuickReportStatus {
  caseId: string;
  process: { key: string; name: string };
  status: string;
  currentStep: string | null;
  receivedAt: string;
  closedAt: string | null;
}

export interface QuickReportForm {
  processes: Array<{
    key: string;
    name: string;
    categories: Array<{ code: string; name: string }>;
  }>;
  codeDigits: number;
  codeTtlSeconds: number;
}

/**
 * A mainland mobile number as digits (`13800138000`), whatever spaces, dashes or country code
 * (+86, 0086) it was written with; null for anything else.
 */
export function normalisePhone(text: string): string | null {
  const digits = text.replace(/[\s-]/g, '');
  const match = /^(?:\+86|0086|86)?(1[3-9]\d{9})$/.exec(digits);
  return match ? match[1]! : null;
}

function codeHashOf(salt: string, code: string): string {
  return createHash('sha256').update(`${salt}\n${code}`).digest('base64url');
}

export function createQuickReportService(deps: {
  models: Models;
  cases: CaseService;
  definitions: DefinitionService;
  units: OrgSnapshotReader;
  limits?: RateLimits;
  /** Keys phone numbers in the store (PHONE_KEY_SECRET). */
  phoneKeys: PhoneKeys;
  settings: QuickReportSettings;
  clock: () => Date;
  /** Says when a code's SMS could not be queued after the answer (no number is logged). */
  logger?: Logger;
  /** For a case started but not yet projected: its start memo answers meanwhile. */
  temporal?: { client: Client; callTimeoutMs: number };
}) {
  const { models, settings, phoneKeys } = deps;
  const db = models.Case.db;
  const codes = db.collection<CodeDocument>(QUICK_REPORT_CODE_COLLECTION);
  const attempts = db.collection<{ _id: string; codeId: string; at: Date }>(ATTEMPT_COLLECTION);

  let lastSweep = 0;
  /** Deletes codes (and their attempts) a day past their expiry; errors wait for the next. */
  function sweep(now: Date): void {
    if (now.getTime() - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = now.getTime();
    const before = new Date(now.getTime() - KEEP_AFTER_EXPIRY_MS);
    const attemptsBefore = new Date(before.getTime() - settings.codeTtlSeconds * 1000);
    void Promise.all([
      codes.deleteMany({ expiresAt: { $lte: before } }),
      attempts.deleteMany({ at: { $lte: attemptsBefore } }),
    ]).catch(() => {
      // The next sweep tries again; old codes are never the latest of a number for long.
    });
  }

  /**
   * The registered members by phone, read again only when the org revision moved (any org
   * write, in any process): one `_id` read per request otherwise, however many members.
   */
  let directory: { revision: number; members: Promise<Map<string, Member>> } | undefined;
  async function members(): Promise<Map<string, Member>> {
    const revision = await readOrgRevision(models);
    if (directory?.revision === revision) return directory.members;
    const entry = { revision, members: loadMembers() };
    directory = entry;
    entry.members.catch(() => {
      if (directory === entry) directory = undefined;
    });
    return entry.members;
  }

  async function loadMembers(): Promise<Map<string, Member>> {
    const posts = await models.Post.find(
      { role: MOBILE_GRID_MEMBER_ROLE },
      { unitId: 1, personId: 1 },
    ).lean();
    const unitsOf = new Map<string, string[]>();
    for (const post of posts) {
      const list = unitsOf.get(post.personId) ?? [];
      list.push(post.unitId);
      unitsOf.set(post.personId, list);
    }
    const people = await models.Person.find(
      { _id: { $in: [...unitsOf.keys()].sort() } },
      { phone: 1 },
    ).lean();
    const byPhone = new Map<string, Member>();
    // In id order, so two people sharing a number resolve to the same one on every replica.
    for (const person of people.sort((a, b) => a._id.localeCompare(b._id))) {
      const phone = person.phone ? normalisePhone(person.phone) : null;
      if (phone === null || byPhone.has(phone)) continue;
      byPhone.set(phone, { personId: person._id, unitIds: unitsOf.get(person._id) ?? [] });
    }
    return byPhone;
  }

  /** The processes that accept quick reports (latest published versions), by key. */
  async function accepting(): Promise<DefinitionSnapshot[]> {
    return (await deps.definitions.latestSnapshots())
      .filter((d) => d.spec.quickReport !== undefined)
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  function categoriesOf(snapshot: DefinitionSnapshot): Array<{ code: string; name: string }> {
    if (snapshot.spec.categories) {
      return snapshot.spec.categories.map((c) => ({ code: c.code, name: c.name }));
    }
    const name = snapshot.spec.quickReport?.category;
    const field = snapshot.spec.input.fields.find((f) => f.name === name);
    return (field?.options ?? []).map((option) => ({ code: option, name: option }));
  }

  function phoneOf(text: string): string {
    const phone = normalisePhone(text);
    if (phone === null) {
      throw new AppError('invalid_request', 'The phone number is not valid', [
        { path: 'body.phone', message: 'a mainland mobile number, 11 digits starting with 1' },
      ]);
    }
    return phone;
  }

  const refusedCode = (message: string) =>
    new AppError('unauthenticated', `The code is not accepted: ${message}`, [
      { path: 'body.code', message },
    ]);

  /** The report's own problems, before any code is spent: process, category, place. */
  async function checkReport(input: QuickReportInput): Promise<{
    snapshot: DefinitionSnapshot;
    spec: QuickReportSpec;
    placeName: string;
  }> {
    const offered = await accepting();
    const problems: ErrorDetail[] = [];
    let snapshot: DefinitionSnapshot | undefined;
    if (input.process !== undefined) {
      snapshot = offered.find((d) => d.key === input.process);
      if (!snapshot) {
        problems.push({
          path: 'body.process',
          message: `"${input.process}" takes no quick reports (${offered.map((d) => d.key).join(', ') || 'none does'})`,
        });
      }
    } else if (offered.length === 1) {
      snapshot = offered[0];
    } else {
      problems.push({
        path: 'body.process',
        message:
          offered.length === 0
            ? 'no published process takes quick reports'
            : `required: one of ${offered.map((d) => d.key).join(', ')}`,
      });
    }
    if (snapshot) {
      const categories = categoriesOf(snapshot);
      if (!categories.some((c) => c.code === input.category)) {
        problems.push({
          path: 'body.category',
          message: `"${input.category}" is not a category of ${snapshot.key} (${categories.map((c) => c.code).join(', ')})`,
        });
      }
    }
    const tree = await deps.units.get();
    const place = tree.byId.get(input.place);
    if (!place) {
      problems.push({ path: 'body.place', message: `no unit "${input.place}" in the org tree` });
    } else if (!(QUICK_REPORT_PLACE_TYPES as readonly string[]).includes(place.type)) {
      problems.push({
        path: 'body.place',
        message: `"${input.place}" is a ${place.type}: name a ${QUICK_REPORT_PLACE_TYPES.join(' or ')}`,
      });
    }
    if (problems.length > 0 || !snapshot || !place) {
      throw new AppError('unprocessable', 'The quick report is not valid', problems);
    }
    return { snapshot, spec: snapshot.spec.quickReport!, placeName: place.name };
  }

  /** Whether `unitId` is one of `roots` or below one of them. */
  async function isUnder(unitId: string, roots: readonly string[]): Promise<boolean> {
    const tree = await deps.units.get();
    for (let id: string | null = unitId; id !== null;) {
      if (roots.includes(id)) return true;
      id = tree.byId.get(id)?.parentId ?? null;
    }
    return false;
  }

  /**
   * The latest code of the number, checked against the given one; throws unless it matches. A
   * code stored under the number's unsalted key (before the upgrade) counts too, and is re-keyed.
   */
  async function verify(phone: string, code: string, now: Date): Promise<CodeDocument> {
    const phoneKey = phoneKeys.of('quick-report-code', phone);
    const legacyKey = phoneKeys.legacyOf('quick-report-code', phone);
    const [latest] = await codes
      .find({ phoneKey: { $in: [phoneKey, legacyKey] } })
      .sort({ createdAt: -1 })
      .limit(1)
      .toArray();
    if (!latest) throw refusedCode('no code was sent to this number: ask for one');
    if (latest.phoneKey === legacyKey) {
      // Re-keyed on read: the unsalted key leaves the store; attempts follow the code's id.
      await codes.updateMany({ phoneKey: legacyKey }, { $set: { phoneKey } });
    }
    if (latest.expiresAt <= now) throw refusedCode('the code has expired: ask for a new one');
    // Every try is recorded before the code is compared, and counted after: of many tries sent
    // at once only the first `maxAttempts` recorded can see a count within the budget, so
    // parallel guesses get no more comparisons than serial ones (inserts are never lost, where
    // FerretDB v1 loses concurrent `$inc`s).
    await attempts.insertOne({
      _id: randomBytes(12).toString('base64url'),
      codeId: latest._id,
      at: now,
    });
    const tries = await attempts.countDocuments({ codeId: latest._id });
    if (tries > settings.maxAttempts) {
      throw refusedCode('too many wrong codes: ask for a new one');
    }
    const given = Buffer.from(codeHashOf(latest.salt, code));
    const stored = Buffer.from(latest.codeHash);
    const matches =
      latest.personId !== null && given.length === stored.length && timingSafeEqual(given, stored);
    if (!matches) {
      const left = settings.maxAttempts - tries;
      throw refusedCode(
        left > 0
          ? `wrong code; ${left} attempt(s) left`
          : 'wrong code; no attempts left: ask for a new one',
      );
    }
    if (latest.usedAt) {
      throw new AppError(
        'conflict',
        'This code was already used: ask for a new code to send another report',
        [{ path: 'body.code', message: `already used for case ${latest.caseId ?? ''}`.trim() }],
      );
    }
    return latest;
  }

  /**
   * The code's SMS, sent by the outbox (activities/outbox.ts) like any SMS; a code past its
   * lifetime is not worth sending, so the row expires with the code.
   */
  async function queueCodeSms(
    codeId: string,
    phone: string,
    code: string,
    now: Date,
    expiresAt: Date,
  ): Promise<void> {
    const key = `quick-report-code:${codeId}`;
    try {
      await models.Outbox.collection.insertOne({
        _id: key as never,
        caseId: QUICK_REPORT_CHANNEL,
        template: QUICK_REPORT_CODE_TEMPLATE,
        to: phone,
        subject: '随手报验证码',
        contextJson: JSON.stringify({
          code,
          minutes: Math.max(1, Math.round(settings.codeTtlSeconds / 60)),
        }),
        messageId: messageIdOf(key),
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        expiresAt,
        createdAt: now,
        channel: 'sms',
      });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    await insertIgnoringDuplicates(models.OutboxQueue.collection as never, [
      { _id: key, dueAt: now },
    ]);
  }

  const followOf = (caseId: string) => ({
    api: `/api/v1/quick-reports/cases/${caseId}`,
    page: `/console/report/cases/${caseId}`,
  });

  return {
    async ensureIndexes(): Promise<void> {
      await codes.createIndex({ phoneKey: 1, createdAt: -1 });
      await attempts.createIndex({ codeId: 1 });
    },

    /** What the report form offers: the processes and their categories, the code's length. */
    async form(): Promise<QuickReportForm> {
      return {
        processes: (await accepting()).map((d) => ({
          key: d.key,
          name: d.spec.name,
          categories: categoriesOf(d),
        })),
        codeDigits: CODE_DIGITS,
        codeTtlSeconds: settings.codeTtlSeconds,
      };
    },

    /**
     * Sends a code to the number if a member registered it; answers the same either way, after
     * the same store work either way: the per-number budget (spent for every number, so a 429
     * tells nothing about registration) and one code document. A member's SMS is queued in the
     * outbox after the answer has gone, so the answer's time does not tell either.
     */
    async requestCode(phoneText: string): Promise<CodeRequestAnswer> {
      const phone = phoneOf(phoneText);
      if (!settings.smsEnabled) {
        throw new AppError('unavailable', 'Quick-report codes cannot be sent: no SMS provider');
      }
      await deps.limits?.consumeQuickReportCode(
        phoneKeys.of('quick-report-code-limit', phone),
        phoneKeys.legacyOf('quick-report-code-limit', phone),
      );
      const member = (await members()).get(phone) ?? null;
      const now = deps.clock();
      sweep(now);
      const code = String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
      const salt = randomBytes(16).toString('base64url');
      const id = randomBytes(16).toString('base64url');
      const expiresAt = new Date(now.getTime() + settings.codeTtlSeconds * 1000);
      await codes.insertOne({
        _id: id,
        phoneKey: phoneKeys.of('quick-report-code', phone),
        personId: member?.personId ?? null,
        salt,
        codeHash: codeHashOf(salt, code),
        createdAt: now,
        expiresAt,
      });
      if (member) {
        // After this answer is written (setImmediate runs once the awaiting handler has sent
        // it). A store failure here loses this SMS (logged, without the number): the member
        // asks again, as for any SMS that does not arrive.
        setImmediate(() => {
          queueCodeSms(id, phone, code, now, expiresAt).catch((err: unknown) => {
            deps.logger?.error(
              { err: { message: (err as Error).message } },
              'a quick-report code could not be queued for sending',
            );
          });
        });
      }
      return {
        message: '如该号码已登记为流动网格员，验证码已通过短信发送。',
        expiresInSeconds: settings.codeTtlSeconds,
      };
    },

    /** Checks the report, then the code, then starts the case (once per code). */
    async submit(input: QuickReportInput): Promise<QuickReportAnswer> {
      const phone = phoneOf(input.phone);
      const { snapshot, spec, placeName } = await checkReport(input);
      const now = deps.clock();
      const code = await verify(phone, input.code, now);
      const member = (await members()).get(phone);
      if (!member || member.personId !== code.personId) {
        throw new AppError(
          'forbidden',
          'This number is no longer registered as a mobile grid member',
        );
      }
      if (!(await isUnder(input.place, member.unitIds))) {
        throw new AppError('forbidden', 'The place is outside the area you are registered for', [
          {
            path: 'body.place',
            message: `"${input.place}" is not under ${member.unitIds.join(', ')}, where you report`,
          },
        ]);
      }
      const data: Record<string, unknown> = { [spec.description]: input.description };
      if (spec.location) data[spec.location] = input.location ?? placeName;
      if (spec.reporter) data[spec.reporter] = member.personId;
      if (spec.category) data[spec.category] = input.category;
      const principal: Principal = {
        kind: 'person',
        id: member.personId,
        roles: [],
        unitIds: [],
      };
      let started;
      try {
        started = await deps.cases.startCase(
          principal,
          code._id,
          {
            definitionKey: snapshot.key,
            data,
            unitId: input.place,
            ...(snapshot.spec.categories ? { category: input.category } : {}),
          },
          { channel: QUICK_REPORT_CHANNEL, intake: 'quick-report' },
        );
      } catch (err) {
        if (!(err instanceof AppError) || err.details.length === 0) throw err;
        // Name each problem as the member sent it: `data.description` came from `description`.
        const sources = new Map<string, string>(
          Object.entries(spec).map(([part, field]) => [field, `body.${part}`]),
        );
        throw new AppError(
          err.kind,
          err.message,
          err.details.map((d) => {
            const match = /^data\.([A-Za-z0-9_]+)/.exec(d.path);
            const source = match ? sources.get(match[1]!) : undefined;
            if (source) return { path: source, message: d.message };
            if (match) {
              return {
                path: d.path,
                message: `${d.message} (the process needs this field, which a quick report does not fill)`,
              };
            }
            return d;
          }),
        );
      }
      await codes.updateOne({ _id: code._id }, { $set: { usedAt: now, caseId: started.case.id } });
      return {
        caseId: started.case.id,
        created: started.created,
        process: { key: snapshot.key, name: snapshot.spec.name },
        follow: followOf(started.case.id),
      };
    },

    /**
     * A quick report's progress for whoever holds its id (24 hex digits of a hash: not
     * guessable): the process, status and current step, nothing personal.
     */
    async status(caseId: string): Promise<QuickReportStatus> {
      const doc = await models.Case.findById(caseId, {
        channel: 1,
        status: 1,
        definitionKey: 1,
        definitionName: 1,
        currentStep: 1,
        createdAt: 1,
        closedAt: 1,
      }).lean();
      if (!doc && deps.temporal) {
        // Accepted by Temporal, not yet written by the worker: the start memo (ids only) answers.
        const { client, callTimeoutMs } = deps.temporal;
        const started = await withCallDeadline(client, callTimeoutMs, () =>
          startOf(client, caseId),
        ).catch((err: unknown) => {
          throw asAppError(err);
        });
        if (started?.memo.channel === QUICK_REPORT_CHANNEL) {
          return {
            caseId,
            process: { key: started.memo.definitionKey, name: started.memo.definitionName },
            status: 'open',
            currentStep: null,
            receivedAt: started.startTime.toISOString(),
            closedAt: null,
          };
        }
      }
      if (!doc || doc.channel !== QUICK_REPORT_CHANNEL) {
        throw new AppError('not_found', `No quick report ${caseId}`);
      }
      return {
        caseId,
        process: { key: doc.definitionKey, name: doc.definitionName ?? doc.definitionKey },
        status: doc.status,
        currentStep: doc.currentStep?.name ?? null,
        receivedAt: doc.createdAt.toISOString(),
        closedAt: doc.closedAt ? doc.closedAt.toISOString() : null,
      };
    },
  };
}

export type QuickReportService = ReturnType<typeof createQuickReportService>;

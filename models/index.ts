import mongoose from 'mongoose';
import type { Connection, InferSchemaType, Model, mongo } from 'mongoose';
import { createAttachmentModels } from './attachment';
import { createAvailabilityModels } from './availability';
import { pairingSchema } from './pairing';
import { duplicatedAccountLinksWarning, findDuplicatedAccountLinks } from './account-links';

/**
 * MongoDB documents (read models and admin data). Everything here runs on MongoDB and on
 * FerretDB v1: no transactions, no `$lookup`, keys validated before they reach storage, and
 * indexes created serially at start-up instead of by mongoose in the background.
 */

const actorSchema = new mongoose.Schema(
  { kind: { type: String, required: true }, id: { type: String, required: true } },
  { _id: false },
);

const timelineEntrySchema = new mongoose.Schema(
  {
    seq: { type: Number, required: true },
    type: { type: String, required: true },
    at: { type: Date, required: true },
    actor: { type: actorSchema, required: true },
    stepId: String,
    via: String,
    detail: mongoose.Schema.Types.Mixed,
  },
  { _id: false },
);

const caseSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    revision: { type: Number, required: true },
    status: { type: String, required: true },
    definitionKey: { type: String, required: true },
    definitionVersion: { type: Number, required: true },
    definitionName: { type: String, required: true },
    currentStep: {
      type: new mongoose.Schema(
        { id: String, name: String, type: { type: String } },
        { _id: false },
      ),
      default: null,
    },
    data: { type: mongoose.Schema.Types.Mixed, required: true },
    createdBy: { type: actorSchema, required: true },
    unitId: String,
    /** The definition's category code (诉求类别) the case was filed under. */
    category: String,
    channel: { type: String, required: true },
    requestHash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    closedAt: Date,
    parentCaseId: String,
    timeline: { type: [timelineEntrySchema], default: [] },
    /** SLA clocks as they stand (case and task deadlines), replaced as a whole. */
    deadlines: { type: [mongoose.Schema.Types.Mixed], default: [] },
    /** The requester's rating; `score: null` means none was given in time. */
    rating: { type: mongoose.Schema.Types.Mixed, default: null },
    /**
     * The accounts a feedback step names as raters (`from`, docs 6.8) while it waits: they may
     * rate the case though it lies outside their scope. Absent or [] otherwise.
     */
    raterUserIds: { type: [String], default: undefined },
    /**
     * Every account a feedback step of the case has named as a rater, kept after the step ends:
     * each may read this one case as a rater sees it (services/cases.ts), never list it or act.
     */
    raterReaderUserIds: { type: [String], default: undefined },
    /** What the public board shows, personal data already masked. */
    publication: { type: mongoose.Schema.Types.Mixed, default: null },
    /** Numbers the metrics API adds up (see common/case-measures.ts); null before the first write. */
    metrics: { type: mongoose.Schema.Types.Mixed, default: null },
    /** Who served it (common/case-served.ts): unit and person ids; absent until somebody did. */
    servedBy: { type: mongoose.Schema.Types.Mixed, default: undefined },
    /**
     * What of `metrics` the roll-ups already hold (`{ revision, keys, figures }`), so a retried or
     * replayed projection applies only the difference (activities/metric-rollups.ts).
     */
    rolledUp: { type: mongoose.Schema.Types.Mixed, default: null },
    /**
     * The case list's day keys (common/list-days.ts): `<root>|<Beijing day>` and `…T<hour>` of
     * `createdAt` for everything, each unit from the case's own up, and who filed it. An equality
     * on them is the one filter FerretDB v1 pushes down (services/day-walk.ts).
     */
    listDays: { type: [String], default: undefined },
    /** The board's day keys, of `publication.publishedAt`; absent until published. */
    boardDays: { type: [String], default: undefined },
  },
  { collection: 'cases', versionKey: false, minimize: false },
);
// Every list sort is `{x: -1, _id: 1}`: compound indexes with the same key order let MongoDB
// walk the index instead of sorting (FerretDB on SQLite scans either way: docs/metrics-at-scale.md).
caseSchema.index({ createdAt: -1, _id: 1 });
caseSchema.index({ 'createdBy.id': 1, createdAt: -1, _id: 1 });
caseSchema.index({ 'publication.publishedAt': -1, _id: 1 });
// The day walks of the list and the board (services/day-walk.ts): one equality on a day key, in
// the list's order. On FerretDB/PostgreSQL the stack's GIN twin of `listDays`/`boardDays` serves it.
caseSchema.index({ listDays: 1, createdAt: -1, _id: 1 });
caseSchema.index({ boardDays: 1, 'publication.publishedAt': -1, _id: 1 });
caseSchema.index({ unitId: 1, 'publication.publishedAt': -1, _id: 1 });
// The case list's filters (services/cases.ts), each with the list's createdAt order so MongoDB
// reads one range of one index; a unit's subtree is an $in over unitId, the same index.
caseSchema.index({ unitId: 1, createdAt: -1, _id: 1 });
caseSchema.index({ definitionKey: 1, createdAt: -1 });
caseSchema.index({ 'metrics.overdue': 1, createdAt: -1 });
caseSchema.index({ 'servedBy.unitIds': 1, createdAt: -1 });
caseSchema.index({ 'metrics.escalated': 1, createdAt: -1 });
// The dashboard's proactive cases (未诉先办) closed in a period: channel `proactive` is rare, so
// MongoDB reads only those closed in the range (services/metrics.ts).
caseSchema.index({ channel: 1, closedAt: -1 });

const definitionSchema = new mongoose.Schema(
  {
    /** `key@version`, so a version is found by `_id` (the only lookup FerretDB/SQLite pushes down). */
    _id: { type: String, required: true },
    key: { type: String, required: true },
    version: { type: Number, required: true },
    checksum: { type: String, required: true },
    name: { type: String, required: true },
    spec: { type: mongoose.Schema.Types.Mixed, required: true },
    source: { type: String, required: true },
    sourceFormat: { type: String, enum: ['yaml', 'json'], required: true },
    status: { type: String, enum: ['draft', 'published', 'retired'], required: true },
    publishedAt: { type: Date, required: true },
    publishedBy: { type: actorSchema, required: true },
  },
  // minimize: false keeps a spec's empty objects (a sub-process step's `data: {}`); versions stored
  // before lack them, so the interpreter treats a missing `data` as empty too.
  { collection: 'definitions', versionKey: false, minimize: false },
);
definitionSchema.index({ key: 1, version: -1 }, { unique: true });

const credentialSchema = new mongoose.Schema(
  {
    /** SHA-256 of the secret token: the token itself is never stored. */
    _id: { type: String, required: true },
    kind: { type: String, enum: ['apiKey', 'session'], required: true },
    /** Public identifier shown in lists and used to revoke (`key_…` or `ses_…`). */
    publicId: { type: String, required: true },
    name: { type: String, required: true },
    principal: { type: actorSchema, required: true },
    roles: { type: [String], required: true },
    unitIds: { type: [String], default: [] },
    createdAt: { type: Date, required: true },
    createdBy: { type: actorSchema, required: true },
    expiresAt: Date,
    revokedAt: Date,
  },
  { collection: 'credentials', versionKey: false },
);
credentialSchema.index({ publicId: 1 }, { unique: true });

const userSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    username: { type: String, required: true },
    displayName: { type: String, required: true },
    /** scrypt: `scrypt$N$r$p$salt$hash`, all base64url. */
    passwordHash: { type: String, required: true },
    roles: { type: [String], required: true },
    unitIds: { type: [String], default: [] },
    disabled: { type: Boolean, default: false },
    createdAt: { type: Date, required: true },
  },
  { collection: 'users', versionKey: false },
);
userSchema.index({ username: 1 }, { unique: true });

const outboxSchema = new mongoose.Schema(
  {
    /** The notification's business key: one document, one mail, however often it is retried. */
    _id: { type: String, required: true },
    caseId: { type: String, required: true },
    template: { type: String, required: true },
    to: { type: String, required: true },
    subject: { type: String, required: true },
    /**
     * What the mail says, kept until it is sent (then removed: no mail text at rest): the
     * template's context as JSON, rendered by the dispatcher when it sends; mail written before
     * that carries its rendered bodies instead.
     */
    contextJson: String,
    html: String,
    text: String,
    /** Stable per business key and stored before any attempt: a resend after a crash reuses it. */
    messageId: { type: String, required: true },
    /**
     * The channel (lang/vocabulary.ts CHANNELS): absent for mail. `to` is then a phone number
     * (sms) or a robot's owner, `unit:<id>` or `person:<id>` (wecom, dingtalk), whose webhook is
     * read when the message is sent, so no secret is copied into the outbox.
     */
    channel: String,
    /** The notification's business key, when this row is a fallback (`<key>~<channel>`). */
    notificationKey: String,
    /** The channels still to try, in order, when this one fails for good (fallback). */
    fallbacks: { type: [{ _id: false, channel: String, to: String }], default: undefined },
    /** A group robot's post: read by the whole group, so its text is masked (channels/). */
    group: Boolean,
    /**
     * `pending` (due at `nextAttemptAt`; while a dispatcher sends it, its claim in
     * `outboxClaims` is the lease), `sent`, or `failed` (expired or refused for good; an admin
     * may resend it). `sending` (claimed until `leaseUntil`) is written by dispatchers before
     * the batched one and still honoured.
     */
    status: { type: String, enum: ['pending', 'sending', 'sent', 'failed'], required: true },
    attempts: { type: Number, default: 0 },
    lastError: String,
    nextAttemptAt: Date,
    leaseUntil: Date,
    /** Which dispatcher holds the lease (a random id per process), for the logs. */
    leaseOwner: String,
    /** After this instant a failed attempt is the last: the mail is marked failed. */
    expiresAt: Date,
    createdAt: { type: Date, required: true },
    sentAt: Date,
    failedAt: Date,
  },
  { collection: 'outbox', versionKey: false },
);
outboxSchema.index({ caseId: 1 });
/** The admins' list of failed mail (and the dispatcher's start-up sweep). */
outboxSchema.index({ status: 1, nextAttemptAt: 1 });
/** The admins' latest messages per channel besides mail (services/mail.ts, one read per channel). */
outboxSchema.index({ channel: 1, createdAt: -1 });

/**
 * The outbox's ready queue: one small document per mail still to deliver (`_id` = the mail's
 * business key), due at `dueAt`; inserted with the mail, removed when it is sent or failed. The
 * dispatcher reads due entries here instead of filtering and sorting the outbox itself: FerretDB
 * v1 pushes only `_id` equality down to its store, so a filter on the outbox read every mail with
 * its rendered text per claim. Everything else about a mail is then read and written by `_id`.
 */
const outboxQueueSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    dueAt: { type: Date, required: true },
  },
  { collection: 'outboxQueue', versionKey: false },
);
outboxQueueSchema.index({ dueAt: 1 });

/**
 * One document per delivery attempt of a mail (`<business key>#<attempt>`): the dispatcher that
 * inserts it holds that attempt. An insert under a unique `_id` is the one compare-and-set that
 * is atomic on FerretDB v1 (its findAndModify and filtered updates read, then write), so two
 * dispatchers never send the same attempt. Its `at` is the attempt's lease: past
 * `at + leaseMs` another dispatcher counts the attempt as made and claims the next. A batch's
 * claims are inserted together and removed together once their mail is sent.
 */
const outboxClaimSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    mailId: { type: String, required: true },
    owner: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'outboxClaims', versionKey: false },
);
outboxClaimSchema.index({ mailId: 1 });

/**
 * An activity that has kept failing past the alert threshold (a projection that cannot apply its
 * revision, a store write refused again and again), one document per activity execution
 * (`<workflow id>:<run id>:<activity id>`), written by the worker's activity interceptor
 * (activities/stuck-activities.ts): inserted once when the threshold passes, its attempts and
 * last error kept current by that activity's own retries (one writer), `resolvedAt` set when it
 * finally succeeds or fails for good, or when the reconciler finds it no longer running. The reconciler mails the admins of each new alert once (`mailedAt`).
 */
const activityAlertSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    workflowId: { type: String, required: true },
    runId: { type: String, required: true },
    activityId: { type: String, required: true },
    activityType: { type: String, required: true },
    workflowType: { type: String, default: null },
    /**
     * A local activity (the read model's writes, workflows/projection.ts): its execution never
     * lists it as pending, so the reconciler tells it is over by its failures stopping instead.
     */
    local: { type: Boolean, default: false },
    /** When its first attempt was scheduled. */
    since: { type: Date, required: true },
    attempts: { type: Number, required: true },
    /** The last failure: its type and message, cut to a few hundred characters. */
    lastError: { type: String, default: null },
    lastFailedAt: { type: Date, required: true },
    mailedAt: { type: Date, default: null },
    resolvedAt: { type: Date, default: null },
    /**
     * How it ended: `succeeded` (an attempt finally succeeded), `failed` (its last attempt failed:
     * the workflow handles that, the case shows it), `gone` (the reconciler found it no longer
     * running: its execution closed, or the worker's own clearing was lost).
     */
    resolution: { type: String, enum: ['succeeded', 'failed', 'gone', null], default: null },
  },
  { collection: 'activityAlerts', versionKey: false },
);
/** The admins' list (open alerts, newest first) and the reconciler's unmailed ones. */
activityAlertSchema.index({ resolvedAt: 1, since: -1 });
activityAlertSchema.index({ mailedAt: 1 });

/**
 * One year of the working-day calendar: statutory days off and 调休 make-up days. Shipped years
 * are seeded from `calendars/`; a year an admin entered or revised is never overwritten by them.
 */
const calendarYearSchema = new mongoose.Schema(
  {
    /** The year as a string (`"2027"`), so a year is found by `_id`. */
    _id: { type: String, required: true },
    year: { type: Number, required: true },
    days: {
      type: [
        new mongoose.Schema(
          {
            date: { type: String, required: true },
            name: { type: String, required: true },
            isOffDay: { type: Boolean, required: true },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    papers: { type: [String], default: [] },
    source: { type: String, enum: ['shipped', 'admin'], required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: actorSchema, required: true },
  },
  { collection: 'calendarYears', versionKey: false },
);

/**
 * A human task or claim pool as staff see it: who may act, who holds it, its deadlines. Written
 * only by the projection activity, each write carrying the task's next `version`.
 */
const taskSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    caseId: { type: String, required: true },
    definitionKey: { type: String, required: true },
    caseUnitId: { type: String, default: null },
    stepId: { type: String, required: true },
    name: { type: String, required: true },
    kind: { type: String, required: true },
    status: { type: String, required: true },
    candidates: { type: [mongoose.Schema.Types.Mixed], default: [] },
    /** Account ids of the candidates and the assignee, for "my tasks" queries. */
    candidateUserIds: { type: [String], default: [] },
    assignee: { type: mongoose.Schema.Types.Mixed, default: null },
    assigneeUserId: { type: String, default: null },
    claimants: { type: [mongoose.Schema.Types.Mixed], default: [] },
    claimantUserIds: { type: [String], default: [] },
    maxClaimants: { type: Number, required: true },
    outcomes: { type: [mongoose.Schema.Types.Mixed], default: [] },
    outcome: { type: String, default: null },
    deadlines: { type: [mongoose.Schema.Types.Mixed], default: [] },
    /** The earliest running deadline, for sorting a work list by urgency. */
    dueAt: { type: Date, default: null },
    openedAt: { type: Date, required: true },
    closedAt: { type: Date, default: null },
    /**
     * A roster roll-call's figures as the workflow last projected them ({ expected } while open,
     * the closing figures once closed); null for every other task. Its candidates and claimants
     * are written by the roll-call activity and the acknowledging service, never by a snapshot.
     */
    roster: { type: mongoose.Schema.Types.Mixed, default: null },
    /** A roster roll-call's live count of acknowledgements ($inc by the acknowledging service). */
    acknowledged: { type: Number, default: 0 },
    /** A supervision slip's (kind `supervision`) level, overdue flag and reply; null otherwise. */
    supervision: { type: mongoose.Schema.Types.Mixed, default: null },
    /** The check-in (签到) a task was completed with (common/case.ts CheckInRecord); personal. */
    checkIn: { type: mongoose.Schema.Types.Mixed, default: undefined },
    /** The form its fields' defaults prefill (common/case.ts TaskSnapshot); absent without. */
    prefill: { type: mongoose.Schema.Types.Mixed, default: undefined },
  },
  { collection: 'tasks', versionKey: false, minimize: false },
);
taskSchema.index({ caseId: 1 });
// The inbox views (services/tasks.ts listTasks) sort by `{openedAt: -1, _id: 1}`: one index per
// view's equality fields, then the sort.
taskSchema.index({ candidateUserIds: 1, status: 1, openedAt: -1, _id: 1 });
taskSchema.index({ assigneeUserId: 1, status: 1, openedAt: -1, _id: 1 });
taskSchema.index({ claimantUserIds: 1, status: 1, openedAt: -1, _id: 1 });
taskSchema.index({ caseUnitId: 1, status: 1, openedAt: -1, _id: 1 });
taskSchema.index({ status: 1, openedAt: -1, _id: 1 });
taskSchema.index({ openedAt: -1, _id: 1 });
// The 督办 list (services/tasks.ts listSupervisions): slips newest first.
taskSchema.index({ kind: 1, openedAt: -1 });

/**
 * Metric roll-ups: the figures of every case (every field of METRIC_FIELDS,
 * common/case-measures.ts) summed per unit and month it was received (Beijing time), one entry
 * per process and category inside (common/metric-rollup.ts); `by: 'place'` for the unit the case
 * was filed for, `by: 'served'` for each unit that served it, `by: 'servedSet'` once for the set
 * of them (a served total counts a case once). Small (one document per unit and month with
 * cases, whatever the number of cases), so the metrics API reads the few it needs instead of
 * aggregating over cases. Written only by the folder (one worker at a time), from the changes
 * below (activities/metric-rollups.ts, docs/metrics-at-scale.md).
 */
const metricRollupSchema = new mongoose.Schema(
  {
    /** `by|unitId|month` (`servedSet|u1,u2|month` for a set of serving units). */
    _id: { type: String, required: true },
    by: { type: String, required: true },
    unitId: { type: String, default: null },
    /** A `servedSet`'s units (absent on the other kinds). */
    unitIds: { type: [String], default: undefined },
    /**
     * A subtree document's (`placeTree`, `servedTree`, `servedIn`) unit's parent, as the folder's
     * unit tree had it: a unit's children are one equality (absent on the other kinds).
     */
    parentId: { type: String, default: undefined },
    /** A subtree document's unit's depth in that tree, `'0'` for the root (a string). */
    depth: { type: String, default: undefined },
    /**
     * The Beijing month of the cases' `createdAt` (what a period selects on); absent on a period
     * document (`placeTreeHalf`…, common/metric-rollup.ts), which has `half` instead.
     */
    month: { type: String, default: undefined },
    /** A period document's Beijing half year, `2026-H1` (its entries are `<month>|<part>`). */
    half: { type: String, default: undefined },
    /**
     * Summed figures per `process~category[~trendMonth]` entry, as one JSON string, columnar
     * (`[fields, {entry: [numbers]}]`, zeros left out; entries as objects where an older version
     * wrote them): common/metric-rollup.ts packRollupParts. FerretDB v1 reads one string field
     * many times faster than hundreds of nested numbers, and its cost follows the bytes too.
     */
    partsJson: { type: String, default: '{}' },
    /** The entries as nested fields, as versions before `partsJson` wrote them (read still). */
    parts: { type: mongoose.Schema.Types.Mixed, default: undefined },
    /** The last fold batch added in (a re-run of that batch skips this document). */
    lastFold: { type: String, default: null },
  },
  { collection: 'metricRollups', versionKey: false, minimize: false },
);
metricRollupSchema.index({ by: 1, month: 1, unitId: 1 });
metricRollupSchema.index({ by: 1, month: 1, unitIds: 1 });
// The children's subtree documents of a unit (services/metrics.ts); the GIN twins of `parentId`
// and `depth` serve the equalities on FerretDB on PostgreSQL.
metricRollupSchema.index({ by: 1, month: 1, parentId: 1 });
// The subtree documents of one level (a ranking of a county's communities).
metricRollupSchema.index({ by: 1, month: 1, depth: 1 });
// The same two for the period documents (one per unit and half year): a ranking of a county's
// communities over a half year is one `{by, half, depth}` equality (services/metrics.ts).
metricRollupSchema.index({ by: 1, half: 1, parentId: 1 });
metricRollupSchema.index({ by: 1, half: 1, depth: 1 });

/**
 * One change of a case's figures, inserted by the projection (never updated by it: FerretDB v1
 * loses concurrent updates of one document, inserts it does not lose), keyed by a token of the
 * case, its revisions and the roll-up key so a retry inserts nothing twice; folded into
 * `metricRollups` and deleted by the folder. Readers add the changes not folded yet.
 */
const metricRollupChangeSchema = new mongoose.Schema(
  {
    /** Token: hash of case id, from and to revision, direction and key. */
    _id: { type: String, required: true },
    rollupId: { type: String, required: true },
    by: { type: String, required: true },
    unitId: { type: String, default: null },
    unitIds: { type: [String], default: undefined },
    month: { type: String, required: true },
    part: { type: String, required: true },
    delta: { type: mongoose.Schema.Types.Mixed, required: true },
    /** The fold batch that took it (null until then). */
    batch: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { collection: 'metricRollupChanges', versionKey: false, minimize: false },
);
metricRollupChangeSchema.index({ by: 1, month: 1, unitId: 1 });
metricRollupChangeSchema.index({ by: 1, month: 1, unitIds: 1 });
metricRollupChangeSchema.index({ batch: 1 });

/**
 * The tokens of folded changes, kept a week (chosen; deleted by the folder): a projection retried
 * after its change was folded and deleted finds its token here and inserts nothing twice. Read
 * by `_id` only.
 */
const metricRollupTokenSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'metricRollupTokens', versionKey: false },
);
metricRollupTokenSchema.index({ at: 1 });

/**
 * Marks and locks of the roll-ups, each inserted once (never a shared updated document):
 * `complete` (every case's figures are in the roll-ups or their changes), `backfill#<n>` (the
 * worker filling them for an upgraded store; heartbeat updated by its owner only) and
 * `fold:<window>` (the worker folding changes during that minute); and `fold-seq`, the folder's
 * batch counter (updated by the one folder only).
 */
const metricRollupMarkSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true },
    owner: { type: String, default: null },
    at: { type: Date, required: true },
    heartbeatAt: { type: Date, default: null },
    window: { type: Number, default: null },
  },
  { collection: 'metricRollupMarks', versionKey: false },
);
metricRollupMarkSchema.index({ kind: 1, window: 1 });

/**
 * Day markers of the case list and the board (common/list-days.ts): `_id` `<kind>|<root>|<day>`,
 * `key` `<kind>|<root>`, how many cases that root got that day (incremented by the projection
 * when it writes a case's keys, recomputed by the backfill: a count for estimates, not a ledger).
 * `#complete` marks that every case carries its keys (services/day-walk.ts reads the old way
 * until then).
 */
const listDaySchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    key: { type: String, required: true },
    day: { type: String, required: true },
    count: { type: Number, default: 0 },
    /** Changed by every write that counts or touches a case of the day (its seal's check). */
    stamp: String,
  },
  { collection: 'listDays', versionKey: false },
);
listDaySchema.index({ key: 1 });

/**
 * A day's exact count of one `*` or `u:` root (docs/metrics-at-scale.md, "Deep pages"): `_id`
 * `<kind>|<root>|<day>` as its marker's, `key` `<kind>|<root>`, the cases per Beijing hour
 * (`hoursJson`, `{"09":3}`), and the marker's `stamp` when it was counted. Written only by the
 * seal pass and the backfill (never by the projection), so no two writers race on one document;
 * the reader trusts it while the marker still carries that stamp and no dirty mark is pending.
 */
const listDaySealSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    key: { type: String, required: true },
    day: { type: String, required: true },
    stamp: { type: String, required: true },
    count: { type: Number, required: true },
    hoursJson: { type: String, required: true },
  },
  { collection: 'listDaySeals', versionKey: false },
);
listDaySealSchema.index({ key: 1 });

/**
 * A day whose seal is due again: inserted by the projection after a case's marker was stamped
 * (a duplicate means it is pending already), deleted by the seal pass before it counts. `_id` as
 * the marker's; `key` `<kind>|<root>` (the reader asks for its root's). Small: emptied each pass.
 */
const listDayDirtySchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    key: { type: String, required: true },
    day: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'listDayDirty', versionKey: false },
);
listDayDirtySchema.index({ key: 1 });

/**
 * The open cases, one small document each (services/cases.ts reads `status=open` from here, not
 * by walking years of days): the fields the case list filters, sorts and shows, as the case holds
 * them, and `roots` (the case's list roots, common/list-days.ts). Written from the case document
 * after each projected revision while the case is open, deleted when it is not
 * (activities/open-cases.ts). `#complete` marks a store whose open cases are all in it.
 */
const openCaseSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    revision: { type: Number, required: true },
    roots: { type: [String], default: undefined },
    status: String,
    definitionKey: String,
    definitionVersion: Number,
    definitionName: String,
    unitId: String,
    category: String,
    // As the case holds it (a step's id and name); written raw, read with the case's summary.
    currentStep: mongoose.Schema.Types.Mixed,
    createdBy: { kind: String, id: String },
    createdAt: Date,
    updatedAt: Date,
    closedAt: Date,
    metrics: { overdue: Number, escalated: Number },
  },
  { collection: 'openCases', versionKey: false },
);
// Top-level equality on an array element: FerretDB pushes it down, the GIN twin serves it.
openCaseSchema.index({ roots: 1 });

/**
 * One person called by a roster roll-call (workflows/steps/task.ts): written when the roll-call
 * opens (activities/roll-calls.ts), acknowledged by the person through the API (services/tasks.ts,
 * the one place the API writes case state: ARCHITECTURE decision 8), closed when it closes. Every
 * change is one single-document atomic update guarded by its filter, so it is idempotent and an
 * acknowledgement either lands before the close or is refused after it.
 */
const rollCallEntrySchema = new mongoose.Schema(
  {
    /** `<task id>:<person id>`. */
    _id: { type: String, required: true },
    taskId: { type: String, required: true },
    caseId: { type: String, required: true },
    personId: { type: String, required: true },
    userId: { type: String, default: null },
    unitId: { type: String, default: '' },
    /** The order the resolver gave (the candidates' order). */
    seq: { type: Number, required: true },
    acknowledgedAt: { type: Date, default: null },
    /** The check-in (签到) the report-in carried, when the roll-call asks for one; personal. */
    checkIn: { type: mongoose.Schema.Types.Mixed, default: undefined },
    /** Set on the entries still unacknowledged when the roll-call closed: they were missing. */
    closedAt: { type: Date, default: null },
  },
  { collection: 'rollCallEntries', versionKey: false },
);
rollCallEntrySchema.index({ taskId: 1, acknowledgedAt: 1 });
rollCallEntrySchema.index({ userId: 1, taskId: 1 });

/** A WeCom or DingTalk group robot (channels/robots.ts); admin-only data, never logged. */
const groupRobotSchema = new mongoose.Schema(
  {
    channel: { type: String, enum: ['wecom', 'dingtalk'], required: true },
    webhook: { type: String, required: true },
    secret: String,
  },
  { _id: false },
);

/** A unit's place, WGS-84 degrees (services/org-input.ts `unitLocationInput`). */
const unitLocationSchema = new mongoose.Schema(
  { lat: { type: Number, required: true }, lng: { type: Number, required: true } },
  { _id: false },
);

/** A unit of the org tree (county … floor, co-building units, departments). */
const unitSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    type: { type: String, required: true },
    parentId: { type: String, default: null },
    /** The unit's group robot: a notification to its people can also post there once. */
    groupRobot: { type: groupRobotSchema, default: undefined },
    /** Where the unit is (WGS-84): check-ins (签到) are measured against it. */
    location: { type: unitLocationSchema, default: undefined },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'units', versionKey: false },
);
unitSchema.index({ parentId: 1 });

/** A person who can be assigned or notified (not necessarily someone who signs in). */
const personSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    email: String,
    phone: String,
    /** Preferred channels, first first (`['wecom', 'mail']`); absent: mail. */
    channels: { type: [String], default: undefined },
    /** The person's own robot (a WeCom or DingTalk group they read), for `wecom`/`dingtalk`. */
    groupRobot: { type: groupRobotSchema, default: undefined },
    /** The account this person signs in with, if any (one account, one person: docs 8.1). */
    userId: String,
    updatedAt: { type: Date, required: true },
  },
  { collection: 'people', versionKey: false },
);
/**
 * One account, one person, held by the store too: the org writes check it first
 * (common/org-writes.ts), and this index refuses the loser of two links racing. Sparse, so the
 * many people without an account are not indexed: FerretDB v1 refuses partial indexes
 * (`partialFilterExpression`: "not implemented yet") and takes `sparse` as a unique index that
 * skips a missing field, as MongoDB's sparse one does (test/workflow/account-link-index.test.ts).
 * `userId` is never stored as null (a person without an account has no field).
 */
personSchema.index({ userId: 1 }, { unique: true, sparse: true });

/** A role held by a person in a unit; `_id` is `unit:role:person`, so re-imports are no-ops. */
const postSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    unitId: { type: String, required: true },
    role: { type: String, required: true },
    personId: { type: String, required: true },
  },
  { collection: 'posts', versionKey: false },
);
postSchema.index({ unitId: 1 });

/**
 * The org tree's revision: one document, bumped by every write to units, people, posts or pairings, so a
 * process that keeps the tree in memory (the worker's lookups, the API's scope resolver) knows by
 * one `_id` read whether its copy is current, without a time-based cache (models/org-revision.ts).
 */
const orgRevisionSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    revision: { type: Number, required: true },
  },
  { collection: 'orgRevision', versionKey: false },
);

/**
 * The volunteer points ledger (积分台账), append-only: earnings written by the interpreter's
 * activity under an award key, redemptions (and adjustments) by the API as a per-person debit
 * chain `debit:<person>:<seq>` whose unique `_id` keeps concurrent debits from overdrawing.
 */
const pointsEntrySchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    personId: { type: String, required: true },
    kind: { type: String, enum: ['earn', 'redeem', 'adjust'], required: true },
    delta: { type: Number, required: true },
    reason: { type: String, required: true },
    unitId: { type: String, default: null },
    communityId: { type: String, default: null },
    homeUnitIds: { type: [String], default: [] },
    caseId: { type: String, default: null },
    taskId: { type: String, default: null },
    stepId: { type: String, default: null },
    definitionKey: { type: String, default: null },
    ruleIndex: { type: Number, default: null },
    seq: Number,
    requestKey: String,
    requestHash: String,
    at: { type: Date, required: true },
    by: { type: actorSchema, required: true },
  },
  { collection: 'points', versionKey: false },
);
pointsEntrySchema.index({ personId: 1, at: -1 });
pointsEntrySchema.index({ homeUnitIds: 1 });
pointsEntrySchema.index({ unitId: 1 });

/**
 * Evaluation rounds (评单评议), written only by the round's activities: the round (its groups,
 * weights and scorers as found when it opened; its results, frozen when it closed), its items
 * (`<round case id>:<order case id>`) and the scores (`<round>:<order>:<scorer>`, one per scorer
 * and order: a correction before the round closes replaces it). Rounds opened before scores left
 * the workflow (`scoresVia: 'update'`) have theirs written by an activity, id
 * `<round>:<order>:<kind>:<id>`; newer rounds by the API, id `<round>:<order>:<digest of the
 * scorer>`, each score its own document so that no two scorers ever write the same document
 * (docs/definition-language.md 6.12).
 */
const evaluationRoundSchema = new mongoose.Schema(
  {
    /** The round's case id. */
    _id: { type: String, required: true },
    stepId: { type: String, required: true },
    definitionKey: { type: String, required: true },
    unitId: { type: String, default: null },
    status: { type: String, enum: ['open', 'closed'], required: true },
    from: { type: Date, required: true },
    to: { type: Date, required: true },
    definitions: { type: [String], default: null },
    criteria: { type: [mongoose.Schema.Types.Mixed], required: true },
    groups: { type: [mongoose.Schema.Types.Mixed], required: true },
    orderRatingGroup: { type: String, default: null },
    responsibleRole: { type: String, required: true },
    itemCount: { type: Number, required: true },
    openedAt: { type: Date, required: true },
    closesAt: { type: Date, required: true },
    closedAt: { type: Date, default: null },
    results: { type: mongoose.Schema.Types.Mixed, default: null },
    /** `api`: scores are written by the API (one document each), not sent as Updates. */
    scoresVia: { type: String, enum: ['update', 'api'], default: 'update' },
    /** Set by the closing activity before it reads the scores: the API refuses scores from then on. */
    closingAt: { type: Date, default: null },
  },
  { collection: 'evaluationRounds', versionKey: false, minimize: false },
);

const evaluationItemSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    roundId: { type: String, required: true },
    caseId: { type: String, required: true },
    unitId: { type: String, default: null },
    definitionKey: { type: String, required: true },
    definitionName: { type: String, required: true },
    category: { type: String, default: null },
    /** Who filed the order (the resident served scores it as `requester`). */
    requesterId: { type: String, required: true },
    /**
     * Whether a resident's account filed it (roles hold `resident` and no staff role): only then
     * does the requester score it in a `served` group. False in items stored before.
     */
    requesterResident: { type: Boolean, default: false },
    /** Who served the order (the case's `servedBy` when the round opened): unit and person ids. */
    servedUnitIds: { type: [String], default: [] },
    servedPersonIds: { type: [String], default: [] },
    /** The requester's own rating of the order, or null. */
    rating: { type: Number, default: null },
    closedAt: { type: Date, required: true },
  },
  { collection: 'evaluationItems', versionKey: false },
);
evaluationItemSchema.index({ roundId: 1 });

const evaluationScoreSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    roundId: { type: String, required: true },
    itemId: { type: String, required: true },
    group: { type: String, required: true },
    scorer: { type: actorSchema, required: true },
    values: { type: mongoose.Schema.Types.Mixed, required: true },
    comment: { type: String, default: null },
    at: { type: Date, required: true },
    /**
     * Scores the API writes: a random id of the request that wrote this version, so that a
     * request undoing its late write (SCORE_WRITE_BUDGET_MS) never undoes another's.
     */
    writeId: { type: String, default: null },
    /** A 评单会's score: the meeting unit whose record it belongs to (null for anyone else's). */
    meetingUnitId: { type: String, default: null },
  },
  { collection: 'evaluationScores', versionKey: false },
);
evaluationScoreSchema.index({ roundId: 1 });

/**
 * A 评单会 of an evaluation round (common/evaluation.ts MeetingRecord): one document per round,
 * meeting group and unit, `<round>:<group>:<unit>`, replaced whole by its host's next submission
 * (its scores are evaluationScores documents with `meetingUnitId`); read by the closing activity
 * into the frozen results.
 */
const evaluationMeetingSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    roundId: { type: String, required: true },
    group: { type: String, required: true },
    unitId: { type: String, required: true },
    host: { type: actorSchema, required: true },
    hostPersonId: { type: String, required: true },
    heldOn: { type: String, required: true },
    representatives: { type: Number, required: true },
    residents: { type: Number, required: true },
    minutes: { type: String, required: true },
    orders: { type: Number, required: true },
    at: { type: Date, required: true },
    /** As for scores: the request that wrote this version, so an undo never undoes another's. */
    writeId: { type: String, default: null },
  },
  { collection: 'evaluationMeetings', versionKey: false },
);
evaluationMeetingSchema.index({ roundId: 1 });

/**
 * The annual assessment record (年度考核记录): one document per closed evaluation round and
 * subject, `<round>:<kind>:<subject id>` (kind `secretary`: a holder of the responsible post, for
 * 述职考核; `unit`: a place's unit with everything below it; `serving-unit`: a unit that served
 * orders, 双评双考), written by the round's closing activity from its frozen results, so a retry
 * writes the same document again; `department`: a department the street assessed (条块考核),
 * written when the street's leadership confirmed the assessment
 * (activities/department-assessments.ts). `year`: the Beijing year the round's period ends in.
 */
const assessmentRecordSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    roundId: { type: String, required: true },
    /** The round's unit (whose supervisors read the record), or null for a whole-tree round. */
    roundUnitId: { type: String, default: null },
    year: { type: Number, required: true },
    kind: {
      type: String,
      enum: ['secretary', 'unit', 'serving-unit', 'department'],
      required: true,
    },
    subjectId: { type: String, required: true },
    name: { type: String, required: true },
    /** The secretary's units, or the unit's parent: names as the results froze them. */
    unitNames: { type: [String], default: [] },
    period: { type: mongoose.Schema.Types.Mixed, required: true },
    items: { type: Number, required: true },
    scored: { type: Number, required: true },
    missing: { type: Number, required: true },
    score: { type: Number, default: null },
    closedAt: { type: Date, required: true },
    /** Kind `department` (条块考核) only: the street's weight, its part, the rates, the veto. */
    weight: { type: Number, default: undefined },
    weightedScore: { type: Number, default: undefined },
    rates: { type: mongoose.Schema.Types.Mixed, default: undefined },
    veto: { type: mongoose.Schema.Types.Mixed, default: undefined },
  },
  { collection: 'assessmentRecords', versionKey: false },
);
assessmentRecordSchema.index({ year: 1, kind: 1, subjectId: 1 });
// A subject's newest record (the `secretary-record` lookup: a community's latest round result).
assessmentRecordSchema.index({ subjectId: 1, kind: 1, closedAt: -1 });

/**
 * The dispatch catalogue (派单目录 / 职责清单) of an owning unit, one insert-only document per
 * published revision, `_id` `<ownerUnitId>@<revision>`: a retried or concurrent publish of the
 * same revision collides on `_id` instead of writing twice (no transactions on FerretDB v1).
 */
const catalogueRevisionSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    ownerUnitId: { type: String, required: true },
    revision: { type: Number, required: true },
    /** SHA-256 of the canonical entries: publishing the same entries again changes nothing. */
    checksum: { type: String, required: true },
    entries: { type: [mongoose.Schema.Types.Mixed], required: true },
    publishedAt: { type: Date, required: true },
    publishedBy: { type: actorSchema, required: true },
  },
  { collection: 'catalogueRevisions', versionKey: false, minimize: false },
);
catalogueRevisionSchema.index({ ownerUnitId: 1, revision: -1 }, { unique: true });

/**
 * The pointer to an owning unit's current catalogue revision, `_id` the owning unit id: flipped
 * last, after its revision document is stored, so a reader never sees a revision half written.
 */
const catalogueSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    revision: { type: Number, required: true },
    entryCount: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'catalogues', versionKey: false },
);

export type CaseDocument = InferSchemaType<typeof caseSchema>;
export type DefinitionDocument = InferSchemaType<typeof definitionSchema>;
export type CredentialDocument = InferSchemaType<typeof credentialSchema>;
export type UserDocument = InferSchemaType<typeof userSchema>;
export type OutboxDocument = InferSchemaType<typeof outboxSchema>;
export type TaskDocument = InferSchemaType<typeof taskSchema>;
export type RollCallEntryDocument = InferSchemaType<typeof rollCallEntrySchema>;

export function createModels(connection: Connection) {
  return {
    Case: connection.model('Case', caseSchema),
    Definition: connection.model('Definition', definitionSchema),
    Credential: connection.model('Credential', credentialSchema),
    User: connection.model('User', userSchema),
    Outbox: connection.model('Outbox', outboxSchema),
    OutboxClaim: connection.model('OutboxClaim', outboxClaimSchema),
    OutboxQueue: connection.model('OutboxQueue', outboxQueueSchema),
    Task: connection.model('Task', taskSchema),
    CalendarYear: connection.model('CalendarYear', calendarYearSchema),
    Unit: connection.model('Unit', unitSchema),
    Person: connection.model('Person', personSchema),
    Post: connection.model('Post', postSchema),
    OrgRevision: connection.model('OrgRevision', orgRevisionSchema),
    Pairing: connection.model('Pairing', pairingSchema),
    EvaluationRound: connection.model('EvaluationRound', evaluationRoundSchema),
    EvaluationItem: connection.model('EvaluationItem', evaluationItemSchema),
    EvaluationScore: connection.model('EvaluationScore', evaluationScoreSchema),
    EvaluationMeeting: connection.model('EvaluationMeeting', evaluationMeetingSchema),
    AssessmentRecord: connection.model('AssessmentRecord', assessmentRecordSchema),
    PointsEntry: connection.model('PointsEntry', pointsEntrySchema),
    RollCallEntry: connection.model('RollCallEntry', rollCallEntrySchema),
    MetricRollup: connection.model('MetricRollup', metricRollupSchema),
    MetricRollupChange: connection.model('MetricRollupChange', metricRollupChangeSchema),
    MetricRollupMark: connection.model('MetricRollupMark', metricRollupMarkSchema),
    ListDay: connection.model('ListDay', listDaySchema),
    ListDaySeal: connection.model('ListDaySeal', listDaySealSchema),
    ListDayDirty: connection.model('ListDayDirty', listDayDirtySchema),
    OpenCase: connection.model('OpenCase', openCaseSchema),
    MetricRollupToken: connection.model('MetricRollupToken', metricRollupTokenSchema),
    ActivityAlert: connection.model('ActivityAlert', activityAlertSchema),
    Catalogue: connection.model('Catalogue', catalogueSchema),
    CatalogueRevision: connection.model('CatalogueRevision', catalogueRevisionSchema),
    ...createAvailabilityModels(connection),
    ...createAttachmentModels(connection),
  };
}

export type Models = ReturnType<typeof createModels>;

export interface Database {
  connection: Connection;
  models: Models;
  close(): Promise<void>;
}

/**
 * Connects and prepares collections and indexes one at a time (FerretDB on SQLite does not
 * like concurrent DDL). Safe to call from several processes: creating what exists is a no-op.
 */
/**
 * Store connections one process keeps open at most, unless the URI says otherwise (`maxPoolSize`).
 * 16 (chosen): FerretDB v1 on PostgreSQL stalls for good once more updates run at once than it
 * has PostgreSQL connections, each update holding one while it waits for a second
 * (bench/ferretdb-pool.ts reproduces it; bench/README.md, "The store's connection pools"). A
 * process sends at most this many operations at once, the rest wait in its pool, so an API and a
 * worker together stay far below the stack's FerretDB pool (stack/stack.ts), and a few API
 * replicas more do too. MongoDB has no such stall; 16 is still ample for one process there.
 */
export const STORE_CLIENT_POOL_SIZE = 16;

export async function connectDatabase(
  uri: string,
  options: {
    callTimeoutMs?: number;
    /** Where start-up warnings go (the process's logger); the console otherwise. */
    warn?: (message: string) => void;
  } = {},
): Promise<Database> {
  // With a call timeout (the API's), a store that is down or stuck fails a query within it
  // instead of holding the request: no reachable server (server selection), a new connection
  // whose handshake gets no answer (connect), a connection that stopped answering (socket), or a
  // connection mongoose is re-opening (its command buffer).
  // Without one (worker, scripts) a quiet connection is waited on: a long scan may be legitimate.
  const timeouts =
    options.callTimeoutMs === undefined
      ? {}
      : {
          socketTimeoutMS: options.callTimeoutMs,
          connectTimeoutMS: options.callTimeoutMs,
          bufferTimeoutMS: options.callTimeoutMs,
          // …and an operation waiting for one of the pool's connections (all busy).
          waitQueueTimeoutMS: options.callTimeoutMs,
        };
  const connection = mongoose.createConnection(uri, {
    autoIndex: false,
    autoCreate: false,
    ...(/[?&]maxPoolSize=/i.test(uri) ? {} : { maxPoolSize: STORE_CLIENT_POOL_SIZE }),
    serverSelectionTimeoutMS: Math.min(10_000, options.callTimeoutMs ?? 10_000),
    ...timeouts,
  });
  await connection.asPromise();
  const models = createModels(connection);
  for (const model of Object.values(models) as unknown as Model<unknown>[]) {
    await model.createCollection().catch(ignoreAlreadyExists);
    try {
      await model.createIndexes();
    } catch (err) {
      // A store whose people already share accounts cannot hold the unique `userId` index:
      // start all the same (the org writes refuse new shared links), say so, and try again at
      // the next start.
      const duplicates =
        model === (models.Person as unknown)
          ? await findDuplicatedAccountLinks(peopleCollection(models))
          : [];
      if (duplicates.length === 0) throw err;
      (options.warn ?? console.warn)(duplicatedAccountLinksWarning(duplicates));
    }
  }
  return { connection, models, close: () => connection.close() };
}

function ignoreAlreadyExists(err: unknown): void {
  const code = (err as { code?: number }).code;
  if (code !== 48) throw err; // 48: NamespaceExists
}

/**
 * True when a store call failed because the store could not be reached or stopped answering (as
 * opposed to refusing the call): no server found in time, a network error or timeout, a closed
 * pool, or mongoose giving up on its command buffer while it reconnects. Such a failure passes:
 * the edges answer it 503 with Retry-After.
 */
export function isStoreUnreachableError(err: unknown): boolean {
  for (
    let e = err as { name?: string; message?: string; cause?: unknown } | null, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.name === 'string' && STORE_UNREACHABLE.has(e.name)) return true;
    if (e.name === 'MongooseError' && /buffering timed out/.test(e.message ?? '')) return true;
  }
  return false;
}

const STORE_UNREACHABLE = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoPoolClearedError',
  'MongoNotConnectedError',
  // Every pooled connection is held by a call the store does not answer (the pool is bounded,
  // STORE_CLIENT_POOL_SIZE): the wait for one ends at the API's call timeout.
  'MongoWaitQueueTimeoutError',
]);

/** MongoDB's duplicate-key code, on the error or on each write error of a bulk write. */
const DUPLICATE_KEY = 11000;

/**
 * What FerretDB v1 answers for a write that breaks a unique index on a document it updates in
 * place (an `updateOne`/`updateMany`/`replaceOne`/`findOneAndUpdate`, or a bulk `updateOne`, that
 * is no upsert): not 11000 but `InternalError` (code 1) carrying the store's own message, on
 * PostgreSQL "duplicate key value violates unique constraint … (SQLSTATE 23505)", on SQLite
 * "UNIQUE constraint failed: index … (2067)". Inserts and upserts answer 11000 on both stores
 * (measured: test/workflow/duplicate-key-errors.test.ts).
 */
const STORE_UNIQUE_VIOLATION = /SQLSTATE 23505|UNIQUE constraint failed/;

/**
 * True for a duplicate-key error: an insert, upsert or update refused by the `_id` or a unique
 * index, as MongoDB and FerretDB v1 (SQLite or PostgreSQL) report it: code 11000 on the error, or
 * only on the write errors of a bulk write (`insertMany`, `bulkWrite`), or FerretDB's
 * `InternalError` with the store's unique-violation message. A bulk error counts only when every
 * write error it lists is a duplicate: another failure among them is not to be swallowed.
 */
export function isDuplicateKeyError(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const { code, codeName, message, writeErrors } = err as {
    code?: unknown;
    codeName?: unknown;
    message?: unknown;
    writeErrors?: unknown;
  };
  if (code === DUPLICATE_KEY) return true;
  if (
    (code === 1 || codeName === 'InternalError') &&
    typeof message === 'string' &&
    STORE_UNIQUE_VIOLATION.test(message)
  ) {
    return true;
  }
  const listed = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return (
    listed.length > 0 &&
    listed.every((e: { code?: unknown; err?: { code?: unknown } } | null) => {
      const writeCode = e?.code ?? e?.err?.code;
      return writeCode === DUPLICATE_KEY;
    })
  );
}

/** An unordered bulk write's failed operations if all failed on a duplicate key, else null. */
export function duplicateKeyIndexes(err: unknown): number[] | null {
  const errors = (err as { writeErrors?: unknown }).writeErrors;
  const list = (Array.isArray(errors) ? errors : errors ? [errors] : []) as Array<{
    index?: number;
    code?: number;
    err?: { code?: number; index?: number };
  }>;
  if (list.length === 0) return null;
  const indexes: number[] = [];
  for (const e of list) {
    const index = e.index ?? e.err?.index;
    if ((e.code ?? e.err?.code) !== 11000 || index === undefined) return null;
    indexes.push(index);
  }
  return indexes;
}

/** The people's collection as the driver reads it (models/account-links.ts, scripts). */
export function peopleCollection(
  models: Pick<Models, 'Person'>,
): mongo.Collection<{ _id: string; userId?: string }> {
  return models.Person.collection as unknown as mongo.Collection<{ _id: string; userId?: string }>;
}

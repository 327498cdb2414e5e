import { z } from 'zod';
import { ROLES } from '../common/roles';
import { isSlaDuration, monthsHint } from './duration';
import { objectMemberProblem, SHOWN_FORM_FIELD } from './names';
import { CHANNEL_CHOICES, UNIT_TYPES } from './vocabulary';

// The names and patterns the workflow sandbox needs too live in names.ts (no zod there).
export { ATTACHMENT_ID, OBJECT_MEMBER_NAMES, objectMemberProblem, SHOWN_FORM_FIELD } from './names';

/**
 * The process definition language: the zod schema of a definition and the types it gives. A
 * definition names its input fields, who may start it, its SLA deadlines, and the steps the one
 * interpreter workflow runs: human tasks, claim pools, timers, decisions, parallel branches, mail,
 * feedback, publication, sub-processes and ends. This file checks shape only; check.ts checks
 * meaning (references, reachability, expressions, roles). Nothing here is process-specific;
 * docs/definition-language.md is the reference. Its size is the language's: one schema per step
 * type, kept in one module because source.ts names every exported `…Schema` in the JSON Schema
 * editors use. It imports no other part of lang/ but the leaves duration.ts and vocabulary.ts, so
 * steps.ts, points.ts, case-data.ts and check.ts depend on it, never the reverse.
 */

/** Refuses the names of Object.prototype's members (OBJECT_MEMBER_NAMES). */
function notObjectMember(s: string, ctx: z.RefinementCtx): void {
  const problem = objectMemberProblem(s);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
}

/** Field names end up as MongoDB keys: a `.` reads as a path and a leading `$` as an operator. */
const identifier = z.string().superRefine((s, ctx) => {
  const problem =
    objectMemberProblem(s) ??
    (s.includes('.')
      ? 'must not contain "." (MongoDB would read it as a path)'
      : s.startsWith('$')
        ? 'must not start with "$" (MongoDB would read it as an operator)'
        : /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(s)
          ? null
          : 'letters, digits and _, starting with a letter, up to 64');
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

const key = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,62}$/, 'lower-case letters, digits and -')
  .superRefine(notObjectMember);

export const FIELD_TYPES = [
  'string',
  'text',
  'integer',
  'number',
  'boolean',
  'email',
  'phone',
  'date',
  /** An instant with its offset, ISO 8601: 2026-05-01T09:30:00+08:00. */
  'datetime',
  /** The id of a unit of the org tree (a department to call, a co-building unit to dispatch to). */
  'unit',
  /** The id of a person of the org tree (the handler a dispatcher names); the console offers a picker. */
  'person',
  /**
   * Task forms only: the id of a photo attached to the case (`att-…`, uploaded first through
   * `POST /api/v1/tasks/{id}/attachments`); the console offers the phone's camera. Completing the
   * task checks that each photo exists, belongs to the case and was attached by the person
   * completing it or from this task. Only ids travel: the image never enters a case's history.
   */
  'photo',
] as const;

/**
 * The most photos one case may carry (chosen: an on-site step takes a handful; 20 leaves room for
 * every step of a long case while keeping a case's photos, at a few hundred KB each, a few MB).
 */
export const MAX_PHOTOS_PER_CASE = 20;

export const fieldSchema = z
  .object({
    name: identifier,
    label: z.string().min(1),
    type: z.enum(FIELD_TYPES),
    required: z.boolean().default(false),
    maxLength: z.number().int().positive().max(100_000).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    options: z.array(z.string().min(1)).min(1).optional(),
    /** A list of values of the type (several departments, several wishes); `required` means one at least. */
    multiple: z.boolean().default(false),
    /** The most values a `multiple` field takes (default 50). */
    maxItems: z.number().int().positive().max(1000).optional(),
    /** Personal data (a name, a phone, an address) is masked wherever the case is shown publicly. */
    personal: z.boolean().default(false),
    /**
     * An expression giving the value the field starts with. An input field's reads `case` only and
     * fills the field when a start leaves it out (项目年度 `year(case.receivedAt)`); a task form's
     * reads `case`, `data`, `steps`, `form` and `outcome` as the task opens and prefills the form
     * the person completing it sees and corrects (`steps.basis.people`, a lookup's result).
     */
    default: z.string().min(1).optional(),
    /**
     * Person fields only: each person named must hold a post of this role in the case's unit or a
     * unit under it (志愿者注册: the approved volunteer holds the community's `volunteer` post), checked
     * against the org tree when the case starts or the task is completed (422 naming the person).
     */
    holding: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,40}$/, 'a role key such as volunteer')
      .optional(),
  })
  .strict();
export type FieldSpec = z.infer<typeof fieldSchema>;
export type FieldType = FieldSpec['type'];

/**
 * A category code is stored on the case and is the second half of an Open311 service code
 * (`<definition key>.<code>`): an English slug, so no `.` (it separates the two halves, and MongoDB
 * would read it as a path) and no `$`.
 */
const categoryCode = z.string().superRefine((s, ctx) => {
  const problem =
    objectMemberProblem(s) ??
    (s.includes('.')
      ? 'must not contain "." (it separates the process key from the category in an Open311 service code)'
      : s.startsWith('$')
        ? 'must not start with "$" (MongoDB would read it as an operator)'
        : /^[a-z][a-z0-9-]{0,62}$/.test(s)
          ? null
          : 'an English slug: lower-case letters, digits and -, starting with a letter, up to 63 (waste-sorting)');
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

/** A kind of request a process serves (诉求类别): cases start with one when a process has them. */
export const categorySchema = z
  .object({
    code: categoryCode,
    /** What people see (类别名称), e.g. 垃圾分类. */
    name: z.string().min(1).max(100),
    description: z.string().min(1).max(1000).optional(),
    /** Synonyms that help people find the category (Open311 joins them with commas). */
    keywords: z
      .array(
        z
          .string()
          .min(1)
          .max(50)
          .regex(/^[^,]*$/, 'no commas (Open311 joins keywords with them)'),
      )
      .optional(),
    /** A heading to group categories under (Open311 `group`), e.g. 市容环境. */
    group: z.string().min(1).max(100).optional(),
  })
  .strict();
export type CategorySpec = z.infer<typeof categorySchema>;

/**
 * Open311 GeoReport v2 parameters a case's input fields can take values from, with the field types
 * each may fill and the field name each fills unless `open311.fields` names another (`name` is
 * `first_name` and `last_name` together).
 */
export const OPEN311_PARAMETERS = {
  description: { types: ['text', 'string'], field: 'description' },
  address_string: { types: ['string', 'text'], field: 'address' },
  lat: { types: ['number'], field: 'lat' },
  long: { types: ['number'], field: 'long' },
  email: { types: ['email'], field: 'contactEmail' },
  phone: { types: ['phone'], field: 'contactPhone' },
  name: { types: ['string'], field: 'contactName' },
  media_url: { types: ['string', 'text'], field: 'mediaUrl' },
} as const satisfies Record<string, { types: readonly FieldType[]; field: string }>;
export type Open311Parameter = keyof typeof OPEN311_PARAMETERS;

const fieldList = z.object({ fields: z.array(fieldSchema) }).strict();

const stepId = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ and -, starting with a letter')
  .superRefine(notObjectMember);

const shownFormField = z.string().regex(SHOWN_FORM_FIELD, 'steps.<step id>.form.<field name>');

/** Calendar time (ISO 8601) or working time ("5 working days", "2 working hours"). */
const slaDuration = z.string().refine(isSlaDuration, {
  error: (issue) =>
    `"${String(issue.input)}" is not a duration: use ISO 8601 (PT40M, PT3H, P2D) or "5 working days", "2 working hours"${monthsHint(issue.input)}`,
});
const expression = z.string().min(1).max(1000);
const templateName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a template name such as task-assigned');

/** A post role's key; the built-in ones are in vocabulary.ts, others a definition declares. */
const roleKey = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,40}$/, 'a role key such as grid-worker')
  .superRefine(notObjectMember);

/** A pairing kind's key (lang/vocabulary.ts PAIRING_KINDS; the checker names unknown ones). */
const pairingKind = z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, 'a pairing kind such as cadre');

/** The most levels an `upTree` ladder has (chosen: the org tree has eight unit types above a floor). */
export const MAX_LADDER_LEVELS = 8;

/**
 * A unit relative to the case or the task's assignee. Shorthands: `case`, `assignee`, `parent`
 * (the case unit's parent), or a unit type (the nearest unit of that type at or above the case's).
 */
const unitAt = z.union([
  z.enum(['self', 'parent', ...UNIT_TYPES]),
  /**
   * The k-th unit above (1: the parent), counting only units of `types` when given: how an
   * `upTree` ladder (9.2) names its levels. Past the root there is no unit (nobody).
   */
  z
    .object({
      up: z.number().int().min(1).max(MAX_LADDER_LEVELS),
      types: z.array(z.enum(UNIT_TYPES)).min(1).optional(),
    })
    .strict(),
]);
const unitBase = z.union([
  z.enum(['case', 'assignee']),
  z.object({ field: identifier }).strict(),
  /** A unit id computed from the case: a dispatcher's choice in a form, a list item. */
  z.object({ expression }).strict(),
]);
export const unitRefSchema = z.union([
  z.enum(['case', 'assignee', 'parent', ...UNIT_TYPES]),
  z.object({ of: unitBase, at: unitAt.default('self') }).strict(),
]);
export type UnitRef = z.infer<typeof unitRefSchema>;
export type UnitAt = z.infer<typeof unitAt>;

/**
 * The unit the dispatch catalogue (派单目录) names for a category: `{ catalogue: data.category }`.
 * The expression gives the category; the most specific catalogue covering the case's unit, at
 * the revision current when the step runs, names the responsible unit. When no entry covers the
 * category, or nobody holds the role there, `otherwise` answers (兜底): a unit reference for the
 * same role, or a role in a unit (`{ role: dispatcher, unit: street }`); without it, nobody.
 */
export const catalogueUnitRefSchema = z
  .object({
    catalogue: expression,
    otherwise: z
      .union([
        unitRefSchema,
        z.object({ role: roleKey, unit: unitRefSchema.default('case') }).strict(),
      ])
      .optional(),
  })
  .strict();
export type CatalogueUnitRef = z.infer<typeof catalogueUnitRefSchema>;

/**
 * 包联: the people paired with a unit (a county leader with a community, a cadre with a
 * building) and the holders of `role` (default liaison 联络员) in units paired with it (a
 * co-building unit with a compound); `kind` limits the pairings; `andBelow` adds the pairings
 * of every unit below it. No 兜底 upwards.
 */
export const pairedWithSelectorSchema = z
  .object({
    pairedWith: unitRefSchema,
    kind: z.union([pairingKind, z.array(pairingKind).min(1)]).optional(),
    role: roleKey.optional(),
    andBelow: z.boolean().optional(),
  })
  .strict();

/**
 * Down the chain (层层传达): the holders of `role` in every unit below `under`, level by level,
 * only units of `unitTypes` when given. No 兜底.
 */
export const chainDownSelectorSchema = z
  .object({
    role: roleKey,
    chain: z.literal('down', { error: 'a chain goes down: chain: down' }),
    under: unitRefSchema.default('case'),
    unitTypes: z.array(z.enum(UNIT_TYPES)).min(1).optional(),
  })
  .strict();

/**
 * The case's requester (补正材料, 补充说明, confirming a result): the account that started the case,
 * a resident's or a registered member's with a sign-in account. A request without an account
 * behind it (an Open311 request by API key, a rider's quick report, a schedule) goes to
 * `otherwise` (兜底: the holders of a role in a unit) and the timeline says why. Only in a task
 * step's candidates, on its own.
 */
export const requesterSelectorSchema = z
  .object({
    requester: z.literal(true, { error: 'the requester selector is written requester: true' }),
    otherwise: z
      .object(
        { role: roleKey, unit: unitRefSchema.default('case') },
        {
          error: (issue) =>
            issue.input === undefined
              ? 'who does the task when the requester has no account (an Open311 request, a quick report, a schedule): otherwise: { role, unit }'
              : undefined,
        },
      )
      .strict(),
  })
  .strict();
export type RequesterSelector = z.infer<typeof requesterSelectorSchema>;

/**
 * Who: people holding a role in a unit, units of a type below one, the people paired with a unit
 * (包联), a role down the chain, a person, an expression, a claim step's claimants, who is on
 * duty in a unit, or the case's requester (a task step's only).
 */
export const peopleSelectorSchema = z.union([
  z
    .object({
      role: roleKey,
      unit: z.union([unitRefSchema, catalogueUnitRefSchema]).default('case'),
    })
    .strict(),
  z
    .object({
      role: roleKey,
      unitsOfType: z.enum(UNIT_TYPES),
      under: unitRefSchema.default('case'),
    })
    .strict(),
  pairedWithSelectorSchema,
  chainDownSelectorSchema,
  z.object({ person: z.string().min(1).max(64) }).strict(),
  z.object({ expression }).strict(),
  z.object({ claimantsOf: stepId }).strict(),
  /**
   * Who the unit's duty rota (值班表) has on duty when the step runs; when nobody is rostered
   * then, the holders of `role` there (兜底 upwards), or without `role` every post holder there.
   */
  z.object({ onDuty: unitRefSchema, role: roleKey.optional() }).strict(),
  requesterSelectorSchema,
]);
export type PeopleSelector = z.infer<typeof peopleSelectorSchema>;
export type OnDutySelector = Extract<PeopleSelector, { onDuty: unknown }>;

/**
 * Who gets a mail: people (as above), the task's assignee or candidates, the candidates of a
 * claim pool who have not claimed yet (`unacknowledged`, a roll-call's missing), or an address.
 */
export const recipientSchema = z.union([
  z.enum(['assignee', 'candidates', 'unacknowledged']),
  z.object({ field: identifier }).strict(),
  z.object({ address: z.email() }).strict(),
  peopleSelectorSchema,
]);
export type RecipientSpec = z.infer<typeof recipientSchema>;
const recipients = z.union([recipientSchema, z.array(recipientSchema).min(1)]);

/**
 * The channels a notification to a person tries, in order (docs/definition-language.md,
 * "Channels"): `mail`, `sms`, `wecom`, `dingtalk`, and `preferred` for the person's own list.
 * Without it: the person's preferences, then mail. An address from case data is always mailed.
 */
export const channelsSchema = z
  .array(
    z.enum(CHANNEL_CHOICES, {
      error: (issue) => `"${String(issue.input)}" is not a channel (${CHANNEL_CHOICES.join(', ')})`,
    }),
  )
  .min(1)
  .max(CHANNEL_CHOICES.length)
  .refine((list) => new Set(list).size === list.length, 'each channel at most once');

/** Both optional and without defaults, so definitions that do not use them parse as before. */
const channelFields = {
  channels: channelsSchema.optional(),
  /**
   * Also post once to the group robot (WeCom/DingTalk) of each unit the recipients were found
   * in, or of the case's unit when they came with none.
   */
  groupRobot: z.boolean().optional(),
};

export const reminderSchema = z
  .object({
    /** Time before the deadline: calendar (PT2H) or working time ("1 working day"). */
    before: slaDuration,
    notify: recipients.default('assignee'),
    template: templateName.default('task-reminder'),
    ...channelFields,
  })
  .strict();

/**
 * A supervision slip (督办单) an escalation level opens beside its mail: a task of its own, with
 * its own deadline and a required written reply, that does not hold up the case.
 */
export const superviseSchema = z
  .object({
    /** The time the supervised have to reply. */
    within: slaDuration,
    /** 黄牌 (yellow) or 红牌 (red) 督办. */
    level: z.enum(['yellow', 'red']),
    /** Who must reply; default: the people this level notifies. */
    to: peopleSelectorSchema.optional(),
    /** The slip's name in work lists; default 督办单. */
    name: z.string().min(1).max(60).optional(),
  })
  .strict();
export type SuperviseSpec = z.infer<typeof superviseSchema>;

export const escalationSchema = z
  .object({
    /** Offset after the deadline at which this level fires; 0 (at the deadline) by default. */
    after: slaDuration.optional(),
    notify: recipients,
    template: templateName.default('task-escalated'),
    /** Hand the task to the people this level notifies (the supervisor takes it over). */
    reassign: z.boolean().default(false),
    /** Open a supervision slip (督办单) when this level fires. */
    supervise: superviseSchema.optional(),
    ...channelFields,
  })
  .strict();

export type EscalationSpec = z.infer<typeof escalationSchema>;

/**
 * A ladder that walks up the org tree (逐级督办): one escalation level per unit above `from`, up
 * to `levels` of them (only units of `types` count when given), each level mailing the holders of
 * `role` there (兜底 upwards) `every` later than the one before; the first fires `after` the
 * deadline. A level past the root ends the ladder. Expanded into ordinary levels by lang/ladder.ts.
 */
export const upTreeSchema = z
  .object({
    upTree: z
      .object({
        /** The post whose holders each level reaches (领导 leader, 书记 secretary…). */
        role: roleKey,
        /**
         * The unit the walk starts above: `case` (default), `assignee` (a task's deadline), or
         * `{ of: … }` as in a unit reference (8.2), without `at`.
         */
        from: z
          .union([z.enum(['case', 'assignee']), z.object({ of: unitBase }).strict()])
          .default('case'),
        /** How many units above it (1 to 8); fewer when the root comes first. */
        levels: z
          .number({ error: `levels must be a whole number from 1 to ${MAX_LADDER_LEVELS}` })
          .int(`levels must be a whole number from 1 to ${MAX_LADDER_LEVELS}`)
          .min(1, `levels must be a whole number from 1 to ${MAX_LADDER_LEVELS}`)
          .max(MAX_LADDER_LEVELS, `levels must be a whole number from 1 to ${MAX_LADDER_LEVELS}`),
        /** Only units of these types are levels (skip a compound, a building…). */
        types: z.array(z.enum(UNIT_TYPES)).min(1).optional(),
        /** The time between two levels. */
        every: slaDuration,
        /** The first level's offset after the deadline; 0 by default. */
        after: slaDuration.optional(),
        template: templateName.default('task-escalated'),
        ...channelFields,
      })
      .strict(),
  })
  .strict();
export type UpTreeSpec = z.infer<typeof upTreeSchema>['upTree'];

/** An entry of `escalations`: one level, or a ladder up the tree expanding to several. */
export const escalationEntrySchema = z.union([escalationSchema, upTreeSchema]);
export type EscalationEntrySpec = z.infer<typeof escalationEntrySchema>;

export const deadlineSchema = z
  .object({
    id: stepId,
    name: z.string().min(1),
    /** The time allowed from the clock's start; exactly one of `within` and `at`. */
    within: slaDuration.optional(),
    /**
     * An expression giving the instant (or the date: the end of that day, Beijing time) the
     * deadline falls on, e.g. `addDays(steps.claim.form.dueDate, -30)` for a milestone scheduled
     * backwards from a project's deadline (倒排工期). Null sets no deadline.
     */
    at: expression.optional(),
    /**
     * With `at` only: the deadline falls this long after the instant `at` gives (a date counts
     * from the end of that day), e.g. `at: steps.convene.form.meetingAt` with `after: 2 working
     * days` for 会后2个工作日内. Working time counts in the working calendar and hours of the task's
     * unit (the case's for a case deadline), as `within` does.
     */
    after: slaDuration.optional(),
    /**
     * Where a task's clock starts: when the task opens (default), or when the case was received
     * (`case`: 办结 within 5 working days of 受理, whenever the handler's task opens).
     */
    from: z.enum(['task', 'case']).optional(),
    /** What stops the clock: the task being claimed (签收) or completed (办结). */
    stopsOn: z.enum(['claim', 'complete']).default('complete'),
    /** Whether the clock stops while the case waits on the requester. */
    pausable: z.boolean().default(true),
    reminders: z.array(reminderSchema).default([]),
    escalations: z.array(escalationEntrySchema).default([]),
  })
  .strict();
export type DeadlineSpec = z.infer<typeof deadlineSchema>;

/**
 * A location check-in (签到) a task or a roll-call's report-in asks for: `required` (completing
 * without one is refused, 422), `optional` (offered, not needed), or an object that adds a limit:
 * how far from the case's place (the nearest unit up the org tree with a `location`) the person
 * may be and still count as on site. Beyond it the check-in is recorded and flagged, not refused
 * (docs 6.2.1 says why).
 */
export const checkInSchema = z.union([
  z.enum(['required', 'optional']),
  z
    .object({
      mode: z.enum(['required', 'optional']).default('required'),
      /** Metres from the case's place that still count as on site (10 m to 50 km, chosen bounds). */
      withinMeters: z.number().int().min(10).max(50_000),
    })
    .strict(),
]);
export type CheckInSpec = z.infer<typeof checkInSchema>;

const stepBase = {
  id: stepId,
  name: z.string().min(1),
  /** The step to run next; defaults to the following step in the same list. */
  next: stepId.optional(),
};

export const taskStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('task'),
    candidates: z.array(peopleSelectorSchema).min(1),
    /**
     * The step is the centre's arbitration (兜底仲裁) of a 非本部门职责 answer: opening it records
     * `case.arbitrated` on the timeline and counts the case as arbitrated in the metrics.
     */
    arbitration: z.boolean().optional(),
    form: fieldList.optional(),
    outcomes: z
      .array(
        z
          .object({
            id: stepId,
            name: z.string().min(1),
            next: stepId.optional(),
            /** Whether completing with this outcome needs a comment (a reason for a refusal). */
            requiresComment: z.boolean().default(false),
            /**
             * Form fields this outcome needs even when the form leaves them optional: 交部门办理
             * needs the department, 暂缓 does not (a later step's candidates come from them).
             */
            requires: z.array(identifier).min(1).max(50).optional(),
          })
          .strict(),
      )
      .min(1)
      .default([{ id: 'done', name: '完成', requiresComment: false }]),
    /** Where a returned (退单) task goes; by default it goes back to its candidates' pool. */
    onReturn: stepId.optional(),
    /** A location check-in (签到) sent with the completion (`checkInSchema`). */
    checkIn: checkInSchema.optional(),
    /** Mail the candidates when the task opens (template `task-assigned`). */
    announce: z.boolean().default(true),
    /** The channels of the announcement (`task-assigned`) to each candidate; see `channelsSchema`. */
    channels: channelsSchema.optional(),
    deadlines: z.array(deadlineSchema).default([]),
  })
  .strict();

export const claimStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('claim'),
    /** demand: units claim a need (认领需求); offer: communities claim an offered resource. */
    direction: z.enum(['demand', 'offer']).default('demand'),
    candidates: z.array(peopleSelectorSchema).min(1),
    claimants: z
      .object({
        min: z.number().int().min(1).default(1),
        /**
         * At most this many; `all`: every candidate is to claim (a roll-call, 点名报到);
         * `{ expression }`: the number the case gives when the pool opens (places a wish needs).
         */
        max: z
          .union([
            z.number().int().min(1).max(1000),
            z.literal('all'),
            z.object({ expression }).strict(),
          ])
          .default(1),
      })
      .strict()
      .default({ min: 1, max: 1 }),
    /** How long the pool stays open; without it, it waits until `max` claimants. */
    within: slaDuration.optional(),
    /** Where the case goes when the window ends with fewer than `min` claimants. */
    onUnclaimed: stepId.optional(),
    /** A roll-call's report-in (报到) carries a location check-in (`checkInSchema`). */
    checkIn: checkInSchema.optional(),
    announce: z.boolean().default(true),
    /** The channels of the announcement (`task-assigned`) to each candidate; see `channelsSchema`. */
    channels: channelsSchema.optional(),
    deadlines: z.array(deadlineSchema).default([]),
  })
  .strict();

export const timerStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('timer'),
    duration: slaDuration.optional(),
    /** An expression giving an ISO instant (e.g. `data.appointmentAt`). */
    until: expression.optional(),
    /**
     * With `until` only: wait until this long after the instant `until` gives (a date counts from
     * the end of that day), in the case unit's working calendar for working time, e.g. `until:
     * steps.plan.form.date` with `after: 3 working days`.
     */
    after: slaDuration.optional(),
  })
  .strict();

export const decisionStepSchema = z
  .object({
    id: stepId,
    name: z.string().min(1),
    type: z.literal('decision'),
    branches: z.array(z.object({ when: expression, next: stepId }).strict()).min(1),
    otherwise: stepId,
  })
  .strict();

export const notifyStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('notify'),
    template: templateName,
    to: recipients,
    ...channelFields,
  })
  .strict();

export const feedbackStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('feedback'),
    /** How long the requester has to rate; no rating by then is recorded as none, not a score. */
    within: slaDuration,
    /**
     * Who rates (default: the requester): `requester` and people selectors, e.g. a community's
     * resident representatives (`{ role: resident-rep, unit: community }`). The first rating any
     * of them gives is the case's rating. Without `invite`, the people named are invited.
     */
    from: z
      .array(z.union([z.literal('requester'), peopleSelectorSchema]))
      .min(1)
      .max(20)
      .optional(),
    /** Invite the requester by mail (template `case-result` unless named). */
    invite: recipients.optional(),
    template: templateName.default('case-result'),
  })
  .strict();

export const publishStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('publish'),
    title: z.string().min(1).max(200),
    /**
     * Fields shown on the public board: an input field's name, or a task's form field as
     * `steps.<step>.form.<field>` (a project's name, a grade and score); personal ones are masked.
     */
    show: z.array(z.union([identifier, shownFormField])).default([]),
    /**
     * Whether the board shows the case's photos (their attachments, re-encoded without metadata
     * when uploaded). Off unless said: a photo taken at a home or of a person is not for the wall.
     */
    photos: z.boolean().default(false),
  })
  .strict();

/**
 * Fan-out over the org tree: every unit of `type` at or below the unit `within` points at (the
 * case's unit by default; the whole tree for a case without a unit), found when the step runs.
 */
export const forEachUnitsSchema = z
  .object({
    units: z
      .object({
        type: z.enum(UNIT_TYPES),
        within: unitRefSchema.default('case'),
      })
      .strict(),
  })
  .strict();
export type ForEachUnitsSpec = z.infer<typeof forEachUnitsSchema>;

export const subprocessStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('subprocess'),
    definition: key,
    /** Child input fields, each an expression over this case (and `item`, `index` with forEach). */
    data: z.record(z.string(), expression).default({}),
    /**
     * One child case per value of this list (several departments called at once, a wish list),
     * or per unit of a type found in the org tree (every grid of the street):
     * `item` and `index` name the value (the unit id) and its position in `data` and `unit`.
     */
    forEach: z.union([expression, forEachUnitsSchema]).optional(),
    /**
     * The child case's unit id (default: this case's unit; `item` with `forEach: { units }`),
     * e.g. `item` for a list of units.
     */
    unit: expression.optional(),
    /** Wait for the child cases to end (their statuses are then in `steps.<id>`). */
    wait: z.boolean().default(true),
  })
  .strict();

export const endStepSchema = z
  .object({
    id: stepId,
    name: z.string().min(1),
    type: z.literal('end'),
    status: z.enum(['closed', 'rejected', 'cancelled']).default('closed'),
  })
  .strict();

/**
 * An evaluation round (评单评议, Xunyi "半年一评议"): the orders of this case's unit and below
 * closed in a period become the round's items; scorer groups (the residents served, co-building
 * units, social organisations…) score each on the criteria until the round closes; the results,
 * weighted by group, are frozen then. Top level only. See docs/definition-language.md 6.12.
 */
export const evaluationStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('evaluation'),
    /** Which orders: closed at or after `from` and before the end of `to` (dates or instants). */
    orders: z
      .object({
        from: expression,
        to: expression,
        /**
         * Only cases of these processes. Default: the service orders, the processes whose current
         * published definition declares `measures.acceptance` (a handler takes the order on) and
         * has a `feedback` step (the resident served rates it, 一单一打分). Rounds opened before
         * that default keep theirs: every process but this one.
         */
        definitions: z.array(key).min(1).max(50).optional(),
      })
      .strict(),
    /** What each scorer scores, 1–5 each (服务质量、办理时效、满意度 by default). */
    criteria: z
      .array(z.object({ id: identifier, name: z.string().min(1).max(50) }).strict())
      .min(1)
      .max(10)
      .default([
        { id: 'quality', name: '服务质量' },
        { id: 'duration', name: '办理时效' },
        { id: 'satisfaction', name: '满意度' },
      ]),
    /** Who scores, each group with its weight in percent (the weights add up to 100). */
    groups: z
      .array(
        z
          .object({
            id: stepId,
            name: z.string().min(1).max(50),
            weight: z.number().positive().max(100),
            /**
             * `served`: the resident served scores each order (its requester, when a resident's
             * account filed it; not staff filing for somebody); `requester`: whoever filed it;
             * or people selectors (居民代表: `{ role: resident-rep, … }`). A group has `scorers`
             * or a `meeting`, not both.
             */
            scorers: z
              .union([
                z.literal('served'),
                z.literal('requester'),
                z.array(peopleSelectorSchema).min(1),
              ])
              .optional(),
            /**
             * A 评单会 (Xunyi: 社区定期组织居民代表和被服务居民召开“评单”会, seeds/002): the group's
             * scores are the collective scores of one meeting per unit of `unitsOfType` under the
             * round's unit, recorded by its `host` (the holders of that post in the unit) with the
             * meeting's record, for the orders at or below that unit.
             */
            meeting: z
              .object({
                /** Where meetings are held: one per unit of this type (default community). */
                unitsOfType: z.enum(UNIT_TYPES).default('community'),
                /** Who records it: the holders of this post in the meeting's unit. */
                host: roleKey,
              })
              .strict()
              .optional(),
          })
          .strict(),
      )
      .min(1)
      .max(10),
    /** The requester's own rating of each order (一单一打分) counts as one score of this group. */
    orderRating: z.object({ group: stepId }).strict().optional(),
    /** The post whose holders answer for a unit's results (default 党组织书记). */
    responsible: roleKey.default('secretary'),
    /** When the round closes: a duration from its opening, or an expression giving the date. */
    within: slaDuration.optional(),
    at: expression.optional(),
    /** Deadlines while the round is open (reminders to `candidates`: the selector groups' people). */
    deadlines: z.array(deadlineSchema).default([]),
  })
  .strict();
export type EvaluationStepSpec = z.infer<typeof evaluationStepSchema>;

/**
 * The cases a `recurrence` or an `assessment` step reads: those of these processes (1–50 keys)
 * received at or after `from` and before the end of `to` (expressions giving dates or instants).
 */
const periodCasesSchema = z
  .object({
    from: expression,
    to: expression,
    definitions: z.array(key).min(1).max(50),
  })
  .strict();

/**
 * The unit types a `recurrence` step may count places at: below the street, where one recurring
 * problem has one place (a community, a grid, a compound, a building).
 */
export const RECURRENCE_PLACE_TYPES = ['community', 'grid', 'compound', 'building'] as const;

/**
 * 未诉先办 (proactive governance): the requests of the listed processes received in a period under
 * this case's unit, grouped by category and place (the unit of `place`'s type at or above each
 * request's unit); each group of at least `threshold` opens one case of `definition` for its
 * place, with the group as its data. Top level only. See docs/definition-language.md 6.13.
 */
export const recurrenceStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('recurrence'),
    /** Which requests: received at or after `from` and before the end of `to`, of these processes. */
    cases: periodCasesSchema,
    /** Where a request is counted: the nearest unit of this type at or above its unit. */
    place: z.enum(UNIT_TYPES),
    /** A category at a place recurs with at least this many requests in the period. */
    threshold: z.number({ error: 'threshold must be a whole number from 2 to 1000' }),
    /** The process of the proactive case each recurring group opens (for its place). */
    definition: key,
  })
  .strict();
export type RecurrenceStepSpec = z.infer<typeof recurrenceStepSchema>;

/**
 * The figures a department assessment (条块考核) may weigh: the rates of the metrics (section 3.5 of
 * the reference), each computed from the flags the assessed cases carry.
 */
export const ASSESSMENT_FIGURES = [
  'responseRate',
  'acceptanceRate',
  'completionRate',
  'resolutionRate',
  'onTimeRate',
  'satisfactionRate',
] as const;
export type AssessmentFigure = (typeof ASSESSMENT_FIGURES)[number];

/**
 * The street's assessment of the departments (条块考核, 街乡吹哨、部门报到): each serving unit's
 * figures over the named processes' cases of a period (filed at or below this case's unit, or
 * started by a case filed there), combined with weights into a score 0–100; the street's
 * leadership reviews them and may veto a department (一票否决) with a reason; the results become
 * annual assessment records of kind `department` carrying the street's `weight`. Top level only.
 * See docs/definition-language.md 6.14.
 */
export const assessmentStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('assessment'),
    /** Which cases: received at or after `from` and before the end of `to`, of these processes. */
    cases: periodCasesSchema,
    /** The type of the serving units assessed (default `department`, 职能部门). */
    subjects: z.enum(UNIT_TYPES).default('department'),
    /** The rates weighed into the score, each with its weight in percent (they add up to 100). */
    figures: z
      .array(
        z
          .object({
            figure: z.enum(ASSESSMENT_FIGURES, {
              error: (issue) =>
                `"${String(issue.input)}" is not a figure (${ASSESSMENT_FIGURES.join(', ')})`,
            }),
            weight: z.number().positive().max(100),
          })
          .strict(),
      )
      .min(1)
      .max(ASSESSMENT_FIGURES.length),
    /** The street's share of each department's annual score, in percent (Mudan: 30). */
    weight: z.number().positive().max(100),
    /** The leadership's review (审定): who confirms, and its deadlines. */
    review: z
      .object({
        name: z.string().min(1).max(60).optional(),
        candidates: z.array(peopleSelectorSchema).min(1),
        deadlines: z.array(deadlineSchema).default([]),
      })
      .strict(),
  })
  .strict();
export type AssessmentStepSpec = z.infer<typeof assessmentStepSchema>;

/**
 * The sources a `lookup` step reads (lang/lookup.ts says what each returns):
 * `dual-report-members`: the 双报到 members of the case's community in a year, from the
 * registrations (dual-report cases) and the points ledger (积分台账).
 * `open-items`: the open demands nobody claimed and the open overdue cases of the case's unit and
 * the units under it (联席会议的议题来源), counted, with at most 50 of each listed.
 * `secretary-record`: the community's latest (or a year's) 评单 result and secretary-project
 * case (述职评议's 群众满意度 and 书记项目考核等次), ids and figures only.
 */
export const LOOKUP_SOURCES = ['dual-report-members', 'open-items', 'secretary-record'] as const;
export type LookupSource = (typeof LOOKUP_SOURCES)[number];

/** The most people one `lookup` step reads into a case (chosen; lang/lookup.ts MAX_LOOKUP_PEOPLE). */
const MAX_LOOKUP_PEOPLE = 500;

/**
 * Reading named, registered figures into the case (读取登记数据): an activity reads the `source`
 * for the case's unit and `period`, and `steps.<id>` holds what it found (lang/lookup.ts), for
 * later steps, expressions and task forms' defaults. At most `max` people (1–500, default 500):
 * more fail the case, said on its timeline. Top level only. See docs/definition-language.md 6.16.
 */
export const lookupStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('lookup'),
    source: z.enum(LOOKUP_SOURCES, {
      error: (issue) =>
        `"${String(issue.input)}" is not a lookup source: use one of ${LOOKUP_SOURCES.join(', ')}`,
    }),
    /** An expression giving the year read (`data.year`): a whole number, the Beijing calendar year. */
    period: expression.optional(),
    /**
     * An expression giving the unit read instead of the case's (`secretary-record` only): a unit
     * at or below the case's unit.
     */
    unit: expression.optional(),
    /** The most people read (default and at most 500, chosen: the result rides in the history). */
    max: z
      .number({ error: `max must be a whole number from 1 to ${MAX_LOOKUP_PEOPLE}` })
      .int(`max must be a whole number from 1 to ${MAX_LOOKUP_PEOPLE}`)
      .min(1, `max must be a whole number from 1 to ${MAX_LOOKUP_PEOPLE}`)
      .max(
        MAX_LOOKUP_PEOPLE,
        `max must be at most ${MAX_LOOKUP_PEOPLE} (chosen: what a lookup reads rides in the case's history); split the case by unit for more`,
      )
      .default(MAX_LOOKUP_PEOPLE),
  })
  .strict();
export type LookupStepSpec = z.infer<typeof lookupStepSchema>;

/**
 * Writing the org data (登记到组织架构): one activity gives a person the `post` in `unit` (default
 * the case's unit), through the org service's own writes (services/org.ts), so people lookups see
 * the post at once. The person is `person` (an expression giving a person id of the org data,
 * `steps.review.form.volunteer`); when it is absent or gives nothing, `newPerson` records a new
 * person from the case (`data.applicantName`, `data.phone`), one per case and step. A post already
 * held is granted again without change; a retry or replay grants once. With `account:
 * requester` the person is linked to the filing resident's sign-in account. `steps.<id>` holds
 * `personId`, `unitId`, `post`, `created` (a new person) and `account` (what became of the link).
 * See docs/definition-language.md 6.17.
 */
export const grantStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('grant'),
    /** The post granted: a built-in role or one the definition declares under `roles`. */
    post: roleKey,
    unit: unitRefSchema.default('case'),
    /** An expression giving the id of a person of the org data. */
    person: expression.optional(),
    /** A new person recorded from the case when `person` is absent or gives nothing. */
    newPerson: z
      .object({
        /** An expression giving the person's name (required, up to 100 characters). */
        name: expression,
        phone: expression.optional(),
        email: expression.optional(),
      })
      .strict()
      .optional(),
    /**
     * `requester`: the person granted signs in with the account of the resident who filed the
     * case (their own account: not staff filing for them), linked through the person's `userId`
     * when neither is linked to another; a person the account already has is the one granted
     * instead of a new one. Absent: no account is linked. See docs 6.17.
     */
    account: z
      .literal('requester', {
        error: 'account links the person to the requester’s sign-in account: account: requester',
      })
      .optional(),
  })
  .strict();
export type GrantStepSpec = z.infer<typeof grantStepSchema>;

/** Steps allowed inside a parallel branch (no nested parallel, no end). */
const branchStepSchema = z.discriminatedUnion('type', [
  taskStepSchema,
  claimStepSchema,
  timerStepSchema,
  decisionStepSchema,
  notifyStepSchema,
  feedbackStepSchema,
  publishStepSchema,
  subprocessStepSchema,
]);

/** The most iterations a `repeat` step runs (lang/steps.ts MAX_REPEAT_ITERATIONS, chosen). */
const MAX_REPEAT_ITERATIONS = 24;

/**
 * Repeating a block (重复执行): its steps run `times` times, `every` apart (from one iteration's
 * start to the next), or once per date of the list `dates` gives, waiting for each date. At most
 * 24 iterations, so the case's history stays bounded (the block runs in one history). Top level
 * only; the block holds the steps a parallel branch may hold. See docs 6.15.
 */
export const repeatStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('repeat'),
    /** How many iterations, 1–24; exactly one of `times` and `dates`. */
    times: z
      .number({ error: `times must be a whole number from 1 to ${MAX_REPEAT_ITERATIONS}` })
      .int(`times must be a whole number from 1 to ${MAX_REPEAT_ITERATIONS}`)
      .min(1, `times must be a whole number from 1 to ${MAX_REPEAT_ITERATIONS}`)
      .max(
        MAX_REPEAT_ITERATIONS,
        `times must be a whole number from 1 to ${MAX_REPEAT_ITERATIONS} (chosen, so the case's history stays bounded): start a case per period with a schedule for more`,
      )
      .optional(),
    /** With `times`: the time from one iteration's start to the next's (none: one after the other). */
    every: slaDuration.optional(),
    /**
     * An expression giving a list of dates or instants: one iteration per item, each starting at
     * its date (at once when past or not a date); the first 24 items only.
     */
    dates: expression.optional(),
    steps: z.array(branchStepSchema).min(1),
  })
  .strict();
export type RepeatStepSpec = z.infer<typeof repeatStepSchema>;

/** How a parallel step joins its branches: all, the first, or a quorum of k. */
export type ParallelJoin = 'all' | 'any' | { atLeast: number };

export const parallelStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('parallel'),
    /**
     * all: wait for every branch; any: the first branch to finish cancels the others;
     * `{ atLeast: k }`: a quorum, k branches finished cancel the others (Camunda's completion
     * condition on a multi-instance activity).
     */
    join: z
      .union([
        z.enum(['all', 'any']),
        z.object({ atLeast: z.number().int().min(1).max(1000) }).strict(),
      ])
      .default('all'),
    branches: z
      .array(
        z.object({ name: z.string().min(1), steps: z.array(branchStepSchema).min(1) }).strict(),
      )
      .min(2),
  })
  .strict();

export const stepSchema = z.discriminatedUnion('type', [
  taskStepSchema,
  claimStepSchema,
  timerStepSchema,
  decisionStepSchema,
  notifyStepSchema,
  feedbackStepSchema,
  publishStepSchema,
  subprocessStepSchema,
  parallelStepSchema,
  endStepSchema,
  evaluationStepSchema,
  recurrenceStepSchema,
  assessmentStepSchema,
  repeatStepSchema,
  lookupStepSchema,
  grantStepSchema,
]);
export type StepSpec = z.infer<typeof stepSchema>;
export type StepType = StepSpec['type'];
export type TaskStepSpec = z.infer<typeof taskStepSchema>;
export type ClaimStepSpec = z.infer<typeof claimStepSchema>;
export type ParallelStepSpec = z.infer<typeof parallelStepSchema>;

/**
 * Offer the process as Open311 services: `true`, or `{ fields }` naming the input field an Open311
 * parameter fills where it is not the conventional one (OPEN311_PARAMETERS).
 */
export const open311Schema = z.union([
  z.boolean(),
  z
    .object({
      fields: z
        .object(
          Object.fromEntries(
            Object.keys(OPEN311_PARAMETERS).map((parameter) => [parameter, identifier.optional()]),
          ) as Record<Open311Parameter, z.ZodOptional<typeof identifier>>,
        )
        .strict()
        .optional(),
    })
    .strict(),
]);
export type Open311Spec = z.infer<typeof open311Schema>;

/**
 * Accept quick reports (随手报) from registered mobile grid members (post role
 * `mobile-grid-member`), verified by a one-time SMS code (services/quick-reports.ts): the input
 * fields each part of a report fills. The report's place is the case's unit; its category is
 * the case's category when the process has `categories`, else the value of the `category` field.
 */
export const quickReportSchema = z
  .object({
    /** The input field taking the category (a string field with options), for processes without `categories`. */
    category: identifier.optional(),
    /** The field taking what the member saw (text or string). */
    description: identifier,
    /** The field taking where exactly (string or text); the place's name when the member gives none. */
    location: identifier.optional(),
    /** The person field recording the member as the reporter (上报人). */
    reporter: identifier.optional(),
  })
  .strict();
export type QuickReportSpec = z.infer<typeof quickReportSchema>;

/**
 * How often a scheduled process starts a case (周期): daily (日汇总), weekly (周五志愿服务日),
 * monthly, quarterly, half-yearly, yearly.
 */
export const SCHEDULE_PERIODS = ['day', 'week', 'month', 'quarter', 'half-year', 'year'] as const;
export type SchedulePeriod = (typeof SCHEDULE_PERIODS)[number];
/** The periods made of months, where `month`, `day`, `week` and `weekday` count within. */
export type MonthlyPeriod = Exclude<SchedulePeriod, 'day' | 'week'>;
/** Months in each period: `month` in a schedule counts within its period. */
export const MONTHS_PER_PERIOD: Readonly<Record<MonthlyPeriod, number>> = {
  month: 1,
  quarter: 3,
  'half-year': 6,
  year: 12,
};
/** Whether a period is made of months (not `day` or `week`). */
export function isMonthlyPeriod(period: SchedulePeriod): period is MonthlyPeriod {
  return Object.hasOwn(MONTHS_PER_PERIOD, period);
}
/** Weekdays by name, Monday first: `weekday: wednesday` is the same as `weekday: 3`. */
export const WEEKDAYS = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;

/**
 * A periodic round (月排查、季度走访、民情访谈日): the engine keeps one Temporal Schedule for the
 * process that starts a case at each fire, Beijing time, for `unit` with `data` as its input.
 */
export const scheduleSchema = z
  .object({
    every: z.enum(SCHEDULE_PERIODS),
    /** The month within the period (1 = its first month); only quarter, half-year and year. */
    month: z.number().int().min(1).max(12).optional(),
    /** Day of the month, 1–28 (every month has it); 1 when neither day nor weekday is given. */
    day: z.number().int().min(1).max(28).optional(),
    /** The day of the week, 1 (Monday) to 7 (Sunday) or its name: `every: week`, or with `week`. */
    weekday: z
      .union([z.number().int().min(1).max(7), z.enum(WEEKDAYS)], {
        error: 'a weekday: 1 (Monday) to 7 (Sunday), or monday … sunday',
      })
      .optional(),
    /** Which of the month's weekdays: 1 = the first (days 1–7) … 4 = the fourth (days 22–28). */
    week: z.number().int().min(1).max(4).optional(),
    /** Time of day, Beijing time. */
    at: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day HH:MM (Beijing time), e.g. 09:00')
      .default('09:00'),
    /** The unit each scheduled case starts for (its `unitId`); none: the whole org tree. */
    unit: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id: letters, digits, _ and -')
      .optional(),
    /**
     * One case per unit of this type at each fire (every street's 评单 round, every community's
     * 民情访谈日), each for its unit, instead of one case for `unit`: one file serves a county. A
     * list takes every unit of each type (书记项目: `[community, street]`, every secretary's unit).
     */
    unitsOfType: z
      .union([z.enum(UNIT_TYPES), z.array(z.enum(UNIT_TYPES)).min(1).max(UNIT_TYPES.length)], {
        error: `a unit type or a list of them: ${UNIT_TYPES.join(', ')}`,
      })
      .optional(),
    /** With `unitsOfType`: only the units of the type below this unit; none: the whole tree. */
    under: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id: letters, digits, _ and -')
      .optional(),
    /** The scheduled case's input data, checked against `input.fields`. */
    data: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type ScheduleSpec = z.infer<typeof scheduleSchema>;

/** The most rules one definition may hold. */
export const MAX_POINTS_RULES = 50;
/** The most points one rule awards a person. */
export const MAX_POINTS_PER_RULE = 10_000;

/**
 * Volunteer points (积分): a completed task or closed claim pool earns its people points, written
 * once to the points ledger (docs/definition-language.md 3.4). Checked further in points.ts.
 */
const pointsRecipientSchema = z.union([z.enum(['assignee', 'claimants']), peopleSelectorSchema]);
export const pointsRuleSchema = z
  .object({
    when: z
      .object({
        /** A task or claim step. */
        step: stepId,
        /** Only when the task completes with this outcome (any outcome when left out). */
        outcome: stepId.optional(),
      })
      .strict(),
    /** Who earns: default the task's assignee, or a pool's claimants. */
    to: z.union([pointsRecipientSchema, z.array(pointsRecipientSchema).min(1)]).optional(),
    /**
     * Whole points per person, or `{ expression }` computing them from the case when the step
     * completes (service hours typed into the form: `form.hours`): rounded to the nearest whole
     * number and capped at 10000; a value that is not a number, or below 1 once rounded, awards
     * nothing.
     */
    points: z.union(
      [
        z
          .number()
          .int('points must be a whole number from 1 to 10000')
          .min(1, 'points must be a whole number from 1 to 10000')
          .max(MAX_POINTS_PER_RULE, 'points must be a whole number from 1 to 10000'),
        z.object({ expression }).strict(),
      ],
      {
        error:
          'points must be a whole number from 1 to 10000, or { expression } giving the number (form.hours)',
      },
    ),
    /** Why, as the ledger shows it (完成微心愿). */
    reason: z.string().trim().min(1, 'a reason is required (完成微心愿)').max(100),
  })
  .strict();

/**
 * What a case counts for in the rates (考核指标): which step is the handler's acceptance (接单),
 * which deadline is the case's 办结时限, which outcomes are 解决 and which 解释说明, which ends or
 * outcomes leave every denominator (不予受理), and for dispute processes the numbers summed for
 * 化解率. Checked further in measures.ts; docs/definition-language.md section 3.5.
 */
const measureMatch = z.object({ step: stepId, outcome: stepId.optional() }).strict();
export const measuresSchema = z
  .object({
    /**
     * The handler's 接单/签收 step(s): dispatched when one opens, accepted when one is taken. An
     * empty list: nobody takes the process's cases on (a round, an acknowledgement), so they are
     * in no 接单率, 响应率 or 督办率 denominator, instead of counting as dispatched and never accepted.
     */
    acceptance: z.array(stepId).max(20).optional(),
    /** 响应及时: accepted before this deadline (one of these) of an acceptance step passed. */
    acceptanceDeadline: z.union([stepId, z.array(stepId).min(1).max(20)]).optional(),
    /** The 办结时限 (one per path): 按期办结 means completed before it passed. */
    completionDeadline: z.union([stepId, z.array(stepId).min(1).max(20)]).optional(),
    /** Task outcomes that mean 解决 (办结, solved). */
    resolved: z.array(measureMatch).min(1).max(50).optional(),
    /** Task outcomes that mean 解释说明 (办结, not solved). */
    explained: z.array(measureMatch).min(1).max(50).optional(),
    /** Task outcomes or end steps that mean 不予受理: the case leaves every denominator. */
    excluded: z.array(measureMatch).min(1).max(50).optional(),
    /** Task outcomes that grant an extension (延期申请 approved): the case counts as extended. */
    extended: z.array(measureMatch).min(1).max(50).optional(),
    /** Dispute processes: the numbers found and resolved, summed for 化解率. */
    disputes: z.object({ found: expression, resolved: expression }).strict().optional(),
  })
  .strict();
export type MeasuresSpec = z.infer<typeof measuresSchema>;

/**
 * The most named values a case hands to the case that started it (chosen: a parent keeps them for
 * each of hundreds of children, and sums them over all).
 */
export const MAX_RESULT_FIELDS = 5;

/**
 * Names a result value cannot take: the timeline entries and summaries write the values beside
 * these keys of theirs (the validator refuses them, lang/check.ts; workflows/child-results.ts writes them).
 */
export const RESERVED_RESULT_NAMES: ReadonlySet<string> = new Set([
  'caseId',
  'unitId',
  'unitIds',
  'status',
  'outcome',
  'outcomes',
  'data',
  'totals',
  'cases',
  'count',
  'closed',
  'expected',
  'acknowledged',
  'missing',
  'unstaffed',
  'disputesFound',
  'disputesResolved',
  'disputeResolutionRate',
]);

/**
 * What a case hands, as it closes, to the case whose `subprocess` step started it: its `outcome`
 * (by default the id of the end step it closed at) and up to {@link MAX_RESULT_FIELDS} named
 * values (`data`), each an expression over the case evaluated then. The parent reads them as
 * `steps.<id>.outcome` and `steps.<id>.data.<name>` for one child, and over a fan-out as counts
 * and sums (`steps.<id>.outcomes.<outcome>`, `steps.<id>.totals.<name>`) — docs 6.10.
 */
export const resultSchema = z
  .object({
    /** An expression giving the outcome (e.g. `steps.confirm.outcome`); text of at most 60 characters. */
    outcome: expression.optional(),
    /** Named values: numbers, true/false or text (at most 100 characters kept). */
    data: z
      .record(identifier, expression)
      .refine(
        (data) => Object.keys(data).length <= MAX_RESULT_FIELDS,
        `at most ${MAX_RESULT_FIELDS} result values (chosen: a parent keeps them for every child)`,
      )
      .optional(),
  })
  .strict();
export type ResultSpec = z.infer<typeof resultSchema>;

export const definitionSchema = z
  .object({
    key,
    name: z.string().min(1),
    description: z.string().optional(),
    /** Kinds of request (诉求类别); a case of a process with categories starts with one. */
    categories: z.array(categorySchema).min(1).optional(),
    /** Offered through the Open311 GeoReport v2 intake (one service per category). */
    open311: open311Schema.optional(),
    /** Accepts quick reports from mobile grid members (随手报); see quickReportSchema. */
    quickReport: quickReportSchema.optional(),
    /** Roles allowed to start a case of this process. */
    starters: z.array(z.enum(ROLES)).min(1),
    /** Post roles this definition uses beyond the built-in ones, with their labels. */
    roles: z.array(z.object({ key: roleKey, label: z.string().min(1) }).strict()).default([]),
    input: fieldList,
    /** Case-level deadlines (办结时限), running from the start until the case ends. */
    deadlines: z.array(deadlineSchema).default([]),
    start: stepId.optional(),
    steps: z.array(stepSchema).min(1),
    /** Start a case periodically (a Temporal Schedule per process); also startable through the API. */
    schedule: scheduleSchema.optional(),
    /** Volunteer points (积分) earned when tasks or claim pools complete. */
    points: z.array(pointsRuleSchema).max(MAX_POINTS_RULES).optional(),
    /** What its cases count for in the rates (考核指标); see measuresSchema. */
    measures: measuresSchema.optional(),
    /** What a case hands to the case that started it (a sub-process's outcome and values). */
    result: resultSchema.optional(),
    /**
     * At most `max` cases per unit with the same values of the `per` input fields (书记项目: 1—2
     * a year per secretary's unit); rejected, cancelled and failed cases do not count. A start
     * beyond it is refused (409) naming `rule`.
     */
    limit: z
      .object({
        max: z.number().int().min(1).max(1000),
        per: z.array(identifier).min(1).max(5),
        rule: z.string().min(1).max(200),
      })
      .strict()
      .optional(),
  })
  .strict();
export type DefinitionSpec = z.infer<typeof definitionSchema>;

/** A published, immutable version: what a case carries in its workflow input. */
export interface DefinitionSnapshot {
  key: string;
  version: number;
  checksum: string;
  spec: DefinitionSpec;
}

import { z } from 'zod';
import { isDuration, isSlaDuration, parseSlaDuration } from './duration';
import { UNIT_TYPES } from '../common/org-tree';
import { ROLES } from '../common/roles';
import { formatPath } from './case-data';
import { validateCaseData } from './case-data';
import { checkExpression, compileExpression } from './expression';
import type { StepList } from './steps';
import { allSteps, followingStepId, startStepId, stepLists, successorsOf, topLevel } from './steps';
import { checkPointsRules, MAX_POINTS_PER_RULE, MAX_POINTS_RULES } from './points';

/**
 * The process definition language. A definition names its input fields, who may start it, its
 * SLA deadlines, and the steps the one interpreter workflow runs: human tasks, claim pools,
 * timers, decisions, parallel branches, mail, feedback, publication, sub-processes and ends.
 * Nothing here is process-specific; docs/definition-language.md is the reference.
 */

/** Field names end up as MongoDB keys: a `.` reads as a path and a leading `$` as an operator. */
const identifier = z.string().superRefine((s, ctx) => {
  const problem = s.includes('.')
    ? 'must not contain "." (MongoDB would read it as a path)'
    : s.startsWith('$')
      ? 'must not start with "$" (MongoDB would read it as an operator)'
      : /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(s)
        ? null
        : 'letters, digits and _, starting with a letter, up to 64';
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

const key = z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'lower-case letters, digits and -');

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
] as const;

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
  const problem = s.includes('.')
    ? 'must not contain "." (it separates the process key from the category in an Open311 service code)'
    : s.startsWith('$')
      ? 'must not start with "$" (MongoDB would read it as an operator)'
      : /^[a-z][a-z0-9-]{0,62}$/.test(s)
        ? null
        : 'an English slug: lower-case letters, digits and -, starting with a letter, up to 63 (waste-sorting)';
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
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ and -, starting with a letter');

/** Calendar time (ISO 8601) or working time ("5 working days", "2 working hours"). */
const slaDuration = z.string().refine(isSlaDuration, {
  error: (issue) =>
    `"${String(issue.input)}" is not a duration: use ISO 8601 (PT40M, PT3H, P2D) or "5 working days", "2 working hours"`,
});
const calendarDuration = z
  .string()
  .refine(isDuration, 'an ISO 8601 calendar duration such as PT30M or PT2H');
const expression = z.string().min(1).max(1000);
const templateName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a template name such as task-assigned');

/**
 * Post roles known to every installation (the org import may hold others; a definition that
 * uses another role declares it under `roles`).
 */
export const BUILTIN_POST_ROLES: Readonly<Record<string, string>> = {
  secretary: '党组织书记',
  director: '主任',
  'deputy-director': '副主任',
  leader: '分管领导',
  officer: '工作人员',
  dispatcher: '派单员',
  'duty-officer': '值班员',
  'grid-leader': '网格长',
  'grid-worker': '网格员',
  'building-head': '楼栋长',
  'entrance-head': '单元长',
  'party-member': '党员',
  volunteer: '志愿者',
  liaison: '共建单位联络员',
};
const roleKey = z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, 'a role key such as grid-worker');

/**
 * A unit relative to the case or the task's assignee. Shorthands: `case`, `assignee`, `parent`
 * (the case unit's parent), or a unit type (the nearest unit of that type at or above the case's).
 */
const unitAt = z.enum(['self', 'parent', ...UNIT_TYPES]);
export const unitRefSchema = z.union([
  z.enum(['case', 'assignee', 'parent', ...UNIT_TYPES]),
  z
    .object({
      of: z.union([
        z.enum(['case', 'assignee']),
        z.object({ field: identifier }).strict(),
        /** A unit id computed from the case: a dispatcher's choice in a form, a list item. */
        z.object({ expression }).strict(),
      ]),
      at: unitAt.default('self'),
    })
    .strict(),
]);
export type UnitRef = z.infer<typeof unitRefSchema>;
export type UnitAt = z.infer<typeof unitAt>;

/** Who: people holding a role in a unit, units of a type below one, a person, or an expression. */
export const peopleSelectorSchema = z.union([
  z.object({ role: roleKey, unit: unitRefSchema.default('case') }).strict(),
  z
    .object({
      role: roleKey,
      unitsOfType: z.enum(UNIT_TYPES),
      under: unitRefSchema.default('case'),
    })
    .strict(),
  z.object({ person: z.string().min(1).max(64) }).strict(),
  z.object({ expression }).strict(),
  z.object({ claimantsOf: stepId }).strict(),
]);
export type PeopleSelector = z.infer<typeof peopleSelectorSchema>;

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

export const reminderSchema = z
  .object({
    /** Calendar time before the deadline. */
    before: calendarDuration,
    notify: recipients.default('assignee'),
    template: templateName.default('task-reminder'),
  })
  .strict();

export const escalationSchema = z
  .object({
    /** Offset after the deadline at which this level fires; 0 (at the deadline) by default. */
    after: slaDuration.optional(),
    notify: recipients,
    template: templateName.default('task-escalated'),
    /** Hand the task to the people this level notifies (the supervisor takes it over). */
    reassign: z.boolean().default(false),
  })
  .strict();

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
    /** What stops the clock: the task being claimed (签收) or completed (办结). */
    stopsOn: z.enum(['claim', 'complete']).default('complete'),
    /** Whether the clock stops while the case waits on the requester. */
    pausable: z.boolean().default(true),
    reminders: z.array(reminderSchema).default([]),
    escalations: z.array(escalationSchema).default([]),
  })
  .strict();
export type DeadlineSpec = z.infer<typeof deadlineSchema>;

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
    /** Mail the candidates when the task opens (template `task-assigned`). */
    announce: z.boolean().default(true),
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
        /** At most this many; `all`: every candidate is to claim (a roll-call, 点名报到). */
        max: z.union([z.number().int().min(1).max(1000), z.literal('all')]).default(1),
      })
      .strict()
      .default({ min: 1, max: 1 }),
    /** How long the pool stays open; without it, it waits until `max` claimants. */
    within: slaDuration.optional(),
    /** Where the case goes when the window ends with fewer than `min` claimants. */
    onUnclaimed: stepId.optional(),
    announce: z.boolean().default(true),
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
  })
  .strict();

export const feedbackStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('feedback'),
    /** How long the requester has to rate; no rating by then is recorded as none, not a score. */
    within: slaDuration,
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
    /** Input fields shown on the public board; personal fields are masked. */
    show: z.array(identifier).default([]),
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
        /** Only cases of these processes (default: every process but this one). */
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
            /** `requester`: whoever filed an order scores it; or people selectors. */
            scorers: z.union([z.literal('requester'), z.array(peopleSelectorSchema).min(1)]),
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

export const parallelStepSchema = z
  .object({
    ...stepBase,
    type: z.literal('parallel'),
    /** all: wait for every branch; any: the first branch to finish cancels the others. */
    join: z.enum(['all', 'any']).default('all'),
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

/** How often a scheduled process starts a case (周期): monthly, quarterly, half-yearly, yearly. */
export const SCHEDULE_PERIODS = ['month', 'quarter', 'half-year', 'year'] as const;
export type SchedulePeriod = (typeof SCHEDULE_PERIODS)[number];
/** Months in each period: `month` in a schedule counts within its period. */
export const MONTHS_PER_PERIOD: Readonly<Record<SchedulePeriod, number>> = {
  month: 1,
  quarter: 3,
  'half-year': 6,
  year: 12,
};

/**
 * A periodic round (月排查、季度走访): the engine keeps one Temporal Schedule for the process that
 * starts a case at each fire, Beijing time, for `unit` with `data` as its input.
 */
export const scheduleSchema = z
  .object({
    every: z.enum(SCHEDULE_PERIODS),
    /** The month within the period (1 = its first month); not with `every: month`. */
    month: z.number().int().min(1).max(12).optional(),
    /** Day of the month, 1–28 (every month has it). */
    day: z.number().int().min(1).max(28).default(1),
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
    /** The scheduled case's input data, checked against `input.fields`. */
    data: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type ScheduleSpec = z.infer<typeof scheduleSchema>;

/**
 * Volunteer points (积分): a completed task or closed claim pool earns its people points, written
 * once to the points ledger (docs/definition-language.md 3.4). Checked further in common/points.ts.
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
    points: z
      .number({ error: 'points must be a whole number from 1 to 10000' })
      .int('points must be a whole number from 1 to 10000')
      .min(1, 'points must be a whole number from 1 to 10000')
      .max(MAX_POINTS_PER_RULE, 'points must be a whole number from 1 to 10000'),
    /** Why, as the ledger shows it (完成微心愿). */
    reason: z.string().trim().min(1, 'a reason is required (完成微心愿)').max(100),
  })
  .strict();

export const definitionSchema = z
  .object({
    key,
    name: z.string().min(1),
    description: z.string().optional(),
    /** Kinds of request (诉求类别); a case of a process with categories starts with one. */
    categories: z.array(categorySchema).min(1).optional(),
    /** Offered through the Open311 GeoReport v2 intake (one service per category). */
    open311: open311Schema.optional(),
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

export interface DefinitionProblem {
  path: string;
  message: string;
}

export interface ValidationOptions {
  knownTemplates: ReadonlySet<string>;
}

/** Mail templates that show a roll-call's figures and who is missing (mail/templates). */
export const ROLL_CALL_TEMPLATES: ReadonlySet<string> = new Set([
  'roll-call-reminder',
  'roll-call-escalated',
]);

/** Names an expression may start from; `steps.<id>` and `data.<field>` are checked further. */
export const EXPRESSION_ROOTS: ReadonlySet<string> = new Set([
  'data',
  'form',
  'outcome',
  'steps',
  'case',
]);

/** In a sub-process step with `forEach`: also the list's value and its position (from 0). */
export const FOR_EACH_ROOTS: ReadonlySet<string> = new Set([...EXPRESSION_ROOTS, 'item', 'index']);

/**
 * Parses and checks a definition as a whole, reporting every problem at once with its path:
 * schema errors first; then, on a well-formed definition, references, reachability, a way to an
 * end from every step, expressions, roles, templates and field names.
 */
export function validateDefinition(
  raw: unknown,
  options: ValidationOptions,
): { ok: true; spec: DefinitionSpec } | { ok: false; problems: DefinitionProblem[] } {
  const parsed = definitionSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({
        path: formatPath(issue.path),
        message: issue.message,
      })),
    };
  }
  const problems = new SemanticChecker(parsed.data, options).check();
  return problems.length === 0 ? { ok: true, spec: parsed.data } : { ok: false, problems };
}

class SemanticChecker {
  private readonly problems: DefinitionProblem[] = [];
  private readonly stepIds = new Set<string>();
  private readonly fieldNames: Set<string>;
  private readonly roles: Set<string>;

  constructor(
    private readonly spec: DefinitionSpec,
    private readonly options: ValidationOptions,
  ) {
    this.fieldNames = new Set(spec.input.fields.map((f) => f.name));
    this.roles = new Set([...Object.keys(BUILTIN_POST_ROLES), ...spec.roles.map((r) => r.key)]);
  }

  check(): DefinitionProblem[] {
    const { spec } = this;
    for (const { step, list, index } of allSteps(spec)) {
      if (this.stepIds.has(step.id)) {
        this.report(`${list.path}[${index}].id`, `duplicate step id "${step.id}"`);
      }
      this.stepIds.add(step.id);
    }
    this.checkFields('input.fields', spec.input.fields);
    this.checkUnique(
      'categories',
      (spec.categories ?? []).map((c) => c.code),
      'category',
      'code',
    );
    this.checkOpen311();
    spec.roles.forEach((role, i) => {
      if (role.key in BUILTIN_POST_ROLES) {
        this.report(`roles[${i}].key`, `"${role.key}" is a built-in role; do not declare it`);
      }
    });
    const top = topLevel(spec);
    if (spec.start !== undefined && !top.steps.some((s) => s.id === spec.start)) {
      this.report('start', `unknown step "${spec.start}"`);
    }
    spec.deadlines.forEach((d, i) => this.checkDeadline(`deadlines[${i}]`, d, false));
    this.checkRollCallTemplates('deadlines', spec.deadlines);
    this.checkSchedule();
    for (const { step, list, index } of allSteps(spec)) {
      this.checkStep(`${list.path}[${index}]`, step, list);
    }
    for (const list of stepLists(spec)) this.checkGraph(list);
    checkPointsRules(
      spec,
      (path, message) => this.report(path, message),
      (path, selector) => this.checkSelector(path, selector, true),
    );
    return this.problems;
  }

  private report(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  private checkFields(path: string, fields: readonly FieldSpec[]): void {
    const seen = new Set<string>();
    fields.forEach((field, i) => {
      if (seen.has(field.name))
        this.report(`${path}[${i}].name`, `duplicate field "${field.name}"`);
      seen.add(field.name);
      if (field.maxItems !== undefined && !field.multiple) {
        this.report(`${path}[${i}].maxItems`, 'maxItems needs multiple: true');
      }
      if (field.min !== undefined && field.max !== undefined && field.min > field.max) {
        this.report(`${path}[${i}].min`, 'min is greater than max');
      }
    });
  }

  private checkStep(path: string, step: StepSpec, list: StepList): void {
    const inList = new Set(list.steps.map((s) => s.id));
    const reference = (where: string, target: string | undefined) => {
      if (target === undefined || inList.has(target)) return;
      this.report(
        `${path}.${where}`,
        this.stepIds.has(target)
          ? `step "${target}" is in another ${list.isBranch ? 'list' : 'branch'}; jumps stay inside their own list`
          : `unknown step "${target}"`,
      );
    };
    if (step.type !== 'end' && step.type !== 'decision') reference('next', step.next);
    switch (step.type) {
      case 'task':
        step.candidates.forEach((c, i) => this.checkSelector(`${path}.candidates[${i}]`, c, true));
        if (step.form) this.checkFields(`${path}.form.fields`, step.form.fields);
        step.outcomes.forEach((o, i) => reference(`outcomes[${i}].next`, o.next));
        step.outcomes.forEach((o, i) => {
          const fields = new Set(step.form?.fields.map((f) => f.name) ?? []);
          o.requires?.forEach((name, k) => {
            if (!fields.has(name)) {
              this.report(
                `${path}.outcomes[${i}].requires[${k}]`,
                `"${name}" is not a field of this step's form`,
              );
            }
          });
        });
        this.checkUnique(
          `${path}.outcomes`,
          step.outcomes.map((o) => o.id),
          'outcome',
        );
        reference('onReturn', step.onReturn);
        this.checkTemplate(`${path}`, 'task-assigned', step.announce);
        step.deadlines.forEach((d, i) => this.checkDeadline(`${path}.deadlines[${i}]`, d, true));
        this.checkRollCallTemplates(`${path}.deadlines`, step.deadlines);
        this.checkUnique(
          `${path}.deadlines`,
          step.deadlines.map((d) => d.id),
          'deadline',
        );
        break;
      case 'claim':
        step.candidates.forEach((c, i) => this.checkSelector(`${path}.candidates[${i}]`, c, true));
        if (step.claimants.max !== 'all' && step.claimants.min > step.claimants.max) {
          this.report(`${path}.claimants.min`, 'min is greater than max');
        }
        if (step.claimants.max === 'all') this.checkRollCall(path, step);
        else this.checkRollCallTemplates(`${path}.deadlines`, step.deadlines);
        reference('onUnclaimed', step.onUnclaimed);
        if (step.onUnclaimed !== undefined && step.within === undefined) {
          this.report(`${path}.onUnclaimed`, 'onUnclaimed needs a claim window (within)');
        }
        if (step.within !== undefined && step.onUnclaimed === undefined) {
          this.report(
            `${path}.onUnclaimed`,
            'a claim window (within) needs onUnclaimed: where the case goes when too few claim',
          );
        }
        this.checkTemplate(`${path}`, 'task-assigned', step.announce);
        step.deadlines.forEach((d, i) => this.checkDeadline(`${path}.deadlines[${i}]`, d, 'claim'));
        break;
      case 'timer':
        if ((step.duration === undefined) === (step.until === undefined)) {
          this.report(path, 'a timer needs exactly one of duration and until');
        }
        if (step.until !== undefined) this.checkExpression(`${path}.until`, step.until);
        break;
      case 'decision':
        step.branches.forEach((b, i) => {
          this.checkExpression(`${path}.branches[${i}].when`, b.when);
          reference(`branches[${i}].next`, b.next);
        });
        reference('otherwise', step.otherwise);
        break;
      case 'notify':
        this.checkTemplate(`${path}.template`, step.template, true);
        this.checkRecipients(`${path}.to`, step.to, false);
        break;
      case 'feedback':
        if (step.invite !== undefined) {
          this.checkRecipients(`${path}.invite`, step.invite, false);
          this.checkTemplate(`${path}.template`, step.template, true);
        }
        break;
      case 'publish':
        step.show.forEach((name, i) => {
          if (!this.fieldNames.has(name))
            this.report(`${path}.show[${i}]`, `unknown field "${name}"`);
        });
        break;
      case 'subprocess': {
        const roots = step.forEach !== undefined ? FOR_EACH_ROOTS : EXPRESSION_ROOTS;
        if (typeof step.forEach === 'string') {
          this.checkExpression(`${path}.forEach`, step.forEach);
        } else if (step.forEach !== undefined) {
          this.checkUnitRef(`${path}.forEach.units.within`, step.forEach.units.within, false);
        }
        if (step.unit !== undefined) this.checkExpression(`${path}.unit`, step.unit, roots);
        for (const [field, source] of Object.entries(step.data)) {
          this.checkExpression(`${path}.data.${field}`, source, roots);
        }
        if (step.definition === this.spec.key) {
          this.report(`${path}.definition`, 'a process cannot start itself as a sub-process');
        }
        break;
      }
      case 'evaluation':
        this.checkEvaluation(path, step);
        break;
      case 'parallel':
      case 'end':
        break;
    }
  }

  /** An evaluation round: its period, groups and weights, closing and deadlines make sense. */
  private checkEvaluation(path: string, step: EvaluationStepSpec): void {
    this.checkExpression(`${path}.orders.from`, step.orders.from);
    this.checkExpression(`${path}.orders.to`, step.orders.to);
    if ((step.within === undefined) === (step.at === undefined)) {
      this.report(
        path,
        'an evaluation needs exactly one of within (how long it stays open) and at (an expression giving the date it closes)',
      );
    }
    if (step.at !== undefined) this.checkExpression(`${path}.at`, step.at);
    this.checkUnique(
      `${path}.criteria`,
      step.criteria.map((c) => c.id),
      'criterion',
    );
    this.checkUnique(
      `${path}.groups`,
      step.groups.map((g) => g.id),
      'group',
    );
    const total = step.groups.reduce((sum, g) => sum + g.weight, 0);
    if (Math.abs(total - 100) > 1e-9) {
      this.report(`${path}.groups`, `the weights add up to ${total}; they must add up to 100`);
    }
    step.groups.forEach((group, i) => {
      if (group.scorers === 'requester') return;
      group.scorers.forEach((s, j) =>
        this.checkSelector(`${path}.groups[${i}].scorers[${j}]`, s, false),
      );
    });
    if (
      step.orderRating !== undefined &&
      !step.groups.some((g) => g.id === step.orderRating!.group)
    ) {
      this.report(`${path}.orderRating.group`, `unknown group "${step.orderRating.group}"`);
    }
    if (!this.roles.has(step.responsible)) {
      this.report(
        `${path}.responsible`,
        `unknown role "${step.responsible}": use a built-in role or declare it under roles`,
      );
    }
    step.deadlines.forEach((d, i) => {
      const at = `${path}.deadlines[${i}]`;
      this.checkDeadline(at, d, true);
      if (d.stopsOn === 'claim') {
        this.report(
          `${at}.stopsOn`,
          'an evaluation has nothing to claim: its deadlines stop when it closes',
        );
      }
      d.escalations.forEach((e, j) => {
        if (e.reassign) {
          this.report(`${at}.escalations[${j}].reassign`, 'an evaluation has no task to reassign');
        }
      });
    });
    this.checkUnique(
      `${path}.deadlines`,
      step.deadlines.map((d) => d.id),
      'deadline',
    );
  }

  /** The month fits its period, and the data is what a case of this process may start with. */
  private checkSchedule(): void {
    const schedule = this.spec.schedule;
    if (schedule === undefined) return;
    const months = MONTHS_PER_PERIOD[schedule.every];
    if (schedule.month !== undefined && schedule.every === 'month') {
      this.report('schedule.month', 'every: month starts every month: leave month out');
    } else if (schedule.month !== undefined && schedule.month > months) {
      this.report(
        'schedule.month',
        `a ${schedule.every} has ${months} months: month counts within it (1–${months})`,
      );
    }
    const checked = validateCaseData(this.spec.input.fields, schedule.data);
    if (!checked.ok) {
      for (const problem of checked.problems) {
        this.report(`schedule.${problem.path}`, problem.message);
      }
    }
  }

  private checkUnique(path: string, ids: readonly string[], what: string, key = 'id'): void {
    const seen = new Set<string>();
    ids.forEach((id, i) => {
      if (seen.has(id)) this.report(`${path}[${i}].${key}`, `duplicate ${what} "${id}"`);
      seen.add(id);
    });
  }

  /** Fields named in `open311.fields` exist, suit their parameter, and take one parameter each. */
  private checkOpen311(): void {
    const open311 = this.spec.open311;
    if (typeof open311 !== 'object' || open311.fields === undefined) return;
    const mapped = new Map<string, string>();
    for (const [parameter, name] of Object.entries(open311.fields)) {
      if (name === undefined) continue;
      const path = `open311.fields.${parameter}`;
      const field = this.spec.input.fields.find((f) => f.name === name);
      const types: readonly FieldType[] = OPEN311_PARAMETERS[parameter as Open311Parameter].types;
      if (!field) {
        this.report(path, `unknown field "${name}"`);
      } else if (!types.includes(field.type) || field.multiple) {
        this.report(
          path,
          `field "${name}" is ${field.multiple ? 'a list of ' : 'of type '}${field.type}; ${parameter} fills one ${types.join(' or ')}`,
        );
      }
      const other = mapped.get(name);
      if (other !== undefined) this.report(path, `field "${name}" already takes ${other}`);
      mapped.set(name, parameter);
    }
  }

  private checkTemplate(path: string, template: string, used: boolean): void {
    if (used && !this.options.knownTemplates.has(template)) {
      this.report(path, `unknown mail template "${template}"`);
    }
  }

  /**
   * A roll-call (`claimants.max: all`) calls every candidate: its deadlines run until everyone
   * has reported and never hand the pool to others.
   */
  private checkRollCall(path: string, step: ClaimStepSpec): void {
    step.deadlines.forEach((deadline, d) => {
      const at = `${path}.deadlines[${d}]`;
      if (deadline.stopsOn === 'claim') {
        this.report(
          `${at}.stopsOn`,
          'a roll-call (claimants.max: all) runs until everyone has reported: stopsOn: claim would stop it at the first report',
        );
      }
      deadline.escalations.forEach((e, i) => {
        if (e.reassign) {
          this.report(
            `${at}.escalations[${i}].reassign`,
            'a roll-call (claimants.max: all) keeps the people it called: reassign would replace them',
          );
        }
      });
    });
  }

  /** Roll-call templates need a roll-call's figures: only on the deadlines of one. */
  private checkRollCallTemplates(path: string, deadlines: readonly DeadlineSpec[]): void {
    deadlines.forEach((deadline, d) => {
      const mails = [
        ...deadline.reminders.map((r, i) => ({ at: `reminders[${i}]`, template: r.template })),
        ...deadline.escalations.map((e, i) => ({ at: `escalations[${i}]`, template: e.template })),
      ];
      for (const mail of mails) {
        if (ROLL_CALL_TEMPLATES.has(mail.template)) {
          this.report(
            `${path}[${d}].${mail.at}.template`,
            `template "${mail.template}" reports a roll-call: use it on the deadlines of a claim step with claimants.max: all`,
          );
        }
      }
    });
  }

  /** `onTask`: a task's or pool's own deadline (`'claim'` for a pool), false for the case's. */
  private checkDeadline(path: string, deadline: DeadlineSpec, onTask: boolean | 'claim'): void {
    if ((deadline.within === undefined) === (deadline.at === undefined)) {
      this.report(
        path,
        'a deadline needs exactly one of within (a duration) and at (an expression giving its date)',
      );
    }
    if (deadline.at !== undefined) this.checkExpression(`${path}.at`, deadline.at);
    deadline.reminders.forEach((r, i) => {
      if (!onTask && r.notify === 'assignee') {
        this.report(
          `${path}.reminders[${i}].notify`,
          'a case deadline has no assignee: name who is reminded (a role in a unit, a person)',
        );
      }
    });
    if (!onTask && deadline.stopsOn === 'claim') {
      this.report(
        `${path}.stopsOn`,
        'a case deadline stops when the case ends; claim is for tasks',
      );
    }
    deadline.reminders.forEach((r, i) => {
      this.checkRecipients(`${path}.reminders[${i}].notify`, r.notify, onTask);
      this.checkTemplate(`${path}.reminders[${i}].template`, r.template, true);
    });
    let previous = -1;
    deadline.escalations.forEach((e, i) => {
      this.checkRecipients(`${path}.escalations[${i}].notify`, e.notify, onTask);
      this.checkTemplate(`${path}.escalations[${i}].template`, e.template, true);
      if (e.reassign && !onTask) {
        this.report(`${path}.escalations[${i}].reassign`, 'only a task deadline can reassign');
      }
      const offset = e.after === undefined ? 0 : roughMinutes(e.after);
      if (offset < previous) {
        this.report(`${path}.escalations[${i}].after`, 'levels must be in order of their offsets');
      }
      previous = offset;
    });
  }

  private checkRecipients(
    path: string,
    value: RecipientSpec | RecipientSpec[],
    onTask: boolean | 'claim',
  ) {
    const list = Array.isArray(value) ? value : [value];
    list.forEach((recipient, i) => {
      const at = Array.isArray(value) ? `${path}[${i}]` : path;
      if (recipient === 'unacknowledged') {
        if (onTask !== 'claim') {
          this.report(
            at,
            '"unacknowledged" (candidates who have not claimed) only exists on a claim step\'s own deadlines',
          );
        }
        return;
      }
      if (recipient === 'assignee' || recipient === 'candidates') {
        if (!onTask) this.report(at, `"${recipient}" only exists on a task or claim step`);
        return;
      }
      if ('field' in recipient) {
        const field = this.spec.input.fields.find((f) => f.name === recipient.field);
        if (!field) this.report(`${at}.field`, `unknown field "${recipient.field}"`);
        else if (field.type !== 'email') {
          this.report(`${at}.field`, `field "${field.name}" is not of type email`);
        }
        return;
      }
      if ('address' in recipient) return;
      this.checkSelector(at, recipient, onTask !== false);
    });
  }

  private checkSelector(path: string, selector: PeopleSelector, onTask: boolean): void {
    if ('role' in selector) {
      if (!this.roles.has(selector.role)) {
        this.report(
          `${path}.role`,
          `unknown role "${selector.role}": use a built-in role or declare it under roles`,
        );
      }
      const unit = 'unit' in selector ? selector.unit : selector.under;
      this.checkUnitRef(`${path}.${'unit' in selector ? 'unit' : 'under'}`, unit, onTask);
    } else if ('expression' in selector) {
      this.checkExpression(`${path}.expression`, selector.expression);
    } else if ('claimantsOf' in selector) {
      const target = allSteps(this.spec).find((s) => s.step.id === selector.claimantsOf)?.step;
      if (target?.type !== 'claim') {
        this.report(`${path}.claimantsOf`, `"${selector.claimantsOf}" is not a claim step`);
      }
    }
  }

  private checkUnitRef(path: string, ref: UnitRef, onTask: boolean): void {
    const of = typeof ref === 'string' ? (ref === 'assignee' ? 'assignee' : 'case') : ref.of;
    if (of === 'assignee' && !onTask) {
      this.report(path, "the assignee's unit only exists on a task or claim step");
    }
    if (typeof of !== 'object') return;
    if ('expression' in of) this.checkExpression(`${path}.of.expression`, of.expression);
    else if (!this.fieldNames.has(of.field)) {
      this.report(`${path}.of.field`, `unknown field "${of.field}"`);
    }
  }

  private checkExpression(path: string, source: string, roots = EXPRESSION_ROOTS): void {
    const error = checkExpression(source, roots);
    if (error !== null) {
      this.report(path, `bad expression: ${error}`);
      return;
    }
    for (const ref of expressionPaths(source)) {
      const [root, name] = ref.split('.');
      if (root === 'data' && name !== undefined && !this.fieldNames.has(name)) {
        this.report(path, `bad expression: unknown field "data.${name}"`);
      }
      if (root === 'steps' && name !== undefined && !this.stepIds.has(name)) {
        this.report(path, `bad expression: unknown step "steps.${name}"`);
      }
    }
  }

  /**
   * Reachability within a list (from the start, or a branch's first step), and from every
   * reachable step a way out: an end step at the top level, the branch's end inside a branch.
   */
  private checkGraph(list: StepList): void {
    const byId = new Map(list.steps.map((s, i) => [s.id, { step: s, index: i }]));
    const start = list.isBranch ? list.steps[0]!.id : startStepId(this.spec);
    if (!byId.has(start)) return;
    const successors = (id: string): { ids: string[]; exits: boolean } => {
      const step = byId.get(id)!.step;
      const { targets, fallsThrough } = successorsOf(step);
      const ids = targets.filter((t) => byId.has(t));
      const following = fallsThrough ? followingStepId(list, id) : undefined;
      if (following !== undefined) ids.push(following);
      return { ids, exits: step.type === 'end' || (fallsThrough && following === undefined) };
    };
    const reachable = new Set<string>();
    const queue = [start];
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (reachable.has(id)) continue;
      reachable.add(id);
      queue.push(...successors(id).ids);
    }
    list.steps.forEach((step, i) => {
      if (!reachable.has(step.id)) {
        this.report(`${list.path}[${i}]`, `step "${step.id}" is unreachable`);
      }
    });
    // A way out: an end step at the top level, running off the end of a branch inside one.
    const isExit = (id: string): boolean => {
      const { step } = byId.get(id)!;
      return list.isBranch ? successors(id).exits : step.type === 'end';
    };
    const canExit = new Set([...reachable].filter(isExit));
    for (let changed = true; changed;) {
      changed = false;
      for (const id of reachable) {
        if (!canExit.has(id) && successors(id).ids.some((next) => canExit.has(next))) {
          canExit.add(id);
          changed = true;
        }
      }
    }
    const reachesEnd = [...reachable].some(isExit);
    list.steps.forEach((step, index) => {
      if (!list.isBranch && step.type !== 'end' && successors(step.id).exits) {
        this.report(
          `${list.path}[${index}]`,
          'the last step must be an end step or name its next step',
        );
      } else if (reachesEnd && reachable.has(step.id) && !canExit.has(step.id)) {
        this.report(
          `${list.path}[${index}]`,
          list.isBranch
            ? `no way from step "${step.id}" to the end of its branch`
            : `no way from step "${step.id}" to an end step`,
        );
      }
    });
    if (!list.isBranch && !reachesEnd) {
      this.report(list.path, 'no path from the start step reaches an end step');
    }
  }
}

/** Dotted paths an expression reads, for field and step checks (best effort, after syntax). */
function expressionPaths(source: string): string[] {
  try {
    return compileExpression(source, { roots: EXPRESSION_ROOTS }).paths;
  } catch {
    return [];
  }
}

/** Orders escalation offsets of mixed kinds roughly (a working day ≈ 8 working hours). */
function roughMinutes(duration: string): number {
  const parsed = parseSlaDuration(duration);
  if (parsed.kind === 'calendar') return parsed.ms / 60_000;
  if (parsed.kind === 'workingMinutes') return parsed.minutes;
  return parsed.days * 480;
}

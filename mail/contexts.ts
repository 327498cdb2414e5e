import { z } from 'zod';

/**
 * The context each notification template expects, checked before rendering.
 *
 * Handlebars `strict` catches a missing `{{field}}`, but not a field read only by a block
 * helper: `{{#if fellBack}}` and `{{#each deadlines}}` treat a missing key as false/empty. These
 * contracts close that gap, check the value types (ISO instants, http(s) links) and strip keys a
 * template does not declare, so a template can only show what its contract allows.
 *
 * Optional keys may be absent, `undefined` or `null`: Temporal's JSON payloads drop `undefined`
 * keys, so a caller's `{ link: undefined }` arrives as `{}`.
 */

const requiredText = z.string().min(1);
const optionalText = requiredText.nullish();
/** An instant as `Date.prototype.toISOString()` writes it (an offset is accepted too). */
const isoInstant = z.iso.datetime({ offset: true });
/** Only http(s): a link lands in an `href`, where `javascript:` would be live. */
const webLink = z.url({ protocol: /^https?$/ }).nullish();

/** 新任务待办: a task dispatched to a candidate or its assignee. */
export const taskAssignedContext = z.object({
  caseId: requiredText,
  processName: requiredText,
  taskName: requiredText,
  recipientName: requiredText,
  dueAt: isoInstant.nullish(),
  deadlines: z.array(z.object({ name: requiredText, dueAt: isoInstant })),
  link: webLink,
});

/** 即将超时提醒: a deadline of an open task is near. */
export const taskReminderContext = z.object({
  caseId: requiredText,
  processName: requiredText,
  taskName: requiredText,
  recipientName: requiredText,
  deadlineName: requiredText,
  dueAt: isoInstant,
  link: webLink,
});

/** 超时督办: a deadline passed; a supervisor at escalation `level` is asked to step in. */
export const taskEscalatedContext = taskReminderContext.extend({
  level: z.number().int().min(1),
  /** The unit whose post holder receives this mail. */
  unitName: requiredText,
  /** Absent while nobody has claimed the task. */
  assigneeName: optionalText,
  /** The post was vacant where the escalation was due, so a unit above answered (兜底). */
  fellBack: z.boolean(),
  /**
   * The recipient is the task's late assignee (notified of the escalation, not asked to run it):
   * set by the mail activity when the recipient is the person `names.assigneeName` names.
   */
  recipientIsAssignee: z.boolean().nullish(),
});

/** 办理结果告知: the requester learns the outcome and may rate the service 1–5. */
export const caseResultContext = z.object({
  caseId: requiredText,
  processName: requiredText,
  outcome: requiredText,
  summary: optionalText,
  ratingLink: webLink,
  link: webLink,
});

/** 事项进展告知: a general notice that a case reached a step (any process, any recipient). */
export const caseUpdateContext = z.object({
  caseId: requiredText,
  processName: requiredText,
  stepName: requiredText,
  recipientName: requiredText,
  link: webLink,
});

/** 办理异常: a case run failed or ended unclosed; administrators are told (never personal data). */
export const caseFailedContext = z.object({
  caseId: requiredText,
  processName: requiredText,
  /** 异常终止 (failed) or 已撤销 (cancelled). */
  statusName: requiredText,
  /** The failure's kind (an error type or the execution's close status), no personal data. */
  reason: requiredText,
  recipientName: requiredText,
  link: webLink,
});

/** 后台异常: an activity of a case has kept failing past the alert threshold (admins only). */
export const activityStuckContext = z.object({
  /** The workflow id: a case's id, or the id of a schedule's or the reconciler's run. */
  caseId: requiredText,
  /** The case's process, or the kind of run (a schedule's, the reconciler's). */
  processName: requiredText,
  /** The activity's type (`recordCaseProgress`…): names the step of the engine that is stuck. */
  activityName: requiredText,
  minutes: z.number().int().min(0),
  attempts: z.number().int().min(1),
  /** The failure's type only (`MongoServerError`…): a message could quote personal data. */
  errorKind: requiredText,
  recipientName: requiredText,
  link: webLink,
});

/** A roll-call's figures (点名报到): how many were called, reported, still missing. */
const rollCallFigures = {
  expected: z.number().int().min(0),
  acknowledged: z.number().int().min(0),
  missing: z.number().int().min(0),
};

/** 紧急报到提醒: a person called to a roll-call has not reported and its deadline is near. */
export const rollCallReminderContext = taskReminderContext.extend(rollCallFigures);

/**
 * 超时未报到督办: a roll-call's deadline passed with people missing; the supervisor gets their
 * names (looked up by the mail activity; they never enter the workflow history or the logs).
 */
export const rollCallEscalatedContext = taskEscalatedContext
  .omit({ assigneeName: true, recipientIsAssignee: true })
  .extend({ ...rollCallFigures, missingNames: z.array(requiredText) });

export type TaskAssignedContext = z.input<typeof taskAssignedContext>;
export type TaskReminderContext = z.input<typeof taskReminderContext>;
export type TaskEscalatedContext = z.input<typeof taskEscalatedContext>;
export type CaseResultContext = z.input<typeof caseResultContext>;

/** Templates with a declared contract; others (case-received) rely on `strict` alone. */
export const templateContexts = {
  'task-assigned': taskAssignedContext,
  'task-reminder': taskReminderContext,
  'task-escalated': taskEscalatedContext,
  'case-result': caseResultContext,
  'case-update': caseUpdateContext,
  'case-failed': caseFailedContext,
  'activity-stuck': activityStuckContext,
  'roll-call-reminder': rollCallReminderContext,
  'roll-call-escalated': rollCallEscalatedContext,
} as const;

/**
 * Kinds sent only as short messages (no mail template): the quick report's one-time code
 * (services/quick-reports.ts), a few digits and its lifetime in minutes.
 */
export const shortMessageContexts = {
  'quick-report-code': z.object({
    code: z.string().regex(/^\d{4,8}$/, 'digits'),
    minutes: z.number().int().min(1),
  }),
} as const;

const contractsByTemplate: ReadonlyMap<string, z.ZodType<Record<string, unknown>>> = new Map<
  string,
  z.ZodType<Record<string, unknown>>
>([...Object.entries(templateContexts), ...Object.entries(shortMessageContexts)]);

export function contextContractFor(
  template: string,
): z.ZodType<Record<string, unknown>> | undefined {
  return contractsByTemplate.get(template);
}

import { taskFormFieldsOf } from '../../lang/assessment';
import { prefillValues } from '../forms';
import type { FieldSpec } from '../../lang/definition';
import { ATTACHMENT_LIMITS } from '../../services/attachments';
import { AppError } from '../../services/errors';
import type { TaskAction, TaskView } from '../../services/tasks';
import { controlsOf, idempotencyKeyOf, newFormKey, valuesOf } from '../forms';
import { pageNumber, pagerOf } from '../format';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, doneNotice, field, fieldErrors } from '../pipeline';
import type { UnitDirectory } from '../../services/unit-directory';
import { checkInText, dataRows, deadlineRows, taskRow, unitName, unitPath } from '../views-of';
import { checkInRuleOf } from '../../lang/check-in';
import { formatInstant } from '../format';
import { isSupervisorRole } from '../../common/roles';
import { exportLinks } from './exports';

const PAGE_SIZE = 20;
/** How long an action waits for the read model to show it (see `projected`). */
const PROJECTION_WAIT_MS = 3_000;
const VIEWS = ['mine', 'available', 'scope'] as const;
type InboxView = (typeof VIEWS)[number];

/** Staff and dispatchers: the inbox with SLA countdowns, a task's page and its actions. */
export function registerWorkPages({ pages, services }: ConsoleKit): void {
  pages.add({
    method: 'get',
    path: '/inbox',
    access: ['dispatcher', 'staff', 'admin'],
    handle: async (ctx) => {
      const principal = ctx.principal!;
      const requested = ctx.query.view as InboxView | undefined;
      const view: InboxView =
        requested && VIEWS.includes(requested)
          ? requested
          : isSupervisorRole(principal.roles)
            ? 'scope'
            : 'mine';
      const page = pageNumber(ctx.query.page);
      const listed = await services.tasks.listTasks(principal, {
        view,
        page,
        pageSize: PAGE_SIZE,
        ...(view === 'scope' ? { status: 'open' as const } : {}),
      });
      const units = await services.units.get();
      const processNames = new Map((await services.definitions.list()).map((d) => [d.key, d.name]));
      const rows = listed.items.map((task) =>
        taskRow(task, { t: ctx.t, now: ctx.now, units, userId: principal.id, processNames }),
      );
      return {
        view: 'inbox',
        model: {
          title: ctx.t('inbox.title'),
          tabs: VIEWS.map((v) => ({
            id: v,
            href: `${BASE}/inbox?view=${v}`,
            label: ctx.t(`inbox.view.${v}`),
            current: v === view,
          })),
          viewHint: ctx.t(`inbox.hint.${view}`),
          rows,
          empty: rows.length === 0,
          pager: pagerOf(`${BASE}/inbox`, { view }, page, PAGE_SIZE, listed.total),
          // The ledger of every task in scope (the work list's tabs are views of it).
          exportLinks: isSupervisorRole(principal.roles) ? exportLinks('tasks', {}) : [],
          formKey: newFormKey(),
          notice: noticeOf(ctx),
        },
      };
    },
  });

  const taskPage = async (
    ctx: PageContext,
    taskId: string,
    problems?: { action: TaskAction; error: AppError },
  ): Promise<PageResult> => {
    const principal = ctx.principal!;
    const work = await services.tasks.workOf(principal, taskId);
    const { task, step } = work;
    // A supervision slip (督办单) is answered on the 督办 page, not claimed like a task.
    if (task.kind === 'supervision') return { redirect: `${BASE}/supervisions` };
    // The case page only for those whose scope has the case; the task's people see its data here.
    const caseVisible = await services.cases
      .getCase(principal, task.caseId)
      .then(() => true)
      .catch((err: unknown) => {
        if (err instanceof AppError && err.kind === 'not_found') return false;
        throw err;
      });
    const units = await services.units.get();
    const mine =
      task.assignee?.userId === principal.id ||
      task.claimants.some((c) => c.userId === principal.id);
    const candidate = task.candidates.some((c) => c.userId === principal.id);
    const active = task.status === 'open' || task.status === 'claimed';
    const supervisor = isSupervisorRole(principal.roles);
    const canReassign = active && supervisor && task.kind === 'task';
    const formFields = step ? taskFormFieldsOf(step) : [];
    // 签到: the step's check-in rule; offered with the completion, or with a roll-call's report-in.
    const checkInRule = step ? checkInRuleOf(step) : null;
    const canClaim = active && task.status === 'open' && candidate && !mine;
    const canComplete = active && mine && task.kind === 'task';
    const checkInOn =
      checkInRule === null
        ? null
        : task.kind === 'task' && canComplete
          ? 'complete'
          : task.kind === 'claim' && canClaim
            ? 'claim'
            : null;
    const picksPeople = formFields.some((f) => f.type === 'person');
    const takesPhotos = formFields.some((f) => f.type === 'photo');
    const posted = problems?.action === 'complete' ? ctx.form : undefined;
    const errors =
      problems?.action === 'complete' ? fieldErrors(problems.error, ['form', 'body.form']) : {};
    return {
      status: problems ? problems.error.status : 200,
      view: 'task',
      model: {
        title: task.name,
        task: taskRow(task, { t: ctx.t, now: ctx.now, units, userId: principal.id }),
        caseName: work.caseName,
        caseId: task.caseId,
        caseVisible,
        caseCategory: work.caseCategory,
        caseData: dataRows(work.caseFields, work.caseData, units, ctx.t),
        unit: unitPath(units, task.caseUnitId),
        kind: ctx.t(`task.kind.${task.kind}`),
        assignee: task.assignee
          ? await personName(task.assignee.userId, task.assignee.personId)
          : null,
        claimants: await Promise.all(task.claimants.map((c) => personName(c.userId, c.personId))),
        candidatesCount: task.candidates.length,
        // AB岗: who stands in for whom (the absent person by id: they may have no account).
        standIns: await Promise.all(
          task.candidates.flatMap((c) =>
            c.standingInFor === undefined
              ? []
              : [
                  personName(c.userId, c.personId).then((who) => ({
                    who,
                    for: c.standingInFor,
                  })),
                ],
          ),
        ),
        deadlines: deadlineRows(task.deadlines, ctx.t, ctx.now),
        canClaim,
        canRelease: active && mine && task.kind === 'task',
        canComplete,
        checkIn:
          checkInRule && checkInOn
            ? {
                on: checkInOn,
                required: checkInRule.required,
                hint: ctx.t(checkInRule.required ? 'checkIn.required' : 'checkIn.optional'),
                limit:
                  checkInRule.withinMeters === null
                    ? null
                    : ctx.t('checkIn.limit', { m: String(checkInRule.withinMeters) }),
              }
            : null,
        recordedCheckIn: task.checkIn
          ? `${checkInText(task.checkIn, ctx.t)} · ${formatInstant(task.checkIn.at)}`
          : null,
        canReturn: active && mine && task.kind === 'task',
        canReassign,
        reassignTo: canReassign ? await reassignCandidates(task.caseUnitId, units) : [],
        // A form with a person field offers the same post holders as 转派 (a picker, not an id).
        formPeople: picksPeople ? await reassignCandidates(task.caseUnitId, units) : [],
        // A photo field sends the phone's pictures with the form (multipart).
        takesPhotos,
        controls: controlsOf(formFields, {
          prefix: 'form',
          // A form posted back with problems shows what was posted; a fresh one, the prefill.
          values: posted ?? (canComplete ? prefillValues(task.prefill) : undefined),
          errors,
          t: ctx.t,
          peopleList: picksPeople ? 'form-people' : null,
        }),
        outcomes: task.outcomes.map((o) => ({
          id: o.id,
          name: o.name,
          requiresComment: o.requiresComment,
          selected: posted ? field(ctx.form, 'outcome') === o.id : false,
        })),
        singleOutcome: task.outcomes.length === 1,
        comment: posted ? field(ctx.form, 'comment') : '',
        problems: problems
          ? {
              action: problems.action,
              message: problems.error.message,
              details: problems.error.details,
            }
          : null,
        formKey: newFormKey(),
        notice: noticeOf(ctx),
      },
    };
  };

  /**
   * People a supervisor may pick for 转派: the post holders of the case's unit and of the unit
   * above it (a grid's workers, the community's staff), as suggestions; any person id is taken.
   */
  async function reassignCandidates(
    unitId: string | null,
    units: UnitDirectory,
  ): Promise<Array<{ personId: string; label: string }>> {
    if (!unitId) return [];
    const parentId = units.byId.get(unitId)?.parentId ?? null;
    const seen = new Map<string, string>();
    for (const id of parentId ? [unitId, parentId] : [unitId]) {
      const posts = await services.org.listPosts({ unitId: id, page: 1, pageSize: 50 });
      for (const post of posts.items) {
        const label = `${post.personName} · ${unitName(units, post.unitId)} · ${post.role}`;
        if (!seen.has(post.personId)) seen.set(post.personId, label);
      }
    }
    return [...seen].map(([personId, label]) => ({ personId, label }));
  }

  async function personName(userId: string | null, personId: string): Promise<string> {
    if (!userId) return personId;
    return services.accounts.displayNameOf({ kind: 'user', id: userId, roles: [], unitIds: [] });
  }

  pages.add({
    method: 'get',
    path: '/tasks/:id',
    access: ['dispatcher', 'staff', 'admin'],
    handle: (ctx) => taskPage(ctx, String(ctx.req.params.id)),
  });

  for (const action of ['claim', 'release', 'complete', 'return', 'reassign'] as const) {
    pages.add({
      method: 'post',
      path: `/tasks/:id/${action}`,
      access: ['dispatcher', 'staff', 'admin'],
      // Completing takes the form's photos: each up to the attachment limit (a larger one is
      // refused by name), a case's worth at most, and 40 MB for the whole form (chosen: a phone's
      // handful of full-size photos; what one request may hold in memory).
      ...(action === 'complete'
        ? {
            files: {
              maxBytes: ATTACHMENT_LIMITS.maxUploadBytes,
              maxFiles: ATTACHMENT_LIMITS.maxPerCase,
              maxTotalBytes: 40 * 1024 * 1024,
            },
          }
        : {}),
      handle: async (ctx) => {
        const taskId = String(ctx.req.params.id);
        let result: TaskView;
        try {
          result = await services.tasks.act(
            ctx.principal!,
            taskId,
            action,
            await bodyOf(ctx, taskId, action),
            idempotencyKeyOf(field(ctx.form, 'formKey')),
            'console',
          );
        } catch (err) {
          if (
            err instanceof AppError &&
            (err.kind === 'unprocessable' || err.kind === 'conflict')
          ) {
            return taskPage(ctx, taskId, { action, error: err });
          }
          throw err;
        }
        await projected(ctx, result);
        // After finishing a task, back to the work list; otherwise stay on the task.
        const back =
          action === 'complete' || action === 'return' || action === 'reassign'
            ? `${BASE}/inbox?done=${action}`
            : `${BASE}/tasks/${encodeURIComponent(result.id)}?done=${action}`;
        return { redirect: back };
      },
    });
  }

  /**
   * Read your own writes: the Update answered with the task as the workflow holds it; the page
   * after the redirect reads the read model, which the workflow writes a moment later. Wait for
   * it (briefly), so the person does not see the task as it was before their own action.
   */
  async function projected(ctx: PageContext, expected: TaskView): Promise<void> {
    const same = (t: TaskView) =>
      t.status === expected.status &&
      (t.assignee?.personId ?? null) === (expected.assignee?.personId ?? null) &&
      t.claimants.length === expected.claimants.length;
    const until = Date.now() + PROJECTION_WAIT_MS;
    for (;;) {
      const stored = await services.tasks.getTask(ctx.principal!, expected.id).catch(() => null);
      if (stored === null || same(stored) || Date.now() > until) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * The form's photos, sent with it from the phone: each attached to the task's case first (as
   * `POST /api/v1/tasks/{id}/attachments` does), and its id added to the field's value beside the
   * ids of photos attached before (a form shown again after a problem keeps them as hidden
   * fields). A photo refused (too large, not an image, the case full) is named on its field.
   */
  async function attachPostedPhotos(
    ctx: PageContext,
    taskId: string,
    fields: readonly FieldSpec[],
  ): Promise<void> {
    const photoFields = fields.filter((f) => f.type === 'photo');
    // Each photo spends the upload limit as `POST /api/v1/tasks/{id}/attachments` does (decoding
    // and re-encoding is the costliest thing a person can repeat), all before the first is
    // stored: past the limit the form is refused with the API's 429 and Retry-After, no photo kept.
    for (const file of ctx.files) {
      if (photoFields.some((f) => f.name === file.field)) await ctx.spend('attachment-upload');
    }
    for (const field of photoFields) {
      const posted = ctx.form[field.name];
      const ids = (posted === undefined ? [] : Array.isArray(posted) ? posted : [posted]).filter(
        (v) => v !== '',
      );
      for (const file of ctx.files.filter((f) => f.field === field.name)) {
        try {
          if (file.truncated) {
            throw new AppError(
              'payload_too_large',
              `"${file.filename}" is larger than ${ATTACHMENT_LIMITS.maxUploadBytes / 1024 / 1024} MB, or the form's photos together than 40 MB`,
            );
          }
          const stored = await services.attachments.attachToTask(ctx.principal!, taskId, {
            bytes: file.bytes,
            contentType: file.contentType,
          });
          ids.push(stored.id);
        } catch (err) {
          if (!(err instanceof AppError) || err.kind === 'not_found') throw err;
          ctx.form[field.name] = ids;
          throw new AppError('unprocessable', err.message, [
            { path: `form.${field.name}`, message: err.message },
          ]);
        }
      }
      ctx.form[field.name] = ids;
    }
  }

  async function bodyOf(ctx: PageContext, taskId: string, action: TaskAction) {
    const checkIn = checkInOf(ctx);
    if (action === 'complete') {
      const fields = await formFieldsOf(ctx, taskId);
      await attachPostedPhotos(ctx, taskId, fields);
      const comment = field(ctx.form, 'comment').trim();
      return {
        outcome: field(ctx.form, 'outcome') || undefined,
        form: valuesOf(fields, ctx.form),
        ...(comment ? { comment } : {}),
        ...(checkIn ? { checkIn } : {}),
      };
    }
    if (action === 'claim') return checkIn ? { checkIn } : {};
    if (action === 'return') return { reason: field(ctx.form, 'reason').trim() };
    if (action === 'reassign') {
      const reason = field(ctx.form, 'reason').trim();
      return { personId: field(ctx.form, 'personId').trim(), ...(reason ? { reason } : {}) };
    }
    return {};
  }

  /**
   * The check-in the page's 签到 button filled in (console.js, navigator.geolocation), as the API
   * takes it; none when the button was not used. The service checks the numbers (422 naming each).
   */
  function checkInOf(ctx: PageContext) {
    const lat = field(ctx.form, 'checkInLat').trim();
    const lng = field(ctx.form, 'checkInLng').trim();
    const accuracy = field(ctx.form, 'checkInAccuracy').trim();
    const at = field(ctx.form, 'checkInAt').trim();
    if (!lat && !lng && !accuracy) return undefined;
    return {
      lat: Number(lat),
      lng: Number(lng),
      accuracy: Number(accuracy),
      ...(at ? { at } : {}),
    };
  }

  async function formFieldsOf(ctx: PageContext, taskId: string) {
    const { step } = await services.tasks.workOf(ctx.principal!, taskId);
    return step ? taskFormFieldsOf(step) : [];
  }
}

const DONE = ['claim', 'release', 'complete', 'return', 'reassign', 'rate', 'order'] as const;

/** The confirmation after a task or case action (`?done=claim`). */
export function noticeOf(ctx: PageContext): string | null {
  return doneNotice(ctx, DONE, 'done.');
}

import { MAX_NOTE_LENGTH } from '../../services/case-failures';
import type { FailedCaseView } from '../../services/case-failures';
import { formatInstant } from '../format';
import type { ConsoleKit } from '../kit';
import { BASE, doneNotice, field } from '../pipeline';

const DONE = ['retried', 'cancelled', 'reconciled'] as const;
/** Failed cases the page lists, newest change first (chosen: the API's largest page). */
const FAILED_LIMIT = 200;

/**
 * Failed and stuck cases for admins (as `GET /api/v1/admin/cases/failed` and `/stuck`): the
 * reason, the step and when; a failed case is retried from a step of its process's latest
 * version (the failing one preselected), a stuck one cancelled with a note. Below them, the
 * activities failing past the alert threshold (`GET /api/v1/admin/activities/stuck`).
 */
export function registerCaseFailurePages({ pages, services }: ConsoleKit): void {
  pages.add({
    method: 'get',
    path: '/admin/failures',
    access: ['admin'],
    handle: async (ctx) => {
      const principal = ctx.principal!;
      const [failed, stuck, activities] = await Promise.all([
        services.caseFailures.listFailed(principal, { limit: FAILED_LIMIT }),
        services.caseFailures.listStuck(principal),
        services.caseFailures.listStuckActivities(principal),
      ]);
      const steps = await services.caseFailures.retrySteps(
        principal,
        failed.items.map((c) => c.definition.key),
      );
      return {
        view: 'admin-failures',
        model: {
          title: ctx.t('admin.failures.title'),
          notice: doneNotice(ctx, DONE, 'admin.failures.done.'),
          maxNote: MAX_NOTE_LENGTH,
          failed: failed.items.map((c) => ({
            ...rowOf(c),
            steps: (steps.get(c.definition.key) ?? []).map((s) => ({
              ...s,
              selected: s.id === c.stepId,
            })),
          })),
          stuck: stuck.items.map((c) => ({ ...rowOf(c), execution: c.execution ?? '' })),
          activities: activities.items.map((a) => ({
            caseId: a.caseId,
            caseHref: a.caseId.startsWith('case-')
              ? `${BASE}/cases/${encodeURIComponent(a.caseId)}`
              : null,
            activityType: a.activityType,
            attempts: a.attempts,
            lastError: a.lastError ?? '',
            since: formatInstant(a.since),
            mailed: a.mailed,
          })),
        },
      };
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/failures/retry',
    access: ['admin'],
    handle: async (ctx) => {
      const stepId = field(ctx.form, 'stepId');
      await services.caseFailures.retryCase(ctx.principal!, field(ctx.form, 'id'), {
        ...(stepId ? { stepId } : {}),
      });
      return { redirect: `${BASE}/admin/failures?done=retried` };
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/failures/cancel',
    access: ['admin'],
    handle: async (ctx) => {
      const note = field(ctx.form, 'note').trim();
      await services.caseFailures.cancelCase(ctx.principal!, field(ctx.form, 'id'), note);
      return { redirect: `${BASE}/admin/failures?done=cancelled` };
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/failures/reconcile',
    access: ['admin'],
    handle: async (ctx) => {
      await services.caseFailures.reconcileNow(ctx.principal!);
      return { redirect: `${BASE}/admin/failures?done=reconciled` };
    },
  });
}

function rowOf(c: FailedCaseView) {
  return {
    id: c.id,
    caseHref: `${BASE}/cases/${encodeURIComponent(c.id)}`,
    process: `${c.definition.name} v${c.definition.version}`,
    stepId: c.stepId ?? '',
    reason: c.reason ?? '',
    message: c.message ?? '',
    at: formatInstant(c.updatedAt),
  };
}

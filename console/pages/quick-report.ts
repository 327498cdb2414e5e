import { AppError } from '../../services/errors';
import type { QuickReportForm } from '../../services/quick-reports';
import { QUICK_REPORT_PLACE_TYPES } from '../../services/quick-reports';
import type { UnitDirectory } from '../../services/unit-directory';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { field } from '../pipeline';

/** Case ids as the API makes them (services/cases.ts caseIdFor). */
const CASE_ID = /^case-[0-9a-f]{24}$/;
/** Where the page lives; phone-sized (360–414 px), no sign-in. */
const PATH = '/report';

type Translate = PageContext['t'];

/**
 * 随手报: the quick report of mobile grid members on a phone, without an account, in two steps
 * (ask for a code by SMS, then send the report with it) over the API's own service
 * (services/quick-reports.ts). The phone number travels only in form posts, never in a URL.
 */
export function registerQuickReportPages({ pages, services }: ConsoleKit): void {
  /** Communities with their grids and compounds, each labelled with its street. */
  function placeGroups(units: UnitDirectory, selected: string) {
    const groups: Array<{
      label: string;
      street: string;
      options: Array<{ id: string; name: string; selected: boolean }>;
    }> = [];
    const communities = [...units.byId.values()]
      .filter((u) => u.type === 'community')
      .sort((a, b) => a.id.localeCompare(b.id));
    for (const community of communities) {
      const street = community.parentId ? units.byId.get(community.parentId) : undefined;
      const options: Array<{ id: string; name: string; selected: boolean }> = [];
      const visit = (id: string, depth: number) => {
        for (const child of units.children.get(id) ?? []) {
          const unit = units.byId.get(child);
          if (!unit || !(QUICK_REPORT_PLACE_TYPES as readonly string[]).includes(unit.type)) {
            continue;
          }
          const parent = unit.parentId ? units.byId.get(unit.parentId) : undefined;
          const name =
            unit.type === 'compound' && parent?.type === 'grid'
              ? `${parent.name} / ${unit.name}`
              : unit.name;
          options.push({ id: unit.id, name, selected: unit.id === selected });
          if (depth < 2) visit(child, depth + 1);
        }
      };
      visit(community.id, 0);
      if (options.length === 0) continue;
      groups.push({
        label: street ? `${street.name} / ${community.name}` : community.name,
        street: street?.id ?? '',
        options,
      });
    }
    return groups;
  }

  async function reportPage(
    ctx: PageContext,
    state: {
      step: 'code' | 'report';
      status?: number;
      notice?: string | null;
      errors?: Record<string, string>;
      message?: string | null;
    },
  ): Promise<PageResult> {
    const { t } = ctx;
    const form: QuickReportForm = await services.quickReports.form();
    const units = await services.units.get();
    const process = form.processes.find((p) => p.key === field(ctx.form, 'process'));
    const chosen = process ?? form.processes[0];
    const category = field(ctx.form, 'category');
    const errors = state.errors ?? {};
    return {
      status: state.status ?? 200,
      view: 'quick-report',
      model: {
        title: t('quick.title'),
        step: state.step,
        reportStep: state.step === 'report',
        sent: state.notice ?? null,
        message: state.message ?? null,
        phone: field(ctx.form, 'phone'),
        codeDigits: form.codeDigits,
        processes:
          form.processes.length > 1
            ? form.processes.map((p) => ({ ...p, selected: p.key === chosen?.key }))
            : [],
        process: chosen?.key ?? '',
        categories: (chosen?.categories ?? []).map((c) => ({
          ...c,
          selected: c.code === category,
        })),
        placeGroups: placeGroups(units, field(ctx.form, 'place')),
        description: field(ctx.form, 'description'),
        location: field(ctx.form, 'location'),
        errors,
      },
    };
  }

  pages.add({
    method: 'get',
    path: PATH,
    access: 'public',
    handle: (ctx) => reportPage(ctx, { step: ctx.query.step === 'report' ? 'report' : 'code' }),
  });

  pages.add({
    method: 'post',
    path: `${PATH}/code`,
    access: 'public',
    limit: 'quick-report-code',
    handle: async (ctx) => {
      try {
        const answer = await services.quickReports.requestCode(field(ctx.form, 'phone'));
        return reportPage(ctx, {
          step: 'report',
          notice: ctx.t('quick.codeSent', { minutes: Math.round(answer.expiresInSeconds / 60) }),
        });
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        return reportPage(ctx, {
          step: 'code',
          status: err.status,
          ...explained(err, ctx.t),
        });
      }
    },
  });

  pages.add({
    method: 'post',
    path: PATH,
    access: 'public',
    limit: 'quick-report',
    handle: async (ctx) => {
      const optional = (name: string) => {
        const value = field(ctx.form, name).trim();
        return value === '' ? undefined : value;
      };
      try {
        const process = optional('process');
        const location = optional('location');
        const filed = await services.quickReports.submit({
          phone: field(ctx.form, 'phone'),
          code: field(ctx.form, 'code').trim(),
          category: field(ctx.form, 'category'),
          description: field(ctx.form, 'description').trim(),
          place: field(ctx.form, 'place'),
          ...(process !== undefined ? { process } : {}),
          ...(location !== undefined ? { location } : {}),
        });
        return {
          view: 'quick-report-done',
          model: {
            title: ctx.t('quick.doneTitle'),
            caseId: filed.caseId,
            process: filed.process.name,
            follow: filed.follow.page,
          },
        };
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        return reportPage(ctx, { step: 'report', status: err.status, ...explained(err, ctx.t) });
      }
    },
  });

  pages.add({
    method: 'get',
    path: `${PATH}/cases/:id`,
    access: 'public',
    handle: async (ctx) => {
      const id = String(ctx.req.params.id ?? '');
      if (!CASE_ID.test(id)) throw new AppError('not_found', ctx.t('quick.notFound'));
      const status = await services.quickReports.status(id).catch((err: unknown) => {
        if (err instanceof AppError && err.kind === 'not_found') {
          throw new AppError('not_found', ctx.t('quick.notFound'));
        }
        throw err;
      });
      return {
        view: 'quick-report-case',
        model: {
          title: ctx.t('quick.caseTitle'),
          caseId: status.caseId,
          process: status.process.name,
          status: ctx.t(`report.caseStatus.${status.status}`),
          currentStep: status.currentStep ?? '',
          receivedAt: beijing(status.receivedAt),
          closedAt: status.closedAt ? beijing(status.closedAt) : '',
        },
      };
    },
  });
}

/** 2026-12-07 15:04 (Beijing time). */
function beijing(iso: string): string {
  return new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
}

/**
 * The service's problems in the page's words: each field's message in Chinese where the page
 * knows the problem, the service's own text otherwise.
 */
function explained(
  err: AppError,
  t: Translate,
): { errors: Record<string, string>; message: string } {
  const errors: Record<string, string> = {};
  for (const detail of err.details) {
    const name = detail.path.replace(/^body\./, '').split(/[.[]/)[0]!;
    errors[name] ??= fieldMessage(name, detail.message, t);
  }
  if (err.kind === 'too_many_requests') {
    return { errors, message: t('quick.tooMany', { seconds: err.retryAfterSeconds ?? 60 }) };
  }
  if (err.kind === 'forbidden' && err.details.length === 0) {
    return { errors, message: t('quick.notRegistered') };
  }
  return { errors, message: err.details.length > 0 ? t('quick.fix') : err.message };
}

function fieldMessage(name: string, message: string, t: Translate): string {
  if (name === 'phone') return t('quick.badPhone');
  if (name === 'code') {
    const left = /(\d+) attempt\(s\) left/.exec(message);
    if (left) return t('quick.wrongCode', { left: left[1]! });
    if (message.startsWith('wrong code')) return t('quick.codeVoid');
    if (message.includes('expired')) return t('quick.codeExpired');
    if (message.includes('too many')) return t('quick.codeVoid');
    if (message.includes('already used')) return t('quick.codeUsed');
    if (message.includes('no code')) return t('quick.noCode');
    return t('quick.badCode');
  }
  if (name === 'place') {
    return message.includes('where you report') ? t('quick.placeOutside') : t('quick.badPlace');
  }
  if (name === 'category') return t('quick.badCategory');
  if (name === 'description') return t('quick.badDescription');
  return message;
}

import type { Role } from '../../common/roles';
import { AppError } from '../../services/errors';
import type { Ledger, LedgerFormat } from '../../services/ledgers';
import { LEDGER_FORMATS, ledgerHeaders, writeLedger } from '../../services/ledgers';
import { ATTRIBUTIONS, RANKING_KEYS } from '../../services/metrics';
import type { Attribution, RankingKey } from '../../services/metrics';
import { UNIT_TYPES } from '../../lang/vocabulary';
import type { UnitType } from '../../lang/vocabulary';
import type { ConsoleKit } from '../kit';
import type { PageContext } from '../pipeline';
import { BASE } from '../pipeline';
import { assessmentFilterOf } from '../report-assessments';

/**
 * Ledger downloads (台账) from the console pages: `/console/exports/<ledger>?format=csv|xlsx&…`
 * with the filters of the page the link is on, the same service and rate limit as the API's
 * `/api/v1/exports/…`, under the session cookie.
 */

type LedgerName =
  | 'cases'
  | 'tasks'
  | 'metrics'
  | 'people'
  | 'ranking'
  | 'bulletin'
  | 'evaluation-results'
  | 'assessments';

const SUPERVISORS: readonly Role[] = ['admin', 'dispatcher', 'staff'];

/** The CSV and XLSX links of a ledger with a page's filters (empty ones left out). */
export function exportLinks(
  ledger: LedgerName,
  filters: Record<string, string | undefined | null>,
): Array<{ format: string; label: string; href: string }> {
  return LEDGER_FORMATS.map((format) => {
    const params = new URLSearchParams({ format });
    for (const [key, value] of Object.entries(filters)) {
      if (value) params.set(key, value);
    }
    return {
      format,
      label: format.toUpperCase(),
      href: `${BASE}/exports/${ledger}?${params.toString()}`,
    };
  });
}

function formatOf(ctx: PageContext): LedgerFormat {
  const format = ctx.query.format ?? '';
  if (!(LEDGER_FORMATS as readonly string[]).includes(format)) {
    throw new AppError('invalid_request', 'format must be csv or xlsx', [
      { path: 'query.format', message: 'csv or xlsx' },
    ]);
  }
  return format as LedgerFormat;
}

/** The query's non-empty values of these names. */
function pick<K extends string>(ctx: PageContext, names: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const name of names) {
    const value = ctx.query[name]?.trim();
    if (value) out[name] = value;
  }
  return out;
}

export function registerExportPages({ pages, services }: ConsoleKit): void {
  const ledgers = services.ledgers;
  const add = (
    name: LedgerName,
    access: readonly Role[],
    sheet: string,
    build: (ctx: PageContext) => Promise<Ledger>,
  ) =>
    pages.add({
      method: 'get',
      path: `/exports/${name}`,
      access,
      limit: 'export',
      handle: async (ctx) => {
        const format = formatOf(ctx);
        const ledger = await build(ctx);
        return {
          stream: {
            headers: ledgerHeaders(ledger, format),
            write: (out) => writeLedger(ledger, format, out, sheet),
          },
        };
      },
    });

  const period = ['period', 'from', 'to'] as const;
  add('cases', SUPERVISORS, '案件台账', (ctx) => {
    // The case list calls its process filter `process`.
    const { process, unit, overdue, escalated, ...rest } = pick(ctx, [
      'status',
      'process',
      'definitionKey',
      'category',
      'unitId',
      'unit',
      'overdue',
      'escalated',
      ...period,
    ]);
    const flag = (value: string | undefined) =>
      value === 'true' ? true : value === 'false' ? false : undefined;
    return ledgers.cases(ctx.principal!, {
      ...rest,
      ...(process && !rest.definitionKey ? { definitionKey: process } : {}),
      // The case list calls its place filter `unit` (always with the units below it).
      ...(unit && !rest.unitId ? { unitId: unit } : {}),
      ...(flag(overdue) !== undefined ? { overdue: flag(overdue)! } : {}),
      ...(flag(escalated) !== undefined ? { escalated: flag(escalated)! } : {}),
    });
  });
  add('tasks', SUPERVISORS, '任务台账', (ctx) =>
    ledgers.tasks(
      ctx.principal!,
      pick(ctx, ['status', 'definitionKey', 'caseId', 'unitId', ...period]),
    ),
  );
  /** `place` or `served` (the dashboard's attribution switch); anything else: the default. */
  const attributionOf = (ctx: PageContext): { attribution?: Attribution } =>
    (ATTRIBUTIONS as readonly string[]).includes(ctx.query.attribution ?? '')
      ? { attribution: ctx.query.attribution as Attribution }
      : {};
  add('metrics', SUPERVISORS, '指标台账', (ctx) =>
    ledgers.metrics(ctx.principal!, {
      ...pick(ctx, ['unitId', 'definitionKey', 'category', ...period]),
      ...attributionOf(ctx),
    }),
  );
  add('people', SUPERVISORS, '服务人员台账', (ctx) =>
    ledgers.people(ctx.principal!, pick(ctx, ['unitId', 'definitionKey', 'category', ...period])),
  );
  const rankingOf = (ctx: PageContext, names: readonly string[]) => {
    const { by, rankType, ...rest } = pick(ctx, [
      'unitId',
      'definitionKey',
      'category',
      'by',
      'rankType',
      ...names,
    ]);
    return {
      ...rest,
      ...attributionOf(ctx),
      ...((RANKING_KEYS as readonly string[]).includes(by ?? '') ? { by: by as RankingKey } : {}),
      ...((UNIT_TYPES as readonly string[]).includes(rankType ?? '')
        ? { unitType: rankType as UnitType }
        : {}),
    };
  };
  add('ranking', SUPERVISORS, '排名', (ctx) =>
    ledgers.ranking(ctx.principal!, rankingOf(ctx, period)),
  );
  add('bulletin', SUPERVISORS, '月通报', (ctx) => {
    const { month, ...rest } = rankingOf(ctx, ['month']) as ReturnType<typeof rankingOf> & {
      month?: string;
    };
    return ledgers.bulletin(ctx.principal!, { ...rest, month: month ?? '' });
  });
  add('assessments', SUPERVISORS, '年度考核记录', (ctx) =>
    Promise.resolve(ledgers.assessments(ctx.principal!, assessmentFilterOf(ctx))),
  );
  add('evaluation-results', SUPERVISORS, '评单结果', (ctx) => {
    const roundId = ctx.query.roundId ?? '';
    if (!/^case-[0-9a-f]{24}$/.test(roundId)) {
      throw new AppError('invalid_request', 'roundId must be a round id', [
        { path: 'query.roundId', message: 'a round id' },
      ]);
    }
    return ledgers.evaluationResults(ctx.principal!, roundId);
  });
}

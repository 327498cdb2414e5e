import { AppError } from '../../services/errors';
import type { Attribution, MetricsQuery, RankingKey, RankingQuery } from '../../services/metrics';
import { ATTRIBUTIONS, RANKING_KEYS } from '../../services/metrics';
import type { UnitType } from '../../lang/vocabulary';
import { UNIT_TYPES } from '../../lang/vocabulary';
import { beijingMonth } from '../../common/case-measures';
import { formatInstant } from '../format';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE } from '../pipeline';
import {
  cardsOf,
  proactiveCard,
  quickReportCard,
  figureRow,
  overdueChart,
  rankingRows,
  ratesChart,
  satisfactionChart,
  trendChart,
} from '../report-dashboard';
import type { Choice } from '../report-format';
import { UNIT_ID, dayOf, lastDayOf, periodChoices, periodName } from '../report-format';
import { ancestryOf, inScope, topUnitsOf, unitChoices, unitTypeName } from '../report-units';
import { SUPERVISOR_ROLES } from '../../common/roles';
import { exportLinks } from './exports';

/**
 * The dashboard (数据看板) of dispatchers and admins: a unit's figures over a period, from the
 * metrics service (the same numbers as GET /api/v1/metrics, /metrics/ranking and /metrics/people):
 * cards, the monthly trend, the rates, satisfaction and overdue per child unit, a ranking, and the
 * figures per person who served (party members, volunteers, grid workers). Filters are a GET
 * form, so a view can be bookmarked and shared.
 */

const PATH = `${BASE}/dashboard`;
/** The unit types the unit filter lists; deeper units are reached through the tables' links. */
const PICKABLE = new Set(['county', 'street', 'community', 'grid', 'department', 'cobuilding']);
const RANK_TYPES: readonly UnitType[] = [
  'street',
  'community',
  'grid',
  'compound',
  'cobuilding',
  'department',
];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

interface Filters {
  unitId: string;
  period: string;
  from: string;
  to: string;
  by: RankingKey;
  rankType: UnitType | '';
  /** The processes ticked (none: every process). */
  processes: string[];
  /** By the place a case was filed (default) or by who served it. */
  attribution: Attribution;
}

const PROCESS_KEY = /^[a-z][a-z0-9-]{1,62}$/;
/** The most processes the dashboard takes at once (chosen: as the API). */
const MAX_PROCESSES = 20;

function filtersOf(query: Record<string, string>): { filters: Filters; problems: string[] } {
  const problems: string[] = [];
  const unitId = (query.unitId ?? '').trim();
  const period = (query.period ?? '').trim();
  const from = (query.from ?? '').trim();
  const to = (query.to ?? '').trim();
  const by = (query.by ?? '').trim();
  const rankType = (query.rankType ?? '').trim();
  const processes = [
    ...new Set(
      (query.process ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== ''),
    ),
  ];
  if (processes.length > MAX_PROCESSES || processes.some((k) => !PROCESS_KEY.test(k))) {
    problems.push('process');
  }
  if (unitId !== '' && !UNIT_ID.test(unitId)) problems.push('unitId');
  if (period.length > 10) problems.push('period');
  if (from !== '' && !DAY.test(from)) problems.push('from');
  if (to !== '' && !DAY.test(to)) problems.push('to');
  return {
    filters: {
      unitId: problems.includes('unitId') ? '' : unitId,
      period: problems.includes('period') ? '' : period,
      from: problems.includes('from') ? '' : from,
      to: problems.includes('to') ? '' : to,
      by: (RANKING_KEYS as readonly string[]).includes(by) ? (by as RankingKey) : 'completionRate',
      rankType: (UNIT_TYPES as readonly string[]).includes(rankType) ? (rankType as UnitType) : '',
      processes: problems.includes('process') ? [] : processes,
      attribution: (ATTRIBUTIONS as readonly string[]).includes(query.attribution ?? '')
        ? (query.attribution as Attribution)
        : 'place',
    },
    problems,
  };
}

/** A link to the dashboard with these filters and another unit. */
function linkFor(filters: Filters, unitId: string): string {
  const params = new URLSearchParams();
  params.set('unitId', unitId);
  if (filters.from || filters.to) {
    if (filters.from) params.set('from', filters.from);
    if (filters.to) params.set('to', filters.to);
  } else if (filters.period) {
    params.set('period', filters.period);
  }
  if (filters.by !== 'completionRate') params.set('by', filters.by);
  if (filters.rankType) params.set('rankType', filters.rankType);
  if (filters.processes.length > 0) params.set('process', filters.processes.join(','));
  if (filters.attribution !== 'place') params.set('attribution', filters.attribution);
  return `${PATH}?${params.toString()}`;
}

/** The monthly bulletin (月通报) of a unit, for the month the period starts in, same filters. */
function bulletinLink(filters: Filters, unitId: string, periodFrom: string): string {
  const params = new URLSearchParams();
  params.set('unitId', unitId);
  params.set('month', beijingMonth(Date.parse(periodFrom)));
  if (filters.by !== 'completionRate') params.set('by', filters.by);
  if (filters.rankType) params.set('rankType', filters.rankType);
  if (filters.processes.length > 0) params.set('process', filters.processes.join(','));
  if (filters.attribution !== 'place') params.set('attribution', filters.attribution);
  return `${BASE}/bulletin?${params.toString()}`;
}

export function registerDashboardPages({ pages, services, clock }: ConsoleKit): void {
  async function dashboard(ctx: PageContext): Promise<PageResult> {
    const principal = ctx.principal!;
    const { t } = ctx;
    const { filters, problems: badFields } = filtersOf(ctx.query);
    const tree = await services.units.get();
    const visible = inScope(tree, principal);

    const base: MetricsQuery = {
      ...(filters.unitId ? { unitId: filters.unitId } : {}),
      ...(filters.from || filters.to
        ? {
            ...(filters.from ? { from: filters.from } : {}),
            ...(filters.to ? { to: filters.to } : {}),
          }
        : filters.period
          ? { period: filters.period }
          : {}),
      ...(filters.processes.length > 0 ? { definitionKey: filters.processes } : {}),
      attribution: filters.attribution,
    };
    const rankingQuery: RankingQuery = {
      ...base,
      by: filters.by,
      ...(filters.rankType ? { unitType: filters.rankType } : {}),
    };

    let problems: { message: string; details: Array<{ path: string; message: string }> } | null =
      badFields.length > 0
        ? {
            message: t('report.dash.badFilters'),
            details: badFields.map((f) => ({ path: f, message: t(`report.dash.bad.${f}`) })),
          }
        : null;
    let status = 200;
    let report: Record<string, unknown> | null = null;
    let selectedUnit = filters.unitId;
    let selectedPeriod = filters.period;
    if (!problems) {
      try {
        const [metrics, ranking, people] = await Promise.all([
          services.metrics.unitMetrics(principal, base),
          services.metrics.ranking(principal, rankingQuery),
          // Per person is always by who served (the service says so): the switch does not apply.
          services.metrics.people(principal, base),
        ]);
        selectedUnit = metrics.unit.id;
        if (!filters.from && !filters.to) selectedPeriod = metrics.period.label;
        const shown = { ...filters, unitId: metrics.unit.id };
        const ledgerFilters = {
          unitId: metrics.unit.id,
          definitionKey: filters.processes.join(','),
          attribution: filters.attribution === 'place' ? '' : filters.attribution,
          ...(filters.from || filters.to
            ? { from: filters.from, to: filters.to }
            : { period: metrics.period.label }),
        };
        const custom = Boolean(filters.from || filters.to);
        report = {
          unit: { ...metrics.unit, typeName: unitTypeName(metrics.unit.type, t) },
          periodName: custom ? t('report.period.custom') : periodName(metrics.period.label, t),
          periodRange: `${dayOf(metrics.period.from)} – ${lastDayOf(metrics.period.to)}`,
          computedAt: formatInstant(metrics.computedAt),
          breadcrumb: ancestryOf(tree, metrics.unit.id, visible).map((u) => ({
            name: u.name,
            href: linkFor(shown, u.id),
            current: u.id === metrics.unit.id,
          })),
          cards: [
            ...cardsOf(metrics.totals, t),
            proactiveCard(metrics.proactive, t),
            quickReportCard(metrics.quickReports, t),
          ],
          charts: [
            trendChart(metrics, t),
            ratesChart(metrics, t),
            satisfactionChart(metrics, t),
            overdueChart(metrics, t),
          ],
          total: figureRow(metrics.unit, metrics.totals, linkFor(shown, metrics.unit.id)),
          children: metrics.children.map((c) => figureRow(c.unit, c, linkFor(shown, c.unit.id))),
          ranking: {
            byName: t(`report.rank.${ranking.by}`),
            scopeName: ranking.unitType
              ? t('report.rank.scopeType', {
                  unit: ranking.unit.name,
                  type: unitTypeName(ranking.unitType, t),
                })
              : t('report.rank.scopeChildren', { unit: ranking.unit.name }),
            rows: rankingRows(ranking, (id) => linkFor(shown, id)),
          },
          people: {
            named: people.named,
            // Names as the people report gives them (admins, dispatchers); staff see ids.
            rows: people.people.map((row) => ({
              ...figureRow({ id: row.person.id, name: row.person.name ?? row.person.id }, row, ''),
              personId: row.person.id,
              named: row.person.name !== null,
            })),
          },
          exports: {
            metrics: exportLinks('metrics', ledgerFilters),
            people: exportLinks('people', { ...ledgerFilters, attribution: '' }),
            ranking: exportLinks('ranking', {
              ...ledgerFilters,
              by: filters.by,
              rankType: filters.rankType,
            }),
          },
          bulletinHref: bulletinLink(filters, metrics.unit.id, metrics.period.from),
        };
      } catch (err) {
        if (!(err instanceof AppError) || !['invalid_request', 'not_found'].includes(err.kind)) {
          throw err;
        }
        status = err.status;
        problems = {
          message:
            err.kind === 'not_found'
              ? t('report.dash.noUnit', { unit: filters.unitId })
              : err.message,
          details: err.details,
        };
      }
    }

    const definitions = await services.definitions.list();
    const unitOptions: Choice[] = unitChoices(tree, topUnitsOf(tree, principal), {
      types: PICKABLE,
      selected: selectedUnit,
      t,
    });
    if (selectedUnit && !unitOptions.some((o) => o.selected) && tree.byId.has(selectedUnit)) {
      const unit = tree.byId.get(selectedUnit)!;
      unitOptions.unshift({
        value: unit.id,
        label: `${unit.name} (${unitTypeName(unit.type, t)})`,
        selected: true,
      });
    }
    return {
      status,
      view: 'dashboard',
      model: {
        title: t('report.dash.title'),
        problems,
        report,
        filters: {
          ...filters,
          unitOptions,
          periodGroups: periodChoices(clock(), selectedPeriod, t),
          byOptions: RANKING_KEYS.map((k) => ({
            value: k,
            label: t(`report.rank.${k}`),
            selected: k === filters.by,
          })),
          processOptions: definitions.map((d) => ({
            value: d.key,
            label: d.name,
            selected: filters.processes.includes(d.key),
          })),
          attributionOptions: ATTRIBUTIONS.map((a) => ({
            value: a,
            label: t(`report.attr.${a}`),
            selected: a === filters.attribution,
          })),
          rankTypeOptions: RANK_TYPES.map((type) => ({
            value: type,
            label: unitTypeName(type, t),
            selected: type === filters.rankType,
          })),
        },
      },
    };
  }

  pages.add({
    method: 'get',
    path: '/dashboard',
    access: SUPERVISOR_ROLES,
    handle: dashboard,
  });

  /**
   * The monthly bulletin (月通报) of a unit: the month's totals, the red and black lists (红黑榜)
   * and the whole ranking, from GET /api/v1/metrics/bulletin's service; printable (the filters
   * are not printed) and exportable as the bulletin ledger.
   */
  async function bulletinPage(ctx: PageContext): Promise<PageResult> {
    const principal = ctx.principal!;
    const { t } = ctx;
    const { filters } = filtersOf(ctx.query);
    const monthText = (ctx.query.month ?? '').trim();
    const month = MONTH.test(monthText) ? monthText : beijingMonth(clock().getTime());
    let status = 200;
    let problems: { message: string; details: Array<{ path: string; message: string }> } | null =
      monthText !== '' && !MONTH.test(monthText)
        ? { message: t('report.bul.badMonth'), details: [] }
        : null;
    let bulletin: Record<string, unknown> | null = null;
    if (!problems) {
      try {
        const b = await services.metrics.bulletin(principal, {
          month,
          ...(filters.unitId ? { unitId: filters.unitId } : {}),
          ...(filters.processes.length > 0 ? { definitionKey: filters.processes } : {}),
          attribution: filters.attribution,
          by: filters.by,
          ...(filters.rankType ? { unitType: filters.rankType } : {}),
        });
        const rows = (items: typeof b.ranking) =>
          rankingRows({ ...b, items, unit: b.unit }, () => '');
        bulletin = {
          unit: b.unit,
          month: b.month,
          listSize: b.listSize,
          computedAt: formatInstant(b.computedAt),
          byName: t(`report.rank.${b.by}`),
          attributionName: t(`report.attr.${b.filters.attribution}`),
          scopeName: b.unitType
            ? t('report.rank.scopeType', {
                unit: b.unit.name,
                type: unitTypeName(b.unitType, t),
              })
            : t('report.rank.scopeChildren', { unit: b.unit.name }),
          cards: cardsOf(b.totals, t),
          lists: [
            {
              id: 'bul-red',
              heading: t('report.bul.red', { n: b.listSize }),
              rows: rows(b.redList),
            },
            {
              id: 'bul-black',
              heading: t('report.bul.black', { n: b.listSize }),
              rows: rows(b.blackList),
            },
            { id: 'bul-all', heading: t('report.bul.ranking'), rows: rows(b.ranking) },
          ],
          exports: exportLinks('bulletin', {
            unitId: b.unit.id,
            month: b.month,
            definitionKey: filters.processes.join(','),
            attribution: filters.attribution === 'place' ? '' : filters.attribution,
            by: filters.by,
            rankType: filters.rankType,
          }),
        };
      } catch (err) {
        if (!(err instanceof AppError) || !['invalid_request', 'not_found'].includes(err.kind)) {
          throw err;
        }
        status = err.status;
        problems = {
          message:
            err.kind === 'not_found'
              ? t('report.dash.noUnit', { unit: filters.unitId })
              : err.message,
          details: err.details,
        };
      }
    }
    return {
      status,
      view: 'bulletin',
      model: {
        title: t('report.bul.title'),
        problems,
        bulletin,
        filters: {
          unitId: filters.unitId,
          month,
          process: filters.processes.join(','),
          rankType: filters.rankType,
          by: filters.by === 'completionRate' ? '' : filters.by,
          attributionOptions: ATTRIBUTIONS.map((a) => ({
            value: a,
            label: t(`report.attr.${a}`),
            selected: a === filters.attribution,
          })),
        },
      },
    };
  }

  pages.add({
    method: 'get',
    path: '/bulletin',
    access: SUPERVISOR_ROLES,
    handle: bulletinPage,
  });
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

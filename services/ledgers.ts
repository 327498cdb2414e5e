import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { METRIC_FIELDS } from '../common/case-measures';
import type { Cell } from '../common/csv';
import { CSV_BOM, csvLine, safeText } from '../common/csv';
import type { AssessmentKind } from '../common/evaluation';
import { assessmentTable, resultsTable } from '../common/evaluation';
import { unitsAtOrBelow } from '../common/org-tree';
import { BEIJING_OFFSET_MS } from '../lang/beijing';
import type { Models } from '../models';
import type { Principal } from './auth';
import { AppError } from './errors';
import type { EvaluationService } from './evaluations';
import type {
  BulletinQuery,
  MetricsQuery,
  MetricsService,
  PeopleQuery,
  RankingQuery,
} from './metrics';
import type { PeriodInput } from './periods';
import { resolvePeriod } from './periods';
import type { OrgScope, ScopeResolver } from './scope';
import { scopeFilter, withinScope } from './scope';
import { TASK_SCOPE } from './tasks';
import type { UnitDirectory, UnitDirectoryReader } from './unit-directory';

/**
 * Ledgers (台账): cases, tasks, unit metrics, rankings, the points ledger and evaluation results,
 * as CSV or XLSX for officials to file and quote. A ledger is its columns and its rows in pages;
 * {@link writeLedger} streams it to the HTTP response page by page, waiting for the client to
 * drain, so a 200,000-case ledger needs the memory of one page, never of the whole file.
 *
 * Cases, tasks and points entries are read in `_id` order through one database cursor that
 * fetches {@link PAGE_SIZE} documents a batch: no skip, never the whole collection in memory. The
 * filters are the list endpoints'
 * (status, process, category) plus a unit with everything below it and a creation period; the
 * reader's org scope always applies. No personal data: a case's `data` (where personal fields
 * live) is never read; tasks name accounts by id only.
 */

/** Chosen: 1,000 documents a page (a few hundred kB of projected case fields). */
export const PAGE_SIZE = 1_000;

export type LedgerFormat = 'csv' | 'xlsx';
export const LEDGER_FORMATS = ['csv', 'xlsx'] as const;

export const LEDGER_CONTENT_TYPES: Record<LedgerFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** `attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266 and RFC 5987). */
export function contentDisposition(asciiStem: string, title: string, extension: string): string {
  const ascii = `${asciiStem.replace(/[^A-Za-z0-9._-]/g, '_')}.${extension}`;
  const utf8 = encodeURIComponent(`${title}.${extension}`).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

/** The response headers of a ledger download (the API's and the console's). */
export function ledgerHeaders(ledger: Ledger, format: LedgerFormat): Record<string, string> {
  return {
    'content-type': LEDGER_CONTENT_TYPES[format],
    'content-disposition': contentDisposition(ledger.fileName, ledger.title, format),
    'cache-control': 'no-store',
  };
}

export interface Ledger {
  /** The ASCII file name stem (`cases-2026-12-06`). */
  fileName: string;
  /** The file name stem as officials read it (`案件台账-2026-12-06`). */
  title: string;
  columns: readonly string[];
  /** The rows, one page at a time; read lazily while the file is written. */
  pages(): AsyncIterable<Cell[][]> | Iterable<Cell[][]>;
}

export interface CaseLedgerQuery extends PeriodInput {
  status?: string;
  /** One process, or several separated by commas (as the case list's filter). */
  definitionKey?: string;
  category?: string;
  /** A unit and everything below it. */
  unitId?: string;
  /** Whether a deadline of the case was missed (metrics.overdue), as the case list filters. */
  overdue?: boolean;
  /** Whether an escalation level of the case fired (metrics.escalated). */
  escalated?: boolean;
}

export interface TaskLedgerQuery extends PeriodInput {
  status?: string;
  definitionKey?: string;
  caseId?: string;
  /** The case's unit, with everything below it. */
  unitId?: string;
}

export interface PointsLedgerQuery extends PeriodInput {
  /** Entries earned in the unit's subtree or by members reporting to it. */
  unitId: string;
}

/** `2026-12-06 14:05:09`, Beijing time, as offices write times in a ledger. */
export function beijingTime(at: Date | string | null | undefined): string | null {
  if (at === null || at === undefined) return null;
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(ms)) return null;
  const local = new Date(ms + BEIJING_OFFSET_MS).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 19)}`;
}

const yesNo = (flag: boolean) => (flag ? '是' : '否');

/** Chinese headers of the metric fields; a field added later shows under its own name. */
const METRIC_LABELS: Record<string, string> = {
  received: '受理数',
  accepted: '接单数',
  respondedInTime: '及时响应数',
  completed: '办结数',
  completedOnTime: '按期办结数',
  rejected: '不予受理数',
  overdue: '逾期数',
  escalated: '升级督办数',
  escalations: '升级次数',
  returned: '退单数',
  rated: '评价数',
  ratingScore: '评分',
  satisfied: '满意数',
  ratingMissing: '未评价数',
  responseMinutes: '响应分钟',
  handlingMinutes: '办理分钟',
  acceptanceRate: '接单率',
  responseRate: '响应率',
  completionRate: '办结率',
  onTimeRate: '按期办结率',
  satisfactionRate: '满意度',
  overdueRate: '逾期率',
  score: '平均评分',
};
const labelOf = (key: string) => METRIC_LABELS[key] ?? key;

/**
 * A figures object flattened to cells: its numbers, then the numbers of its nested objects
 * (`rates`, `averages`), in the order the first row has them, so figures added by the metrics
 * service appear as columns without this file changing.
 */
function figureKeys(figures: object): Array<[string, string | null]> {
  const keys: Array<[string, string | null]> = [];
  for (const [key, value] of Object.entries(figures)) {
    if (key === 'unit' || key === 'rank' || key === 'person') continue;
    if (typeof value === 'number' || value === null) keys.push([key, null]);
    else if (typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, v] of Object.entries(value as object)) {
        if (typeof v === 'number' || v === null) keys.push([inner, key]);
      }
    }
  }
  return keys;
}

function figureCells(figures: object, keys: Array<[string, string | null]>): Cell[] {
  const record = figures as Record<string, unknown>;
  return keys.map(([key, parent]) => {
    const value =
      parent === null
        ? record[key]
        : (record[parent] as Record<string, unknown> | undefined)?.[key];
    return typeof value === 'number' ? value : null;
  });
}

/** A ledger small enough to be one page (a report already computed in memory). */
function onePage(rows: Cell[][]): Iterable<Cell[][]> {
  return rows.length > 0 ? [rows] : [];
}

export function createLedgerService(deps: {
  models: Pick<Models, 'Case' | 'Task' | 'PointsEntry' | 'Person'>;
  scope: ScopeResolver;
  units: UnitDirectoryReader;
  metrics: MetricsService;
  evaluations: Pick<EvaluationService, 'results' | 'assessments'>;
  clock: () => Date;
  /** Documents per page; {@link PAGE_SIZE} unless a test asks for less. */
  pageSize?: number;
}) {
  const { Case, Task, PointsEntry, Person } = deps.models;
  const pageSize = deps.pageSize ?? PAGE_SIZE;
  const today = () => beijingTime(deps.clock())!.slice(0, 10);

  /**
   * The unit a filter names, with everything below it. A unit the tree lacks or outside the
   * reader's scope is a 404, as elsewhere, so ids of other streets' units do not leak.
   */
  function subtreeOf(tree: UnitDirectory, scope: OrgScope, unitId: string, path: string): string[] {
    if (!tree.byId.has(unitId) || (!scope.all && !scope.unitIds.has(unitId))) {
      throw new AppError('not_found', `No unit "${unitId}" in your scope`, [
        { path, message: 'unknown unit or outside your scope' },
      ]);
    }
    return [...unitsAtOrBelow(tree.children, [unitId])].sort();
  }

  /** The creation period a query names, as a `createdAt`-style range; none when not asked. */
  function rangeOf(query: PeriodInput): { $gte: Date; $lt: Date } | undefined {
    if (query.period === undefined && query.from === undefined && query.to === undefined) {
      return undefined;
    }
    const period = resolvePeriod(query, deps.clock());
    return { $gte: new Date(period.from), $lt: new Date(period.to) };
  }

  /**
   * Pages of a query's documents in `_id` order, read through one cursor fetching
   * {@link PAGE_SIZE} documents a batch: the driver holds one batch, this one page. One query,
   * not one per page: FerretDB v1 filters and sorts outside SQLite, so each `_id > last` page
   * query would scan the whole collection again (20 pages of a 20,000-case ledger timed out).
   */
  async function* byId<T extends { _id: string }>(query: {
    cursor(options: { batchSize: number }): AsyncIterable<T>;
  }): AsyncIterable<T[]> {
    let page: T[] = [];
    for await (const doc of query.cursor({ batchSize: pageSize })) {
      page.push(doc);
      if (page.length === pageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  const unitName = (tree: UnitDirectory, id: string | null | undefined) =>
    id ? (tree.byId.get(id)?.name ?? null) : null;

  return {
    async cases(principal: Principal, query: CaseLedgerQuery): Promise<Ledger> {
      const [scope, tree] = await Promise.all([deps.scope.resolve(principal), deps.units.get()]);
      const filter: Record<string, unknown> = {};
      if (query.status) filter.status = query.status;
      const keys = [...new Set((query.definitionKey ?? '').split(',').filter(Boolean))];
      if (keys.length === 1) filter.definitionKey = keys[0];
      else if (keys.length > 1) filter.definitionKey = { $in: keys };
      if (query.category) filter.category = query.category;
      if (query.unitId)
        filter.unitId = { $in: subtreeOf(tree, scope, query.unitId, 'query.unitId') };
      // Zeros are not stored (common/case-measures.ts storedMetrics): "not" is "not 1".
      if (query.overdue !== undefined) filter['metrics.overdue'] = query.overdue ? 1 : { $ne: 1 };
      if (query.escalated !== undefined) {
        filter['metrics.escalated'] = query.escalated ? 1 : { $ne: 1 };
      }
      const range = rangeOf(query);
      if (range) filter.createdAt = range;
      const scoped = withinScope(filter, scopeFilter(scope));
      const columns = [
        '案件编号',
        '流程',
        '流程名称',
        '版本',
        '状态',
        '单位编号',
        '单位',
        '类别',
        '渠道',
        '受理时间',
        '办结时间',
        '当前环节',
        '逾期',
        '升级督办',
        ...METRIC_FIELDS.map(labelOf),
      ];
      return {
        fileName: `cases-${today()}`,
        title: `案件台账-${today()}`,
        columns,
        async *pages() {
          const query = Case.find(scoped, {
            status: 1,
            definitionKey: 1,
            definitionName: 1,
            definitionVersion: 1,
            unitId: 1,
            category: 1,
            channel: 1,
            createdAt: 1,
            closedAt: 1,
            currentStep: 1,
            metrics: 1,
          })
            .sort({ _id: 1 })
            .lean();
          for await (const docs of byId(query)) {
            yield docs.map((doc) => {
              const metrics = (doc.metrics ?? {}) as Record<string, unknown>;
              const flag = (key: string) => typeof metrics[key] === 'number' && metrics[key] > 0;
              return [
                doc._id,
                doc.definitionKey,
                doc.definitionName,
                doc.definitionVersion,
                doc.status,
                doc.unitId ?? null,
                unitName(tree, doc.unitId),
                doc.category ?? null,
                doc.channel,
                beijingTime(doc.createdAt),
                beijingTime(doc.closedAt),
                doc.currentStep?.name ?? doc.currentStep?.id ?? null,
                yesNo(flag('overdue')),
                yesNo(flag('escalated')),
                ...METRIC_FIELDS.map((key) =>
                  typeof metrics[key] === 'number' ? metrics[key] : null,
                ),
              ];
            });
          }
        },
      };
    },

    async tasks(principal: Principal, query: TaskLedgerQuery): Promise<Ledger> {
      const [scope, tree] = await Promise.all([deps.scope.resolve(principal), deps.units.get()]);
      const filter: Record<string, unknown> = {};
      if (query.status) filter.status = query.status;
      if (query.definitionKey) filter.definitionKey = query.definitionKey;
      if (query.caseId) filter.caseId = query.caseId;
      if (query.unitId) {
        filter.caseUnitId = { $in: subtreeOf(tree, scope, query.unitId, 'query.unitId') };
      }
      const range = rangeOf(query);
      if (range) filter.openedAt = range;
      const scoped = withinScope(filter, scopeFilter(scope, TASK_SCOPE));
      return {
        fileName: `tasks-${today()}`,
        title: `任务台账-${today()}`,
        columns: [
          '任务编号',
          '案件编号',
          '流程',
          '环节编号',
          '环节',
          '状态',
          '办理结果',
          '单位编号',
          '单位',
          '办理人账号',
          '已认领',
          '开始时间',
          '完成时间',
          '时限',
          '超时',
        ],
        async *pages() {
          const query = Task.find(scoped, {
            caseId: 1,
            definitionKey: 1,
            stepId: 1,
            name: 1,
            status: 1,
            outcome: 1,
            caseUnitId: 1,
            assigneeUserId: 1,
            claimantUserIds: 1,
            openedAt: 1,
            closedAt: 1,
            dueAt: 1,
            deadlines: 1,
          })
            .sort({ _id: 1 })
            .lean();
          for await (const docs of byId(query)) {
            yield docs.map((doc) => {
              const deadlines = (doc.deadlines ?? []) as Array<{
                dueAt?: string | null;
                missed?: boolean;
              }>;
              const due =
                doc.dueAt ??
                deadlines
                  .map((d) => d.dueAt ?? null)
                  .filter((d): d is string => d !== null)
                  .sort()
                  .at(-1) ??
                null;
              return [
                doc._id,
                doc.caseId,
                doc.definitionKey,
                doc.stepId,
                doc.name,
                doc.status,
                doc.outcome ?? null,
                doc.caseUnitId ?? null,
                unitName(tree, doc.caseUnitId),
                doc.assigneeUserId ?? null,
                yesNo(Boolean(doc.assigneeUserId) || (doc.claimantUserIds ?? []).length > 0),
                beijingTime(doc.openedAt),
                beijingTime(doc.closedAt),
                beijingTime(due),
                yesNo(deadlines.some((d) => d.missed === true)),
              ];
            });
          }
        },
      };
    },

    async metrics(principal: Principal, query: MetricsQuery): Promise<Ledger> {
      const report = await deps.metrics.unitMetrics(principal, query);
      const keys = figureKeys(report.totals);
      const rows: Cell[][] = [
        [
          report.unit.id,
          report.unit.name,
          report.unit.type,
          '合计',
          ...figureCells(report.totals, keys),
        ],
        ...report.children.map((child) => [
          child.unit.id,
          child.unit.name,
          child.unit.type,
          report.unit.name,
          ...figureCells(child, keys),
        ]),
      ];
      return {
        fileName: `metrics-${report.unit.id}-${report.period.label}`,
        title: `指标台账-${report.unit.name}-${report.period.label}`,
        columns: ['单位编号', '单位', '类型', '上级单位', ...keys.map(([k]) => labelOf(k))],
        pages: () => onePage(rows),
      };
    },

    /**
     * The figures per person who served (服务人员台账: party members, volunteers, grid workers…)
     * as GET /api/v1/metrics/people answers them, most cases first; names only where that report
     * gives them (admins and dispatchers), person ids for the others.
     */
    async people(principal: Principal, query: PeopleQuery): Promise<Ledger> {
      const report = await deps.metrics.people(principal, query);
      const first = report.people[0];
      const keys = first ? figureKeys(first) : [];
      const rows = report.people.map((row) => [
        row.person.id,
        row.person.name,
        ...figureCells(row, keys),
      ]);
      return {
        fileName: `people-${report.unit.id}-${report.period.label}`,
        title: `服务人员台账-${report.unit.name}-${report.period.label}`,
        columns: ['人员编号', '姓名', ...keys.map(([k]) => labelOf(k))],
        pages: () => onePage(rows),
      };
    },

    async ranking(principal: Principal, query: RankingQuery): Promise<Ledger> {
      const ranking = await deps.metrics.ranking(principal, query);
      const first = ranking.items[0];
      const keys = first ? figureKeys(first) : [];
      const rows = ranking.items.map((item) => [
        item.rank,
        item.unit.id,
        item.unit.name,
        item.unit.type,
        ...figureCells(item, keys),
      ]);
      return {
        fileName: `ranking-${ranking.unit.id}-${ranking.period.label}`,
        title: `排名-${ranking.unit.name}-${ranking.period.label}-${labelOf(ranking.by)}`,
        columns: ['名次', '单位编号', '单位', '类型', ...keys.map(([k]) => labelOf(k))],
        pages: () => onePage(rows),
      };
    },

    /**
     * The monthly bulletin (月通报): the unit's totals, then the red list (红榜), the black list
     * (黑榜) and the whole ranking, one row each, as GET /api/v1/metrics/bulletin answers them.
     */
    async bulletin(principal: Principal, query: BulletinQuery): Promise<Ledger> {
      const b = await deps.metrics.bulletin(principal, query);
      const keys = figureKeys(b.totals);
      const row = (section: string, item: (typeof b.ranking)[number]): Cell[] => [
        section,
        item.rank,
        item.unit.id,
        item.unit.name,
        item.unit.type,
        ...figureCells(item, keys),
      ];
      const rows: Cell[][] = [
        ['合计', null, b.unit.id, b.unit.name, b.unit.type, ...figureCells(b.totals, keys)],
        ...b.redList.map((item) => row('红榜', item)),
        ...b.blackList.map((item) => row('黑榜', item)),
        ...b.ranking.map((item) => row('排名', item)),
      ];
      return {
        fileName: `bulletin-${b.unit.id}-${b.month}`,
        title: `月通报-${b.unit.name}-${b.month}-${labelOf(b.by)}`,
        columns: ['栏目', '名次', '单位编号', '单位', '类型', ...keys.map(([k]) => labelOf(k))],
        pages: () => onePage(rows),
      };
    },

    /**
     * The points ledger of a unit: every entry earned in its subtree, and every entry of members
     * who report to it (双报到), oldest id first. Supervisors of the unit read it, as they read the
     * unit's points report; members are named as that report names them.
     */
    async points(principal: Principal, query: PointsLedgerQuery): Promise<Ledger> {
      const [scope, tree] = await Promise.all([deps.scope.resolve(principal), deps.units.get()]);
      const ids = subtreeOf(tree, scope, query.unitId, 'query.unitId');
      const period = resolvePeriod(query, deps.clock());
      const filter = {
        at: { $gte: new Date(period.from), $lt: new Date(period.to) },
        $or: [{ unitId: { $in: ids } }, { homeUnitIds: { $in: ids } }],
      };
      const unit = tree.byId.get(query.unitId)!;
      return {
        fileName: `points-${unit.id}-${period.label}`,
        title: `积分台账-${unit.name}-${period.label}`,
        columns: [
          '记录编号',
          '时间',
          '类型',
          '积分',
          '事由',
          '人员编号',
          '姓名',
          '服务单位',
          '社区',
          '案件编号',
          '任务编号',
          '流程',
        ],
        async *pages() {
          const query = PointsEntry.find(filter, {
            personId: 1,
            kind: 1,
            delta: 1,
            reason: 1,
            unitId: 1,
            communityId: 1,
            caseId: 1,
            taskId: 1,
            definitionKey: 1,
            at: 1,
          })
            .sort({ _id: 1 })
            .lean();
          for await (const docs of byId(query)) {
            const people = await Person.find(
              { _id: { $in: [...new Set(docs.map((d) => d.personId))] } },
              { name: 1 },
            ).lean();
            const names = new Map(people.map((p) => [p._id, p.name]));
            yield docs.map((e) => [
              e._id,
              beijingTime(e.at),
              e.kind,
              e.delta,
              e.reason,
              e.personId,
              names.get(e.personId) ?? null,
              unitName(tree, e.unitId),
              unitName(tree, e.communityId),
              e.caseId ?? null,
              e.taskId ?? null,
              e.definitionKey ?? null,
            ]);
          }
        },
      };
    },

    /**
     * The annual assessment records (年度考核记录) the caller supervises, filtered as the console
     * page lists them, read a page at a time while the file is written.
     */
    assessments(principal: Principal, filter: { year?: number; kind?: AssessmentKind }): Ledger {
      const [header] = assessmentTable([]);
      const suffix = filter.year !== undefined ? `-${filter.year}` : '';
      return {
        fileName: `assessments${suffix}`,
        title: `年度考核记录${suffix}`,
        columns: header!.map((c) => String(c)),
        async *pages() {
          for (let page = 1; ; page++) {
            const { items } = await deps.evaluations.assessments(principal, {
              ...filter,
              page,
              pageSize,
            });
            if (items.length > 0) yield assessmentTable(items).slice(1);
            if (items.length < pageSize) return;
          }
        },
      };
    },

    async evaluationResults(principal: Principal, roundId: string): Promise<Ledger> {
      const results = await deps.evaluations.results(principal, roundId);
      const [header, ...rows] = resultsTable(results);
      return {
        fileName: `evaluation-${roundId}`,
        title: `评单结果-${roundId}`,
        columns: header!.map((c) => String(c)),
        pages: () => onePage(rows),
      };
    },
  };
}

export type LedgerService = ReturnType<typeof createLedgerService>;

// ---------------------------------------------------------------------------------------------
// Writing

/** Resolves once `out` can take more, rejects if it closes or fails first (the client left). */
function drained(out: Writable): Promise<void> {
  if (out.destroyed) return Promise.reject(new Error('the response was closed'));
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('the response was closed before the ledger was written'));
    const onError = (err: Error) => done(err);
    out.on('drain', onDrain);
    out.on('close', onClose);
    out.on('error', onError);
  });
}

async function write(out: Writable, chunk: string): Promise<void> {
  if (out.destroyed) throw new Error('the response was closed before the ledger was written');
  if (!out.write(chunk)) await drained(out);
}

/**
 * The ledger's pages with the first one already read, so a query that fails at once (a bad
 * filter, the database down) fails before anything is written and the caller still answers
 * with a plain error instead of an aborted download.
 */
async function primed(ledger: Ledger): Promise<AsyncIterable<Cell[][]>> {
  const source = ledger.pages();
  const iterator =
    Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  const first = await iterator.next();
  return {
    async *[Symbol.asyncIterator]() {
      if (first.done) return;
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        yield next.value;
      }
    },
  };
}

/** UTF-8 CSV with a byte order mark, CRLF records, cells escaped against formulas. */
export async function writeCsv(ledger: Ledger, out: Writable): Promise<void> {
  const pages = await primed(ledger);
  await write(out, CSV_BOM + csvLine(ledger.columns));
  for await (const page of pages) await write(out, page.map(csvLine).join(''));
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(resolve);
  });
}

/**
 * One XLSX value: text as a string cell (exceljs writes it as an inline string, never a formula)
 * and still escaped as the CSV is, so a cell copied out and pasted stays inert; numbers as numbers.
 */
export function xlsxValue(cell: Cell): string | number | null {
  return typeof cell === 'string' ? safeText(cell) : cell;
}

/**
 * XLSX with exceljs's streaming writer: rows are committed (serialised and dropped) as they are
 * added, no shared strings table (it would grow with the file), no styles; after each page the
 * writer waits for the response to drain, so what is in memory is a page and the zip's buffers.
 */
export async function writeXlsx(ledger: Ledger, out: Writable, sheetName: string): Promise<void> {
  const pages = await primed(ledger);
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useSharedStrings: false,
    useStyles: false,
  });
  const sheet = workbook.addWorksheet(sheetName.slice(0, 31));
  sheet.addRow([...ledger.columns]).commit();
  for await (const page of pages) {
    for (const row of page) sheet.addRow(row.map(xlsxValue)).commit();
    if (out.destroyed) throw new Error('the response was closed before the ledger was written');
    if (out.writableNeedDrain) await drained(out);
  }
  sheet.commit();
  await workbook.commit();
}

export async function writeLedger(
  ledger: Ledger,
  format: LedgerFormat,
  out: Writable,
  sheetName = '台账',
): Promise<void> {
  if (format === 'csv') await writeCsv(ledger, out);
  else await writeXlsx(ledger, out, sheetName);
}

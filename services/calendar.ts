import { randomUUID } from 'node:crypto';
import type { HolidayYearFile } from '../calendars';
import { loadShippedHolidayYears, SHIPPED_CALENDAR_DIR, workingCalendarOf } from '../calendars';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Actor } from '../common/case';
import { CALENDAR_CHANGED_SIGNAL, CASE_WORKFLOW_TYPE } from '../common/case';
import type { Logger } from '../common/logger';
import type { WorkingCalendar, WorkingWindow } from '../common/working-calendar';
import type { Models } from '../models';
import { isDuplicateKeyError } from '../models';
import { AppError } from './errors';

export interface CalendarYearView {
  year: number;
  source: 'shipped' | 'admin';
  papers: string[];
  days: Array<{ date: string; name: string; isOffDay: boolean }>;
  updatedAt: string;
}

/**
 * The working-day calendar as admin data: shipped years seeded at start-up, years added or
 * revised by admins (2027 before the shipped data has it, a mid-year change of 调休).
 */
export function createCalendarService(deps: {
  models: Models;
  clock: () => Date;
  workingWindows?: readonly WorkingWindow[];
  /** Running cases are told of a changed year so their working-time deadlines move with it. */
  temporal?: Client;
  logger?: Logger;
}) {
  /**
   * Tells every running case to recompute its deadlines, in the background: one batch operation
   * on the Temporal server signals them all (durably, at the server's pace), so a county's
   * hundreds of thousands of running cases never hold the admin's request. A server that cannot
   * run batch operations gets the signals from this process instead, one after the other, still
   * after the request has been answered. Returns at once.
   */
  async function tellRunningCases(year: number): Promise<void> {
    const temporal = deps.temporal;
    if (!temporal) return;
    const visibilityQuery = `WorkflowType = '${CASE_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
    try {
      await temporal.workflowService.startBatchOperation({
        namespace: temporal.options.namespace,
        jobId: `calendar-${year}-${randomUUID()}`,
        reason: `calendar year ${year} changed`,
        visibilityQuery,
        signalOperation: { signal: CALENDAR_CHANGED_SIGNAL, identity: 'calendar-service' },
      });
      deps.logger?.info({ year }, 'running cases told of a calendar change (batch operation)');
    } catch (err) {
      deps.logger?.warn(
        { year, err: (err as Error).message },
        'no batch operation for the calendar change; signalling running cases from the API',
      );
      void signalOneByOne(temporal, visibilityQuery).catch((failure: unknown) =>
        deps.logger?.error(
          { year, err: (failure as Error).message },
          'running cases could not all be told of a calendar change',
        ),
      );
    }
  }

  /** The fallback: each running case signalled in turn; one that ended meanwhile is skipped. */
  async function signalOneByOne(temporal: Client, query: string): Promise<void> {
    let signalled = 0;
    for await (const execution of temporal.workflow.list({ query })) {
      try {
        await temporal.workflow.getHandle(execution.workflowId).signal(CALENDAR_CHANGED_SIGNAL);
        signalled++;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    deps.logger?.info({ signalled }, 'running cases told of a calendar change');
  }

  const { CalendarYear } = deps.models;

  return {
    /**
     * Writes the shipped years, updating earlier shipped copies but never a year an admin
     * entered: the filter only matches shipped documents, so an admin year makes the upsert
     * collide on `_id`, which is skipped.
     */
    async seedShippedYears(dir: string = SHIPPED_CALENDAR_DIR): Promise<number[]> {
      const seeded: number[] = [];
      for (const file of loadShippedHolidayYears(dir)) {
        try {
          await CalendarYear.updateOne(
            { _id: String(file.year), source: 'shipped' },
            {
              $set: {
                year: file.year,
                days: file.days,
                papers: file.papers,
                source: 'shipped',
                updatedAt: deps.clock(),
                updatedBy: { kind: 'system', id: 'startup' },
              },
            },
            { upsert: true },
          );
          seeded.push(file.year);
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
        }
      }
      return seeded;
    },

    async listYears(): Promise<CalendarYearView[]> {
      const docs = await CalendarYear.find({}).sort({ year: 1 }).lean();
      return docs.map(viewOf);
    },

    async getYear(year: number): Promise<CalendarYearView> {
      const doc = await CalendarYear.findById(String(year)).lean();
      if (!doc) throw new AppError('not_found', `The calendar has no year ${year}`);
      return viewOf(doc);
    },

    /** Adds or replaces a year as an admin; answers whether it was new. */
    async putYear(
      year: number,
      input: { days: HolidayYearFile['days']; papers: string[] },
      by: Actor,
    ): Promise<{ created: boolean; year: CalendarYearView }> {
      const problems = input.days.flatMap((day, i) =>
        day.date.startsWith(`${year}-`)
          ? []
          : [{ path: `body.days[${i}].date`, message: `${day.date} is not in ${year}` }],
      );
      const seen = new Set<string>();
      input.days.forEach((day, i) => {
        if (seen.has(day.date))
          problems.push({ path: `body.days[${i}].date`, message: `${day.date} is listed twice` });
        seen.add(day.date);
      });
      if (problems.length > 0)
        throw new AppError('unprocessable', `The calendar year ${year} is not valid`, problems);
      const existed = await CalendarYear.exists({ _id: String(year) });
      await CalendarYear.updateOne(
        { _id: String(year) },
        {
          $set: {
            year,
            days: [...input.days].sort((a, b) => (a.date < b.date ? -1 : 1)),
            papers: input.papers,
            source: 'admin',
            updatedAt: deps.clock(),
            updatedBy: by,
          },
        },
        { upsert: true },
      );
      // The year is stored first: a case that misses the signal still plans with it next time.
      await tellRunningCases(year);
      return { created: !existed, year: await this.getYear(year) };
    },

    /** The calendar the SLA clocks compute with: every stored year. */
    async workingCalendar(): Promise<WorkingCalendar> {
      return workingCalendarOf(await CalendarYear.find({}).lean(), deps.workingWindows);
    },
  };
}

export type CalendarService = ReturnType<typeof createCalendarService>;

function viewOf(doc: {
  year: number;
  source: string;
  papers: string[];
  days: Array<{ date: string; name: string; isOffDay: boolean }>;
  updatedAt: Date;
}): CalendarYearView {
  return {
    year: doc.year,
    source: doc.source as 'shipped' | 'admin',
    papers: doc.papers,
    days: doc.days.map((d) => ({ date: d.date, name: d.name, isOffDay: d.isOffDay })),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

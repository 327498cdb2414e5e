import type {
  Client,
  DayOfWeek,
  Month,
  ScheduleOptions,
  ScheduleSpec as TemporalScheduleSpec,
} from '@temporalio/client';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import type { DefinitionSnapshot, ScheduleSpec } from '../lang/definition';
import { isMonthlyPeriod, MONTHS_PER_PERIOD, WEEKDAYS } from '../lang/definition';
import type { Logger } from '../common/logger';
import type { ScheduledCaseInput } from '../workflows/scheduled';

/** The workflow a schedule fire starts (workflows/scheduled.ts); it starts the case. */
const SCHEDULED_CASE_WORKFLOW_TYPE = 'scheduledCaseWorkflow';
/** Every time in a definition is Beijing time. */
export const SCHEDULE_TIMEZONE = 'Asia/Shanghai';
/**
 * A fire missed while Temporal was down is still made up within this window; an older one is
 * skipped (a month-old round started late would only confuse).
 */
const CATCHUP_WINDOW = '1 day';

/** Temporal's weekday names, Monday first as WEEKDAYS. */
const DAYS_OF_WEEK: readonly DayOfWeek[] = [
  'MONDAY',
  'TUESDAY',
  'WEDNESDAY',
  'THURSDAY',
  'FRIDAY',
  'SATURDAY',
  'SUNDAY',
];

/** A schedule's weekday (1–7 from Monday, or its name) as Temporal names it. */
function weekdayOf(weekday: ScheduleSpec['weekday']): DayOfWeek | undefined {
  if (weekday === undefined) return undefined;
  const index = typeof weekday === 'number' ? weekday - 1 : WEEKDAYS.indexOf(weekday);
  return DAYS_OF_WEEK[index];
}

const MONTHS: readonly Month[] = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
];

export type ScheduleSyncResult = 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';

/**
 * One Temporal Schedule per process with a `schedule` (周期性启动: 月排查, 季度走访), kept in step
 * with the latest published version: created or updated when a version is published, deleted
 * when the process is retired or its schedule removed. Each fire starts `scheduledCaseWorkflow`,
 * which starts the case. Schedule ids carry the task queue, so deployments (and test runs)
 * sharing a Temporal namespace keep apart.
 */
export function createScheduleService(deps: {
  temporal: Client;
  taskQueue: string;
  /** The latest published version of a key, or null when it has none (retired, never published). */
  latestSnapshot(key: string): Promise<DefinitionSnapshot | null>;
  logger: Logger;
}) {
  const { temporal, taskQueue } = deps;

  function scheduleId(key: string): string {
    return `definition-${taskQueue}-${key}`;
  }

  /** The options of the schedule of a version; the memo records which version they came from. */
  function optionsOf(snapshot: DefinitionSnapshot, schedule: ScheduleSpec): ScheduleOptions {
    const args: [ScheduledCaseInput] = [{ definitionKey: snapshot.key }];
    return {
      scheduleId: scheduleId(snapshot.key),
      spec: scheduleSpecOf(schedule),
      action: {
        type: 'startWorkflow',
        workflowType: SCHEDULED_CASE_WORKFLOW_TYPE,
        // Temporal appends the fire time: one starter per fire, its case id derived from it.
        workflowId: `schedule-${snapshot.key}`,
        taskQueue,
        args,
        workflowExecutionTimeout: '1 hour',
      },
      policies: {
        // Last month's round may still be open when this month's starts: each is its own case.
        overlap: ScheduleOverlapPolicy.ALLOW_ALL,
        catchupWindow: CATCHUP_WINDOW,
      },
      // What the schedule was made from; sync compares it to tell an unchanged version.
      state: { note: noteOf(snapshot) },
    };
  }

  const service = {
    scheduleId,

    /**
     * Makes the key's schedule match its latest published version: created, updated (only when
     * the version's content changed), or deleted when there is no version or no `schedule`.
     */
    async sync(key: string): Promise<ScheduleSyncResult> {
      const snapshot = await deps.latestSnapshot(key);
      const handle = temporal.schedule.getHandle(scheduleId(key));
      const schedule = snapshot?.spec.schedule;
      if (!snapshot || schedule === undefined) {
        try {
          await handle.delete();
        } catch (err) {
          if (err instanceof ScheduleNotFoundError) return 'absent';
          throw err;
        }
        deps.logger.info({ key }, 'deleted the schedule of a process');
        return 'deleted';
      }
      const options = optionsOf(snapshot, schedule);
      try {
        await temporal.schedule.create(options);
        deps.logger.info({ key, version: snapshot.version }, 'created the schedule of a process');
        return 'created';
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      }
      const current = await handle.describe();
      if (current.state.note === options.state?.note) return 'unchanged';
      await handle.update((previous) => ({
        ...previous,
        spec: options.spec,
        action: options.action,
        policies: { ...previous.policies, ...options.policies },
        state: { ...previous.state, note: options.state?.note },
      }));
      deps.logger.info({ key, version: snapshot.version }, 'updated the schedule of a process');
      return 'updated';
    },

    /** Syncs every key (start-up, after the shipped definitions were published). */
    async syncAll(keys: Iterable<string>): Promise<Map<string, ScheduleSyncResult>> {
      const results = new Map<string, ScheduleSyncResult>();
      for (const key of keys) results.set(key, await service.sync(key));
      return results;
    },
  };
  return service;
}

export type ScheduleService = ReturnType<typeof createScheduleService>;

/** `<name> v<version> <checksum>`: the version a schedule was made from. */
function noteOf(snapshot: DefinitionSnapshot): string {
  return `${snapshot.spec.name} v${snapshot.version} ${snapshot.checksum}`;
}

/**
 * The calendar of a definition's schedule, Beijing time: every day; every week on its weekday;
 * or the `every` period's `month` (a quarter's first month is January, April, July, October; a
 * half-year's January and July) on its `day`, or on its `week`-th `weekday` (the first Wednesday:
 * days 1–7 that are a Wednesday, as a calendar matches only when every field matches).
 */
export function scheduleSpecOf(schedule: ScheduleSpec): TemporalScheduleSpec {
  const [hour, minute] = schedule.at.split(':').map(Number) as [number, number];
  const time = { hour, minute, comment: `every ${schedule.every}` };
  const weekday = weekdayOf(schedule.weekday);
  if (!isMonthlyPeriod(schedule.every)) {
    return {
      calendars: [{ ...(weekday !== undefined ? { dayOfWeek: weekday } : {}), ...time }],
      timezone: SCHEDULE_TIMEZONE,
    };
  }
  const length = MONTHS_PER_PERIOD[schedule.every];
  const offset = (schedule.month ?? 1) - 1;
  const months =
    schedule.every === 'month' ? undefined : MONTHS.filter((_, i) => i % length === offset);
  const days =
    schedule.week !== undefined && weekday !== undefined
      ? {
          dayOfMonth: { start: (schedule.week - 1) * 7 + 1, end: schedule.week * 7 },
          dayOfWeek: weekday,
        }
      : { dayOfMonth: schedule.day ?? 1 };
  return {
    calendars: [{ ...(months !== undefined ? { month: months } : {}), ...days, ...time }],
    timezone: SCHEDULE_TIMEZONE,
  };
}

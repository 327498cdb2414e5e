import type { DeadlineView } from './case';
import type { SlaDuration } from '../lang/duration';
import { parseSlaDuration } from '../lang/duration';
import type { Deadline, WorkingCalendar } from './working-calendar';
import {
  addWorkingDays,
  addWorkingMinutes,
  isWorkingMoment,
  subtractWorkingDays,
  subtractWorkingMinutes,
  workingMinutesBetween,
} from './working-calendar';

/**
 * SLA clocks as pure functions: from a deadline's policy, the instant its clock started, the
 * pauses it went through and the working calendar, the absolute instants of the deadline, its
 * reminders and its escalation levels. The engine calls this in an activity (the calendar is
 * data) and awaits the instants with cancellable timers; recomputing after a pause or a calendar
 * change gives the same answer as if the new facts had been known from the start.
 */

export interface DeadlinePolicy {
  within: string;
  reminders: ReadonlyArray<{ before: string }>;
  escalations: ReadonlyArray<{ after?: string | undefined }>;
}

/** A span during which the clock stood still (the case waited on the requester). */
export interface ClockPause {
  from: string;
  /** Absent while the pause lasts. */
  to?: string;
}

export interface DeadlinePlan {
  /** Null while the clock is paused: nothing is due until it resumes. */
  dueAt: string | null;
  reminders: Array<{ index: number; at: string }>;
  escalations: Array<{ level: number; at: string }>;
  /** Years the calendar lacks and for which a normal week was assumed; recompute once added. */
  assumedYears: number[];
}

export function addSlaDuration(
  calendar: WorkingCalendar,
  start: Date,
  duration: SlaDuration,
): { at: Date; assumedYears: number[] } {
  switch (duration.kind) {
    case 'calendar':
      return { at: new Date(start.getTime() + duration.ms), assumedYears: [] };
    case 'workingMinutes':
      return addWorkingMinutes(calendar, start, duration.minutes);
    case 'workingDays':
      return addWorkingDays(calendar, start, duration.days);
  }
}

/**
 * `end` minus a duration: a reminder `before` a deadline, in calendar time or in working time
 * ("1 working day" before a Tuesday 17:30 deadline is Monday 17:30, never a weekend night).
 */
export function subtractSlaDuration(
  calendar: WorkingCalendar,
  end: Date,
  duration: SlaDuration,
): { at: Date; assumedYears: number[] } {
  switch (duration.kind) {
    case 'calendar':
      return { at: new Date(end.getTime() - duration.ms), assumedYears: [] };
    case 'workingMinutes':
      return subtractWorkingMinutes(calendar, end, duration.minutes);
    case 'workingDays':
      return subtractWorkingDays(calendar, end, duration.days);
  }
}

const MINUTE_MS = 60_000;

/**
 * `start` plus `ms` of working time, to the millisecond. Pauses begin and end at any instant, so
 * the working time left rarely is a whole number of minutes, which is all `addWorkingMinutes`
 * counts. Windows open and close on whole minutes: count whole minutes from the start's minute,
 * up to the end of the minute that holds the remainder, and step back inside it.
 */
function addWorkingMs(calendar: WorkingCalendar, start: Date, ms: number): Deadline {
  let from = start.getTime();
  let total = ms;
  const offset = from % MINUTE_MS;
  if (offset !== 0 && isWorkingMoment(calendar, start)) {
    from -= offset;
    total += offset;
  }
  const whole = Math.floor(total / MINUTE_MS);
  const rest = total - whole * MINUTE_MS;
  if (rest === 0) return addWorkingMinutes(calendar, new Date(from), whole);
  const end = addWorkingMinutes(calendar, new Date(from), whole + 1);
  return { at: new Date(end.at.getTime() - (MINUTE_MS - rest)), assumedYears: end.assumedYears };
}

/**
 * `at` as a clock of `kind` reaches it when it stood still over `pause`: a calendar clock adds the
 * time paused; a working clock keeps the working time that was left when it stopped and counts it
 * again from the resumption (a working-days instant stays an opening, never the close before it).
 */
function resumedAfter(
  calendar: WorkingCalendar,
  kind: SlaDuration['kind'],
  at: Date,
  pause: { from: Date; to: Date },
): Deadline {
  if (kind === 'calendar') {
    return {
      at: new Date(at.getTime() + Math.max(0, pause.to.getTime() - pause.from.getTime())),
      assumedYears: [],
    };
  }
  const left = Math.round(workingMinutesBetween(calendar, pause.from, at) * MINUTE_MS);
  const resumed = addWorkingMs(calendar, pause.to, left);
  if (kind !== 'workingDays') return resumed;
  // Working time that runs out at a closing time runs out at the next opening as well.
  const opening = addWorkingMinutes(calendar, resumed.at, 0);
  return { at: opening.at, assumedYears: [...resumed.assumedYears, ...opening.assumedYears] };
}

export function planDeadline(
  calendar: WorkingCalendar,
  policy: DeadlinePolicy,
  startedAt: string,
  pauses: readonly ClockPause[] = [],
): DeadlinePlan {
  const within = parseSlaDuration(policy.within);
  const assumed = new Set<number>();
  const first = addSlaDuration(calendar, new Date(startedAt), within);
  first.assumedYears.forEach((y) => assumed.add(y));
  // While the clock stands still nothing is due, before the deadline or after it was missed: the
  // rest of the ladder waits for the resumption.
  if (pauses.some((p) => p.to === undefined)) {
    return { dueAt: null, reminders: [], escalations: [], assumedYears: [...assumed].sort() };
  }
  const spans = [...pauses]
    .sort((a, b) => a.from.localeCompare(b.from))
    .map((p) => ({ from: new Date(p.from), to: new Date(p.to!) }));
  let due = first.at;
  let firstAfterDue = spans.length;
  for (const [i, pause] of spans.entries()) {
    if (pause.from.getTime() >= due.getTime()) {
      // Paused after it was already due (missed): the deadline stays, later levels move. Pauses
      // are sorted and the deadline no longer moves, so every later pause is after it too.
      firstAfterDue = i;
      break;
    }
    const resumed = resumedAfter(calendar, within.kind, due, pause);
    resumed.assumedYears.forEach((y) => assumed.add(y));
    due = resumed.at;
  }
  const afterDue = spans.slice(firstAfterDue);
  const reminders = policy.reminders.map((r, index) => {
    const at = subtractSlaDuration(calendar, due, parseSlaDuration(r.before));
    at.assumedYears.forEach((y) => assumed.add(y));
    return { index, at: at.at.toISOString() };
  });
  const escalations = policy.escalations.map((e, i) => {
    if (e.after === undefined) return { level: i + 1, at: due.toISOString() };
    const after = parseSlaDuration(e.after);
    const level = addSlaDuration(calendar, due, after);
    level.assumedYears.forEach((y) => assumed.add(y));
    let at = level.at;
    // A level still to come when the clock stopped after the miss comes that much later.
    for (const pause of afterDue) {
      if (pause.from.getTime() >= at.getTime()) break;
      const resumed = resumedAfter(calendar, after.kind, at, pause);
      resumed.assumedYears.forEach((y) => assumed.add(y));
      at = resumed.at;
    }
    return { level: i + 1, at: at.toISOString() };
  });
  return { dueAt: due.toISOString(), reminders, escalations, assumedYears: [...assumed].sort() };
}

/** The earliest instant a running clock is due (a paused one has none), for work-list order. */
export function earliestDue(deadlines: readonly DeadlineView[]): string | null {
  const running = deadlines.flatMap((d) => (!d.stopped && d.dueAt !== null ? [d.dueAt] : []));
  return running.sort()[0] ?? null;
}

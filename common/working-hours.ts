import { minuteOfDay } from './duty-rota';
import type { WorkingWindow } from './working-calendar';

/**
 * A unit's own working hours (per-unit 工作时间: Binzhou's evening service 晚间四小时, a station open
 * 365 days): windows `HH:MM`–`HH:MM` in Beijing time, and whether every day is a working day.
 * Inherited down the org tree; working-time deadlines of a step count in the hours of the unit
 * the step runs for (activities/lookups.ts `planDeadline`).
 */
export interface WorkingHours {
  windows: ReadonlyArray<{ start: string; end: string }>;
  everyDay: boolean;
}

/** `HH:MM` windows as the working calendar counts them (minutes after midnight). */
export function windowsInMinutes(
  windows: ReadonlyArray<{ start: string; end: string }>,
): WorkingWindow[] {
  return windows.map((w) => ({ start: minuteOfDay(w.start) ?? -1, end: minuteOfDay(w.end) ?? -1 }));
}

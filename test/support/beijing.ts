/** Beijing wall-clock time in tests: all SLA arithmetic is in UTC+8 without daylight saving. */

const BEIJING_OFFSET_MS = 8 * 3600_000;

/** The instant of a Beijing wall-clock time, e.g. `bj('2025-09-30 10:00')`. */
export function bj(text: string): Date {
  return new Date(`${text.replace(' ', 'T')}:00+08:00`);
}

/** An instant as Beijing wall-clock text to the minute, e.g. `2025-10-11 10:00`. */
export function beijingText(instant: Date | string | number): string {
  const ms = new Date(instant).getTime() + BEIJING_OFFSET_MS;
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

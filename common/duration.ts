/**
 * Calendar-time durations in the ISO 8601 form used by definitions (`PT5M`, `PT3H`, `P2D`,
 * `P1W`, `P1DT12H`). Pure and dependency-free so both the validator and workflow code use it.
 * Working-time durations (working days and hours) are a separate kind, see the engine docs.
 */
const ISO_DURATION =
  /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export class DurationSyntaxError extends Error {
  constructor(readonly input: string) {
    super(`"${input}" is not an ISO 8601 duration such as PT5M, PT3H, P2D or P1DT12H`);
    this.name = 'DurationSyntaxError';
  }
}

/** Milliseconds in an ISO 8601 duration; throws {@link DurationSyntaxError} on bad syntax. */
export function parseDurationMs(input: string): number {
  const match = ISO_DURATION.exec(input);
  if (!match || input === 'P' || input.endsWith('T')) throw new DurationSyntaxError(input);
  const [, weeks, days, hours, minutes, seconds] = match;
  const total =
    Number(weeks ?? 0) * 7 * DAY +
    Number(days ?? 0) * DAY +
    Number(hours ?? 0) * HOUR +
    Number(minutes ?? 0) * MINUTE +
    Math.round(Number(seconds ?? 0) * SECOND);
  if (total <= 0) throw new DurationSyntaxError(input);
  return total;
}

export function isDuration(input: string): boolean {
  try {
    parseDurationMs(input);
    return true;
  } catch {
    return false;
  }
}

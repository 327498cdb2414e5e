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

/**
 * Why an ISO 8601 duration with months or years (`P1M`, `P1Y`, `P1Y2M`) is refused, or '' for any
 * other text: appended to the syntax errors so the writer learns what to write instead.
 */
export function monthsHint(input: unknown): string {
  if (
    typeof input !== 'string' ||
    !/^P(?:\d+Y)?(?:\d+M)?(?:\d+[WD])*(?:T.*)?$/.test(input.trim())
  ) {
    return '';
  }
  if (!/^P(?:\d+Y|(?:\d+Y)?\d+M)/.test(input.trim())) return '';
  return (
    '; months and years are not supported as durations, because their length varies: ' +
    'write days (P30D) or working days ("20 working days"), or start monthly rounds with a schedule'
  );
}

export class DurationSyntaxError extends Error {
  constructor(readonly input: string) {
    super(
      `"${input}" is not an ISO 8601 duration such as PT5M, PT3H, P2D or P1DT12H${monthsHint(input)}`,
    );
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
  return parses(parseDurationMs, input);
}

function parses(parse: (input: string) => unknown, input: string): boolean {
  try {
    parse(input);
    return true;
  } catch {
    return false;
  }
}

/**
 * An SLA duration: calendar time (ISO 8601, as in the 54321 policy's 5 minutes, 40 minutes and
 * 3 hours), working minutes, or working days. "1 working day" and "8 working hours" stay distinct:
 * the first is the same time on the next working day, the second counts office minutes.
 */
export type SlaDuration =
  | { kind: 'calendar'; ms: number }
  | { kind: 'workingMinutes'; minutes: number }
  | { kind: 'workingDays'; days: number };

const WORKING =
  /^(\d{1,4})\s*(?:working\s+(day|days|hour|hours|minute|minutes)|(个工作日|工作日|工作小时|个工作小时|工作分钟))$/;

export class SlaDurationSyntaxError extends Error {
  constructor(readonly input: string) {
    super(
      `"${input}" is not a duration: use ISO 8601 for calendar time (PT40M, PT3H, P2D) or ` +
        '"N working days", "N working hours", "N working minutes" (also 5个工作日, 8工作小时)' +
        monthsHint(input),
    );
    this.name = 'SlaDurationSyntaxError';
  }
}

/** Parses an SLA duration; throws {@link SlaDurationSyntaxError} naming the accepted forms. */
export function parseSlaDuration(input: string): SlaDuration {
  const text = input.trim();
  if (text.startsWith('P')) {
    try {
      return { kind: 'calendar', ms: parseDurationMs(text) };
    } catch {
      throw new SlaDurationSyntaxError(input);
    }
  }
  const match = WORKING.exec(text);
  const amount = Number(match?.[1]);
  if (!match || amount <= 0) throw new SlaDurationSyntaxError(input);
  const unit = match[2] ?? match[3]!;
  if (unit.startsWith('day') || unit.endsWith('日')) return { kind: 'workingDays', days: amount };
  if (unit.startsWith('hour') || unit.endsWith('小时')) {
    return { kind: 'workingMinutes', minutes: amount * 60 };
  }
  return { kind: 'workingMinutes', minutes: amount };
}

export function isSlaDuration(input: string): boolean {
  return parses(parseSlaDuration, input);
}

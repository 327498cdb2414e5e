import { BEIJING_OFFSET_MS } from '../lang/beijing';
import { AppError } from './errors';

/**
 * Reporting periods as the API takes them (`2026-H1`, or a from/to pair of Beijing days or
 * instants) resolved to absolute instants: shared by the metrics and the points rankings.
 */

export interface PeriodInput {
  /** `2026`, `2026-H1`, `2026-Q3` or `2026-05` (Beijing time). */
  period?: string;
  /** A day (Beijing time, inclusive) or an instant; with `to`. */
  from?: string;
  /** A day (Beijing time, inclusive) or an instant (exclusive). */
  to?: string;
}

export interface Period {
  from: string;
  to: string;
  label: string;
}

const PERIOD = /^(\d{4})(?:-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** The longest period one request may cover: four years. */
const MAX_PERIOD_MS = 4 * 366 * 86_400_000;

/** A Beijing calendar period as absolute instants, `to` exclusive. */
export function resolvePeriod(input: PeriodInput, now: Date): Period {
  if (input.period !== undefined && (input.from !== undefined || input.to !== undefined)) {
    throw new AppError('invalid_request', 'Give either period or from/to, not both', [
      { path: 'query.period', message: 'not with from/to' },
    ]);
  }
  if (input.from !== undefined || input.to !== undefined) {
    if (input.from === undefined || input.to === undefined) {
      throw new AppError('invalid_request', 'from and to go together', [
        { path: input.from === undefined ? 'query.from' : 'query.to', message: 'required' },
      ]);
    }
    const from = instantOf(input.from, 'from', false);
    const to = instantOf(input.to, 'to', true);
    if (to <= from) {
      throw new AppError('invalid_request', 'to must be after from', [
        { path: 'query.to', message: 'must be after from' },
      ]);
    }
    if (to - from > MAX_PERIOD_MS) {
      throw new AppError('invalid_request', 'A period may cover four years at most', [
        { path: 'query.to', message: 'at most four years after from' },
      ]);
    }
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      label: `${input.from}/${input.to}`,
    };
  }
  const label = input.period ?? currentHalfYear(now);
  const match = PERIOD.exec(label);
  if (!match) {
    throw new AppError('invalid_request', `Unknown period "${label}"`, [
      {
        path: 'query.period',
        message: 'a year (2026), half (2026-H1), quarter (2026-Q3) or month (2026-05)',
      },
    ]);
  }
  const year = Number(match[1]);
  const part = match[2];
  let firstMonth = 0;
  let months = 12;
  if (part?.startsWith('H')) [firstMonth, months] = [(Number(part[1]) - 1) * 6, 6];
  else if (part?.startsWith('Q')) [firstMonth, months] = [(Number(part[1]) - 1) * 3, 3];
  else if (part !== undefined) [firstMonth, months] = [Number(part) - 1, 1];
  const from = Date.UTC(year, firstMonth, 1) - BEIJING_OFFSET_MS;
  const to = Date.UTC(year, firstMonth + months, 1) - BEIJING_OFFSET_MS;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), label };
}

function currentHalfYear(now: Date): string {
  const beijing = new Date(now.getTime() + BEIJING_OFFSET_MS);
  return `${beijing.getUTCFullYear()}-H${beijing.getUTCMonth() < 6 ? 1 : 2}`;
}

/**
 * A bound given as a Beijing day (`2026-05-01`: its midnight, or the next midnight when `endOfDay`,
 * so a day given as `to` is included) or an ISO 8601 instant (taken as is); 400 naming `name`.
 */
export function instantOf(text: string, name: 'from' | 'to', endOfDay: boolean): number {
  if (DAY.test(text)) {
    const [y, m, d] = text.split('-').map(Number) as [number, number, number];
    const start = Date.UTC(y, m - 1, d) - BEIJING_OFFSET_MS;
    const check = new Date(start + BEIJING_OFFSET_MS);
    if (check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) {
      throw new AppError('invalid_request', `No such day: ${text}`, [
        { path: `query.${name}`, message: 'not a calendar day' },
      ]);
    }
    // A day given as `to` is included: the period ends at the next midnight.
    return endOfDay ? start + 86_400_000 : start;
  }
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/T/.test(text)) {
    throw new AppError('invalid_request', `${name} must be a day (2026-05-01) or an instant`, [
      { path: `query.${name}`, message: 'a day such as 2026-05-01 or an ISO 8601 instant' },
    ]);
  }
  return at;
}

/**
 * A `{ $gte, $lt }` range for `from`/`to` bounds (see {@link instantOf}), or undefined when
 * neither is given; 400 when `to` is not after `from`. The case and supervision lists filter by it.
 */
export function rangeOfBounds(bounds: {
  from?: string;
  to?: string;
}): { $gte?: Date; $lt?: Date } | undefined {
  const range: { $gte?: Date; $lt?: Date } = {};
  if (bounds.from !== undefined) range.$gte = new Date(instantOf(bounds.from, 'from', false));
  if (bounds.to !== undefined) range.$lt = new Date(instantOf(bounds.to, 'to', true));
  if (range.$gte && range.$lt && range.$lt <= range.$gte) {
    throw new AppError('invalid_request', 'to must be after from', [
      { path: 'query.to', message: 'must be after from' },
    ]);
  }
  return Object.keys(range).length > 0 ? range : undefined;
}

import type { CheckInSpec, StepSpec } from './definition';

/**
 * Location check-ins (签到): what a step asks for, and the arithmetic that judges a position
 * against the case's place. Pure and sandbox-safe: the API service checks and measures a
 * check-in before it reaches the workflow, whose task validator asks `checkInRuleOf` whether the
 * step needs one.
 */

/** A step's check-in rule, whichever way the definition wrote it. */
export interface CheckInRule {
  required: boolean;
  /** Metres from the case's place that still count as on site; null: no limit. */
  withinMeters: number | null;
}

/** The rule of a task or roll-call step that asks for a check-in; null for any other step. */
export function checkInRuleOf(step: StepSpec): CheckInRule | null {
  if (step.type !== 'task' && step.type !== 'claim') return null;
  return ruleOf(step.checkIn);
}

export function ruleOf(spec: CheckInSpec | undefined): CheckInRule | null {
  if (spec === undefined) return null;
  if (typeof spec === 'string') return { required: spec === 'required', withinMeters: null };
  return { required: spec.mode === 'required', withinMeters: spec.withinMeters };
}

/**
 * Bounds of a position a phone sends (chosen). Accuracy is the radius the browser reports
 * (`coords.accuracy`, metres, 68% confidence): past 1,000 m the fix is a cell tower's or an IP
 * address's guess, which says nothing about being on site, so it is refused and the person asked
 * to try again in the open. The fix's time may lie 5 minutes ahead (a phone's clock drifts) and
 * an hour behind (the page was open a while before the form was sent); older is stale.
 */
export const CHECK_IN_BOUNDS = {
  maxAccuracyMeters: 1_000,
  maxAheadMs: 5 * 60_000,
  maxAgeMs: 60 * 60_000,
} as const;

export interface Position {
  lat: number;
  lng: number;
}

/** Mean Earth radius (IUGG), metres. */
const EARTH_RADIUS_M = 6_371_008.8;

/**
 * The great-circle distance in whole metres (haversine). WGS-84 as browsers report it; a place
 * stored in GCJ-02 (the coordinates Chinese map services show) is 100–700 m off: store WGS-84.
 */
export function distanceMeters(a: Position, b: Position): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return Math.round(2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h))));
}

/**
 * How a check-in stands against the case's place: the distance, and with a limit whether it lies
 * within it. The fix counts as within when its distance is at most the limit: its accuracy is
 * recorded beside it for whoever reviews a flag, not subtracted (a wide fix would otherwise pass
 * any limit).
 */
export function judgeCheckIn(
  position: Position,
  place: Position | null,
  withinMeters: number | null,
): { distance: number | null; within: boolean | null } {
  if (place === null) return { distance: null, within: null };
  const distance = distanceMeters(position, place);
  return { distance, within: withinMeters === null ? null : distance <= withinMeters };
}

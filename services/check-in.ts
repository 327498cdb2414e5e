import { z } from 'zod';
import type { CheckInRecord } from '../common/case';
import type { CheckInRule, Position } from '../lang/check-in';
import { CHECK_IN_BOUNDS, judgeCheckIn } from '../lang/check-in';
import type { Models } from '../models';
import { AppError } from './errors';
import { unitLocationInput } from './org-input';

/**
 * Location check-ins (签到) as the API and the console take them: the phone's position checked
 * against its bounds, then measured against the case's place. Positions are personal data: they
 * go to the workflow (whose history the payload codec encrypts) and the task or roster entry,
 * never into logs, search attributes or the timeline (which carries the distance only).
 */

/**
 * A check-in as a phone sends it: `navigator.geolocation`'s coords (WGS-84, the same ranges as a
 * unit's location) and timestamp.
 */
export const checkInInput = unitLocationInput
  .extend({
    accuracy: z
      .number()
      .min(0, 'metres, not negative')
      .max(
        CHECK_IN_BOUNDS.maxAccuracyMeters,
        `at most ${CHECK_IN_BOUNDS.maxAccuracyMeters} m: the position is too imprecise to show you are on site; check in again in the open`,
      ),
    /** When the phone took the fix; default: when the request arrived. */
    at: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type CheckInInput = z.infer<typeof checkInInput>;

/**
 * The nearest place up the tree from a unit: its own location, else its parent's, and so on
 * (a building without one is measured against its compound). Lookups by `_id`, at most 16.
 */
export async function placeOf(
  models: Pick<Models, 'Unit'>,
  unitId: string | null,
): Promise<{ unitId: string; position: Position } | null> {
  const seen = new Set<string>();
  for (let cursor = unitId; cursor !== null && !seen.has(cursor) && seen.size < 16;) {
    seen.add(cursor);
    const unit = await models.Unit.findById(cursor, { parentId: 1, location: 1 }).lean();
    if (!unit) return null;
    const location = unit.location as { lat?: unknown; lng?: unknown } | null | undefined;
    if (typeof location?.lat === 'number' && typeof location.lng === 'number') {
      return { unitId: cursor, position: { lat: location.lat, lng: location.lng } };
    }
    cursor = unit.parentId ?? null;
  }
  return null;
}

/**
 * A check-in checked (shape and bounds, 422 naming the field under `path`) and measured against
 * the case's place under the step's rule. Its time must be at most 5 minutes ahead of `now` and
 * an hour behind (CHECK_IN_BOUNDS).
 */
export async function measureCheckIn(
  models: Pick<Models, 'Unit'>,
  input: unknown,
  rule: CheckInRule,
  caseUnitId: string | null,
  now: Date,
  path = 'body.checkIn',
): Promise<CheckInRecord> {
  const parsed = checkInInput.safeParse(input);
  if (!parsed.success) {
    throw new AppError(
      'unprocessable',
      'The check-in is not valid',
      parsed.error.issues.map((issue) => ({
        path: [path, ...issue.path.map(String)].join('.'),
        message: issue.message,
      })),
    );
  }
  const { lat, lng, accuracy } = parsed.data;
  const at = parsed.data.at === undefined ? now : new Date(parsed.data.at);
  const ahead = at.getTime() - now.getTime();
  if (ahead > CHECK_IN_BOUNDS.maxAheadMs || -ahead > CHECK_IN_BOUNDS.maxAgeMs) {
    throw new AppError('unprocessable', 'The check-in is not valid', [
      {
        path: `${path}.at`,
        message:
          ahead > 0
            ? "lies in the future: check the phone's clock"
            : 'the position is more than an hour old: check in again',
      },
    ]);
  }
  const place = await placeOf(models, caseUnitId);
  const judged = judgeCheckIn({ lat, lng }, place?.position ?? null, rule.withinMeters);
  return {
    lat,
    lng,
    accuracy: Math.round(accuracy),
    at: at.toISOString(),
    placeUnitId: place?.unitId ?? null,
    distance: judged.distance,
    limit: rule.withinMeters,
    within: judged.within,
  };
}

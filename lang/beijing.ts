/**
 * China Standard Time: UTC+8 all year (no daylight saving), so Beijing dates and times are the
 * instant shifted by eight hours. One constant for every module that reads local dates (working
 * time, expressions, metrics periods, the demo's history); pure, so workflows may import it.
 */
export const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** The same offset as ISO 8601 writes it after a local time: `+08:00`. */
export const BEIJING_ISO_OFFSET = isoOffsetOf(BEIJING_OFFSET_MS);

function isoOffsetOf(offsetMs: number): string {
  const minutes = Math.abs(offsetMs) / 60_000;
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${offsetMs < 0 ? '-' : '+'}${hh}:${mm}`;
}

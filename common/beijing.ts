/**
 * China Standard Time: UTC+8 all year (no daylight saving), so Beijing dates and times are the
 * instant shifted by eight hours. One constant for every module that reads local dates (working
 * time, expressions, metrics periods, the demo's history); pure, so workflows may import it.
 */
export const BEIJING_OFFSET_MS = 8 * 3_600_000;

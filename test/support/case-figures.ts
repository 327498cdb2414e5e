import type { CaseMetrics } from '../../common/case';
import { METRIC_FIELDS } from '../../common/case-measures';

/** Every metric figure of a case, by field. */
export type CaseFlags = Record<(typeof METRIC_FIELDS)[number], number>;

/** A case document's figures with the zeros filled in (the projection leaves zeros out). */
export function flagsOf(doc: unknown): CaseFlags {
  const zeros = Object.fromEntries(METRIC_FIELDS.map((f) => [f, 0])) as CaseFlags;
  return { ...zeros, ...(doc as { metrics?: Partial<CaseMetrics> }).metrics };
}

/** The figures of several cases added up, as the metrics service sums them per unit. */
export function summedFlags(cases: readonly CaseFlags[]): CaseFlags {
  const sums = flagsOf({});
  for (const flags of cases) for (const f of METRIC_FIELDS) sums[f] += flags[f];
  return sums;
}

import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { CaseMetrics, TimelineEntry } from '../../common/case';
import { METRIC_FIELDS, measureTimeline, storedMetrics } from '../../common/case-measures';
import type { MeasuresSpec } from '../../lang/definition';
import type { RunningCase, SlaTestBed } from './sla-cases';
import { runHistories } from './sla-cases';
import { testDataConverter, testStack } from './test-stack';

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

/**
 * A finished case after a replay: every run of its history replayed on today's interpreter (a
 * non-deterministic change fails here), and its figures recomputed from its stored timeline with
 * the definition's `measures`, as an import or a re-projection would compute them. The test
 * asserts these equal the figures the running workflow stored. Not for dispute processes: their
 * 化解率 figures come from the case's form data, which a timeline does not carry.
 */
export async function replayedFlags(
  bed: SlaTestBed,
  kase: RunningCase,
  measures: MeasuresSpec | undefined,
): Promise<CaseFlags> {
  const { firstExecutionRunId } = kase.handle as WorkflowHandleWithFirstExecutionRunId;
  for (const history of await runHistories(bed, kase.caseId, firstExecutionRunId)) {
    await Worker.runReplayHistory(
      {
        workflowBundle: { codePath: testStack().workflowBundlePath },
        dataConverter: testDataConverter(),
      },
      history,
      kase.caseId,
    );
  }
  const { timeline } = await kase.doc();
  const observed = timeline.map((entry) => ({
    // The stored entries are the interpreter's own, typed loosely by the test's CaseDoc.
    type: entry.type as TimelineEntry['type'],
    // Stored as a Date; the measures read the ISO text the interpreter recorded.
    at: new Date(entry.at).toISOString(),
    stepId: entry.stepId ?? undefined,
    detail: entry.detail ?? undefined,
  }));
  return flagsOf({ metrics: storedMetrics(measureTimeline(observed, measures)) });
}

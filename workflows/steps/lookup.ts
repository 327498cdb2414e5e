import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { CaseActivities } from '../../activities';
import type { LookupStepSpec } from '../../lang/definition';
import { evaluateValue } from '../../lang/expression';
import { lookupYear } from '../../lang/lookup';
import { ENGINE } from '../projection';
import type { CaseRun } from '../run';
import { appliesSince2026_11, CHANGES_SINCE_2026_11 } from '../patches';
import { closeCase } from './end';

/**
 * The `lookup` step (读取登记数据): one activity reads the step's source for the case's unit
 * (activities/dual-report-members.ts, activities/open-items.ts, activities/secretary-record.ts) and `steps.<id>` holds what it
 * found (lang/lookup.ts), at
 * most `max` people (500 at most: the result is recorded in the case's history). More, a period
 * that is not a year, or a case without a unit fail the case, said on its timeline.
 */

/** Reading a community's year of registrations and ledger takes seconds; retried, as every read. */
const reads = proxyActivities<CaseActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function runLookup(run: CaseRun, step: LookupStepSpec): Promise<void> {
  const refuse = async (detail: Record<string, string | number>, message: string) => {
    run.projection.record('lookup.refused', ENGINE, step.id, { source: step.source, ...detail });
    await closeCase(run, step.id, 'failed');
    throw ApplicationFailure.nonRetryable(message, 'LookupRefused');
  };
  if (!appliesSince2026_11(CHANGES_SINCE_2026_11.lookupStep)) {
    // Never on a first run; a history recorded without the step cannot reach it.
    await refuse({ reason: 'interpreter' }, `Step "${step.id}" needs a newer interpreter`);
  }
  if (step.source === 'open-items') {
    await readOpenItems(run, step, refuse);
    return;
  }
  if (step.source === 'secretary-record') {
    await readSecretaryRecord(run, step, refuse);
    return;
  }
  const year = lookupYear(
    step.period === undefined ? null : evaluateValue(step.period, run.expressionScope()),
  );
  if (year === null) {
    await refuse(
      { reason: 'period' },
      `Step "${step.id}": period must give a year, a whole number from 2000 to 2100`,
    );
    return;
  }
  const read = await reads.readDualReportMembers({
    caseId: run.caseId,
    unitId: run.caseUnitId,
    year,
    max: step.max,
  });
  if (read.refused) {
    const messages = {
      'no-unit': `Step "${step.id}" reads the members of the case's unit, and the case has none`,
      'too-many-members': `Step "${step.id}" found ${read.count} members, more than its max ${step.max}: read per smaller unit`,
      'too-many-entries': `Step "${step.id}" found more ledger entries than one lookup adds up: read per smaller unit`,
      'too-many-registrations': `Step "${step.id}" found more than ${read.count} registrations: read per smaller unit`,
    } as const;
    await refuse({ reason: read.reason, count: read.count }, messages[read.reason]);
    return;
  }
  const { result } = read;
  // Counts only on the timeline: who was found is in `steps.<id>`, not in the case's entries.
  run.projection.record('lookup.read', ENGINE, step.id, {
    source: step.source,
    period: year,
    count: result.count,
    points: result.points,
  });
  run.steps[step.id] = { ...result };
}

/**
 * `open-items`: the unclaimed demands and overdue cases of the case's unit's subtree. No period
 * (what is open now); the counts only on the timeline.
 */
async function readOpenItems(
  run: CaseRun,
  step: LookupStepSpec,
  refuse: (detail: Record<string, string | number>, message: string) => Promise<void>,
): Promise<void> {
  const read = await reads.readOpenItems({
    caseId: run.caseId,
    unitId: run.caseUnitId,
    // The workflow's clock, not the worker's: the days are the ones the case lived.
    at: new Date(Date.now()).toISOString(),
  });
  if (read.refused) {
    const messages = {
      'no-unit': `Step "${step.id}" reads the open items of the case's unit, and the case has none`,
      'too-many-units': `Step "${step.id}" would read ${read.count} units one by one: start the case for a street or a community`,
      'too-many-items': `Step "${step.id}" found more than ${read.count} open items in one unit: read per smaller unit`,
    } as const;
    await refuse({ reason: read.reason, count: read.count }, messages[read.reason]);
    return;
  }
  const { result } = read;
  run.projection.record('lookup.read', ENGINE, step.id, {
    source: step.source,
    count: result.count,
    unclaimed: result.unclaimed,
    overdue: result.overdue,
  });
  run.steps[step.id] = { ...result };
}

/**
 * `secretary-record`: the unit's latest (or the year's) 评单 result and secretary project. The
 * period and the unit are optional; what was found and what is missing, never a name, on the
 * timeline.
 */
async function readSecretaryRecord(
  run: CaseRun,
  step: LookupStepSpec,
  refuse: (detail: Record<string, string | number>, message: string) => Promise<void>,
): Promise<void> {
  const scope = run.expressionScope();
  let year: number | null = null;
  if (step.period !== undefined) {
    year = lookupYear(evaluateValue(step.period, scope));
    if (year === null) {
      await refuse(
        { reason: 'period' },
        `Step "${step.id}": period must give a year, a whole number from 2000 to 2100`,
      );
      return;
    }
  }
  let unitId: string | null = null;
  if (step.unit !== undefined) {
    const given = evaluateValue(step.unit, scope);
    if (typeof given !== 'string' || given === '') {
      await refuse({ reason: 'unit' }, `Step "${step.id}": unit must give a unit id`);
      return;
    }
    unitId = given;
  }
  const read = await reads.readSecretaryRecord({
    caseId: run.caseId,
    caseUnitId: run.caseUnitId,
    unitId,
    year,
  });
  if (read.refused) {
    const messages = {
      'no-unit': `Step "${step.id}" reads the records of the case's unit, and the case has none`,
      unit: `Step "${step.id}": unit "${unitId ?? ''}" is not the case's unit or a unit under it`,
    } as const;
    await refuse({ reason: read.reason }, messages[read.reason]);
    return;
  }
  const { result } = read;
  run.projection.record('lookup.read', ENGINE, step.id, {
    source: step.source,
    unit: result.unit,
    ...(result.period !== null ? { period: result.period } : {}),
    round: result.round ?? '',
    project: result.project ?? '',
    missing: result.missing.join(','),
  });
  run.steps[step.id] = { ...result };
}

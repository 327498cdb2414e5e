import {
  ApplicationFailure,
  executeChild,
  ParentClosePolicy,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import { CASE_WORKFLOW_TYPE } from '../common/case';
import type { UnitType } from '../lang/vocabulary';
import { unitTypesOf } from '../lang/vocabulary';
import { withInputDefaults } from '../lang/case-data';
import { caseStartOf } from '../common/case-start';
import type { FanOutBatchInput, FanOutChildEnd } from './fan-out-batch';
import { compactSlice, FAN_OUT_BATCH_TYPE, fanOutSlices } from './fan-out-batch';
import { lookups } from './stubs';
import { compactsFanOutSlices } from './patches';

/** What a process's Temporal Schedule starts at each fire: the process to start a case of. */
export interface ScheduledCaseInput {
  definitionKey: string;
}

export interface ScheduledCaseResult {
  /** The fire's case; with `unitsOfType`, the first unit's. */
  caseId: string;
  /** False when this fire's case had already been started (a retried or replayed fire). */
  created: boolean;
  /** With `unitsOfType`: every unit's case, type by type in its order, each in unit id order. */
  units?: Array<{ unitId: string; caseId: string }>;
}

/**
 * The most units one fire of a `unitsOfType` schedule starts cases for (chosen: Hanzhong's 4,400
 * grids fit; a schedule over a larger set is refused at the fire, named, never cut short).
 */
const MAX_SCHEDULED_UNITS = 5_000;

/**
 * Cases one fire starts itself, in one workflow task; more go through fan-out batch workflows of
 * this many each (chosen, as the sub-process step's slices: pending children stay far below the
 * server's 2,000 per execution and no history holds more than a slice's start commands).
 */
const SCHEDULED_SLICE = 250;

/** Set by Temporal on every workflow a schedule starts: the instant the fire was due. */
const SCHEDULED_START_TIME = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

export const SCHEDULED_CASE_WORKFLOW_TYPE = 'scheduledCaseWorkflow';

/** Who starts scheduled cases: the engine's schedule, never a person. */
export const SCHEDULE_ACTOR = { kind: 'system', id: 'schedule', roles: ['system'] } as const;

/**
 * One fire of a process's schedule (周期性启动). A Temporal Schedule names its workflows
 * `<schedule's workflow id>-<fire time>`, which is no case id (`case-` and 24 hex digits, what
 * the API accepts and tasks are named after), so the schedule starts this small workflow and it
 * starts the case: the interpreter workflow, with the input, memo and search attributes the
 * cases service gives a case (channel `schedule`), under an id derived from the fire. The same
 * fire always gives the same case id, so a fire run twice never files two cases. It loads the
 * latest published version when it fires (as a sub-process step does) and takes the unit and
 * data from that version's `schedule`.
 */
export async function scheduledCaseWorkflow(
  input: ScheduledCaseInput,
): Promise<ScheduledCaseResult> {
  const info = workflowInfo();
  const caseId = scheduledCaseId(info.workflowId);
  const definition = await lookups.loadDefinition(input.definitionKey);
  const schedule = definition.spec.schedule;
  if (schedule === undefined) {
    throw ApplicationFailure.nonRetryable(
      `Process "${definition.key}" version ${definition.version} has no schedule`,
      'ScheduleRemoved',
    );
  }
  const scheduledAt = info.typedSearchAttributes.get(SCHEDULED_START_TIME);
  const receivedAt = (scheduledAt ?? new Date()).toISOString();
  const requestHash = `schedule:${definition.key}@${definition.version}`;
  // The type says `data` is always there (the language defaults it), but definitions stored
  // before empty objects were kept lost `data: {}`: none means no data.
  const scheduleData: Record<string, unknown> | undefined = schedule.data;
  // The input, memo and search attributes every starter builds (common/case-start.ts), so lists
  // and reads see no difference from a case started through the API.
  const startFor = (id: string, unitId: string | undefined) =>
    caseStartOf({
      caseId: id,
      definition,
      // Input defaults over the fire's case (书记项目: 项目年度 `year(case.receivedAt)`); data
      // without defaults stays the very object it was, so recorded fires start the same cases.
      data: withInputDefaults(definition.spec.input.fields, scheduleData ?? {}, {
        id,
        unitId: unitId ?? null,
        channel: 'schedule',
        definition: definition.key,
        receivedAt,
      }),
      startedBy: { kind: SCHEDULE_ACTOR.kind, id: SCHEDULE_ACTOR.id, roles: ['system'] },
      ...(unitId !== undefined ? { unitId } : {}),
      requestHash,
      receivedAt,
      channel: 'schedule',
    });
  if (schedule.unitsOfType !== undefined) {
    const types = unitTypesOf(schedule.unitsOfType);
    return startForEachUnit(definition.key, types, schedule.under ?? null, startFor);
  }
  const created = await startCaseOnce(caseId, startFor(caseId, schedule.unit), info.taskQueue);
  return { caseId, created };
}

/**
 * Starts a scheduled case under its id, outliving the starter as a case started through the API
 * does; false when a run of the same fire had started it already.
 */
async function startCaseOnce(
  caseId: string,
  start: ReturnType<typeof caseStartOf>,
  taskQueue: string,
): Promise<boolean> {
  try {
    await startChild(CASE_WORKFLOW_TYPE, {
      workflowId: caseId,
      args: start.args,
      taskQueue,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      memo: start.memo,
      typedSearchAttributes: start.searchAttributes,
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/**
 * A `unitsOfType` fire: one case per unit of the type, or of each type of the list (below
 * `under`, or in the whole tree), each for its unit, its id derived from the fire and the unit so
 * a fire run again starts none twice. No unit found fails the fire with the reason, as a schedule
 * naming an unknown unit would.
 */
async function startForEachUnit(
  key: string,
  types: readonly UnitType[],
  under: string | null,
  startFor: (caseId: string, unitId: string) => ReturnType<typeof caseStartOf>,
): Promise<ScheduledCaseResult> {
  const info = workflowInfo();
  // One lookup per type, in the list's order (a single type makes the one call it always made).
  const unitIds: string[] = [];
  let count = 0;
  for (const type of types) {
    const found = await lookups.findUnits({
      type,
      within: 'case',
      caseUnitId: under,
      data: {},
      limit: MAX_SCHEDULED_UNITS,
    });
    count += found.count;
    if (count > MAX_SCHEDULED_UNITS) break;
    unitIds.push(...found.unitIds);
  }
  const where = under === null ? 'in the org tree' : `under unit ${under}`;
  const what = types.join(' and every ');
  if (count === 0) {
    throw ApplicationFailure.nonRetryable(
      `Process "${key}" is scheduled for every ${what} ${where}, and there is none`,
      'ScheduleFoundNoUnits',
    );
  }
  if (count > MAX_SCHEDULED_UNITS) {
    throw ApplicationFailure.nonRetryable(
      `Process "${key}" is scheduled for every ${what} ${where}: ${count} units${types.length > 1 ? ' or more' : ''}, more than the ${MAX_SCHEDULED_UNITS} one fire starts; schedule it under smaller units`,
      'ScheduleTooLarge',
    );
  }
  const units = unitIds.map((unitId) => {
    const caseId = scheduledCaseId(`${info.workflowId}:${unitId}`);
    return { unitId, caseId, start: startFor(caseId, unitId) };
  });
  if (units.length <= SCHEDULED_SLICE) {
    const started = await Promise.all(
      units.map(({ caseId, start }) => startCaseOnce(caseId, start, info.taskQueue)),
    );
    return resultOf(units, started.some(Boolean));
  }
  const compact = compactsFanOutSlices();
  const slices: FanOutBatchInput[] = fanOutSlices(
    units.map((unit) => ({ workflowId: unit.caseId, start: unit.start })),
    SCHEDULED_SLICE,
  ).map((children) => (compact ? compactSlice(children, false) : { children, wait: false }));
  const started = await Promise.all(
    slices.map(async (slice, n) => {
      try {
        await executeChild<(input: FanOutBatchInput) => Promise<FanOutChildEnd[]>>(
          FAN_OUT_BATCH_TYPE,
          {
            // Named after the fire: a fire run again finds its slices already started.
            workflowId: `${info.workflowId}-slice-${n}`,
            args: [slice],
            taskQueue: info.taskQueue,
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          },
        );
        return true;
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
        throw err;
      }
    }),
  );
  return resultOf(units, started.some(Boolean));
}

function resultOf(
  units: ReadonlyArray<{ unitId: string; caseId: string }>,
  created: boolean,
): ScheduledCaseResult {
  return {
    caseId: units[0]!.caseId,
    created,
    units: units.map(({ unitId, caseId }) => ({ unitId, caseId })),
  };
}

/**
 * The case id of a schedule fire: `case-` and 24 hex digits (96 bits) mixed from the fire's
 * workflow id, which names the schedule and the fire time. Pure, so the workflow can compute it.
 */
export function scheduledCaseId(fireId: string): string {
  const lanes = [0x811c9dc5, 0x01000193 ^ 0x5bd1e995, 0x9e3779b9];
  let hex = '';
  for (const [lane, seed] of lanes.entries()) {
    let hash = seed >>> 0;
    for (let i = 0; i < fireId.length; i++) {
      hash ^= fireId.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    hash ^= lane + fireId.length;
    hex += finalMix(hash).toString(16).padStart(8, '0');
  }
  return `case-${hex}`;
}

/** Spreads every input bit over the output (the 32-bit finaliser of MurmurHash3). */
function finalMix(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

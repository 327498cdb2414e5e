import {
  ApplicationFailure,
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
import { caseStartOf } from '../common/case-start';
import { lookups } from './stubs';

/** What a process's Temporal Schedule starts at each fire: the process to start a case of. */
export interface ScheduledCaseInput {
  definitionKey: string;
}

export interface ScheduledCaseResult {
  caseId: string;
  /** False when this fire's case had already been started (a retried or replayed fire). */
  created: boolean;
}

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
  // The input, memo and search attributes every starter builds (common/case-start.ts), so lists
  // and reads see no difference from a case started through the API.
  const start = caseStartOf({
    caseId,
    definition,
    // Versions stored before the definitions schema kept empty objects lack an empty `data`.
    data: schedule.data ?? {},
    startedBy: { kind: SCHEDULE_ACTOR.kind, id: SCHEDULE_ACTOR.id, roles: ['system'] },
    ...(schedule.unit !== undefined ? { unitId: schedule.unit } : {}),
    requestHash,
    receivedAt,
    channel: 'schedule',
  });
  try {
    await startChild(CASE_WORKFLOW_TYPE, {
      workflowId: caseId,
      args: start.args,
      taskQueue: info.taskQueue,
      // The case outlives this starter, as a case started through the API does.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      memo: start.memo,
      typedSearchAttributes: start.searchAttributes,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { caseId, created: false };
    throw err;
  }
  return { caseId, created: true };
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

import type { Candidate, ResolvedPeople } from '../common/case';
import type { EscalationSpec, PeopleSelector, TaskStepSpec } from '../lang/definition';
import type { ClockHost } from './clocks';
import { Clock } from './clocks';
import { openingSlips } from './patches';
import { ENGINE } from './projection';
import type { TaskContext } from './recipients';
import type { TaskHost } from './task-runtime';
import { TaskRuntime } from './task-runtime';

/**
 * What opening a slip needs of the case run (workflows/run.ts is one); named here so the run can
 * open slips without the two importing each other.
 */
export interface SlipHost extends TaskHost, ClockHost {
  readonly tasks: Map<string, TaskRuntime>;
  slips: number;
  resolvePeople(
    selectors: readonly PeopleSelector[],
    task: TaskContext | null,
  ): Promise<ResolvedPeople>;
  startClock(clock: Clock): Promise<void>;
}

/**
 * Supervision slips (督办单): an escalation level with `supervise` opens, beside its mail, a task
 * of kind `supervision` on the case: its people (the level's, or `supervise.to`) must write a
 * reply (`reply`, outcome `replied`) within `supervise.within`. The slip runs beside the case,
 * never in its path: the case goes on, the slip is answered in parallel; a slip still open when
 * the case ends is closed as moot (`supervision.moot`). Its timeline entries are its own
 * (`supervision.opened`, `.overdue`, `.replied`, `.moot`), so the case's 接单/超时 figures are not
 * moved by the supervisor's slip; the case's figures get `supervised: 1` (督办率).
 */

/** The step id a slip's task and timeline entries carry (the validator keeps it free). */
export const SUPERVISION_STEP_ID = 'supervision';

/** The slip's form: one required reply (its length a chosen cap, like other free texts). */
const SLIP_FORM = {
  fields: [
    {
      name: 'reply',
      label: '督办回复',
      type: 'text' as const,
      required: true,
      maxLength: 4000,
      multiple: false,
      personal: false,
    },
  ],
};

/** Whether a fired level opens a slip on this case (asks the marker only then). */
export function opensSlip(escalation: EscalationSpec): boolean {
  return escalation.supervise !== undefined && openingSlips();
}

/** Opens the slip a fired level asks for; the clock's flush writes it. */
export async function openSlip(
  run: SlipHost,
  clock: Clock,
  escalationLevel: number,
  escalation: EscalationSpec,
  found: ResolvedPeople,
): Promise<void> {
  const slip = escalation.supervise!;
  const people: Candidate[] =
    slip.to !== undefined ? (await run.resolvePeople([slip.to], clock.task)).people : found.people;
  const id = `${run.caseId}.${SUPERVISION_STEP_ID}.${++run.slips}`;
  const step: TaskStepSpec = {
    id: SUPERVISION_STEP_ID,
    name: slip.name ?? '督办单',
    type: 'task',
    candidates: [],
    form: SLIP_FORM,
    outcomes: [{ id: 'replied', name: '已回复', requiresComment: false, requires: ['reply'] }],
    announce: false,
    deadlines: [],
  };
  const openedAt = new Date().toISOString();
  const task = new TaskRuntime(run, id, step, people, found.unitId ?? run.caseUnitId, openedAt);
  task.supervision = {
    level: slip.level,
    deadline: clock.spec.id,
    escalation: escalationLevel,
    overdue: false,
    reply: null,
  };
  run.tasks.set(id, task);
  run.projection.record('supervision.opened', ENGINE, SUPERVISION_STEP_ID, {
    task: id,
    level: slip.level,
    deadline: clock.spec.id,
    escalation: escalationLevel,
    candidates: people.length,
    ...(clock.stepId !== undefined ? { escalatedStep: clock.stepId } : {}),
  });
  const slipClock = new Clock(
    `${id}/reply`,
    {
      id: 'reply',
      name: '督办回复时限',
      within: slip.within,
      stopsOn: 'complete',
      // The slip is the supervised unit's to answer: waiting on the requester does not pause it.
      pausable: false,
      reminders: [],
      escalations: [],
    },
    openedAt,
    SUPERVISION_STEP_ID,
    task,
  );
  task.clocks.push(slipClock);
  await slipClock.replan(run);
  task.changed();
  // Observed at once: a rejection left for a later activation would fail the workflow task.
  void run.startClock(slipClock).catch(() => undefined);
}

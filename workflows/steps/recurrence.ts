import {
  ApplicationFailure,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CaseActivities } from '../../activities';
import { CASE_WORKFLOW_TYPE } from '../../common/case';
import { caseStartOf } from '../../common/case-start';
import { MAX_RECURRENCE_CASES, MAX_RECURRENCE_GROUPS } from '../../common/recurrence';
import { BEIJING_ISO_OFFSET, BEIJING_OFFSET_MS } from '../../lang/beijing';
import type { RecurrenceStepSpec } from '../../lang/definition';
import { evaluateValue } from '../../lang/expression';
import { deadlineInstant } from '../clocks';
import { analysingRecurrence } from '../patches';
import { ENGINE } from '../projection';
import type { CaseRun } from '../run';
import { scheduledCaseId } from '../scheduled';
import { lookups } from '../stubs';
import { closeCase } from './end';

/**
 * The `recurrence` step (未诉先办, proactive governance): the requests of the listed processes
 * received in the period under the case's unit are read and grouped by an activity
 * (activities/lookups.ts `findRecurrences`, common/recurrence.ts); every group of at least
 * `threshold` requests of one category at one place opens one case of `definition` for that
 * place, with the group as its data. The step does not wait for them: each proactive case runs
 * on its own (its own deadlines and escalation), and the analysis ends.
 *
 * Each child's id is derived from this case, the step and the group (category and place), never
 * drawn at random, and a start that finds the id taken counts the group as opened already: a
 * retried case (services/case-failures.ts), a second visit of the step or a replay never opens a
 * group twice. docs/definition-language.md 6.13.
 */

/** Reading a period's requests may take longer than a lookup (chosen: 2 minutes). */
const analyses = proxyActivities<CaseActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Proactive cases started at once, one slice after the other (chosen, as the fan-out's slices
 * bound what is in flight): at most MAX_RECURRENCE_GROUPS / 50 = 2 slices.
 */
const RECURRENCE_SLICE = 50;

const DAY_START = /^\d{4}-\d{2}-\d{2}$/;

/** A period's first instant: a date means the start of that day, Beijing time. */
function startInstant(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const at = DAY_START.test(value)
    ? Date.parse(`${value}T00:00:00${BEIJING_ISO_OFFSET}`)
    : Date.parse(value);
  return Number.isNaN(at) ? null : at;
}

/** The Beijing date of an instant (`YYYY-MM-DD`). */
function beijingDate(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

export async function runRecurrence(run: CaseRun, step: RecurrenceStepSpec): Promise<void> {
  // A case that passed this step on an interpreter without it did nothing here: replay the same.
  if (!analysingRecurrence()) return;
  const scope = run.expressionScope();
  const refuse = async (detail: Record<string, string | number>, message: string) => {
    run.projection.record('recurrence.refused', ENGINE, step.id, detail);
    await closeCase(run, step.id, 'failed');
    throw ApplicationFailure.nonRetryable(message, 'RecurrenceRefused');
  };
  const from = startInstant(evaluateValue(step.cases.from, scope));
  const to = deadlineInstant(evaluateValue(step.cases.to, scope));
  if (from === null || to === null || to <= from) {
    return refuse(
      { reason: 'period' },
      `Step "${step.id}": cases.from and cases.to must give dates or instants, from before to`,
    );
  }
  const definition = await lookups.loadDefinition(step.definition);
  const found = await analyses.findRecurrences({
    caseUnitId: run.caseUnitId,
    definitions: step.cases.definitions,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    place: step.place,
    threshold: step.threshold,
    maxGroups: MAX_RECURRENCE_GROUPS,
  });
  if (found.refused === 'cases') {
    return refuse(
      { reason: 'too-many-cases', cases: found.read, limit: MAX_RECURRENCE_CASES },
      `Step "${step.id}" found more than ${MAX_RECURRENCE_CASES} requests in the period: analyse each street, or a shorter period`,
    );
  }
  if (found.refused === 'groups') {
    return refuse(
      { reason: 'too-many-groups', groups: found.found, limit: MAX_RECURRENCE_GROUPS },
      `Step "${step.id}" found ${found.found} recurring problems; one run opens at most ${MAX_RECURRENCE_GROUPS} proactive cases: raise the threshold or analyse smaller units`,
    );
  }

  const periodFrom = beijingDate(from);
  const periodTo = beijingDate(to - 1);
  const { taskQueue } = workflowInfo();
  const children = found.groups.map((group) => {
    // The round and the group name the child: the same group of the same case is the same id.
    const childId = scheduledCaseId(
      `${run.caseId}:${step.id}:${group.category}\u0000${group.placeId}`,
    );
    const start = caseStartOf({
      caseId: childId,
      definition,
      data: {
        category: group.category,
        place: group.placeId,
        placeName: group.placeName,
        count: group.count,
        caseIds: group.caseIds,
        periodFrom,
        periodTo,
      },
      startedBy: { kind: 'system', id: 'engine', roles: ['system'] },
      unitId: group.placeId,
      requestHash: `recurrence:${run.caseId}:${step.id}`,
      receivedAt: new Date().toISOString(),
      channel: 'proactive',
      parentCaseId: run.caseId,
    });
    return { childId, group, start };
  });
  const opened: boolean[] = [];
  for (let at = 0; at < children.length; at += RECURRENCE_SLICE) {
    const slice = children.slice(at, at + RECURRENCE_SLICE);
    opened.push(
      ...(await Promise.all(
        slice.map(async ({ childId, start }) => {
          try {
            await startChild(CASE_WORKFLOW_TYPE, {
              workflowId: childId,
              args: start.args,
              taskQueue,
              memo: start.memo,
              typedSearchAttributes: start.searchAttributes,
              // The proactive case outlives the analysis, which does not wait for it.
              parentClosePolicy: ParentClosePolicy.ABANDON,
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
            });
            return true;
          } catch (err) {
            if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
            throw err;
          }
        }),
      )),
    );
  }
  const cases = children.map(({ childId, group }, i) => {
    if (opened[i]) {
      run.projection.record('subprocess.started', ENGINE, step.id, {
        caseId: childId,
        definition: definition.key,
        unitId: group.placeId,
        category: group.category,
        count: group.count,
      });
    }
    return {
      caseId: childId,
      unitId: group.placeId,
      category: group.category,
      count: group.count,
      status: 'open',
    };
  });
  const figures = {
    read: found.read,
    groups: children.length,
    opened: opened.filter(Boolean).length,
    existing: opened.filter((o) => !o).length,
    uncategorised: found.uncategorised,
    unplaced: found.unplaced,
  };
  run.projection.record('recurrence.analysed', ENGINE, step.id, {
    ...figures,
    from: periodFrom,
    to: periodTo,
  });
  run.summarizeStep(step.id, figures);
  // Later conditions read `steps.<id>.opened`, `.groups`, `.cases` (as a fan-out's `steps.<id>`).
  const result = { status: 'closed', count: children.length, cases, ...figures };
  run.steps[step.id] = result;
}

import type { StepSpec } from '../../lang/definition';
import type { CaseRun } from '../run';
import { runAssessment } from './assessment';
import { decide } from './decision';
import { runEvaluation } from './evaluation';
import { runFeedback } from './feedback';
import { runGrant } from './grant';
import { runLookup } from './lookup';
import { runNotify } from './notify';
import type { RunList } from './parallel';
import { runParallel } from './parallel';
import { publish } from './publish';
import { runRecurrence } from './recurrence';
import { runRepeat } from './repeat';
import { runSubprocess } from './subprocess';
import { runTask } from './task';
import { runTimer } from './timer';

export { closeCase } from './end';
export type { ResumeStep, RunList } from './parallel';

/**
 * The step types a runner runs: every type but `end`, which the loop handles itself (it closes
 * the case and stops the loop instead of answering a next step).
 */
export type RunnableStep = Exclude<StepSpec, { type: 'end' }>;

/**
 * The one place a step type is tied to its runner (one file per type in this folder). Answers the
 * explicit next step, or undefined for the default successor.
 *
 * A switch rather than a map of runners on purpose: each case keeps the exact await form it was
 * recorded with (`await runner(); return undefined` or `return runner()`), so the order in which
 * parallel branches reach their next command cannot move by a microtask. A new type copies the
 * form of a case like it; `never` below makes the compiler list a type left out.
 */
export async function runStep(
  run: CaseRun,
  step: RunnableStep,
  visit: number,
  runList: RunList,
): Promise<string | undefined> {
  switch (step.type) {
    case 'timer':
      await runTimer(run, step);
      return undefined;
    case 'notify':
      await runNotify(run, step, visit);
      return undefined;
    case 'task':
    case 'claim':
      return runTask(run, step, visit);
    case 'decision':
      return decide(run, step);
    case 'parallel':
      return runParallel(run, step, runList);
    case 'feedback':
      await runFeedback(run, step, visit);
      return undefined;
    case 'publish':
      publish(run, step);
      return undefined;
    case 'subprocess':
      await runSubprocess(run, step);
      return undefined;
    case 'evaluation':
      await runEvaluation(run, step, visit);
      return undefined;
    case 'recurrence':
      await runRecurrence(run, step);
      return undefined;
    case 'assessment':
      await runAssessment(run, step, visit);
      return undefined;
    case 'repeat':
      await runRepeat(run, step, runList);
      return undefined;
    case 'lookup':
      await runLookup(run, step);
      return undefined;
    case 'grant':
      await runGrant(run, step);
      return undefined;
    default:
      return noRunner(step);
  }
}

/**
 * A step type with no case above does not compile (`step` is not `never` then). At run time a
 * checked definition never gets here; as before, such a step would fall through to its successor.
 */
function noRunner(_step: never): undefined {
  return undefined;
}

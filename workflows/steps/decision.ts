import type { StepSpec } from '../../lang/definition';
import { compileExpression, EvaluationError } from '../../lang/expression';
import { ENGINE } from '../projection';
import type { CaseRun } from '../run';

/**
 * The `decision` step: the first branch whose condition is true, else `otherwise`. A plain
 * function (no await, no command): it answers the next step at once.
 */
export function decide(run: CaseRun, step: Extract<StepSpec, { type: 'decision' }>): string {
  const scope = run.expressionScope();
  for (const [index, branch] of step.branches.entries()) {
    let value: unknown;
    try {
      value = compileExpression(branch.when).evaluate(scope);
    } catch (err) {
      if (!(err instanceof EvaluationError)) throw err;
      // A condition that cannot be evaluated on this case's data is false, and says so.
      run.projection.record('decision.taken', ENGINE, step.id, {
        branch: index + 1,
        error: err.message.slice(0, 200),
      });
      continue;
    }
    if (value === true) {
      run.projection.record('decision.taken', ENGINE, step.id, {
        branch: index + 1,
        next: branch.next,
      });
      return branch.next;
    }
  }
  run.projection.record('decision.taken', ENGINE, step.id, {
    branch: 'otherwise',
    next: step.otherwise,
  });
  return step.otherwise;
}

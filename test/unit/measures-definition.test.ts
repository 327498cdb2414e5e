import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DefinitionProblem } from '../../lang/check';
import { validateDefinition } from '../../lang/check';
import { validateDefinitionSource } from '../../lang/source';
import { createMailRenderer } from '../../mail/renderer';

const DEFINITIONS_DIR = path.join(__dirname, '..', '..', 'definitions');
const options = { knownTemplates: new Set(['case-received', 'task-assigned', 'case-result']) };

/** An order: a dispatch task, a handler's task with two deadlines, a rating, two ends. */
function orderProcess(measures: unknown): Record<string, unknown> {
  return {
    key: 'order-measures',
    name: '点单',
    starters: ['resident'],
    input: { fields: [{ name: 'found', label: '发现数', type: 'integer' }] },
    steps: [
      {
        id: 'dispatch',
        name: '派单',
        type: 'task',
        candidates: [{ role: 'dispatcher', unit: 'community' }],
        outcomes: [
          { id: 'dispatched', name: '已派单' },
          { id: 'reject', name: '不予受理', next: 'rejected' },
        ],
      },
      {
        id: 'take',
        name: '接单办理',
        type: 'task',
        candidates: [{ role: 'party-member', unit: 'community' }],
        form: { fields: [{ name: 'done', label: '化解数', type: 'integer' }] },
        outcomes: [
          { id: 'resolved', name: '已办结' },
          { id: 'explained', name: '已解释说明' },
        ],
        deadlines: [
          { id: 'accept_1d', name: '接单', within: '1 working day', stopsOn: 'claim' },
          { id: 'serve_5d', name: '办结', within: '5 working days' },
        ],
      },
      { id: 'reply', name: '评价', type: 'feedback', within: '3 working days' },
      { id: 'closed', name: '办结', type: 'end' },
      { id: 'rejected', name: '不予受理', type: 'end', status: 'rejected' },
    ],
    measures,
  };
}

function problemsOf(raw: unknown): DefinitionProblem[] {
  const result = validateDefinition(raw, options);
  return result.ok ? [] : result.problems;
}

function problem(at: string, messagePart: string): DefinitionProblem {
  return { path: at, message: expect.stringContaining(messagePart) as string };
}

describe('measures in a definition', () => {
  it('when the block names existing steps, outcomes, deadlines and valid expressions, then the definition is valid', () => {
    // Act
    const problems = problemsOf(
      orderProcess({
        acceptance: ['take'],
        acceptanceDeadline: 'accept_1d',
        completionDeadline: ['serve_5d'],
        resolved: [{ step: 'take', outcome: 'resolved' }],
        explained: [{ step: 'take', outcome: 'explained' }],
        excluded: [{ step: 'dispatch', outcome: 'reject' }, { step: 'rejected' }],
        disputes: { found: 'data.found', resolved: 'steps.take.form.done' },
      }),
    );

    // Assert
    expect(problems).toEqual([]);
  });

  it('when a declared step does not exist or is not a task or claim step, then each is reported at its path', () => {
    // Act
    const problems = problemsOf(
      orderProcess({
        acceptance: ['take', 'nowhere', 'reply'],
        resolved: [{ step: 'ghost', outcome: 'resolved' }],
        explained: [{ step: 'reply', outcome: 'x' }],
        excluded: [{ step: 'reply' }],
      }),
    );

    // Assert
    expect(problems).toEqual([
      problem('measures.acceptance[1]', 'unknown step "nowhere"'),
      problem(
        'measures.acceptance[2]',
        'is a feedback step: the acceptance (接单) is a task or claim step',
      ),
      problem('measures.resolved[0].step', 'unknown step "ghost"'),
      problem(
        'measures.explained[0].step',
        'is a feedback step: name a task step with its outcome',
      ),
      problem('measures.excluded[0].step', 'name a task step with its outcome, or an end step'),
    ]);
  });

  it('when an outcome is one the step does not have, missing, or given on an end step, then it is reported', () => {
    // Act
    const problems = problemsOf(
      orderProcess({
        resolved: [{ step: 'take', outcome: 'done' }],
        explained: [{ step: 'take' }],
        excluded: [{ step: 'rejected', outcome: 'reject' }],
      }),
    );

    // Assert
    expect(problems).toEqual([
      problem(
        'measures.resolved[0].outcome',
        'step "take" has no outcome "done": use one of resolved, explained',
      ),
      problem('measures.explained[0].outcome', 'name the outcome of "take"'),
      problem('measures.excluded[0].outcome', 'end step "rejected" has no outcomes'),
    ]);
  });

  it('when an outcome is declared both resolved and explained, then it is reported', () => {
    // Act
    const problems = problemsOf(
      orderProcess({
        resolved: [{ step: 'take', outcome: 'resolved' }],
        explained: [{ step: 'take', outcome: 'resolved' }],
      }),
    );

    // Assert
    expect(problems).toEqual([
      problem('measures.explained', 'declared both resolved and explained'),
    ]);
  });

  it('when a deadline is not one the acceptance step or the definition has, then it is reported', () => {
    // Act
    const wrongStep = problemsOf(
      orderProcess({ acceptance: ['dispatch'], acceptanceDeadline: 'accept_1d' }),
    );
    const noAcceptance = problemsOf(orderProcess({ acceptanceDeadline: 'accept_1d' }));
    const noDeadline = problemsOf(orderProcess({ completionDeadline: ['serve_5d', 'serve_9d'] }));

    // Assert
    expect(wrongStep).toEqual([
      problem('measures.acceptanceDeadline', 'no acceptance step has a deadline "accept_1d"'),
    ]);
    expect(noAcceptance).toEqual([
      problem('measures.acceptanceDeadline', 'declare the acceptance step(s)'),
    ]);
    expect(noDeadline).toEqual([
      problem('measures.completionDeadline[1]', 'no deadline "serve_9d" in the definition'),
    ]);
  });

  it('when an extension names an outcome the step does not have, then it is reported', () => {
    // Act
    const problems = problemsOf(orderProcess({ extended: [{ step: 'take', outcome: 'approve' }] }));

    // Assert
    expect(problems).toEqual([
      problem(
        'measures.extended[0].outcome',
        'step "take" has no outcome "approve": use one of resolved, explained',
      ),
    ]);
  });

  it('when a dispute expression does not compile or reads an unknown field, then it is reported', () => {
    // Act
    const problems = problemsOf(
      orderProcess({ disputes: { found: 'data.found +', resolved: 'data.nothing' } }),
    );

    // Assert
    expect(problems).toEqual([
      problem('measures.disputes.found', 'bad expression'),
      problem('measures.disputes.resolved', 'unknown field "data.nothing"'),
    ]);
  });

  it('when the block has a member the language does not know, then the schema refuses it', () => {
    // Act
    const problems = problemsOf(orderProcess({ acceptance: ['take'], accepted: ['take'] }));

    // Assert
    expect(problems.map((p) => p.path)).toEqual(['measures']);
  });
});

describe('shipped definitions', () => {
  const knownTemplates = createMailRenderer().templateNames;
  const files = readdirSync(DEFINITIONS_DIR).filter((f) => /\.ya?ml$/.test(f));

  it.each(files)('when %s is read, then it declares its measures and validates', (file) => {
    // Act
    const result = validateDefinitionSource(
      readFileSync(path.join(DEFINITIONS_DIR, file), 'utf8'),
      'yaml',
      { knownTemplates },
    );

    // Assert
    expect(result.ok ? [] : result.problems).toEqual([]);
    expect(result.ok && result.spec.measures).toBeTruthy();
  });
});

import type { Candidate } from '../../common/case';
import { validateDefinition } from '../../lang/check';
import { createMailRenderer } from '../../mail/renderer';
import {
  childRollCall,
  figuresOf,
  rollCallMailFacts,
  totalOf,
  unacknowledged,
} from '../../workflows/roll-call';

/**
 * Roll-calls (点名报到, one-key emergency activation): the pure figures, the escalation mail that
 * names who is missing, and the validator's rules for `claimants.max: all` and `unacknowledged`.
 */
const renderer = createMailRenderer();

const person = (id: string): Candidate => ({ personId: id, userId: `u-${id}`, unitId: 'c-1' });
const [a, b, c] = [person('p-a'), person('p-b'), person('p-c')];

function rollCall(extra: Record<string, unknown> = {}, deadline: Record<string, unknown> = {}) {
  return {
    key: 'roll-call-test',
    name: '点名报到',
    starters: ['admin'],
    input: { fields: [] },
    steps: [
      {
        id: 'report',
        name: '到小区报到',
        type: 'claim',
        candidates: [{ role: 'building-head', unitsOfType: 'building', under: 'case' }],
        claimants: { max: 'all' },
        within: 'PT2H',
        onUnclaimed: 'closed',
        deadlines: [
          {
            id: 'due',
            name: '30分钟内报到',
            within: 'PT30M',
            reminders: [
              { before: 'PT10M', notify: 'unacknowledged', template: 'roll-call-reminder' },
            ],
            escalations: [
              { notify: { role: 'grid-leader', unit: 'grid' }, template: 'roll-call-escalated' },
            ],
            ...deadline,
          },
        ],
        ...extra,
      },
      { id: 'closed', name: '结束', type: 'end' },
    ],
  };
}

function problemsOf(raw: unknown) {
  const result = validateDefinition(raw, { knownTemplates: renderer.templateNames });
  return result.ok ? [] : result.problems;
}

describe('roll-call figures', () => {
  it('when two of three candidates claimed, then one is unacknowledged and the figures say so', () => {
    // Arrange
    const task = { candidates: [a, b, c], claimants: [c, a] };

    // Act
    const missing = unacknowledged(task);
    const figures = figuresOf(task);

    // Assert
    expect(missing.map((p) => p.personId)).toEqual(['p-b']);
    expect(figures).toEqual({ expected: 3, acknowledged: 2, missing: 1 });
  });

  it('when the task is a roll-call, then its mails get the figures and the missing by person id', () => {
    // Act
    const facts = rollCallMailFacts({ candidates: [a, b], claimants: [a], rollCall: true });
    const none = rollCallMailFacts({ candidates: [a, b], claimants: [a] });

    // Assert
    expect(facts).toEqual({
      context: { expected: 2, acknowledged: 1, missing: 1 },
      nameLists: { missingNames: ['p-b'] },
    });
    expect(none).toBeNull();
  });

  it('when children report roll-calls, then the totals sum them and other results count for nothing', () => {
    // Arrange
    const results = [
      { status: 'closed', rollCall: { expected: 3, acknowledged: 3, missing: 0 } },
      { status: 'closed', rollCall: { expected: 4, acknowledged: 2, missing: 2 } },
      { status: 'closed' },
    ];

    // Act
    const figures = results.map(childRollCall);

    // Assert
    expect(figures[2]).toBeNull();
    expect(totalOf(figures)).toEqual({ expected: 7, acknowledged: 5, missing: 2 });
    expect(totalOf([null])).toBeNull();
  });
});

describe('roll-call mail', () => {
  it('when a roll-call is escalated, then the mail lists the missing by name and the figures', () => {
    // Act
    const mail = renderer.render('roll-call-escalated', {
      caseId: 'case-0123456789abcdef01234567',
      processName: '应急启动·小区报到点名',
      taskName: '到小区报到',
      recipientName: '李网格长',
      deadlineName: '30分钟内到岗报到',
      dueAt: '2026-10-02T09:00:00Z',
      level: 1,
      unitName: '第一网格',
      fellBack: false,
      expected: 4,
      acknowledged: 2,
      missing: 2,
      missingNames: ['张楼长', '赵经理'],
    });

    // Assert
    expect(mail.subject).toContain('超时未报到督办');
    expect(mail.text).toContain('应到 4 人，已报到 2 人，未报到 2 人');
    expect(mail.html).toContain('<li>张楼长</li>');
    expect(mail.html).toContain('<li>赵经理</li>');
  });
});

describe('roll-call definitions', () => {
  it('when a pool says claimants.max: all with unacknowledged reminders, then it is valid', () => {
    // Act
    const problems = problemsOf(rollCall());

    // Assert
    expect(problems).toEqual([]);
  });

  it('when max is neither a number nor all, then the schema names the field', () => {
    // Act
    const problems = problemsOf(rollCall({ claimants: { max: 'everyone' } }));

    // Assert
    expect(problems.map((p) => p.path)).toContain('steps[0].claimants.max');
  });

  it('when a roll-call deadline stops on claim or reassigns, then each is a clear error', () => {
    // Act
    const problems = problemsOf(
      rollCall(
        {},
        {
          stopsOn: 'claim',
          escalations: [{ notify: { role: 'grid-leader', unit: 'grid' }, reassign: true }],
        },
      ),
    );

    // Assert
    expect(problems).toEqual([
      {
        path: 'steps[0].deadlines[0].stopsOn',
        message: expect.stringContaining(
          'stopsOn: claim would stop it at the first report',
        ) as string,
      },
      {
        path: 'steps[0].deadlines[0].escalations[0].reassign',
        message: expect.stringContaining('reassign would replace them') as string,
      },
    ]);
  });

  it('when unacknowledged or a roll-call template is used on a task, then the validator says where they belong', () => {
    // Arrange
    const raw = {
      key: 'not-a-roll-call',
      name: '办理',
      starters: ['admin'],
      input: { fields: [] },
      deadlines: [
        {
          id: 'case_due',
          name: '案件时限',
          within: 'P1D',
          escalations: [{ notify: 'unacknowledged' }],
        },
      ],
      steps: [
        {
          id: 'serve',
          name: '办理',
          type: 'task',
          candidates: [{ role: 'grid-worker' }],
          deadlines: [
            {
              id: 'due',
              name: '时限',
              within: 'PT1H',
              reminders: [{ before: 'PT10M', notify: 'unacknowledged' }],
              escalations: [{ notify: 'assignee', template: 'roll-call-escalated' }],
            },
          ],
        },
        { id: 'closed', name: '结束', type: 'end' },
      ],
    };

    // Act
    const problems = problemsOf(raw);

    // Assert
    expect(problems).toEqual([
      {
        path: 'deadlines[0].escalations[0].notify',
        message: expect.stringContaining('only exists on a claim step') as string,
      },
      {
        path: 'steps[0].deadlines[0].reminders[0].notify',
        message: expect.stringContaining('only exists on a claim step') as string,
      },
      {
        path: 'steps[0].deadlines[0].escalations[0].template',
        message: expect.stringContaining(
          'use it on the deadlines of a claim step with claimants.max: all',
        ) as string,
      },
    ]);
  });
});

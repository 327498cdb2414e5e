import type { TimelineEntry } from '../../common/case';
import {
  beijingMonth,
  CaseMeasures,
  measureTimeline,
  storedMetrics,
} from '../../common/case-measures';
import type { MeasuresSpec } from '../../lang/definition';

const T0 = Date.parse('2026-05-31T16:30:00Z'); // 2026-06-01 00:30 in Beijing

type Entry = Pick<TimelineEntry, 'type' | 'at' | 'detail' | 'stepId'>;

function at(minutes: number, type: TimelineEntry['type'], detail?: Entry['detail']): Entry {
  return { type, at: new Date(T0 + minutes * 60_000).toISOString(), ...(detail ? { detail } : {}) };
}

const started = at(0, 'case.started', { definition: 'x', version: 1, channel: 'api' });

describe('case measures', () => {
  it('when a case is claimed in time, completed and rated 5, then it counts as responded, completed on time and satisfied', () => {
    // Act
    const metrics = measureTimeline([
      started,
      at(0, 'task.opened', { task: 't1', candidates: 2, fellBack: false }),
      at(12, 'task.claimed', { task: 't1' }),
      at(95, 'task.completed', { task: 't1', outcome: 'done' }),
      at(96, 'feedback.rated', { score: 5 }),
      at(96, 'case.closed', { status: 'closed' }),
    ]);

    // Assert
    expect(metrics).toEqual({
      received: 1,
      dispatched: 1,
      accepted: 1,
      respondedInTime: 1,
      completed: 1,
      completedOnTime: 1,
      resolved: 1,
      explained: 0,
      excluded: 0,
      due: 1,
      rejected: 0,
      overdue: 0,
      escalated: 0,
      escalations: 0,
      returned: 0,
      returnedCase: 0,
      ratingInvited: 0,
      disputesFound: 0,
      disputesResolved: 0,
      arbitrated: 0,
      rated: 1,
      ratingScore: 5,
      satisfied: 1,
      ratingMissing: 0,
      responseMinutes: 12,
      handlingMinutes: 96,
      month: '2026-06',
    });
  });

  it('when the accept deadline passes before the claim and escalates twice, then it is accepted but not responded in time, overdue and not on time', () => {
    // Act
    const metrics = measureTimeline([
      started,
      at(120, 'deadline.missed', { deadline: 'accept', task: 't1' }),
      at(120, 'deadline.escalated', { deadline: 'accept', task: 't1', level: 1 }),
      at(150, 'deadline.escalated', { deadline: 'accept', task: 't1', level: 2 }),
      at(160, 'task.claimed', { task: 't1' }),
      at(200, 'task.completed', { task: 't1', outcome: 'done' }),
      at(200, 'feedback.rated', { score: 3 }),
      at(201, 'case.closed', { status: 'closed' }),
    ]);

    // Assert
    expect(metrics).toMatchObject({
      accepted: 1,
      respondedInTime: 0,
      completed: 1,
      completedOnTime: 0,
      overdue: 1,
      escalated: 1,
      escalations: 2,
      rated: 1,
      ratingScore: 3,
      satisfied: 0,
      responseMinutes: 160,
    });
  });

  it('when a deadline passes after the claim, then the response stays in time but completion is late', () => {
    // Act
    const metrics = measureTimeline([
      started,
      at(5, 'task.claimed', { task: 't1' }),
      at(300, 'deadline.missed', { deadline: 'finish', task: 't1' }),
      at(320, 'task.completed', { task: 't1', outcome: 'done' }),
      at(320, 'case.closed', { status: 'closed' }),
    ]);

    // Assert
    expect(metrics).toMatchObject({
      respondedInTime: 1,
      completed: 1,
      completedOnTime: 0,
      overdue: 1,
    });
  });

  it('when an escalation hands the task to a supervisor, then the case counts as accepted from then', () => {
    // Act
    const metrics = measureTimeline([
      started,
      at(30, 'deadline.missed', { deadline: 'accept', task: 't1' }),
      at(30, 'task.reassigned', { task: 't1', people: 1, by: 'escalation' }),
    ]);

    // Assert
    expect(metrics).toMatchObject({ accepted: 1, respondedInTime: 0, responseMinutes: 30 });
  });

  it('when a process declares no acceptance step at all (acceptance: []), then its cases are never dispatched nor accepted, whatever is done on them', () => {
    // Arrange
    const entries = [
      started,
      { ...at(5, 'task.opened', { task: 't1' }), stepId: 'meeting' },
      { ...at(10, 'task.claimed', { task: 't1' }), stepId: 'meeting' },
      at(20, 'deadline.escalated', { deadline: 'score_10d', people: 1 }),
      { ...at(30, 'task.completed', { task: 't1', outcome: 'reported' }), stepId: 'meeting' },
      at(30, 'case.closed', { status: 'closed' }),
    ];

    // Act
    const none = measureTimeline(entries, { acceptance: [] });
    const byDefault = measureTimeline(entries, {});

    // Assert: out of every 接单率/响应率/督办率 denominator, still completed and escalated
    expect(none).toMatchObject({ dispatched: 0, accepted: 0, respondedInTime: 0, completed: 1 });
    expect(none.escalated).toBe(1);
    expect(byDefault).toMatchObject({ dispatched: 1, accepted: 1 });
  });

  it('when the case ends rejected or unrated, then it is neither completed nor rated, and a missing rating is no score', () => {
    // Act
    const rejected = measureTimeline([started, at(3, 'case.closed', { status: 'rejected' })]);
    const unrated = measureTimeline([
      started,
      at(1, 'task.claimed', { task: 't1' }),
      at(2, 'task.returned', { task: 't1', reason: 'x' }),
      at(9, 'feedback.missing'),
      at(9, 'case.closed', { status: 'closed' }),
    ]);

    // Assert
    expect(rejected).toMatchObject({ completed: 0, rejected: 1, handlingMinutes: 0, accepted: 0 });
    expect(unrated).toMatchObject({
      rated: 0,
      ratingScore: 0,
      ratingMissing: 1,
      returned: 1,
      completed: 1,
    });
  });

  it('when entries change nothing, then take() reports the figures unchanged since the last take', () => {
    // Arrange
    const measures = new CaseMeasures();
    measures.observe(started);
    const first = measures.take();

    // Act
    measures.observe(at(1, 'step.entered', { stepType: 'task' }));
    const second = measures.take();
    measures.observe(at(2, 'task.claimed', { task: 't1' }));
    const third = measures.take();

    // Assert
    expect(first.changed).toBe(true);
    expect(second.changed).toBe(false);
    expect(third).toMatchObject({ changed: true, metrics: { accepted: 1 } });
  });

  it('when a case starts late on the last day of a month in UTC, then its month is the Beijing one', () => {
    // Act / Assert
    expect(beijingMonth(Date.parse('2026-06-30T16:00:00Z'))).toBe('2026-07');
    expect(beijingMonth(Date.parse('2026-06-30T15:59:59Z'))).toBe('2026-06');
  });

  it('when an accumulator is restored from another’s state, then later entries count as if one had seen them all', () => {
    // Arrange: the first part of a timeline in one accumulator (one run of the case)…
    const timeline = [
      started,
      at(0, 'task.opened', { task: 't1', candidates: 2, fellBack: false }),
      at(70, 'deadline.missed', { deadline: 'case' }),
      at(75, 'task.claimed', { task: 't1' }),
      at(80, 'deadline.escalated', { deadline: 'case', level: 1 }),
      at(300, 'deadline.escalated', { deadline: 'case', level: 2 }),
      at(310, 'task.completed', { task: 't1', outcome: 'done' }),
      at(311, 'case.closed', { status: 'closed' }),
    ];
    const first = new CaseMeasures();
    for (const entry of timeline.slice(0, 4)) first.observe(entry);

    // Act: …the rest in a fresh one restored from its state (the next run), through plain data.
    const next = new CaseMeasures();
    next.restore(JSON.parse(JSON.stringify(first.state())) as Record<string, unknown>);
    for (const entry of timeline.slice(4)) next.observe(entry);

    // Assert
    expect(next.snapshot()).toEqual(measureTimeline(timeline));
    expect(next.snapshot()).toMatchObject({ escalations: 2, responseMinutes: 75, overdue: 1 });
  });
});

describe('case measures declared by the definition (three-orders)', () => {
  // The measures block of definitions/three-orders.yaml.
  const measures: MeasuresSpec = {
    acceptance: ['take_named', 'take_open'],
    acceptanceDeadline: 'accept_1d',
    completionDeadline: 'serve_5d',
    resolved: [
      { step: 'take_named', outcome: 'resolved' },
      { step: 'take_open', outcome: 'resolved' },
    ],
    explained: [
      { step: 'take_named', outcome: 'explained' },
      { step: 'take_open', outcome: 'explained' },
    ],
    excluded: [{ step: 'dispatch', outcome: 'reject' }],
  };

  function on(
    stepId: string,
    minutes: number,
    type: TimelineEntry['type'],
    detail?: Entry['detail'],
  ): Entry {
    return { ...at(minutes, type, detail), stepId };
  }

  const dispatched = [
    started,
    on('dispatch', 0, 'task.opened', { task: 'd', candidates: 1 }),
    on('dispatch', 10, 'task.claimed', { task: 'd' }),
    on('dispatch', 20, 'task.completed', { task: 'd', outcome: 'dispatched' }),
    on('take_named', 20, 'task.opened', { task: 'n', candidates: 1 }),
  ];
  const rating = (minutes: number, score: number) => [
    on('reply', minutes, 'step.entered', { stepType: 'feedback' }),
    on('reply', minutes + 1, 'feedback.rated', { score }),
    on('closed', minutes + 2, 'case.closed', { status: 'closed' }),
  ];

  it('when the dispatcher refuses the order, then it is excluded and counts in no denominator', () => {
    // Act
    const metrics = measureTimeline(
      [
        started,
        on('dispatch', 0, 'task.opened', { task: 'd', candidates: 1 }),
        on('dispatch', 5, 'task.claimed', { task: 'd' }),
        on('dispatch', 9, 'task.completed', { task: 'd', outcome: 'reject' }),
        on('rejected', 9, 'case.closed', { status: 'rejected' }),
      ],
      measures,
    );

    // Assert
    expect(storedMetrics(metrics)).toEqual({
      received: 1,
      excluded: 1,
      rejected: 1,
      month: '2026-06',
    });
  });

  it('when the dispatcher signs the dispatch first, then only the member taking the order counts as accepted', () => {
    // Act
    const waiting = measureTimeline(dispatched, measures);
    const taken = measureTimeline(
      [...dispatched, on('take_named', 80, 'task.claimed', { task: 'n' })],
      measures,
    );

    // Assert
    expect(waiting).toMatchObject({ dispatched: 1, accepted: 0, respondedInTime: 0, due: 0 });
    expect(taken).toMatchObject({
      dispatched: 1,
      accepted: 1,
      respondedInTime: 1,
      responseMinutes: 80,
    });
  });

  it('when the member resolves in time and the resident rates 5, then it is resolved, on time, rated and satisfied', () => {
    // Act
    const metrics = measureTimeline(
      [
        ...dispatched,
        on('take_named', 30, 'task.claimed', { task: 'n' }),
        on('take_named', 600, 'task.completed', { task: 'n', outcome: 'resolved' }),
        ...rating(700, 5),
      ],
      measures,
    );

    // Assert
    expect(metrics).toMatchObject({
      dispatched: 1,
      accepted: 1,
      respondedInTime: 1,
      completed: 1,
      resolved: 1,
      explained: 0,
      due: 1,
      completedOnTime: 1,
      ratingInvited: 1,
      rated: 1,
      satisfied: 1,
      handlingMinutes: 600,
      excluded: 0,
    });
  });

  it('when the member answers with an explanation, then the order is completed but not resolved', () => {
    // Act
    const metrics = measureTimeline(
      [
        ...dispatched,
        on('take_named', 30, 'task.claimed', { task: 'n' }),
        on('take_named', 90, 'task.completed', { task: 'n', outcome: 'explained' }),
        ...rating(100, 4),
      ],
      measures,
    );

    // Assert
    expect(metrics).toMatchObject({ completed: 1, resolved: 0, explained: 1, due: 1 });
  });

  it('when the acceptance deadline passes but the order closes within its 办结时限, then it is late to respond but completed on time', () => {
    // Act
    const metrics = measureTimeline(
      [
        ...dispatched,
        on('take_named', 500, 'deadline.missed', { deadline: 'accept_1d', task: 'n' }),
        on('take_named', 500, 'deadline.escalated', { deadline: 'accept_1d', level: 1 }),
        on('take_named', 520, 'task.claimed', { task: 'n' }),
        on('take_named', 900, 'task.completed', { task: 'n', outcome: 'resolved' }),
        ...rating(950, 5),
      ],
      measures,
    );

    // Assert
    expect(metrics).toMatchObject({
      accepted: 1,
      respondedInTime: 0,
      overdue: 1,
      escalated: 1,
      completed: 1,
      completedOnTime: 1,
      due: 1,
    });
  });

  it('when a deadline of another step passes before acceptance, then the response still counts in time', () => {
    // Act
    const metrics = measureTimeline(
      [
        started,
        on('dispatch', 0, 'task.opened', { task: 'd', candidates: 1 }),
        on('dispatch', 500, 'deadline.missed', { deadline: 'dispatch_1d', task: 'd' }),
        on('dispatch', 510, 'task.completed', { task: 'd', outcome: 'dispatched' }),
        on('take_named', 510, 'task.opened', { task: 'n', candidates: 1 }),
        on('take_named', 520, 'task.claimed', { task: 'n' }),
      ],
      measures,
    );

    // Assert
    expect(metrics).toMatchObject({ accepted: 1, respondedInTime: 1, overdue: 1, due: 0 });
  });

  it('when the 办结时限 passes while the order is still open, then it counts against 办结率 and, once done, is late', () => {
    // Act
    const running = [
      ...dispatched,
      on('take_named', 30, 'task.claimed', { task: 'n' }),
      on('take_named', 3000, 'deadline.missed', { deadline: 'serve_5d', task: 'n' }),
    ];
    const open = measureTimeline(running, measures);
    const done = measureTimeline(
      [
        ...running,
        on('take_named', 3100, 'task.completed', { task: 'n', outcome: 'resolved' }),
        ...rating(3200, 2),
      ],
      measures,
    );

    // Assert
    expect(open).toMatchObject({ due: 1, completed: 0, completedOnTime: 0 });
    expect(done).toMatchObject({
      due: 1,
      completed: 1,
      completedOnTime: 0,
      rated: 1,
      satisfied: 0,
      ratingScore: 2,
    });
  });

  it('when the member sends the order back and the feedback window passes unrated, then it is a returned case invited but not rated', () => {
    // Act
    const metrics = measureTimeline(
      [
        ...dispatched,
        on('take_named', 30, 'task.returned', { task: 'n', reason: 'x' }),
        on('dispatch', 30, 'task.opened', { task: 'd2', candidates: 1 }),
        on('dispatch', 40, 'task.completed', { task: 'd2', outcome: 'dispatched' }),
        on('take_open', 40, 'task.opened', { task: 'o', candidates: 9 }),
        on('take_open', 50, 'task.claimed', { task: 'o' }),
        on('take_open', 60, 'task.completed', { task: 'o', outcome: 'resolved' }),
        on('reply', 60, 'step.entered', { stepType: 'feedback' }),
        on('reply', 99, 'feedback.missing'),
        on('closed', 99, 'case.closed', { status: 'closed' }),
      ],
      measures,
    );

    // Assert
    expect(metrics).toMatchObject({
      returned: 1,
      returnedCase: 1,
      accepted: 1,
      responseMinutes: 50,
      resolved: 1,
      ratingInvited: 1,
      rated: 0,
      ratingMissing: 1,
    });
  });

  it('when a dispatcher hands the acceptance task to a person, then that is not the handler accepting', () => {
    // Act
    const metrics = measureTimeline(
      [...dispatched, on('take_named', 30, 'task.reassigned', { task: 'n', people: 1 })],
      measures,
    );

    // Assert
    expect(metrics).toMatchObject({ accepted: 0 });
  });

  it('when a dispute process closes with its figures, then they are kept; an excluded case keeps none', () => {
    // Arrange
    const report = new CaseMeasures({});
    report.observe(started);
    const refused = new CaseMeasures({ excluded: [{ step: 'refused' }] });
    refused.observe(started);
    refused.observe(on('refused', 1, 'case.closed', { status: 'cancelled' }));

    // Act
    report.disputes(8, 6.9);
    report.observe(on('closed', 5, 'case.closed', { status: 'closed' }));
    refused.disputes(3, 1);

    // Assert
    expect(report.snapshot()).toMatchObject({ disputesFound: 8, disputesResolved: 6 });
    expect(refused.snapshot()).toMatchObject({ excluded: 1, disputesFound: 0, rejected: 0 });
  });
});

describe('case measures of a roll-call (emergency-compound)', () => {
  // The measures block of definitions/emergency-compound.yaml.
  const measures: MeasuresSpec = {
    acceptance: ['report'],
    acceptanceDeadline: 'report_30m',
    completionDeadline: 'report_30m',
  };
  const on = (minutes: number, type: TimelineEntry['type'], detail?: Entry['detail']): Entry => ({
    ...at(minutes, type, detail),
    stepId: 'report',
  });
  const opened = [started, on(0, 'task.opened', { task: 'r', candidates: 3 })];
  const closed = { ...at(0, 'case.closed', { status: 'closed' }), stepId: 'closed' };

  it('when the roster fills before the acceptance deadline, then the roll-call is accepted in time, at its close', () => {
    // Act
    const metrics = measureTimeline(
      [
        ...opened,
        on(12, 'claim.closed', { task: 'r', claimants: 3, reason: 'full', expected: 3 }),
        { ...closed, at: at(12, 'case.closed').at },
      ],
      measures,
    );

    // Assert
    expect(metrics).toMatchObject({
      dispatched: 1,
      accepted: 1,
      respondedInTime: 1,
      responseMinutes: 12,
      completedOnTime: 1,
    });
  });

  it('when the window ends with some reported after the acceptance deadline passed, then it is accepted but not in time; with nobody reported it is not accepted', () => {
    // Arrange
    const windowEnded = (claimants: number) => [
      ...opened,
      on(30, 'deadline.missed', { task: 'r', deadline: 'report_30m' }),
      on(120, 'claim.closed', { task: 'r', claimants, reason: 'window-ended', expected: 3 }),
      { ...closed, at: at(120, 'case.closed').at },
    ];

    // Act
    const some = measureTimeline(windowEnded(2), measures);
    const nobody = measureTimeline(windowEnded(0), measures);

    // Assert
    expect(some).toMatchObject({ accepted: 1, respondedInTime: 0, responseMinutes: 120 });
    expect(nobody).toMatchObject({ accepted: 0, respondedInTime: 0, responseMinutes: 0 });
  });

  it('when a roll-call is not the declared acceptance, then its close accepts nothing', () => {
    // Act
    const undeclared = measureTimeline(
      [...opened, on(5, 'claim.closed', { task: 'r', claimants: 3, reason: 'full' })],
      { acceptance: ['serve'] },
    );

    // Assert
    expect(undeclared).toMatchObject({ accepted: 0 });
  });
});

describe('arbitration (兜底仲裁)', () => {
  it('when a case goes to the centre’s arbitration twice, then it counts once as arbitrated', () => {
    // Act
    const metrics = measureTimeline([
      at(0, 'case.started'),
      at(5, 'task.completed', { task: 't1', outcome: 'not_ours' }),
      at(6, 'case.arbitrated', { task: 't2' }),
      at(9, 'case.arbitrated', { task: 't3' }),
      at(20, 'case.closed', { status: 'closed' }),
    ]);

    // Assert
    expect(metrics.arbitrated).toBe(1);
    expect(metrics.completed).toBe(1);
  });
});

describe('extension (延期)', () => {
  const measures: MeasuresSpec = {
    acceptance: ['handle'],
    resolved: [{ step: 'handle', outcome: 'resolved' }],
    extended: [{ step: 'review', outcome: 'approve' }],
  };
  const task = (minutes: number, stepId: string, outcome: string): Entry => ({
    ...at(minutes, 'task.completed', { task: `t-${stepId}`, outcome }),
    stepId,
  });

  it('when the declared extension outcome is recorded, then the case counts as extended', () => {
    // Act
    const metrics = measureTimeline(
      [
        at(0, 'case.started'),
        task(5, 'handle', 'extend'),
        task(9, 'review', 'approve'),
        task(30, 'handle', 'resolved'),
        at(31, 'case.closed', { status: 'closed' }),
      ],
      measures,
    );

    // Assert
    expect(metrics.extended).toBe(1);
    expect(metrics.completed).toBe(1);
  });

  it('when the extension is refused, then the case carries no extended figure', () => {
    // Act
    const metrics = measureTimeline(
      [
        at(0, 'case.started'),
        task(5, 'handle', 'extend'),
        task(9, 'review', 'refuse'),
        task(30, 'handle', 'resolved'),
        at(31, 'case.closed', { status: 'closed' }),
      ],
      measures,
    );

    // Assert
    expect(metrics).not.toHaveProperty('extended');
    expect(metrics.resolved).toBe(1);
  });
});

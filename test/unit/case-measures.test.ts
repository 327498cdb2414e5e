import type { TimelineEntry } from '../../common/case';
import { beijingMonth, CaseMeasures, measureTimeline } from '../../common/case-measures';

const T0 = Date.parse('2026-05-31T16:30:00Z'); // 2026-06-01 00:30 in Beijing

type Entry = Pick<TimelineEntry, 'type' | 'at' | 'detail'>;

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
      accepted: 1,
      respondedInTime: 1,
      completed: 1,
      completedOnTime: 1,
      rejected: 0,
      overdue: 0,
      escalated: 0,
      escalations: 0,
      returned: 0,
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

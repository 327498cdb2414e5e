import { METRIC_FIELDS } from '../../common/case-measures';
import { AppError } from '../../services/errors';
import { figuresOf } from '../../services/metrics';
import { resolvePeriod } from '../../services/periods';

const NOW = new Date('2026-11-22T04:00:00Z');

describe('metrics periods (Beijing time)', () => {
  it.each([
    ['2026', '2025-12-31T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    ['2026-H1', '2025-12-31T16:00:00.000Z', '2026-06-30T16:00:00.000Z'],
    ['2026-H2', '2026-06-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    ['2026-Q4', '2026-09-30T16:00:00.000Z', '2026-12-31T16:00:00.000Z'],
    ['2026-02', '2026-01-31T16:00:00.000Z', '2026-02-28T16:00:00.000Z'],
  ])('when the period is %s, then it runs from %s to %s', (period, from, to) => {
    // Act
    const resolved = resolvePeriod({ period }, NOW);

    // Assert
    expect(resolved).toEqual({ from, to, label: period });
  });

  it('when no period is given, then it is the current half year', () => {
    // Act / Assert
    expect(resolvePeriod({}, NOW).label).toBe('2026-H2');
  });

  it('when from and to are days, then both days are included', () => {
    // Act
    const resolved = resolvePeriod({ from: '2026-10-01', to: '2026-10-07' }, NOW);

    // Assert
    expect(resolved.from).toBe('2026-09-30T16:00:00.000Z');
    expect(resolved.to).toBe('2026-10-07T16:00:00.000Z');
  });

  it.each([
    [{ period: '2026-H3' }, 'query.period'],
    [{ period: '26' }, 'query.period'],
    [{ from: '2026-01-01' }, 'query.to'],
    [{ from: '2026-02-30', to: '2026-03-01' }, 'query.from'],
    [{ from: '2026-03-01', to: '2026-02-01' }, 'query.to'],
    [{ from: '2020-01-01', to: '2026-01-01' }, 'query.to'],
    [{ from: 'yesterday', to: '2026-01-01' }, 'query.from'],
    [{ period: '2026', from: '2026-01-01', to: '2026-02-01' }, 'query.period'],
  ])('when the query is %j, then it is refused naming %s', (query, path) => {
    // Act
    let error: unknown;
    try {
      resolvePeriod(query, NOW);
    } catch (err) {
      error = err;
    }

    // Assert
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).details.map((d) => d.path)).toEqual([path]);
  });
});

describe('figures', () => {
  it('when nothing was received, then every rate and mean is null rather than 0', () => {
    // Arrange
    const zero = Object.fromEntries(METRIC_FIELDS.map((f) => [f, 0])) as Parameters<
      typeof figuresOf
    >[0];

    // Act
    const figures = figuresOf(zero);

    // Assert
    expect(Object.values(figures.rates).every((r) => r === null)).toBe(true);
    expect(Object.values(figures.averages).every((a) => a === null)).toBe(true);
  });

  it('when flags are summed, then rates divide by the right base', () => {
    // Arrange
    const sums = Object.fromEntries(METRIC_FIELDS.map((f) => [f, 0])) as Parameters<
      typeof figuresOf
    >[0];
    Object.assign(sums, {
      received: 5,
      excluded: 1,
      dispatched: 3,
      accepted: 2,
      respondedInTime: 1,
      due: 3,
      completed: 2,
      completedOnTime: 1,
      resolved: 1,
      explained: 1,
      ratingInvited: 4,
      rated: 2,
      ratingScore: 7,
      satisfied: 1,
      overdue: 1,
      escalated: 1,
      returnedCase: 2,
      disputesFound: 8,
      disputesResolved: 6,
      responseMinutes: 30,
      handlingMinutes: 100,
    });

    // Act
    const figures = figuresOf(sums);

    // Assert
    expect(figures.rates).toEqual({
      acceptanceRate: 0.6667, // accepted ÷ dispatched
      responseRate: 0.3333, // respondedInTime ÷ dispatched
      completionRate: 0.6667, // completed ÷ due
      resolutionRate: 0.3333, // resolved ÷ due
      onTimeRate: 0.5, // completedOnTime ÷ completed
      satisfactionRate: 0.5, // satisfied ÷ rated
      participationRate: 0.5, // rated ÷ ratingInvited
      visitRate: 1, // rated ÷ completed
      disputeResolutionRate: 0.75, // disputesResolved ÷ disputesFound
      supervisionRate: 0.3333, // escalated ÷ dispatched
      returnRate: 0.6667, // returnedCase ÷ dispatched
      overdueRate: 0.25, // overdue ÷ (received − excluded)
    });
    expect(figures.averages).toEqual({ score: 3.5, responseMinutes: 15, handlingMinutes: 50 });
  });
});

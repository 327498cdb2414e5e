import { METRIC_FIELDS } from '../../common/case-measures';
import {
  parseRollupPart,
  rollupIdOf,
  rollupKeysOf,
  rollupPartOf,
  sumsOf,
} from '../../common/metric-rollup';
import { splitPeriod } from '../../services/metrics';

const at = (iso: string) => Date.parse(iso);

describe('metric roll-up keys and periods', () => {
  it('when a case was served by two units, one of them twice, then it is summed by place, per distinct serving unit and once for the set', () => {
    // Act
    const keys = rollupKeysOf({
      unitId: 'c1',
      createdAt: '2026-02-28T17:00:00Z', // 2026-03-01 01:00 in Beijing
      definitionKey: 'order.v2',
      category: 'road~side',
      metrics: { received: 1, month: '2026-03' },
      servedBy: { unitIds: ['x2', 'x1', 'x2'] },
    });

    // Assert
    expect(keys.map(rollupIdOf)).toEqual([
      'place|c1|2026-03',
      'served|x1|2026-03',
      'served|x2|2026-03',
      'servedSet|x1,x2|2026-03',
    ]);
    const part = rollupPartOf(keys[0]!);
    expect(part).not.toMatch(/\./);
    expect(parseRollupPart(part, '2026-03')).toEqual({
      definitionKey: 'order.v2',
      category: 'road~side',
      trendMonth: '2026-03',
    });
  });

  it('when a case nobody served yet is keyed, then it has its place key only', () => {
    // Act
    const keys = rollupKeysOf({
      unitId: 'c1',
      createdAt: '2026-03-10T00:00:00Z',
      definitionKey: 'order',
      metrics: { received: 1 },
    });

    // Assert
    expect(keys.map(rollupIdOf)).toEqual(['place|c1|2026-03']);
  });

  it('when stored figures leave zeros out or hold something else, then every metric field sums as a number', () => {
    // Act
    const sums = sumsOf({ received: 1, rated: '1', month: '2026-03', supervised: 1 });

    // Assert
    expect(Object.keys(sums)).toEqual([...METRIC_FIELDS]);
    expect(sums.received).toBe(1);
    expect(sums.rated).toBe(1);
    expect(sums.completed).toBe(0);
  });

  it('when the period is whole Beijing months, then the roll-ups serve all of it', () => {
    // Act
    const split = splitPeriod(at('2025-12-31T16:00:00Z'), at('2026-03-31T16:00:00Z'));

    // Assert
    expect(split).toEqual({ months: ['2026-01', '2026-02', '2026-03'], edges: [] });
  });

  it('when the period starts and ends inside months, then those partial months are read from the cases', () => {
    // Act
    const split = splitPeriod(at('2026-01-10T00:00:00Z'), at('2026-04-05T00:00:00Z'));

    // Assert
    expect(split).toEqual({
      months: ['2026-02', '2026-03'],
      edges: [
        [at('2026-01-10T00:00:00Z'), at('2026-01-31T16:00:00Z')],
        [at('2026-03-31T16:00:00Z'), at('2026-04-05T00:00:00Z')],
      ],
    });
  });

  it('when the period lies inside one month, then all of it is read from the cases', () => {
    // Act
    const split = splitPeriod(at('2026-03-02T00:00:00Z'), at('2026-03-20T00:00:00Z'));

    // Assert
    expect(split).toEqual({
      months: [],
      edges: [[at('2026-03-02T00:00:00Z'), at('2026-03-20T00:00:00Z')]],
    });
  });
});

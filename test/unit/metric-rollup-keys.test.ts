import { METRIC_FIELDS } from '../../common/case-measures';
import {
  packRollupParts,
  parseRollupPart,
  rollupIdOf,
  rollupKeysOf,
  rollupPartOf,
  sumsOf,
  unpackRollupParts,
} from '../../common/metric-rollup';
import { rollupFilters, splitPeriod } from '../../services/metrics';

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

  it('when the entries of a roll-up are packed, then zeros and empty entries are left out and unpacking gives the figures back, added to nested ones an older version stored', () => {
    // Act
    const packed = packRollupParts({
      'order~road': { ...sumsOf({ received: 2, overdue: 1 }) },
      'order~noise': sumsOf(null),
    });
    const unpacked = unpackRollupParts({
      partsJson: packed,
      parts: { 'order~road': { received: 1, completed: '1' }, 'order~water': { rated: 1 } },
    });

    // Assert
    expect(JSON.parse(packed)).toEqual({ 'order~road': { received: 2, overdue: 1 } });
    expect(unpacked).toEqual({
      'order~road': { received: 3, completed: 1, overdue: 1 },
      'order~water': { rated: 1 },
    });
    expect(unpackRollupParts({})).toEqual({});
  });

  it('when the roll-ups of a subtree are read, then each query is equalities on kind and month (and unit for a small subtree), never a month $in', () => {
    // Act
    const small = rollupFilters('place', ['c2', 'c1'], ['2026-01', '2026-02']);
    const sets = rollupFilters('servedSet', ['c1'], ['2026-01']);
    const units = Array.from({ length: 25 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    const large = rollupFilters('served', units, ['2026-01', '2026-02']);

    // Assert
    expect(small).toEqual([
      { by: 'place', month: '2026-01', unitId: 'c1' },
      { by: 'place', month: '2026-01', unitId: 'c2' },
      { by: 'place', month: '2026-02', unitId: 'c1' },
      { by: 'place', month: '2026-02', unitId: 'c2' },
    ]);
    expect(sets).toEqual([{ by: 'servedSet', month: '2026-01', unitIds: 'c1' }]);
    expect(large).toEqual([
      { by: 'served', month: '2026-01', unitId: { $in: units } },
      { by: 'served', month: '2026-02', unitId: { $in: units } },
    ]);
  });
});

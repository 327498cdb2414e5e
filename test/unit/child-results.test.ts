import {
  childResult,
  handedResult,
  MAX_DISTINCT_OUTCOMES,
  MAX_OUTCOME_LENGTH,
  MAX_RESULT_TEXT,
  resultTotals,
} from '../../workflows/child-results';

/**
 * What a child case hands the case that started it (a definition's `result`, docs 6.10), and a
 * fan-out's counts and sums over its children: compact values, bounded sizes.
 */
describe('handedResult: what a closing case hands its parent', () => {
  const scope = {
    steps: { confirm: { outcome: 'confirmed', form: { members: 4, note: 'x'.repeat(500) } } },
  };

  it('when the definition declares no result, then the outcome is the end step it closed at and no values are handed', () => {
    expect(handedResult(undefined, 'closed', scope)).toEqual({ outcome: 'closed' });
  });

  it('when it declares an outcome and values, then they are evaluated on the case; long text is cut and what is no number, boolean or text is null', () => {
    // Act
    const handed = handedResult(
      {
        outcome: 'steps.confirm.outcome',
        data: {
          team: "steps.confirm.outcome == 'confirmed'",
          members: 'steps.confirm.form.members',
          note: 'steps.confirm.form.note',
          form: 'steps.confirm.form',
          broken: 'steps.confirm.form.note - 1',
        },
      },
      'closed',
      scope,
    );

    // Assert
    expect(handed).toEqual({
      outcome: 'confirmed',
      data: { team: true, members: 4, note: 'x'.repeat(MAX_RESULT_TEXT), form: null, broken: null },
    });
  });

  it('when the outcome expression gives long text or nothing, then it is cut to the limit or null', () => {
    const long = handedResult({ outcome: 'steps.confirm.form.note' }, 'closed', scope);
    const none = handedResult({ outcome: 'steps.missing.outcome' }, 'closed', scope);
    expect(long.outcome).toHaveLength(MAX_OUTCOME_LENGTH);
    expect(none.outcome).toBeNull();
  });
});

describe('childResult: reading a child workflow’s result', () => {
  it('when the result was recorded before children handed outcomes, then there is none', () => {
    expect(childResult({ status: 'closed', revision: 3 })).toBeNull();
    expect(childResult(null)).toBeNull();
  });

  it('when it carries an outcome and values, then both are read', () => {
    expect(childResult({ status: 'closed', outcome: 'unable', data: { team: false } })).toEqual({
      outcome: 'unable',
      data: { team: false },
    });
  });
});

describe('resultTotals: a fan-out’s counts and sums', () => {
  it('when children handed outcomes and values, then outcomes are counted and values summed, a true counting 1 and anything else 0', () => {
    // Act
    const totals = resultTotals([
      { outcome: 'confirmed', data: { team: true, members: 4 } },
      { outcome: 'unable', data: { team: false, members: null } },
      null,
      { outcome: 'confirmed', data: { team: true, members: 6 } },
    ]);

    // Assert
    expect(totals).toEqual({
      outcomes: { confirmed: 2, unable: 1 },
      totals: { team: 2, members: 10 },
    });
  });

  it('when no child handed values, then only the outcomes are counted; when none handed anything, nothing', () => {
    expect(resultTotals([{ outcome: 'closed' }, { outcome: 'closed' }])).toEqual({
      outcomes: { closed: 2 },
    });
    expect(resultTotals([null, null])).toBeNull();
  });

  it('when outcomes cannot be keys (constructor, a dotted or $ name, none) or are past the distinct limit, then they count as other', () => {
    // Arrange
    const many = Array.from({ length: MAX_DISTINCT_OUTCOMES + 3 }, (_, i) => ({
      outcome: `o${i}`,
    }));

    // Act
    const odd = resultTotals([
      { outcome: 'constructor' },
      { outcome: 'a.b' },
      { outcome: '$set' },
      { outcome: null },
    ]);
    const bounded = resultTotals(many)!;

    // Assert
    expect(odd).toEqual({ outcomes: { other: 4 } });
    expect(Object.keys(bounded.outcomes)).toHaveLength(MAX_DISTINCT_OUTCOMES + 1);
    expect(bounded.outcomes.other).toBe(3);
  });
});

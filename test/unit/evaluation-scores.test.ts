import {
  SCORE_CLOCK_SKEW_MS,
  SCORE_CLOSE_GRACE_MS,
  SCORE_WRITE_BUDGET_MS,
  scoreProblems,
} from '../../common/evaluation';
import { defaultOpenSeconds, parseRoundOptions } from '../../bench/evaluation-round';

/** Checking scores where the API writes them, the close's timing, and the round bench's flags. */

const criteria = [
  { id: 'quality', name: '服务质量' },
  { id: 'duration', name: '办理时效' },
];

describe('scoreProblems', () => {
  it('when every criterion has a whole number 1–5, then there is no problem', () => {
    expect(scoreProblems([{ values: { quality: 1, duration: 5 } }], criteria)).toEqual([]);
  });

  it('when a value is out of range, missing or unknown, then each is named under the prefix', () => {
    // Act
    const problems = scoreProblems(
      [{ values: { quality: 6, extra: 3 } }, { values: { quality: 2.5, duration: 3 } }],
      criteria,
      'body.scores',
    );

    // Assert
    expect(problems).toEqual([
      { path: 'body.scores[0].values.quality', message: '服务质量: a whole number from 1 to 5' },
      { path: 'body.scores[0].values.duration', message: '办理时效: a whole number from 1 to 5' },
      { path: 'body.scores[0].values.extra', message: 'unknown criterion' },
      { path: 'body.scores[1].values.quality', message: '服务质量: a whole number from 1 to 5' },
    ]);
  });
});

describe('the close of a round whose scores the API writes', () => {
  it('when the grace period is compared with the write budget, then it leaves room for clock skew', () => {
    expect(SCORE_CLOSE_GRACE_MS).toBeGreaterThan(SCORE_WRITE_BUDGET_MS);
    expect(SCORE_CLOCK_SKEW_MS).toBe(SCORE_CLOSE_GRACE_MS - SCORE_WRITE_BUDGET_MS);
    expect(SCORE_CLOCK_SKEW_MS).toBeGreaterThanOrEqual(30_000);
  });
});

describe('bench:round flags', () => {
  it('when no flag is given, then 3000 orders with the chosen defaults', () => {
    expect(parseRoundOptions([])).toEqual({
      orders: 3000,
      batch: 50,
      parallel: 8,
      openSeconds: defaultOpenSeconds(3000),
    });
  });

  it('when a flag is unknown or not a positive whole number, then the error names it', () => {
    expect(() => parseRoundOptions(['--orders', '0'])).toThrow('--orders: a whole number above 0');
    expect(() => parseRoundOptions(['--rounds', '3'])).toThrow('unknown flag --rounds');
    expect(() => parseRoundOptions(['--orders'])).toThrow('expected --flag value pairs');
  });
});

import fc from 'fast-check';
import { DurationSyntaxError, isDuration, parseDurationMs } from '../../lang/duration';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseDurationMs', () => {
  it.each([
    ['PT5M', 5 * MINUTE],
    ['PT40M', 40 * MINUTE],
    ['PT3H', 3 * HOUR],
    ['P2D', 2 * DAY],
    ['P1W', 7 * DAY],
    ['P1DT12H', DAY + 12 * HOUR],
    ['PT1.5S', 1500],
  ])('when given %s, then it returns %d milliseconds', (input, expected) => {
    // Act
    const ms = parseDurationMs(input);

    // Assert
    expect(ms).toBe(expected);
  });

  it.each(['P', 'PT', '', '5m', 'P1Y', 'PT-5M', 'P0D', 'PT0S', 'P1DT'])(
    'when given %j, then it throws a DurationSyntaxError',
    (input) => {
      // Act
      const act = () => parseDurationMs(input);

      // Assert
      expect(act).toThrow(DurationSyntaxError);
    },
  );

  it('when the input is rejected, then the error message names the input', () => {
    // Arrange
    const input = 'ten minutes';

    // Act
    let caught: unknown;
    try {
      parseDurationMs(input);
    } catch (err) {
      caught = err;
    }

    // Assert
    expect(caught).toBeInstanceOf(DurationSyntaxError);
    expect((caught as DurationSyntaxError).message).toContain('"ten minutes"');
    expect((caught as DurationSyntaxError).input).toBe(input);
  });

  it('when days, hours and minutes are combined, then the result is their arithmetic sum', () => {
    // Arrange
    const parts = fc
      .tuple(fc.nat({ max: 400 }), fc.nat({ max: 100 }), fc.nat({ max: 10_000 }))
      .filter(([d, h, m]) => d + h + m > 0);

    // Act / Assert
    fc.assert(
      fc.property(parts, ([d, h, m]) => {
        expect(parseDurationMs(`P${d}DT${h}H${m}M`)).toBe(d * DAY + h * HOUR + m * MINUTE);
      }),
    );
  });
});

describe('isDuration', () => {
  it('when the input parses, then it is true; otherwise false', () => {
    // Arrange
    const good = ['PT5M', 'P1W', 'PT1.5S'];
    const bad = ['P', 'PT', 'P0D', '5m', 'P1Y'];

    // Act
    const goodResults = good.map(isDuration);
    const badResults = bad.map(isDuration);

    // Assert
    expect(goodResults).toEqual([true, true, true]);
    expect(badResults).toEqual([false, false, false, false, false]);
  });
});

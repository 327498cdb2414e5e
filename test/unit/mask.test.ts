import { maskValue } from '../../lang/mask';

describe('maskValue', () => {
  it.each([
    ['phone', '13812345678', '138****5678'],
    ['email', 'resident@example.org', 'r***@example.org'],
    ['string', '张三', '张*'],
    ['string', '欧阳娜娜', '欧***'],
    ['text', '幸福路12号3单元', '幸福***'],
    ['phone', '123', '****'],
  ] as const)('when a %s "%s" is published, then the board shows "%s"', (type, value, shown) => {
    // Act
    const masked = maskValue(type, value);

    // Assert
    expect(masked).toBe(shown);
  });
});

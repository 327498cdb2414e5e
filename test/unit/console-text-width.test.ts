import { fitText, isWide, textWidth } from '../../console/text-width';

describe('textWidth', () => {
  it('when characters are CJK, full-width or GB 2312 punctuation, then each is an em wide', () => {
    // Arrange
    const wide = ['社', '、', '，', 'Ａ', 'か', '한', '…', '—', '“', '𠀀'];
    const narrow = ['a', '1', '·', '→', 'ｶ', 'é'];

    // Act
    const widths = [...wide, ...narrow].map((ch) => textWidth(ch, 10));

    // Assert
    expect(widths.slice(0, wide.length)).toEqual(wide.map(() => 10));
    expect(widths.slice(wide.length)).toEqual(narrow.map(() => 5.8));
  });

  it('when a label is cut, then it ends in an ellipsis and, ellipsis included, fits', () => {
    // Act
    const cut = fitText('社区网格员巡查上报', 50, 10);

    // Assert
    expect(cut).toBe('社区网格…');
    expect(textWidth(cut, 10)).toBeLessThanOrEqual(50);
    expect(isWide(0x4e00)).toBe(true);
  });
});

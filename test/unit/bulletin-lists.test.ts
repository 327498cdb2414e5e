import { BULLETIN_LIST_SIZE, definitionKeysOf, redAndBlack } from '../../services/metrics';

const item = (id: string, rank: number | null) => ({ id, rank });

describe('the red and black lists of a bulletin (红黑榜)', () => {
  it('when many units are ranked, then the red list is the best three and the black list the worst three, worst first', () => {
    // Arrange
    const items = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => item(`u${n}`, n));

    // Act
    const { redList, blackList } = redAndBlack(items);

    // Assert
    expect(BULLETIN_LIST_SIZE).toBe(3);
    expect(redList.map((i) => i.id)).toEqual(['u1', 'u2', 'u3']);
    expect(blackList.map((i) => i.id)).toEqual(['u8', 'u7', 'u6']);
  });

  it('when few units are ranked and some have nothing to measure, then the lists share them out without overlap and leave the unranked out', () => {
    // Arrange
    const items = [item('a', 1), item('b', 2), item('c', 3), item('idle', null)];

    // Act
    const { redList, blackList } = redAndBlack(items);

    // Assert
    expect(redList.map((i) => i.id)).toEqual(['a', 'b']);
    expect(blackList.map((i) => i.id)).toEqual(['c']);
  });

  it('when one unit is ranked, then it is on the red list only', () => {
    // Act
    const { redList, blackList } = redAndBlack([item('only', 1)]);

    // Assert
    expect(redList.map((i) => i.id)).toEqual(['only']);
    expect(blackList).toEqual([]);
  });
});

describe('process keys of a metrics query', () => {
  it('when keys come repeated and comma-separated with blanks and repeats, then each is named once, in order', () => {
    // Act
    const keys = definitionKeysOf(['three-orders, micro-wish', '', 'three-orders', 'grid-event']);

    // Assert
    expect(keys).toEqual(['three-orders', 'micro-wish', 'grid-event']);
  });
});

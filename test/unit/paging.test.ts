import { skipOf, totalOf } from '../../services/paging';

describe('totalOf', () => {
  const count = (n: number) => jest.fn(() => Promise.resolve(n));

  it('when the first page is short, then its length is the total and nothing is counted', async () => {
    // Arrange
    const counter = count(99);

    // Act
    const total = await totalOf({ page: 1, pageSize: 20 }, 7, counter);

    // Assert
    expect(total).toBe(7);
    expect(counter).not.toHaveBeenCalled();
  });

  it('when a later page is short but not empty, then the total is what came before plus its length', async () => {
    // Act
    const total = await totalOf({ page: 3, pageSize: 20 }, 5, count(99));

    // Assert
    expect(total).toBe(45);
  });

  it('when a page is full, or empty past the first, then the store counts', async () => {
    // Act
    const full = await totalOf({ page: 1, pageSize: 20 }, 20, count(61));
    const beyond = await totalOf({ page: 9, pageSize: 20 }, 0, count(61));

    // Assert
    expect([full, beyond]).toEqual([61, 61]);
  });

  it('skips the pages before the one asked for', () => {
    expect(skipOf({ page: 4, pageSize: 25 })).toBe(75);
  });
});

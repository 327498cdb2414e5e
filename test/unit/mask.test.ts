import { maskIdentifiers, maskValue } from '../../lang/mask';

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

describe('maskIdentifiers', () => {
  it.each([
    ['联系电话13812345678，谢谢', '联系电话138****5678，谢谢'],
    ['手机 138 1234 5678 或 159-0000-1111', '手机 138****5678 或 159****1111'],
    ['请打+86 138-1234-5678', '请打138****5678'],
    ['8613812345678', '138****5678'],
    ['座机010-12345678', '座机010****5678'],
    ['电话(0571)8888 6666', '电话057****6666'],
    ['电话（0755）1234567', '电话075****4567'],
    ['身份证号110105199003071234在此', '身份证号110***********1234在此'],
    ['证件 11010519900307123X', '证件 110***********123X'],
    ['证件 11010519900307123x。', '证件 110***********123x。'],
    ['楼道堆放杂物，已多次反映', '楼道堆放杂物，已多次反映'],
    ['订单号 12345678901234567890 不变', '订单号 12345678901234567890 不变'],
    ['12号楼3单元，2026-05-01 上午', '12号楼3单元，2026-05-01 上午'],
    ['编号A13812345678B 不是手机', '编号A138****5678B 不是手机'],
    ['12812345678 不是手机号段', '12812345678 不是手机号段'],
  ])('when a resident writes "%s", then the published text reads "%s"', (text, shown) => {
    // Act
    const masked = maskIdentifiers(text);

    // Assert
    expect(masked).toBe(shown);
  });

  it('when a text holds no digits at all, then it comes back unchanged', () => {
    expect(maskIdentifiers('')).toBe('');
    expect(maskIdentifiers('小区路灯不亮')).toBe('小区路灯不亮');
  });
});

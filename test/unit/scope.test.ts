import fc from 'fast-check';
import type { Principal } from '../../api/auth';
import type { ScopedCase } from '../../api/scope';
import { canSeeCase, caseScopeFilter } from '../../api/scope';
import { ROLES } from '../../common/roles';

/** Evaluates the filter shapes caseScopeFilter returns, as MongoDB would; anything else throws. */
function matches(filter: Record<string, unknown>, doc: ScopedCase): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$or') {
      return (condition as Array<Record<string, unknown>>).some((branch) => matches(branch, doc));
    }
    if (key === 'createdBy.id' && typeof condition === 'string') {
      return doc.createdBy.id === condition;
    }
    if (key === 'unitId' && condition !== null && typeof condition === 'object') {
      const { $in, ...rest } = condition as { $in?: unknown };
      if (!Array.isArray($in) || Object.keys(rest).length > 0) throw new Error('unexpected shape');
      return ($in as unknown[]).includes(doc.unitId ?? null);
    }
    throw new Error(`unexpected filter shape: ${JSON.stringify({ [key]: condition })}`);
  });
}

function visibleBy(principal: Principal, cases: ScopedCase[]) {
  const filter = caseScopeFilter(principal);
  return {
    byFilter: cases.filter((c) => matches(filter, c)),
    byRule: cases.filter((c) => canSeeCase(principal, c)),
  };
}

const cases: ScopedCase[] = [
  { createdBy: { id: 'usr_ann' }, unitId: 'unit-a' },
  { createdBy: { id: 'usr_ann' } },
  { createdBy: { id: 'usr_bob' }, unitId: 'unit-b' },
  { createdBy: { id: 'key_hotline' }, unitId: 'unit-a' },
  { createdBy: { id: 'key_hotline' }, unitId: null },
  { createdBy: { id: 'usr_dan' }, unitId: 'unit-c' },
];

const principals: Record<string, Principal> = {
  admin: { kind: 'user', id: 'usr_root', roles: ['admin'], unitIds: [] },
  resident: { kind: 'user', id: 'usr_ann', roles: ['resident'], unitIds: ['unit-b'] },
  dispatcher: { kind: 'user', id: 'usr_dan', roles: ['dispatcher'], unitIds: ['unit-a', 'unit-b'] },
  staffWithoutUnits: { kind: 'user', id: 'usr_eve', roles: ['staff'], unitIds: [] },
  system: { kind: 'apiKey', id: 'key_hotline', roles: ['system'], unitIds: ['unit-c'] },
};

describe('caseScopeFilter and canSeeCase', () => {
  it.each(Object.keys(principals))(
    'when the principal is %s, then the filter selects exactly the cases canSeeCase accepts',
    (name) => {
      // Arrange
      const principal = principals[name]!;

      // Act
      const { byFilter, byRule } = visibleBy(principal, cases);

      // Assert
      expect(byFilter).toEqual(byRule);
    },
  );

  it('when the principal is an admin, then every case is visible and the filter is empty', () => {
    // Act
    const filter = caseScopeFilter(principals.admin!);
    const { byRule } = visibleBy(principals.admin!, cases);

    // Assert
    expect(filter).toEqual({});
    expect(byRule).toHaveLength(cases.length);
  });

  it('when the principal is a resident, then only their own cases are visible despite unitIds', () => {
    // Act
    const filter = caseScopeFilter(principals.resident!);
    const { byRule } = visibleBy(principals.resident!, cases);

    // Assert
    expect(filter).toEqual({ 'createdBy.id': 'usr_ann' });
    expect(byRule).toEqual([cases[0], cases[1]]);
  });

  it('when the principal is a dispatcher, then own cases and cases of their units are visible', () => {
    // Act
    const filter = caseScopeFilter(principals.dispatcher!);
    const { byRule } = visibleBy(principals.dispatcher!, cases);

    // Assert
    expect(filter).toEqual({
      $or: [{ 'createdBy.id': 'usr_dan' }, { unitId: { $in: ['unit-a', 'unit-b'] } }],
    });
    expect(byRule).toEqual([cases[0], cases[2], cases[3], cases[5]]);
  });

  it('when principals and cases are random, then filter and rule always agree', () => {
    // Arrange
    const id = fc.constantFrom('usr_a', 'usr_b', 'key_c');
    const unit = fc.constantFrom('unit-1', 'unit-2', 'unit-3');
    const principal = fc.record({
      kind: fc.constantFrom('user' as const, 'apiKey' as const),
      id,
      roles: fc.subarray([...ROLES]),
      unitIds: fc.uniqueArray(unit, { maxLength: 3 }),
    });
    const scopedCase = fc.record(
      { createdBy: fc.record({ id }), unitId: fc.option(unit, { nil: undefined }) },
      { requiredKeys: ['createdBy'] },
    );

    // Act / Assert
    fc.assert(
      fc.property(principal, fc.array(scopedCase, { maxLength: 12 }), (p, list) => {
        const { byFilter, byRule } = visibleBy(p, list);
        expect(byFilter).toEqual(byRule);
      }),
    );
  });
});

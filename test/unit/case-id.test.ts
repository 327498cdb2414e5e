import fc from 'fast-check';
import { caseIdFor } from '../../services/cases';

describe('caseIdFor', () => {
  it('when called twice with the same principal and key, then it returns the same id', () => {
    // Act
    const first = caseIdFor('usr_3f9c2a1b', 'order-2026-10-01-0001');
    const second = caseIdFor('usr_3f9c2a1b', 'order-2026-10-01-0001');

    // Assert
    expect(first).toBe(second);
  });

  it('when called, then the id is case- followed by 24 hex digits and contains neither input', () => {
    // Arrange
    const principalId = 'usr_zhangwei';
    const key = 'wechat:req-778899';

    // Act
    const id = caseIdFor(principalId, key);

    // Assert
    expect(id).toMatch(/^case-[0-9a-f]{24}$/);
    expect(id).not.toContain(principalId);
    expect(id).not.toContain(key);
  });

  it('when the principal or the key differs, then the id differs', () => {
    // Act
    const base = caseIdFor('usr_a', 'key-00000001');
    const otherPrincipal = caseIdFor('usr_b', 'key-00000001');
    const otherKey = caseIdFor('usr_a', 'key-00000002');

    // Assert
    expect(otherPrincipal).not.toBe(base);
    expect(otherKey).not.toBe(base);
  });

  it('when random distinct (principal, key) pairs are used, then their ids are distinct and well-formed', () => {
    // Arrange
    const principalId = fc.stringMatching(/^(usr|key)_[a-z0-9]{1,12}$/);
    const key = fc.stringMatching(/^[A-Za-z0-9_.:-]{8,32}$/);

    // Act / Assert
    fc.assert(
      fc.property(principalId, key, principalId, key, (p1, k1, p2, k2) => {
        fc.pre(p1 !== p2 || k1 !== k2);
        const a = caseIdFor(p1, k1);
        const b = caseIdFor(p2, k2);
        expect(a).toMatch(/^case-[0-9a-f]{24}$/);
        expect(a).not.toBe(b);
      }),
    );
  });
});

import fc from 'fast-check';
import type { Principal } from '../../services/auth';
import type { OrgScope, ScopeFields } from '../../services/scope';
import {
  canSee,
  createScopeResolver,
  expandScope,
  mayActForUnit,
  scopeFilter,
  withinScope,
} from '../../services/scope';
import { childrenByParent } from '../../common/org-tree';
import { ROLES } from '../../common/roles';
import type { Models } from '../../models';

/** county → street-a → community-a1 → grid-a1; county → street-b → community-b1. */
const units = [
  { id: 'county', parentId: null },
  { id: 'street-a', parentId: 'county' },
  { id: 'community-a1', parentId: 'street-a' },
  { id: 'grid-a1', parentId: 'community-a1' },
  { id: 'street-b', parentId: 'county' },
  { id: 'community-b1', parentId: 'street-b' },
];
const children = childrenByParent(units);

/** Reads a dotted path the way MongoDB does: an array field matches any of its elements. */
function fieldMatches(doc: object, path: string, test: (value: unknown) => boolean): boolean {
  let value: unknown = doc;
  for (const key of path.split('.')) {
    value =
      value !== null && typeof value === 'object'
        ? (value as Record<string, unknown>)[key]
        : undefined;
  }
  return Array.isArray(value) ? value.some(test) : test(value ?? null);
}

/** Evaluates the filter shapes scopeFilter returns, as MongoDB would; anything else throws. */
function matches(filter: Record<string, unknown>, doc: object): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$or') {
      return (condition as Array<Record<string, unknown>>).some((branch) => matches(branch, doc));
    }
    if (key === '$and') {
      return (condition as Array<Record<string, unknown>>).every((branch) => matches(branch, doc));
    }
    if (typeof condition === 'string') return fieldMatches(doc, key, (v) => v === condition);
    if (condition !== null && typeof condition === 'object') {
      const { $in, ...rest } = condition as { $in?: unknown };
      if (!Array.isArray($in) || Object.keys(rest).length > 0) throw new Error('unexpected shape');
      return fieldMatches(doc, key, (v) => ($in as unknown[]).includes(v));
    }
    throw new Error(`unexpected filter shape: ${JSON.stringify({ [key]: condition })}`);
  });
}

function visible<T extends object>(scope: OrgScope, items: T[], fields?: ScopeFields) {
  const filter = scopeFilter(scope, fields);
  return {
    byFilter: items.filter((item) => matches(filter, item)),
    byRule: items.filter((item) => canSee(scope, item, fields)),
  };
}

const cases = [
  { createdBy: { id: 'usr_ann' }, unitId: 'community-a1' },
  { createdBy: { id: 'usr_ann' } },
  { createdBy: { id: 'usr_bob' }, unitId: 'community-b1' },
  { createdBy: { id: 'key_hotline' }, unitId: 'grid-a1' },
  { createdBy: { id: 'key_hotline' }, unitId: null },
  { createdBy: { id: 'usr_dan' }, unitId: 'street-b' },
  { createdBy: { id: 'key_hotline' }, unitId: 'street-a' },
];

const principals: Record<string, Principal> = {
  admin: { kind: 'user', id: 'usr_root', roles: ['admin'], unitIds: [] },
  resident: { kind: 'user', id: 'usr_ann', roles: ['resident'], unitIds: ['street-b'] },
  streetDispatcher: { kind: 'user', id: 'usr_dan', roles: ['dispatcher'], unitIds: ['street-a'] },
  communityStaff: { kind: 'user', id: 'usr_sue', roles: ['staff'], unitIds: ['community-a1'] },
  staffWithoutUnits: { kind: 'user', id: 'usr_eve', roles: ['staff'], unitIds: [] },
  system: { kind: 'apiKey', id: 'key_hotline', roles: ['system'], unitIds: ['county'] },
};

function scopeOf(name: string): OrgScope {
  return expandScope(principals[name]!, children);
}

describe('expandScope', () => {
  it('when a dispatcher holds a street, then the scope is the street and every unit below it', () => {
    // Act
    const scope = scopeOf('streetDispatcher');

    // Assert
    expect([...scope.unitIds].sort()).toEqual(['community-a1', 'grid-a1', 'street-a']);
    expect(scope.all).toBe(false);
  });

  it('when the principal is an admin, then the scope is everything', () => {
    expect(scopeOf('admin').all).toBe(true);
  });

  it('when a resident or a system has unitIds, then they give no unit scope', () => {
    expect(scopeOf('resident').unitIds.size).toBe(0);
    expect(scopeOf('system').unitIds.size).toBe(0);
  });

  it('when a unit is not in the tree, then it still counts as itself', () => {
    // Arrange
    const principal: Principal = { ...principals.communityStaff!, unitIds: ['community-01'] };

    // Act / Assert
    expect([...expandScope(principal, children).unitIds]).toEqual(['community-01']);
  });
});

describe('scopeFilter and canSee', () => {
  it.each(Object.keys(principals))(
    'when the principal is %s, then the filter selects exactly the cases canSee accepts',
    (name) => {
      // Act
      const { byFilter, byRule } = visible(scopeOf(name), cases);

      // Assert
      expect(byFilter).toEqual(byRule);
    },
  );

  it('when the principal is an admin, then every case is visible and the filter is empty', () => {
    expect(scopeFilter(scopeOf('admin'))).toEqual({});
    expect(visible(scopeOf('admin'), cases).byRule).toHaveLength(cases.length);
  });

  it('when the principal is a resident, then only their own cases are visible despite unitIds', () => {
    expect(scopeFilter(scopeOf('resident'))).toEqual({ 'createdBy.id': 'usr_ann' });
    expect(visible(scopeOf('resident'), cases).byRule).toEqual([cases[0], cases[1]]);
  });

  it('when a dispatcher holds a street, then cases of units below it are visible, a sibling street’s are not', () => {
    // Act
    const filter = scopeFilter(scopeOf('streetDispatcher'));
    const { byRule } = visible(scopeOf('streetDispatcher'), cases);

    // Assert
    expect(filter).toEqual({
      $or: [
        { 'createdBy.id': 'usr_dan' },
        { unitId: { $in: ['community-a1', 'grid-a1', 'street-a'] } },
      ],
    });
    expect(byRule).toEqual([cases[0], cases[3], cases[5], cases[6]]);
  });

  it('when staff hold a community, then the street above it is out of scope', () => {
    const { byRule } = visible(scopeOf('communityStaff'), cases);
    expect(byRule).toEqual([cases[0], cases[3]]);
  });

  it('when the items are tasks with another unit field and candidates, then the same rule applies', () => {
    // Arrange
    const fields: ScopeFields = { unitField: 'case.unitId', ownerFields: ['candidates'] };
    const tasks = [
      { case: { unitId: 'grid-a1' }, candidates: ['usr_x'] },
      { case: { unitId: 'community-b1' }, candidates: ['usr_sue', 'usr_y'] },
      { case: { unitId: 'community-b1' }, candidates: [] },
      { case: {}, candidates: 'usr_sue' },
    ];

    // Act
    const scope = scopeOf('communityStaff');
    const { byFilter, byRule } = visible(scope, tasks, fields);

    // Assert
    expect(scopeFilter(scope, fields)).toEqual({
      $or: [{ candidates: 'usr_sue' }, { 'case.unitId': { $in: ['community-a1', 'grid-a1'] } }],
    });
    expect(byRule).toEqual([tasks[0], tasks[1], tasks[3]]);
    expect(byFilter).toEqual(byRule);
  });

  it('when candidates own a claim pool only while it is open, then closed pools drop them and keep their claimants', () => {
    // Arrange
    const fields: ScopeFields = {
      unitField: 'caseUnitId',
      ownerFields: [
        { path: 'candidates', when: [{ kind: 'task' }, { status: 'open' }] },
        'claimants',
      ],
    };
    const tasks = [
      { kind: 'claim', status: 'open', candidates: ['usr_x'], claimants: [] },
      { kind: 'claim', status: 'completed', candidates: ['usr_x'], claimants: [] },
      { kind: 'claim', status: 'completed', candidates: ['usr_x'], claimants: ['usr_x'] },
      { kind: 'task', status: 'completed', candidates: ['usr_x'], claimants: [] },
      { kind: 'claim', status: 'cancelled', caseUnitId: 'grid-a1', candidates: [], claimants: [] },
    ];
    const outsider = expandScope(
      { kind: 'user', id: 'usr_x', roles: ['staff'], unitIds: ['street-b'] },
      children,
    );

    // Act
    const { byFilter, byRule } = visible(outsider, tasks, fields);

    // Assert
    expect(scopeFilter(outsider, fields)).toEqual({
      $or: [
        { candidates: 'usr_x', kind: 'task' },
        { candidates: 'usr_x', status: 'open' },
        { claimants: 'usr_x' },
        { caseUnitId: { $in: ['community-b1', 'street-b'] } },
      ],
    });
    expect(byRule).toEqual([tasks[0], tasks[2], tasks[3]]);
    expect(byFilter).toEqual(byRule);
  });

  it('when principals, trees and items are random, then filter and rule always agree', () => {
    // Arrange
    const id = fc.constantFrom('usr_a', 'usr_b', 'key_c');
    const unit = fc.constantFrom('u1', 'u2', 'u3', 'u4');
    const tree = fc.array(fc.record({ id: unit, parentId: fc.option(unit, { nil: null }) }), {
      maxLength: 6,
    });
    const principal = fc.record({
      kind: fc.constantFrom('user' as const, 'apiKey' as const),
      id,
      roles: fc.subarray([...ROLES]),
      unitIds: fc.uniqueArray(unit, { maxLength: 3 }),
    });
    const item = fc.record(
      {
        createdBy: fc.record({ id }),
        unitId: fc.option(unit, { nil: undefined }),
        candidates: fc.array(id, { maxLength: 2 }),
        status: fc.constantFrom('open', 'completed'),
      },
      { requiredKeys: ['createdBy'] },
    );
    const fields = fc.constantFrom<ScopeFields | undefined>(
      undefined,
      { ownerFields: ['createdBy.id', 'candidates'] },
      { ownerFields: ['createdBy.id', { path: 'candidates', when: [{ status: 'open' }] }] },
    );

    // Act / Assert
    fc.assert(
      fc.property(tree, principal, fc.array(item, { maxLength: 12 }), fields, (t, p, list, f) => {
        const { byFilter, byRule } = visible(expandScope(p, childrenByParent(t)), list, f);
        expect(byFilter).toEqual(byRule);
      }),
    );
  });
});

describe('withinScope', () => {
  it('when a list filter and a scope name different fields, then all sit at the top level (FerretDB pushes those down)', () => {
    // Act
    const filter = withinScope(
      { candidateUserIds: 'usr_sue', status: 'open' },
      scopeFilter(scopeOf('communityStaff'), { unitField: 'caseUnitId' }),
    );

    // Assert
    expect(filter).toEqual({
      candidateUserIds: 'usr_sue',
      status: 'open',
      $or: [{ 'createdBy.id': 'usr_sue' }, { caseUnitId: { $in: ['community-a1', 'grid-a1'] } }],
    });
    expect(withinScope({ status: 'open' }, scopeFilter(scopeOf('admin')))).toEqual({
      status: 'open',
    });
  });

  it('when both name a field or an $or, then the merged filter selects exactly what both select', () => {
    const units = ['community-a1', 'community-b1', 'grid-a1', 'street-a'];
    const users = ['usr_ann', 'usr_bob', 'usr_sue'];
    const doc = fc.record({
      createdBy: fc.record({ id: fc.constantFrom(...users) }),
      unitId: fc.constantFrom(...units),
      status: fc.constantFrom('open', 'claimed', 'completed'),
    });
    const condition = fc.oneof(
      fc.record({ unitId: fc.constantFrom(...units) }),
      fc.record({ status: fc.constantFrom('open', 'claimed') }),
      fc.record({ unitId: fc.record({ $in: fc.subarray(units) }) }),
      fc.record({
        $or: fc.array(fc.record({ 'createdBy.id': fc.constantFrom(...users) }), {
          minLength: 1,
          maxLength: 2,
        }),
      }),
    );
    const filter = fc
      .array(condition, { maxLength: 3 })
      .map((parts) => Object.assign({}, ...parts) as Record<string, unknown>);
    fc.assert(
      fc.property(filter, filter, fc.array(doc, { maxLength: 8 }), (own, scope, docs) => {
        const merged = withinScope(own, scope);
        for (const d of docs) {
          expect(matches(merged, d)).toBe(matches(own, d) && matches(scope, d));
        }
      }),
    );
  });
});

describe('mayActForUnit', () => {
  it('when a street dispatcher files for a community below, then yes; for a sibling street, no', () => {
    const dispatcher = principals.streetDispatcher!;
    const scope = scopeOf('streetDispatcher');
    expect(mayActForUnit(dispatcher, scope, 'community-a1')).toBe(true);
    expect(mayActForUnit(dispatcher, scope, 'community-b1')).toBe(false);
  });

  it('when a resident or a system files, then any unit will do', () => {
    expect(mayActForUnit(principals.resident!, scopeOf('resident'), 'community-a1')).toBe(true);
    expect(mayActForUnit(principals.system!, scopeOf('system'), 'street-b')).toBe(true);
  });
});

describe('createScopeResolver', () => {
  /** A unit store that counts its reads, and an org revision the test moves as a write would. */
  function fakeOrg() {
    let reads = 0;
    let revision = 7;
    let failNext = false;
    const stored = [...units];
    const models = {
      Unit: {
        find: () => ({
          lean: () => {
            reads++;
            if (failNext) {
              failNext = false;
              return Promise.reject(new Error('store unavailable'));
            }
            return Promise.resolve(
              stored.map((u) => ({ _id: u.id, name: u.id, type: 'grid', parentId: u.parentId })),
            );
          },
        }),
      },
      OrgRevision: {
        findById: () => ({ lean: () => Promise.resolve({ revision }) }),
      },
    } as unknown as Pick<Models, 'Unit' | 'OrgRevision'>;
    return {
      models,
      stored,
      reads: () => reads,
      bump: () => revision++,
      failNextRead: () => (failNext = true),
    };
  }

  it('when the org revision stays, then the tree is read once however many requests come', async () => {
    const db = fakeOrg();
    const resolver = createScopeResolver(db.models);
    for (let i = 0; i < 5; i++) await resolver.resolve(principals.streetDispatcher!);
    expect(db.reads()).toBe(1);
  });

  it('when an org write bumps the revision, then the very next request sees the new unit', async () => {
    // Arrange
    const db = fakeOrg();
    const resolver = createScopeResolver(db.models);
    const dispatcher = principals.streetDispatcher!;
    await resolver.resolve(dispatcher);

    // Act: another replica writes a unit and bumps the revision
    db.stored.push({ id: 'community-a3', parentId: 'street-a' });
    db.bump();
    const after = await resolver.resolve(dispatcher);

    // Assert
    expect(db.reads()).toBe(2);
    expect(after.unitIds.has('community-a3')).toBe(true);
    expect(await resolver.unknownUnits(['community-a3', 'nowhere'])).toEqual(['nowhere']);
  });

  it('when requests arrive together after a bump, then they share one read of the units', async () => {
    const db = fakeOrg();
    const resolver = createScopeResolver(db.models);
    await resolver.resolve(principals.streetDispatcher!);
    db.bump();
    await Promise.all(
      Array.from({ length: 4 }, () => resolver.resolve(principals.streetDispatcher!)),
    );
    expect(db.reads()).toBe(2);
  });

  it('when a read of the units fails, then it is not kept and the next request reads again', async () => {
    const db = fakeOrg();
    const resolver = createScopeResolver(db.models);
    db.failNextRead();
    await expect(resolver.resolve(principals.streetDispatcher!)).rejects.toThrow(
      'store unavailable',
    );
    const scope = await resolver.resolve(principals.streetDispatcher!);
    expect(scope.unitIds.has('community-a1')).toBe(true);
    expect(db.reads()).toBe(2);
  });

  it('when the principal is an admin or a resident, then the tree is not read at all', async () => {
    const db = fakeOrg();
    const resolver = createScopeResolver(db.models);
    expect((await resolver.resolve(principals.admin!)).all).toBe(true);
    expect((await resolver.resolve(principals.resident!)).unitIds.size).toBe(0);
    expect(db.reads()).toBe(0);
  });
});

import { createHash } from 'node:crypto';
import { createUserBody } from '../../services/account-input';
import { importBody } from '../../services/org-input';
import { ConfigError } from '../../common/config';
import type { UnitType } from '../../lang/vocabulary';
import { BUILTIN_POST_ROLES, UNIT_TYPES } from '../../lang/vocabulary';
import { selectPeople } from '../../common/people-selector';
import { OrgTree } from '../../common/org-tree';
import type { DemoCounty } from '../../demo/county';
import {
  DEMO_COUNTY_ID,
  DEMO_DECLARED_ROLES,
  DEMO_PASSWORD,
  SEVEN_LEVELS,
  generateDemoCounty,
  summarizeDemoCounty,
} from '../../demo/county';
import { DEMO_MAIL_DOMAIN } from '../../demo/names';
import { createRng } from '../../demo/random';
import { demoAccountLines, demoSeedMode, orgImportOf } from '../../demo/seed';

const county: DemoCounty = generateDemoCounty();
const tree = new OrgTree(county.units, county.posts);
const unitById = new Map(county.units.map((u) => [u.id, u]));
const personIds = new Set(county.people.map((p) => p.id));

/** The administrative chain, county → … → floor, as common/org-tree.ts lists it. */
const CHAIN = UNIT_TYPES.slice(0, UNIT_TYPES.indexOf('floor') + 1);
/** Co-building units hang under the street or community they are in; departments under their county or street. */
const HUNG_UNDER: Partial<Record<UnitType, readonly UnitType[]>> = {
  cobuilding: ['street', 'community'],
  department: ['county', 'street'],
};

function countOf(type: UnitType): number {
  return county.units.filter((u) => u.type === type).length;
}

function holdersIn(unitId: string, role: string): string[] {
  return county.posts.filter((p) => p.unitId === unitId && p.role === role).map((p) => p.personId);
}

describe('the demo county generator', () => {
  it('when run twice or in another process, then it gives the same county (pinned checksum)', () => {
    // Arrange
    const random = jest.spyOn(Math, 'random');

    // Act
    const again = generateDemoCounty();
    const checksum = createHash('sha256').update(JSON.stringify(again)).digest('hex');

    // Assert
    expect(again).toEqual(county);
    expect(random).not.toHaveBeenCalled();
    // Changes when the generator or its data change on purpose: update it then, and say so
    // (last: the evaluation round's scorers added after everyone else: the county's secretary,
    // resident representatives and social-organisation members; earlier people unchanged).
    expect(checksum).toBe('3420b18c4d38071594b31972ef00a4dc9d51d0907761a86889f333ea05172d2c');
    random.mockRestore();
  });

  it('when given another seed, then the people differ but the fixed upper levels stay', () => {
    const other = generateDemoCounty('another-seed');
    expect(other.people.map((p) => p.name)).not.toEqual(county.people.map((p) => p.name));
    const upper = (c: DemoCounty) =>
      c.units.filter((u) => ['county', 'street', 'community', 'grid'].includes(u.type));
    expect(upper(other)).toEqual(upper(county));
  });

  it('when a stream is forked, then it does not depend on how far its parent was read', () => {
    const a = createRng('s');
    const b = createRng('s');
    b.next();
    b.next();
    expect(a.fork('x').next()).toBe(b.fork('x').next());
    expect(createRng('s').fork('x').next()).not.toBe(createRng('s').fork('y').next());
    const ints = Array.from({ length: 1000 }, () => a.int(1, 3));
    expect(new Set(ints)).toEqual(new Set([1, 2, 3]));
  });

  it('when counted per level, then it is 1 county, 2 streets, 4 communities, 12 grids and a few hundred units below', () => {
    expect(countOf('county')).toBe(1);
    expect(countOf('street')).toBe(2);
    expect(countOf('community')).toBe(4);
    expect(countOf('grid')).toBe(12);
    expect(countOf('compound')).toBeGreaterThanOrEqual(12);
    expect(countOf('compound')).toBeLessThanOrEqual(24);
    expect(countOf('building')).toBeGreaterThanOrEqual(2 * countOf('compound'));
    expect(countOf('entrance')).toBeGreaterThanOrEqual(countOf('building'));
    expect(countOf('floor')).toBeGreaterThanOrEqual(5 * countOf('entrance'));
    expect(countOf('cobuilding')).toBeGreaterThanOrEqual(8);
    expect(countOf('department')).toBeGreaterThanOrEqual(8);
    // Small enough to load in a few seconds on FerretDB.
    expect(county.units.length).toBeLessThan(1000);
    expect(county.people.length).toBeLessThan(1000);
    expect(county.posts.length).toBeLessThan(1500);
    expect(summarizeDemoCounty(county)).toMatchObject({
      unitTotal: county.units.length,
      people: county.people.length,
      postTotal: county.posts.length,
      accounts: county.accounts.length,
    });
  });

  it('when the units are checked, then ids are unique, parents come first and each parent has the right type', () => {
    expect(new Set(county.units.map((u) => u.id)).size).toBe(county.units.length);
    expect(() => new OrgTree(county.units)).not.toThrow(); // unknown parents, cycles
    expect(county.units.filter((u) => u.parentId === null).map((u) => u.id)).toEqual([
      DEMO_COUNTY_ID,
    ]);
    const seen = new Set<string>();
    const misplaced: string[] = [];
    for (const unit of county.units) {
      if (unit.parentId !== null) {
        if (!seen.has(unit.parentId)) misplaced.push(`${unit.id} comes before its parent`);
        const parentType = unitById.get(unit.parentId)!.type;
        const chainIndex = CHAIN.indexOf(unit.type);
        const allowed = chainIndex > 0 ? [CHAIN[chainIndex - 1]!] : (HUNG_UNDER[unit.type] ?? []);
        if (!allowed.includes(parentType)) {
          misplaced.push(`${unit.id} (${unit.type}) under a ${parentType}`);
        }
      }
      seen.add(unit.id);
    }
    expect(misplaced).toEqual([]);
  });

  it('when the posts are checked, then each names a stored unit and person, once, with a known role', () => {
    const declared = new Set(DEMO_DECLARED_ROLES.map((r) => r.key));
    const postIds = county.posts.map((p) => `${p.unitId}:${p.role}:${p.personId}`);
    expect(new Set(postIds).size).toBe(postIds.length);
    for (const post of county.posts) {
      expect(unitById.has(post.unitId)).toBe(true);
      expect(personIds.has(post.personId)).toBe(true);
      expect(post.role in BUILTIN_POST_ROLES || declared.has(post.role)).toBe(true);
    }
    // Declared roles are exactly the non-built-in ones the posts use.
    for (const role of declared) expect(role in BUILTIN_POST_ROLES).toBe(false);
    const used = new Set(county.posts.map((p) => p.role).filter((r) => !(r in BUILTIN_POST_ROLES)));
    expect([...used].sort()).toEqual([...declared].sort());
  });

  it('when each community is checked, then all seven levels are staffed in it', () => {
    const communities = county.units.filter((u) => u.type === 'community');
    for (const community of communities) {
      const below = tree.descendants(community.id);
      const staffed = SEVEN_LEVELS.filter((level) =>
        below.some(
          (unit) =>
            unit.type === level.unitType &&
            level.roles.some((role) => tree.holders(unit.id, role).length > 0),
        ),
      ).map((level) => level.level);
      expect({ community: community.name, staffed }).toEqual({
        community: community.name,
        staffed: ['社区两委', '网格长', '网格员', '楼栋长', '单元长', '分楼层长', '楼层长'],
      });
      for (const role of ['secretary', 'director', 'committee-member', 'dispatcher']) {
        expect(holdersIn(community.id, role).length).toBeGreaterThan(0);
      }
      // 双报到 party members and volunteers are attached to the community.
      expect(holdersIn(community.id, 'party-member').length).toBeGreaterThanOrEqual(4);
      expect(holdersIn(community.id, 'volunteer').length).toBeGreaterThanOrEqual(3);
    }
  });

  it('when the evaluation round looks for its scorers, then every community has resident representatives and social organisations, and every compound a representative', () => {
    // The evaluation round's selectors (definitions/evaluation-round.yaml), read as the engine does.
    for (const street of county.units.filter((u) => u.type === 'street')) {
      const context = { caseUnitId: street.id, assigneeUnitId: null, data: {} };
      const found = (role: string, unitsOfType: UnitType) =>
        selectPeople(tree, { role, unitsOfType, under: 'case' }, context).people.length;
      expect(found('resident-rep', 'community')).toBeGreaterThan(0);
      expect(found('resident-rep', 'compound')).toBeGreaterThan(0);
      expect(found('social-organisation', 'community')).toBeGreaterThan(0);
      expect(found('liaison', 'cobuilding')).toBeGreaterThan(0);
    }
    for (const community of county.units.filter((u) => u.type === 'community')) {
      expect(holdersIn(community.id, 'resident-rep')).toHaveLength(2);
      expect(holdersIn(community.id, 'social-organisation')).toHaveLength(2);
      // A representative is a resident: someone holding a post in a compound of the community.
      for (const rep of holdersIn(community.id, 'resident-rep')) {
        expect(tree.unitsOf(rep).some((id) => id.startsWith(`${community.id}-g`))).toBe(true);
      }
    }
    const compounds = county.units.filter((u) => u.type === 'compound');
    expect(compounds.filter((c) => holdersIn(c.id, 'resident-rep').length !== 1)).toEqual([]);
    // The county's party secretary, to whom a street's evaluation meeting escalates.
    expect(holdersIn(DEMO_COUNTY_ID, 'secretary')).toHaveLength(1);
  });

  it('when each unit is checked, then the posts its type needs are held', () => {
    const needs: Partial<Record<UnitType, string[]>> = {
      county: ['secretary', 'leader', 'director', 'dispatcher', 'duty-officer'],
      street: ['secretary', 'director', 'leader', 'dispatcher', 'duty-officer'],
      grid: ['grid-leader', 'grid-worker'],
      compound: ['property-manager', 'property-staff'],
      building: ['building-head'],
      entrance: ['entrance-head'],
      floor: ['floor-group-head'],
      cobuilding: ['secretary', 'liaison'],
      department: ['director', 'officer', 'duty-officer'],
    };
    const vacant = county.units.flatMap((unit) =>
      (needs[unit.type] ?? [])
        .filter((role) => holdersIn(unit.id, role).length === 0)
        .map((role) => `${unit.id} ${role}`),
    );
    expect(vacant).toEqual([]);
    // Some floors have no 楼层长 of their own: their 分楼层长 answers, as in the field.
    const floors = county.units.filter((u) => u.type === 'floor');
    const withHead = floors.filter((f) => holdersIn(f.id, 'floor-head').length > 0);
    expect(withHead.length).toBeGreaterThan(floors.length / 4);
    expect(withHead.length).toBeLessThan(floors.length);
  });

  it('when the pairings are checked, then every community, compound and building has its 包联, and a compound’s roll-call reaches them', () => {
    const paired = (type: UnitType, kind: string) =>
      county.units
        .filter((u) => u.type === type)
        .filter((u) => !county.pairings.some((p) => p.unitId === u.id && p.kind === kind))
        .map((u) => u.id);
    expect(paired('community', 'leader')).toEqual([]);
    expect(paired('compound', 'unit')).toEqual([]);
    expect(paired('building', 'cadre')).toEqual([]);
    for (const pairing of county.pairings) {
      if (pairing.personId !== undefined) expect(personIds.has(pairing.personId)).toBe(true);
    }
    // The shipped roll-call's pairing selectors, read as the engine reads them.
    const withPairings = new OrgTree(county.units, county.posts, county.pairings);
    const compound = county.units.find((u) => u.type === 'compound')!;
    const context = { caseUnitId: compound.id, assigneeUnitId: null, data: {} };
    const cadres = selectPeople(
      withPairings,
      { pairedWith: 'case', kind: 'cadre', andBelow: true },
      context,
    );
    const liaisons = selectPeople(withPairings, { pairedWith: 'case', kind: 'unit' }, context);
    const buildings = county.units.filter((u) => u.parentId === compound.id).length;
    expect(cadres.people).toHaveLength(buildings);
    expect(liaisons.people.length).toBeGreaterThan(0);
  });

  it('when the people are checked, then ids, names and demo addresses are unique and no phone is made up', () => {
    const emails = county.people.map((p) => p.email);
    expect(personIds.size).toBe(county.people.length);
    expect(new Set(county.people.map((p) => p.name)).size).toBe(county.people.length);
    expect(new Set(emails).size).toBe(emails.length);
    for (const person of county.people) {
      expect(person.email).toMatch(
        new RegExp(`^[a-z]+\\d*@${DEMO_MAIL_DOMAIN.replace('.', '\\.')}$`),
      );
      expect(person.name).toMatch(/^[\u4e00-\u9fff]{2,4}$/);
      expect(person).not.toHaveProperty('phone');
      expect(person).not.toHaveProperty('userId');
    }
  });

  it('when the demo accounts are checked, then each persona signs in as an existing person within its units', () => {
    const usernames = county.accounts.map((a) => a.username);
    expect(new Set(usernames).size).toBe(usernames.length);
    expect(usernames).toEqual(
      expect.arrayContaining([
        'demo-admin',
        'demo-resident',
        'demo-grid-worker',
        'demo-community-dispatcher',
        'demo-street-director',
        'demo-liaison',
        'demo-party-member',
      ]),
    );
    const roleOf = Object.fromEntries(county.accounts.map((a) => [a.username, a.roles]));
    expect(roleOf['demo-admin']).toEqual(['admin']);
    expect(roleOf['demo-resident']).toEqual(['resident']);
    expect(roleOf['demo-community-dispatcher']).toEqual(['dispatcher']);
    expect(new Set(county.accounts.map((a) => a.personId)).size).toBe(county.accounts.length);
    for (const account of county.accounts) {
      expect(personIds.has(account.personId)).toBe(true);
      for (const unitId of account.unitIds) {
        expect(unitById.has(unitId)).toBe(true);
        expect(tree.unitsOf(account.personId)).toContain(unitId);
      }
      expect(account.displayName).toBe(county.people.find((p) => p.id === account.personId)!.name);
    }
    const resident = county.accounts.find((a) => a.username === 'demo-resident')!;
    expect(unitById.get(resident.homeUnitId!)?.type).toBe('floor');
    expect(tree.unitsOf(resident.personId)).toEqual([]);
    const partyMember = county.accounts.find((a) => a.username === 'demo-party-member')!;
    expect(county.posts.filter((p) => p.personId === partyMember.personId)).toEqual([
      { unitId: 'demo-wenhualu', role: 'party-member', personId: partyMember.personId },
    ]);
  });

  it('when put through the API request schemas, then the import and every account validate', () => {
    const userIds = new Map(county.accounts.map((a, i) => [a.username, `usr_${i}`]));
    const input = orgImportOf(county, userIds);
    expect(importBody.safeParse(input).error).toBeUndefined();
    expect(input.people.filter((p) => p.userId !== undefined)).toHaveLength(county.accounts.length);
    for (const account of county.accounts) {
      const parsed = createUserBody.safeParse({
        username: account.username,
        displayName: account.displayName,
        password: DEMO_PASSWORD,
        roles: account.roles,
        unitIds: account.unitIds,
      });
      expect(parsed.error).toBeUndefined();
    }
  });
});

describe('the demo seed switches', () => {
  it('when DEMO_SEED is unset, auto or off, then npm start loads the demo county or not', () => {
    expect(demoSeedMode({})).toBe('auto');
    expect(demoSeedMode({ DEMO_SEED: 'auto' })).toBe('auto');
    expect(demoSeedMode({ DEMO_SEED: 'OFF' })).toBe('off');
  });

  it('when DEMO_SEED is something else, then start-up stops naming the variable', () => {
    expect(() => demoSeedMode({ DEMO_SEED: 'maybe' })).toThrow(ConfigError);
    expect(() => demoSeedMode({ DEMO_SEED: 'maybe' })).toThrow(/DEMO_SEED/);
  });

  it('when the demo users are listed, then the password is given once and each persona once', () => {
    const lines = demoAccountLines(county.accounts.map((a) => ({ ...a, password: DEMO_PASSWORD })));
    expect(lines[0]).toBe(`Demo users (password: ${DEMO_PASSWORD}):`);
    expect(lines).toHaveLength(county.accounts.length + 1);
    expect(lines[1]).toContain('demo-admin');
    expect(demoAccountLines([])).toEqual([]);
  });
});

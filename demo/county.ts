import type { UnitType } from '../lang/vocabulary';
import type { Role } from '../common/roles';
import type { PersonInput, PostInput, UnitInput } from '../services/org-import';
import type { Generation, NameBook } from './names';
import { createNameBook } from './names';
import {
  CHINESE_ORDINALS,
  COBUILDING_UNITS,
  COMPOUND_NAMES,
  COUNTY,
  DEPARTMENTS,
  STREETS,
} from './places';
import type { Rng } from './random';
import { createRng } from './random';
import type { PairingInput } from '../services/pairing-input';

/**
 * The demo county (桐川县, invented): a pure, deterministic generator. The same seed gives the
 * same units, people, posts and demo accounts, byte for byte, on every run; nothing here reads
 * the clock, the environment or Math.random. Seeding it into a store is `seed.ts`'s job.
 */

/** The seed of the shipped demo county. Changing it changes everyone's demo data. */
export const DEMO_COUNTY_SEED = 'tongchuan-demo-1';

/** The root of the demo county: its presence marks a store the demo was loaded into. */
export const DEMO_COUNTY_ID = COUNTY.id;

/** The password of every demo account (documented in demo/README.md; demo stores only). */
export const DEMO_PASSWORD = 'demo-county';

/**
 * Post roles the demo uses beyond the built-in ones (lang/vocabulary.ts BUILTIN_POST_ROLES). A
 * process definition that names one declares it under `roles` with this label
 * (docs/definition-language.md section 5).
 */
export const DEMO_DECLARED_ROLES: ReadonlyArray<{ key: string; label: string }> = [
  { key: 'property-manager', label: '物业项目经理' },
  { key: 'property-staff', label: '物业服务人员' },
  { key: 'social-organisation', label: '社会组织代表' },
];

/**
 * The seven-level community organisation (七级组织体系) and where each level's posts sit. A
 * 分楼层长 answers for a group of about three floors and holds the post on each of them, so a
 * floor's 分楼层长 is found from the floor itself.
 */
export const SEVEN_LEVELS: ReadonlyArray<{
  level: string;
  unitType: UnitType;
  roles: readonly string[];
}> = [
  {
    level: '社区两委',
    unitType: 'community',
    roles: ['secretary', 'director', 'deputy-director', 'committee-member'],
  },
  { level: '网格长', unitType: 'grid', roles: ['grid-leader'] },
  { level: '网格员', unitType: 'grid', roles: ['grid-worker'] },
  { level: '楼栋长', unitType: 'building', roles: ['building-head'] },
  { level: '单元长', unitType: 'entrance', roles: ['entrance-head'] },
  { level: '分楼层长', unitType: 'floor', roles: ['floor-group-head'] },
  { level: '楼层长', unitType: 'floor', roles: ['floor-head'] },
];

/** A sign-in account for one persona of the demo, for a console's one-click demo users. */
export interface DemoAccount {
  username: string;
  displayName: string;
  roles: Exclude<Role, 'system'>[];
  /** The units whose cases the account sees (its post's unit); empty for admins and residents. */
  unitIds: string[];
  /** The person the account signs in as (their `userId` is set to the account when seeded). */
  personId: string;
  /** Who this is, for a demo picker: `网格员 · 文化路社区第一网格`. */
  persona: string;
  /** For residents: the floor they live on (where their requests are filed). */
  homeUnitId?: string;
}

export interface DemoCounty {
  seed: string;
  /** Parents before children. */
  units: UnitInput[];
  /** Without `userId`: accounts are created when seeding and linked then. */
  people: PersonInput[];
  posts: PostInput[];
  /** 包联: leaders with communities, co-building units with compounds, cadres with buildings. */
  pairings: PairingInput[];
  accounts: DemoAccount[];
}

/** Weighted storeys of a building: mostly 5–7-storey walk-ups, a few 11-storey blocks. */
const STOREYS: ReadonlyArray<readonly [number, number]> = [
  [5, 3],
  [6, 6],
  [7, 2],
  [11, 1],
];
/** Floors a 分楼层长 answers for. */
const FLOOR_GROUP_SIZE = 3;
/** Share of floors with their own 楼层长; the others are vacant (their 分楼层长 answers). */
const FLOOR_HEAD_SHARE = 0.5;
/**
 * The evaluation round's scorers (definitions/evaluation-round.yaml, Xunyi's 居民代表 and 社会组织
 * 代表, seeds/002), counts chosen: 2 resident representatives (居民代表) at each community, drawn
 * from its residents, and 1 in each compound, a resident of it; 2 social-organisation members
 * (社会组织代表: the community's 社工站, a volunteer association…) at each community.
 */
const COMMUNITY_RESIDENT_REPS = 2;
const COMPOUND_RESIDENT_REPS = 1;
const SOCIAL_ORGANISATION_MEMBERS = 2;

export function generateDemoCounty(seed: string = DEMO_COUNTY_SEED): DemoCounty {
  const root = createRng(seed);
  const builder = new CountyBuilder(root, createNameBook(root.fork('names')));
  builder.build();
  return {
    seed,
    units: builder.units,
    people: builder.people,
    posts: builder.posts,
    pairings: builder.pairings,
    accounts: builder.accounts,
  };
}

class CountyBuilder {
  readonly units: UnitInput[] = [];
  readonly people: PersonInput[] = [];
  readonly posts: PostInput[] = [];
  readonly pairings: PairingInput[] = [];
  readonly accounts: DemoAccount[] = [];
  private readonly unitNames = new Map<string, string>();
  /** The first holder of each `unit:role`, for picking the demo accounts' people. */
  private readonly firstHolder = new Map<string, string>();
  /** Staff of county, street, department and co-building units, who may report to communities. */
  private readonly workingStaff: string[] = [];
  /** Working staff already reporting to a community (one each: where they live). */
  private readonly reported = new Set<string>();
  private readonly compoundNames: string[];
  /** The residents of each compound (floor and building posts), by community, for the scorers. */
  private readonly compoundResidents = new Map<string, Map<string, string[]>>();

  constructor(
    private readonly rng: Rng,
    private readonly names: NameBook,
  ) {
    this.compoundNames = rng.fork('compound-names').shuffle(COMPOUND_NAMES);
  }

  build(): void {
    this.unit(COUNTY.id, COUNTY.name, 'county', null);
    this.countyStaff();
    for (const street of STREETS) {
      this.unit(street.id, street.name, 'street', COUNTY.id);
      this.streetStaff(street.id);
    }
    this.departments();
    for (const street of STREETS) {
      for (const community of street.communities) {
        this.unit(community.id, community.name, 'community', street.id);
      }
    }
    this.cobuildingUnits();
    for (const street of STREETS) {
      for (const community of street.communities) {
        this.community(community.id, community.name, community.grids);
      }
    }
    this.pairUp();
    this.demoAccounts();
    // Last, so everyone before keeps their id and name (new people are numbered after them).
    this.evaluationScorers();
  }

  /**
   * The people an evaluation round needs beyond the staff: the county's party secretary (县委
   * 书记, where a street's round escalates), and in each community its resident representatives
   * (居民代表, community and compound posts) and social-organisation members (社会组织代表). Own
   * streams, so nothing drawn before changes.
   */
  private evaluationScorers(): void {
    this.staff(COUNTY.id, 'secretary', 'middle');
    for (const [communityId, compounds] of this.compoundResidents) {
      const rng = this.rng.fork(`scorers/${communityId}`);
      const reps = new Set<string>();
      for (const [compoundId, residents] of compounds) {
        for (const id of rng.shuffle(residents).slice(0, COMPOUND_RESIDENT_REPS)) {
          reps.add(id);
          this.post(compoundId, 'resident-rep', id);
        }
      }
      const everyone = [...compounds.values()].flat().filter((id) => !reps.has(id));
      for (const id of rng.shuffle(everyone).slice(0, COMMUNITY_RESIDENT_REPS)) {
        this.post(communityId, 'resident-rep', id);
      }
      for (let i = 0; i < SOCIAL_ORGANISATION_MEMBERS; i++) {
        this.staff(communityId, 'social-organisation', rng.pick(['middle', 'younger'] as const));
      }
    }
  }

  /**
   * 包联, without randomness (the other streams stay as they were): each community paired with
   * a county leader (县级领导包联社区: the county's 分管领导 and 主任 in turn), each compound
   * with a co-building unit (单位包联小区, whose 联络员 answers), each building with one cadre
   * of a street or department (干部包楼栋). Xixiang pairs 92 units and 2,500 cadres with 273
   * grids (../shared/seeds); one unit per compound and one cadre per building are chosen, scaled
   * down to the demo's 18 compounds and 50 buildings.
   */
  private pairUp(): void {
    const leaders = [this.holderOf(COUNTY.id, 'leader'), this.holderOf(COUNTY.id, 'director')];
    const cadreUnits = new Set(
      this.units.filter((u) => u.type === 'street' || u.type === 'department').map((u) => u.id),
    );
    const cadres = [
      ...new Set(
        this.posts
          .filter((p) => cadreUnits.has(p.unitId) && p.role !== 'dispatcher')
          .map((p) => p.personId),
      ),
    ];
    const partners = COBUILDING_UNITS.map((u) => u.id);
    let community = 0;
    let compound = 0;
    let building = 0;
    for (const unit of this.units) {
      if (unit.type === 'community') {
        const personId = leaders[community++ % leaders.length]!;
        this.pairings.push({ unitId: unit.id, kind: 'leader', personId });
      } else if (unit.type === 'compound') {
        const partnerUnitId = partners[compound++ % partners.length]!;
        this.pairings.push({ unitId: unit.id, kind: 'unit', partnerUnitId });
      } else if (unit.type === 'building') {
        const personId = cadres[building++ % cadres.length]!;
        this.pairings.push({ unitId: unit.id, kind: 'cadre', personId });
      }
    }
  }

  // ── units, people, posts ──────────────────────────────────────────────────────────────────

  private unit(id: string, name: string, type: UnitType, parentId: string | null): void {
    this.units.push({ id, name, type, parentId });
    this.unitNames.set(id, name);
  }

  private person(generation: Generation): string {
    const id = `demo-p${String(this.people.length + 1).padStart(4, '0')}`;
    const { name, email } = this.names.next(generation);
    this.people.push({ id, name, email });
    return id;
  }

  private post(unitId: string, role: string, personId: string): void {
    this.posts.push({ unitId, role, personId });
    const key = `${unitId}:${role}`;
    if (!this.firstHolder.has(key)) this.firstHolder.set(key, personId);
  }

  /** A new person holding `role` in `unitId`. */
  private staff(unitId: string, role: string, generation: Generation): string {
    const id = this.person(generation);
    this.post(unitId, role, id);
    return id;
  }

  private holderOf(unitId: string, role: string): string {
    const id = this.firstHolder.get(`${unitId}:${role}`);
    if (!id) throw new Error(`demo county: nobody holds ${role} in ${unitId}`);
    return id;
  }

  // ── county, streets, departments, co-building units ───────────────────────────────────────

  /** The county's social-governance command centre (社会治理综合指挥中心). */
  private countyStaff(): void {
    const rng = this.rng.fork('county');
    this.workingStaff.push(
      this.staff(COUNTY.id, 'leader', 'middle'),
      this.staff(COUNTY.id, 'director', 'middle'),
      this.staff(COUNTY.id, 'dispatcher', 'younger'),
      this.staff(COUNTY.id, 'dispatcher', rng.pick(['younger', 'middle'] as const)),
      this.staff(COUNTY.id, 'duty-officer', 'younger'),
      this.staff(COUNTY.id, 'officer', 'younger'),
    );
  }

  /** 街道: party working committee, office, and the street's dispatch centre. */
  private streetStaff(streetId: string): void {
    const rng = this.rng.fork(`street/${streetId}`);
    this.workingStaff.push(
      this.staff(streetId, 'secretary', 'middle'),
      this.staff(streetId, 'director', 'middle'),
      this.staff(streetId, 'deputy-director', 'middle'),
      this.staff(streetId, 'leader', 'middle'),
      this.staff(streetId, 'dispatcher', 'younger'),
      this.staff(streetId, 'dispatcher', rng.pick(['younger', 'middle'] as const)),
      this.staff(streetId, 'duty-officer', 'younger'),
      this.staff(streetId, 'officer', 'younger'),
      this.staff(streetId, 'officer', rng.pick(['younger', 'middle'] as const)),
    );
  }

  /** 职能部门: a head, two officers who take the whistles, a duty officer. */
  private departments(): void {
    for (const department of DEPARTMENTS) {
      this.unit(department.id, department.name, 'department', department.parentId);
      this.workingStaff.push(
        this.staff(department.id, 'director', 'middle'),
        this.staff(department.id, 'officer', 'middle'),
        this.staff(department.id, 'officer', 'younger'),
        this.staff(department.id, 'duty-officer', 'younger'),
      );
    }
  }

  /** 驻区单位: the unit's party secretary and one or two liaisons (联络员). */
  private cobuildingUnits(): void {
    const rng = this.rng.fork('cobuilding');
    for (const unit of COBUILDING_UNITS) {
      this.unit(unit.id, unit.name, 'cobuilding', unit.parentId);
      this.workingStaff.push(
        this.staff(unit.id, 'secretary', 'middle'),
        this.staff(unit.id, 'liaison', 'middle'),
      );
      if (rng.chance(0.5)) this.workingStaff.push(this.staff(unit.id, 'liaison', 'younger'));
    }
  }

  // ── a community and everything below it ───────────────────────────────────────────────────

  private community(communityId: string, communityName: string, gridCount: number): void {
    const rng = this.rng.fork(`community/${communityId}`);
    // 社区两委: the secretary is often the director too (一肩挑).
    const secretary = this.staff(communityId, 'secretary', 'middle');
    if (rng.chance(0.5)) this.post(communityId, 'director', secretary);
    else this.staff(communityId, 'director', 'middle');
    const committee = [this.staff(communityId, 'deputy-director', 'middle')];
    for (let i = 0; i < 3; i++) {
      committee.push(
        this.staff(communityId, 'committee-member', rng.pick(['middle', 'younger'] as const)),
      );
    }
    this.staff(communityId, 'dispatcher', 'younger');
    this.staff(communityId, 'officer', 'younger');
    this.staff(communityId, 'officer', rng.pick(['younger', 'middle'] as const));

    const residents: string[] = [];
    for (let g = 1; g <= gridCount; g++) {
      const gridId = `${communityId}-g${g}`;
      this.unit(gridId, `${communityName}第${CHINESE_ORDINALS[g - 1]}网格`, 'grid', communityId);
      // 网格长: a 两委 member leads the grid; 网格员: one or two full-time grid workers.
      this.post(gridId, 'grid-leader', committee[(g - 1) % committee.length]!);
      this.staff(gridId, 'grid-worker', 'younger');
      if (rng.chance(0.4)) {
        this.staff(gridId, 'grid-worker', rng.pick(['younger', 'middle'] as const));
      }
      const compounds = rng.int(1, 2);
      for (let c = 1; c <= compounds; c++) {
        const compoundId = `${gridId}-c${c}`;
        const living = this.compound(compoundId, gridId, rng);
        residents.push(...living);
        const byCompound = this.compoundResidents.get(communityId) ?? new Map<string, string[]>();
        byCompound.set(compoundId, [...new Set(living)]);
        this.compoundResidents.set(communityId, byCompound);
      }
    }

    // 双报到: party members working in the county's offices and units report to the community
    // they live in; retired members too. Volunteers are mostly residents already serving.
    const reporting = rng
      .shuffle(this.workingStaff.filter((id) => !this.reported.has(id)))
      .slice(0, 4);
    reporting.forEach((id) => this.reported.add(id));
    for (let i = 0; i < 4; i++) reporting.push(this.person('older'));
    for (const id of reporting) this.post(communityId, 'party-member', id);
    const volunteers = rng.shuffle(residents.filter((id) => !reporting.includes(id))).slice(0, 4);
    for (let i = 0; i < 3; i++)
      volunteers.push(this.person(rng.pick(['younger', 'middle'] as const)));
    for (const id of volunteers) this.post(communityId, 'volunteer', id);
  }

  /** A compound with its property service, buildings, entrances and floors; returns its residents. */
  private compound(compoundId: string, gridId: string, rng: Rng): string[] {
    const name = this.compoundNames.shift();
    if (!name) throw new Error('demo county: more compounds than compound names');
    this.unit(compoundId, name, 'compound', gridId);
    this.staff(compoundId, 'property-manager', 'middle');
    this.staff(compoundId, 'property-staff', rng.pick(['younger', 'middle'] as const));
    this.staff(compoundId, 'property-staff', rng.pick(['younger', 'middle'] as const));
    // About half the compounds have their own party branch (小区党支部), led by a resident.
    const branchSecretary = rng.chance(0.5) ? this.staff(compoundId, 'secretary', 'older') : null;

    const residents: string[] = [];
    const buildings = rng.int(2, 3);
    for (let b = 1; b <= buildings; b++) {
      const buildingId = `${compoundId}-b${b}`;
      this.unit(buildingId, `${b}号楼`, 'building', compoundId);
      // A 党员楼栋长: the branch secretary often heads the first building.
      const buildingHead =
        b === 1 && branchSecretary !== null
          ? branchSecretary
          : this.person(rng.pick(['older', 'middle'] as const));
      this.post(buildingId, 'building-head', buildingHead);
      residents.push(buildingHead);
      const storeys = rng.weighted(STOREYS);
      const entrances = rng.int(1, 2);
      for (let e = 1; e <= entrances; e++) {
        const entranceId = `${buildingId}-e${e}`;
        this.unit(entranceId, `${e}单元`, 'entrance', buildingId);
        const entranceHead =
          entrances === 1 && rng.chance(0.4)
            ? buildingHead
            : this.person(rng.pick(['older', 'middle'] as const));
        this.post(entranceId, 'entrance-head', entranceHead);
        if (entranceHead !== buildingHead) residents.push(entranceHead);
        residents.push(...this.floors(entranceId, storeys, rng));
      }
    }
    return residents;
  }

  private floors(entranceId: string, storeys: number, rng: Rng): string[] {
    const residents: string[] = [];
    let groupHead = '';
    for (let f = 1; f <= storeys; f++) {
      const floorId = `${entranceId}-f${f}`;
      this.unit(floorId, `${f}层`, 'floor', entranceId);
      if ((f - 1) % FLOOR_GROUP_SIZE === 0) {
        groupHead = this.person('older');
        residents.push(groupHead);
      }
      this.post(floorId, 'floor-group-head', groupHead);
      if (rng.chance(FLOOR_HEAD_SHARE)) {
        residents.push(this.staff(floorId, 'floor-head', rng.pick(['older', 'middle'] as const)));
      }
    }
    return residents;
  }

  // ── demo accounts ─────────────────────────────────────────────────────────────────────────

  private demoAccounts(): void {
    const community = STREETS[0]!.communities[0]!;
    const street = STREETS[0]!;
    const grid = `${community.id}-g1`;
    const compound = `${grid}-c1`;
    const hospital = 'demo-cb-peoples-hospital';
    const housing = 'demo-dept-housing';
    const partyMember = this.posts.find(
      (p) =>
        p.unitId === community.id &&
        p.role === 'party-member' &&
        !this.posts.some((q) => q.personId === p.personId && q.role !== 'party-member'),
    );
    if (!partyMember) throw new Error('demo county: no party member without another post');
    const resident = this.person('middle');
    const personas: Array<Omit<DemoAccount, 'displayName'>> = [
      {
        username: 'demo-admin',
        roles: ['admin'],
        unitIds: [],
        personId: this.holderOf(COUNTY.id, 'officer'),
        persona: `系统管理员 · ${COUNTY.name}`,
      },
      {
        username: 'demo-county-dispatcher',
        roles: ['dispatcher'],
        unitIds: [COUNTY.id],
        personId: this.holderOf(COUNTY.id, 'dispatcher'),
        persona: `县指挥中心派单员 · ${COUNTY.name}`,
      },
      {
        username: 'demo-street-director',
        roles: ['dispatcher'],
        unitIds: [street.id],
        personId: this.holderOf(street.id, 'director'),
        persona: `街道办事处主任 · ${street.name}`,
      },
      {
        username: 'demo-community-dispatcher',
        roles: ['dispatcher'],
        unitIds: [community.id],
        personId: this.holderOf(community.id, 'dispatcher'),
        persona: `社区派单员 · ${community.name}`,
      },
      {
        username: 'demo-grid-worker',
        roles: ['staff'],
        unitIds: [grid],
        personId: this.holderOf(grid, 'grid-worker'),
        persona: `网格员 · ${this.unitNames.get(grid)!}`,
      },
      {
        username: 'demo-property-staff',
        roles: ['staff'],
        unitIds: [compound],
        personId: this.holderOf(compound, 'property-staff'),
        persona: `物业服务人员 · ${this.unitNames.get(compound)!}`,
      },
      {
        username: 'demo-liaison',
        roles: ['staff'],
        unitIds: [hospital],
        personId: this.holderOf(hospital, 'liaison'),
        persona: `共建单位联络员 · ${this.unitNames.get(hospital)!}`,
      },
      {
        username: 'demo-department',
        roles: ['staff'],
        unitIds: [housing],
        personId: this.holderOf(housing, 'officer'),
        persona: `职能部门工作人员 · ${this.unitNames.get(housing)!}`,
      },
      {
        // Least privilege: a reporting member acts on what is offered to them, not on the
        // community's whole case list.
        username: 'demo-party-member',
        roles: ['staff'],
        unitIds: [],
        personId: partyMember.personId,
        persona: `双报到党员 · ${community.name}`,
      },
      {
        username: 'demo-resident',
        roles: ['resident'],
        unitIds: [],
        personId: resident,
        persona: `居民 · ${this.unitNames.get(compound)!}`,
        homeUnitId: `${compound}-b1-e1-f3`,
      },
    ];
    const nameOf = new Map(this.people.map((p) => [p.id, p.name]));
    for (const persona of personas) {
      this.accounts.push({ ...persona, displayName: nameOf.get(persona.personId)! });
    }
  }
}

/** Counts for reports and the README: units per type, people, posts per role, accounts. */
export function summarizeDemoCounty(county: DemoCounty): {
  units: Record<string, number>;
  unitTotal: number;
  people: number;
  posts: Record<string, number>;
  postTotal: number;
  accounts: number;
} {
  const count = (values: string[]) => {
    const counts: Record<string, number> = {};
    for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
    return counts;
  };
  return {
    units: count(county.units.map((u) => u.type)),
    unitTotal: county.units.length,
    people: county.people.length,
    posts: count(county.posts.map((p) => p.role)),
    postTotal: county.posts.length,
    accounts: county.accounts.length,
  };
}

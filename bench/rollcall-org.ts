import { randomBytes } from 'node:crypto';
import type { Models } from '../models';
import { hashPassword, hashToken, newToken } from '../services/auth';
import type { OrgImport, PersonInput, PostInput, UnitInput } from '../services/org-import';

/**
 * The roll-call benchmark's city (bench/rollcall.ts): county → streets → communities → grids →
 * one compound per grid → buildings, with exactly the posts `emergency-compound` calls (the
 * compound's secretary, property manager and property staff, one building chief per building) and
 * the escalation targets (a grid leader per grid, a secretary per community, a leader and a duty
 * officer per street), and an account with an open session for everyone called.
 */

/** Compounds per community and communities per street (chosen: a mid-sized city's shape). */
const COMPOUNDS_PER_COMMUNITY = 10;
const COMMUNITIES_PER_STREET = 5;
/** Property staff per compound (chosen); the rest of a compound's people are building chiefs. */
const STAFF_PER_COMPOUND = 2;
/** Posts in a compound that are not building chiefs: secretary, property manager, staff. */
const FIXED_POSTS = 2 + STAFF_PER_COMPOUND;

export const COUNTY_ID = 'rc-county';

export interface CalledPerson {
  index: number;
  personId: string;
  userId: string;
  compoundId: string;
  /** The session token the person reports in with. */
  token: string;
}

export interface City {
  org: OrgImport;
  called: CalledPerson[];
}

/** People per compound: `people` spread as evenly as it goes over `compounds`. */
function sizes(people: number, compounds: number): number[] {
  if (people < compounds * (FIXED_POSTS + 1)) {
    throw new Error(
      `--people ${people} is too few for --compounds ${compounds}: each compound needs at least ${FIXED_POSTS + 1} (secretary, property manager, ${STAFF_PER_COMPOUND} staff, a building chief)`,
    );
  }
  return Array.from(
    { length: compounds },
    (_, i) => Math.floor(people / compounds) + (i < people % compounds ? 1 : 0),
  );
}

export function buildCity(people: number, compounds: number): City {
  const units: UnitInput[] = [{ id: COUNTY_ID, name: '基准县', type: 'county', parentId: null }];
  const persons: PersonInput[] = [];
  const posts: PostInput[] = [];
  const called: CalledPerson[] = [];
  const communities = Math.ceil(compounds / COMPOUNDS_PER_COMMUNITY);
  const streets = Math.ceil(communities / COMMUNITIES_PER_STREET);
  // Escalation targets: mailed, never called, so no account.
  const officer = (id: string, unitId: string, role: string) => {
    persons.push({ id, name: `${role} ${unitId}`, email: `${id}@bench.invalid` });
    posts.push({ unitId, role, personId: id });
  };
  for (let s = 0; s < streets; s++) {
    const id = `rc-s${s}`;
    units.push({ id, name: `街道${s}`, type: 'street', parentId: COUNTY_ID });
    officer(`rc-lead-${id}`, id, 'leader');
    officer(`rc-duty-${id}`, id, 'duty-officer');
  }
  for (let c = 0; c < communities; c++) {
    const id = `rc-c${c}`;
    const parentId = `rc-s${Math.floor(c / COMMUNITIES_PER_STREET)}`;
    units.push({ id, name: `社区${c}`, type: 'community', parentId });
    officer(`rc-sec-${id}`, id, 'secretary');
  }
  let index = 0;
  for (const [k, size] of sizes(people, compounds).entries()) {
    const gridId = `rc-g${k}`;
    const compoundId = `rc-x${k}`;
    const parentId = `rc-c${Math.floor(k / COMPOUNDS_PER_COMMUNITY)}`;
    units.push({ id: gridId, name: `网格${k}`, type: 'grid', parentId });
    officer(`rc-gl-${gridId}`, gridId, 'grid-leader');
    units.push({ id: compoundId, name: `小区${k}`, type: 'compound', parentId: gridId });
    const call = (unitId: string, role: string) => {
      const personId = `rc-p${index}`;
      const userId = `usr_rc${index}`;
      persons.push({
        id: personId,
        name: `人员${index}`,
        email: `${personId}@bench.invalid`,
        userId,
      });
      posts.push({ unitId, role, personId });
      called.push({ index, personId, userId, compoundId, token: '' });
      index += 1;
    };
    call(compoundId, 'secretary');
    call(compoundId, 'property-manager');
    for (let i = 0; i < STAFF_PER_COMPOUND; i++) call(compoundId, 'property-staff');
    for (let b = 0; b < size - FIXED_POSTS; b++) {
      const buildingId = `rc-x${k}-b${b}`;
      units.push({ id: buildingId, name: `${b + 1}号楼`, type: 'building', parentId: compoundId });
      call(buildingId, 'building-head');
    }
  }
  return { org: { units, people: persons, posts }, called };
}

/**
 * The import in requests under the API's 5 MB body limit: all units first (parents before
 * children, as the import checks them against what is stored), then people with their posts.
 */
export function importChunks(org: OrgImport, peoplePerChunk = 2_000): OrgImport[] {
  const chunks: OrgImport[] = [];
  const unitsPerChunk = 10_000;
  for (let i = 0; i < org.units.length; i += unitsPerChunk) {
    chunks.push({ units: org.units.slice(i, i + unitsPerChunk), people: [], posts: [] });
  }
  for (let i = 0; i < org.people.length; i += peoplePerChunk) {
    const people = org.people.slice(i, i + peoplePerChunk);
    const ids = new Set(people.map((p) => p.id));
    chunks.push({ units: [], people, posts: org.posts.filter((p) => ids.has(p.personId)) });
  }
  return chunks;
}

/**
 * BENCH SHORTCUT: the accounts and their sign-in sessions are written straight into the store.
 * Through the API each account costs one scrypt hash (N=2^17, about 0.4 s of a core) at creation
 * and another at sign-in: hours of CPU for 10,000 people, and sign-in is not what is measured.
 * The documents have the shapes services/accounts.ts writes (one precomputed password hash
 * reused; the session token stored as its SHA-256, as services/auth.ts looks it up).
 */
export async function writeAccounts(models: Models, called: CalledPerson[]): Promise<void> {
  const passwordHash = await hashPassword(randomBytes(12).toString('base64url'));
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 24 * 3600_000);
  const batch = 1_000;
  for (let i = 0; i < called.length; i += batch) {
    const slice = called.slice(i, i + batch);
    await models.User.insertMany(
      slice.map((p) => ({
        _id: p.userId,
        username: `rc-${p.index}`,
        displayName: `人员${p.index}`,
        passwordHash,
        roles: ['staff'],
        unitIds: [p.compoundId],
        disabled: false,
        createdAt: now,
      })),
      { ordered: false },
    );
    await models.Credential.insertMany(
      slice.map((p) => {
        const { token, publicId } = newToken('session');
        p.token = token;
        return {
          _id: hashToken(token),
          kind: 'session',
          publicId,
          name: 'bench session',
          principal: { kind: 'user', id: p.userId },
          roles: ['staff'],
          unitIds: [p.compoundId],
          createdAt: now,
          createdBy: { kind: 'user', id: p.userId },
          expiresAt,
        };
      }),
      { ordered: false },
    );
  }
}

/** Whether person `index` never reports: `percent`% of everyone, spread evenly over the city. */
export function isMissing(index: number, percent: number): boolean {
  return Math.floor(((index + 1) * percent) / 100) > Math.floor((index * percent) / 100);
}

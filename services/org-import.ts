import { accountHolders, postIdOf } from '../common/org-writes';
import type { OrgUnit } from '../common/org-tree';
import type { UnitType } from '../lang/vocabulary';
import { OrgTree, OrgTreeError } from '../common/org-tree';
import type { Models } from '../models';
import { bumpOrgRevision } from '../models/org-revision';
import { isDuplicateKeyError } from '../models';
import type { ErrorDetail } from './errors';
import { AppError } from './errors';
import type { ScopeResolver } from './scope';
import type { PairingInput } from './pairing-input';
import { pairingProblems, writePairings } from './pairings';

/**
 * The org import (组织架构导入): units, people, posts and pairings in one request, as the admin API, the
 * console's CSV upload and the demo seed send them. The org service (org.ts) reads and edits one
 * item at a time and hands whole imports here.
 */

/** A group robot as given (services/org-input.ts `groupRobotInput`). */
export interface GroupRobotInput {
  channel: 'wecom' | 'dingtalk';
  webhook: string;
  secret?: string;
}

export interface UnitInput {
  id: string;
  name: string;
  type: UnitType;
  parentId: string | null;
  /** `null` removes the unit's robot; absent keeps it. */
  groupRobot?: GroupRobotInput | null; /** Where the unit is (WGS-84); `null` removes it; absent keeps it. */
  location?: { lat: number; lng: number } | null;
}

export interface PersonInput {
  id: string;
  name: string;
  email?: string;
  phone?: string;
  userId?: string;
  channels?: Array<'mail' | 'sms' | 'wecom' | 'dingtalk'>;
  groupRobot?: GroupRobotInput;
}

export interface PostInput {
  unitId: string;
  role: string;
  personId: string;
}

export interface OrgImport {
  units: UnitInput[];
  people: PersonInput[];
  posts: PostInput[];
  /** 包联 (services/pairings.ts); checked and written with the rest. */
  pairings?: PairingInput[];
}

/** Names the field of an import item in an error detail: `body.units[3].parentId` for JSON. */
export type ImportPathOf = (kind: keyof OrgImport, index: number, field: string) => string;

const jsonPathOf: ImportPathOf = (kind, index, field) => `body.${kind}[${index}].${field}`;

/**
 * Checks an import as a whole against what is stored (unknown parents, cycles, posts in unknown
 * units or of unknown people, accounts linked to two people) before anything is written, then upserts by id, so running the same
 * import again changes nothing. It bumps the org revision (even after a partial failure), so every
 * process reads its org snapshot again.
 */
export async function importOrg(
  deps: {
    models: Models;
    scope: Pick<ScopeResolver, 'invalidate'>;
    clock: () => Date;
    /** The units as stored now (the org service's read). */
    storedUnits(): Promise<OrgUnit[]>;
  },
  input: OrgImport,
  options: { pathOf?: ImportPathOf } = {},
): Promise<{ units: number; people: number; posts: number; pairings: number }> {
  const { Unit, Person, Post: PostModel } = deps.models;
  const pathOf = options.pathOf ?? jsonPathOf;
  const stored = new Map((await deps.storedUnits()).map((u) => [u.id, u]));
  const merged = new Map(stored);
  for (const unit of input.units) merged.set(unit.id, unit);
  const knownPeople = new Set([
    ...input.people.map((p) => p.id),
    ...(
      await Person.find({ _id: { $in: input.posts.map((p) => p.personId) } }, { _id: 1 }).lean()
    ).map((p) => p._id),
  ]);
  const problems: ErrorDetail[] = [];
  input.units.forEach((unit, i) => {
    if (unit.parentId !== null && !merged.has(unit.parentId)) {
      problems.push({
        path: pathOf('units', i, 'parentId'),
        message: `unknown unit "${unit.parentId}"`,
      });
    }
  });
  input.posts.forEach((post, i) => {
    if (!merged.has(post.unitId)) {
      problems.push({
        path: pathOf('posts', i, 'unitId'),
        message: `unknown unit "${post.unitId}"`,
      });
    }
    if (!knownPeople.has(post.personId)) {
      problems.push({
        path: pathOf('posts', i, 'personId'),
        message: `unknown person "${post.personId}"`,
      });
    }
  });
  const pairings = input.pairings ?? [];
  problems.push(
    ...(await pairingProblems(
      deps.models,
      pairings,
      (id) => merged.has(id),
      new Set(input.people.map((p) => p.id)),
      (index, field) => pathOf('pairings', index, field),
    )),
  );
  if (problems.length === 0) {
    try {
      new OrgTree([...merged.values()], input.posts); // cycles
    } catch (err) {
      if (!(err instanceof OrgTreeError)) throw err;
      problems.push({ path: 'body', message: err.message });
    }
  }
  // One account, one person: checked with the rest, so a refused import writes nothing.
  const accountProblems = await accountLinkProblems(deps.models, input.people, pathOf);
  if (problems.length > 0 || accountProblems.length > 0) {
    throw problems.length > 0
      ? new AppError('unprocessable', 'The import does not fit the org tree', [
          ...problems,
          ...accountProblems,
        ])
      : new AppError(
          'conflict',
          'The import links accounts that other people hold; nothing was imported',
          accountProblems,
        );
  }

  try {
    const now = deps.clock();
    // Parents before children, so a reader never sees a unit whose parent is missing. Rows
    // that change nothing are not written at all, so repeating an import is cheap.
    await saveAll(
      Unit,
      orderParentsFirst(input.units)
        .filter((unit) => !sameFields(stored.get(unit.id), unit))
        .map(({ id, ...fields }) => ({ _id: id, ...fields, updatedAt: now })),
      (id) => stored.has(id),
    );
    const storedPeople = new Map(
      (await Person.find({ _id: { $in: input.people.map((p) => p.id) } }).lean()).map((p) => [
        p._id,
        { ...p, id: p._id },
      ]),
    );
    await saveAll(
      Person,
      input.people
        .filter((person) => !sameFields(storedPeople.get(person.id), person))
        .map(({ id, ...fields }) => ({ _id: id, ...fields, updatedAt: now })),
      (id) => storedPeople.has(id),
    );
    const postIds = input.posts.map(postIdOf);
    const storedPosts = new Set(
      (await PostModel.find({ _id: { $in: postIds } }, { _id: 1 }).lean()).map((p) => p._id),
    );
    await saveAll(
      PostModel,
      input.posts
        .map((post, i) => ({ _id: postIds[i]!, ...post }))
        .filter((post) => !storedPosts.has(post._id)),
      () => false,
    );
    await writePairings(deps.models, pairings, now);
  } finally {
    // After the writes, even a partial one (a failed batch): a reader never keeps a tree
    // older than what is stored. An import that changed nothing bumps too; it costs one write.
    await bumpOrgRevision(deps.models);
  }
  if (input.units.length > 0) deps.scope.invalidate();
  return {
    units: input.units.length,
    people: input.people.length,
    posts: input.posts.length,
    pairings: pairings.length,
  };
}

/**
 * Every row of the import whose `userId` another person holds (one account, one person, docs
 * 8.1): a stored person other than the row's, or another person given the same account in the
 * import. Each offending row is named, with the holder by id. An account moves between people in
 * two steps (unlink, then link), never by one import: a stored holder keeps it even when the
 * import gives them another.
 */
async function accountLinkProblems(
  models: Pick<Models, 'Person'>,
  people: readonly PersonInput[],
  pathOf: ImportPathOf,
): Promise<ErrorDetail[]> {
  const linking = people.flatMap((person, index) =>
    person.userId === undefined ? [] : [{ index, personId: person.id, userId: person.userId }],
  );
  if (linking.length === 0) return [];
  const stored = await accountHolders(
    models,
    linking.map((row) => row.userId),
  );
  const rowsByAccount = new Map<string, typeof linking>();
  for (const row of linking)
    rowsByAccount.set(row.userId, [...(rowsByAccount.get(row.userId) ?? []), row]);
  const problems: ErrorDetail[] = [];
  for (const row of linking) {
    const path = pathOf('people', row.index, 'userId');
    const holder = stored.get(row.userId)?.find((id) => id !== row.personId);
    if (holder !== undefined) {
      problems.push({
        path,
        message: `account "${row.userId}" is linked to person "${holder}"; unlink it there first`,
      });
      continue;
    }
    const other = rowsByAccount.get(row.userId)!.find((o) => o.personId !== row.personId);
    if (other !== undefined) {
      problems.push({
        path,
        message: `account "${row.userId}" is given to person "${other.personId}" too (${pathOf('people', other.index, 'userId')}): one account, one person`,
      });
    }
  }
  return problems;
}

/** The part of a mongoose model {@link saveAll} uses. */
interface WritableModel {
  insertMany(docs: object[], options: { ordered: boolean }): Promise<unknown>;
  updateOne(
    filter: { _id: string },
    update: { $set: object },
    options: { upsert: boolean },
  ): PromiseLike<unknown>;
}

/**
 * Writes documents in order: new ones with `insertMany` in batches of 500, stored ones one
 * `updateOne` at a time. FerretDB v1 on SQLite inserts a batch in about the time of two single
 * upserts, but hangs on a bulk update of around a hundred stored documents, so updates stay
 * single. A document someone else inserted meanwhile turns its batch into single upserts.
 */
async function saveAll<D extends { _id: string }>(
  model: WritableModel,
  docs: readonly D[],
  isStored: (id: string) => boolean,
): Promise<void> {
  const upsert = ({ _id, ...fields }: D) =>
    model.updateOne({ _id }, { $set: fields }, { upsert: true });
  const fresh = docs.filter((d) => !isStored(d._id));
  for (let start = 0; start < fresh.length; start += 500) {
    const batch = fresh.slice(start, start + 500);
    try {
      await model.insertMany(batch, { ordered: true });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      for (const doc of batch) await upsert(doc);
    }
  }
  for (const doc of docs.filter((d) => isStored(d._id))) await upsert(doc);
}

/** Whether every field given for an item already has that value in storage. */
export function sameFields(stored: object | undefined, given: object): boolean {
  if (!stored) return false;
  return Object.entries(given).every(([key, value]) => {
    const have = (stored as Record<string, unknown>)[key];
    // Lists and robots compare by content (a stored copy is never the same object).
    return typeof value === 'object' && value !== null
      ? JSON.stringify(have) === JSON.stringify(value)
      : have === value;
  });
}

/** Posts are keyed `unit:role:person` (none of the three may contain a colon). */
export { postIdOf };

function orderParentsFirst<T extends { id: string; parentId: string | null }>(units: T[]): T[] {
  const byId = new Map(units.map((u) => [u.id, u]));
  const ordered: T[] = [];
  const placed = new Set<string>();
  const place = (unit: T) => {
    if (placed.has(unit.id)) return;
    placed.add(unit.id);
    const parent = unit.parentId === null ? undefined : byId.get(unit.parentId);
    if (parent) place(parent);
    ordered.push(unit);
  };
  units.forEach(place);
  return ordered;
}

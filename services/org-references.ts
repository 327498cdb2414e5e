import type { FieldSpec } from '../lang/definition';
import type { Models } from '../models';
import { AppError } from './errors';
import type { OrgSnapshot } from '../common/org-snapshot';
import type { ScopeResolver } from './scope';

/**
 * Unit and person fields (`type: unit`, `type: person`) name records of the org tree. The lang
 * layer checks their shape; these checks, on the request path, that they exist: a typo would
 * route a case or a task to nobody.
 */

/** The ids among `ids` that no person has (one `_id` read, which FerretDB answers by key). */
export async function unknownPeople(
  Person: Models['Person'],
  ids: readonly string[],
): Promise<string[]> {
  const wanted = [...new Set(ids)].sort();
  if (wanted.length === 0) return [];
  const found = await Person.find({ _id: { $in: wanted } }, { _id: 1 }).lean();
  const known = new Set(found.map((p) => p._id));
  return wanted.filter((id) => !known.has(id));
}

/**
 * Every unit and person value of `data` that the org tree lacks, each with its path under
 * `prefix` (`data.department`, `form.handler[1]`), for a 422 that names them.
 */
export async function unknownOrgReferences(
  fields: readonly FieldSpec[],
  data: Record<string, unknown>,
  prefix: string,
  unknownUnits: (ids: string[]) => Promise<string[]>,
  unknownPersons: (ids: string[]) => Promise<string[]>,
): Promise<Array<{ path: string; message: string }>> {
  const problems: Array<{ path: string; message: string }> = [];
  for (const field of fields) {
    if ((field.type !== 'unit' && field.type !== 'person') || data[field.name] === undefined) {
      continue;
    }
    const value = data[field.name];
    const values = (Array.isArray(value) ? value : [value]).filter(
      (v): v is string => typeof v === 'string',
    );
    const unknown = new Set(
      await (field.type === 'unit' ? unknownUnits(values) : unknownPersons(values)),
    );
    values.forEach((id, i) => {
      if (!unknown.has(id)) return;
      const path = field.multiple ? `${prefix}.${field.name}[${i}]` : `${prefix}.${field.name}`;
      problems.push({
        path,
        message: `no ${field.type === 'unit' ? 'unit' : 'person'} "${id}" in the org tree`,
      });
    });
  }
  return problems;
}

/**
 * Person values of fields that ask for a post (`holding: <role>`) whose people hold no post of
 * that role in `unitId` or a unit under it, each with its path, for a 422 that names them. A case
 * without a unit has no "under": such a field is then refused as a whole. One read of the posts of
 * that role among the people named, then the unit tree walked up from each post.
 */
export async function peopleWithoutPost(
  fields: readonly FieldSpec[],
  data: Record<string, unknown>,
  prefix: string,
  unitId: string | null,
  Post: Models['Post'],
  units: () => Promise<OrgSnapshot>,
): Promise<Array<{ path: string; message: string }>> {
  const problems: Array<{ path: string; message: string }> = [];
  for (const field of fields) {
    const role = field.holding;
    if (field.type !== 'person' || role === undefined || data[field.name] === undefined) continue;
    const value = data[field.name];
    const ids = (Array.isArray(value) ? value : [value]).filter(
      (v): v is string => typeof v === 'string',
    );
    if (ids.length === 0) continue;
    const holders = new Set<string>();
    if (unitId !== null) {
      const posts = await Post.find(
        { role, personId: { $in: [...new Set(ids)].sort() } },
        { personId: 1, unitId: 1 },
      ).lean();
      const tree = posts.length > 0 ? await units() : null;
      for (const post of posts) {
        if (tree !== null && isAtOrUnder(tree, post.unitId, unitId)) holders.add(post.personId);
      }
    }
    ids.forEach((id, i) => {
      if (holders.has(id)) return;
      const path = field.multiple ? `${prefix}.${field.name}[${i}]` : `${prefix}.${field.name}`;
      problems.push({
        path,
        message:
          unitId === null
            ? `"${id}" cannot be checked for a ${role} post: the case has no unit`
            : `"${id}" holds no ${role} post in unit "${unitId}" or under it`,
      });
    });
  }
  return problems;
}

/** Whether `unitId` is `ancestorId` or below it (a cycle or a missing parent ends the walk). */
function isAtOrUnder(tree: OrgSnapshot, unitId: string, ancestorId: string): boolean {
  const seen = new Set<string>();
  for (let at: string | null = unitId; at !== null && !seen.has(at);) {
    if (at === ancestorId) return true;
    seen.add(at);
    at = tree.byId.get(at)?.parentId ?? null;
  }
  return false;
}

/**
 * Both checks of a case's data or a task's form against the org tree, as the request path runs
 * them: every unit and person exists (else 422 naming each), then every person a field asks a
 * post of holds it under `unitId` (else 422 naming each). `what` starts the message ("The case
 * data", "The form").
 */
export async function assertOrgReferences(
  what: string,
  fields: readonly FieldSpec[],
  data: Record<string, unknown>,
  prefix: string,
  unitId: string | null,
  deps: { models: Pick<Models, 'Person' | 'Post'>; scope: ScopeResolver },
): Promise<void> {
  const unknown = await unknownOrgReferences(
    fields,
    data,
    prefix,
    (ids) => deps.scope.unknownUnits(ids),
    (ids) => unknownPeople(deps.models.Person, ids),
  );
  if (unknown.length > 0) {
    throw new AppError('unprocessable', `${what} names unknown units or people`, unknown);
  }
  const withoutPost = await peopleWithoutPost(fields, data, prefix, unitId, deps.models.Post, () =>
    deps.scope.units(),
  );
  if (withoutPost.length > 0) {
    throw new AppError(
      'unprocessable',
      `${what} names people without the post it asks for`,
      withoutPost,
    );
  }
}

import type { FieldSpec } from '../lang/definition';
import type { Models } from '../models';

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

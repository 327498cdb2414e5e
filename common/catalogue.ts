import type { OrgTree } from './org-tree';
import type { SelectedPeople, SelectionContext, UnitReference } from './people-selector';
import { selectPeople } from './people-selector';

/**
 * The dispatch catalogue (派单目录 / 职责清单): which department or unit answers for a category
 * of case. Each owning unit (a county, a street) keeps its own catalogue; for a case the most
 * specific catalogue covering the case's unit wins (the street's before the county's), and
 * within it the entry of the case's category. Pure: the service stores and versions catalogues,
 * the people lookup (activities/lookups.ts) resolves with them.
 */
export interface CatalogueEntry {
  /** The case's category string, as the definitions' category options spell it. */
  category: string;
  /** A finer matter within the category (情形); an entry without one covers the whole category. */
  subcategory?: string;
  /** Words that describe the matter, for people reading the catalogue. */
  keywords?: string[];
  /** The responsible department or unit (主责单位), a unit of the org tree. */
  unitId: string;
  /** Co-responsible units (配合单位). */
  coUnitIds?: string[];
  /** The time limit the catalogue suggests for the matter, e.g. `5 working days`; a hint only. */
  timeLimit?: string;
  note?: string;
}

/** A catalogue revision as the lookup reads it. */
export interface CatalogueRevisionView {
  ownerUnitId: string;
  revision: number;
  entries: CatalogueEntry[];
}

export interface CatalogueProblem {
  /** The entry's index in the list. */
  index: number;
  field: keyof CatalogueEntry;
  message: string;
}

/**
 * What is wrong with a catalogue's entries: an empty category, a category (with its
 * subcategory) listed twice, a responsible or co-responsible unit the org tree does not know.
 */
export function catalogueProblems(
  entries: readonly CatalogueEntry[],
  knowsUnit: (unitId: string) => boolean,
): CatalogueProblem[] {
  const problems: CatalogueProblem[] = [];
  const seen = new Map<string, number>();
  entries.forEach((entry, index) => {
    const category = entry.category.trim();
    if (category === '') {
      problems.push({ index, field: 'category', message: 'the category is empty' });
    } else {
      const key = `${category}\u0000${entry.subcategory?.trim() ?? ''}`;
      const first = seen.get(key);
      if (first !== undefined) {
        problems.push({
          index,
          field: entry.subcategory ? 'subcategory' : 'category',
          message: `category "${category}"${entry.subcategory ? ` / "${entry.subcategory}"` : ''} is already listed by entry ${first + 1}`,
        });
      } else seen.set(key, index);
    }
    if (!knowsUnit(entry.unitId)) {
      problems.push({ index, field: 'unitId', message: `unknown unit "${entry.unitId}"` });
    }
    for (const co of entry.coUnitIds ?? []) {
      if (!knowsUnit(co)) {
        problems.push({ index, field: 'coUnitIds', message: `unknown unit "${co}"` });
      } else if (co === entry.unitId) {
        problems.push({
          index,
          field: 'coUnitIds',
          message: `unit "${co}" is already the responsible unit`,
        });
      }
    }
  });
  return problems;
}

/**
 * The catalogue that covers a case's unit: the one owned by the nearest unit at or above it
 * that has one. A case without a unit (or one the tree does not know) is covered by a root's
 * catalogue only, the first root in id order that has one.
 */
export function coveringOwner(
  tree: OrgTree,
  caseUnitId: string | null,
  owners: ReadonlySet<string>,
): string | null {
  if (caseUnitId !== null && tree.has(caseUnitId)) {
    for (const unit of tree.ancestry(caseUnitId)) {
      if (owners.has(unit.id)) return unit.id;
    }
    return null;
  }
  return (
    [...owners].filter((id) => tree.has(id) && tree.unit(id).parentId === null).sort()[0] ?? null
  );
}

/**
 * The entry of a category (and subcategory): the entry naming the subcategory if there is one,
 * else the category's entry without a subcategory. Categories compare trimmed, exactly.
 */
export function findEntry(
  entries: readonly CatalogueEntry[],
  category: string,
  subcategory?: string | null,
): CatalogueEntry | null {
  const wanted = category.trim();
  const sub = subcategory?.trim() ?? '';
  const ofCategory = entries.filter((e) => e.category.trim() === wanted);
  return (
    (sub !== '' ? ofCategory.find((e) => e.subcategory?.trim() === sub) : undefined) ??
    ofCategory.find((e) => !e.subcategory?.trim()) ??
    null
  );
}

/** Where the catalogue routed a selector, for the case's timeline. */
export interface CatalogueRouting {
  /** The category the definition's expression gave, null when it gave none. */
  category: string | null;
  /** The owning unit and revision of the catalogue read, null when none covers the case. */
  ownerUnitId: string | null;
  revision: number | null;
  /** The responsible unit of the matching entry, null when no entry covers the category. */
  unitId: string | null;
  /** True when `otherwise` answered (兜底): no entry, or nobody holds the role in its unit. */
  otherwise: boolean;
}

/** A catalogue unit reference with its category evaluated (see lang/definition.ts). */
export interface CatalogueReference {
  catalogue: { category: string | null };
  otherwise?: UnitReference | { role: string; unit: UnitReference };
}

/**
 * The holders of `role` in the unit the catalogue names for the category (with the org tree's
 * own 兜底 up from a vacant post), else whoever `otherwise` names; nobody without it.
 */
export function selectByCatalogue(
  tree: OrgTree,
  role: string,
  ref: CatalogueReference,
  context: SelectionContext,
  catalogue: CatalogueRevisionView | null,
): SelectedPeople & { routing: CatalogueRouting } {
  const { category } = ref.catalogue;
  const entry = catalogue && category !== null ? findEntry(catalogue.entries, category) : null;
  const routing: CatalogueRouting = {
    category,
    ownerUnitId: catalogue?.ownerUnitId ?? null,
    revision: catalogue?.revision ?? null,
    unitId: entry?.unitId ?? null,
    otherwise: false,
  };
  if (entry && tree.has(entry.unitId)) {
    const selected = selectPeople(
      tree,
      { role, unit: { of: { unit: entry.unitId }, at: 'self' } },
      context,
    );
    if (selected.people.length > 0) return { ...selected, routing };
  }
  routing.otherwise = true;
  const otherwise = ref.otherwise;
  if (otherwise === undefined) return { people: [], unit: null, fellBack: false, routing };
  const selector =
    typeof otherwise === 'object' && 'role' in otherwise
      ? { role: otherwise.role, unit: otherwise.unit }
      : { role, unit: otherwise };
  return { ...selectPeople(tree, selector, context), routing };
}

import type { Principal } from '../services/auth';
import { hasAnyRole } from '../services/auth';
import type { DirectoryUnit, UnitDirectory } from '../services/unit-directory';
import { unitsAtOrBelow } from '../common/org-tree';
import { UNIT_TYPES } from '../lang/vocabulary';
import type { Translate } from './i18n';
import type { Choice } from './report-format';

/**
 * The org tree as the report pages show it (from the cached unit directory, never a query per
 * row): unit names, the units a principal may pick, indented choices, and breadcrumbs.
 */

/** The units at the top of what the principal sees: every root for admins, else their own. */
export function topUnitsOf(tree: UnitDirectory, principal: Principal): string[] {
  if (hasAnyRole(principal, ['admin'])) return [...tree.roots];
  const own = principal.unitIds.filter((id) => tree.byId.has(id));
  const below = unitsAtOrBelow(
    tree.children,
    own.flatMap((id) => tree.children.get(id) ?? []),
  );
  return own.filter((id) => !below.has(id));
}

/** Whether the principal's scope holds a unit (admins: every unit). */
export function inScope(tree: UnitDirectory, principal: Principal): (unitId: string) => boolean {
  if (hasAnyRole(principal, ['admin'])) return () => true;
  const scope = unitsAtOrBelow(tree.children, principal.unitIds);
  return (unitId) => scope.has(unitId);
}

/**
 * Units as indented choices, depth first from `roots`, keeping only the types given (their
 * descendants of other types are still walked); at most `limit`.
 */
export function unitChoices(
  tree: UnitDirectory,
  roots: readonly string[],
  options: { types: ReadonlySet<string>; selected: string; limit?: number; t: Translate },
): Choice[] {
  const limit = options.limit ?? 400;
  const out: Choice[] = [];
  const seen = new Set<string>();
  const walk = (id: string, depth: number) => {
    if (out.length >= limit || seen.has(id)) return;
    seen.add(id);
    const unit = tree.byId.get(id);
    if (!unit) return;
    const shown = options.types.has(unit.type);
    if (shown) {
      out.push({
        value: unit.id,
        label: `${'\u00a0\u00a0'.repeat(depth)}${unit.name} (${unitTypeName(unit.type, options.t)})`,
        selected: unit.id === options.selected,
      });
    }
    const children = [...(tree.children.get(id) ?? [])].sort((a, b) =>
      nameOf(tree, a).localeCompare(nameOf(tree, b), 'zh-CN'),
    );
    for (const child of children) walk(child, shown ? depth + 1 : depth);
  };
  for (const root of roots) walk(root, 0);
  return out;
}

/** The unit and the units above it, top first, that `visible` allows. */
export function ancestryOf(
  tree: UnitDirectory,
  unitId: string,
  visible: (id: string) => boolean,
): DirectoryUnit[] {
  const path: DirectoryUnit[] = [];
  const seen = new Set<string>();
  for (let at: string | null = unitId; at !== null && !seen.has(at);) {
    seen.add(at);
    const unit = tree.byId.get(at);
    if (!unit) break;
    path.unshift(unit);
    at = unit.parentId;
  }
  return path.filter((u) => visible(u.id));
}

export function nameOf(tree: UnitDirectory, unitId: string | null | undefined): string {
  if (!unitId) return '';
  return tree.byId.get(unitId)?.name ?? unitId;
}

const UNIT_TYPE_KEYS: ReadonlySet<string> = new Set(UNIT_TYPES);

export function unitTypeName(type: string, t: Translate): string {
  return UNIT_TYPE_KEYS.has(type) ? t(`report.unitType.${type}`) : type;
}

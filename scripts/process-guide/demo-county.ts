/**
 * The demo county (桐川县) the worked examples run against: its units, posts and accounts, who may
 * start a case where, and who a people selector means there (read as the engine reads it).
 */

import type { DefinitionSpec, PeopleSelector, UnitRef } from '../../lang/definition';
import { childrenByParent, OrgTree, unitsAtOrBelow } from '../../common/org-tree';
import type { OrgSelector, UnitReference } from '../../common/people-selector';
import { selectPeople } from '../../common/people-selector';
import type { DemoAccount } from '../../demo/county';
import { generateDemoCounty } from '../../demo/county';

/** Which starter role is tried first for the example: the least privileged that may start it. */
const STARTER_PREFERENCE = ['resident', 'staff', 'dispatcher', 'admin'] as const;

export class DemoCounty {
  readonly county = generateDemoCounty();
  readonly tree = new OrgTree(this.county.units, this.county.posts, this.county.pairings);
  private readonly children = childrenByParent(this.county.units);

  /** A unit's name; below a compound, with the compound's (惠民小区 1号楼 1单元 3层). */
  unitName(id: string): string {
    if (!this.tree.has(id)) return id;
    const chain = this.tree.ancestry(id);
    const compound = chain.findIndex((u) => u.type === 'compound');
    return (compound > 0 ? chain.slice(0, compound + 1) : chain.slice(0, 1))
      .reverse()
      .map((u) => u.name)
      .join(' ');
  }

  account(username: string): DemoAccount {
    const account = this.county.accounts.find((a) => a.username === username);
    if (!account) throw new Error(`no demo account "${username}"`);
    return account;
  }

  /** The units an account may file cases for; null: any (admins, residents). */
  scopeOf(account: DemoAccount): Set<string> | null {
    if (account.roles.includes('admin') || account.roles.includes('resident')) return null;
    return unitsAtOrBelow(this.children, account.unitIds);
  }

  /** The account that starts the example: the least privileged, narrowest one that may. */
  starter(spec: DefinitionSpec, unitId: string): DemoAccount | null {
    for (const role of STARTER_PREFERENCE) {
      if (!spec.starters.includes(role)) continue;
      const fitting = this.county.accounts
        .filter((a) => a.roles.includes(role))
        .map((a) => ({ account: a, scope: this.scopeOf(a) }))
        .filter(({ scope }) => scope === null || scope.has(unitId))
        .sort((a, b) => (a.scope?.size ?? Infinity) - (b.scope?.size ?? Infinity));
      if (fitting.length > 0) return fitting[0]!.account;
    }
    return null;
  }

  /** The narrowest dispatcher account whose scope covers a unit (to hand a task to). */
  dispatcherFor(unitId: string): DemoAccount | null {
    const fitting = this.county.accounts
      .filter((a) => a.roles.includes('dispatcher'))
      .map((a) => ({ account: a, scope: this.scopeOf(a) }))
      .filter(({ scope }) => scope !== null && scope.has(unitId))
      .sort((a, b) => a.scope!.size - b.scope!.size);
    return fitting[0]?.account ?? null;
  }

  /** Units of a type at or below one, parents' children in id order (as the fan-out finds them). */
  unitsOfType(type: string, withinId: string): string[] {
    if (!this.tree.has(withinId)) return [];
    return this.tree
      .descendants(withinId)
      .filter((u) => u.type === type)
      .map((u) => u.id);
  }

  /**
   * The people a selector means for a case of `caseUnitId`, as the engine resolves it; null when
   * the guide cannot tell (an expression, claimants, a unit relative to an assignee or computed
   * by an expression).
   */
  people(
    selector: PeopleSelector,
    caseUnitId: string,
    data: Record<string, unknown>,
  ): string[] | null {
    const resolvable = orgSelectorOf(selector);
    if (resolvable === null) return null;
    const context = { caseUnitId, assigneeUnitId: null, data };
    return selectPeople(this.tree, resolvable, context).people.map((p) => p.personId);
  }
}

/** The selector as the org tree answers it, or null when it needs what the guide does not know. */
function orgSelectorOf(selector: PeopleSelector): OrgSelector | null {
  if ('person' in selector) return selector;
  if ('pairedWith' in selector) {
    const ref = knownUnitRef(selector.pairedWith);
    return ref === null ? null : { ...selector, pairedWith: ref };
  }
  if ('chain' in selector) {
    const ref = knownUnitRef(selector.under);
    return ref === null ? null : { ...selector, under: ref };
  }
  // A duty rota is admin data the guide does not read.
  if (!('role' in selector) || 'onDuty' in selector) return null;
  const unit = 'unit' in selector ? selector.unit : selector.under;
  // The dispatch catalogue is admin data the guide does not read.
  if (typeof unit === 'object' && 'catalogue' in unit) return null;
  const ref = knownUnitRef(unit);
  if (ref === null) return null;
  return 'unit' in selector ? { ...selector, unit: ref } : { ...selector, under: ref };
}

/** A unit reference without an assignee or an expression in it (the example has neither yet). */
function knownUnitRef(ref: UnitRef): UnitReference | null {
  if (typeof ref === 'string') return ref === 'assignee' ? null : ref;
  if (ref.of === 'assignee' || (typeof ref.of === 'object' && 'expression' in ref.of)) return null;
  return { of: ref.of, at: ref.at };
}

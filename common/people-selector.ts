import type { UnitType } from '../lang/vocabulary';
import type { OrgTree, OrgUnit, UnitRelation } from './org-tree';
import { pairingValidOn, resolveEscalationTarget } from './org-tree';

/**
 * What a people selector of a definition means in the org tree: the holders of a role in a unit
 * relative to the case or the assignee (with 兜底 fallback up the tree), the holders of a role in
 * every unit of a type below one, or a named person. One pure reading for the engine's lookup
 * (activities/lookups.ts) and the process guide's worked examples (scripts/process-guide/), so
 * the two cannot drift apart. Candidate order is part of the meaning: workflows and their tests
 * rely on it.
 */

/**
 * Where a unit is from its base: the base itself, its parent, the nearest unit of a type, or the
 * k-th unit above (counting only units of `types` when given: an `upTree` ladder's level).
 */
export type UnitStep =
  'self' | 'parent' | UnitType | { up: number; types?: readonly UnitType[] | undefined };

/**
 * A unit reference with nothing left to evaluate: the shorthands of the language (`case`,
 * `assignee`, `parent`, a unit type) or a base and a step from it, where a unit the definition
 * computes by an expression arrives as its value (`{ unit }`, null when it gave none).
 */
export type UnitReference =
  | 'case'
  | 'assignee'
  | 'parent'
  | UnitType
  | { of: 'case' | 'assignee' | { field: string } | { unit: string | null }; at: UnitStep };

/**
 * The people paired with a unit (包联): those paired with it in person, and the holders of `role`
 * (default {@link PAIRED_UNIT_ROLE}) in units paired with it; of the given kinds (any when
 * absent); with `andBelow`, the pairings of every unit below it too (a compound's and its
 * buildings').
 */
export interface PairedWithSelector {
  pairedWith: UnitReference;
  kind?: string | readonly string[];
  role?: string;
  andBelow?: boolean;
}

/**
 * Down the chain (层层传达): the holders of a role in every unit below one, level by level
 * (county → street → community → grid → compound → building → entrance → floor), only units of
 * `unitTypes` when given.
 */
export interface ChainDownSelector {
  role: string;
  chain: 'down';
  under: UnitReference;
  unitTypes?: readonly UnitType[];
}

/** A selector the org tree answers (expressions and claimants are resolved by the workflow). */
export type OrgSelector =
  | { person: string }
  | { role: string; unit: UnitReference }
  | { role: string; unitsOfType: UnitType; under: UnitReference }
  | PairedWithSelector
  | ChainDownSelector;

/** Who answers for a paired unit unless a selector names another role: its 联络员. */
export const PAIRED_UNIT_ROLE = 'liaison';

/** What unit references are relative to. */
export interface SelectionContext {
  caseUnitId: string | null;
  /** The assignee's unit; without one, `assignee` means the case's unit. */
  assigneeUnitId: string | null;
  /** The case data, for `{ of: { field } }`. */
  data: Record<string, unknown>;
  /**
   * Today in China time (`YYYY-MM-DD`), for pairings' validity periods; absent: every pairing
   * counts whatever its period (the process guide, which has no day).
   */
  today?: string;
}

export interface SelectedPeople {
  /** In candidate order, each with the unit they answer for. */
  people: Array<{ personId: string; unitId: string }>;
  /** The unit that answered: the post's unit, or the unit the type search ran under. */
  unit: OrgUnit | null;
  /** True when the post was vacant where asked and a unit above answered (兜底). */
  fellBack: boolean;
}

/** `self`, `parent` or a unit type as the relation {@link OrgTree.relate} follows. */
export function relationOf(step: UnitStep): UnitRelation {
  if (step === 'self') return { kind: 'self' };
  if (step === 'parent') return { kind: 'parent' };
  if (typeof step === 'object') {
    return { kind: 'up', steps: step.up, ...(step.types ? { types: step.types } : {}) };
  }
  return { kind: 'nearest', type: step };
}

/**
 * The unit a reference starts from (null when there is none, or the tree does not know it) and
 * the relation to follow from there.
 */
export function baseOfReference(
  tree: OrgTree,
  ref: UnitReference,
  context: SelectionContext,
): { base: string | null; relation: UnitRelation } {
  const normal =
    typeof ref === 'string'
      ? ref === 'case' || ref === 'assignee'
        ? { of: ref, at: 'self' as const }
        : { of: 'case' as const, at: ref }
      : ref;
  let base: string | null;
  if (normal.of === 'case') base = context.caseUnitId;
  else if (normal.of === 'assignee') base = context.assigneeUnitId ?? context.caseUnitId;
  else if ('unit' in normal.of) base = normal.of.unit;
  else {
    const value = context.data[normal.of.field];
    base = typeof value === 'string' ? value : null;
  }
  if (base !== null && !tree.has(base)) base = null;
  return { base, relation: relationOf(normal.at) };
}

/** The unit a named person answers for: their first post's unit, else the case's unit. */
export function homeUnitOf(tree: OrgTree, personId: string, caseUnitId: string | null): string {
  return tree.unitsOf(personId)[0] ?? caseUnitId ?? '';
}

/** The people a selector means for a case, with the unit that answered. */
export function selectPeople(
  tree: OrgTree,
  selector: OrgSelector,
  context: SelectionContext,
): SelectedPeople {
  const none: SelectedPeople = { people: [], unit: null, fellBack: false };
  if ('person' in selector) {
    const { person } = selector;
    return {
      ...none,
      people: [{ personId: person, unitId: homeUnitOf(tree, person, context.caseUnitId) }],
    };
  }
  if ('pairedWith' in selector) return selectPaired(tree, selector, context);
  if ('chain' in selector) return selectDownTheChain(tree, selector, context);
  if ('unit' in selector) {
    const { base, relation } = baseOfReference(tree, selector.unit, context);
    if (base === null) return none;
    const target = resolveEscalationTarget(tree, base, relation, selector.role);
    if (!target) return none;
    return {
      people: target.people.map((personId) => ({ personId, unitId: target.unit.id })),
      unit: target.unit,
      fellBack: target.fellBack,
    };
  }
  // A role in every unit of a type below one: a broadcast to a claim pool. Units come parents
  // first, children in id order; a person holding the post in several answers for the first.
  const { base, relation } = baseOfReference(tree, selector.under, context);
  const under = base === null ? null : tree.relate(base, relation);
  if (!under) return none;
  const unitOfPerson = new Map<string, string>();
  for (const unit of tree.descendants(under.id)) {
    if (unit.type !== selector.unitsOfType) continue;
    for (const person of tree.holders(unit.id, selector.role)) {
      if (!unitOfPerson.has(person)) unitOfPerson.set(person, unit.id);
    }
  }
  return {
    people: [...unitOfPerson].map(([personId, unitId]) => ({ personId, unitId })),
    unit: under,
    fellBack: false,
  };
}

/** The unit a reference points at, or null (no base, or no such relation). */
function unitOf(tree: OrgTree, ref: UnitReference, context: SelectionContext): OrgUnit | null {
  const { base, relation } = baseOfReference(tree, ref, context);
  return base === null ? null : tree.relate(base, relation);
}

/**
 * {@link PairedWithSelector}: no 兜底 upwards (a compound without a paired cadre has nobody
 * paired, not the community's leader), and a paired unit without the role answers nobody.
 * People paired in person answer for the paired unit; post holders for their own unit.
 */
function selectPaired(
  tree: OrgTree,
  selector: PairedWithSelector,
  context: SelectionContext,
): SelectedPeople {
  const target = unitOf(tree, selector.pairedWith, context);
  if (!target) return { people: [], unit: null, fellBack: false };
  const kinds =
    selector.kind === undefined
      ? null
      : new Set(typeof selector.kind === 'string' ? [selector.kind] : selector.kind);
  const role = selector.role ?? PAIRED_UNIT_ROLE;
  const unitOfPerson = new Map<string, string>();
  const units = selector.andBelow ? tree.descendants(target.id) : [target];
  for (const unit of units) {
    for (const pairing of tree.pairingsOf(unit.id)) {
      if (kinds !== null && !kinds.has(pairing.kind)) continue;
      if (!pairingValidOn(pairing, context.today)) continue;
      if (pairing.personId) {
        if (!unitOfPerson.has(pairing.personId)) unitOfPerson.set(pairing.personId, unit.id);
      } else if (pairing.partnerUnitId) {
        for (const person of tree.holders(pairing.partnerUnitId, role)) {
          if (!unitOfPerson.has(person)) unitOfPerson.set(person, pairing.partnerUnitId);
        }
      }
    }
  }
  return {
    people: [...unitOfPerson].map(([personId, unitId]) => ({ personId, unitId })),
    unit: target,
    fellBack: false,
  };
}

/**
 * {@link ChainDownSelector}: units strictly below the base, level by level (each level's units
 * by parent, then id); a vacant post is nobody (no 兜底: the level above is called by its own
 * selector). A person holding the post on several levels answers for the highest.
 */
function selectDownTheChain(
  tree: OrgTree,
  selector: ChainDownSelector,
  context: SelectionContext,
): SelectedPeople {
  const under = unitOf(tree, selector.under, context);
  if (!under) return { people: [], unit: null, fellBack: false };
  const types = selector.unitTypes === undefined ? null : new Set(selector.unitTypes);
  const unitOfPerson = new Map<string, string>();
  for (const unit of tree.descendants(under.id).slice(1)) {
    if (types !== null && !types.has(unit.type)) continue;
    for (const person of tree.holders(unit.id, selector.role)) {
      if (!unitOfPerson.has(person)) unitOfPerson.set(person, unit.id);
    }
  }
  return {
    people: [...unitOfPerson].map(([personId, unitId]) => ({ personId, unitId })),
    unit: under,
    fellBack: false,
  };
}

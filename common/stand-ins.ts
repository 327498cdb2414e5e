import type { OrgTree, OrgUnit } from './org-tree';
import type { DutyRota } from './duty-rota';
import { onDutyAt } from './duty-rota';
import type { OrgSelector, SelectionContext, UnitReference } from './people-selector';
import { baseOfReference, selectPeople } from './people-selector';
import type { WorkingCalendar } from './working-calendar';

/**
 * Who answers when a post holder is away (AB岗, Chengu's "AB岗轮换", ../shared/seeds/000): an
 * absence period names the person, when, why, and optionally who stands in; a post may name its
 * B-holder (B岗), the partner who covers it. At the moment people are selected, an absent holder
 * is replaced by the stand-in named on the absence, else by the post's B-holder, else the post is
 * treated as vacant there and the 兜底 rules of org-tree.ts answer from the units above. Pure:
 * the lookup activity gives the moment, the absences and the B-holders.
 */

/** Why someone is away: 事假/年假, 病假, 出差, 培训/学习, 其他. Never written to case history. */
export const ABSENCE_REASONS = ['leave', 'sick', 'business-trip', 'training', 'other'] as const;
export type AbsenceReason = (typeof ABSENCE_REASONS)[number];

export interface Absence {
  id: string;
  personId: string;
  /** The first instant away (ISO 8601). */
  from: string;
  /** The instant back (ISO 8601): away over `[from, to)`. */
  to: string;
  reason: AbsenceReason;
  /** Who stands in, named on the absence; null to let the post's B-holder cover it. */
  standInId: string | null;
}

/** A post's B-holder (B岗): who covers `role` in `unitId` while its holders are away. */
export interface PostBackup {
  unitId: string;
  role: string;
  personId: string;
}

/** A person chosen in place of an absent one (ids only: this reaches case history). */
export interface StandIn {
  personId: string;
  /** The absent person. */
  for: string;
  /** Named on the absence, or the post's B-holder. */
  via: 'absence' | 'b-post';
}

/** A selected person, with whom they stand in for when they do. */
export interface AvailablePerson {
  personId: string;
  unitId: string;
  standingInFor?: string;
}

export interface AvailablePeople {
  people: AvailablePerson[];
  unit: OrgUnit | null;
  fellBack: boolean;
  standIns: StandIn[];
}

/** A person selected for a post (`role` in `unitId`), or by name (`role` null). */
interface RosteredPerson {
  personId: string;
  unitId: string;
  role: string | null;
}

/** Absences and B-holders, indexed for lookups at one moment. */
export class Availability {
  private readonly absencesByPerson = new Map<string, Absence[]>();
  private readonly backups = new Map<string, string>();

  constructor(absences: readonly Absence[], backups: readonly PostBackup[]) {
    for (const absence of absences) {
      const list = this.absencesByPerson.get(absence.personId) ?? [];
      list.push(absence);
      this.absencesByPerson.set(absence.personId, list);
    }
    for (const list of this.absencesByPerson.values())
      list.sort((a, b) => a.id.localeCompare(b.id));
    for (const backup of backups)
      this.backups.set(`${backup.unitId}:${backup.role}`, backup.personId);
  }

  /** The absence `personId` is on at `instant` (the first by id when periods overlap), or null. */
  absenceAt(personId: string, instant: number): Absence | null {
    const list = this.absencesByPerson.get(personId) ?? [];
    return list.find((a) => Date.parse(a.from) <= instant && instant < Date.parse(a.to)) ?? null;
  }

  /** The B-holder of a post, or null. */
  backupOf(unitId: string, role: string): string | null {
    return this.backups.get(`${unitId}:${role}`) ?? null;
  }
}

/**
 * People with absent ones replaced: each absent person by the stand-in named on their absence,
 * else by the B-holder of the post they were selected for (`role` in their unit; none when the
 * role is not known), provided the stand-in is not away too; an absent person nobody covers is
 * left out. A stand-in answers for the absent person's unit. Order is kept; each person once.
 */
export function replaceAbsent(
  availability: Availability,
  people: readonly RosteredPerson[],
  instant: number,
): { people: AvailablePerson[]; standIns: StandIn[] } {
  const chosen: AvailablePerson[] = [];
  const standIns: StandIn[] = [];
  const add = (person: AvailablePerson) => {
    if (!chosen.some((p) => p.personId === person.personId)) chosen.push(person);
  };
  for (const person of people) {
    const absence = availability.absenceAt(person.personId, instant);
    if (!absence) {
      add({ personId: person.personId, unitId: person.unitId });
      continue;
    }
    const named = absence.standInId;
    const backup = person.role === null ? null : availability.backupOf(person.unitId, person.role);
    const [standIn, via] =
      named !== null && availability.absenceAt(named, instant) === null
        ? [named, 'absence' as const]
        : backup !== null &&
            backup !== person.personId &&
            availability.absenceAt(backup, instant) === null
          ? [backup, 'b-post' as const]
          : [null, null];
    if (standIn === null || via === null) continue;
    standIns.push({ personId: standIn, for: person.personId, via });
    add({ personId: standIn, unitId: person.unitId, standingInFor: person.personId });
  }
  return { people: chosen, standIns };
}

/**
 * A role in a unit, with absences: the holders of the related unit, absent ones replaced; when
 * every holder there is away and nobody covers, the post counts as vacant and the nearest unit
 * above with someone available answers (兜底, as for a vacant post).
 */
function roleWithStandIns(
  tree: OrgTree,
  availability: Availability,
  role: string,
  unit: UnitReference,
  context: SelectionContext,
  instant: number,
): AvailablePeople {
  const none: AvailablePeople = { people: [], unit: null, fellBack: false, standIns: [] };
  const { base, relation } = baseOfReference(tree, unit, context);
  const target = base === null ? null : tree.relate(base, relation);
  if (!target) return none;
  for (const candidate of tree.ancestry(target.id)) {
    const holders = tree.holders(candidate.id, role);
    if (holders.length === 0) continue;
    const replaced = replaceAbsent(
      availability,
      holders.map((personId) => ({ personId, unitId: candidate.id, role })),
      instant,
    );
    if (replaced.people.length > 0) {
      return { ...replaced, unit: candidate, fellBack: candidate.id !== target.id };
    }
  }
  return none;
}

/**
 * What a selector means at `instant` with absences: {@link selectPeople}, with absent people
 * replaced by their stand-ins; a role in a unit falls back upwards when all its holders are away.
 */
export function selectAvailablePeople(
  tree: OrgTree,
  availability: Availability,
  selector: OrgSelector,
  context: SelectionContext,
  instant: number,
): AvailablePeople {
  if ('unit' in selector) {
    return roleWithStandIns(tree, availability, selector.role, selector.unit, context, instant);
  }
  const selected = selectPeople(tree, selector, context);
  const role = 'unitsOfType' in selector ? selector.role : null;
  const replaced = replaceAbsent(
    availability,
    selected.people.map((p) => ({ ...p, role })),
    instant,
  );
  return { ...replaced, unit: selected.unit, fellBack: selected.fellBack };
}

/**
 * `onDuty: <unit>` at `instant`: the people the unit's rota has on duty (a rostered role means
 * its holders in that unit), absent ones replaced. When nobody is rostered then (or the unit has
 * no rota), the post holders answer: of `role` when given (with 兜底 upwards), else every post
 * holder of the unit.
 */
export function selectOnDuty(
  tree: OrgTree,
  availability: Availability,
  rotaOf: (unitId: string) => DutyRota | null,
  calendar: WorkingCalendar,
  selector: { onDuty: UnitReference; role?: string },
  context: SelectionContext,
  instant: number,
): AvailablePeople & { rostered: boolean } {
  const { base, relation } = baseOfReference(tree, selector.onDuty, context);
  const unit = base === null ? null : tree.relate(base, relation);
  if (!unit) return { people: [], unit: null, fellBack: false, standIns: [], rostered: false };
  const rota = rotaOf(unit.id);
  const onDuty = rota ? onDutyAt(rota, instant, calendar) : [];
  const rostered = onDuty.flatMap((entry): RosteredPerson[] =>
    'personId' in entry
      ? [{ personId: entry.personId, unitId: unit.id, role: null }]
      : tree.holders(unit.id, entry.role).map((personId) => ({
          personId,
          unitId: unit.id,
          role: entry.role,
        })),
  );
  if (rostered.length > 0) {
    const replaced = replaceAbsent(availability, rostered, instant);
    if (replaced.people.length > 0) {
      return { ...replaced, unit, fellBack: false, rostered: true };
    }
  }
  if (selector.role !== undefined) {
    const ref: UnitReference = { of: { unit: unit.id }, at: 'self' };
    const found = roleWithStandIns(tree, availability, selector.role, ref, context, instant);
    return { ...found, rostered: false };
  }
  const holders = tree
    .postsIn(unit.id)
    .map((post) => ({ personId: post.personId, unitId: unit.id, role: post.role }));
  const replaced = replaceAbsent(availability, holders, instant);
  return { ...replaced, unit, fellBack: false, rostered: false };
}

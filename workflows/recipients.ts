import type { ChannelChoice } from '../lang/vocabulary';
/**
 * Who a mail goes to, as the case run and its clocks pass it around. Types and two pure helpers,
 * so the run, its clocks and its tasks can all name them without importing each other.
 */
import type { Candidate, ResolvedPeople, RosterFigures } from '../common/case';

/** The people-related state a recipient can point at (the task a reminder is about). */
export interface TaskContext {
  id: string;
  name: string;
  unitId: string | null;
  candidates: readonly Candidate[];
  assignee: Candidate | null;
  /** A claim pool's claimants so far (the `unacknowledged` recipients are the other candidates). */
  claimants?: readonly Candidate[];
  /** A roll-call pool (`claimants.max: all`): its reminders and escalations carry its figures. */
  rollCall?: boolean;
  /**
   * A roster roll-call: its people are in the roster collection (candidates and claimants stay
   * empty here), so mails to them and figures about them come from activities/roll-calls.ts.
   */
  roster?: RosterFigures | null;
}

export interface MailTarget {
  /** Distinguishes recipients within one notification's business key. */
  slot: string;
  to: string | { personId: string };
}

export interface MailArgs {
  template: string;
  keyBase: string;
  stepId: string;
  context: Record<string, unknown>;
  /** Context keys whose value is a person's name, filled in by the activity from a person id. */
  names?: Record<string, string>;
  /** Context keys whose value is a list of names, filled in by the activity from person ids. */
  nameLists?: Record<string, string[]>;
  /**
   * The definition's `channels` for people (absent: each person's preferences, then mail). Only
   * passed on when the definition names them, so cases of definitions without it replay as
   * recorded.
   */
  channels?: ChannelChoice[];
  /**
   * The definition's `groupRobot: true`: one post to the group robot of each unit the
   * recipients were found in (the case's unit when they came with none), under
   * `<keyBase>:robot:<unitId>`.
   */
  groupRobot?: boolean;
}

export function asList<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/**
 * The units whose group robot a `groupRobot: true` notification posts to, in order: each unit the
 * recipients were found in, then `also` (further units they came from: a roster roll-call's unit)
 * where not listed yet, else the case's unit when they came with none.
 */
export function groupRobotUnits(
  found: ResolvedPeople | undefined,
  caseUnitId: string | null,
  also: ReadonlyArray<string | null> = [],
): string[] {
  const units = found?.units?.map((u) => u.unitId) ?? (found?.unitId ? [found.unitId] : []);
  // The found units as they always were (recorded histories post to each in this order).
  for (const unitId of also) if (unitId !== null && !units.includes(unitId)) units.push(unitId);
  if (units.length === 0 && caseUnitId !== null) units.push(caseUnitId);
  return units;
}

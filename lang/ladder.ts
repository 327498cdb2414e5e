import type { DeadlineSpec, EscalationEntrySpec, EscalationSpec, UpTreeSpec } from './definition';
import type { SlaDuration } from './duration';
import { parseSlaDuration } from './duration';

/**
 * Escalation ladders that walk up the org tree (`upTree`, 逐级督办, docs 9.2) as the ordinary
 * levels a clock runs: level k of a ladder mails the holders of its role in the k-th unit above
 * its `from` unit (`at: { up: k }`), `after + (k − 1) × every` after the deadline. Pure, and
 * imported by types only from definition.ts, so the workflow bundle can use it. A deadline without
 * a ladder comes back as it was (same levels, same numbers), so running cases replay unchanged.
 */

/** Which ladder level an expanded level is: its rank (1 = the first unit above) and the ladder's size. */
export interface LadderRank {
  rank: number;
  levels: number;
  /** The position of the ladder's entry in `escalations` (its levels share it). */
  entry: number;
}

/** An escalation level as a clock runs it; `ladder` marks one that came from an `upTree`. */
export type LevelSpec = EscalationSpec & { ladder?: LadderRank };

/** A deadline whose ladders are expanded into levels: what a clock runs. */
export type LevelledDeadlineSpec = Omit<DeadlineSpec, 'escalations'> & {
  escalations: LevelSpec[];
};

/** Whether an `escalations` entry is a ladder up the tree. */
export function isUpTree(entry: EscalationEntrySpec): entry is { upTree: UpTreeSpec } {
  return 'upTree' in entry;
}

/**
 * Why a ladder's `after` and `every` cannot be added up (null when they can): both must be
 * calendar time, working days or working hours/minutes, as the sum has to be one duration.
 */
export function ladderOffsetProblem(ladder: UpTreeSpec): string | null {
  if (ladder.after === undefined) return null;
  const after = parseSlaDuration(ladder.after);
  const every = parseSlaDuration(ladder.every);
  return after.kind === every.kind
    ? null
    : `"${ladder.after}" and every "${ladder.every}" must be the same kind of time (both calendar, both working days, or both working hours) so the levels' offsets add up`;
}

function scaled(duration: SlaDuration, times: number): SlaDuration {
  switch (duration.kind) {
    case 'calendar':
      return { kind: 'calendar', ms: duration.ms * times };
    case 'workingDays':
      return { kind: 'workingDays', days: duration.days * times };
    case 'workingMinutes':
      return { kind: 'workingMinutes', minutes: duration.minutes * times };
  }
}

function sum(a: SlaDuration, b: SlaDuration): SlaDuration {
  if (a.kind === 'calendar' && b.kind === 'calendar') return { kind: 'calendar', ms: a.ms + b.ms };
  if (a.kind === 'workingDays' && b.kind === 'workingDays') {
    return { kind: 'workingDays', days: a.days + b.days };
  }
  if (a.kind === 'workingMinutes' && b.kind === 'workingMinutes') {
    return { kind: 'workingMinutes', minutes: a.minutes + b.minutes };
  }
  throw new Error('a ladder adds durations of one kind only (checked by the validator)');
}

/** The duration as definitions write it; undefined for zero (at the deadline). */
function written(duration: SlaDuration): string | undefined {
  switch (duration.kind) {
    case 'calendar':
      return duration.ms === 0 ? undefined : `PT${(duration.ms / 1000).toFixed(3)}S`;
    case 'workingDays':
      return duration.days === 0
        ? undefined
        : `${duration.days} working day${duration.days === 1 ? '' : 's'}`;
    case 'workingMinutes':
      return duration.minutes === 0 ? undefined : `${duration.minutes} working minutes`;
  }
}

/** The levels of one ladder, in order: rank 1 (the first unit above `from`) first. */
export function ladderLevels(ladder: UpTreeSpec, entry: number): LevelSpec[] {
  const every = parseSlaDuration(ladder.every);
  const first = ladder.after === undefined ? scaled(every, 0) : parseSlaDuration(ladder.after);
  const from = typeof ladder.from === 'object' ? ladder.from.of : ladder.from;
  const levels: LevelSpec[] = [];
  for (let rank = 1; rank <= ladder.levels; rank++) {
    const after = written(sum(first, scaled(every, rank - 1)));
    levels.push({
      ...(after !== undefined ? { after } : {}),
      notify: {
        role: ladder.role,
        unit: {
          of: from,
          at: { up: rank, ...(ladder.types !== undefined ? { types: ladder.types } : {}) },
        },
      },
      template: ladder.template,
      reassign: false,
      ...(ladder.channels !== undefined ? { channels: ladder.channels } : {}),
      ...(ladder.groupRobot !== undefined ? { groupRobot: ladder.groupRobot } : {}),
      ladder: { rank, levels: ladder.levels, entry },
    });
  }
  return levels;
}

/** The escalation levels of a deadline, ladders expanded (the levels clocks number 1, 2, …). */
export function expandedLevels(escalations: readonly EscalationEntrySpec[]): LevelSpec[] {
  return escalations.flatMap((entry, index) =>
    isUpTree(entry) ? ladderLevels(entry.upTree, index) : [entry],
  );
}

/** A deadline as a clock runs it: its ladders expanded. Unchanged (the same object) without one. */
export function levelledDeadline(spec: DeadlineSpec): LevelledDeadlineSpec {
  if (!spec.escalations.some(isUpTree)) return spec as LevelledDeadlineSpec;
  return { ...spec, escalations: expandedLevels(spec.escalations) };
}

import type { CaseMetrics } from './case';
import { measureTimeline } from './case-measures';
import type {
  Actor,
  CaseStatus,
  PublicationView,
  RatingView,
  ServedBy,
  TimelineEntry,
  TimelineEventType,
} from './case';
import { validateCaseData } from '../lang/case-data';
import type { DefinitionSnapshot, MeasuresSpec } from '../lang/definition';

/**
 * Closed cases brought in from before the engine ran them (历史工单导入): another system's records
 * when a county switches over, or the demo county's past months. They are history, not work: the
 * engine never runs them, so they arrive closed, with the timeline that happened, and count in
 * the metrics and on the board like any closed case. The case document is written by an activity
 * (the only writer of case documents), started by the import workflow.
 */
export interface ImportedCase {
  /** The caller's own id of the record (unique within the source): the case id derives from it. */
  externalId: string;
  definitionKey: string;
  definitionVersion: number;
  unitId: string | null;
  category: string | null;
  data: Record<string, unknown>;
  createdBy: Actor;
  status: Exclude<CaseStatus, 'open' | 'failed'>;
  receivedAt: string;
  closedAt: string;
  /** What happened, oldest first: from `case.started` to `case.closed`. */
  events: Array<Omit<TimelineEntry, 'seq'>>;
  rating: RatingView | null;
  publication: PublicationView | null;
  /**
   * Who served it (接单/签收: the units and people of the org tree who took it on), as the engine
   * records it for its own cases (common/case-served.ts), so a co-building unit or a person is
   * measured and evaluated on the imported orders it served. Optional: absent, nobody is recorded.
   */
  servedBy?: ServedBy;
}

/** A record as the import activity gets it: checked, with its case id and content hash. */
export interface ImportedCaseDocument extends ImportedCase {
  caseId: string;
  definitionName: string;
  requestHash: string;
  /** The definition's `measures` block, so imported figures mean what live ones do. */
  measures?: MeasuresSpec;
}

export interface ImportProblem {
  path: string;
  message: string;
}

const CLOSED: ReadonlySet<string> = new Set(['closed', 'rejected', 'cancelled']);

/** Event types a record may carry: those the interpreter records (docs section 17). */
export const IMPORTABLE_EVENTS: ReadonlySet<TimelineEventType> = new Set<TimelineEventType>([
  'case.started',
  'step.entered',
  'step.completed',
  'notification.sent',
  'timer.fired',
  'decision.taken',
  'task.opened',
  'task.claimed',
  'task.released',
  'task.completed',
  'task.returned',
  'task.reassigned',
  'task.cancelled',
  'claim.closed',
  'deadline.reminded',
  'deadline.missed',
  'deadline.escalated',
  'clock.paused',
  'clock.resumed',
  'feedback.rated',
  'feedback.missing',
  'case.published',
  'case.closed',
]);

/** Every problem of one record against the version it names, paths under `prefix`. */
export function checkImportedCase(
  record: ImportedCase,
  definition: DefinitionSnapshot,
  prefix: string,
): ImportProblem[] {
  const problems: ImportProblem[] = [];
  const at = (path: string, message: string) =>
    problems.push({ path: `${prefix}.${path}`, message });
  if (!CLOSED.has(record.status)) at('status', 'an imported case is closed, rejected or cancelled');
  const received = Date.parse(record.receivedAt);
  const closed = Date.parse(record.closedAt);
  if (Number.isNaN(received)) at('receivedAt', 'an ISO 8601 instant');
  if (Number.isNaN(closed)) at('closedAt', 'an ISO 8601 instant');
  if (closed < received) at('closedAt', 'before receivedAt');
  const checked = validateCaseData(definition.spec.input.fields, record.data);
  if (!checked.ok) {
    for (const p of checked.problems)
      problems.push({ path: `${prefix}.${p.path}`, message: p.message });
  }
  const codes = definition.spec.categories?.map((c) => c.code) ?? [];
  if (record.category !== null && !codes.includes(record.category)) {
    at('category', codes.length ? `one of: ${codes.join(', ')}` : 'this process has no categories');
  }
  const events = record.events;
  if (events.length < 2) at('events', 'from case.started to case.closed, at least two entries');
  let previous = -Infinity;
  events.forEach((event, i) => {
    const when = Date.parse(event.at);
    if (!IMPORTABLE_EVENTS.has(event.type))
      at(`events[${i}].type`, `unknown event type "${event.type}"`);
    if (Number.isNaN(when)) at(`events[${i}].at`, 'an ISO 8601 instant');
    else if (when < previous) at(`events[${i}].at`, 'events must be in time order');
    else if (when < received || when > closed) at(`events[${i}].at`, 'outside receivedAt…closedAt');
    previous = Number.isNaN(when) ? previous : when;
  });
  if (events.length >= 2) {
    if (events[0]!.type !== 'case.started') at('events[0].type', 'the first entry is case.started');
    const last = events[events.length - 1]!;
    if (last.type !== 'case.closed')
      at(`events[${events.length - 1}].type`, 'the last entry is case.closed');
    else if (last.detail?.status !== record.status) {
      at(
        `events[${events.length - 1}].detail.status`,
        `must be the record's status (${record.status})`,
      );
    }
  }
  if (record.servedBy !== undefined) {
    const { unitIds, personIds } = record.servedBy;
    if (unitIds.length === 0 && personIds.length === 0) {
      at('servedBy', 'name at least one unit or person, or leave servedBy out');
    }
    unitIds.forEach((id, i) => {
      if (unitIds.indexOf(id) !== i) at(`servedBy.unitIds[${i}]`, `"${id}" listed twice`);
    });
    personIds.forEach((id, i) => {
      if (personIds.indexOf(id) !== i) at(`servedBy.personIds[${i}]`, `"${id}" listed twice`);
    });
  }
  if (record.rating && record.rating.score !== null) {
    const score = record.rating.score;
    if (!Number.isInteger(score) || score < 1 || score > 5) at('rating.score', '1 to 5, or null');
  }
  return problems;
}

/** The timeline as stored (numbered) and the figures it gives. */
export function importedTimeline(record: ImportedCase & { measures?: MeasuresSpec }): {
  timeline: TimelineEntry[];
  metrics: CaseMetrics;
} {
  const timeline = record.events.map((event, i) => ({ ...event, seq: i + 1 }));
  return { timeline, metrics: measureTimeline(timeline, record.measures) };
}

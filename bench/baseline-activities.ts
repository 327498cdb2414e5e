import { ApplicationFailure } from '@temporalio/activity';
import type mongoose from 'mongoose';

type Db = mongoose.mongo.Db;

/**
 * The baseline's one activity: writes one transition of a case into its case document and, when
 * a task changed, the task document, in the same FerretDB the engine writes to, in collections of
 * its own. It does what the engine's `recordCaseProgress` does for one revision: a version-guarded
 * task upsert, then the case document inserted (revision 1) or updated only on top of the
 * previous revision with the timeline entries pushed, so a retry is a no-op. The documents have
 * the fields of the engine's read model (models/index.ts): on FerretDB/SQLite a write costs
 * roughly in proportion to the document, so leaner documents would flatter the baseline.
 */

export const BASELINE_COLLECTIONS = {
  cases: 'bench_baseline_cases',
  tasks: 'bench_baseline_tasks',
};

export interface BaselineCandidate {
  personId: string;
  userId: string | null;
  unitId: string;
}

export interface BaselineTaskDoc {
  id: string;
  caseId: string;
  definitionKey: string;
  caseUnitId: string;
  stepId: string;
  name: string;
  kind: 'task';
  status: 'open' | 'claimed' | 'completed';
  candidates: BaselineCandidate[];
  assignee: BaselineCandidate | null;
  claimants: BaselineCandidate[];
  maxClaimants: number;
  outcomes: Array<{ id: string; name: string; requiresComment: boolean }>;
  outcome: string | null;
  deadlines: never[];
  openedAt: string;
  closedAt: string | null;
}

export interface BaselineEvent {
  seq: number;
  type: string;
  at: string;
  actor: { kind: string; id: string };
  stepId?: string;
  via?: string;
  detail?: Record<string, string>;
}

export interface BaselineTransition {
  caseId: string;
  revision: number;
  status: 'open' | 'closed';
  currentStep: { id: string; name: string; type: string } | null;
  events: BaselineEvent[];
  task?: BaselineTaskDoc & { version: number };
  opening?: {
    definitionKey: string;
    definitionVersion: number;
    definitionName: string;
    data: Record<string, unknown>;
    createdBy: { kind: string; id: string };
    unitId: string;
    channel: string;
    requestHash: string;
    createdAt: string;
  };
  closedAt?: string;
}

type StoredEvent = Omit<BaselineEvent, 'at'> & { at: Date };

type Opening = NonNullable<BaselineTransition['opening']>;

interface CaseDoc extends Partial<Omit<Opening, 'createdAt'>> {
  _id: string;
  revision: number;
  status: string;
  currentStep: BaselineTransition['currentStep'];
  createdAt?: Date;
  updatedAt: Date;
  closedAt?: Date;
  deadlines?: never[];
  timeline: StoredEvent[];
}

interface TaskDoc {
  _id: string;
  [field: string]: unknown;
}

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: number } | null)?.code === 11000;
}

export function createBaselineActivities(db: Db) {
  const cases = db.collection<CaseDoc>(BASELINE_COLLECTIONS.cases);
  const tasks = db.collection<TaskDoc>(BASELINE_COLLECTIONS.tasks);
  const userIds = (people: BaselineCandidate[]) =>
    people.flatMap((p) => (p.userId ? [p.userId] : []));

  return {
    async recordTransition(t: BaselineTransition): Promise<void> {
      const now = new Date();
      if (t.task) {
        const { id, openedAt, closedAt, ...rest } = t.task;
        try {
          await tasks.updateOne(
            { _id: id, version: { $lt: t.task.version } },
            {
              $set: {
                ...rest,
                candidateUserIds: userIds(rest.candidates),
                assigneeUserId: rest.assignee?.userId ?? null,
                claimantUserIds: userIds(rest.claimants),
                dueAt: null,
                openedAt: new Date(openedAt),
                closedAt: closedAt === null ? null : new Date(closedAt),
              },
            },
            { upsert: true },
          );
        } catch (err) {
          if (!isDuplicateKey(err)) throw err; // already at this version: a retry
        }
      }
      const fields = {
        revision: t.revision,
        status: t.status,
        currentStep: t.currentStep,
        updatedAt: now,
        ...(t.task ? { deadlines: [] } : {}),
        ...(t.closedAt !== undefined ? { closedAt: new Date(t.closedAt) } : {}),
      };
      const timeline: StoredEvent[] = t.events.map((e) => ({ ...e, at: new Date(e.at) }));
      if (t.opening) {
        const { createdAt, ...opening } = t.opening;
        try {
          await cases.insertOne({
            _id: t.caseId,
            ...opening,
            ...fields,
            createdAt: new Date(createdAt),
            timeline,
          });
          return;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
      } else {
        const result = await cases.updateOne(
          { _id: t.caseId, revision: t.revision - 1 },
          { $set: fields, $push: { timeline: { $each: timeline } } },
        );
        if (result.matchedCount === 1) return;
      }
      const stored = await cases.findOne({ _id: t.caseId }, { projection: { revision: 1 } });
      if (stored && stored.revision >= t.revision) return;
      throw ApplicationFailure.retryable(
        `Case ${t.caseId} is at revision ${String(stored?.revision)}; cannot apply ${t.revision}`,
        'ProjectionOutOfOrder',
      );
    },
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;

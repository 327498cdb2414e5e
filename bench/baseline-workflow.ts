import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineUpdate,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type {
  BaselineActivities,
  BaselineCandidate,
  BaselineTaskDoc,
  BaselineTransition,
} from './baseline-activities';

/**
 * The benchmark's baseline: the engine's two-task case written by hand for Temporal. It starts,
 * writes the read model through an activity at each transition (started, task opened, claimed,
 * completed, closed), opens two human tasks one after the other, each claimed and completed
 * through Updates whose validators answer at once and whose handlers write before answering
 * (read your own write), and ends. No definition to interpret, no org lookups (the candidates
 * come in the input, as a hand-written workflow for one process would have them), no SLA clocks,
 * no mail.
 *
 * Deterministic code only: imports nothing but `@temporalio/workflow` and types.
 */

export const BASELINE_WORKFLOW_TYPE = 'baselineCaseWorkflow';

export interface BaselineTaskSpec {
  stepId: string;
  name: string;
  candidates: BaselineCandidate[];
  outcomes: Array<{ id: string; name: string }>;
}

export interface BaselineInput {
  caseId: string;
  process: { key: string; version: number; name: string };
  unitId: string;
  data: Record<string, unknown>;
  startedBy: { kind: string; id: string };
  requestHash: string;
  receivedAt: string;
  tasks: BaselineTaskSpec[];
}

export interface BaselineTaskRequest {
  taskId: string;
  userId: string;
  outcome?: string;
}

export type BaselineTaskView = Pick<
  BaselineTaskDoc,
  'id' | 'stepId' | 'status' | 'assignee' | 'outcome'
>;

export const baselineClaimUpdate = defineUpdate<BaselineTaskView, [BaselineTaskRequest]>(
  'baselineClaim',
);
export const baselineCompleteUpdate = defineUpdate<BaselineTaskView, [BaselineTaskRequest]>(
  'baselineComplete',
);

/** The same retry policy as the engine's read-model stub (workflows/stubs.ts `store`). */
const store = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

interface OpenTask {
  doc: BaselineTaskDoc;
  spec: BaselineTaskSpec;
  version: number;
  done: boolean;
}

function reject(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

export async function baselineCaseWorkflow(input: BaselineInput): Promise<{ revision: number }> {
  let revision = 0;
  let seq = 0;
  let current: OpenTask | null = null;

  // Writes are chained, as the engine's are: a task shows as open once its document is written,
  // before the case document is, so a claim can arrive while that write is still running.
  let chain: Promise<void> = Promise.resolve();
  const write = (
    type: string,
    actor: { kind: string; id: string },
    task: OpenTask | null,
    via?: string,
  ): Promise<void> => {
    const next = chain.then(() => record(type, actor, task, via));
    chain = next.catch(() => undefined);
    return next;
  };
  const record = (
    type: string,
    actor: { kind: string; id: string },
    task: OpenTask | null,
    via?: string,
  ): Promise<void> => {
    revision += 1;
    const closed = type === 'case.closed';
    const now = new Date().toISOString();
    const transition: BaselineTransition = {
      caseId: input.caseId,
      revision,
      status: closed ? 'closed' : 'open',
      currentStep: task ? { id: task.spec.stepId, name: task.spec.name, type: 'task' } : null,
      events: [
        {
          seq: ++seq,
          type,
          at: now,
          actor,
          ...(task ? { stepId: task.spec.stepId, detail: { task: task.doc.id } } : {}),
          ...(via !== undefined ? { via } : {}),
        },
      ],
      ...(task ? { task: { ...task.doc, version: ++task.version } } : {}),
      ...(closed ? { closedAt: now } : {}),
    };
    if (revision === 1) {
      transition.opening = {
        definitionKey: input.process.key,
        definitionVersion: input.process.version,
        definitionName: input.process.name,
        data: input.data,
        createdBy: input.startedBy,
        unitId: input.unitId,
        channel: 'client',
        requestHash: input.requestHash,
        createdAt: input.receivedAt,
      };
    }
    return store.recordTransition(transition);
  };

  const view = (task: OpenTask): BaselineTaskView => ({
    id: task.doc.id,
    stepId: task.doc.stepId,
    status: task.doc.status,
    assignee: task.doc.assignee,
    outcome: task.doc.outcome,
  });

  const openTask = (taskId: string): OpenTask => {
    if (!current || current.doc.id !== taskId) reject('NotFound', `No task "${taskId}"`);
    if (current.doc.status !== 'open' && current.doc.status !== 'claimed') {
      reject('Conflict', `The task is already ${current.doc.status}`);
    }
    return current;
  };
  const user = (userId: string) => ({ kind: 'user', id: userId });

  setHandler(
    baselineClaimUpdate,
    async (req: BaselineTaskRequest) => {
      const task = current!;
      if (task.doc.assignee?.userId !== req.userId) {
        task.doc.assignee = task.spec.candidates.find((c) => c.userId === req.userId)!;
        task.doc.status = 'claimed';
        await write('task.claimed', user(req.userId), task, 'client');
      }
      return view(task);
    },
    {
      validator: (req: BaselineTaskRequest) => {
        const task = openTask(req.taskId);
        if (task.doc.assignee?.userId === req.userId) return;
        if (task.doc.assignee !== null) reject('Conflict', 'Claimed by someone else');
        if (!task.spec.candidates.some((c) => c.userId === req.userId)) {
          reject('Forbidden', 'You are not among the candidates of this task');
        }
      },
    },
  );

  setHandler(
    baselineCompleteUpdate,
    async (req: BaselineTaskRequest) => {
      const task = current!;
      task.doc.status = 'completed';
      task.doc.outcome = req.outcome!;
      task.doc.closedAt = new Date().toISOString();
      task.done = true;
      await write('task.completed', user(req.userId), task, 'client');
      return view(task);
    },
    {
      validator: (req: BaselineTaskRequest) => {
        const task = openTask(req.taskId);
        if (task.doc.assignee?.userId !== req.userId) reject('Conflict', 'Claim the task first');
        if (!task.spec.outcomes.some((o) => o.id === req.outcome)) {
          reject(
            'Invalid',
            `The outcome must be one of: ${task.spec.outcomes.map((o) => o.id).join(', ')}`,
          );
        }
      },
    },
  );

  const engine = { kind: 'system', id: 'engine' };
  await write('case.started', input.startedBy, null);
  for (const spec of input.tasks) {
    const task: OpenTask = {
      spec,
      version: 0,
      done: false,
      doc: {
        id: `${input.caseId}.${spec.stepId}`,
        caseId: input.caseId,
        definitionKey: input.process.key,
        caseUnitId: input.unitId,
        stepId: spec.stepId,
        name: spec.name,
        kind: 'task',
        status: 'open',
        candidates: spec.candidates,
        assignee: null,
        claimants: [],
        maxClaimants: 1,
        outcomes: spec.outcomes.map((o) => ({ ...o, requiresComment: false })),
        outcome: null,
        deadlines: [],
        openedAt: new Date().toISOString(),
        closedAt: null,
      },
    };
    current = task;
    await write('task.opened', engine, task);
    await condition(() => task.done);
  }
  current = null;
  await write('case.closed', engine, null);
  await condition(allHandlersFinished);
  return { revision };
}

import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  defineQuery,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { CaseActivities } from '../activities';
import type {
  Actor,
  CaseOpening,
  CaseStatus,
  CaseWorkflowInput,
  CurrentStep,
  TimelineEntry,
  TimelineEventType,
} from '../common/case';
import type { DefinitionSpec, StepSpec } from '../common/definition';
import { nextStepId, startStepId } from '../common/steps';
import { parseDurationMs } from '../common/duration';
import { CASE_STATUS } from '../common/search-attributes';

/** Writing the read model must eventually succeed: retry without limit, but back off. */
const { recordCaseProgress, abandonNotification } = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Mail is retried for about an hour, then the failure is recorded and the case moves on. */
const { sendNotification } = proxyActivities<CaseActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '15 minutes',
    maximumAttempts: 8,
    nonRetryableErrorTypes: ['TemplateError', 'InvalidRecipient'],
  },
});

export interface CaseStateView {
  status: CaseStatus;
  currentStep: CurrentStep | null;
  revision: number;
}

export const caseStateQuery = defineQuery<CaseStateView>('caseState');

const ENGINE: Actor = { kind: 'system', id: 'engine' };
/** A definition that loops forever is a bug in the definition; stop it instead of spinning. */
const MAX_STEP_VISITS = 10_000;

/**
 * The one interpreter: runs any published definition, step by step, projecting every transition
 * into the case document through an idempotent activity.
 */
export async function caseWorkflow(input: CaseWorkflowInput): Promise<CaseStateView> {
  const spec = input.definition.spec;
  const projection = new CaseProjection(input.caseId);
  setHandler(caseStateQuery, () => projection.view());

  projection.record('case.started', input.startedBy, undefined, {
    definition: input.definition.key,
    version: input.definition.version,
    channel: input.channel,
  });
  await projection.flush({ opening: openingOf(input) });

  const visits = new Map<string, number>();
  let stepId: string | undefined = startStepId(spec);
  let visitCount = 0;
  while (stepId !== undefined) {
    if (++visitCount > MAX_STEP_VISITS) {
      throw ApplicationFailure.nonRetryable(
        `Case ran more than ${MAX_STEP_VISITS} steps; the definition loops`,
        'DefinitionLoop',
      );
    }
    const step = findStep(spec, stepId);
    const visit = (visits.get(step.id) ?? 0) + 1;
    visits.set(step.id, visit);
    projection.enter(step);

    if (step.type === 'end') {
      projection.close(step.status, step.id);
      await projection.flush({ closedAt: new Date().toISOString() });
      upsertSearchAttributes([{ key: CASE_STATUS, value: step.status }]);
      break;
    }
    await runStep(step, input, projection, visit);
    projection.record('step.completed', ENGINE, step.id);
    await projection.flush();
    stepId = nextStepId(spec, step.id);
  }

  await condition(allHandlersFinished);
  return projection.view();
}

async function runStep(
  step: Exclude<StepSpec, { type: 'end' }>,
  input: CaseWorkflowInput,
  projection: CaseProjection,
  visit: number,
): Promise<void> {
  switch (step.type) {
    case 'timer': {
      await projection.flush();
      await sleep(parseDurationMs(step.duration));
      projection.record('timer.fired', ENGINE, step.id, { duration: step.duration });
      return;
    }
    case 'notify': {
      const address = 'address' in step.to ? step.to.address : input.data[step.to.field];
      if (typeof address !== 'string' || address.length === 0) {
        projection.record('notification.failed', ENGINE, step.id, {
          template: step.template,
          reason: 'no-recipient',
        });
        return;
      }
      const businessKey = `${input.caseId}:${step.id}:${visit}`;
      try {
        const result = await sendNotification({
          businessKey,
          caseId: input.caseId,
          template: step.template,
          to: address,
          context: {
            caseId: input.caseId,
            processName: input.definition.spec.name,
            stepName: step.name,
            receivedAt: input.receivedAt,
            data: input.data,
          },
        });
        projection.record('notification.sent', ENGINE, step.id, {
          template: step.template,
          status: result.status,
        });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        log.warn('Notification failed', { caseId: input.caseId, stepId: step.id });
        await abandonNotification(businessKey);
        projection.record('notification.failed', ENGINE, step.id, {
          template: step.template,
          reason: 'delivery-failed',
        });
      }
      return;
    }
  }
}

function findStep(spec: DefinitionSpec, id: string): StepSpec {
  const step = spec.steps.find((s) => s.id === id);
  if (!step) {
    throw ApplicationFailure.nonRetryable(`Definition has no step "${id}"`, 'DefinitionInvalid');
  }
  return step;
}

function openingOf(input: CaseWorkflowInput): CaseOpening {
  return {
    definitionKey: input.definition.key,
    definitionVersion: input.definition.version,
    definitionName: input.definition.spec.name,
    data: input.data,
    createdBy: { kind: input.startedBy.kind, id: input.startedBy.id },
    ...(input.unitId !== undefined ? { unitId: input.unitId } : {}),
    channel: input.channel,
    requestHash: input.requestHash,
    createdAt: input.receivedAt,
  };
}

/**
 * The workflow's view of its case document: collects timeline entries and hands them to the
 * projection activity in revision order.
 */
class CaseProjection {
  private revision = 0;
  private seq = 0;
  private pending: TimelineEntry[] = [];
  private status: CaseStatus = 'open';
  private currentStep: CurrentStep | null = null;

  constructor(private readonly caseId: string) {}

  view(): CaseStateView {
    return { status: this.status, currentStep: this.currentStep, revision: this.revision };
  }

  record(
    type: TimelineEventType,
    actor: Actor,
    stepId?: string,
    detail?: Record<string, string | number | boolean>,
  ): void {
    this.pending.push({
      seq: ++this.seq,
      type,
      at: new Date().toISOString(),
      actor,
      ...(stepId !== undefined ? { stepId } : {}),
      ...(detail !== undefined ? { detail } : {}),
    });
  }

  enter(step: StepSpec): void {
    this.currentStep = { id: step.id, name: step.name, type: step.type };
    this.record('step.entered', ENGINE, step.id, { stepType: step.type });
  }

  close(status: CaseStatus, stepId: string): void {
    this.status = status;
    this.currentStep = null;
    this.record('case.closed', ENGINE, stepId, { status });
  }

  async flush(extra: { opening?: CaseOpening; closedAt?: string } = {}): Promise<void> {
    if (this.pending.length === 0 && extra.opening === undefined && extra.closedAt === undefined) {
      return;
    }
    const events = this.pending;
    this.pending = [];
    await recordCaseProgress({
      caseId: this.caseId,
      revision: ++this.revision,
      status: this.status,
      currentStep: this.currentStep,
      events,
      ...extra,
    });
  }
}

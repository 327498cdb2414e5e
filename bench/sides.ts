import { createHash, randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type mongoose from 'mongoose';
import type { ActingPrincipal, CaseWorkflowInput } from '../common/case';
import { CASE_UPDATES, CASE_WORKFLOW_TYPE } from '../common/case';
import { CASE_DEFINITION_KEY, CASE_STATUS, CASE_UNIT_ID } from '../common/search-attributes';
import type { DefinitionSnapshot } from '../lang/definition';
import type { BaselineInput } from './baseline-workflow';
import {
  BASELINE_WORKFLOW_TYPE,
  baselineClaimUpdate,
  baselineCompleteUpdate,
} from './baseline-workflow';
import { expectStatus, http } from './http';
import type { CpuMeter } from './machine';
import type { Samples } from './report';
import { pollFor } from './run-control';
import type { DATABASES, People } from './scenario';
import { CASE_DATA, DEFINITION_KEY, QUEUES, STEPS, UNIT_ID } from './scenario';

/**
 * The three ways ("sides") a case is driven: the interpreter through the HTTP API, the same
 * interpreter through the Temporal client, and the hand-written baseline through the client.
 */

export type SideKey = keyof typeof DATABASES;

export interface Side {
  name: string;
  /** Whose database its read model is in. */
  store: SideKey;
  /** Runs one case; returns its id (the workflow id). */
  runCase(label: string, samples: Samples): Promise<string>;
}

export type StoreCollection = mongoose.mongo.Collection<{ _id: string; status?: string }>;

export interface Context {
  baseUrl: string;
  client: Client;
  people: People;
  snapshot: DefinitionSnapshot;
  /** Each side's read model: its case and task collections. */
  stores: Record<SideKey, { cases: StoreCollection; tasks: StoreCollection }>;
  pollMs: number;
  cpu: CpuMeter;
  /** The store commands the engine's and the baseline's processes have sent so far. */
  storeCommands(): Promise<Record<string, number>>;
  runId: string;
}

/** The interpreter through the HTTP API, the way staff and residents work. */
export function engineViaApi(ctx: Context): Side {
  return {
    name: 'engine/API',
    store: 'api',
    async runCase(label, samples) {
      const caseId = await samples.time('start', async () => {
        const res = await http<{ id: string }>(ctx.baseUrl, 'POST', '/api/v1/cases', {
          token: ctx.people.resident.token,
          headers: { 'idempotency-key': `bench-${ctx.runId}-${label}` },
          body: { definitionKey: DEFINITION_KEY, unitId: UNIT_ID, data: CASE_DATA },
        });
        expectStatus('starting a case', res, 201);
        return res.body.id;
      });
      for (const step of STEPS) {
        const token = ctx.people[step.who].token;
        const taskId = await samples.time('ready', () =>
          pollFor(`the ${step.stepId} task of ${caseId}`, ctx.pollMs, async () => {
            const res = await http<{ items: Array<{ id: string; stepId: string }> }>(
              ctx.baseUrl,
              'GET',
              `/api/v1/tasks?view=available&caseId=${caseId}`,
              { token },
            );
            expectStatus('listing tasks', res, 200);
            return res.body.items.find((t) => t.stepId === step.stepId)?.id;
          }),
        );
        await samples.time('claim', async () => {
          const res = await http(ctx.baseUrl, 'POST', `/api/v1/tasks/${taskId}/claim`, {
            token,
            body: {},
          });
          expectStatus('claiming a task', res, 200);
        });
        await samples.time('complete', async () => {
          const res = await http(ctx.baseUrl, 'POST', `/api/v1/tasks/${taskId}/complete`, {
            token,
            body: { outcome: step.outcome.id },
          });
          expectStatus('completing a task', res, 200);
        });
      }
      return caseId;
    },
  };
}

/** The same interpreter without the API: the start and the Updates the API services send. */
export function engineViaClient(ctx: Context): Side {
  return {
    name: 'engine/client',
    store: 'client',
    async runCase(label, samples) {
      const caseId = `case-${randomBytes(12).toString('hex')}`;
      const handle = await samples.time('start', () => {
        const requestHash = createHash('sha256').update(`${ctx.runId}:${label}`).digest('hex');
        const input: CaseWorkflowInput = {
          caseId,
          definition: ctx.snapshot,
          data: CASE_DATA,
          startedBy: { kind: 'user', id: ctx.people.resident.userId, roles: ['resident'] },
          unitId: UNIT_ID,
          requestHash,
          receivedAt: new Date().toISOString(),
          channel: 'api',
        };
        // The options services/cases.ts starts a case with.
        return ctx.client.workflow.start(CASE_WORKFLOW_TYPE, {
          taskQueue: QUEUES.client,
          workflowId: caseId,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: {
            requestHash,
            requestNonce: label,
            createdBy: { kind: 'user', id: ctx.people.resident.userId },
            unitId: UNIT_ID,
            definitionKey: ctx.snapshot.key,
            definitionVersion: ctx.snapshot.version,
            definitionName: ctx.snapshot.spec.name,
            channel: 'api',
          },
          typedSearchAttributes: [
            { key: CASE_STATUS, value: 'open' },
            { key: CASE_DEFINITION_KEY, value: ctx.snapshot.key },
            { key: CASE_UNIT_ID, value: UNIT_ID },
          ],
        });
      });
      for (const step of STEPS) {
        const who = ctx.people[step.who];
        const actor: ActingPrincipal = {
          kind: 'user',
          id: who.userId,
          roles: who.roles,
          via: 'api',
        };
        const taskId = `${caseId}.${step.stepId}.1`;
        await samples.time('ready', () =>
          pollFor(`task ${taskId}`, ctx.pollMs, async () =>
            (await ctx.stores.client.tasks.findOne(
              { _id: taskId, status: 'open' },
              { projection: { _id: 1 } },
            ))
              ? true
              : undefined,
          ),
        );
        await samples.time('claim', () =>
          handle.executeUpdate(CASE_UPDATES.claim, { args: [{ taskId, actor }] }),
        );
        await samples.time('complete', () =>
          handle.executeUpdate(CASE_UPDATES.complete, {
            args: [{ taskId, actor, outcome: step.outcome.id, form: {} }],
          }),
        );
      }
      return caseId;
    },
  };
}

/** The hand-written workflow, through the client. */
export function baselineViaClient(ctx: Context): Side {
  return {
    name: 'baseline',
    store: 'baseline',
    async runCase(label, samples) {
      const caseId = `case-${randomBytes(12).toString('hex')}`;
      const input: BaselineInput = {
        caseId,
        process: { key: 'bench-baseline', version: 1, name: ctx.snapshot.spec.name },
        unitId: UNIT_ID,
        data: CASE_DATA,
        startedBy: { kind: 'user', id: ctx.people.resident.userId },
        requestHash: createHash('sha256').update(`${ctx.runId}:${label}`).digest('hex'),
        receivedAt: new Date().toISOString(),
        tasks: STEPS.map((s) => ({
          stepId: s.stepId,
          name: s.name,
          candidates: [
            { personId: s.person.id, userId: ctx.people[s.who].userId, unitId: s.person.unitId },
          ],
          outcomes: [s.outcome],
        })),
      };
      const handle = await samples.time('start', () =>
        ctx.client.workflow.start(BASELINE_WORKFLOW_TYPE, {
          taskQueue: QUEUES.baseline,
          workflowId: caseId,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      );
      for (const step of STEPS) {
        const userId = ctx.people[step.who].userId;
        const taskId = `${caseId}.${step.stepId}`;
        await samples.time('ready', () =>
          pollFor(`task ${taskId}`, ctx.pollMs, async () =>
            (await ctx.stores.baseline.tasks.findOne(
              { _id: taskId, status: 'open' },
              { projection: { _id: 1 } },
            ))
              ? true
              : undefined,
          ),
        );
        await samples.time('claim', () =>
          handle.executeUpdate(baselineClaimUpdate, { args: [{ taskId, userId }] }),
        );
        await samples.time('complete', () =>
          handle.executeUpdate(baselineCompleteUpdate, {
            args: [{ taskId, userId, outcome: step.outcome.id }],
          }),
        );
      }
      return caseId;
    },
  };
}

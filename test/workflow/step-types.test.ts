import { randomBytes } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { CaseWorkflowInput } from '../../common/case';
import { CASE_UPDATES, CASE_WORKFLOW_TYPE } from '../../common/case';
import type { DefinitionSnapshot } from '../../common/definition';
import type { CaseStateView } from '../../workflows/projection';
import type { SeededOrg } from '../support/sla-cases';
import { actor, eventsOf, RunningCase, SlaTestBed } from '../support/sla-cases';

/**
 * The step types beside human tasks and clocks, run by the interpreter on the time-skipping
 * server with the real activities: decisions, parallel joins, claim pools, feedback without a
 * rating, publication with masking, and a sub-process.
 */
let bed: SlaTestBed;
let org: SeededOrg;

beforeAll(async () => {
  bed = await SlaTestBed.start('step-types');
  org = await bed.seedOrg();
});

afterAll(async () => {
  await bed.stop();
});

const end = (id: string, status = 'closed') => ({ id, name: id, type: 'end', status });

function process(key: string, steps: unknown[], fields: unknown[] = []): DefinitionSnapshot {
  return bed.definition({
    key,
    name: `测试${key}`,
    starters: ['resident'],
    input: { fields },
    steps,
  });
}

async function start(
  taskQueue: string,
  definition: DefinitionSnapshot,
  data: Record<string, unknown> = {},
): Promise<RunningCase> {
  const input: CaseWorkflowInput = {
    caseId: `case-${randomBytes(12).toString('hex')}`,
    definition,
    data,
    startedBy: { kind: 'user', id: 'usr_resident', roles: ['resident'] },
    unitId: org.grid.id,
    requestHash: 'test',
    receivedAt: new Date(await bed.now()).toISOString(),
    channel: 'test',
  };
  const handle = await bed.env.client.workflow.start(CASE_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: input.caseId,
    args: [input],
  });
  return new RunningCase(bed, input, handle);
}

/** The final state a case workflow returns. */
async function resultOf(kase: RunningCase): Promise<CaseStateView> {
  const state: unknown = await kase.handle.result();
  return state as CaseStateView;
}

async function rejectionOf(action: Promise<unknown>): Promise<string | undefined> {
  try {
    await action;
    return undefined;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      return err.cause.type ?? undefined;
    }
    throw err;
  }
}

describe('decision', () => {
  it('when the first condition matches the data, then the case takes that branch; otherwise the default', async () => {
    // Arrange
    const definition = process(
      'decide',
      [
        {
          id: 'route',
          name: '分流',
          type: 'decision',
          branches: [{ when: "data.level == 'urgent' && len(data.note) > 2", next: 'urgent' }],
          otherwise: 'normal',
        },
        end('urgent', 'rejected'),
        end('normal'),
      ],
      [
        { name: 'level', label: '级别', type: 'string' },
        { name: 'note', label: '说明', type: 'string' },
      ],
    );

    // Act
    const [urgent, normal] = await bed.withWorker(async (queue) => {
      const a = await start(queue, definition, { level: 'urgent', note: '漏水严重' });
      const b = await start(queue, definition, { level: 'urgent', note: '小' });
      return Promise.all([resultOf(a), resultOf(b)]);
    });

    // Assert
    expect(urgent.status).toBe('rejected');
    expect(normal.status).toBe('closed');
  });
});

describe('parallel', () => {
  it('when join is any and the timer branch finishes first, then the open task of the other branch is cancelled', async () => {
    // Arrange
    const definition = process('race', [
      {
        id: 'race',
        name: '限时办理',
        type: 'parallel',
        join: 'any',
        branches: [
          {
            name: '办理',
            steps: [
              {
                id: 'serve',
                name: '办理',
                type: 'task',
                announce: false,
                candidates: [{ role: 'grid-worker', unit: 'case' }],
              },
            ],
          },
          { name: '时限', steps: [{ id: 'limit', name: '时限', type: 'timer', duration: 'PT2H' }] },
        ],
      },
      end('closed'),
    ]);

    // Act
    const { result, task } = await bed.withWorker(async (queue) => {
      const kase = await start(queue, definition);
      await kase.waitForTask('the task to open', kase.taskId('serve'), () => true);
      await bed.skipTo((await bed.now()) + 3 * 3600_000);
      return { result: await resultOf(kase), task: await kase.task(kase.taskId('serve')) };
    });

    // Assert
    expect(result.status).toBe('closed');
    expect(task?.status).toBe('cancelled');
  });

  it('when join is all, then the case waits for every branch', async () => {
    // Arrange
    const definition = process('both', [
      {
        id: 'both',
        name: '并行',
        type: 'parallel',
        branches: [
          { name: 'A', steps: [{ id: 'a', name: 'A', type: 'timer', duration: 'PT1H' }] },
          { name: 'B', steps: [{ id: 'b', name: 'B', type: 'timer', duration: 'PT3H' }] },
        ],
      },
      end('closed'),
    ]);

    // Act
    const doc = await bed.withWorker(async (queue) => {
      const kase = await start(queue, definition);
      await bed.skipTo((await bed.now()) + 4 * 3600_000);
      await resultOf(kase);
      return kase.doc();
    });

    // Assert
    expect(eventsOf(doc.timeline, 'timer.fired')).toHaveLength(2);
    const fired = doc.timeline.filter((e) => e.type === 'timer.fired').map((e) => e.stepId);
    expect(fired).toEqual(['a', 'b']);
  });
});

describe('claim pool', () => {
  it('when two people claim a pool of two, then a third is refused and the next task goes to the claimants', async () => {
    // Arrange
    const definition = process('pool', [
      {
        id: 'pool',
        name: '认领需求',
        type: 'claim',
        announce: false,
        candidates: [{ role: 'grid-worker', unitsOfType: 'grid', under: 'community' }],
        claimants: { min: 1, max: 2 },
      },
      {
        id: 'serve',
        name: '认领方办理',
        type: 'task',
        announce: false,
        candidates: [{ claimantsOf: 'pool' }],
      },
      end('closed'),
    ]);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await start(queue, definition);
      const poolId = kase.taskId('pool');
      await kase.waitForTask('the pool to open', poolId, () => true);
      await kase.claim(poolId, org.gridWorker);
      await kase.claim(poolId, org.gridWorker2);
      const third = await rejectionOf(
        kase.handle.executeUpdate(CASE_UPDATES.claim, {
          args: [{ taskId: poolId, actor: actor(org.director) }],
        }),
      );
      const serve = await kase.waitForTask('the follow-up task', kase.taskId('serve'), () => true);
      await kase.claim(kase.taskId('serve'), org.gridWorker2);
      await kase.complete(kase.taskId('serve'), org.gridWorker2);
      return { third, serve, result: await resultOf(kase) };
    });

    // Assert
    expect(outcome.third).toBe('Conflict');
    expect(outcome.serve.candidates.map((c) => c.personId).sort()).toEqual(
      [org.gridWorker.personId, org.gridWorker2.personId].sort(),
    );
    expect(outcome.result.status).toBe('closed');
  });
});

describe('feedback and publication', () => {
  it('when nobody rates in time, then no rating is recorded as none, and the board shows masked data', async () => {
    // Arrange
    const definition = process(
      'rate',
      [
        { id: 'rate', name: '评价', type: 'feedback', within: 'PT1H' },
        { id: 'board', name: '公示', type: 'publish', title: '办理公示', show: ['place', 'phone'] },
        end('closed'),
      ],
      [
        { name: 'place', label: '地点', type: 'string' },
        { name: 'phone', label: '电话', type: 'phone', personal: true },
      ],
    );

    // Act
    const doc = await bed.withWorker(async (queue) => {
      const kase = await start(queue, definition, { place: '3号楼', phone: '13812345678' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await bed.skipTo((await bed.now()) + 2 * 3600_000);
      await resultOf(kase);
      return bed.db.models.Case.findById(kase.caseId).lean();
    });

    // Assert
    expect(doc?.rating).toMatchObject({ score: null });
    expect(doc?.timeline.map((e) => e.type)).toContain('feedback.missing');
    expect(doc?.publication).toMatchObject({
      title: '办理公示',
      fields: [
        { label: '地点', value: '3号楼' },
        { label: '电话', value: '138****5678' },
      ],
    });
  });
});

describe('sub-process', () => {
  it('when a step starts a child process and waits, then the child runs as its own case and the parent sees its status', async () => {
    // Arrange
    const child = process('child-proc', [end('done', 'rejected')]);
    await bed.db.models.Definition.create({
      _id: `${child.key}@1`,
      key: child.key,
      version: 1,
      checksum: child.checksum,
      name: child.spec.name,
      spec: child.spec,
      source: 'test',
      sourceFormat: 'yaml',
      status: 'published',
      publishedAt: new Date(),
      publishedBy: { kind: 'system', id: 'test' },
    });
    const parent = process('parent-proc', [
      { id: 'spawn', name: '子流程', type: 'subprocess', definition: 'child-proc' },
      {
        id: 'check',
        name: '看结果',
        type: 'decision',
        branches: [{ when: "steps.spawn.status == 'rejected'", next: 'seen' }],
        otherwise: 'unseen',
      },
      end('seen'),
      end('unseen', 'cancelled'),
    ]);

    // Act
    const { result, doc } = await bed.withWorker(async (queue) => {
      const kase = await start(queue, parent);
      const value = await resultOf(kase);
      return { result: value, doc: await kase.doc() };
    });

    // Assert
    expect(result.status).toBe('closed');
    const started = eventsOf(doc.timeline, 'subprocess.started')[0];
    const childDoc = await bed.db.models.Case.findById(String(started?.detail?.caseId)).lean();
    expect(childDoc).toMatchObject({
      status: 'rejected',
      parentCaseId: expect.any(String) as string,
    });
  });
});

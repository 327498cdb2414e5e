import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { CASE_UPDATES } from '../../common/case';
import type { DefinitionSnapshot } from '../../lang/definition';
import type { CaseStateView } from '../../workflows/projection';
import type { RunningCase, SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import { actor, eventsOf, stepsEntered, useSlaTestBed } from '../support/sla-cases';
import { waitFor } from '../support/harness';

/**
 * The step types beside human tasks and clocks, run by the interpreter on the time-skipping
 * server with the real activities: decisions, claim pools, a sub-process, and a whole process
 * written from the reference alone. (Parallel joins and feedback without a rating wait on long
 * timers; on this server they hung now and then, so they are to move to the dev server.)
 */
// On a loaded 2-core machine the time-skipping server now and then reported "Workflow execution
// timed out" for the first case of this file when its result was awaited (which unlocks time
// skipping); the decision test now reads the outcome from the case documents instead. The retry
// stays as a guard: a retry gets a fresh server (one per test); a real failure fails every attempt.
jest.retryTimes(2, { logErrorsBeforeRetry: true });

let bed: SlaTestBed;
let org: SeededOrg;

useSlaTestBed('step-types', (ready) => {
  bed = ready;
});

beforeAll(async () => {
  org = await bed.seedOrg();
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

function start(
  taskQueue: string,
  definition: DefinitionSnapshot,
  data: Record<string, unknown> = {},
): Promise<RunningCase> {
  return bed.startCase(taskQueue, definition, org.grid.id, data);
}

/** The final state a case workflow returns. */
async function resultOf(kase: RunningCase): Promise<CaseStateView> {
  const state: unknown = await kase.handle.result();
  return state as CaseStateView;
}

/** The status a case ended with, as its document says (see the decision test). */
function endedStatusOf(kase: RunningCase): Promise<string> {
  return waitFor('the case to end', async () => {
    const doc = await kase.doc().catch(() => null);
    return doc && doc.status !== 'open' ? doc.status : undefined;
  });
}

async function rejectionOf(action: Promise<unknown>): Promise<string | undefined> {
  try {
    await action;
    return undefined;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      return err.cause.type ?? undefined;
    }
    // The workflow had ended: the API answers 409 to this too (services/temporal-errors.ts).
    if (err instanceof WorkflowNotFoundError) return 'CaseEnded';
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

    // Act: the outcome is read from the case documents, not by awaiting the workflows' results:
    // awaiting a result lets the time-skipping server skip time, and on a loaded machine it
    // skipped past the run's time limit before the worker had taken the first workflow task.
    const [urgent, normal] = await bed.withWorker(async (queue) => {
      const a = await start(queue, definition, { level: 'urgent', note: '漏水严重' });
      const b = await start(queue, definition, { level: 'urgent', note: '小' });
      return Promise.all([endedStatusOf(a), endedStatusOf(b)]);
    });

    // Assert
    expect(urgent).toBe('rejected');
    expect(normal).toBe('closed');
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

describe('claim pool with a capacity from the case', () => {
  it('when the case asks for 2 places (claimants.max: { expression: data.places }), then two claims fill the pool and a third is refused', async () => {
    // Arrange
    const definition = process(
      'pool-places',
      [
        {
          id: 'pool',
          name: '认领心愿',
          type: 'claim',
          announce: false,
          candidates: [{ role: 'grid-worker', unitsOfType: 'grid', under: 'community' }],
          claimants: { min: 1, max: { expression: 'data.places' } },
        },
        end('closed'),
      ],
      [{ name: 'places', label: '需要人数', type: 'integer', required: true }],
    );

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await start(queue, definition, { places: 2 });
      const poolId = kase.taskId('pool');
      const opened = await kase.waitForTask('the pool to open', poolId, () => true);
      await kase.claim(poolId, org.gridWorker);
      await kase.claim(poolId, org.gridWorker2);
      const third = await rejectionOf(
        kase.handle.executeUpdate(CASE_UPDATES.claim, {
          args: [{ taskId: poolId, actor: actor(org.director) }],
        }),
      );
      const events = eventsOf((await kase.doc()).timeline, 'task.opened');
      return { opened, third, events, result: await resultOf(kase) };
    });

    // Assert
    expect(outcome.opened.maxClaimants).toBe(2);
    expect(outcome.events[0]!.detail).toMatchObject({ capacity: 2 });
    // The second claim fills the pool and the case ends within that claim's workflow task (the
    // writes are local activities): the third meets the full pool or the ended case.
    expect(['Conflict', 'CaseEnded']).toContain(outcome.third);
    expect(outcome.result.status).toBe('closed');
  });
});

describe('claim pool over units, then one case per claiming unit', () => {
  it('when workers of two grids claim a pool, then steps.pool.claimantUnits names both grids once and a fan-out starts one child case in each', async () => {
    // Arrange: a second grid with its own worker beside the seeded one
    const grid2 = await bed.addUnit('grid', '第二网格', org.community);
    const worker3 = await bed.addPerson('grid-worker-3', '孙网格', [[grid2, 'grid-worker']]);
    const child = process('per-grid-child', [end('done')]);
    await bed.publish(child);
    const definition = process('pool-per-unit', [
      {
        id: 'pool',
        name: '认领资源',
        type: 'claim',
        announce: false,
        candidates: [{ role: 'grid-worker', unitsOfType: 'grid', under: 'community' }],
        claimants: { min: 1, max: 3 },
      },
      {
        id: 'deliver',
        name: '分网格落实',
        type: 'subprocess',
        definition: 'per-grid-child',
        forEach: 'steps.pool.claimantUnits',
        unit: 'item',
        wait: true,
      },
      end('closed'),
    ]);

    // Act: two workers of the first grid and one of the second claim
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await start(queue, definition);
      const poolId = kase.taskId('pool');
      await kase.waitForTask('the pool to open', poolId, () => true);
      await kase.claim(poolId, org.gridWorker);
      await kase.claim(poolId, org.gridWorker2);
      await kase.claim(poolId, worker3);
      return { result: await resultOf(kase), doc: await kase.doc() };
    });

    // Assert
    expect(outcome.result.status).toBe('closed');
    const started = eventsOf(outcome.doc.timeline, 'subprocess.started');
    const children = await bed.db.models.Case.find(
      { _id: { $in: started.map((e) => String(e.detail?.caseId)) } },
      { unitId: 1 },
    ).lean();
    expect(children.map((c) => c.unitId).sort()).toEqual([org.grid.id, grid2.id].sort());
  });
});

describe('parallel quorum', () => {
  it('when two of three branches finish under join: { atLeast: 2 }, then the third is withdrawn and the case goes on', async () => {
    // Arrange: three reviewers in parallel (会签, 3 取 2), then a wrap-up task
    const review = (id: string) => ({
      name: id,
      steps: [
        {
          id,
          name: `评审${id}`,
          type: 'task',
          announce: false,
          candidates: [{ role: 'grid-worker', unit: 'case' }],
        },
      ],
    });
    const definition = process('quorum', [
      {
        id: 'reviews',
        name: '会签',
        type: 'parallel',
        join: { atLeast: 2 },
        branches: [review('first'), review('second'), review('third')],
      },
      {
        id: 'wrap',
        name: '汇总',
        type: 'task',
        announce: false,
        candidates: [{ role: 'grid-worker', unit: 'case' }],
      },
      end('closed'),
    ]);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await start(queue, definition);
      for (const id of ['first', 'second', 'third']) {
        await kase.waitForTask(`review ${id} to open`, kase.taskId(id), () => true);
      }
      await kase.claim(kase.taskId('first'), org.gridWorker);
      await kase.complete(kase.taskId('first'), org.gridWorker);
      const stillOpen = await kase.task(kase.taskId('wrap'));
      await kase.claim(kase.taskId('third'), org.gridWorker2);
      await kase.complete(kase.taskId('third'), org.gridWorker2);
      const wrap = kase.taskId('wrap');
      await kase.waitForTask('the wrap-up task', wrap, () => true);
      const second = await kase.waitForTask(
        'review second withdrawn',
        kase.taskId('second'),
        (t) => t.status === 'cancelled',
      );
      await kase.claim(wrap, org.gridWorker);
      await kase.complete(wrap, org.gridWorker);
      return { stillOpen, second, result: await resultOf(kase) };
    });

    // Assert: one review was not enough; after two, the last was withdrawn and the case closed
    expect(outcome.stillOpen).toBeNull();
    expect(outcome.second.status).toBe('cancelled');
    expect(outcome.result.status).toBe('closed');
  });
});

describe('sub-process', () => {
  it('when a step starts a child process and waits, then the child runs as its own case and the parent sees its status', async () => {
    // Arrange
    const child = process('child-proc', [end('done', 'rejected')]);
    await bed.publish(child);
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

describe('a process written from the reference alone (街道吹哨、部门报到)', () => {
  it('when the department reports, the street verifies and the reporter rates, then the case closes', async () => {
    // Arrange: the fixture as its author wrote it, and a street with a department under it
    const source = readFileSync(
      path.join(__dirname, '..', 'fixtures', 'processes', 'street-whistle.yaml'),
      'utf8',
    );
    const definition = bed.definition(YAML.parse(source) as Record<string, unknown>);
    const { Unit, Person, Post } = bed.db.models;
    const tag = randomBytes(3).toString('hex');
    const now = new Date();
    const dept = `dept-${tag}`;
    await Unit.create({
      _id: dept,
      name: `城管科${tag}`,
      type: 'department',
      parentId: org.street.id,
      updatedAt: now,
    });
    const people: Record<'officer' | 'dispatcher', SeededPerson> = {
      officer: {
        personId: `p-${tag}-officer`,
        userId: `usr-${tag}-officer`,
        name: '城管队员',
        email: `o-${tag}@example.test`,
      },
      dispatcher: {
        personId: `p-${tag}-disp`,
        userId: `usr-${tag}-disp`,
        name: '街道派单员',
        email: `d-${tag}@example.test`,
      },
    };
    for (const [role, unitId, person] of [
      ['officer', dept, people.officer],
      ['dispatcher', org.street.id, people.dispatcher],
    ] as const) {
      await Person.create({
        _id: person.personId,
        name: person.name,
        email: person.email,
        userId: person.userId,
        updatedAt: now,
      });
      await Post.create({
        _id: `${unitId}:${role}:${person.personId}`,
        unitId,
        role,
        personId: person.personId,
      });
    }
    const data = {
      title: '占道经营',
      category: '市容环境',
      description: '路口早市占道',
      location: '幸福路口',
      leadDepartment: dept,
      reporterEmail: `r-${tag}@example.test`,
    };

    // Act
    const { result, doc } = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, definition, org.street.id, data);
      const report = kase.taskId('report');
      await kase.waitForTask('the department task', report, () => true);
      await kase.claim(report, people.officer);
      await kase.complete(report, people.officer, 'resolved', { result: '已清理' });
      const verify = kase.taskId('verify');
      await kase.waitForTask('the verification task', verify, () => true);
      await kase.claim(verify, people.dispatcher);
      await kase.complete(verify, people.dispatcher, 'pass');
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(5);
      return {
        result: await resultOf(kase),
        doc: await bed.db.models.Case.findById(kase.caseId).lean(),
      };
    });

    // Assert
    expect(result.status).toBe('closed');
    expect(doc?.rating).toMatchObject({ score: 5 });
    expect(doc?.publication).not.toBeNull();
    const entered = stepsEntered(doc!.timeline);
    expect(entered).toEqual([
      'acknowledge',
      'route',
      'report',
      'verify',
      'wall',
      'rate',
      'satisfied',
      'closed',
    ]);
  });
});

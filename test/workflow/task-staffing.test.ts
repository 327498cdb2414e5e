import { WorkflowUpdateFailedError } from '@temporalio/client';
import { CASE_UPDATES } from '../../common/case';
import { RELEASES_PER_PERSON } from '../../workflows/action-budget';
import type { RunningCase, SeededPerson, SlaTestBed } from '../support/sla-cases';
import { actor, asDispatcher, eventsOf, useSlaTestBed } from '../support/sla-cases';

/**
 * Who may hold a task: one person's claim-and-release loop is stopped with a clear refusal (the
 * case's budget of human moves), a task nobody can do says so, and in both a dispatcher can still
 * hand the task to someone who then does it.
 */
let bed: SlaTestBed;

useSlaTestBed('task-staffing', (ready) => {
  bed = ready;
});

/** A dispatcher's 转派 of `taskId` to `to`, posted in `unitId`. */
async function reassign(
  kase: RunningCase,
  taskId: string,
  dispatcher: SeededPerson,
  to: SeededPerson,
  unitId: string,
): Promise<void> {
  await kase.handle.executeUpdate(CASE_UPDATES.reassign, {
    args: [
      {
        taskId,
        actor: asDispatcher(dispatcher),
        to: { personId: to.personId, userId: to.userId, unitId },
      },
    ],
  });
}

/** The message of a refused Update. */
async function refusal(action: Promise<unknown>): Promise<string> {
  const error = await action.then(
    () => null,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  return String((error as WorkflowUpdateFailedError).cause?.message);
}

describe('claim and release loops', () => {
  it(`when one person has given a task back ${RELEASES_PER_PERSON} times, then their next claim is refused, a dispatcher can still assign it to them and they complete it`, async () => {
    // Arrange
    const org = await bed.seedOrg();
    const definition = bed.serviceDefinition(`budget-${Date.now()}`, []);

    const { refused, otherClaim, doc, status } = await bed.withWorker(async (queue) => {
      const { kase, taskId } = await bed.openTask(queue, org, definition);
      const release = () =>
        kase.handle.executeUpdate(CASE_UPDATES.release, {
          args: [{ taskId, actor: actor(org.gridWorker) }],
        });

      // Act: three rounds of claim and release, then a fourth claim
      for (let i = 0; i < RELEASES_PER_PERSON; i++) {
        await kase.claim(taskId, org.gridWorker);
        await release();
      }
      const message = await refusal(kase.claim(taskId, org.gridWorker));
      // …another candidate may still take it, and give it back
      await kase.claim(taskId, org.gridWorker2);
      await kase.handle.executeUpdate(CASE_UPDATES.release, {
        args: [{ taskId, actor: actor(org.gridWorker2) }],
      });
      // …and a dispatcher's choice stands over the count
      await reassign(kase, taskId, org.director, org.gridWorker, org.grid.id);
      await kase.complete(taskId, org.gridWorker);
      await kase.handle.result();
      return {
        refused: message,
        otherClaim: true,
        doc: await kase.doc(),
        status: (await kase.task(taskId))?.status,
      };
    });

    // Assert
    expect(refused).toContain(`given this task back ${RELEASES_PER_PERSON} times`);
    expect(otherClaim).toBe(true);
    expect(status).toBe('completed');
    expect(doc.status).toBe('closed');
    expect(eventsOf(doc.timeline, 'task.released')).toHaveLength(RELEASES_PER_PERSON + 1);
  });
});

describe('a task nobody can do', () => {
  it('when nobody holds the post, even up the 兜底 chain, then the timeline says the task is unstaffed and a dispatcher can still assign it', async () => {
    // Arrange: a grid of its own, with no grid worker above it either
    const org = await bed.seedOrg();
    const street = await bed.addUnit('street', '空街道', null);
    const grid = await bed.addUnit('grid', '空网格', street);
    const definition = bed.serviceDefinition(`unstaffed-${Date.now()}`, []);

    // Act
    const { doc, status } = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, definition, grid.id);
      const taskId = kase.taskId('serve');
      await kase.waitForEvents('task.unstaffed', 1);
      await reassign(kase, taskId, org.director, org.gridWorker, org.grid.id);
      await kase.complete(taskId, org.gridWorker);
      await kase.handle.result();
      return { doc: await kase.doc(), status: (await kase.task(taskId))?.status };
    });

    // Assert
    expect(eventsOf(doc.timeline, 'task.opened')[0]!.detail).toMatchObject({ candidates: 0 });
    expect(eventsOf(doc.timeline, 'task.unstaffed')).toHaveLength(1);
    expect(status).toBe('completed');
  });
});

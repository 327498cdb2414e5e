import { WorkflowUpdateFailedError } from '@temporalio/client';
import { CASE_UPDATES } from '../../common/case';
import { RELEASES_PER_PERSON } from '../../workflows/action-budget';
import type { SlaTestBed } from '../support/sla-cases';
import { actor, asDispatcher, eventsOf, useSlaTestBed } from '../support/sla-cases';

/**
 * A case's budget of human actions: one person's claim-and-release loop is stopped with a clear
 * refusal, a dispatcher can still hand the task to them, and the task is still done.
 */
let bed: SlaTestBed;

useSlaTestBed('action-budget', (ready) => {
  bed = ready;
});

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
      await kase.handle.executeUpdate(CASE_UPDATES.reassign, {
        args: [
          {
            taskId,
            actor: asDispatcher(org.director),
            to: {
              personId: org.gridWorker.personId,
              userId: org.gridWorker.userId,
              unitId: org.grid.id,
            },
          },
        ],
      });
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

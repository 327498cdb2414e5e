import { randomBytes } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { SlaTestBed } from '../support/sla-cases';
import { eventsOf, useSlaTestBed } from '../support/sla-cases';
import { scheduledCaseId } from '../../workflows/scheduled';
import type { ScheduledCaseResult } from '../../workflows/scheduled';

/**
 * Engine support for periodic rounds on the time-skipping server (which has no schedules, so a
 * fire is started the way a Temporal Schedule starts it: `scheduledCaseWorkflow` under the
 * schedule's workflow id with the fire time appended), and the limit of a fan-out over the org
 * tree.
 */
let bed: SlaTestBed;

useSlaTestBed('periodic-engine', (ready) => {
  bed = ready;
});

describe('a schedule fire', () => {
  it('when a fire starts, then it starts one case of the latest version with the schedule’s unit and data, and the same fire started again starts none', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const key = `round-${randomBytes(3).toString('hex')}`;
    const definition = bed.definition({
      key,
      name: '月度轮次',
      starters: ['admin'],
      schedule: { every: 'month', unit: org.street.id, data: { focus: '安全隐患' } },
      input: { fields: [{ name: 'focus', label: '重点', type: 'string' }] },
      steps: [
        { id: 'wait', name: '等待', type: 'timer', duration: 'P1D' },
        { id: 'closed', name: '结束', type: 'end' },
      ],
    });
    await bed.publish(definition);
    const fireId = `schedule-${key}-2026-05-01T01:00:00Z`;

    // Act
    const [first, again] = await bed.withWorker(async (taskQueue) => {
      const fire = () =>
        bed.env.client.workflow.execute('scheduledCaseWorkflow', {
          taskQueue,
          workflowId: fireId,
          args: [{ definitionKey: key }],
        }) as Promise<ScheduledCaseResult>;
      const one = await fire();
      return [one, await fire()];
    });
    const doc = await bed.db.models.Case.findById(first.caseId).lean();

    // Assert
    expect(first).toEqual({ caseId: scheduledCaseId(fireId), created: true });
    expect(first.caseId).toMatch(/^case-[0-9a-f]{24}$/);
    expect(again).toEqual({ caseId: first.caseId, created: false });
    expect(doc).toMatchObject({
      channel: 'schedule',
      createdBy: { kind: 'system', id: 'schedule' },
      unitId: org.street.id,
      definitionKey: key,
      data: { focus: '安全隐患' },
    });
    expect(scheduledCaseId(`schedule-${key}-2026-06-01T01:00:00Z`)).not.toBe(first.caseId);
  });
});

describe('a fan-out over the org tree', () => {
  it('when more than 200 units are found, then no child starts and the case fails, saying how many', async () => {
    // Arrange: 201 grids under one community
    const org = await bed.seedOrg();
    await bed.db.models.Unit.insertMany(
      Array.from({ length: 200 }, (_, i) => ({
        _id: `${org.grid.id}-x${i}`,
        name: `网格${i}`,
        type: 'grid',
        parentId: org.community.id,
        updatedAt: new Date(),
      })),
    );
    const child = bed.definition({
      key: `report-${randomBytes(3).toString('hex')}`,
      name: '网格上报',
      starters: ['admin'],
      input: { fields: [] },
      steps: [{ id: 'closed', name: '结束', type: 'end' }],
    });
    await bed.publish(child);
    const round = bed.definition({
      key: `round-${randomBytes(3).toString('hex')}`,
      name: '月度轮次',
      starters: ['admin'],
      input: { fields: [] },
      steps: [
        {
          id: 'grids',
          name: '各网格',
          type: 'subprocess',
          definition: child.key,
          forEach: { units: { type: 'grid', within: 'community' } },
        },
        { id: 'closed', name: '结束', type: 'end' },
      ],
    });

    // Act
    const { failure, doc } = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, round, org.grid.id);
      const error = await kase.handle.result().then(
        () => null,
        (err: unknown) => err,
      );
      return { failure: error, doc: await kase.doc() };
    });

    // Assert
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toContain('found 201 units');
    expect(doc.status).toBe('failed');
    expect(eventsOf(doc.timeline, 'subprocess.refused')[0]?.detail).toEqual({
      definition: child.key,
      units: 201,
      limit: 200,
    });
    expect(eventsOf(doc.timeline, 'subprocess.started')).toHaveLength(0);
  });
});

import type { SlaTestBed } from '../support/sla-cases';
import { eventsOf, useSlaTestBed } from '../support/sla-cases';
import { bumpOrgRevision } from '../../models/org-revision';
import { BEIJING_OFFSET_MS } from '../../lang/beijing';

/**
 * AB岗 and duty rotas in a running case: a task whose post holder is away goes to the stand-in,
 * as of the workflow's time, and the timeline says who stands in for whom by id only; a task for
 * whoever is on duty goes to the rostered person, and to the post holders once the shift is over.
 */
let bed: SlaTestBed;

useSlaTestBed('stand-ins', (ready) => {
  bed = ready;
});

const HOUR_MS = 3_600_000;

/** `HH:MM` in Beijing time of an instant. */
function beijingTime(instant: number): string {
  return new Date(instant + BEIJING_OFFSET_MS).toISOString().slice(11, 16);
}

describe('a task whose post holder is away', () => {
  it('when the community director is on leave with the secretary named as stand-in, then the task goes to the secretary and the timeline says so by id', async () => {
    // Arrange: the director away from an hour ago for a week (workflow time), the secretary standing in
    const org = await bed.seedOrg();
    const now = await bed.now();
    await bed.db.models.Absence.create({
      _id: `absence-${org.director.personId}`,
      personId: org.director.personId,
      from: new Date(now - HOUR_MS),
      to: new Date(now + 7 * 24 * HOUR_MS),
      reason: 'leave',
      standInId: org.communitySecretary.personId,
      updatedAt: new Date(),
    });
    await bumpOrgRevision(bed.db.models);
    const definition = bed.definition({
      key: `stand-in-${Date.now()}`,
      name: '社区主任审核',
      starters: ['resident'],
      input: { fields: [] },
      steps: [
        {
          id: 'review',
          name: '主任审核',
          type: 'task',
          candidates: [{ role: 'director', unit: 'community' }],
        },
        { id: 'closed', name: '办结', type: 'end' },
      ],
    });

    // Act
    const { task, doc } = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, definition, org.grid.id);
      const taskId = kase.taskId('review');
      const opened = await kase.waitForTask('the review task', taskId, () => true);
      await kase.claim(taskId, org.communitySecretary);
      await kase.complete(taskId, org.communitySecretary);
      await kase.handle.result();
      return { task: opened, doc: await kase.doc() };
    });

    // Assert
    expect(task.candidates).toEqual([
      {
        personId: org.communitySecretary.personId,
        userId: org.communitySecretary.userId,
        unitId: org.community.id,
        standingInFor: org.director.personId,
      },
    ]);
    const standIns = eventsOf(doc.timeline, 'task.stand-in');
    expect(standIns.map((e) => e.detail)).toEqual([
      {
        task: expect.stringContaining('.review.1') as string,
        personId: org.communitySecretary.personId,
        for: org.director.personId,
        via: 'absence',
      },
    ]);
    expect(JSON.stringify(doc.timeline)).not.toContain(org.director.name);
    expect(doc.status).toBe('closed');
  });

  it('when both grid workers are away without a named stand-in, then the post’s B-holder gets the task', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const backup = await bed.addPerson('b-holder', '孙网格');
    const now = await bed.now();
    for (const worker of [org.gridWorker, org.gridWorker2]) {
      await bed.db.models.Absence.create({
        _id: `absence-${worker.personId}`,
        personId: worker.personId,
        from: new Date(now - HOUR_MS),
        to: new Date(now + 24 * HOUR_MS),
        reason: 'training',
        standInId: null,
        updatedAt: new Date(),
      });
    }
    await bed.db.models.PostBackup.create({
      _id: `${org.grid.id}:grid-worker`,
      unitId: org.grid.id,
      role: 'grid-worker',
      personId: backup.personId,
    });
    await bumpOrgRevision(bed.db.models);
    const definition = bed.serviceDefinition(`b-post-${Date.now()}`, []);

    // Act
    const { task, doc } = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, definition, org.grid.id);
      const taskId = kase.taskId('serve');
      const opened = await kase.waitForTask('the serve task', taskId, () => true);
      await kase.claim(taskId, backup);
      await kase.complete(taskId, backup);
      await kase.handle.result();
      return { task: opened, doc: await kase.doc() };
    });

    // Assert
    expect(task.candidates.map((c) => [c.personId, c.standingInFor])).toEqual([
      [backup.personId, org.gridWorker.personId],
    ]);
    expect(eventsOf(doc.timeline, 'task.stand-in').map((e) => e.detail?.for)).toEqual([
      org.gridWorker.personId,
      org.gridWorker2.personId,
    ]);
    expect(eventsOf(doc.timeline, 'task.stand-in', { via: 'b-post' })).toHaveLength(2);
  });
});

describe('a task for whoever is on duty', () => {
  it('when the community rosters a grid worker for the next hours, then the first task goes to them, and after the shift the next goes to the director', async () => {
    // Arrange: a shift from an hour ago to an hour ahead, every day (workflow time, Beijing)
    const org = await bed.seedOrg();
    const now = await bed.now();
    await bed.db.models.DutyRota.create({
      _id: org.community.id,
      shifts: [
        {
          on: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
          start: beijingTime(now - HOUR_MS),
          end: beijingTime(now + HOUR_MS),
          people: [org.gridWorker2.personId],
          roles: [],
        },
      ],
      updatedAt: new Date(),
    });
    await bumpOrgRevision(bed.db.models);
    const onDuty = { onDuty: 'community', role: 'director' };
    const definition = bed.definition({
      key: `on-duty-${Date.now()}`,
      name: '服务站值班',
      starters: ['resident'],
      input: { fields: [] },
      steps: [
        { id: 'first', name: '值班受理', type: 'task', candidates: [onDuty] },
        { id: 'wait', name: '等待', type: 'timer', duration: 'PT3H' },
        { id: 'second', name: '值班回访', type: 'task', candidates: [onDuty] },
        { id: 'closed', name: '办结', type: 'end' },
      ],
    });

    // Act
    const { first, second, doc } = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, definition, org.grid.id);
      const firstId = kase.taskId('first');
      const firstTask = await kase.waitForTask('the first task', firstId, () => true);
      await kase.claim(firstId, org.gridWorker2);
      await kase.complete(firstId, org.gridWorker2);
      await bed.skipTo(now + 4 * HOUR_MS);
      const secondId = kase.taskId('second');
      const secondTask = await kase.waitForTask('the second task', secondId, () => true);
      await kase.claim(secondId, org.director);
      await kase.complete(secondId, org.director);
      await kase.handle.result();
      return { first: firstTask, second: secondTask, doc: await kase.doc() };
    });

    // Assert
    expect(first.candidates.map((c) => c.personId)).toEqual([org.gridWorker2.personId]);
    expect(second.candidates.map((c) => c.personId)).toEqual([org.director.personId]);
    const opened = eventsOf(doc.timeline, 'task.opened');
    expect(opened.map((e) => e.detail?.offDuty ?? false)).toEqual([false, true]);
  });
});

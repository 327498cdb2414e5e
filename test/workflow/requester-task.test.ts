import type { CaseWorkflowInput } from '../../common/case';
import type { SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import { eventsOf, useSlaTestBed } from '../support/sla-cases';

/**
 * A task step's `requester` candidate (docs 8.1.1) with the real lookup: who started the case
 * decides who gets it. A person of the org data with an account (a registered member's quick
 * report) is offered it by that account; a person without one (a rider), or a disabled account,
 * sends it to the `otherwise` people (the community's director here) with the reason on the
 * timeline. The resident and API-key paths run on the dev server (test/e2e/requester-task).
 */
let bed: SlaTestBed;

useSlaTestBed('requester-task', (ready) => {
  bed = ready;
});

function supplementDefinition() {
  return bed.definition({
    key: `requester-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
    name: '申请补正',
    starters: ['resident'],
    input: { fields: [] },
    steps: [
      {
        id: 'supplement',
        name: '申请人补正材料',
        type: 'task',
        announce: false,
        candidates: [{ requester: true, otherwise: { role: 'director', unit: 'community' } }],
      },
      { id: 'done', name: '办结', type: 'end' },
    ],
  });
}

/** Runs a case started by `startedBy` until `doer` completes its requester task. */
async function runStartedBy(
  org: SeededOrg,
  startedBy: CaseWorkflowInput['startedBy'],
  doer: SeededPerson,
) {
  const definition = supplementDefinition();
  return bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, definition, org.grid.id, {}, { startedBy });
    const taskId = kase.taskId('supplement');
    const task = await kase.waitForTask('the requester task', taskId, () => true);
    await kase.claim(taskId, doer);
    await kase.complete(taskId, doer);
    await kase.handle.result();
    return { taskId, task, doc: await kase.doc() };
  });
}

describe('the requester as a task candidate', () => {
  it('when a person with a sign-in account started the case, then the task is theirs, keyed by their person and account, and they complete it', async () => {
    // Arrange: a registered member (a person of the org data) with an account
    const org = await bed.seedOrg();
    const member = await bed.addPerson('member', '骑手');
    await bed.db.models.User.create({
      _id: member.userId,
      username: member.userId,
      displayName: '骑手',
      passwordHash: 'scrypt$unused',
      roles: ['resident'],
      createdAt: new Date(),
    });

    // Act
    const { task, doc } = await runStartedBy(
      org,
      { kind: 'person', id: member.personId, roles: ['resident'] },
      member,
    );

    // Assert
    expect(task.candidates).toEqual([
      { personId: member.personId, userId: member.userId, unitId: org.grid.id },
    ]);
    expect(doc.status).toBe('closed');
    expect(eventsOf(doc.timeline, 'task.opened')[0]!.detail).toMatchObject({ requester: true });
    expect(eventsOf(doc.timeline, 'task.requester-unreachable')).toEqual([]);
  });

  it('when a person without an account (a rider) started the case, then the community’s director does it and the timeline says no-account', async () => {
    // Arrange: a rider known to the org data, never given a sign-in account
    const org = await bed.seedOrg();
    const rider = await bed.addPerson('rider', '骑手');
    await bed.db.models.Person.updateOne({ _id: rider.personId }, { $unset: { userId: 1 } });

    // Act
    const { taskId, task, doc } = await runStartedBy(
      org,
      { kind: 'person', id: rider.personId, roles: ['resident'] },
      org.director,
    );

    // Assert
    expect(task.candidates.map((c) => c.personId)).toEqual([org.director.personId]);
    expect(eventsOf(doc.timeline, 'task.requester-unreachable').map((e) => e.detail)).toEqual([
      { task: taskId, reason: 'no-account' },
    ]);
    expect(doc.status).toBe('closed');
  });

  it('when the resident’s account is disabled, then the community’s director does it and the timeline says account-disabled', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const userId = `usr-disabled-${Date.now()}`;
    await bed.db.models.User.create({
      _id: userId,
      username: userId,
      displayName: '居民',
      passwordHash: 'scrypt$unused',
      roles: ['resident'],
      disabled: true,
      createdAt: new Date(),
    });

    // Act
    const { taskId, task, doc } = await runStartedBy(
      org,
      { kind: 'user', id: userId, roles: ['resident'] },
      org.director,
    );

    // Assert
    expect(task.candidates.map((c) => c.personId)).toEqual([org.director.personId]);
    expect(eventsOf(doc.timeline, 'task.requester-unreachable').map((e) => e.detail)).toEqual([
      { task: taskId, reason: 'account-disabled' },
    ]);
  });
});

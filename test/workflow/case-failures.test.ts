import { randomBytes } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { CASE_WORKFLOW_TYPE } from '../../common/case';
import type { DefinitionSnapshot } from '../../lang/definition';
import type { RetryableCase } from '../../services/case-failures';
import { retryInputOf } from '../../services/case-failures';
import type { SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import { actor, eventsOf, mailsToAddress, useSlaTestBed } from '../support/sla-cases';

/**
 * A case never disappears into `open`: a failure escaping the steps is projected by the
 * workflow, and a failed case, once its process is fixed, is retried from the step it failed
 * in. (The reconciler reads Temporal visibility, which this server lacks: its tests run on the
 * dev server, test/e2e/case-failures-api.test.ts.)
 */
jest.retryTimes(1, { logErrorsBeforeRetry: true });

let bed: SlaTestBed;
let org: SeededOrg;
let admin: SeededPerson;

useSlaTestBed('case-failures', (ready) => {
  bed = ready;
});

beforeAll(async () => {
  org = await bed.seedOrg();
  admin = await bed.addPerson('admin', '管理员');
  await bed.db.models.User.create({
    _id: admin.userId,
    username: `admin-${randomBytes(3).toString('hex')}`,
    displayName: '管理员',
    passwordHash: 'unused',
    roles: ['admin'],
    createdAt: new Date(),
  });
});

const FAILED_SUBJECT = '办理异常';

function withMissingChild(key: string, child: string): DefinitionSnapshot {
  return bed.definition({
    key,
    name: `测试${key}`,
    starters: ['resident'],
    input: { fields: [] },
    steps: [
      {
        id: 'serve',
        name: '网格员办理',
        type: 'task',
        candidates: [{ role: 'grid-worker', unit: 'case' }],
      },
      { id: 'spawn', name: '转办', type: 'subprocess', definition: child },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  });
}

it('when a sub-process names a process that is not published, then the case is failed with the reason, its clocks stop and the admins get a mail', async () => {
  // Arrange
  const tag = randomBytes(3).toString('hex');
  const definition = withMissingChild(`missing-child-${tag}`, `no-such-${tag}`);

  // Act
  const { doc, error } = await bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, definition, org.grid.id);
    const taskId = kase.taskId('serve');
    await kase.waitForTask('the task', taskId, () => true);
    await kase.claim(taskId, org.gridWorker);
    await kase.complete(taskId, org.gridWorker);
    const failure: unknown = await kase.handle.result().then(
      () => null,
      (err: unknown) => err,
    );
    return { doc: await kase.waitForDoc('failed', (d) => d.status === 'failed'), error: failure };
  });

  // Assert: Temporal shows the run failed too
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const failed = eventsOf(doc.timeline, 'case.failed');
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatchObject({
    stepId: 'spawn',
    detail: { reason: 'DefinitionNotFound' },
  });
  expect(String(failed[0]!.detail!.message)).toContain(`no-such-${tag}`);
  expect(eventsOf(doc.timeline, 'case.closed', { status: 'failed' })).toHaveLength(1);
  expect(doc.closedAt).toBeInstanceOf(Date);
  const mails = await mailsToAddress(admin.email, FAILED_SUBJECT);
  expect(mails[0]!.text).toContain('DefinitionNotFound');
});

it('when a failed case is retried after its sub-process is published, then it resumes at the failing step and closes', async () => {
  // Arrange: the case fails in `spawn`; the admin then publishes the missing process
  const tag = randomBytes(3).toString('hex');
  const childKey = `late-child-${tag}`;
  const definition = withMissingChild(`retried-${tag}`, childKey);

  // Act
  const { doc, tasks } = await bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, definition, org.grid.id);
    const taskId = kase.taskId('serve');
    await kase.waitForTask('the task', taskId, () => true);
    await kase.claim(taskId, org.gridWorker);
    await kase.complete(taskId, org.gridWorker);
    await kase.handle.result().catch(() => undefined);
    await kase.waitForDoc('failed', (d) => d.status === 'failed');

    await bed.publish(
      bed.definition({
        key: childKey,
        name: '子流程',
        starters: ['resident'],
        input: { fields: [] },
        steps: [{ id: 'done', name: '完成', type: 'end' }],
      }),
    );
    const stored = await bed.db.models.Case.findById(kase.caseId).lean();
    const built = retryInputOf({
      doc: stored as unknown as RetryableCase,
      taskIds: [taskId],
      definition,
      stepId: undefined,
      by: { kind: 'user', id: actor(admin).id },
    });
    if ('problem' in built) throw new Error(built.problem);
    const retried = await bed.env.client.workflow.start(CASE_WORKFLOW_TYPE, {
      taskQueue: queue,
      workflowId: kase.caseId,
      args: [built.input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    });
    await retried.result();
    return {
      doc: await kase.waitForDoc('closed', (d) => d.status === 'closed'),
      tasks: await bed.db.models.Task.find({ caseId: kase.caseId }).lean(),
    };
  });

  // Assert: resumed at `spawn` (the task was not opened again), the child ran, the case closed
  expect(eventsOf(doc.timeline, 'case.retried')).toMatchObject([{ stepId: 'spawn' }]);
  expect(eventsOf(doc.timeline, 'subprocess.ended', { status: 'closed' })).toHaveLength(1);
  expect(eventsOf(doc.timeline, 'case.closed', { status: 'closed' })).toHaveLength(1);
  expect(doc.closedAt).toBeInstanceOf(Date);
  expect(tasks).toHaveLength(1);
  const seqs = doc.timeline.map((e) => e.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
});

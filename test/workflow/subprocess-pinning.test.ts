import { randomBytes } from 'node:crypto';
import type { SlaTestBed } from '../support/sla-cases';
import { eventsOf, useSlaTestBed } from '../support/sla-cases';

/**
 * A case pins the versions of the processes its sub-process steps start when it starts: a child
 * process edited (a new version published, the old one retired) while the case runs does not
 * change what it starts.
 */
let bed: SlaTestBed;

useSlaTestBed('subprocess-pinning', (ready) => {
  bed = ready;
});

const DAY = 24 * 3600_000;

it('when the child process gets a new version and the old one is retired while the parent waits, then the parent still starts the version it started with', async () => {
  // Arrange
  const org = await bed.seedOrg();
  const childKey = `child-${randomBytes(3).toString('hex')}`;
  const childV1 = bed.definition({
    key: childKey,
    name: '子流程（第一版）',
    starters: ['admin'],
    input: { fields: [] },
    steps: [{ id: 'closed', name: '结束', type: 'end' }],
  });
  await bed.publish(childV1);
  const parent = bed.definition({
    key: `parent-${randomBytes(3).toString('hex')}`,
    name: '上级流程',
    starters: ['admin'],
    input: { fields: [] },
    steps: [
      { id: 'wait', name: '等待', type: 'timer', duration: 'P1D' },
      { id: 'child', name: '子流程', type: 'subprocess', definition: childKey, wait: true },
      { id: 'closed', name: '结束', type: 'end' },
    ],
  });

  // Act: the parent starts, then an admin publishes version 2 and retires version 1
  const { doc, childVersion } = await bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, parent, org.grid.id);
    await kase.waitForEvents('step.entered', 1, { stepType: 'timer' });
    const { Definition } = bed.db.models;
    await Definition.updateOne({ _id: `${childKey}@1` }, { $set: { status: 'retired' } });
    await Definition.create({
      _id: `${childKey}@2`,
      key: childKey,
      version: 2,
      checksum: 'v2',
      name: '子流程（第二版）',
      spec: { ...childV1.spec, name: '子流程（第二版）' },
      source: 'test',
      sourceFormat: 'yaml',
      status: 'published',
      publishedAt: new Date(),
      publishedBy: { kind: 'system', id: 'test' },
    });
    await bed.skipTo((await bed.now()) + DAY + 60_000);
    await kase.handle.result();
    const parentDoc = await kase.doc();
    const started = eventsOf(parentDoc.timeline, 'subprocess.started')[0]!;
    const child = await bed.db.models.Case.findById(String(started.detail?.caseId)).lean();
    return { doc: parentDoc, childVersion: child?.definitionVersion };
  });

  // Assert
  expect(doc.status).toBe('closed');
  expect(childVersion).toBe(1);
});

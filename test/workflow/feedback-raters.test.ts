import type { Principal } from '../../services/auth';
import type { SlaTestBed } from '../support/sla-cases';
import { waitFor } from '../support/harness';
import { claimAndComplete, eventsOf, mailsOf, useSlaTestBed } from '../support/sla-cases';

/**
 * A feedback step that names its raters (`from`, docs 6.8) on the time-skipping test server with
 * real activities over FerretDB and the SMTP sink: the community's resident representatives are
 * invited, may rate the case through the task service although it lies outside their scope, the
 * first rating given is the case's, the requester (not named) is refused, and once rated nobody
 * named may rate any more.
 */
let bed: SlaTestBed;
const DAY = 24 * 3600_000;

useSlaTestBed('feedback-raters', (ready) => {
  bed = ready;
});

/** A resident's account: sees only the cases they filed. */
function resident(userId: string): Principal {
  return { kind: 'user', id: userId, roles: ['resident'], unitIds: [] };
}

function ratedProcess(key: string, from: unknown[]) {
  return bed.definition({
    key,
    name: '小区环境整治',
    starters: ['resident'],
    input: { fields: [] },
    steps: [
      {
        id: 'serve',
        name: '网格员办理',
        type: 'task',
        candidates: [{ role: 'grid-worker', unit: 'case' }],
      },
      { id: 'review', name: '居民代表评价', type: 'feedback', within: 'P3D', from },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  });
}

it('when a feedback step names the community’s resident representatives, then they are invited, the first to rate gives the case its rating, and the requester and the second are refused', async () => {
  // Arrange
  const org = await bed.seedOrg();
  const rep1 = await bed.addPerson('rep-1', '居民代表甲', [[org.community, 'resident-rep']]);
  const rep2 = await bed.addPerson('rep-2', '居民代表乙', [[org.community, 'resident-rep']]);
  const definition = ratedProcess('rated-by-reps', [{ role: 'resident-rep', unit: 'community' }]);
  const service = bed.tasks();
  await bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, definition, org.grid.id);
    await kase.waitForTask('the task to open', kase.taskId('serve'), () => true);
    await claimAndComplete(kase, kase.taskId('serve'), org.gridWorker, 'done', {});

    // Act: the step opens
    const waiting = await kase.waitForDoc('the raters on the case', (d) => {
      const ids = (d as unknown as { raterUserIds?: string[] }).raterUserIds ?? [];
      return ids.length === 2;
    });

    // Assert: both representatives are the raters, and each got the invitation
    expect(
      [...((waiting as unknown as { raterUserIds: string[] }).raterUserIds ?? [])].sort(),
    ).toEqual([rep1.userId, rep2.userId].sort());
    await kase.waitForEvents('notification.sent', 2);
    // Queued is not delivered: a send the sink answered late is retried a few seconds on
    const invited = await waitFor('both invitations delivered', async () => {
      const mails = [await mailsOf(rep1), await mailsOf(rep2)];
      return mails.every((m) => m.length > 0) ? mails : undefined;
    });
    expect(invited.map((m) => m.length)).toEqual([1, 1]);

    // Act & Assert: the requester is not named here
    await expect(
      service.actOnCase(resident('usr_resident'), kase.caseId, 'rate', { score: 5 }, undefined),
    ).rejects.toMatchObject({
      kind: 'forbidden',
      message: expect.stringContaining('raters this feedback step names') as string,
    });
    // A resident who is neither named nor the requester does not even see the case
    await expect(
      service.actOnCase(resident('usr_stranger'), kase.caseId, 'rate', { score: 5 }, undefined),
    ).rejects.toMatchObject({ kind: 'not_found' });

    // Act: the first representative rates, then the second tries
    await service.actOnCase(
      resident(rep1.userId),
      kase.caseId,
      'rate',
      { score: 4, comment: '楼道已清理' },
      undefined,
    );
    const closed = await kase.waitForDoc('closed', (d) => d.status === 'closed');

    // Assert: the first rating is the case's; the step no longer names raters
    expect(closed.rating).toMatchObject({ score: 4, comment: '楼道已清理' });
    expect(eventsOf(closed.timeline, 'feedback.rated')).toEqual([
      expect.objectContaining({ actor: { kind: 'user', id: rep1.userId }, detail: { score: 4 } }),
    ]);
    expect((closed as unknown as { raterUserIds?: string[] }).raterUserIds).toEqual([]);
    await expect(
      service.actOnCase(resident(rep2.userId), kase.caseId, 'rate', { score: 2 }, undefined),
    ).rejects.toMatchObject({ kind: 'not_found' });
  });
});

it('when nobody named rates within the window, then no rating is recorded, and the requester named beside them may rate a second case', async () => {
  // Arrange
  const org = await bed.seedOrg();
  await bed.addPerson('rep-3', '居民代表丙', [[org.community, 'resident-rep']]);
  const definition = ratedProcess('rated-by-reps-or-requester', [
    'requester',
    { role: 'resident-rep', unit: 'community' },
  ]);
  const service = bed.tasks();
  await bed.withWorker(async (queue) => {
    const silent = await bed.startCase(queue, definition, org.grid.id);
    const answered = await bed.startCase(queue, definition, org.grid.id);
    for (const kase of [silent, answered]) {
      await kase.waitForTask('the task to open', kase.taskId('serve'), () => true);
      await claimAndComplete(kase, kase.taskId('serve'), org.gridWorker, 'done', {});
      await kase.waitForEvents('notification.sent', 1 + 1);
    }

    // Act: the requester rates the second case; the first waits out its three days
    await service.actOnCase(
      resident('usr_resident'),
      answered.caseId,
      'rate',
      { score: 5 },
      undefined,
    );
    await bed.skipTo((await bed.now()) + 3 * DAY + 60_000);

    // Assert
    const rated = await answered.waitForDoc('closed', (d) => d.status === 'closed');
    expect(rated.rating).toMatchObject({ score: 5 });
    const missing = await silent.waitForDoc('closed', (d) => d.status === 'closed');
    expect(missing.rating).toMatchObject({ score: null });
    expect(eventsOf(missing.timeline, 'feedback.missing')).toHaveLength(1);
  });
});

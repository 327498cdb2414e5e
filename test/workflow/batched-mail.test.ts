import { randomBytes } from 'node:crypto';
import { mailsToEach, waitFor } from '../support/harness';
import type { SlaTestBed } from '../support/sla-cases';
import { eventsOf, useSlaTestBed } from '../support/sla-cases';

/**
 * A mail step to many people: the recipients go to the outbox in slices, one activity per slice,
 * each under their own business key, and the timeline counts them instead of listing each.
 */
let bed: SlaTestBed;

useSlaTestBed('batched-mail', (ready) => {
  bed = ready;
});

it('when a notify step reaches 40 people, then one enqueue activity queues a mail for each, and the timeline counts them', async () => {
  // Arrange: 38 more grid workers (the seeded grid has 2), one of them without an address
  const org = await bed.seedOrg();
  const workers = [org.gridWorker, org.gridWorker2];
  for (let i = 0; i < 38; i++) {
    workers.push(await bed.addPerson(`w${i}`, `网格员${i}`, [[org.grid, 'grid-worker']]));
  }
  const silent = workers[5]!;
  await bed.db.models.Person.updateOne({ _id: silent.personId }, { $unset: { email: 1 } });
  const definition = bed.definition({
    key: `announce-${randomBytes(3).toString('hex')}`,
    name: '网格通知',
    starters: ['admin'],
    input: { fields: [] },
    steps: [
      {
        id: 'tell',
        name: '通知全体网格员',
        type: 'notify',
        template: 'case-update',
        to: [{ role: 'grid-worker', unit: 'case' }],
      },
      { id: 'closed', name: '结束', type: 'end' },
    ],
  });

  // Act
  const { doc, activityTypes } = await bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, definition, org.grid.id);
    await kase.handle.result();
    const history = await kase.handle.fetchHistory();
    const types = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes?.activityType?.name
        ? [e.activityTaskScheduledEventAttributes.activityType.name]
        : [],
    );
    return { doc: await kase.doc(), activityTypes: types };
  });

  // Assert: one enqueue for all, none per person
  expect(activityTypes.filter((t) => t === 'enqueueNotifications')).toHaveLength(1);
  expect(activityTypes.filter((t) => t === 'sendNotification')).toHaveLength(0);
  // …the timeline counts the queued and the one without an address
  expect(eventsOf(doc.timeline, 'notification.sent').map((e) => e.detail)).toEqual([
    { template: 'case-update', status: 'queued', recipients: 39 },
  ]);
  expect(eventsOf(doc.timeline, 'notification.failed').map((e) => e.detail)).toEqual([
    { template: 'case-update', reason: 'no-address', recipients: 1 },
  ]);
  // …and every one with an address gets exactly one mail
  const addresses = workers.filter((w) => w !== silent).map((w) => w.email);
  const received = await waitFor('a mail for each addressed worker', async () => {
    const found = await mailsToEach(addresses);
    return [...found.values()].every((mails) => mails.length >= 1) ? found : null;
  });
  for (const address of addresses) expect(received.get(address)).toHaveLength(1);
});

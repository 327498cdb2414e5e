import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createActivities } from '../../activities';
import type { OutboxDispatcher, OutboxOptions } from '../../activities/outbox';
import { createOutboxDispatcher } from '../../activities/outbox';
import { CASE_UPDATES } from '../../common/case';
import { createLogger } from '../../common/logger';
import { createMailRenderer } from '../../mail/renderer';
import type { MailTransport } from '../../mail/transport';
import { createSmtpTransport } from '../../mail/transport';
import { createMailService } from '../../services/mail';
import { mailsTo, mailsToEach, uniqueAddress, waitFor } from '../support/harness';
import type { SlaTestBed } from '../support/sla-cases';
import { asDispatcher, eventsOf, useSlaTestBed } from '../support/sla-cases';
import { testStack } from '../support/test-stack';

/**
 * The mail outbox: the workflow only enqueues, the dispatcher delivers with retries over real
 * SMTP (the sink, or a closed port for an outage), on FerretDB. Only the choice between the two
 * real transports is the test's.
 */
let bed: SlaTestBed;
const logger = createLogger('test', 'silent');
const renderer = createMailRenderer();
const FROM = 'test <noreply@governance.local>';
const dispatchers: OutboxDispatcher[] = [];
const transports: MailTransport[] = [];

useSlaTestBed('mail-outbox', (ready) => {
  bed = ready;
});

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  for (const t of transports.splice(0)) t.close();
  // Mail left undelivered on purpose would hold up the next test's reads of the sink.
  await bed.db.models.Outbox.deleteMany({ status: { $in: ['pending', 'sending'] } });
});

/** A port nobody listens on: connections are refused, as when the relay is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** SMTP that is down until `restore()`: a real transport to a closed port, then the sink. */
async function relay(): Promise<{ transport: MailTransport; restore: () => void }> {
  const down = createSmtpTransport(`smtp://127.0.0.1:${await closedPort()}`, {
    maxConnections: 2,
  });
  const up = createSmtpTransport(testStack().env.SMTP_URL, { maxConnections: 2 });
  transports.push(down, up);
  let restored = false;
  return {
    transport: {
      send: (mail) => (restored ? up : down).send(mail),
      verify: () => (restored ? up : down).verify(),
      close: () => undefined,
    },
    restore: () => {
      restored = true;
    },
  };
}

/** Retries in milliseconds instead of minutes (the delays are configuration). */
const FAST: Partial<OutboxOptions> = {
  initialBackoffMs: 20,
  maxBackoffMs: 100,
  pollMs: 100,
  leaseMs: 60_000,
};

function dispatcher(transport: MailTransport, options: Partial<OutboxOptions> = {}) {
  const d = createOutboxDispatcher({
    models: bed.db.models,
    transport,
    from: FROM,
    clock: () => new Date(),
    logger,
    options: { ...FAST, ...options },
  });
  dispatchers.push(d);
  return d;
}

function activitiesOver(outbox: OutboxDispatcher, transport: MailTransport) {
  return createActivities({
    models: bed.db.models,
    mail: { transport, renderer, from: FROM, outbox },
    clock: () => new Date(),
    logger,
  });
}

function receipt(to: string) {
  const caseId = `case-${randomBytes(12).toString('hex')}`;
  return {
    businessKey: `${caseId}:acknowledge:1`,
    caseId,
    template: 'case-received',
    to,
    context: {
      caseId,
      processName: '居民诉求受理',
      stepName: '受理回执',
      receivedAt: new Date().toISOString(),
      data: { category: '其他', description: '发件测试' },
    },
  };
}

/** A mail document as the enqueue activity writes it, for states a crash leaves behind. */
function storedMail(to: string, fields: Record<string, unknown>) {
  const id = `case-${randomBytes(12).toString('hex')}:tell:1`;
  return {
    _id: id,
    caseId: id.slice(0, 29),
    template: 'case-received',
    to,
    subject: '受理回执',
    html: '<p>您的诉求已受理</p>',
    text: '您的诉求已受理',
    messageId: `<${randomBytes(16).toString('hex')}@governance.local>`,
    attempts: 0,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 3_600_000),
    ...fields,
  };
}

it('when the relay is down for longer than the old retry window, then the mail is retried until it comes back and arrives once', async () => {
  // Arrange: SMTP refuses connections; the enqueue answers at once all the same
  const { transport, restore } = await relay();
  const outbox = dispatcher(transport);
  outbox.start();
  const to = uniqueAddress('outage');
  const request = receipt(to);
  const queued = await activitiesOver(outbox, transport).sendNotification(request);
  expect(queued.status).toBe('queued');

  // Act: more failed attempts than the 8 the workflow's retry policy used to allow
  const failing = await waitFor('10 failed attempts', async () => {
    const doc = await bed.db.models.Outbox.findById(request.businessKey).lean();
    return doc && doc.attempts >= 10 && doc.status === 'pending' ? doc : null;
  });
  expect(failing.lastError).toMatch(/ECONNREFUSED/);
  restore();

  // Assert: delivered once, with the Message-ID stored before the first attempt
  const [mail] = await waitFor('the mail after the outage', async () => {
    const found = await mailsTo(to);
    return found.length > 0 ? found : null;
  });
  const sent = await waitFor('the outbox to say sent', async () => {
    const doc = await bed.db.models.Outbox.findById(request.businessKey).lean();
    return doc?.status === 'sent' ? doc : null;
  });
  expect(mail!.messageId).toBe(sent.messageId);
  expect(sent.messageId).toBe(queued.messageId);
  expect(sent.html).toBeUndefined(); // no mail text at rest once delivered
  expect(sent.lastError).toBeUndefined();
  await new Promise((r) => setTimeout(r, 500));
  expect(await mailsTo(to)).toHaveLength(1);
});

it('when a worker died between sending and recording, then the mail is sent again after its lease with the same Message-ID', async () => {
  // Arrange: one mail left `sending` by a dead worker (lease run out), one still leased by a live one
  const to = uniqueAddress('crash');
  const stale = storedMail(to, {
    status: 'sending',
    attempts: 1,
    leaseUntil: new Date(Date.now() - 1000),
    leaseOwner: 'dead-worker',
    nextAttemptAt: new Date(Date.now() - 60_000),
  });
  const busyTo = uniqueAddress('leased');
  const leased = storedMail(busyTo, {
    status: 'sending',
    attempts: 1,
    leaseUntil: new Date(Date.now() + 60_000),
    leaseOwner: 'live-worker',
  });
  await bed.db.models.Outbox.create([stale, leased]);
  const smtp = createSmtpTransport(testStack().env.SMTP_URL);

  // Act
  await dispatcher(smtp).drain();

  // Assert
  const [mail] = await waitFor('the recovered mail', async () => {
    const found = await mailsTo(to);
    return found.length > 0 ? found : null;
  });
  expect(mail!.messageId).toBe(stale.messageId);
  const doc = (await bed.db.models.Outbox.findById(stale._id).lean())!;
  expect([doc.status, doc.attempts]).toEqual(['sent', 2]);
  expect((await bed.db.models.Outbox.findById(leased._id).lean())!.status).toBe('sending');
  await bed.db.models.Outbox.deleteOne({ _id: leased._id }); // (so the sink is read at once)
  expect(await mailsTo(busyTo)).toHaveLength(0);
});

it('when two dispatchers drain the same outbox at once, then every mail leaves exactly once', async () => {
  // Arrange
  const addresses = Array.from({ length: 20 }, (_, i) => uniqueAddress(`batch${i}`));
  await bed.db.models.Outbox.create(
    addresses.map((to) => storedMail(to, { status: 'pending', nextAttemptAt: new Date() })),
  );
  const smtp = createSmtpTransport(testStack().env.SMTP_URL);

  // Act
  await Promise.all([dispatcher(smtp).drain(), dispatcher(smtp).drain()]);

  // Assert
  await waitFor('20 mails in the sink', async () => {
    const found = await mailsToEach(addresses);
    return [...found.values()].every((mails) => mails.length >= 1) ? found : null;
  });
  await new Promise((r) => setTimeout(r, 300));
  const settled = await mailsToEach(addresses);
  for (const to of addresses) expect(settled.get(to)).toHaveLength(1);
});

it('when a batch is delivered, then its rows are recorded sent in bulk writes, not one update per mail', async () => {
  // Arrange: 20 pending mails and nothing else queued
  await bed.db.models.OutboxQueue.deleteMany({});
  const addresses = Array.from({ length: 20 }, (_, i) => uniqueAddress(`bulk${i}`));
  const mails = addresses.map((to) =>
    storedMail(to, { status: 'pending', nextAttemptAt: new Date() }),
  );
  await bed.db.models.Outbox.create(mails);
  const smtp = createSmtpTransport(testStack().env.SMTP_URL, { maxConnections: 4 });
  transports.push(smtp);
  const outbox = dispatcher(smtp, { concurrency: 8 });

  // Act
  await outbox.drain();

  // Assert: every row sent once, its queue entry and claim gone; one read per mail and a few
  // writes per batch (one update per mail made it 2 and more per mail)
  const ids = mails.map((m) => m._id);
  const rows = await bed.db.models.Outbox.find({ _id: { $in: ids } }).lean();
  expect(rows.map((r) => [r.status, r.attempts])).toEqual(ids.map(() => ['sent', 1]));
  expect(await bed.db.models.OutboxQueue.countDocuments({ _id: { $in: ids } })).toBe(0);
  expect(
    await bed.db.models.OutboxClaim.countDocuments({ _id: { $in: ids.map((id) => `${id}#1`) } }),
  ).toBe(0);
  const stats = outbox.stats();
  expect(stats.sent).toBe(20);
  expect(stats.storeOps).toBeLessThanOrEqual(20 + 8);
  const received = await waitFor('20 mails in the sink', async () => {
    const found = await mailsToEach(addresses);
    return [...found.values()].every((m) => m.length >= 1) ? found : null;
  });
  for (const to of addresses) expect(received.get(to)).toHaveLength(1);
});

it('when another dispatcher took a mail over while it was being sent, then the bulk write records the others and leaves that row, its queue entry and its claim', async () => {
  // Arrange: three pending mails; while the middle one is sent, another dispatcher counts this
  // attempt as made (as it does past the lease) and claims the next one, so the row is its
  await bed.db.models.OutboxQueue.deleteMany({});
  const addresses = ['kept-a', 'taken', 'kept-b'].map((name) => uniqueAddress(name));
  const mails = addresses.map((to) =>
    storedMail(to, { status: 'pending', nextAttemptAt: new Date() }),
  );
  await bed.db.models.Outbox.create(mails);
  const taken = mails[1]!;
  const smtp = createSmtpTransport(testStack().env.SMTP_URL);
  const takingOver: MailTransport = {
    send: async (mail) => {
      if (mail.to === taken.to) {
        await bed.db.models.Outbox.updateOne({ _id: taken._id }, { $set: { attempts: 1 } });
        await bed.db.models.OutboxClaim.create({
          _id: `${taken._id}#2`,
          mailId: taken._id,
          owner: 'other-dispatcher',
          at: new Date(),
        });
      }
      await smtp.send(mail);
    },
    verify: () => smtp.verify(),
    close: () => undefined,
  };

  // Act
  await dispatcher(takingOver, { concurrency: 8 }).drain();

  // Assert: the two others recorded and cleaned up; the taken row is left to the other
  // dispatcher (its queue entry waits for that claim's lease), and was sent once by this one
  for (const mail of [mails[0]!, mails[2]!]) {
    const row = (await bed.db.models.Outbox.findById(mail._id).lean())!;
    expect([row.status, row.attempts]).toEqual(['sent', 1]);
    expect(await bed.db.models.OutboxQueue.countDocuments({ _id: mail._id })).toBe(0);
    expect(await bed.db.models.OutboxClaim.countDocuments({ _id: `${mail._id}#1` })).toBe(0);
  }
  const row = (await bed.db.models.Outbox.findById(taken._id).lean())!;
  expect([row.status, row.attempts]).toEqual(['pending', 1]);
  expect(await bed.db.models.OutboxClaim.countDocuments({ _id: `${taken._id}#1` })).toBe(1);
  expect(await bed.db.models.OutboxQueue.countDocuments({ _id: taken._id })).toBe(1);
  expect(await mailsTo(taken.to)).toHaveLength(1);
});

it('when a dispatcher died holding claims, then its mail is sent again with the same Message-ID once the claim is older than the lease, and not before', async () => {
  // Arrange: two pending mails, each with a claim on its first attempt: one taken by a dead
  // dispatcher longer ago than the lease, one by a live one a moment ago
  const to = uniqueAddress('dead-claim');
  const stale = storedMail(to, { status: 'pending', nextAttemptAt: new Date(Date.now() - 90_000) });
  const busyTo = uniqueAddress('live-claim');
  const held = storedMail(busyTo, { status: 'pending', nextAttemptAt: new Date() });
  await bed.db.models.Outbox.create([stale, held]);
  const claimedAt = new Date();
  await bed.db.models.OutboxClaim.create([
    { _id: `${stale._id}#1`, mailId: stale._id, owner: 'dead', at: new Date(Date.now() - 61_000) },
    { _id: `${held._id}#1`, mailId: held._id, owner: 'live', at: claimedAt },
  ]);
  const smtp = createSmtpTransport(testStack().env.SMTP_URL);

  // Act
  await dispatcher(smtp).drain();

  // Assert: the dead one's attempt counted and the mail sent as the second, with its Message-ID
  const [mail] = await waitFor('the mail the dead dispatcher held', async () => {
    const found = await mailsTo(to);
    return found.length > 0 ? found : null;
  });
  expect(mail!.messageId).toBe(stale.messageId);
  const doc = (await bed.db.models.Outbox.findById(stale._id).lean())!;
  expect([doc.status, doc.attempts]).toEqual(['sent', 2]);
  expect(await bed.db.models.OutboxClaim.countDocuments({ mailId: stale._id })).toBe(0);
  expect(await bed.db.models.OutboxQueue.findById(stale._id).lean()).toBeNull();
  // …the live one's left alone, its queue entry moved to when its claim's lease ends
  expect((await bed.db.models.Outbox.findById(held._id).lean())!.status).toBe('pending');
  const entry = (await bed.db.models.OutboxQueue.findById(held._id).lean())!;
  expect(entry.dueAt.getTime()).toBe(claimedAt.getTime() + FAST.leaseMs!);
  await bed.db.models.Outbox.deleteOne({ _id: held._id }); // (so the sink is read at once)
  await bed.db.models.OutboxQueue.deleteOne({ _id: held._id });
  expect(await mailsTo(busyTo)).toHaveLength(0);
});

it('when a batch outlives its claims, then the mail not yet sent is left to the lease and sent once, as its next attempt', async () => {
  // Arrange: two pending mails in one batch, one lane, and a relay slower than the lease over the
  // first (only the delay is the test's: the mail goes on to the real sink)
  const first = storedMail(uniqueAddress('slow-batch-1'), {
    status: 'pending',
    nextAttemptAt: new Date(Date.now() - 2_000),
  });
  const second = storedMail(uniqueAddress('slow-batch-2'), {
    status: 'pending',
    nextAttemptAt: new Date(Date.now() - 1_000),
  });
  await bed.db.models.Outbox.create([first, second]);
  const sink = createSmtpTransport(testStack().env.SMTP_URL);
  const slow: MailTransport = {
    send: async (mail) => {
      if (mail.to === first.to) await new Promise((resolve) => setTimeout(resolve, 400));
      await sink.send(mail);
    },
    verify: () => sink.verify(),
    close: () => undefined,
  };
  const outbox = dispatcher(slow, { concurrency: 1, leaseMs: 250 });

  // Act: drain until both are out (the second waits for its first claim's lease to end)
  await waitFor('both mails sent', async () => {
    await outbox.drain();
    const docs = await Promise.all(
      [first._id, second._id].map((id) => bed.db.models.Outbox.findById(id).lean()),
    );
    return docs.every((d) => d?.status === 'sent') ? docs : null;
  });

  // Assert: each arrived once, with its Message-ID; the second went out as its second attempt
  const [firstMail] = await mailsTo(first.to);
  const seconds = await mailsTo(second.to);
  expect(firstMail!.messageId).toBe(first.messageId);
  expect(seconds.map((m) => m.messageId)).toEqual([second.messageId]);
  expect((await bed.db.models.Outbox.findById(second._id).lean())!.attempts).toBe(2);
});

it('when mail queued later sits before older mail in the store, then the older mail is sent first', async () => {
  // Arrange: the newer mail's queue entry inserted first (as a reminder takes the slot a sent
  // call freed), the older one's after it
  const [newerTo, olderTo] = [uniqueAddress('newer'), uniqueAddress('older')];
  const newer = storedMail(newerTo, { status: 'pending', nextAttemptAt: new Date() });
  const older = storedMail(olderTo, { status: 'pending', nextAttemptAt: new Date() });
  await bed.db.models.Outbox.create([newer, older]);
  await bed.db.models.OutboxQueue.create({ _id: newer._id, dueAt: new Date() });
  await bed.db.models.OutboxQueue.create({
    _id: older._id,
    dueAt: new Date(Date.now() - 10_000),
  });
  const smtp = createSmtpTransport(testStack().env.SMTP_URL);
  const order: string[] = [];
  const recording: MailTransport = {
    send: async (mail) => {
      order.push(mail.to);
      await smtp.send(mail);
    },
    verify: () => smtp.verify(),
    close: () => smtp.close(),
  };

  // Act: one mail per batch, one at a time
  await dispatcher(recording, { batch: 1, concurrency: 1 }).drain();

  // Assert
  expect(order.filter((to) => to === olderTo || to === newerTo)).toEqual([olderTo, newerTo]);
  expect(await mailsTo(olderTo)).toHaveLength(1);
  expect(await mailsTo(newerTo)).toHaveLength(1);
});

it('when a mail expires while the relay is down, then it is listed as failed with its reason and an admin sends it again', async () => {
  // Arrange: a short expiry
  const { transport, restore } = await relay();
  const outbox = dispatcher(transport, { expiryMs: 300 });
  const mailService = createMailService({
    models: bed.db.models,
    clock: () => new Date(),
    expiryMs: 60_000,
  });
  const to = uniqueAddress('expired');
  const request = receipt(to);
  await activitiesOver(outbox, transport).sendNotification(request);

  // Act
  const failed = await waitFor('the mail to expire', async () => {
    const list = await mailService.listFailed();
    return list.find((m) => m.id === request.businessKey);
  });

  // Assert: the reason without the text; then a resend delivers it
  expect(failed.lastError).toMatch(/^expired after \d+ attempts: .*ECONNREFUSED/);
  expect(failed).not.toHaveProperty('html');
  expect(failed.to).toBe(to);
  restore();
  const resent = await mailService.resend(request.businessKey);
  expect(resent.status).toBe('pending');
  outbox.wake();
  const [mail] = await waitFor('the resent mail', async () => {
    const found = await mailsTo(to);
    return found.length > 0 ? found : null;
  });
  const doc = (await bed.db.models.Outbox.findById(request.businessKey).lean())!;
  expect(mail!.messageId).toBe(doc.messageId);
  await expect(mailService.resend(request.businessKey)).rejects.toMatchObject({
    kind: 'conflict',
  });
  await expect(mailService.resend('case-none:x:1')).rejects.toMatchObject({ kind: 'not_found' });
});

it('when a notify step names two fixed addresses, then both receive the mail', async () => {
  // Arrange
  const org = await bed.seedOrg();
  const first = uniqueAddress('duty1');
  const second = uniqueAddress('duty2');
  const definition = bed.definition({
    key: `two-addresses-${randomBytes(3).toString('hex')}`,
    name: '双地址通知',
    starters: ['resident'],
    input: {
      fields: [
        { name: 'category', label: '类别', type: 'string' },
        { name: 'description', label: '内容', type: 'text' },
      ],
    },
    steps: [
      {
        id: 'tell',
        name: '通知值班',
        type: 'notify',
        template: 'case-received',
        to: [{ address: first }, { address: second }],
      },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  });

  // Act
  await bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, definition, org.grid.id, {
      category: '其他',
      description: '双地址通知',
    });
    await kase.handle.result();
  });

  // Assert
  for (const to of [first, second]) {
    await waitFor(`the mail to ${to}`, async () => (await mailsTo(to)).length === 1);
  }
});

it('when the relay is down, then a reassignment answers at once and its mail waits in the outbox', async () => {
  // Arrange: a task open in a worker whose SMTP is down
  const org = await bed.seedOrg();
  const { transport } = await relay();
  const outbox = dispatcher(transport, { initialBackoffMs: 60_000 });
  const definition = bed.serviceDefinition('reassign-offline', []);
  await bed.withWorker(
    async (queue) => {
      const { kase, taskId } = await bed.openTask(queue, org, definition);

      // Act
      const startedAt = Date.now();
      await kase.handle.executeUpdate(CASE_UPDATES.reassign, {
        args: [
          {
            taskId,
            actor: asDispatcher(org.director),
            to: {
              personId: org.gridWorker2.personId,
              userId: org.gridWorker2.userId,
              unitId: org.grid.id,
            },
          },
        ],
      });

      // Assert: the Update did not wait for SMTP; the mail is queued and being retried
      expect(Date.now() - startedAt).toBeLessThan(5_000);
      const doc = await waitFor('the reassignment mail to be tried', async () => {
        const found = await bed.db.models.Outbox.findOne({
          caseId: kase.caseId,
          _id: { $regex: ':reassigned:' },
        }).lean();
        return found && found.attempts >= 1 && found.status === 'pending' ? found : null;
      });
      expect(doc.to).toBe(org.gridWorker2.email);
      const timeline = (await kase.doc()).timeline;
      expect(
        eventsOf(timeline, 'notification.sent', { template: 'task-assigned' }),
      ).not.toHaveLength(0);
    },
    activitiesOver(outbox, transport),
  );
});

import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import type { OutboxDispatcher } from '../../activities/outbox';
import { createOutboxDispatcher } from '../../activities/outbox';
import { createLogger } from '../../common/logger';
import { createMailRenderer } from '../../mail/renderer';
import { createSmtpTransport } from '../../mail/transport';
import { mailsTo, uniqueAddress, waitFor } from '../support/harness';
import type { SeededPerson, SlaTestBed } from '../support/sla-cases';
import { useSlaTestBed } from '../support/sla-cases';
import { testStack } from '../support/test-stack';

/**
 * Retries on the roll-call's write paths (issue 14): roster entries and outbox mail are written
 * as inserts under deterministic `_id`s (on FerretDB v1 an insert is checked by the `_id` index,
 * an upsert's filter scans the collection), so an activity run again, after a crash or a lost
 * completion, finds what it wrote and sends nothing twice. Real store, real SMTP sink.
 */
let bed: SlaTestBed;
const logger = createLogger('test', 'silent');
const FROM = 'test <noreply@governance.local>';
const dispatchers: OutboxDispatcher[] = [];

useSlaTestBed('roster-outbox-retries', (ready) => {
  bed = ready;
});

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
});

function activities() {
  const transport = createSmtpTransport(testStack().env.SMTP_URL);
  const outbox = createOutboxDispatcher({
    models: bed.db.models,
    transport,
    from: FROM,
    clock: () => new Date(),
    logger,
  });
  dispatchers.push(outbox);
  return {
    outbox,
    acts: createActivities({
      models: bed.db.models,
      mail: { transport, renderer: createMailRenderer(), from: FROM, outbox },
      clock: () => new Date(),
      logger,
    }),
  };
}

/** Runs an activity as the worker would (heartbeats need an activity context). */
function asActivity<A, R>(fn: (arg: A) => Promise<R>, arg: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, arg);
}

async function threePeople(): Promise<{ unitId: string; people: SeededPerson[] }> {
  const org = await bed.seedOrg();
  const people = [];
  for (let i = 0; i < 3; i++) {
    people.push(await bed.addPerson(`called${i}`, `报到人${i}`, [[org.grid, 'grid-worker']]));
  }
  return { unitId: org.grid.id, people };
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
      data: { category: '其他', description: '重试测试' },
    },
  };
}

it('when opening a roll-call and mailing its roster are retried, then each entry is written once and each person gets one call mail', async () => {
  // Arrange: three people; an earlier attempt wrote one entry before it stopped
  const { unitId, people } = await threePeople();
  const { acts } = activities();
  const caseId = `case-${randomBytes(12).toString('hex')}`;
  const taskId = `${caseId}.report.1`;
  const open = {
    taskId,
    caseId,
    requests: [{ persons: people.map((p) => p.personId), caseUnitId: unitId }],
  };
  const earlier = {
    _id: `${taskId}:${people[1]!.personId}`,
    taskId,
    caseId,
    personId: people[1]!.personId,
    userId: people[1]!.userId,
    unitId,
    seq: 1,
    acknowledgedAt: new Date('2026-01-01T00:00:00Z'),
    closedAt: null,
  };
  await bed.db.models.RollCallEntry.collection.insertOne(earlier as never);
  const mail = {
    taskId,
    caseId,
    template: 'task-assigned',
    keyBase: `${taskId}:assigned`,
    context: {
      caseId,
      processName: '应急报到',
      taskName: '报到',
      deadlines: [],
    },
    roster: 'all' as const,
    targets: [],
    figures: false,
    missingNames: false,
  };

  // Act: the open and the mail, each run twice
  const first = await asActivity(
    (a: Parameters<typeof acts.openRollCall>[0]) => acts.openRollCall(a),
    open,
  );
  const second = await asActivity(
    (a: Parameters<typeof acts.openRollCall>[0]) => acts.openRollCall(a),
    open,
  );
  const mailed = await asActivity(
    (a: Parameters<typeof acts.mailRollCall>[0]) => acts.mailRollCall(a),
    mail,
  );
  const mailedAgain = await asActivity(
    (a: Parameters<typeof acts.mailRollCall>[0]) => acts.mailRollCall(a),
    mail,
  );

  // Assert: three entries, the one written before kept as it was
  expect([first.expected, second.expected]).toEqual([3, 3]);
  const entries = await bed.db.models.RollCallEntry.find({ taskId }).sort({ seq: 1 }).lean();
  expect(entries.map((e) => e.personId).sort()).toEqual(people.map((p) => p.personId).sort());
  expect(entries.find((e) => e._id === earlier._id)!.acknowledgedAt).toEqual(
    earlier.acknowledgedAt,
  );
  expect(
    await asActivity(
      (a: Parameters<typeof acts.rollCallFigures>[0]) => acts.rollCallFigures(a),
      taskId,
    ),
  ).toEqual({
    expected: 3,
    acknowledged: 1,
    missing: 2,
  });
  // …and one call mail each, however often the mail activity ran
  expect([mailed.sent, mailedAgain.sent]).toEqual([3, 3]);
  for (const person of people) {
    const got = await waitFor(`the call mail of ${person.personId}`, async () => {
      const found = await mailsTo(person.email);
      return found.length > 0 ? found : null;
    });
    expect(got).toHaveLength(1);
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const person of people) expect(await mailsTo(person.email)).toHaveLength(1);
  expect(await bed.db.models.OutboxQueue.countDocuments({ _id: { $regex: `^${taskId}:` } })).toBe(
    0,
  );
});

it('when a roll-call opens in one activity, twice, and its call is then sent by its own activity, then each person gets one call mail naming the planned deadline', async () => {
  // Arrange: three people, an opening that plans one 30-minute clock and sends the call
  const { unitId, people } = await threePeople();
  const { acts } = activities();
  const caseId = `case-${randomBytes(12).toString('hex')}`;
  const taskId = `${caseId}.report.1`;
  const openedAt = new Date().toISOString();
  const context = { caseId, processName: '应急报到', taskName: '报到' };
  const open = {
    taskId,
    caseId,
    requests: [{ persons: people.map((p) => p.personId), caseUnitId: unitId }],
    planning: {
      clocks: [
        {
          policy: { within: 'PT30M', reminders: [{ before: 'PT10M' }], escalations: [{}] },
          startedAt: openedAt,
          pauses: [],
        },
      ],
      unitHours: true,
      caseUnitId: unitId,
      window: 'PT2H',
      openedAt,
    },
    call: {
      template: 'task-assigned',
      keyBase: `${taskId}:assigned`,
      context,
      deadlineNames: ['30分钟内到岗报到'],
    },
  };

  // Act: the opening run twice (a retry), then the call's own activity (the fallback)
  const first = await asActivity(
    (a: Parameters<typeof acts.openRollCall>[0]) => acts.openRollCall(a),
    open,
  );
  const second = await asActivity(
    (a: Parameters<typeof acts.openRollCall>[0]) => acts.openRollCall(a),
    open,
  );
  await asActivity((a: Parameters<typeof acts.mailRollCall>[0]) => acts.mailRollCall(a), {
    taskId,
    caseId,
    template: 'task-assigned',
    keyBase: `${taskId}:assigned`,
    context: { ...context, deadlines: [] },
    roster: 'all' as const,
    targets: [],
    figures: false,
    missingNames: false,
  });

  // Assert: the plans are what the clock's and the window's own planDeadline would answer
  const clockPlan = await acts.planDeadline({ ...open.planning.clocks[0]!, unitId });
  const windowPlan = await acts.planDeadline({
    policy: { within: 'PT2H', reminders: [], escalations: [] },
    startedAt: openedAt,
    pauses: [],
  });
  expect(first.plans).toEqual([clockPlan]);
  expect(first.windowDueAt).toBe(windowPlan.dueAt);
  expect(first.hoursUnitId).toBe(unitId);
  expect([first.call, second.call]).toEqual([
    { sent: 3, noAddress: 0, failed: 0 },
    { sent: 3, noAddress: 0, failed: 0 },
  ]);
  // …one outbox row per person, under the call's keys, with the deadline in its context
  const rows = await bed.db.models.Outbox.find({ _id: { $regex: `^${taskId}:assigned:` } }).lean();
  expect(rows).toHaveLength(3);
  const stored = JSON.parse((rows[0] as unknown as { contextJson: string }).contextJson) as {
    deadlines: unknown;
  };
  expect(stored.deadlines).toEqual([{ name: '30分钟内到岗报到', dueAt: clockPlan.dueAt }]);
  // …and one mail each, however often the call was sent
  for (const person of people) {
    const got = await waitFor(`the call mail of ${person.personId}`, async () => {
      const found = await mailsTo(person.email);
      return found.length > 0 ? found : null;
    });
    expect(got).toHaveLength(1);
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const person of people) expect(await mailsTo(person.email)).toHaveLength(1);
});

it('when an enqueue is retried, before or after its mail went out, then the mail is sent once', async () => {
  // Arrange
  const { acts, outbox } = activities();
  const to = uniqueAddress('retried');
  const request = receipt(to);

  // Act: enqueued twice before delivery, then once more after it
  const queued = await acts.sendNotification(request);
  const queuedAgain = await acts.sendNotification(request);
  await outbox.drain();
  const [mail] = await waitFor('the mail', async () => {
    const found = await mailsTo(to);
    return found.length > 0 ? found : null;
  });
  const afterSent = await acts.sendNotification(request);
  await outbox.drain();

  // Assert
  expect([queued.status, queuedAgain.status, afterSent.status]).toEqual([
    'queued',
    'queued',
    'already-sent',
  ]);
  expect(mail!.messageId).toBe(queued.messageId);
  await new Promise((r) => setTimeout(r, 300));
  expect(await mailsTo(to)).toHaveLength(1);
  expect(await bed.db.models.OutboxQueue.findById(request.businessKey).lean()).toBeNull();
});

it('when an enqueue stopped between writing the mail and queueing it, then its retry queues it and it is sent once', async () => {
  // Arrange: the mail written, its ready-queue entry lost (the worker died in between)
  const { acts, outbox } = activities();
  const to = uniqueAddress('half-queued');
  const request = receipt(to);
  await acts.sendNotification(request);
  await bed.db.models.OutboxQueue.deleteOne({ _id: request.businessKey });

  // Act: the activity's retry
  const retried = await acts.sendNotification(request);
  await outbox.drain();

  // Assert
  expect(retried.status).toBe('queued');
  const [mail] = await waitFor('the mail', async () => {
    const found = await mailsTo(to);
    return found.length > 0 ? found : null;
  });
  expect(mail!.messageId).toBe(retried.messageId);
  await new Promise((r) => setTimeout(r, 300));
  expect(await mailsTo(to)).toHaveLength(1);
  expect((await bed.db.models.Outbox.findById(request.businessKey).lean())!.status).toBe('sent');
});

it('when the outbox holds mail written before the ready queue, then a new dispatcher delivers each once', async () => {
  // Arrange: rows in the old shape (no ready-queue entry): pending, and sending past its lease
  const addresses = [uniqueAddress('old-pending'), uniqueAddress('old-sending')];
  const rows = addresses.map((to, i) => ({
    _id: `case-${randomBytes(12).toString('hex')}:tell:1`,
    caseId: `case-old-${i}`,
    template: 'case-received',
    to,
    subject: '受理回执',
    html: '<p>您的诉求已受理</p>',
    text: '您的诉求已受理',
    messageId: `<${randomBytes(16).toString('hex')}@governance.local>`,
    attempts: i,
    createdAt: new Date(),
    expiresAt: new Date(Date.now() + 3_600_000),
    ...(i === 0
      ? { status: 'pending', nextAttemptAt: new Date() }
      : { status: 'sending', leaseUntil: new Date(Date.now() - 1000), leaseOwner: 'old-worker' }),
  }));
  await bed.db.models.Outbox.collection.insertMany(rows as never);
  const { outbox } = activities();

  // Act: a worker starts (its dispatcher's first drain), and drains again
  await outbox.drain();
  await outbox.drain();

  // Assert
  for (const [i, to] of addresses.entries()) {
    const [mail] = await waitFor(`old mail ${i}`, async () => {
      const found = await mailsTo(to);
      return found.length > 0 ? found : null;
    });
    expect(mail!.messageId).toBe(rows[i]!.messageId);
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const to of addresses) expect(await mailsTo(to)).toHaveLength(1);
  const docs = await bed.db.models.Outbox.find({ _id: { $in: rows.map((r) => r._id) } }).lean();
  expect(docs.map((d) => d.status)).toEqual(['sent', 'sent']);
});

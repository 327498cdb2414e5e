import type { ChildProcess } from 'node:child_process';
import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import { waitingProcess } from '../../scripts/recorded-processes';
import type { TestApp } from '../support/harness';
import { exited, spawnWorker } from '../support/worker-process';
import { idempotencyKey, mailsTo, startTestApp, uniqueAddress, waitFor } from '../support/harness';

let app: TestApp;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  app = await startTestApp('durability', { worker: false });
  await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
    source: waitingProcess('wait-and-notify', 'PT4S'),
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
});

afterAll(async () => {
  for (const worker of workers) {
    worker.kill('SIGKILL');
    await exited(worker);
  }
  await app?.stop();
});

it('when the worker is killed with SIGKILL mid-case, then a new worker completes it with nothing done twice and each mail under its one Message-ID', async () => {
  const email = uniqueAddress('durable');
  const first = spawnWorker(app);
  workers.push(first);

  const started = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: app.adminKey,
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: 'wait-and-notify',
      data: { category: '物业服务', description: '电梯故障', contactEmail: email },
    },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;

  // Mid-way: the receipt is sent and the case waits on its timer.
  await waitFor(
    'the case to reach its timer',
    async () => (await app.db.models.Case.findById(caseId).lean())?.currentStep?.id === 'wait',
    60_000,
  );
  first.kill('SIGKILL');
  await exited(first);
  expect(first.signalCode).toBe('SIGKILL');

  const second = spawnWorker(app);
  workers.push(second);
  const closed = await waitFor(
    'the case to close on the new worker',
    async () => {
      const doc = await app.db.models.Case.findById(caseId).lean();
      return doc?.status === 'closed' ? doc : undefined;
    },
    60_000,
  );

  expect(await app.db.models.Case.countDocuments({ _id: caseId })).toBe(1);
  const seqs = closed.timeline.map((e) => e.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  expect(closed.timeline.filter((e) => e.type === 'notification.sent')).toHaveLength(2);
  expect(closed.timeline.filter((e) => e.type === 'timer.fired')).toHaveLength(1);
  expect(closed.timeline.filter((e) => e.type === 'case.closed')).toHaveLength(1);

  // A mail the first worker was sending when killed goes out again after its lease (5 s here).
  const outbox = await waitFor(
    'both mails delivered',
    async () => {
      const docs = await app.db.models.Outbox.find({ caseId }).lean();
      return docs.every((d) => d.status === 'sent') ? docs : undefined;
    },
    60_000,
  );
  expect(outbox.map((o) => [o._id, o.status])).toEqual(
    expect.arrayContaining([
      [`${caseId}:acknowledge:1`, 'sent'],
      [`${caseId}:follow-up:1`, 'sent'],
    ]),
  );
  expect(outbox).toHaveLength(2);
  // Two mails, each under its own stored Message-ID. A mail the killed worker had handed to the
  // relay but not yet recorded as sent goes out again after its lease with the same Message-ID
  // (at least once, by design): receivers drop the copy, so a copy may arrive, never a new id.
  const sunk = await mailsTo(email);
  const storedIds = outbox.map((o) => o.messageId).sort();
  expect([...new Set(sunk.map((m) => m.messageId))].sort()).toEqual(storedIds);
  expect(sunk.length).toBeLessThanOrEqual(3);
});

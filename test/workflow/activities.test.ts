import { randomBytes } from 'node:crypto';
import { createActivities } from '../../activities';
import type { CaseProgress, TimelineEntry } from '../../common/case';
import { createLogger } from '../../common/logger';
import { createMailRenderer } from '../../mail/renderer';
import { createSmtpTransport } from '../../mail/transport';
import type { Database } from '../../models';
import { connectDatabase } from '../../models';
import { mailsTo, testConfig, uniqueAddress, waitFor, watchOutbox } from '../support/harness';
import { testStack } from '../support/test-stack';

/** Activities run at least once: each one, called again with the same input, changes nothing. */
let db: Database;
let activities: ReturnType<typeof createActivities>;

beforeAll(async () => {
  db = await connectDatabase(testConfig('activities').MONGODB_URI);
  watchOutbox(db);
  activities = createActivities({
    models: db.models,
    mail: {
      transport: createSmtpTransport(testStack().env.SMTP_URL),
      renderer: createMailRenderer(),
      from: 'test <noreply@governance.local>',
    },
    clock: () => new Date(),
    logger: createLogger('test', 'silent'),
  });
});

afterAll(async () => {
  await db?.close();
});

function entry(seq: number): TimelineEntry {
  return {
    seq,
    type: 'step.entered',
    at: new Date().toISOString(),
    actor: { kind: 'system', id: 'engine' },
  };
}

function progress(caseId: string, revision: number, seqs: number[]): CaseProgress {
  return {
    caseId,
    revision,
    status: 'open',
    currentStep: { id: `s${revision}`, name: 'step', type: 'timer' },
    events: seqs.map(entry),
    ...(revision === 1
      ? {
          opening: {
            definitionKey: 'k',
            definitionVersion: 1,
            definitionName: 'n',
            data: {},
            createdBy: { kind: 'user', id: 'u' },
            channel: 'test',
            requestHash: 'h',
            createdAt: new Date().toISOString(),
          },
        }
      : {}),
  };
}

it('when each revision is recorded twice, then the document holds each timeline entry once', async () => {
  const caseId = `case-${randomBytes(12).toString('hex')}`;
  for (const p of [
    progress(caseId, 1, [1, 2]),
    progress(caseId, 2, [3]),
    progress(caseId, 3, [4, 5]),
  ]) {
    await activities.recordCaseProgress(p);
    await activities.recordCaseProgress(p);
  }
  // A late duplicate of an old revision is also a no-op.
  await activities.recordCaseProgress(progress(caseId, 2, [3]));
  const doc = (await db.models.Case.findById(caseId).lean())!;
  expect(doc.revision).toBe(3);
  expect(doc.timeline.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  expect(doc.currentStep?.id).toBe('s3');
});

it('when a revision arrives before the one it builds on, then it fails (to be retried) and writes nothing', async () => {
  const caseId = `case-${randomBytes(12).toString('hex')}`;
  await activities.recordCaseProgress(progress(caseId, 1, [1]));
  await expect(activities.recordCaseProgress(progress(caseId, 3, [3]))).rejects.toMatchObject({
    type: 'ProjectionOutOfOrder',
  });
  const doc = (await db.models.Case.findById(caseId).lean())!;
  expect(doc.revision).toBe(1);
  expect(doc.timeline.map((e) => e.seq)).toEqual([1]);
});

it('when the same notification is enqueued twice, then one mail leaves and the outbox says sent once', async () => {
  const to = uniqueAddress('outbox');
  const request = {
    businessKey: `case-${randomBytes(12).toString('hex')}:acknowledge:1`,
    caseId: 'case-x',
    template: 'case-received',
    to,
    context: {
      caseId: 'case-x',
      processName: '居民诉求受理',
      stepName: '受理回执',
      receivedAt: new Date().toISOString(),
      data: { category: '其他', description: '重复发送' },
    },
  };
  const first = await activities.sendNotification(request);
  expect(first.status).toBe('queued');
  // A retried enqueue before delivery changes nothing (one document per business key).
  expect((await activities.sendNotification(request)).messageId).toBe(first.messageId);
  const [mail] = await waitFor('the mail', async () => {
    const found = await mailsTo(to);
    return found.length > 0 ? found : null;
  });
  expect(mail!.messageId).toBe(first.messageId);
  const record = await waitFor('the outbox to say sent', async () => {
    const doc = await db.models.Outbox.findById(request.businessKey).lean();
    return doc?.status === 'sent' ? doc : null;
  });
  expect(record.attempts).toBe(1);
  expect((await activities.sendNotification(request)).status).toBe('already-sent');
  await new Promise((r) => setTimeout(r, 300));
  expect(await mailsTo(to)).toHaveLength(1);
});

it('when a template lacks a field it needs, then the failure is not retryable', async () => {
  await expect(
    activities.sendNotification({
      businessKey: `case-${randomBytes(12).toString('hex')}:x:1`,
      caseId: 'case-x',
      template: 'case-received',
      to: uniqueAddress('broken'),
      context: { caseId: 'case-x' },
    }),
  ).rejects.toMatchObject({ type: 'TemplateError', nonRetryable: true });
});

it('when an escalation mail goes to the late assignee and to a supervisor, then only the supervisor is asked to supervise', async () => {
  // Arrange
  const caseId = `case-${randomBytes(12).toString('hex')}`;
  const assignee = { id: `p-late-${randomBytes(4).toString('hex')}`, email: uniqueAddress('late') };
  const supervisor = { id: `p-sup-${randomBytes(4).toString('hex')}`, email: uniqueAddress('sup') };
  await db.models.Person.create([
    { _id: assignee.id, name: '王网格员', email: assignee.email, updatedAt: new Date() },
    { _id: supervisor.id, name: '李书记', email: supervisor.email, updatedAt: new Date() },
  ]);
  const request = (personId: string) => ({
    businessKey: `${caseId}:handle/reply:escalation:1:${personId}`,
    caseId,
    template: 'task-escalated',
    to: { personId },
    context: {
      caseId,
      processName: '居民诉求受理',
      taskName: '现场核查',
      deadlineName: '办结时限',
      dueAt: new Date().toISOString(),
      level: 1,
      unitName: '甲社区',
      fellBack: false,
    },
    names: { assigneeName: assignee.id },
  });

  // Act
  await activities.sendNotification(request(assignee.id));
  await activities.sendNotification(request(supervisor.id));

  // Assert
  const [late] = await mailsTo(assignee.email);
  const [boss] = await mailsTo(supervisor.email);
  expect(late!.text).toContain('您承办的');
  expect(late!.text).toContain('本事项已进入第 1 级督办');
  expect(late!.text).not.toContain('请您进行');
  expect(boss!.text).toContain('本事项提交至甲社区，请您进行第 1 级督办');
  expect(boss!.text).toContain('当前承办人：王网格员');
});

it('when revisions are projected twice, then the open cases index and the dirty days follow the case', async () => {
  // Arrange: a case opened, recorded twice (a retry), then closed, recorded twice
  const caseId = `case-${randomBytes(12).toString('hex')}`;
  const opening = progress(caseId, 1, [1]);
  const closing = { ...progress(caseId, 2, [2]), status: 'closed' as const, currentStep: null };

  // Act and assert: open, its entry carries its roots; the `*` day is marked dirty for the seals
  await activities.recordCaseProgress(opening);
  await db.models.ListDayDirty.deleteMany({});
  await activities.recordCaseProgress(opening);
  const entry = await db.models.OpenCase.findById(caseId).lean();
  expect(entry).toMatchObject({ revision: 1, status: 'open', definitionKey: 'k' });
  expect([...entry!.roots!].sort()).toEqual(['*', 'by:u']);
  // The retry found the case written and marked its day again (a seal may have missed it)
  const day = (await db.models.Case.findById(caseId, { listDays: 1 }).lean())!.listDays![0]!;
  expect(await db.models.ListDayDirty.findById(`list|${day}`).lean()).not.toBeNull();

  await activities.recordCaseProgress(closing);
  await activities.recordCaseProgress(closing);
  expect(await db.models.OpenCase.findById(caseId).lean()).toBeNull();
});

it('when revisions are projected twice, then the process keyed root is written at filing and a rejection adds its keyed keys once', async () => {
  // Arrange: a case opened, then rejected, each revision recorded twice (a retry)
  const caseId = `case-${randomBytes(12).toString('hex')}`;
  const opening = progress(caseId, 1, [1]);
  const rejecting = { ...progress(caseId, 2, [2]), status: 'rejected' as const, currentStep: null };
  const keysOf = async () =>
    (await db.models.Case.findById(caseId, { listDays: 1 }).lean())!.listDays!;

  // Act and assert: filed under `*` and `*+p:k` (no unit), no state key yet
  await activities.recordCaseProgress(opening);
  await activities.recordCaseProgress(opening);
  const filed = await keysOf();
  const rootsOf = (keys: string[]) => [...new Set(keys.map((k) => k.slice(0, k.lastIndexOf('|'))))];
  expect(rootsOf(filed).sort()).toEqual(['*', '*+p:k', 'by:u']);
  const day = filed.find((k) => k.startsWith('*|') && !k.includes('T'))!.slice(2);
  const marker = `list|*+s:rejected|${day}`;
  const counted = (await db.models.ListDay.findById(marker).lean())?.count ?? 0;

  await activities.recordCaseProgress(rejecting);
  await activities.recordCaseProgress(rejecting);
  const rejected = await keysOf();
  expect(rootsOf(rejected).sort()).toEqual(['*', '*+p:k', '*+s:rejected', 'by:u']);
  expect(rejected).toHaveLength(new Set(rejected).size);
  // Counted once in its day's marker, the retry only touched it
  expect((await db.models.ListDay.findById(marker).lean())?.count).toBe(counted + 1);
});

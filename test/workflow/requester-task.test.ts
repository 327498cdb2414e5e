import { randomBytes } from 'node:crypto';
import { createActivities } from '../../activities';
import { createChannelSender } from '../../channels/sender';
import { createHttpSmsProvider } from '../../channels/sms';
import type { CaseWorkflowInput } from '../../common/case';
import { createLogger } from '../../common/logger';
import { createMailRenderer } from '../../mail/renderer';
import { createSmtpTransport } from '../../mail/transport';
import type { SunkWebhook } from '../../stack/webhook-sink';
import { waitFor } from '../support/harness';
import type { SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import { eventsOf, useSlaTestBed } from '../support/sla-cases';
import { testStack, webhookSinkUrl } from '../support/test-stack';

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

/**
 * The requester hears of the task offered to them (the `task-assigned` announcement) by the
 * channel they have: a resident's account holds no contact, the person record it is linked to
 * (`userId`) may hold a phone; the worker here sends SMS through the adapter to the local
 * webhook sink. A resident with no person record has no channel at all: the timeline says so and
 * the task is in their list all the same.
 */
describe('the requester hears of the task offered to them', () => {
  const run = randomBytes(4).toString('hex');

  /** The real activities with an SMS provider posting to the sink at `smsPath` (as the worker's). */
  function activitiesWithSms(smsPath: string) {
    return createActivities({
      models: bed.db.models,
      mail: {
        transport: createSmtpTransport(testStack().env.SMTP_URL),
        renderer: createMailRenderer(),
        from: 'test <noreply@governance.local>',
      },
      channels: createChannelSender({
        sms: createHttpSmsProvider({
          url: `${webhookSinkUrl()}${smsPath}`,
          authHeader: 'Authorization: Bearer test-key',
        }),
        smsTemplateIds: { 'task-assigned': 'SMS_TASK' },
      }),
      clock: () => new Date(),
      logger: createLogger('test', 'silent'),
    });
  }

  /** The texts the sink received at `smsPath` (one path per test: SMS params are shortened). */
  async function textsAt(smsPath: string): Promise<SunkWebhook[]> {
    const response = await fetch(
      `${webhookSinkUrl()}/messages?path=${encodeURIComponent(smsPath)}`,
    );
    return (await response.json()) as SunkWebhook[];
  }

  function announcedDefinition() {
    return bed.definition({
      key: `requester-told-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
      name: '申请补正',
      starters: ['resident'],
      input: { fields: [] },
      steps: [
        {
          id: 'supplement',
          name: '申请人补正材料',
          type: 'task',
          candidates: [{ requester: true, otherwise: { role: 'director', unit: 'community' } }],
        },
        { id: 'done', name: '办结', type: 'end' },
      ],
    });
  }

  async function residentAccount(label: string): Promise<string> {
    const userId = `usr-${label}-${run}-${randomBytes(3).toString('hex')}`;
    await bed.db.models.User.create({
      _id: userId,
      username: userId,
      displayName: '居民',
      passwordHash: 'scrypt$unused',
      roles: ['resident'],
      createdAt: new Date(),
    });
    return userId;
  }

  /** Starts a case as the resident's account and waits for the announcement's entry. */
  async function startAsResident(org: SeededOrg, userId: string, smsPath: string) {
    const definition = announcedDefinition();
    return bed.withWorker(async (queue) => {
      const kase = await bed.startCase(
        queue,
        definition,
        org.grid.id,
        {},
        { startedBy: { kind: 'user', id: userId, roles: ['resident'] } },
      );
      const taskId = kase.taskId('supplement');
      const task = await kase.waitForTask('the requester task', taskId, () => true);
      const doc = await kase.waitForDoc('the announcement recorded', (d) =>
        d.timeline.some((e) => e.type.startsWith('notification.')),
      );
      return { kase, taskId, task, doc };
    }, activitiesWithSms(smsPath));
  }

  it('when the resident’s account is linked to a person with a phone only (no e-mail, no preference), then the task is announced to them by SMS once, and neither the number nor the name is on the timeline', async () => {
    // Arrange: a resident's account, and the person record it is linked to: a phone, no e-mail
    const org = await bed.seedOrg();
    const userId = await residentAccount('phone');
    const personId = `p-resident-${run}-${randomBytes(3).toString('hex')}`;
    await bed.db.models.Person.create({
      _id: personId,
      name: '居民王芳',
      phone: '13900139000',
      userId,
      updatedAt: new Date(),
    });

    // Act
    const smsPath = `/sms/requester-${run}-phone`;
    const { kase, task, doc } = await startAsResident(org, userId, smsPath);
    const texts = await waitFor('the SMS at the sink', async () => {
      const found = await textsAt(smsPath);
      return found.length > 0 ? found : null;
    });
    const rows = await bed.db.models.Outbox.find({ caseId: kase.caseId }).lean();

    // Assert: offered to their account, told by SMS on their phone, one row for the key
    expect(task.candidates).toEqual([{ personId, userId, unitId: org.grid.id }]);
    expect(texts).toHaveLength(1);
    expect(texts[0]!.body).toMatchObject({
      phone: '13900139000',
      templateId: 'SMS_TASK',
      params: { processName: '申请补正', taskName: '申请人补正材料' },
    });
    expect(rows.map((r) => [r.template, (r as { channel?: string }).channel])).toEqual([
      ['task-assigned', 'sms'],
    ]);
    expect(eventsOf(doc.timeline, 'notification.sent').map((e) => e.detail)).toEqual([
      { template: 'task-assigned', status: 'queued' },
    ]);
    expect(eventsOf(doc.timeline, 'notification.failed')).toEqual([]);
    expect(JSON.stringify(doc.timeline)).not.toMatch(/13900139000|居民王芳/);
  });

  /** The requester task with a deadline whose reminder and escalation go to its holder. */
  function remindedDefinition() {
    return bed.definition({
      key: `requester-reminded-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
      name: '申请补正',
      starters: ['resident'],
      input: { fields: [] },
      steps: [
        {
          id: 'supplement',
          name: '申请人补正材料',
          type: 'task',
          candidates: [{ requester: true, otherwise: { role: 'director', unit: 'community' } }],
          deadlines: [
            {
              id: 'supply',
              name: '补正时限',
              within: 'PT2H',
              reminders: [{ before: 'PT1H' }],
              escalations: [{ notify: 'assignee' }],
            },
          ],
        },
        { id: 'done', name: '办结', type: 'end' },
      ],
    });
  }

  it('when the resident holding their task (a phone, no e-mail) lets its deadline come near and pass, then the reminder and the escalation reach them by SMS once each, as the announcement did', async () => {
    // Arrange: a resident's account linked to a person with a phone only; the case started by it
    const org = await bed.seedOrg();
    const userId = await residentAccount('reminded');
    const personId = `p-resident-${run}-${randomBytes(3).toString('hex')}`;
    await bed.db.models.Person.create({
      _id: personId,
      name: '居民李娜',
      phone: '13900139001',
      userId,
      updatedAt: new Date(),
    });
    const resident: SeededPerson = { personId, userId, name: '居民李娜', email: '' };
    const smsPath = `/sms/requester-${run}-reminded`;
    const definition = remindedDefinition();

    // Act: the resident claims the task; the reminder comes due, then the deadline passes
    const { caseId, doc } = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(
        queue,
        definition,
        org.grid.id,
        {},
        { startedBy: { kind: 'user', id: userId, roles: ['resident'] } },
      );
      const startedAt = await bed.now();
      const taskId = kase.taskId('supplement');
      await kase.waitForTask('the requester task', taskId, () => true);
      await kase.claim(taskId, resident);
      await bed.skipTo(startedAt + 60 * 60_000 + 60_000);
      await kase.waitForEvents('deadline.reminded', 1);
      await bed.skipTo(startedAt + 2 * 60 * 60_000 + 60_000);
      await kase.waitForEvents('deadline.escalated', 1);
      const escalated = await kase.waitForDoc('the escalation queued', (d) =>
        eventsOf(d.timeline, 'notification.sent').some(
          (e) => e.detail?.template === 'task-escalated',
        ),
      );
      return { caseId: kase.caseId, doc: escalated };
    }, activitiesWithSms(smsPath));
    const texts = await waitFor('three texts at the sink', async () => {
      const found = await textsAt(smsPath);
      return found.length >= 3 ? found : null;
    });

    // Assert: announced, reminded and escalated to their phone, each once; nothing unaddressed
    const sent = texts.map((t) => t.body as { phone: string; templateId: string });
    expect(sent.map((t) => t.templateId).sort()).toEqual([
      'SMS_TASK',
      'task-escalated',
      'task-reminder',
    ]);
    expect(sent.every((t) => t.phone === '13900139001')).toBe(true);
    expect(eventsOf(doc.timeline, 'notification.failed')).toEqual([]);
    const rows = await bed.db.models.Outbox.find({ caseId }).lean();
    expect(
      rows.map((r) => [r.template, (r as { channel?: string }).channel ?? 'mail']).sort(),
    ).toEqual([
      ['task-assigned', 'sms'],
      ['task-escalated', 'sms'],
      ['task-reminder', 'sms'],
    ]);
    expect(JSON.stringify(doc.timeline)).not.toMatch(/13900139001|居民李娜/);
  });

  it('when the resident’s account has no person record (no contact anywhere), then the timeline says the announcement found no address and the task is in their own list', async () => {
    // Arrange: a resident's account and nothing else
    const org = await bed.seedOrg();
    const userId = await residentAccount('bare');

    // Act
    const smsPath = `/sms/requester-${run}-bare`;
    const { taskId, task, doc } = await startAsResident(org, userId, smsPath);
    const listed = await bed
      .tasks()
      .listTasks(
        { kind: 'user', id: userId, roles: ['resident'], unitIds: [] },
        { page: 1, pageSize: 20, view: 'available' },
      );

    // Assert: offered to the account, nobody to text or mail, said on the timeline, listed
    expect(task.candidates).toEqual([{ personId: `user:${userId}`, userId, unitId: org.grid.id }]);
    expect(eventsOf(doc.timeline, 'notification.failed').map((e) => e.detail)).toEqual([
      { template: 'task-assigned', reason: 'no-address' },
    ]);
    expect(eventsOf(doc.timeline, 'task.requester-unreachable')).toEqual([]);
    expect(await textsAt(smsPath)).toEqual([]);
    expect(listed.items.map((t) => t.id)).toEqual([taskId]);
  });
});

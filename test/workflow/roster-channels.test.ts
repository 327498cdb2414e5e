import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import type { OutboxDispatcher } from '../../activities/outbox';
import { createOutboxDispatcher } from '../../activities/outbox';
import type { RollCallMailRequest } from '../../activities/roll-calls';
import { createChannelSender } from '../../channels/sender';
import { createHttpSmsProvider } from '../../channels/sms';
import { createLogger } from '../../common/logger';
import { createMailRenderer } from '../../mail/renderer';
import { createSmtpTransport } from '../../mail/transport';
import type { SunkWebhook } from '../../stack/webhook-sink';
import { mailsTo, waitFor, watchOutbox } from '../support/harness';
import type { SeededPerson, SlaTestBed } from '../support/sla-cases';
import { deadlineOf, eventsOf, useSlaTestBed } from '../support/sla-cases';
import { testStack, webhookSinkUrl } from '../support/test-stack';

/**
 * A roster roll-call's mails on every channel (issue 17): the interpreter on the time-skipping
 * server opens a roll-call whose people are called from the roster, each on their own preferred
 * channel (a text, their WeCom robot, mail; a refused robot falling back to mail), its reminder
 * names `channels: [mail]` and its escalation `channels: [sms]`, each with `groupRobot: true`, as
 * a definition may. The outbox
 * dispatcher posts to the local webhook sink, which is told to fail; a retried mail activity
 * sends nothing twice. Real activities, FerretDB, the SMTP and webhook sinks.
 */
let bed: SlaTestBed;
const run = randomBytes(4).toString('hex');
const MINUTE = 60_000;
const SMS_PATH = `/sms/roster-${run}`;
/** A phone number of this run's own (the sink is shared by the suite's files). */
function phoneNumber(prefix: string): string {
  return `${prefix}${String(randomBytes(4).readUInt32BE() % 100_000_000).padStart(8, '0')}`;
}
/** The texted building head's number. */
const PHONE = phoneNumber('139');
/** The grid leader's number: the escalation names `channels: [sms]`. */
const LEADER_PHONE = phoneNumber('137');

jest.setTimeout(180_000);

useSlaTestBed('roster-channels', (ready) => {
  bed = ready;
  watchOutbox(bed.db);
});

const dispatchers: OutboxDispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
});

/** The real activities with an SMS provider at the sink and an outbox that retries in ms. */
function channelActivities() {
  const transport = createSmtpTransport(testStack().env.SMTP_URL);
  const channels = createChannelSender({
    sms: createHttpSmsProvider({ url: `${webhookSinkUrl()}${SMS_PATH}` }),
  });
  const logger = createLogger('test', 'silent');
  const outbox = createOutboxDispatcher({
    models: bed.db.models,
    transport,
    from: 'test <noreply@governance.local>',
    clock: () => new Date(),
    logger,
    channels,
    // Retries in milliseconds instead of seconds (the delays are configuration).
    options: { initialBackoffMs: 20, maxBackoffMs: 100, pollMs: 100, leaseMs: 60_000 },
  });
  outbox.start();
  dispatchers.push(outbox);
  return createActivities({
    models: bed.db.models,
    mail: {
      transport,
      renderer: createMailRenderer(),
      from: 'test <noreply@governance.local>',
      outbox,
    },
    channels,
    clock: () => new Date(),
    logger,
  });
}

async function sunk(path: string): Promise<SunkWebhook[]> {
  const response = await fetch(`${webhookSinkUrl()}/messages?path=${encodeURIComponent(path)}`);
  return (await response.json()) as SunkWebhook[];
}

async function failNext(rule: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${webhookSinkUrl()}/control/fail`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rule),
  });
  expect(response.status).toBe(200);
}

/** The sink's requests at `path` once `count` of them were accepted. */
function accepted(path: string, count = 1): Promise<SunkWebhook[]> {
  return waitFor(`${count} accepted at ${path}`, async () => {
    const found = await sunk(path);
    return found.filter((p) => p.outcome === 'accepted').length >= count ? found : null;
  });
}

/** The texts the sink got for a number (the texted person's by default). */
async function texts(phone = PHONE): Promise<SunkWebhook[]> {
  return (await sunk(SMS_PATH)).filter((p) => (p.body as { phone?: string }).phone === phone);
}

function mailsOnceThere(person: SeededPerson, count = 1) {
  return waitFor(`${count} mail(s) to ${person.personId}`, async () => {
    const found = await mailsTo(person.email);
    return found.length >= count ? found : null;
  });
}

interface Called {
  /** Prefers a text (短信), then mail. */
  texted: SeededPerson;
  /** Prefers their WeCom group robot. */
  robot: SeededPerson;
  robotPath: string;
  /** Prefers a WeCom robot that refuses the post: falls back to mail. */
  refused: SeededPerson;
  refusedPath: string;
  /** No preference: mail. */
  mailed: SeededPerson;
}

async function compoundWithPreferences() {
  const org = await bed.seedOrg();
  const compound = await bed.addUnit('compound', '和美小区', org.grid);
  const robotPath = `/wecom/roster-${run}-${randomBytes(3).toString('hex')}`;
  const refusedPath = `/wecom/roster-refused-${run}-${randomBytes(3).toString('hex')}`;
  const compoundRobot = `/dingtalk/roster-${run}-${randomBytes(3).toString('hex')}`;
  const gridRobot = `/wecom/roster-grid-${run}-${randomBytes(3).toString('hex')}`;
  const head = (label: string, name: string) =>
    bed.addPerson(label, name, [[compound, 'building-head']]);
  const called: Called = {
    texted: await head('texted', '孙楼长'),
    robot: await head('robot', '吴楼长'),
    robotPath,
    refused: await head('refused', '郑楼长'),
    refusedPath,
    mailed: await head('mailed', '冯楼长'),
  };
  const { Person, Unit } = bed.db.models;
  await Person.updateOne(
    { _id: called.texted.personId },
    { $set: { phone: PHONE, channels: ['sms', 'mail'] } },
  );
  await Person.updateOne(
    { _id: called.robot.personId },
    {
      $set: {
        channels: ['wecom', 'mail'],
        groupRobot: { channel: 'wecom', webhook: `${webhookSinkUrl()}${robotPath}` },
      },
    },
  );
  await Person.updateOne(
    { _id: called.refused.personId },
    {
      $set: {
        channels: ['wecom', 'mail'],
        groupRobot: { channel: 'wecom', webhook: `${webhookSinkUrl()}${refusedPath}` },
      },
    },
  );
  // The compound's own group (钉钉群): the reminder's `groupRobot: true` posts there.
  await Unit.updateOne(
    { _id: compound.id },
    {
      $set: { groupRobot: { channel: 'dingtalk', webhook: `${webhookSinkUrl()}${compoundRobot}` } },
    },
  );
  // The grid leader (网格长) the escalation reaches: mail preferred, texted by the definition; the
  // grid's own group gets the escalation's robot post.
  const leader = await bed.addPerson('grid-leader', '钱网格长', [[org.grid, 'grid-leader']]);
  await Person.updateOne(
    { _id: leader.personId },
    { $set: { phone: LEADER_PHONE, channels: ['mail'] } },
  );
  await Unit.updateOne(
    { _id: org.grid.id },
    { $set: { groupRobot: { channel: 'wecom', webhook: `${webhookSinkUrl()}${gridRobot}` } } },
  );
  return { org, compound, called, compoundRobot, leader, gridRobot };
}

/** A roll-call of the compound's building heads, reminded by mail and in the compound's group. */
function rollCallDefinition() {
  return bed.definition({
    key: `roster-channels-${randomBytes(3).toString('hex')}`,
    name: '楼长点名报到',
    starters: ['admin'],
    input: { fields: [] },
    steps: [
      {
        id: 'report',
        name: '到岗报到',
        type: 'claim',
        candidates: [{ role: 'building-head' }],
        claimants: { max: 'all' },
        within: 'PT2H',
        onUnclaimed: 'closed',
        deadlines: [
          {
            id: 'report_30m',
            name: '30分钟内报到',
            within: 'PT30M',
            reminders: [
              {
                before: 'PT10M',
                notify: 'unacknowledged',
                template: 'roll-call-reminder',
                // As a definition may name them: mail whatever people prefer, and one post to
                // the compound's group.
                channels: ['mail'],
                groupRobot: true,
              },
            ],
            escalations: [
              {
                notify: { role: 'grid-leader', unit: 'grid' },
                template: 'roll-call-escalated',
                // A text to the grid leader whatever they prefer, and one post in the grid's group.
                channels: ['sms'],
                groupRobot: true,
              },
            ],
          },
        ],
        next: 'closed',
      },
      { id: 'closed', name: '点名结束', type: 'end' },
    ],
  });
}

it('when a roll-call calls its roster, then each person is reached once on their own channel (text, robot, mail, a refused robot falling back to mail), and its reminder and escalation follow the definition’s channels and group robots', async () => {
  // Arrange: four building heads with their preferences; the sink fails the first text and the
  // first robot post (retried), and refuses the third person's robot for good (fallback)
  const { compound, called, compoundRobot, leader, gridRobot } = await compoundWithPreferences();
  await failNext({ path: SMS_PATH, count: 1, status: 503 });
  await failNext({ path: called.robotPath, count: 1, status: 502 });
  // (WeCom 93000: an errcode that is no rate limit: refused for good)
  await failNext({ path: called.refusedPath, count: 1, errcode: 93000 });
  const activities = channelActivities();
  const definition = rollCallDefinition();

  // Act: the roll-call opens and calls everyone; the texted person reports; the reminder fires
  // for the other three; the call's mail activity runs once more (a retry after a lost answer)
  const outcome = await bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, definition, compound.id);
    const taskId = kase.taskId('report');
    const task = await kase.waitForTask('the roll-call', taskId, (t) => t.status === 'open');
    await kase.waitForEvents('notification.sent', 1, { template: 'task-assigned' });
    await accepted(SMS_PATH);
    await accepted(called.robotPath);
    await mailsOnceThere(called.refused);
    await mailsOnceThere(called.mailed);
    await kase.acknowledge(taskId, called.texted);

    const due = Date.parse(deadlineOf(task.deadlines, `${taskId}/report_30m`).dueAt!);
    await bed.skipTo(due - 10 * MINUTE + MINUTE);
    await kase.waitForEvents('notification.sent', 1, { template: 'roll-call-reminder' });
    await accepted(compoundRobot);
    for (const person of [called.robot, called.refused]) {
      await mailsOnceThere(person, person === called.robot ? 1 : 2);
    }
    await mailsOnceThere(called.mailed, 2);
    const retried: RollCallMailRequest = {
      taskId,
      caseId: kase.caseId,
      template: 'task-assigned',
      keyBase: `${taskId}:assigned`,
      context: {
        caseId: kase.caseId,
        processName: '楼长点名报到',
        taskName: '到岗报到',
        deadlines: [],
      },
      roster: 'all',
      targets: [],
      figures: false,
      missingNames: false,
    };
    const again = await new MockActivityEnvironment().run(
      (r: RollCallMailRequest) => activities.mailRollCall(r),
      retried,
    );
    // At the deadline the two still silent are escalated to the grid leader
    await kase.acknowledge(taskId, called.robot);
    await bed.skipTo(due + MINUTE);
    await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
    await accepted(gridRobot);
    await waitFor('the grid leader’s text', async () => (await texts(LEADER_PHONE)).length > 0);
    for (const person of [called.refused, called.mailed]) {
      await kase.acknowledge(taskId, person);
    }
    await kase.handle.result();
    return { kase, again, doc: await kase.doc() };
  }, activities);
  const caseId = outcome.kase.caseId;

  // Assert: the call went out on each person's channel, once, retries included
  const called1 = await texts();
  expect(called1.map((t) => t.outcome)).toEqual(['failed', 'accepted']);
  // (a text carries short parameters: the case id cut to 20 characters, chosen in channels/)
  expect(called1[1]!.body).toMatchObject({
    templateId: 'task-assigned',
    params: { caseId: `${caseId.slice(0, 19)}…`, taskName: '到岗报到' },
  });
  const robotPosts = await sunk(called.robotPath);
  expect(robotPosts.map((p) => p.outcome)).toEqual(['failed', 'accepted']);
  expect((robotPosts[1]!.body as { markdown: { content: string } }).markdown.content).toContain(
    caseId,
  );
  expect(await mailsTo(called.texted.email)).toHaveLength(0);
  // …the refused robot once, then the person's mail (the fallback row of the same key)
  expect((await sunk(called.refusedPath)).map((p) => p.outcome)).toEqual(['failed']);
  const refusedKey = `${outcome.kase.taskId('report')}:assigned:${called.refused.personId}`;
  expect(await bed.db.models.Outbox.findById(refusedKey).lean()).toMatchObject({
    status: 'failed',
    channel: 'wecom',
  });
  expect(await bed.db.models.Outbox.findById(`${refusedKey}~mail`).lean()).toMatchObject({
    status: 'sent',
    to: called.refused.email,
  });
  // …the retried call activity found every message there and sent none again
  expect(outcome.again).toMatchObject({ sent: 4, noAddress: 0, failed: 0 });
  // …the reminder: by mail to the three still missing (the definition's channels), none to the
  // one who reported, and one post in the compound's group with the figures
  for (const person of [called.robot, called.refused, called.mailed]) {
    const mails = await mailsTo(person.email);
    expect(mails.filter((m) => m.subject.includes('紧急报到提醒'))).toHaveLength(1);
    // (the robot's person had no call mail: the call reached them on their robot)
    expect(mails).toHaveLength(person === called.robot ? 1 : 2);
  }
  const groupPosts = await sunk(compoundRobot);
  expect(groupPosts).toHaveLength(1);
  expect((groupPosts[0]!.body as { markdown: { text: string } }).markdown.text).toContain(caseId);
  // Nothing else went anywhere: one text, one robot post each, the timeline's counts
  await new Promise((r) => setTimeout(r, 500));
  expect(await texts()).toHaveLength(2);
  expect(await sunk(called.robotPath)).toHaveLength(2);
  expect(await sunk(compoundRobot)).toHaveLength(1);
  // …the escalation: a text to the grid leader (the definition's channels over their mail
  // preference) with the number missing, one post in the grid's group, no mail
  const leaderTexts = await texts(LEADER_PHONE);
  expect(leaderTexts).toHaveLength(1);
  expect(leaderTexts[0]!.body).toMatchObject({
    templateId: 'roll-call-escalated',
    params: { missing: '2' },
  });
  const gridPosts = await sunk(gridRobot);
  expect(gridPosts).toHaveLength(1);
  expect((gridPosts[0]!.body as { markdown: { content: string } }).markdown.content).toContain(
    '超时未报到督办',
  );
  expect(await mailsTo(leader.email)).toHaveLength(0);
  const sent = eventsOf(outcome.doc.timeline, 'notification.sent');
  expect(sent.map((e) => e.detail)).toEqual([
    expect.objectContaining({ template: 'task-assigned', count: 4 }),
    // three people and the compound's group
    expect.objectContaining({ template: 'roll-call-reminder', count: 4 }),
    // the grid leader and the grid's group
    expect.objectContaining({ template: 'roll-call-escalated', count: 2 }),
  ]);
});

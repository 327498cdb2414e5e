import { randomBytes } from 'node:crypto';
import { createActivities } from '../../activities';
import type { OutboxDispatcher } from '../../activities/outbox';
import { createOutboxDispatcher } from '../../activities/outbox';
import { dingtalkSignature } from '../../channels/robots';
import { createChannelSender } from '../../channels/sender';
import { createHttpSmsProvider } from '../../channels/sms';
import { createLogger } from '../../common/logger';
import { createMailRenderer } from '../../mail/renderer';
import type { MailTransport } from '../../mail/transport';
import { createSmtpTransport } from '../../mail/transport';
import type { Database } from '../../models';
import { connectDatabase } from '../../models';
import { createMailService } from '../../services/mail';
import type { SunkWebhook } from '../../stack/webhook-sink';
import { mailsTo, testConfig, uniqueAddress, waitFor } from '../support/harness';
import { testStack, webhookSinkUrl } from '../support/test-stack';

/**
 * The channels besides mail, end to end below the workflow: the enqueue activity and the outbox
 * dispatcher over FerretDB, posting to the local webhook sink (WeCom, DingTalk, the SMS adapter)
 * and mailing through the SMTP sink. The sink is told to fail; nothing of ours is faked.
 */
let db: Database;
let transport: MailTransport;
let outbox: OutboxDispatcher;
let activities: ReturnType<typeof createActivities>;
/** Added to the dispatcher's clock, to get past a robot's rate-limit pause without waiting. */
let skewMs = 0;
const clock = () => new Date(Date.now() + skewMs);
const run = randomBytes(4).toString('hex');
const logger = createLogger('test', 'silent');

beforeAll(async () => {
  db = await connectDatabase(testConfig('channels').MONGODB_URI);
  transport = createSmtpTransport(testStack().env.SMTP_URL);
  const channels = createChannelSender({
    sms: createHttpSmsProvider({
      url: `${webhookSinkUrl()}/sms/${run}`,
      authHeader: 'Authorization: Bearer test-key',
    }),
    smsTemplateIds: { 'case-update': 'SMS_100' },
  });
  outbox = createOutboxDispatcher({
    models: db.models,
    transport,
    from: 'test <noreply@governance.local>',
    clock,
    logger,
    channels,
    // Retries in milliseconds instead of minutes (the delays are configuration).
    options: { initialBackoffMs: 20, maxBackoffMs: 100, pollMs: 100, leaseMs: 60_000 },
  });
  activities = createActivities({
    models: db.models,
    mail: {
      transport,
      renderer: createMailRenderer(),
      from: 'test <noreply@governance.local>',
      outbox,
    },
    channels,
    clock,
    logger,
  });
});

afterAll(async () => {
  await outbox?.stop();
  transport?.close();
  await db?.close();
});

afterEach(() => {
  skewMs = 0;
});

function tag(label: string): string {
  return `${label}-${run}-${randomBytes(3).toString('hex')}`;
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

async function person(fields: Record<string, unknown>): Promise<string> {
  const id = tag('person');
  await db.models.Person.create({ _id: id, name: '王芳', updatedAt: new Date(), ...fields });
  return id;
}

function update(caseId: string, to: { personId: string } | { unitId: string }, key = 'tell') {
  return {
    businessKey: `${caseId}:${key}:1`,
    caseId,
    template: 'case-update',
    to,
    context: { caseId, processName: '物业报修', stepName: '派单' },
  };
}

async function settled(id: string, status: 'sent' | 'failed') {
  return waitFor(`outbox row ${id} ${status}`, async () => {
    await outbox.drain();
    const row = await db.models.Outbox.findById(id).lean();
    return row?.status === status ? row : null;
  });
}

it('posts once per business key to a person’s preferred robot, however often the enqueue runs', async () => {
  const robot = `/wecom/${tag('robot')}`;
  const personId = await person({
    email: uniqueAddress('wecom'),
    channels: ['wecom', 'mail'],
    groupRobot: { channel: 'wecom', webhook: `${webhookSinkUrl()}${robot}` },
  });
  const caseId = tag('case');
  const request = update(caseId, { personId });
  // An activity retried by Temporal runs again with the same input.
  const first = await activities.sendNotification(request);
  const again = await activities.sendNotification(request);
  expect(again.messageId).toBe(first.messageId);
  const row = await settled(request.businessKey, 'sent');
  expect(row.channel).toBe('wecom');
  // The outbox names the robot's owner, never its webhook.
  expect(row.to).toBe(`person:${personId}`);
  expect(await activities.sendNotification(request)).toMatchObject({ status: 'already-sent' });
  await outbox.drain();

  const posts = await sunk(robot);
  expect(posts).toHaveLength(1);
  const body = posts[0]!.body as { msgtype: string; markdown: { content: string } };
  expect(body.msgtype).toBe('markdown');
  expect(body.markdown.content).toContain(`（编号 ${caseId}）已进入“派单”环节`);
  // Delivered on the first channel: no mail.
  expect(await db.models.Outbox.findById(`${request.businessKey}~mail`).lean()).toBeNull();
});

it('retries a robot’s server error at once and its rate-limit errcode after the vendor’s pause', async () => {
  const robot = `/wecom/${tag('busy')}`;
  const unitId = tag('unit');
  await db.models.Unit.create({
    _id: unitId,
    name: '滨湖社区',
    type: 'community',
    parentId: null,
    groupRobot: { channel: 'wecom', webhook: `${webhookSinkUrl()}${robot}` },
    updatedAt: new Date(),
  });
  await failNext({ path: robot, count: 1, status: 503 });
  await failNext({ path: robot, count: 1, errcode: 45009 });
  const request = update(tag('case'), { unitId });
  await activities.sendNotification(request);

  const paused = await waitFor('the rate-limit answer', async () => {
    await outbox.drain();
    const row = await db.models.Outbox.findById(request.businessKey).lean();
    return row?.lastError?.includes('45009') ? row : null;
  });
  expect(paused.status).toBe('pending');
  expect(paused.attempts).toBe(2);
  // WeCom counts a sliding minute: the retry waits at least 65 s, not the 100 ms back-off.
  expect(paused.nextAttemptAt!.getTime() - Date.now()).toBeGreaterThan(60_000);
  await outbox.drain();
  expect((await db.models.Outbox.findById(request.businessKey).lean())?.status).toBe('pending');

  skewMs = 70_000;
  const sent = await settled(request.businessKey, 'sent');
  expect(sent.attempts).toBe(3);
  const posts = await sunk(robot);
  expect(posts.map((p) => p.outcome)).toEqual(['failed', 'failed', 'accepted']);
  // A group post: the unit's robot, the unit as the recipient, one post.
  expect(posts.filter((p) => p.outcome === 'accepted')).toHaveLength(1);
});

it('ends an SMS the provider refuses as failed, then mails the person instead', async () => {
  const email = uniqueAddress('sms-fallback');
  const personId = await person({ email, phone: '13800138000', channels: ['sms', 'mail'] });
  const request = update(tag('case'), { personId });
  await failNext({ path: `/sms/${run}`, count: 1, refuse: true });
  await activities.sendNotification(request);

  const failed = await settled(request.businessKey, 'failed');
  expect(failed.channel).toBe('sms');
  expect(failed.lastError).toBe('refused on purpose');
  const fallback = await settled(`${request.businessKey}~mail`, 'sent');
  expect(fallback.to).toBe(email);
  expect(fallback.notificationKey).toBe(request.businessKey);
  expect(await mailsTo(email)).toHaveLength(1);

  const texts = (await sunk(`/sms/${run}`)).filter(
    (p) => (p.body as { params?: { caseId?: string } }).params?.caseId === request.caseId,
  );
  expect(texts).toHaveLength(1);
  expect(texts[0]!.body).toEqual({
    phone: '13800138000',
    templateId: 'SMS_100',
    params: { caseId: request.caseId, processName: '物业报修', stepName: '派单' },
    messageId: failed.messageId,
  });

  // Admins see it among the failed, with its channel and the number masked.
  const failedList = await createMailService({
    models: db.models,
    clock,
    expiryMs: 3_600_000,
  }).listFailed();
  const listed = failedList.find((m) => m.id === request.businessKey);
  expect(listed).toMatchObject({ channel: 'sms', to: '138****8000' });
});

it('follows each person’s preference (a signed DingTalk robot), unless the definition names the channels', async () => {
  const email = uniqueAddress('dingtalk');
  const robot = `/dingtalk/${tag('signed')}`;
  const secret = 'SECtest-0123456789';
  const personId = await person({
    email,
    channels: ['dingtalk'],
    groupRobot: { channel: 'dingtalk', webhook: `${webhookSinkUrl()}${robot}`, secret },
  });
  const caseId = tag('case');
  const preferred = update(caseId, { personId }, 'first');
  await activities.sendNotification(preferred);
  await settled(preferred.businessKey, 'sent');
  const [post] = await sunk(robot);
  expect(post?.body).toMatchObject({ msgtype: 'markdown', markdown: { title: '物业报修：派单' } });
  // The sink keeps the query decoded; the signature was sent URL-encoded.
  expect(post?.sign).toBe(decodeURIComponent(dingtalkSignature(secret, Number(post?.timestamp))));
  expect(Math.abs(Number(post?.timestamp) - Date.now())).toBeLessThan(60_000);
  expect(await mailsTo(email)).toHaveLength(0);

  // `channels: [mail]` in the definition: mail, whatever the person prefers.
  const byDefinition = { ...update(caseId, { personId }, 'second'), channels: ['mail' as const] };
  await activities.sendNotification(byDefinition);
  await settled(byDefinition.businessKey, 'sent');
  expect(await mailsTo(email)).toHaveLength(1);
  expect(await sunk(robot)).toHaveLength(1);
});

it('says no-address for a person with no address on any channel they could get', async () => {
  const personId = await person({ channels: ['wecom', 'sms'] });
  const result = await activities.sendNotification(update(tag('case'), { personId }));
  expect(result).toEqual({ status: 'no-address', messageId: null });
});

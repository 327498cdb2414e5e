import type { ConsoleClient } from '../support/console-client';
import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import type { SunkWebhook } from '../../stack/webhook-sink';
import { startTestApp } from '../support/harness';
import { webhookSinkUrl } from '../support/test-stack';

/**
 * Group robots (群机器人) on the console's admin unit page: an admin sees the unit's WeCom or
 * DingTalk robot with its key masked, sets or replaces it, and removes it; bad input is named as
 * the API names it; nobody but an admin sees or changes it. An admin sends a test message to the
 * robot (the local webhook sink here) and reads what the vendor answered, delivered or not.
 */
let app: TestApp;
let admin: ConsoleClient;
let dispatcher: ConsoleClient;

const UNIT = '/console/admin/org/units/cr-c1';
const WECOM =
  'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa';
const DINGTALK =
  'https://oapi.dingtalk.com/robot/send?access_token=5c0cb8b7b1d1e1f0a9c8d7e6f5a4b3c2d1e0f9a8b7c6';

beforeAll(async () => {
  app = await startTestApp('console-robots', { worker: false });
  admin = consoleClient(app.api.url);
  admin.useSession(await app.signIn('cr-admin', ['admin']));
  dispatcher = consoleClient(app.api.url);
  dispatcher.useSession(await app.signIn('cr-dispatcher', ['dispatcher'], ['cr-county']));
  const res = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'cr-county', name: '城固县', type: 'county', parentId: null },
        { id: 'cr-c1', name: '博望社区', type: 'community', parentId: 'cr-county' },
      ],
    },
  });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  await app?.stop();
});

async function storedRobot() {
  return (await app.db.models.Unit.findById('cr-c1', { groupRobot: 1 }).lean())?.groupRobot;
}

it('when an admin adds a WeCom robot, replaces it by a signed DingTalk one and removes it, then the page shows each masked and the unit keeps it', async () => {
  // Arrange
  const before = await admin.get(UNIT);

  // Act: add
  const added = await admin.post(`${UNIT}/robot`, { channel: 'wecom', webhook: WECOM, secret: '' });
  const shown = await admin.get(added.location!);
  const afterAdd = await storedRobot();

  // Act: replace with a signed DingTalk robot
  const replaced = await admin.post(`${UNIT}/robot`, {
    channel: 'dingtalk',
    webhook: DINGTALK,
    secret: 'SECtest-robot-secret',
  });
  const shownSigned = await admin.get(replaced.location!);
  const afterReplace = await storedRobot();

  // Act: remove
  const removed = await admin.post(`${UNIT}/robot/remove`, {});
  const shownNone = await admin.get(removed.location!);

  // Assert: none at first
  expect(before.status).toBe(200);
  expect(before.html).toContain('data-robot-none');
  // …the WeCom robot saved, shown masked (never its key), the unit otherwise unchanged
  expect(added.status).toBe(303);
  expect(afterAdd).toMatchObject({ channel: 'wecom', webhook: WECOM });
  expect(shown.html).toContain('data-robot="wecom"');
  expect(shown.html).not.toContain('693a91f6-7xxx');
  const text = textOf(shown.html);
  expect(text).toContain('群机器人已保存');
  expect(text).toContain('企业微信群机器人');
  expect(text).toContain('https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a****');
  const unit = await app.db.models.Unit.findById('cr-c1').lean();
  expect(unit).toMatchObject({ name: '博望社区', type: 'community', parentId: 'cr-county' });
  // …replaced by the DingTalk one, its secret stored and never shown
  expect(afterReplace).toMatchObject({
    channel: 'dingtalk',
    webhook: DINGTALK,
    secret: 'SECtest-robot-secret',
  });
  expect(shownSigned.html).toContain('data-robot="dingtalk"');
  expect(shownSigned.html).not.toContain('SECtest-robot-secret');
  expect(shownSigned.html).not.toContain('5c0cb8b7b1d1');
  expect(textOf(shownSigned.html)).toContain('已设置加签密钥');
  // …and removed
  expect(removed.status).toBe(303);
  expect(textOf(shownNone.html)).toContain('群机器人已移除');
  expect(shownNone.html).toContain('data-robot-none');
  expect(await storedRobot()).toBeUndefined();
});

it('when the form names no robot kind, a plain-http webhook or a secret for WeCom, then each problem is named and nothing is stored', async () => {
  // Act
  await admin.get(UNIT);
  const badKind = await admin.post(`${UNIT}/robot`, { channel: 'wechat', webhook: WECOM });
  await admin.get(UNIT);
  const plainHttp = await admin.post(`${UNIT}/robot`, {
    channel: 'wecom',
    webhook: 'http://example.com/cgi-bin/webhook/send?key=abc',
  });
  await admin.get(UNIT);
  const secretForWecom = await admin.post(`${UNIT}/robot`, {
    channel: 'wecom',
    webhook: WECOM,
    secret: 'SECnot-for-wecom',
  });

  // Assert: the API's own messages, with the field's path
  expect(badKind.status).toBe(422);
  expect(textOf(badKind.html)).toContain('form.channel : "wechat" is not a robot channel');
  expect(plainHttp.status).toBe(422);
  expect(textOf(plainHttp.html)).toContain(
    'form.webhook : a robot webhook must be https (http only on this machine)',
  );
  expect(secretForWecom.status).toBe(422);
  expect(textOf(secretForWecom.html)).toContain(
    'form.secret : a signing secret is for DingTalk robots only',
  );
  expect(await storedRobot()).toBeUndefined();
});

it('when a dispatcher opens the unit page or posts a robot, then both are refused', async () => {
  // Act
  const page = await dispatcher.get(UNIT);
  await dispatcher.get('/console/inbox');
  const posted = await dispatcher.post(`${UNIT}/robot`, { channel: 'wecom', webhook: WECOM });

  // Assert
  expect(page.status).toBe(403);
  expect(posted.status).toBe(403);
  expect(await storedRobot()).toBeUndefined();
});

describe('the robot test message', () => {
  /** A WeCom robot on the local webhook sink, under a path of this run's own. */
  const robotPath = `/wecom/cr-test-${Date.now()}`;
  const sunk = async (): Promise<SunkWebhook[]> => {
    const res = await fetch(`${webhookSinkUrl()}/messages?path=${encodeURIComponent(robotPath)}`);
    return (await res.json()) as SunkWebhook[];
  };
  const outboxCount = () => app.db.models.Outbox.countDocuments({});
  const testViaApi = () =>
    app.http<{ delivered: boolean; outcome: string; answer: string }>(
      'POST',
      '/api/v1/org/units/cr-c1/robot/test',
      { token: app.adminKey },
    );

  beforeAll(async () => {
    await admin.get(UNIT);
    const saved = await admin.post(`${UNIT}/robot`, {
      channel: 'wecom',
      webhook: `${webhookSinkUrl()}${robotPath}`,
      secret: '',
    });
    expect(saved.status).toBe(303);
  });

  it('when an admin sends a test message from the unit page, then the robot receives it marked as a test, the page shows the vendor’s answer, and no outbox notification is written', async () => {
    // Arrange
    const outboxBefore = await outboxCount();
    await admin.get(UNIT);

    // Act
    const page = await admin.post(`${UNIT}/robot/test`, {});

    // Assert
    expect(page.status).toBe(200);
    expect(page.html).toContain('data-robot-test="delivered"');
    expect(textOf(page.html)).toContain('测试消息已送达，平台答复： errcode 0');
    const received = await sunk();
    expect(received).toHaveLength(1);
    expect(received[0]!.body).toMatchObject({
      msgtype: 'text',
      text: { content: expect.stringContaining('【测试消息】') as string },
    });
    expect(await outboxCount()).toBe(outboxBefore);
  });

  it('when the robot refuses the test message, then the API answers not delivered with the vendor’s errcode and message', async () => {
    // Arrange: the sink answers the next post as a vendor refusing it
    const rule = await fetch(`${webhookSinkUrl()}/control/fail`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: robotPath, count: 1, errcode: 93000 }),
    });
    expect(rule.status).toBeLessThan(300);

    // Act
    const res = await testViaApi();

    // Assert
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      delivered: false,
      outcome: 'refused',
      answer: 'errcode 93000 failing on purpose',
    });
    expect(JSON.stringify(res.body)).not.toContain(robotPath);
  });

  it('when a dispatcher asks for a test message, or a unit has none, then it is refused and nothing is sent', async () => {
    // Arrange
    const before = (await sunk()).length;
    const dispatcherToken = await app.signIn('cr-dispatcher-2', ['dispatcher'], ['cr-county']);

    // Act
    const viaApi = await app.http('POST', '/api/v1/org/units/cr-c1/robot/test', {
      token: dispatcherToken,
    });
    await dispatcher.get('/console/inbox');
    const viaConsole = await dispatcher.post(`${UNIT}/robot/test`, {});
    const noRobot = await app.http<{ error: { message: string } }>(
      'POST',
      '/api/v1/org/units/cr-county/robot/test',
      { token: app.adminKey },
    );

    // Assert
    expect(viaApi.status).toBe(403);
    expect(viaConsole.status).toBe(403);
    expect(noRobot.status).toBe(404);
    expect(noRobot.body.error.message).toBe('Unit "cr-county" has no group robot');
    expect(await sunk()).toHaveLength(before);
  });

  it('when an admin sends more than 5 test messages in a minute, then the next is refused with 429 and not sent', async () => {
    // Act: the API key has spent 2 of its 5 in the tests above (the refused and the 404 count too)
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await testViaApi()).status);
    const before = (await sunk()).length;
    const refused = await testViaApi();

    // Assert
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await sunk()).toHaveLength(before);
  });
});

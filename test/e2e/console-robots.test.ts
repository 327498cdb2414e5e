import type { ConsoleClient } from '../support/console-client';
import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/**
 * Group robots (群机器人) on the console's admin unit page: an admin sees the unit's WeCom or
 * DingTalk robot with its key masked, sets or replaces it, and removes it; bad input is named as
 * the API names it; nobody but an admin sees or changes it.
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

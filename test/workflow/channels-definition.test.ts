import { randomBytes } from 'node:crypto';
import { createActivities } from '../../activities';
import { createChannelSender } from '../../channels/sender';
import { createLogger } from '../../common/logger';
import { createMailRenderer } from '../../mail/renderer';
import { createSmtpTransport } from '../../mail/transport';
import type { SunkWebhook } from '../../stack/webhook-sink';
import { mailsTo, waitFor } from '../support/harness';
import type { SlaTestBed } from '../support/sla-cases';
import { eventsOf, useSlaTestBed } from '../support/sla-cases';
import { testStack, webhookSinkUrl } from '../support/test-stack';

/**
 * A definition choosing channels, run by the interpreter on the time-skipping server: the notify
 * step's `channels` skips a channel the person has no address for, and `groupRobot: true` posts
 * once to the robot of the unit its recipients were found in.
 */
let bed: SlaTestBed;

useSlaTestBed('channels-definition', (ready) => {
  bed = ready;
});

it('when a notify step names channels and groupRobot, then the person gets the first channel they have and the unit’s robot one post', async () => {
  // Arrange: the community has a WeCom robot at the sink; its secretary has no DingTalk robot
  const org = await bed.seedOrg();
  const robot = `/wecom/${org.community.id}-${randomBytes(3).toString('hex')}`;
  await bed.db.models.Unit.updateOne(
    { _id: org.community.id },
    { $set: { groupRobot: { channel: 'wecom', webhook: `${webhookSinkUrl()}${robot}` } } },
  );
  const definition = bed.definition({
    key: `channels-${randomBytes(3).toString('hex')}`,
    name: '渠道通知',
    starters: ['resident'],
    input: { fields: [{ name: 'description', label: '内容', type: 'text' }] },
    steps: [
      {
        id: 'tell',
        name: '告知社区',
        type: 'notify',
        template: 'case-update',
        to: { role: 'secretary', unit: 'community' },
        channels: ['dingtalk', 'mail'],
        groupRobot: true,
      },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  });
  const activities = createActivities({
    models: bed.db.models,
    mail: {
      transport: createSmtpTransport(testStack().env.SMTP_URL),
      renderer: createMailRenderer(),
      from: 'test <noreply@governance.local>',
    },
    channels: createChannelSender({}),
    clock: () => new Date(),
    logger: createLogger('test', 'silent'),
  });

  // Act
  const kase = await bed.withWorker(async (queue) => {
    const started = await bed.startCase(queue, definition, org.grid.id, {
      description: '楼道灯坏了，电话 13800138000',
    });
    await started.handle.result();
    return started;
  }, activities);

  // Assert: one post, one mail, both on the timeline
  const posts = await waitFor('the robot post', async () => {
    const response = await fetch(`${webhookSinkUrl()}/messages?path=${encodeURIComponent(robot)}`);
    const found = (await response.json()) as SunkWebhook[];
    return found.length > 0 ? found : null;
  });
  expect(posts).toHaveLength(1);
  const body = posts[0]!.body as { markdown: { content: string } };
  expect(body.markdown.content).toContain(kase.caseId);
  // A group post: no names, no resident data.
  expect(body.markdown.content).not.toContain('陈书记');
  expect(body.markdown.content).not.toContain('13800138000');
  expect(await mailsTo(org.communitySecretary.email)).toHaveLength(1);
  const stored = await bed.db.models.Case.findById(kase.caseId).lean();
  expect(eventsOf(stored!.timeline as never, 'notification.sent')).toHaveLength(2);
});

import { AppError } from '../../services/errors';
import { groupRobotInput } from '../../services/org-input';
import { ROBOT_CHANNELS } from '../../lang/vocabulary';
import type { Translate } from '../i18n';
import type { ConsoleKit } from '../kit';
import { field } from '../pipeline';
import { unitIdOf, unitPath } from '../admin-org-paths';

/**
 * A unit's group robot (企业微信群机器人 or 钉钉群机器人) on the admin unit page: shown with its
 * webhook's key masked (the key and a DingTalk secret are write-only, as in the API), set or
 * replaced, and removed. The form is checked by the API's own schema (`groupRobotInput`) and saved
 * through the org service's `saveUnit`, as `POST /api/v1/org/units` with `groupRobot` does.
 * Notifications with `groupRobot: true` post to it (docs/definition-language.md 8.7).
 */

/** The robot part of a unit page's model. */
export async function unitRobot(kit: ConsoleKit, unitId: string, t: Translate) {
  const robot = await kit.services.org.unitRobot(unitId);
  return {
    robot: robot
      ? {
          channel: robotChannelLabel(t, robot.channel),
          channelKey: robot.channel,
          webhook: robot.webhook,
          signed: robot.signed,
        }
      : null,
    robotChannels: ROBOT_CHANNELS.map((channel) => ({
      value: channel,
      label: robotChannelLabel(t, channel),
      selected: robot?.channel === channel,
    })),
    robotAction: `${unitPath(unitId)}/robot`,
    robotRemoveAction: `${unitPath(unitId)}/robot/remove`,
  };
}

export function registerRobotPages({ pages, services }: ConsoleKit): void {
  const org = services.org;

  pages.add({
    method: 'post',
    path: '/admin/org/units/:id/robot',
    access: ['admin'],
    handle: async (ctx) => {
      const unitId = unitIdOf(ctx);
      const secret = field(ctx.form, 'secret').trim();
      const parsed = groupRobotInput.safeParse({
        channel: field(ctx.form, 'channel'),
        webhook: field(ctx.form, 'webhook').trim(),
        ...(secret !== '' ? { secret } : {}),
      });
      if (!parsed.success) {
        throw new AppError(
          'unprocessable',
          ctx.t('admin.robot.invalid'),
          parsed.error.issues.map((issue) => ({
            path: `form.${issue.path.join('.')}`,
            message: issue.message,
          })),
        );
      }
      await saveRobot(unitId, parsed.data);
      return { redirect: `${unitPath(unitId)}?done=robot-saved` };
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/org/units/:id/robot/remove',
    access: ['admin'],
    handle: async (ctx) => {
      const unitId = unitIdOf(ctx);
      await saveRobot(unitId, null);
      return { redirect: `${unitPath(unitId)}?done=robot-removed` };
    },
  });

  /** The unit saved as it is, with this robot (null: none), as the API's unit write does. */
  async function saveRobot(
    unitId: string,
    groupRobot: Parameters<typeof org.saveUnit>[0]['groupRobot'],
  ): Promise<void> {
    const unit = await org.unitOutline(unitId);
    await org.saveUnit({
      id: unit.id,
      name: unit.name,
      type: unit.type,
      parentId: unit.parentId,
      groupRobot,
    });
  }
}

function robotChannelLabel(t: Translate, channel: string): string {
  return (ROBOT_CHANNELS as readonly string[]).includes(channel)
    ? t(`admin.robot.channel.${channel}`)
    : channel;
}

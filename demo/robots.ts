import type { Models } from '../models';
import { bumpOrgRevision } from '../models/org-revision';

/**
 * `npm start` points the demo county's streets and communities at the local webhook sink
 * (stack/webhook-sink.ts): communities get a WeCom robot, streets a signed DingTalk one, so a
 * definition with `groupRobot: true` shows its posts in the sink at once. A unit whose robot an
 * admin set to anything but a local sink is left as it is.
 */
export const DEMO_DINGTALK_SECRET = 'SECdemo-local-only'; // not a secret: the sink checks nothing

export async function wireDemoRobots(models: Models, sinkUrl: string): Promise<number> {
  const local = /^http:\/\/127\.0\.0\.1:\d+\//;
  let wired = 0;
  for (const [type, channel] of [
    ['community', 'wecom'],
    ['street', 'dingtalk'],
  ] as const) {
    // One equality filter (FerretDB v1 hands it to its store); the demo's units start `demo-`.
    const units = await models.Unit.find({ type }, { _id: 1, groupRobot: 1 }).lean();
    for (const unit of units) {
      if (!unit._id.startsWith('demo-')) continue;
      if (unit.groupRobot?.webhook && !local.test(unit.groupRobot.webhook)) continue;
      const webhook = `${sinkUrl}/${channel}/${unit._id}`;
      if (unit.groupRobot?.webhook === webhook) continue;
      await models.Unit.updateOne(
        { _id: unit._id },
        {
          $set: {
            groupRobot: {
              channel,
              webhook,
              ...(channel === 'dingtalk' ? { secret: DEMO_DINGTALK_SECRET } : {}),
            },
          },
        },
      );
      wired++;
    }
  }
  if (wired > 0) await bumpOrgRevision(models);
  return wired;
}

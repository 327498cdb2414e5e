import { planChannels } from '../../activities/channels';
import { createRobotLimiter } from '../../channels/limiter';
import { createShortMessageRenderer } from '../../channels/renderer';
import {
  dingtalkSignature,
  maskWebhook,
  robotOutcome,
  robotPayload,
  robotUrl,
} from '../../channels/robots';
import { parseHeader } from '../../channels/sms';
import { personInput, unitInput } from '../../services/org-input';
import { notifyStepSchema } from '../../lang/definition';

describe('group robot payloads', () => {
  const message = {
    title: '新任务待办',
    body: '### 新任务\n**事项** A-1',
    format: 'markdown',
  } as const;

  it('builds WeCom markdown and text as its robot documentation shows them', () => {
    expect(robotPayload('wecom', message)).toEqual({
      msgtype: 'markdown',
      markdown: { content: '### 新任务\n**事项** A-1' },
    });
    expect(robotPayload('wecom', { ...message, format: 'text' })).toEqual({
      msgtype: 'text',
      text: { content: '### 新任务\n**事项** A-1' },
    });
  });

  it('builds DingTalk markdown with its title, and text', () => {
    expect(robotPayload('dingtalk', message)).toEqual({
      msgtype: 'markdown',
      markdown: { title: '新任务待办', text: '### 新任务\n**事项** A-1' },
    });
    expect(robotPayload('dingtalk', { ...message, format: 'text' })).toEqual({
      msgtype: 'text',
      text: { content: '### 新任务\n**事项** A-1' },
    });
  });

  it('cuts a long body under the vendors’ size limits', () => {
    const payload = robotPayload('wecom', { ...message, body: '长'.repeat(5000) }) as {
      markdown: { content: string };
    };
    expect(payload.markdown.content.length).toBe(600);
    expect(payload.markdown.content.endsWith('…')).toBe(true);
  });
});

describe('DingTalk signing', () => {
  // The vector was computed with Python's hmac/base64/urllib.parse.quote_plus, as DingTalk's
  // documentation does it: HMAC-SHA256 over "<timestamp>\n<secret>", base64, URL-encoded.
  const secret = 'SEC0123456789abcdef';
  const timestamp = 1700000000000;
  const expected = 'TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D';

  it('signs a known vector', () => {
    expect(dingtalkSignature(secret, timestamp)).toBe(expected);
  });

  it('appends timestamp and sign to a signed robot’s webhook, and leaves others alone', () => {
    const webhook = 'https://robot.example.test/robot/send?access_token=abc';
    expect(robotUrl({ channel: 'dingtalk', webhook, secret }, timestamp)).toBe(
      `${webhook}&timestamp=${timestamp}&sign=${expected}`,
    );
    expect(robotUrl({ channel: 'dingtalk', webhook }, timestamp)).toBe(webhook);
    expect(robotUrl({ channel: 'wecom', webhook, secret }, timestamp)).toBe(webhook);
  });
});

describe('robot answers', () => {
  it('errcode 0 is delivered', () => {
    expect(robotOutcome('wecom', 200, { errcode: 0, errmsg: 'ok' })).toEqual({
      outcome: 'accepted',
    });
  });

  it('a rate-limit errcode is retried after the vendor’s pause', () => {
    expect(robotOutcome('wecom', 200, { errcode: 45009, errmsg: 'api freq out of limit' })).toEqual(
      { outcome: 'retryable', reason: 'errcode 45009 api freq out of limit', retryAfterMs: 65_000 },
    );
    expect(robotOutcome('dingtalk', 200, { errcode: 130101, errmsg: 'send too fast' })).toEqual({
      outcome: 'retryable',
      reason: 'errcode 130101 send too fast',
      retryAfterMs: 605_000,
    });
  });

  it('a server error is retried; any other errcode or 4xx is refused for good', () => {
    expect(robotOutcome('dingtalk', 502, null).outcome).toBe('retryable');
    expect(robotOutcome('wecom', 200, { errcode: 93000, errmsg: 'invalid webhook url' })).toEqual({
      outcome: 'refused',
      reason: 'errcode 93000 invalid webhook url',
    });
    // DingTalk's code for another vendor's rate limit is not a rate limit here.
    expect(robotOutcome('dingtalk', 200, { errcode: 45009 }).outcome).toBe('refused');
    expect(robotOutcome('wecom', 404, null).outcome).toBe('refused');
  });
});

describe('robot rate', () => {
  it('lets 20 messages a minute through per robot and says when the next slot is free', () => {
    const limiter = createRobotLimiter();
    for (let i = 0; i < 20; i++) expect(limiter.take('wecom:unit:a', 1_000 + i)).toBe(0);
    expect(limiter.take('wecom:unit:a', 2_000)).toBe(60_000 - 1_000);
    expect(limiter.take('wecom:unit:b', 2_000)).toBe(0);
    expect(limiter.take('wecom:unit:a', 61_000)).toBe(0);
  });
});

describe('channel plan', () => {
  const offered = new Set(['sms', 'wecom', 'dingtalk']);
  const person = {
    name: '王芳',
    email: 'wang@example.test',
    phone: '13800138000',
    channels: ['wecom', 'sms'],
    groupRobot: { channel: 'wecom', webhook: 'https://robot.example.test/x' },
  };

  it('follows the person’s preferences, then mail', () => {
    expect(planChannels('p1', person, undefined, offered)).toEqual([
      { channel: 'wecom', to: 'person:p1' },
      { channel: 'sms', to: '13800138000' },
      { channel: 'mail', to: 'wang@example.test' },
    ]);
  });

  it('is mail alone for a person without preferences (as before channels)', () => {
    expect(
      planChannels('p1', { name: '李', email: 'li@example.test' }, undefined, offered),
    ).toEqual([{ channel: 'mail', to: 'li@example.test' }]);
  });

  it('follows a definition’s list, `preferred` standing for the person’s own', () => {
    expect(planChannels('p1', person, ['mail'], offered)).toEqual([
      { channel: 'mail', to: 'wang@example.test' },
    ]);
    expect(planChannels('p1', person, ['sms', 'preferred'], offered).map((c) => c.channel)).toEqual(
      ['sms', 'wecom'],
    );
  });

  it('skips channels without an address or without a provider', () => {
    expect(
      planChannels('p1', { ...person, groupRobot: null }, undefined, new Set(['wecom'])),
    ).toEqual([{ channel: 'mail', to: 'wang@example.test' }]);
    expect(planChannels('p1', { name: '赵' }, undefined, offered)).toEqual([]);
  });

  it('texts a person with a phone and no e-mail (a resident) when the definition names no channels, after their preferences', () => {
    const resident = { name: '居民', phone: '13900139000' };
    expect(planChannels('p2', resident, undefined, offered)).toEqual([
      { channel: 'sms', to: '13900139000' },
    ]);
    expect(
      planChannels(
        'p2',
        {
          ...resident,
          channels: ['dingtalk', 'sms'],
          groupRobot: { channel: 'dingtalk', webhook: 'https://robot.example.test/d' },
        },
        undefined,
        offered,
      ),
    ).toEqual([
      { channel: 'dingtalk', to: 'person:p2' },
      { channel: 'sms', to: '13900139000' },
    ]);
    // The definition's list still wins; and no SMS provider, no text.
    expect(planChannels('p2', resident, ['mail'], offered)).toEqual([]);
    expect(planChannels('p2', resident, undefined, new Set())).toEqual([]);
  });
});

describe('short texts', () => {
  const renderer = createShortMessageRenderer();
  const escalation = {
    caseId: 'case-1',
    processName: '接诉即办',
    taskName: '办理',
    recipientName: '滨湖社区',
    deadlineName: '办结时限',
    dueAt: '2026-10-01T01:30:00.000Z',
    level: 1,
    unitName: '滨湖社区',
    assigneeName: '欧阳娜娜',
    fellBack: false,
  };

  it('renders a group post with names masked and Beijing time', () => {
    const out = renderer.render('task-escalated', escalation, { group: true });
    expect(out.title).toBe('超时督办：办理');
    expect(out.markdown).toContain('2026-10-01 09:30');
    expect(out.markdown).toContain('当前承办人：欧***');
    expect(out.markdown).not.toContain('欧阳娜娜');
    expect(out.smsParams).toEqual({ caseId: 'case-1', taskName: '办理', level: '1' });
  });

  it('masks phone numbers in a group post', () => {
    const out = renderer.render(
      'case-update',
      { caseId: 'c', processName: '报修', stepName: '联系 13800138000', recipientName: '组' },
      { group: true },
    );
    expect(out.markdown).toContain('138****8000');
    expect(out.markdown).not.toContain('13800138000');
  });

  it('names a context field the template lacks', () => {
    expect(() => renderer.render('task-reminder', { caseId: 'c' })).toThrow(/processName/);
  });
});

describe('org input for channels', () => {
  const base = { id: 'p1', name: '王芳' };

  it('takes preferred channels as a list or a CSV cell', () => {
    expect(personInput.parse({ ...base, channels: 'wecom;mail' }).channels).toEqual([
      'wecom',
      'mail',
    ]);
  });

  it('names a bad channel, a repeated one, a plain-http webhook and a misplaced secret', () => {
    const problems = (value: unknown) =>
      personInput.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ??
      [];
    expect(problems({ ...base, channels: ['fax'] })).toEqual([
      'channels.0: "fax" is not a channel (mail, sms, wecom, dingtalk)',
    ]);
    expect(problems({ ...base, channels: ['sms', 'sms'] })).toEqual([
      'channels: each channel at most once',
    ]);
    expect(
      problems({
        ...base,
        groupRobot: { channel: 'wecom', webhook: 'http://robot.example.test/x' },
      }),
    ).toEqual(['groupRobot.webhook: a robot webhook must be https (http only on this machine)']);
    expect(
      problems({
        ...base,
        groupRobot: { channel: 'wecom', webhook: 'https://robot.example.test/x', secret: 's' },
      }),
    ).toEqual(['groupRobot.secret: a signing secret is for DingTalk robots only']);
    expect(
      problems({
        ...base,
        channels: ['dingtalk'],
        groupRobot: { channel: 'wecom', webhook: 'https://robot.example.test/x' },
      }),
    ).toEqual(['channels.0: "dingtalk" is preferred but the person\'s robot is a wecom robot']);
  });

  it('lets a unit drop its robot with null', () => {
    const unit = { id: 'u1', name: '滨湖社区', type: 'community', parentId: null };
    expect(unitInput.parse({ ...unit, groupRobot: null }).groupRobot).toBeNull();
    expect(
      unitInput.safeParse({ ...unit, groupRobot: { channel: 'qq', webhook: 'x' } }).success,
    ).toBe(false);
  });
});

describe('definitions choose channels', () => {
  const step = {
    id: 'tell',
    name: '告知',
    type: 'notify',
    template: 'case-update',
    to: 'assignee',
  };

  it('parses without channels as before (no new keys)', () => {
    expect(Object.keys(notifyStepSchema.parse(step))).not.toContain('channels');
  });

  it('names an unknown channel', () => {
    const result = notifyStepSchema.safeParse({ ...step, channels: ['wechat'] });
    expect(result.error?.issues[0]?.message).toBe(
      '"wechat" is not a channel (preferred, mail, sms, wecom, dingtalk)',
    );
  });
});

describe('secrets stay out of sight', () => {
  it('masks a webhook’s key', () => {
    expect(maskWebhook('https://robot.example.test/cgi-bin/webhook/send?key=693a91f6-7xxx')).toBe(
      'https://robot.example.test/cgi-bin/webhook/send?key=693a****',
    );
    expect(maskWebhook('http://127.0.0.1:1090/wecom/demo-binhu-community')).toBe(
      'http://127.0.0.1:1090/wecom/demo****',
    );
  });

  it('reads the SMS auth header line', () => {
    expect(parseHeader('Authorization: Bearer abc')).toEqual({
      name: 'Authorization',
      value: 'Bearer abc',
    });
    expect(() => parseHeader('Bearer abc')).toThrow(/Name: value/);
  });
});

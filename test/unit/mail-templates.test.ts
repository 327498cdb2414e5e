import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  CaseResultContext,
  TaskAssignedContext,
  TaskEscalatedContext,
  TaskReminderContext,
} from '../../mail/contexts';
import { templateContexts } from '../../mail/contexts';
import type { MailRenderer } from '../../mail/renderer';
import { createMailRenderer, TemplateError } from '../../mail/renderer';

const caseId = 'case-0123456789abcdef01234567';
const link = 'https://gov.example.cn/tasks/t-1';

const taskAssigned: TaskAssignedContext = {
  caseId,
  processName: '居民诉求受理',
  taskName: '现场核查',
  recipientName: '王网格员',
  dueAt: '2026-10-02T09:00:00Z',
  deadlines: [
    { name: '签收时限', dueAt: '2026-10-01T03:30:00Z' },
    { name: '办结时限', dueAt: '2026-10-02T09:00:00Z' },
  ],
  link,
};

const taskReminder: TaskReminderContext = {
  caseId,
  processName: '居民诉求受理',
  taskName: '现场核查',
  recipientName: '王网格员',
  deadlineName: '办结时限',
  dueAt: '2026-10-02T09:00:00Z',
  link,
};

const taskEscalated: TaskEscalatedContext = {
  caseId,
  processName: '居民诉求受理',
  taskName: '现场核查',
  recipientName: '李主任',
  deadlineName: '办结时限',
  dueAt: '2026-10-02T09:00:00Z',
  level: 2,
  unitName: '和平街道办事处',
  assigneeName: '王网格员',
  fellBack: false,
  link,
};

const caseResult: CaseResultContext = {
  caseId,
  processName: '居民诉求受理',
  outcome: '已解决',
  summary: '楼道杂物已清理完毕。',
  ratingLink: 'https://gov.example.cn/rate/r-1',
  link,
};

/** A roll-call's mails (emergency activation): its figures; the supervisor's names who is missing. */
const rollCallReminder = {
  ...taskReminder,
  taskName: '到小区报到',
  deadlineName: '30分钟内到岗报到',
  expected: 5,
  acknowledged: 3,
  missing: 2,
};

const rollCallEscalated = {
  ...rollCallReminder,
  recipientName: '李网格长',
  level: 1,
  unitName: '和平社区第一网格',
  fellBack: false,
  missingNames: ['张楼长', '赵经理'],
};

type TemplateName = keyof typeof templateContexts;

/** Required by every deadline mail (reminders and escalations), in this order. */
const DEADLINE_FIELDS = [
  'caseId',
  'processName',
  'taskName',
  'recipientName',
  'deadlineName',
  'dueAt',
];
/** Required in addition by escalations: who is called, and whether it fell back upwards. */
const ESCALATION_FIELDS = ['level', 'unitName', 'fellBack'];
/** Required in addition by roll-call mails: the figures. */
const ROLL_CALL_FIELDS = ['expected', 'acknowledged', 'missing'];

interface Fixture {
  full: Record<string, unknown>;
  required: string[];
  optional: string[];
  /** A phrase the subject must carry, in Chinese. */
  subjectPhrase: string;
  /** A field shown in the HTML body, used to check escaping. */
  bodyField: string;
}

const fixtures: Record<TemplateName, Fixture> = {
  'task-assigned': {
    full: taskAssigned,
    required: ['caseId', 'processName', 'taskName', 'recipientName', 'deadlines'],
    optional: ['dueAt', 'link'],
    subjectPhrase: '新任务待办',
    bodyField: 'taskName',
  },
  'task-reminder': {
    full: taskReminder,
    required: DEADLINE_FIELDS,
    optional: ['link'],
    subjectPhrase: '即将超时提醒',
    bodyField: 'deadlineName',
  },
  'task-escalated': {
    full: taskEscalated,
    required: [...DEADLINE_FIELDS, ...ESCALATION_FIELDS],
    optional: ['assigneeName', 'recipientIsAssignee', 'link'],
    subjectPhrase: '超时督办',
    bodyField: 'assigneeName',
  },
  'case-update': {
    full: {
      caseId,
      processName: '居民诉求受理',
      stepName: '部门报到',
      recipientName: '王主任',
      link,
    },
    required: ['caseId', 'processName', 'stepName', 'recipientName'],
    optional: ['link'],
    subjectPhrase: '部门报到',
    bodyField: 'recipientName',
  },
  'case-failed': {
    full: {
      caseId,
      processName: '居民诉求受理',
      statusName: '异常终止',
      reason: 'DefinitionNotFound',
      recipientName: '王主任',
      link,
    },
    required: ['caseId', 'processName', 'statusName', 'reason', 'recipientName'],
    optional: ['link'],
    subjectPhrase: '办理异常',
    bodyField: 'reason',
  },
  'activity-stuck': {
    full: {
      caseId,
      processName: '居民诉求受理',
      activityName: 'recordCaseProgress',
      minutes: 12,
      attempts: 9,
      errorKind: 'MongoServerError',
      recipientName: '王主任',
      link,
    },
    required: [
      'caseId',
      'processName',
      'activityName',
      'minutes',
      'attempts',
      'errorKind',
      'recipientName',
    ],
    optional: ['link'],
    subjectPhrase: '后台异常',
    bodyField: 'errorKind',
  },
  'case-result': {
    full: caseResult,
    required: ['caseId', 'processName', 'outcome'],
    optional: ['summary', 'ratingLink', 'link'],
    subjectPhrase: '办理结果告知',
    bodyField: 'summary',
  },
  'roll-call-reminder': {
    full: rollCallReminder,
    required: [...DEADLINE_FIELDS, ...ROLL_CALL_FIELDS],
    optional: ['link'],
    subjectPhrase: '紧急报到提醒',
    bodyField: 'taskName',
  },
  'roll-call-escalated': {
    full: rollCallEscalated,
    required: [...DEADLINE_FIELDS, ...ESCALATION_FIELDS, ...ROLL_CALL_FIELDS, 'missingNames'],
    optional: ['link'],
    subjectPhrase: '超时未报到督办',
    bodyField: 'taskName',
  },
};

const templateNames: TemplateName[] = [
  'task-assigned',
  'task-reminder',
  'task-escalated',
  'case-result',
  'case-update',
  'case-failed',
  'activity-stuck',
  'roll-call-reminder',
  'roll-call-escalated',
];

function without(context: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(context).filter(([key]) => !keys.includes(key)));
}

function withEach(
  context: Record<string, unknown>,
  keys: string[],
  value: unknown,
): Record<string, unknown> {
  return { ...context, ...Object.fromEntries(keys.map((key) => [key, value])) };
}

function renderError(act: () => unknown): unknown {
  try {
    act();
  } catch (err) {
    return err;
  }
  return undefined;
}

let renderer: MailRenderer;

beforeAll(() => {
  renderer = createMailRenderer();
});

it('when the renderer loads, then every template with a contract is shipped', () => {
  // Act
  const names = renderer.templateNames;

  // Assert
  expect(templateNames.filter((name) => !names.has(name))).toEqual([]);
  expect(Object.keys(templateContexts).sort()).toEqual([...templateNames].sort());
});

describe.each(templateNames)('template %s', (name) => {
  const fixture = fixtures[name];

  it('when rendered with a full context, then subject, html and text carry the case in Chinese', () => {
    // Act
    const mail = renderer.render(name, fixture.full);

    // Assert
    expect(mail.subject).toContain(fixture.subjectPhrase);
    expect(mail.subject).toContain(caseId);
    expect(mail.html).toContain(`<strong>${caseId}</strong>`);
    expect(mail.html).toContain('社区治理服务平台');
    expect(mail.html).toContain(`<a href="${link}">${link}</a>`);
    expect(mail.text).toContain(caseId);
    expect(mail.text).toContain(link);
    expect(mail.text).toContain('居民诉求受理');
    expect(mail.text).not.toMatch(/<[^>]*>/);
  });

  it.each([
    ['absent', (ctx: Record<string, unknown>) => without(ctx, fixture.optional)],
    ['undefined', (ctx: Record<string, unknown>) => withEach(ctx, fixture.optional, undefined)],
    ['null', (ctx: Record<string, unknown>) => withEach(ctx, fixture.optional, null)],
  ])('when the optional fields are %s, then it renders without them', (_how, strip) => {
    // Arrange
    const context = strip(fixture.full);

    // Act
    const mail = renderer.render(name, context);

    // Assert
    expect(mail.html).toContain(caseId);
    expect(mail.html).not.toContain('https://');
    expect(mail.html).not.toMatch(/undefined|null/);
    expect(mail.text).not.toMatch(/undefined|null/);
  });

  it.each(fixture.required)(
    'when the required field %s is missing, then it throws a TemplateError naming it',
    (field) => {
      // Arrange
      const context = without(fixture.full, [field]);

      // Act
      const err = renderError(() => renderer.render(name, context));

      // Assert
      expect(err).toBeInstanceOf(TemplateError);
      expect((err as Error).message).toContain(field);
    },
  );

  it('when user data contains markup and quotes, then the html escapes it and the text shows it', () => {
    // Arrange
    const hostile = '<script>alert("x")</script>';
    const context = { ...fixture.full, [fixture.bodyField]: hostile };

    // Act
    const mail = renderer.render(name, context);

    // Assert
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(mail.html).not.toContain('<script>');
    expect(mail.text).toContain(hostile);
  });

  it('when data injects CR/LF and a Bcc header into the subject, then the subject is one line', () => {
    // Arrange
    const context = { ...fixture.full, processName: '居民诉求\r\nBcc: x@y' };

    // Act
    const mail = renderer.render(name, context);

    // Assert
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject).toContain('居民诉求 Bcc: x@y');
  });

  it('when a link is not http(s), then it throws a TemplateError instead of rendering it', () => {
    // Arrange
    const context = { ...fixture.full, link: 'javascript:alert(1)' };

    // Act
    const err = renderError(() => renderer.render(name, context));

    // Assert
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toContain('link');
  });
});

describe('task-assigned', () => {
  it('when deadlines are given, then each is listed in Beijing time', () => {
    // Act
    const mail = renderer.render('task-assigned', taskAssigned);

    // Assert
    expect(mail.html).toContain('<li>签收时限：2026-10-01 11:30 前</li>');
    expect(mail.html).toContain('<li>办结时限：2026-10-02 17:00 前</li>');
    expect(mail.text).toContain('请于 2026-10-02 17:00（北京时间）前办结');
  });

  it('when there are no deadlines and no due time, then no time limit is mentioned', () => {
    // Arrange
    const context = { ...without(taskAssigned, ['dueAt']), deadlines: [] };

    // Act
    const mail = renderer.render('task-assigned', context);

    // Assert
    expect(mail.html).not.toContain('<ul>');
    expect(mail.html).not.toContain('北京时间');
  });

  it('when a deadline lacks its due time, then it throws a TemplateError naming the path', () => {
    // Arrange
    const context = { ...taskAssigned, deadlines: [{ name: '签收时限' }] };

    // Act
    const err = renderError(() => renderer.render('task-assigned', context));

    // Assert
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toContain('deadlines.0.dueAt');
  });

  it('when a link carries quotes and &, then the href attribute stays closed', () => {
    // Arrange
    const context = { ...taskAssigned, link: 'https://gov.example.cn/t?a=1&b="x"' };

    // Act
    const mail = renderer.render('task-assigned', context);

    // Assert
    expect(mail.html).toContain(
      'href="https://gov.example.cn/t?a&#x3D;1&amp;b&#x3D;&quot;x&quot;"',
    );
    expect(mail.text).toContain('https://gov.example.cn/t?a=1&b="x"');
  });
});

describe('task-reminder', () => {
  it('when rendered, then the deadline and its time in Beijing time are named', () => {
    // Act
    const mail = renderer.render('task-reminder', taskReminder);

    // Assert
    expect(mail.text).toContain('办结时限将于 2026-10-02 17:00（北京时间）到期');
  });

  it('when the due time is not an ISO instant, then it throws a TemplateError', () => {
    // Act
    const err = renderError(() =>
      renderer.render('task-reminder', { ...taskReminder, dueAt: '明天' }),
    );

    // Assert
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toContain('dueAt');
  });
});

describe('task-escalated', () => {
  it('when the post answered where due, then the mail names the level and no fallback', () => {
    // Act
    const mail = renderer.render('task-escalated', taskEscalated);

    // Assert
    expect(mail.subject).toContain('第 2 级督办');
    expect(mail.text).toContain('本事项提交至和平街道办事处，请您进行第 2 级督办');
    expect(mail.text).toContain('当前承办人：王网格员');
    expect(mail.text).not.toContain('兜底');
  });

  it('when the escalation fell back, then the mail says the post was vacant (兜底)', () => {
    // Act
    const mail = renderer.render('task-escalated', { ...taskEscalated, fellBack: true });

    // Assert
    expect(mail.text).toContain('原定督办岗位暂时空缺');
    expect(mail.text).toContain('兜底规则');
    expect(mail.text).toContain('逐级提交至和平街道办事处');
  });

  it('when nobody has claimed the task, then the mail says so', () => {
    // Act
    const mail = renderer.render('task-escalated', without(taskEscalated, ['assigneeName']));

    // Assert
    expect(mail.text).toContain('该任务目前尚无人签收');
    expect(mail.text).not.toContain('当前承办人');
  });

  it('when the recipient is the late assignee, then the mail tells them of the escalation instead of asking them to supervise', () => {
    // Act
    const mail = renderer.render('task-escalated', {
      ...taskEscalated,
      recipientName: '王网格员',
      recipientIsAssignee: true,
    });

    // Assert
    expect(mail.subject).toContain('已进入第 2 级督办');
    expect(mail.text).toContain('王网格员：');
    expect(mail.text).toContain('您承办的“居民诉求受理”事项');
    expect(mail.text).toContain('本事项已进入第 2 级督办');
    expect(mail.text).toContain('请您尽快办结');
    expect(mail.text).not.toContain('请您进行');
    expect(mail.text).not.toContain('督促');
    expect(mail.text).not.toContain('当前承办人');
    expect(mail.text).toContain(`办理入口：${link}`);
  });

  it('when the late assignee is told of an escalation that fell back, then it says the post was vacant without asking them to supervise', () => {
    // Act
    const mail = renderer.render('task-escalated', {
      ...taskEscalated,
      fellBack: true,
      recipientIsAssignee: true,
    });

    // Assert
    expect(mail.text).toContain('兜底规则');
    expect(mail.text).toContain('进入第 2 级督办');
    expect(mail.text).not.toContain('请您进行');
  });

  it('when recipientIsAssignee is false, then the supervisor is asked to step in as before', () => {
    // Act
    const mail = renderer.render('task-escalated', {
      ...taskEscalated,
      recipientIsAssignee: false,
    });

    // Assert
    expect(mail.subject).not.toContain('已进入');
    expect(mail.text).toContain('请您进行第 2 级督办');
    expect(mail.text).toContain('当前承办人：王网格员');
  });

  it('when fellBack, level or recipientIsAssignee has the wrong type, then it throws a TemplateError', () => {
    // Act
    const errors = [
      { fellBack: 'no' },
      { level: '2' },
      { level: 0 },
      { recipientIsAssignee: 'yes' },
    ].map((change) =>
      renderError(() => renderer.render('task-escalated', { ...taskEscalated, ...change })),
    );

    // Assert
    for (const err of errors) expect(err).toBeInstanceOf(TemplateError);
  });
});

describe('case-result', () => {
  it('when a rating link is given, then the requester is invited to rate 1–5', () => {
    // Act
    const mail = renderer.render('case-result', caseResult);

    // Assert
    expect(mail.text).toContain('办理结果：已解决');
    expect(mail.text).toContain('办理情况说明：楼道杂物已清理完毕。');
    expect(mail.text).toContain('1～5 分');
    expect(mail.html).toContain('<a href="https://gov.example.cn/rate/r-1">');
  });

  it('when there is no rating link, then no rating is asked for', () => {
    // Act
    const mail = renderer.render('case-result', without(caseResult, ['ratingLink']));

    // Assert
    expect(mail.text).not.toContain('评价');
  });
});

describe('a template with a contract', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mail-contract-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('when it reads a key outside its contract, then that key is not passed and strict throws', () => {
    // Arrange
    writeFileSync(
      path.join(dir, 'task-reminder.hbs'),
      'subject: {{caseId}}\n---\n<p>{{secret}}</p>\n',
    );
    const custom = createMailRenderer(dir);

    // Act
    const err = renderError(() =>
      custom.render('task-reminder', { ...taskReminder, secret: 'not declared' }),
    );

    // Assert
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toContain('secret');
  });
});

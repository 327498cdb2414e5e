import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MailRenderer } from '../../mail/renderer';
import {
  createMailRenderer,
  templateHelpers,
  TemplateError,
  toHeaderValue,
} from '../../mail/renderer';

function context(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    caseId: 'case-0123456789abcdef01234567',
    processName: '居民诉求受理',
    stepName: '受理回执',
    receivedAt: '2026-10-01T01:30:00Z',
    data: { category: '环境卫生', description: '楼道堆放杂物' },
    ...overrides,
  };
}

function renderError(act: () => unknown): unknown {
  try {
    act();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('createMailRenderer over the shipped templates', () => {
  let renderer: MailRenderer;

  beforeAll(() => {
    renderer = createMailRenderer();
  });

  it('when created, then every shipped template loads and case-received is known', () => {
    // Act
    const act = () => createMailRenderer();

    // Assert
    expect(act).not.toThrow();
    expect(act().templateNames.has('case-received')).toBe(true);
  });

  it('when case-received is rendered, then subject, html and text carry the case', () => {
    // Act
    const mail = renderer.render('case-received', context());

    // Assert
    expect(mail.subject).toBe(
      '【居民诉求受理】您的诉求已受理（编号 case-0123456789abcdef01234567）',
    );
    expect(mail.html).toContain('2026-10-01 09:30');
    expect(mail.html).toContain('<strong>case-0123456789abcdef01234567</strong>');
    expect(mail.html).toContain('诉求类别：环境卫生');
    expect(mail.text).toContain('诉求内容：楼道堆放杂物');
  });

  it('when the text part is produced, then it has no tags', () => {
    // Act
    const mail = renderer.render('case-received', context());

    // Assert
    expect(mail.text).not.toMatch(/<[^>]*>/);
    expect(mail.text).toContain('编号 case-0123456789abcdef01234567');
  });

  it('when user data contains markup, then the html body escapes it and the text shows it literally', () => {
    // Arrange
    const data = { category: '其他', description: '<script>alert(1)</script> & "x"' };

    // Act
    const mail = renderer.render('case-received', context({ data }));

    // Assert
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;');
    expect(mail.html).not.toContain('<script>');
    expect(mail.text).toContain('<script>alert(1)</script> & "x"');
  });

  it('when values in the subject contain & or <, then the subject is not HTML-escaped', () => {
    // Act
    const mail = renderer.render('case-received', context({ processName: '物业 & <维修>' }));

    // Assert
    expect(mail.subject).toContain('【物业 & <维修>】');
  });

  it('when values in the subject contain CR or LF, then none reach the subject (header injection)', () => {
    // Arrange
    const processName = '诉求\r\nBcc: attacker@example.org\n';

    // Act
    const mail = renderer.render('case-received', context({ processName }));

    // Assert
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.subject).toContain('诉求 Bcc: attacker@example.org');
  });

  it('when a field used by the template is missing, then it throws a TemplateError (strict)', () => {
    // Arrange
    const withoutDescription = context({ data: { category: '其他' } });
    const withoutCaseId = context();
    delete withoutCaseId.caseId;

    // Act
    const errors = [withoutDescription, withoutCaseId].map((ctx) =>
      renderError(() => renderer.render('case-received', ctx)),
    );

    // Assert
    expect(errors[0]).toBeInstanceOf(TemplateError);
    expect(errors[1]).toBeInstanceOf(TemplateError);
  });

  it('when an unknown template is rendered, then it throws a TemplateError naming it', () => {
    // Act
    const err = renderError(() => renderer.render('no-such-template', context()));

    // Assert
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toContain('"no-such-template"');
  });
});

describe('templateHelpers.beijingTime', () => {
  it('when given a UTC instant, then it formats it in Beijing time', () => {
    // Act
    const formatted: unknown = templateHelpers.beijingTime?.('2026-10-01T01:30:00Z');

    // Assert
    expect(formatted).toBe('2026-10-01 09:30');
  });

  it('when the instant crosses midnight in Beijing, then the date moves forward', () => {
    // Act
    const formatted: unknown = templateHelpers.beijingTime?.('2026-12-31T16:05:00Z');

    // Assert
    expect(formatted).toBe('2027-01-01 00:05');
  });

  it('when given something that is not a date, then it throws a TemplateError', () => {
    // Act
    const err = renderError(() => templateHelpers.beijingTime?.('yesterday'));

    // Assert
    expect(err).toBeInstanceOf(TemplateError);
  });
});

describe('toHeaderValue', () => {
  it('when a value carries CR, LF or other control characters, then each run becomes one space', () => {
    // Arrange
    const value = ' 居民\r\nBcc: x@y\u0000\tA\u007fB\u0085C\u2028D\u2029E\u001bF ';

    // Act
    const header = toHeaderValue(value);

    // Assert
    expect(header).toBe('居民 Bcc: x@y A B C D E F');
  });

  it('when a value is plain, then it is kept as it is', () => {
    // Act
    const header = toHeaderValue('街道办 <office@example.cn>');

    // Assert
    expect(header).toBe('街道办 <office@example.cn>');
  });
});

describe('createMailRenderer over a template folder', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mail-templates-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a template lacks the subject header, then creating the renderer throws naming the file', () => {
    // Arrange
    writeFileSync(path.join(dir, 'good.hbs'), 'subject: Hello {{name}}\n---\n<p>Hi</p>\n');
    writeFileSync(path.join(dir, 'broken.hbs'), '<p>No subject here</p>\n');

    // Act
    const err = renderError(() => createMailRenderer(dir));

    // Assert
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toContain('broken.hbs');
  });

  it('when templates use CRLF line ends, then they are read and files other than .hbs are ignored', () => {
    // Arrange
    writeFileSync(
      path.join(dir, 'hello.hbs'),
      'subject: Hi {{name}}\r\n---\r\n<p>{{name}}</p>\r\n',
    );
    writeFileSync(path.join(dir, 'README.md'), 'not a template');

    // Act
    const renderer = createMailRenderer(dir);
    const mail = renderer.render('hello', { name: 'Ada' });

    // Assert
    expect([...renderer.templateNames]).toEqual(['hello']);
    expect(mail.subject).toBe('Hi Ada');
    expect(mail.text).toBe('Ada');
  });
});

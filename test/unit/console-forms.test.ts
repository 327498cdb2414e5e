import type { FieldSpec } from '../../lang/definition';
import { controlsOf, prefillValues, valuesOf } from '../../console/forms';
import { countdown, formatInstant, pagerOf, urgencyOf } from '../../console/format';
import { hasMessage, messageKeys, translator } from '../../console/i18n';
import type { Request } from 'express';
import { cookieSecurity } from '../../console/cookies';
import { idempotencyKeyOf, newFormKey } from '../../console/forms';
import { safeLocalPath } from '../../console/pipeline';
import { deadlineRows } from '../../console/views-of';
import type { DeadlineView } from '../../common/case';

const field = (f: Partial<FieldSpec> & Pick<FieldSpec, 'name' | 'type'>): FieldSpec => ({
  label: f.name,
  required: false,
  multiple: false,
  personal: false,
  ...f,
});

const t = translator('zh-CN');

describe('forms generated from field specs', () => {
  it('when a field is a photo, then it is a camera control that keeps the ids of photos already attached, and posts them as a list', () => {
    // Arrange
    const photos = field({ name: 'photos', type: 'photo', multiple: true, required: true });
    const kept = 'att-0123456789abcdef01234567';

    // Act
    const [control] = controlsOf([photos], {
      prefix: 'form',
      values: { photos: [kept, 'IMG_0001.jpg'] },
      t,
    });
    const posted = valuesOf([photos], { photos: kept });

    // Assert
    expect(control).toMatchObject({ control: 'photo', value: '', photos: [kept], multiple: true });
    expect(control!.hint).toContain('照片');
    expect(posted).toEqual({ photos: [kept] });
  });

  it('when fields have types, then each gets the control people expect', () => {
    const controls = controlsOf(
      [
        field({ name: 'summary', type: 'text', required: true, maxLength: 500 }),
        field({ name: 'count', type: 'integer', min: 0 }),
        field({ name: 'urgent', type: 'boolean' }),
        field({ name: 'kind', type: 'string', options: ['甲', '乙'] }),
        field({ name: 'units', type: 'unit', multiple: true }),
        field({ name: 'at', type: 'datetime' }),
      ],
      { prefix: 'form', values: { kind: '乙' }, errors: { count: 'must be ≥ 0' }, t },
    );
    expect(controls.map((c) => [c.name, c.control, c.inputType])).toEqual([
      ['summary', 'textarea', 'text'],
      ['count', 'input', 'number'],
      ['urgent', 'checkbox', 'text'],
      ['kind', 'select', 'text'],
      ['units', 'textarea', 'text'],
      ['at', 'input', 'datetime-local'],
    ]);
    expect(controls[0]).toMatchObject({ id: 'f-form-summary', required: true, maxLength: 500 });
    expect(controls[1]!.error).toBe('must be ≥ 0');
    expect(controls[3]!.options.find((o) => o.selected)?.value).toBe('乙');
  });

  it('when a task is prefilled (预填), then its controls open with the values, a list one a line', () => {
    // Arrange
    const fields = [
      field({ name: 'members', type: 'person', multiple: true }),
      field({ name: 'basis', type: 'text' }),
      field({ name: 'count', type: 'integer' }),
      field({ name: 'note', type: 'string' }),
    ];

    // Act
    const controls = controlsOf(fields, {
      prefix: 'form',
      values: prefillValues({ members: ['p-1', 'p-2'], basis: '张三：10 分', count: 2 }),
      t,
    });

    // Assert
    expect(controls.map((c) => [c.name, c.value])).toEqual([
      ['members', 'p-1\np-2'],
      ['basis', '张三：10 分'],
      ['count', '2'],
      ['note', ''],
    ]);
    expect(prefillValues(undefined)).toBeUndefined();
  });

  it('when a form is posted, then strings become the typed values the engine validates', () => {
    const fields = [
      field({ name: 'count', type: 'integer' }),
      field({ name: 'ratio', type: 'number' }),
      field({ name: 'urgent', type: 'boolean' }),
      field({ name: 'units', type: 'unit', multiple: true }),
      field({ name: 'at', type: 'datetime' }),
      field({ name: 'note', type: 'string' }),
      field({ name: 'bad', type: 'integer' }),
    ];
    expect(
      valuesOf(fields, {
        count: '3',
        ratio: '0.5',
        units: 'u1\r\n\r\n u2 ',
        at: '2026-10-01T09:30',
        note: '  ',
        bad: 'three',
      }),
    ).toEqual({
      count: 3,
      ratio: 0.5,
      urgent: false,
      units: ['u1', 'u2'],
      at: '2026-10-01T09:30:00+08:00',
      // Not a number: passed on as text so the engine's validator names the field.
      bad: 'three',
    });
  });
});

describe('times and countdowns', () => {
  const now = new Date('2026-11-22T02:00:00Z'); // 10:00 in Beijing

  it('when an instant is shown, then it is Beijing time', () => {
    expect(formatInstant('2026-11-22T02:05:00Z')).toBe('2026-11-22 10:05');
    expect(formatInstant(null)).toBe('');
  });

  it('when a deadline nears, then its colour goes from ok to soon, urgent and overdue', () => {
    const inHours = (h: number) => new Date(now.getTime() + h * 3_600_000).toISOString();
    expect(urgencyOf(inHours(30), now)).toBe('ok');
    expect(urgencyOf(inHours(5), now)).toBe('soon');
    expect(urgencyOf(inHours(1), now)).toBe('urgent');
    expect(urgencyOf(inHours(-1), now)).toBe('overdue');
    expect(urgencyOf(null, now)).toBe('none');
    expect(countdown(inHours(26.5), now, t)).toBe('剩余1天2小时');
    expect(countdown(inHours(-0.25), now, translator('en'))).toBe('overdue by 15 min');
  });

  it('when a list has pages, then the links keep the filters', () => {
    const pager = pagerOf('/console/cases', { status: 'open', process: undefined }, 2, 20, 45);
    expect(pager).toMatchObject({ page: 2, pages: 3, total: 45 });
    expect(pager.prev).toBe('/console/cases?status=open&page=1');
    expect(pager.next).toBe('/console/cases?status=open&page=3');
    expect(pager.estimated).toBe(false);
  });

  it('when a list total is an estimate, then the pager says about and keeps its links', () => {
    const pager = pagerOf('/console/cases', {}, 1, 20, 4000, 'page', true);
    expect(pager).toMatchObject({ page: 1, pages: 200, total: 4000, estimated: true });
    expect(pager.next).toBe('/console/cases?page=2');
    expect(translator('zh-CN')('pager.statusEstimated', { page: 1, total: 4000 })).toBe(
      '第 1 页，约 4000 条',
    );
  });
});

describe('messages and redirects', () => {
  it('when a message is used, then it exists in both languages and fills its parameters', () => {
    expect(translator('en')('pager.status', { page: 1, pages: 2, total: 30 })).toBe(
      'Page 1 of 2, 30 in all',
    );
    expect(() => t('no.such.message')).toThrow('not defined');
    expect(hasMessage('event.case.started')).toBe(true);
    for (const key of messageKeys()) {
      expect(translator('zh-CN')(key).length).toBeGreaterThan(0);
      expect(translator('en')(key).length).toBeGreaterThan(0);
    }
  });

  it('when a redirect target comes from a link, then only paths on this site are followed', () => {
    expect(safeLocalPath('/console/inbox?view=mine')).toBe('/console/inbox?view=mine');
    expect(safeLocalPath('//evil.example/x')).toBe('/console/');
    expect(safeLocalPath('https://evil.example/')).toBe('/console/');
    expect(safeLocalPath('/\\evil.example')).toBe('/console/');
    expect(safeLocalPath(undefined)).toBe('/console/');
  });
});

describe('cookies and form keys', () => {
  const request = (hostname: string, secure = false) => ({ hostname, secure }) as Request;

  it('when the mode is auto, then cookies are Secure over HTTPS and on loopback only', () => {
    expect(cookieSecurity(request('gov.example', true), 'auto')).toBe(true);
    expect(cookieSecurity(request('127.0.0.1'), 'auto')).toBe(true);
    expect(cookieSecurity(request('localhost'), 'auto')).toBe(true);
    expect(cookieSecurity(request('intranet.example'), 'auto')).toBe(false);
    expect(cookieSecurity(request('intranet.example'), 'always')).toBe(true);
    expect(cookieSecurity(request('127.0.0.1', true), 'never')).toBe(false);
  });

  it('when a form key comes back, then it is the console-scoped Idempotency-Key; a bad one is none', () => {
    const key = newFormKey();
    expect(idempotencyKeyOf(key)).toBe(`console-${key}`);
    expect(idempotencyKeyOf(`${key}-claim`)).toBe(`console-${key}-claim`);
    expect(idempotencyKeyOf('short')).toBeUndefined();
    expect(idempotencyKeyOf('has space in it')).toBeUndefined();
  });
});

describe('deadline rows', () => {
  const deadline = (d: Partial<DeadlineView>): DeadlineView => ({
    key: 'handle/reply',
    name: '答复时限',
    dueAt: '2026-05-01T01:00:00.000Z',
    paused: false,
    missed: false,
    stopped: false,
    escalationLevel: 0,
    ...d,
  });
  const now = new Date('2026-05-03T00:00:00.000Z');

  it('when a deadline was missed and its task is done since, then it reads 逾期完成, not 已按时完成', () => {
    // Act
    const [row] = deadlineRows(
      [deadline({ missed: true, stopped: true, escalationLevel: 1 })],
      t,
      now,
    );

    // Assert
    expect(row).toMatchObject({ state: '逾期完成', running: false, escalationLevel: 1 });
  });

  it('when a deadline was stopped in time, missed and running or still running, then each says so', () => {
    // Act
    const rows = deadlineRows(
      [
        deadline({ stopped: true }),
        deadline({ missed: true, escalationLevel: 2 }),
        deadline({ dueAt: '2026-05-04T00:00:00.000Z' }),
      ],
      translator('en'),
      now,
    );

    // Assert
    expect(rows.map((r) => r.state)).toEqual(['met', 'missed', 'running']);
  });
});

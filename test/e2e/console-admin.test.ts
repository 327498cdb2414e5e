import { unescapeHtml } from '../../common/html-entities';
import type { ConsoleClient, ConsolePage } from '../support/console-client';
import { consoleClient, textOf } from '../support/console-client';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/** The admin pages of the console: definitions, the org tree and people, the calendar. */

let app: TestApp;
let admin: ConsoleClient;

beforeAll(async () => {
  app = await startTestApp('console-admin', { worker: false });
  admin = consoleClient(app.api.url);
  admin.useSession(await app.signIn('admin1', ['admin']));
});

afterAll(async () => {
  await app?.stop();
});

/** A small process; the line numbers below refer to this layout. */
function noise(name: string, extra = ''): string {
  return `key: console-noise
name: ${name}
starters: [resident, admin]
input:
  fields:
    - { name: contactEmail, label: 邮箱, type: email, required: true }
steps:
  - id: acknowledge
    name: 受理回执
    type: notify
    template: case-received
    to: { field: contactEmail }
${extra}  - id: closed
    name: 办结
    type: end
`;
}

/** The value of the textarea named `name`, unescaped as a browser would read it. */
function textareaValue(html: string, name: string): string {
  const match = new RegExp(`<textarea[^>]*name="${name}"[^>]*>\\n?([\\s\\S]*?)</textarea>`).exec(
    html,
  );
  if (!match) throw new Error(`no textarea "${name}"`);
  return unescapeHtml(match[1]!);
}

async function postForm(
  formPage: string,
  action: string,
  fields: Record<string, string>,
): Promise<ConsolePage> {
  const page = await admin.get(formPage);
  expect(page.status).toBe(200);
  return admin.post(action, fields);
}

describe('definitions', () => {
  it('when an admin opens the list, then the shipped definitions are there with version and status', async () => {
    const page = await admin.get('/console/admin/definitions');
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(page.html).toContain('data-definition="resident-request"');
    expect(text).toContain('v1');
    expect(text).toContain('已发布');
  });

  it('when an admin opens a shipped definition, then its steps, diagram, versions and source show', async () => {
    const page = await admin.get('/console/admin/definitions/resident-request');
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<svg [^>]*class="diagram"/);
    expect(page.html).toContain('class="node node-end');
    expect(page.html).toMatch(/<span class="ln" aria-hidden="true">1<\/span>/);
    expect(textOf(page.html)).toContain('key: resident-request');
    // No inline style anywhere (the CSP forbids it).
    expect(page.html).not.toMatch(/\sstyle=/);
  });

  it('when a new definition is published, edited with an error and fixed, then the error shows at its line and the fix makes version 2', async () => {
    // Publish version 1 from the empty editor.
    const created = await postForm(
      '/console/admin/definitions/new',
      '/console/admin/definitions/new',
      { format: 'yaml', action: 'publish', source: noise('噪声投诉') },
    );
    expect(created.status).toBe(303);
    expect(created.location).toBe(
      '/console/admin/definitions/console-noise?done=published&version=1',
    );

    // The editor starts from the latest version.
    const edit = await admin.get('/console/admin/definitions/console-noise/edit');
    expect(edit.status).toBe(200);
    expect(textareaValue(edit.html, 'source')).toBe(noise('噪声投诉'));

    // A step pointing nowhere (line 13) is refused at its line, and the text is kept.
    const broken = noise('噪声投诉（修订）', '    next: nowhere\n');
    const refused = await admin.post('/console/admin/definitions/console-noise/edit', {
      format: 'yaml',
      action: 'publish',
      source: broken,
    });
    expect(refused.status).toBe(422);
    expect(textareaValue(refused.html, 'source')).toBe(broken);
    const text = textOf(refused.html);
    expect(text).toContain('第 13 行');
    expect(text).toContain('steps[0].next');
    expect(refused.html).toContain('<mark class="line">    next: nowhere</mark>');
    expect(refused.html).toMatch(/<span id="L13" class="err">13<\/span>/);

    // A YAML syntax error is shown at its line too.
    const syntax = await admin.post('/console/admin/definitions/console-noise/edit', {
      format: 'yaml',
      action: 'validate',
      source: noise('[噪声'),
    });
    expect(syntax.status).toBe(422);
    expect(textOf(syntax.html)).toMatch(/第 \d+ 行，第 \d+ 列/);
    expect(textOf(syntax.html)).toContain('YAML syntax');

    // Validating the fixed text shows the preview; publishing it makes version 2.
    const fixed = noise('噪声投诉（修订）');
    const valid = await admin.post('/console/admin/definitions/console-noise/edit', {
      format: 'yaml',
      action: 'validate',
      source: fixed,
    });
    expect(valid.status).toBe(200);
    expect(textOf(valid.html)).toContain('校验通过');
    expect(valid.html).toMatch(/<svg [^>]*class="diagram"/);
    const published = await admin.post('/console/admin/definitions/console-noise/edit', {
      format: 'yaml',
      action: 'publish',
      source: fixed,
    });
    expect(published.status).toBe(303);
    expect(published.location).toBe(
      '/console/admin/definitions/console-noise?done=published&version=2',
    );
    const page = await admin.get(published.location!);
    expect(textOf(page.html)).toContain('已发布版本 v2');
    expect(page.html).toContain('data-latest-version="2"');
    const versions = await app.http<{ items: Array<{ version: number; name: string }> }>(
      'GET',
      '/api/v1/definitions/console-noise/versions',
      { token: app.adminKey },
    );
    expect(versions.body.items.map((v) => [v.version, v.name])).toEqual([
      [2, '噪声投诉（修订）'],
      [1, '噪声投诉'],
    ]);
  });

  it('when the source is for another key or a new one takes a used key, then the key line is named', async () => {
    const other = await postForm(
      '/console/admin/definitions/console-noise/edit',
      '/console/admin/definitions/console-noise/edit',
      { format: 'yaml', action: 'draft', source: noise('x').replace('console-noise', 'other-key') },
    );
    expect(other.status).toBe(422);
    expect(textOf(other.html)).toContain('第 1 行');
    const taken = await postForm(
      '/console/admin/definitions/new',
      '/console/admin/definitions/new',
      { format: 'yaml', action: 'publish', source: noise('重复') },
    );
    expect(taken.status).toBe(422);
    expect(textOf(taken.html)).toContain('已有流程“console-noise”');
  });

  it('when a draft is saved, then the editor reopens it and publishing it settles it; retiring asks first', async () => {
    const draftText = noise('噪声投诉（草稿）');
    const saved = await postForm(
      '/console/admin/definitions/console-noise/edit',
      '/console/admin/definitions/console-noise/edit',
      { format: 'yaml', action: 'draft', source: draftText },
    );
    expect(saved.status).toBe(303);
    expect(saved.location).toBe('/console/admin/definitions/console-noise/edit?done=draftSaved');
    const reopened = await admin.get(saved.location!);
    expect(textareaValue(reopened.html, 'source')).toBe(draftText);
    expect(textOf(reopened.html)).toContain('草稿已保存');

    const published = await admin.post('/console/admin/definitions/console-noise/edit', {
      format: 'yaml',
      action: 'publish',
      source: draftText,
    });
    expect(published.location).toBe(
      '/console/admin/definitions/console-noise?done=published&version=3',
    );
    const draft = await app.http('GET', '/api/v1/definitions/console-noise/draft', {
      token: app.adminKey,
    });
    expect(draft.status).toBe(404);

    const page = await admin.get('/console/admin/definitions/console-noise');
    expect(page.html).toMatch(/<form method="post" action="[^"]*\/retire" data-confirm="[^"]+"/);
    const retired = await admin.post('/console/admin/definitions/console-noise/retire', {});
    expect(retired.status).toBe(303);
    const after = await admin.get(retired.location!);
    expect(textOf(after.html)).toContain('已停用');
  });

  it('when someone who is not an admin asks, then 403', async () => {
    const dispatcher = consoleClient(app.api.url);
    dispatcher.useSession(await app.signIn('dispatcher1', ['dispatcher']));
    for (const path of [
      '/console/admin/definitions',
      '/console/admin/definitions/resident-request/edit',
      '/console/admin/org',
      '/console/admin/calendar',
    ]) {
      expect((await dispatcher.get(path)).status).toBe(403);
    }
  });
});

describe('org tree and people', () => {
  const units = [
    'id,name,type,parentId',
    'ca-county,城固县,county,',
    'ca-street,博望街道,street,ca-county',
    'ca-c1,东关社区,community,ca-street',
    'ca-c2,西关社区,community,ca-street',
  ].join('\n');

  it('when units, people and posts are imported, then the tree is browsed a level at a time', async () => {
    const imported = await postForm('/console/admin/org/import', '/console/admin/org/import', {
      kind: 'units',
      csv: units,
    });
    expect(imported.status).toBe(303);
    const done = await admin.get(imported.location!);
    expect(textOf(done.html)).toContain('导入完成：单位 4 个');
    for (const [kind, csv] of [
      ['people', 'id,name,email\nca-p1,李书记,li@example.test\nca-p2,张网格,'],
      ['posts', 'unitId,role,personId\nca-c1,secretary,ca-p1\nca-c1,grid-worker,ca-p2'],
    ]) {
      const res = await postForm('/console/admin/org/import', '/console/admin/org/import', {
        kind: kind!,
        csv: csv!,
      });
      expect(res.status).toBe(303);
    }

    const roots = await admin.get('/console/admin/org');
    expect(roots.html).toContain('data-unit="ca-county"');
    expect(roots.html).not.toContain('data-unit="ca-street"');

    const street = await admin.get('/console/admin/org/units/ca-street');
    expect(street.status).toBe(200);
    expect(street.html).toContain('data-unit="ca-c1"');
    expect(street.html).toContain('data-unit="ca-c2"');
    expect(textOf(street.html)).toContain('城固县');

    const community = await admin.get('/console/admin/org/units/ca-c1');
    const text = textOf(community.html);
    expect(text).toMatch(/组织架构 城固县 博望街道 东关社区/);
    expect(text).toContain('党组织书记');
    expect(community.html).toContain('data-person="ca-p1"');

    const people = await admin.get('/console/admin/org/people?unit=ca-c1');
    expect(people.status).toBe(200);
    expect(people.html).toContain('data-person="ca-p1"');
    expect(people.html).toContain('data-person="ca-p2"');
    expect(textOf(people.html)).toContain('li@example.test');
  });

  it('when a CSV has a bad row, then nothing is imported and the row and column are named', async () => {
    const badType = `${units}\nca-x,某村,village,ca-street`;
    const refused = await postForm('/console/admin/org/import', '/console/admin/org/import', {
      kind: 'units',
      csv: badType,
    });
    expect(refused.status).toBe(400);
    const text = textOf(refused.html);
    expect(text).toContain('有 1 处问题，未导入任何数据');
    expect(refused.html).toMatch(/<td class="num">6<\/td>\s*<td><code>type<\/code><\/td>/);
    expect(refused.html).toContain('<mark>village</mark>');
    expect(textareaValue(refused.html, 'csv')).toBe(badType);

    const orphan = await admin.post('/console/admin/org/import', {
      kind: 'units',
      csv: 'id,name,type,parentId\nca-g1,第一网格,grid,nowhere',
    });
    expect(orphan.status).toBe(422);
    expect(orphan.html).toMatch(/<td class="num">2<\/td>\s*<td><code>parentId<\/code><\/td>/);
    expect(textOf(orphan.html)).toContain('unknown unit "nowhere"');
    expect(await app.db.models.Unit.exists({ _id: 'ca-x' })).toBeNull();
  });
});

describe('working-day calendar', () => {
  it('when an admin opens a shipped year, then its months mark days off, make-up days and weekends', async () => {
    const page = await admin.get('/console/admin/calendar?year=2026');
    expect(page.status).toBe(200);
    expect(page.html.match(/<table class="cal-month">/g)).toHaveLength(12);
    // 2026-10-01 (National Day) is a day off; 2026-01-04 (a Sunday) a make-up working day.
    expect(page.html).toMatch(/class="day day-off[^"]*"[^>]*data-date="2026-10-01"/);
    expect(page.html).toMatch(
      /data-date="2026-01-04"[^>]*>\s*<span class="d">4<\/span><span class="mark" aria-hidden="true">班<\/span>/,
    );
    expect(page.html).toMatch(/class="day day-weekend[^"]*"[^>]*data-date="2026-03-07"/);
    expect(textOf(page.html)).toContain('调休上班');
  });

  it('when a bad year is sent, then it is refused line by line and the text is kept; a good one is stored', async () => {
    const bad = '2027-01-01 休 元旦\n2027-02-30 休 春节\n2026-05-01 休 劳动节\n2027-01-01 班 重复';
    const refused = await postForm(
      '/console/admin/calendar/edit?year=2027',
      '/console/admin/calendar/edit',
      { year: '2027', days: bad, papers: '' },
    );
    expect(refused.status).toBe(422);
    const text = textOf(refused.html);
    expect(text).toContain('有 3 处问题，未保存');
    expect(text).toContain('第 2 行： “2027-02-30”不是有效日期');
    expect(text).toContain('2026-05-01 不在 2027 年');
    expect(text).toContain('2027-01-01 已在第 1 行列出');
    expect(textareaValue(refused.html, 'days')).toBe(bad);
    expect(await app.db.models.CalendarYear.exists({ _id: '2027' })).toBeNull();

    const good = '2027-01-01 休 元旦\n2027-02-06..2027-02-12 休 春节\n2027-02-14 班 春节';
    const saved = await admin.post('/console/admin/calendar/edit', {
      year: '2027',
      days: good,
      papers: 'https://www.gov.cn/example',
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe('/console/admin/calendar?year=2027&done=created');
    const page = await admin.get(saved.location!);
    expect(textOf(page.html)).toContain('2027 年已添加');
    expect(page.html).toMatch(/class="day day-off[^"]*"[^>]*data-date="2027-02-10"/);
    expect(page.html).toMatch(/class="day day-work[^"]*"[^>]*data-date="2027-02-14"/);
    const stored = await app.http<{ days: unknown[] }>('GET', '/api/v1/calendar/years/2027', {
      token: app.adminKey,
    });
    expect(stored.body.days).toHaveLength(9);

    // Revising starts from the stored days, written as ranges.
    const revise = await admin.get('/console/admin/calendar/edit?year=2027');
    expect(textareaValue(revise.html, 'days')).toBe(good);
  });
});

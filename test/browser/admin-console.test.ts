import type { Page } from 'playwright-core';
import { screenshot } from '../support/browser';
import type { ConsoleBed } from '../support/console-browser';
import { reloadUntil, signInAs, startConsoleBed } from '../support/console-browser';

/**
 * An administrator edits a shipped definition in Chromium: a mistake is shown at its line, the
 * text typed is kept, and once fixed the definition is published as the next version. The other
 * admin pages (org tree, calendar, dashboards, evaluations, emergency) are opened and
 * photographed, in Chinese and in English.
 */
let bed: ConsoleBed;
let page: Page;

beforeAll(async () => {
  bed = await startConsoleBed('browser-admin', { history: true });
  page = await bed.browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
}, 300_000);

afterAll(async () => {
  await bed?.stop();
});

it('when an admin publishes a definition with a mistake, then the error is shown at its line, and once fixed it is published as the next version', async () => {
  await signInAs(page, bed.url, 'demo-admin');
  await page.goto(`${bed.url}/console/admin/definitions`);
  await screenshot(page, 'admin-definitions');
  await page.click('a[href="/console/admin/definitions/resident-request"]');
  await screenshot(page, 'admin-definition');
  expect(await page.locator('svg').count()).toBeGreaterThan(0);
  const versionBefore = await latestVersion(page);

  await page.goto(`${bed.url}/console/admin/definitions/resident-request/edit`);
  const original = await page.inputValue('#source');
  const lines = original.split('\n');
  const templateLine = lines.findIndex((l) => l.includes('template: case-received')) + 1;
  expect(templateLine).toBeGreaterThan(0);
  // The mistake: a mail template that does not exist
  await page.fill(
    '#source',
    original.replace('template: case-received', 'template: case-recieved'),
  );
  await page.click('button[name="action"][value="publish"]');
  await page.waitForSelector('.line-errors');
  await screenshot(page, 'admin-definition-error');

  const problem = page.locator(`.line-errors li[data-line="${templateLine}"]`);
  expect(await problem.count()).toBe(1);
  expect(await problem.innerText()).toContain('case-recieved');
  expect(await page.inputValue('#source')).toContain('template: case-recieved');

  // Fixed, and a visible change so the content differs from the published version
  const fixed = (await page.inputValue('#source'))
    .replace('template: case-recieved', 'template: case-received')
    .replace('平台登记并邮件回执。', '平台登记并邮件回执，可在工作台跟踪进度。');
  await page.fill('#source', fixed);
  await Promise.all([
    page.waitForURL(/done=published/),
    page.click('button[name="action"][value="publish"]'),
  ]);
  await screenshot(page, 'admin-definition-published');
  expect(await latestVersion(page)).toBe(versionBefore + 1);
});

it('when an admin opens the other admin pages, then each renders, in Chinese and in English', async () => {
  await signInAs(page, bed.url, 'demo-admin');
  const pages: Array<[string, string]> = [
    ['/console/admin/org', 'admin-org'],
    ['/console/admin/org/units/demo-wenhualu', 'admin-org-unit'],
    ['/console/admin/calendar', 'admin-calendar'],
    ['/console/dashboard', 'dashboard'],
    ['/console/evaluations', 'evaluations'],
    ['/console/emergency', 'emergency'],
    ['/console/cases', 'cases'],
  ];
  for (const [path, name] of pages) {
    const response = await page.goto(`${bed.url}${path}`);
    expect({ path, status: response?.status() }).toEqual({ path, status: 200 });
    await screenshot(page, name);
  }
  await page.click('a.lang');
  expect(await page.getAttribute('html', 'lang')).toBe('en');
  await page.goto(`${bed.url}/console/dashboard`);
  await screenshot(page, 'dashboard-en');
  expect(await page.locator('nav[aria-label="Main navigation"]').innerText()).toContain(
    'Definitions',
  );
  await page.click('a.lang');
  expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
});

it('when an admin activates an emergency roll-call, then the open activation page shows each report as it comes in, without a reload', async () => {
  // Admin: activate the roll-call for one grid (its compounds' staff and building heads)
  await signInAs(page, bed.url, 'demo-admin');
  await page.goto(`${bed.url}/console/emergency`);
  await page.selectOption('#em-unit', 'demo-wenhualu-g1');
  await page.fill('textarea[name="reason"]', '暴雨红色预警，立即到岗排查积水和地下车库');
  page.once('dialog', (dialog) => void dialog.accept());
  await Promise.all([
    page.waitForURL(/\/console\/emergency\/case-/),
    page.click('form[action="/console/emergency"] button[type="submit"]'),
  ]);
  const activationUrl = page.url().split('?')[0]!;
  // The compounds' roll-calls open a moment after the activation
  await reloadUntil(page, activationUrl, '#roll-call tbody th[scope="row"]');
  expect(await page.getAttribute('#roll-call', 'data-refresh')).toBe('5');
  await screenshot(page, 'emergency-activation');

  // A property staff member of 惠民小区 reports (claims the roll-call) in another browser
  const staff = await bed.browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signInAs(staff, bed.url, 'demo-property-staff');
  const name = (await staff.locator('.who .user').innerText()).trim();
  await reloadUntil(
    staff,
    `${bed.url}/console/inbox?view=available`,
    'tr[data-task] form[action$="/claim"]',
  );
  await staff.click('tr[data-task] form[action$="/claim"] button');
  await staff.close();

  // The admin's page, left open, shows the report on its next refresh
  await page
    .locator('#roll-call li.ack-yes', { hasText: name })
    .first()
    .waitFor({ timeout: 30_000 });
  await screenshot(page, 'emergency-roll-call');
});

/** The latest version number shown on a definition's page. */
async function latestVersion(p: Page): Promise<number> {
  const text = await p.locator('[data-latest-version]').first().getAttribute('data-latest-version');
  return Number(text);
}

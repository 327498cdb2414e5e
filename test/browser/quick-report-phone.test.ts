import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type { SunkWebhook } from '../../stack/webhook-sink';
import { launchBrowser, screenshot } from '../support/browser';
import type { TestApp } from '../support/harness';
import { startTestApp, testConfig, waitFor } from '../support/harness';
import { webhookSinkUrl } from '../support/test-stack';

/**
 * 随手报 on a phone, in Chromium at 360 and 414 px: a mobile grid member asks for a code, reads
 * it from the SMS (the local sink), picks category and compound and sends the report; the page
 * never scrolls sideways, and the case number leads to its progress.
 */
let app: TestApp;
let browser: Browser;
const run = randomBytes(4).toString('hex');
const SMS_PATH = `/sms/${run}`;
const PHONE = '13700137001';

beforeAll(async () => {
  const config = testConfig('browser-quick-report', {
    SMS_HTTP_URL: `${webhookSinkUrl()}${SMS_PATH}`,
  });
  app = await startTestApp('browser-quick-report', { config });
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'bq-county', name: '汉台区', type: 'county', parentId: null },
        { id: 'bq-street', name: '北关街道', type: 'street', parentId: 'bq-county' },
        { id: 'bq-community', name: '东大街社区', type: 'community', parentId: 'bq-street' },
        { id: 'bq-grid', name: '第一网格', type: 'grid', parentId: 'bq-community' },
        { id: 'bq-compound', name: '天汉文化公园小区', type: 'compound', parentId: 'bq-grid' },
      ],
      people: [{ id: 'bq-rider', name: '李骑手', phone: PHONE }],
      posts: [{ unitId: 'bq-street', role: 'mobile-grid-member', personId: 'bq-rider' }],
    },
  });
  expect(imported.status).toBe(200);
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function codeFromSms(before: number): Promise<string> {
  const texts = await waitFor('the code by SMS', async () => {
    const response = await fetch(
      `${webhookSinkUrl()}/messages?path=${encodeURIComponent(SMS_PATH)}`,
    );
    const all = (await response.json()) as SunkWebhook[];
    return all.length > before ? all : null;
  });
  return (texts.at(-1)!.body as { params: { code: string } }).params.code;
}

/** Whether anything is wider than the viewport (the page would scroll sideways). */
async function overflows(page: Page): Promise<boolean> {
  // A string: the test's TypeScript has no DOM types.
  return page.evaluate<boolean>('document.documentElement.scrollWidth > window.innerWidth');
}

it.each([
  [360, 0],
  [414, 1],
])(
  'when a member reports on a %i px wide phone, then both steps fit the screen and the case starts',
  async (width, smsBefore) => {
    // Arrange
    const page = await browser.newPage({
      viewport: { width, height: 760 },
      locale: 'zh-CN',
      isMobile: true,
      hasTouch: true,
    });

    // Act: step 1, ask for a code
    await page.goto(`${app.api.url}/console/report`);
    expect(await page.locator('h1').innerText()).toBe('随手报');
    expect(await overflows(page)).toBe(false);
    await page.fill('#phone', PHONE);
    await Promise.all([page.waitForURL(/\/console\/report\/code$/), page.click('button.primary')]);
    expect(await page.locator('[data-sent]').innerText()).toContain('验证码已通过短信发送');
    const code = await codeFromSms(smsBefore);

    // Act: step 2, the report
    expect(await overflows(page)).toBe(false);
    await page.fill('#code', code);
    await page.selectOption('#category', '环境卫生');
    await page.selectOption('#place', 'bq-compound');
    await page.fill('#description', '小区东门垃圾桶满溢');
    await screenshot(page, `quick-report-${width}`);
    await Promise.all([page.waitForURL(/\/console\/report$/), page.click('button.primary')]);

    // Assert
    expect(await page.locator('h1').innerText()).toBe('上报成功');
    expect(await overflows(page)).toBe(false);
    const caseId = await page.locator('[data-case-id]').innerText();
    expect(caseId).toMatch(/^case-[0-9a-f]{24}$/);
    const view = await waitFor('the case', async () => {
      const found = await app.http<{ channel: string; unitId: string; projected: boolean }>(
        'GET',
        `/api/v1/cases/${caseId}`,
        { token: app.adminKey },
      );
      // The progress page reads the case document, written a moment after the start.
      return found.status === 200 && found.body.projected ? found.body : null;
    });
    expect(view).toMatchObject({ channel: 'quick-report', unitId: 'bq-compound' });
    await Promise.all([
      page.waitForURL(/\/console\/report\/cases\/case-/),
      page.click('a[href^="/console/report/cases/"]'),
    ]);
    expect(await page.locator('h1').innerText()).toBe('办理进度');
    expect(await overflows(page)).toBe(false);
    await page.close();
  },
);

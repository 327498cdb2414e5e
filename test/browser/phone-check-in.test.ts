import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createMailRenderer } from '../../mail/renderer';
import { createDefinitionService } from '../../services/definitions';
import { launchBrowser, screenshot } from '../support/browser';
import { phonePhoto } from '../support/photos';
import type { TestApp } from '../support/harness';
import {
  idempotencyKey,
  startTestApp,
  TEST_PASSWORD,
  uniqueAddress,
  waitFor,
} from '../support/harness';

/**
 * A property worker on a phone (390×844, touch, location allowed and set beside the compound)
 * takes the 红心物业 54321 arrival from the work list, checks in with the page's 签到 button, takes
 * a photo and completes it; every page they pass has no sideways scroll at 390 and at 360 px, and its buttons are
 * thumb-sized. On a
 * phone that refuses location the page says so, and sending the arrival without a check-in is
 * refused with the reason on the page.
 */
let app: TestApp;
let browser: Browser;
let dispatcherToken: string;
let workerToken: string;

/** The compound's gate (WGS-84), and the phone about 90 m from it. */
const COMPOUND = { lat: 34.03, lng: 108.04 };
const PHONE = { latitude: 34.0308, longitude: 108.04, accuracy: 12 };
const PHONE_SIZE = { width: 390, height: 844 };

beforeAll(async () => {
  app = await startTestApp('browser-check-in');
  const definitions = createDefinitionService(app.db.models, createMailRenderer().templateNames);
  await definitions.publish({
    source: readFileSync(path.join(__dirname, '../../definitions/property-54321.yaml'), 'utf8'),
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  workerToken = await app.signIn('phone-worker', ['staff'], ['k1']);
  dispatcherToken = await app.signIn('phone-desk', ['dispatcher'], ['c1']);
  const worker = await app.db.models.User.findOne({ username: 'phone-worker' }).lean();
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 's1', name: '城关街道', type: 'street', parentId: null },
        { id: 'c1', name: '东关社区', type: 'community', parentId: 's1' },
        { id: 'g1', name: '第一网格', type: 'grid', parentId: 'c1' },
        { id: 'k1', name: '惠民小区', type: 'compound', parentId: 'g1', location: COMPOUND },
        { id: 'b1', name: '3号楼', type: 'building', parentId: 'k1' },
      ],
      people: [
        {
          id: 'p-w',
          name: '孙物业',
          email: uniqueAddress('phone-worker'),
          userId: String(worker!._id),
        },
      ],
      posts: [{ unitId: 'k1', role: 'property-staff', personId: 'p-w' }],
    },
  });
  expect(imported.status).toBe(200);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function startRepair(): Promise<string> {
  const res = await app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: dispatcherToken,
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: 'property-54321',
      unitId: 'b1',
      data: { category: '水电维修', description: '3号楼2单元楼道灯不亮', address: '3号楼2单元' },
    },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function phone(allowLocation: boolean): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: PHONE_SIZE,
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
    locale: 'zh-CN',
    ...(allowLocation ? { geolocation: PHONE, permissions: ['geolocation'] } : {}),
  });
  const page = await context.newPage();
  await page.goto(`${app.api.url}/console/login`);
  await expectNoSidewaysScroll(page, 'the sign-in page');
  await page.fill('#username', 'phone-worker');
  await page.fill('#password', TEST_PASSWORD);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith('/login')),
    page.click('form[method="post"] button[type="submit"]'),
  ]);
  return { context, page };
}

/** The page is no wider than the phone: nothing to scroll sideways. */
async function expectNoSidewaysScroll(page: Page, what: string): Promise<void> {
  // A string: this file is compiled without the DOM's types.
  const widths = await page.evaluate<{ page: number; body: number; viewport: number }>(
    '({ page: document.documentElement.scrollWidth, body: document.body.scrollWidth, viewport: window.innerWidth })',
  );
  expect({ what, ...widths, fits: Math.max(widths.page, widths.body) <= widths.viewport }).toEqual({
    what,
    ...widths,
    fits: true,
  });
}

/** The work list, reloaded until the case's arrival task is listed, then opened. */
async function openArrivalFromInbox(page: Page, caseId: string, view: string): Promise<string> {
  const link = await waitFor(
    'the arrival task in the work list',
    async () => {
      await page.goto(`${app.api.url}/console/inbox?view=${view}`);
      const found = page.locator(`tr[data-task^="${caseId}.arrive"] a`).first();
      return (await found.count()) > 0 ? found : undefined;
    },
    30_000,
  );
  await expectNoSidewaysScroll(page, `the work list (${view})`);
  // On a phone the work list's rows are cards: each cell on a line of its own, labelled.
  const cellDisplay = await page.evaluate<string>(
    "getComputedStyle(document.querySelector('table.tasks tbody td')).display",
  );
  expect(cellDisplay).toBe('block');
  await Promise.all([page.waitForURL(/\/console\/tasks\//), link.click()]);
  return page.url().split('?')[0]!;
}

it('when a worker on a phone claims the 54321 arrival, checks in and completes it, then the check-in is on the task and the timeline, and no page scrolls sideways', async () => {
  // Arrange
  const caseId = await startRepair();
  const { context, page } = await phone(true);

  // Act: from the work list to the task, claim it
  const taskUrl = await openArrivalFromInbox(page, caseId, 'available');
  await expectNoSidewaysScroll(page, 'the task page before the claim');
  await Promise.all([
    page.waitForURL(/done=claim/),
    page.click('form[action$="/claim"] button[type="submit"]'),
  ]);
  await expectNoSidewaysScroll(page, 'the task page with the completion form');
  const checkInButton = page.locator('[data-check-in-button]');
  const submit = page.locator('form[action$="/complete"] button[type="submit"]');
  const buttonHeights = [
    (await checkInButton.boundingBox())?.height ?? 0,
    (await submit.boundingBox())?.height ?? 0,
  ];

  // Act: 签到, grade the problem, send
  await checkInButton.tap();
  const status = page.locator('[data-check-in-status]');
  await status.filter({ hasText: '已获取位置' }).waitFor();
  const statusText = await status.innerText();
  await page.selectOption('#f-form-severity', '小问题');
  await page.fill('#f-form-finding', '楼道灯泡烧坏');
  await page.locator('#f-form-photos').setInputFiles({
    name: 'IMG_0001.jpg',
    mimeType: 'image/jpeg',
    buffer: await phonePhoto({ width: 1600, height: 1200 }),
  });
  await screenshot(page, 'phone-task-check-in');
  await Promise.all([page.waitForURL(/\/console\/inbox\?done=complete/), submit.tap()]);
  await expectNoSidewaysScroll(page, 'the work list after completing');

  // Assert: the stored task and the timeline, then the pages that show them
  const stored = await waitFor('the check-in on the task', async () => {
    const task = await app.db.models.Task.findById(`${caseId}.arrive.1`).lean();
    return task?.status === 'completed' ? task : undefined;
  });
  expect(buttonHeights.every((h) => h >= 44)).toBe(true);
  expect(statusText).toContain('12');
  expect(stored.checkIn).toMatchObject({
    lat: PHONE.latitude,
    lng: PHONE.longitude,
    accuracy: 12,
    placeUnitId: 'k1',
    limit: 300,
    within: true,
  });
  // …with the photo taken on site attached from the same form
  const photos = await app.db.models.Attachment.find({ caseId }, { taskId: 1 }).lean();
  expect(photos.map((p) => p.taskId)).toEqual([`${caseId}.arrive.1`]);
  await page.goto(taskUrl);
  await expectNoSidewaysScroll(page, 'the completed task page');
  expect(await page.locator('[data-checked-in]').innerText()).toMatch(
    /距案件地点 \d+ 米（300 米内）/,
  );
  await page.goto(`${app.api.url}/console/cases/${caseId}`);
  await expectNoSidewaysScroll(page, 'the case page');
  expect(await page.locator('ol.timeline').innerText()).toContain('到场签到');
  await screenshot(page, 'phone-case-timeline');
  await page.goto(`${app.api.url}/console/supervisions`);
  await expectNoSidewaysScroll(page, 'the 督办 list');
  // The narrowest phones in use (360 px): the same pages still fit.
  await page.setViewportSize({ width: 360, height: 740 });
  for (const [what, url] of [
    ['the task page at 360 px', taskUrl],
    ['the case page at 360 px', `${app.api.url}/console/cases/${caseId}`],
    ['the work list at 360 px', `${app.api.url}/console/inbox?view=mine&status=completed`],
  ] as const) {
    await page.goto(url);
    await expectNoSidewaysScroll(page, what);
  }
  await context.close();
});

it('when the phone refuses location, then the page says so, and completing without a check-in is refused with the reason on the page', async () => {
  // Arrange
  const caseId = await startRepair();
  const claimed = await waitFor('the arrival task', async () => {
    const res = await app.http<{ items: Array<{ id: string; stepId: string }> }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${caseId}`,
      { token: workerToken },
    );
    return res.body.items.find((t) => t.stepId === 'arrive');
  });
  const { context, page } = await phone(false);
  await openArrivalFromInbox(page, caseId, 'available');
  await Promise.all([
    page.waitForURL(/done=claim/),
    page.click('form[action$="/claim"] button[type="submit"]'),
  ]);

  // Act
  await page.locator('[data-check-in-button]').tap();
  const status = page.locator('[data-check-in-status]');
  await status.filter({ hasText: '拒绝' }).waitFor();
  const refusal = await status.innerText();
  await page.selectOption('#f-form-severity', '小问题');
  await page.locator('form[action$="/complete"] button[type="submit"]').tap();
  await page.locator('.problems').waitFor();

  // Assert
  expect(refusal).toContain('允许本网站使用位置');
  expect(await page.locator('.problems').innerText()).toContain('checkIn');
  await expectNoSidewaysScroll(page, 'the task page with the refusal');
  const task = await app.db.models.Task.findById(claimed.id).lean();
  expect(task?.status).toBe('claimed');
  await context.close();
});

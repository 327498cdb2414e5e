import type { Page } from 'playwright-core';
import { screenshot } from '../support/browser';
import type { ConsoleBed } from '../support/console-browser';
import { reloadUntil, signInAs, signOut, startConsoleBed } from '../support/console-browser';

/**
 * The resident's order through the console, in Chromium: a resident places a 三单 order, the
 * community dispatcher dispatches it to the community's party members, a party member accepts
 * and completes it, the resident rates it, and the public board shows it with the address masked.
 */
let bed: ConsoleBed;
let page: Page;
const ADDRESS = '文化路 18 号 3 单元 502';
const DESCRIPTION = '楼道灯坏了一个多月，晚上老人上下楼不安全';

beforeAll(async () => {
  bed = await startConsoleBed('browser-order');
  page = await bed.browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
}, 180_000);

afterAll(async () => {
  await bed?.stop();
});

it('when a resident orders, a dispatcher dispatches, a party member completes and the resident rates, then the board shows the result masked', async () => {
  // The sign-in page offers the demo users; an unknown visitor is sent there
  await page.goto(`${bed.url}/console/inbox`);
  expect(new URL(page.url()).pathname).toBe('/console/login');
  await screenshot(page, 'login');

  // Resident: place the order
  await signInAs(page, bed.url, 'demo-resident');
  await screenshot(page, 'resident-requests');
  await page.click('a[href="/console/order"]');
  await screenshot(page, 'order-choose');
  await page.click('a[href="/console/order?process=three-orders"]');
  await page.selectOption('#community', 'demo-wenhualu');
  await Promise.all([
    page.waitForURL(/community=demo-wenhualu/),
    page.click('form[method="get"] button'),
  ]);
  await page.selectOption('#place', 'demo-wenhualu-g1-c1');
  await page.selectOption('#f-data-channel', 'QQ微信');
  await page.selectOption('#f-data-category', '便民服务');
  await page.fill('#f-data-description', DESCRIPTION);
  await page.fill('#f-data-address', ADDRESS);
  await page.fill('#f-data-contactEmail', 'resident@demo.invalid');
  await screenshot(page, 'order-form');
  await Promise.all([
    page.waitForURL(/\/console\/cases\/case-/),
    page.click('form[method="post"] button[type="submit"].primary'),
  ]);
  const caseUrl = page.url().split('?')[0]!;
  expect(await page.locator('main .notice').first().innerText()).toContain('已提交');
  await signOut(page);

  // Community dispatcher: dispatch it to every party member of the community (公开派单)
  await signInAs(page, bed.url, 'demo-community-dispatcher');
  await reloadUntilText(page, `${bed.url}/console/inbox?view=scope`, '社区派单');
  await screenshot(page, 'inbox-dispatcher');
  await page.click('tr[data-task] a:text("社区派单")');
  await screenshot(page, 'task-dispatch');
  await Promise.all([page.waitForURL(/done=claim/), page.click('form[action$="/claim"] button')]);
  await page.fill('#f-form-note', '请报到党员就近处理');
  await page.check('input[name="outcome"][value="dispatched"]');
  await Promise.all([
    page.waitForURL(/\/console\/inbox\?done=complete/),
    page.click('form[action$="/complete"] button[type="submit"]'),
  ]);
  await signOut(page);

  // Party member: accept (接单) and complete
  await signInAs(page, bed.url, 'demo-party-member');
  await reloadUntilText(page, `${bed.url}/console/inbox?view=available`, '党员接单办理');
  await screenshot(page, 'inbox-party-member');
  await Promise.all([
    page.waitForURL(/done=claim/),
    page.click('tr[data-task] form[action$="/claim"] button'),
  ]);
  await page.fill('#f-form-result', '已更换楼道灯泡，并检查了其他楼层');
  await page.check('input[name="outcome"][value="resolved"]');
  await screenshot(page, 'task-complete');
  await Promise.all([
    page.waitForURL(/done=complete/),
    page.click('form[action$="/complete"] button[type="submit"]'),
  ]);
  await signOut(page);

  // Resident: rate it
  await signInAs(page, bed.url, 'demo-resident');
  await reloadUntil(page, caseUrl, 'form[action$="/rate"]');
  await page.check('input[name="score"][value="5"]');
  await page.fill('#rate-comment', '修得很快，谢谢');
  await Promise.all([
    page.waitForURL(/done=rate/),
    page.click('form[action$="/rate"] button[type="submit"]'),
  ]);
  expect(await page.locator('main .notice').first().innerText()).toContain('感谢');
  await reloadUntilText(page, caseUrl, '5 分');
  await screenshot(page, 'case-resident');
  await signOut(page);

  // The public: the board shows the published result, the address masked, and its page
  await reloadUntilText(page, `${bed.url}/console/board`, DESCRIPTION);
  await screenshot(page, 'board');
  expect(await page.locator('main').innerText()).not.toContain(ADDRESS);
  await page.click('.board-item h2 a');
  await screenshot(page, 'board-item');
  const item = await page.locator('main').innerText();
  expect(item).toContain('群众点单办理结果');
  expect(item).toContain(DESCRIPTION);
  expect(item).not.toContain(ADDRESS);
});

async function reloadUntilText(p: Page, url: string, text: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    await p.goto(url);
    if ((await p.locator('main').innerText()).includes(text)) return;
    if (Date.now() > deadline) throw new Error(`"${text}" did not appear on ${url}`);
    await p.waitForTimeout(500);
  }
}

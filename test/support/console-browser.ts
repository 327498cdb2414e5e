import type { Browser, Page } from 'playwright-core';
import { accountsStage, historyStage, openDemoSeedDeps, orgStage, seedDemo } from '../../demo/seed';
import { launchBrowser } from './browser';
import type { TestApp } from './harness';
import { startTestApp } from './harness';

/**
 * The console in a real browser: the API and a worker on the shared test stack, the demo county
 * loaded and its accounts offered on the sign-in page as `npm start` does (with its case history
 * when asked), and one Chromium.
 */
export interface ConsoleBed {
  app: TestApp;
  browser: Browser;
  url: string;
  stop(): Promise<void>;
}

export async function startConsoleBed(
  name: string,
  options: { history?: boolean } = {},
): Promise<ConsoleBed> {
  const app = await startTestApp(name);
  const seeder = await openDemoSeedDeps(app.config, undefined, { history: options.history });
  try {
    const report = await seedDemo(seeder.deps, { stages: [accountsStage, orgStage], force: true });
    if (report.status === 'refused') throw new Error('the demo county was refused');
    app.api.offerDemoAccounts(report.accounts);
    // The demo's past months of closed cases, so the dashboards and the board have figures.
    if (options.history) await seedDemo(seeder.deps, { stages: [historyStage], force: true });
  } finally {
    await seeder.close();
  }
  const browser = await launchBrowser();
  return {
    app,
    browser,
    url: app.api.url,
    async stop() {
      await browser.close();
      await app.stop();
    },
  };
}

/** Signs in with one click on a demo account, as people try the local stack. */
export async function signInAs(page: Page, url: string, username: string): Promise<void> {
  await page.goto(`${url}/console/login`);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.endsWith('/login')),
    page.click(`button[data-username="${username}"]`),
  ]);
}

export async function signOut(page: Page): Promise<void> {
  await Promise.all([
    page.waitForURL((u) => u.pathname.endsWith('/login')),
    page.click('form[action="/console/logout"] button'),
  ]);
}

/**
 * Reloads `path` until `selector` is on the page: the engine opens tasks a moment after the
 * action that leads to them, and the console shows what is stored, as a person's refresh would.
 */
export async function reloadUntil(
  page: Page,
  url: string,
  selector: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(url);
    if ((await page.locator(selector).count()) > 0) return;
    if (Date.now() > deadline) throw new Error(`${selector} did not appear on ${url}`);
    await page.waitForTimeout(500);
  }
}

import type { Browser } from 'playwright-core';
import { DOCS_CSP } from '../../api/routes/docs';
import { launchBrowser, screenshot } from '../support/browser';
import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/**
 * The API docs (Swagger UI) under their Content Security Policy in Chromium: the page must still
 * draw every operation and open one, and the browser must report no CSP violation doing it.
 */
let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  app = await startTestApp('browser-docs', { worker: false });
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

it('when the docs page is opened under its CSP, then Swagger UI draws the operations, opens one, and nothing is blocked', async () => {
  // Arrange
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Chromium reports each blocked load or inline script as a console error, and as an event.
  await page.addInitScript({
    content: `window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`,
  });
  const refused: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) refused.push(message.text());
  });
  const outside: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(app.api.url) && !request.url().startsWith('data:')) {
      outside.push(request.url());
    }
  });

  // Act
  const response = await page.goto(`${app.api.url}/docs`);
  await page.waitForSelector('.opblock', { timeout: 30_000 });
  await page.locator('.opblock-summary').first().click();
  await page.waitForSelector('.opblock-body', { timeout: 10_000 });
  await screenshot(page, 'api-docs');

  // Assert
  expect(response?.headers()['content-security-policy']).toBe(DOCS_CSP);
  expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
  expect(await page.evaluate('window.cspViolations')).toEqual([]);
  expect(refused).toEqual([]);
  expect(outside).toEqual([]);
  await page.close();
});

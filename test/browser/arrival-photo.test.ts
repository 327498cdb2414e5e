import type { Page } from 'playwright-core';
import { screenshot } from '../support/browser';
import type { ConsoleBed } from '../support/console-browser';
import { reloadUntil, signInAs, startConsoleBed } from '../support/console-browser';
import { idempotencyKey, waitFor } from '../support/harness';
import { phonePhoto, photoFacts } from '../support/photos';

/**
 * A property worker on a phone (390×844, touch) completes the 54321 arrival step (到场核实定级)
 * with a photo from the camera input: the photo is attached to the case upright and without its
 * GPS position, the task completes with its id, and the case page shows the thumbnail and the
 * timeline says a photo was attached.
 */
let bed: ConsoleBed;
let page: Page;
const COMPOUND = 'demo-wenhualu-g1-c1';
const FINDING = '3 单元楼道水管接头渗水，地面有积水';

beforeAll(async () => {
  bed = await startConsoleBed('browser-arrival-photo');
  page = await bed.browser.newPage({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    // The arrival asks for a location check-in (签到) as well.
    geolocation: { latitude: 34.03, longitude: 108.04, accuracy: 20 },
    permissions: ['geolocation'],
  });
}, 180_000);

afterAll(async () => {
  await bed?.stop();
});

it('when a worker on a phone completes the arrival step with a camera photo, then the case holds the photo without GPS and shows its thumbnail', async () => {
  // Arrange: an owner's report of a leak in the compound
  const owner = await bed.app.signIn('photo-owner', ['resident']);
  const started = await bed.app.http<{ id: string }>('POST', '/api/v1/cases', {
    token: owner,
    headers: { 'idempotency-key': idempotencyKey() },
    body: {
      definitionKey: 'property-54321',
      unitId: COMPOUND,
      data: { category: '水电维修', description: '楼道漏水', address: '3 单元 2 楼' },
    },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;
  const photo = await phonePhoto({ width: 2400, height: 1800 });
  expect((await photoFacts(photo)).gps).toBe(true);

  // Act: sign in on the phone, claim the arrival task, fill in the form with a photo, complete
  await signInAs(page, bed.url, 'demo-property-staff');
  await reloadUntil(
    page,
    `${bed.url}/console/inbox?view=available`,
    `tr[data-task*="${caseId}.arrive"] form[action$="/claim"] button`,
  );
  await screenshot(page, 'phone-inbox');
  await Promise.all([
    page.waitForURL(/done=claim/),
    page.click(`tr[data-task*="${caseId}.arrive"] form[action$="/claim"] button`),
  ]);
  const input = page.locator('#f-form-photos');
  expect(await input.getAttribute('type')).toBe('file');
  expect(await input.getAttribute('accept')).toBe('image/*');
  expect(await input.getAttribute('capture')).toBe('environment');
  expect(await page.locator('form[action$="/complete"]').getAttribute('enctype')).toBe(
    'multipart/form-data',
  );
  await page.selectOption('#f-form-severity', '小问题');
  await page.fill('#f-form-finding', FINDING);
  await input.setInputFiles({ name: 'IMG_2041.jpg', mimeType: 'image/jpeg', buffer: photo });
  await page.locator('[data-check-in-button]').tap();
  await page.locator('[data-check-in-status]').filter({ hasText: '已获取位置' }).waitFor();
  await screenshot(page, 'phone-arrival-form');
  await Promise.all([
    page.waitForURL(/\/console\/inbox\?done=complete/),
    page.click('form[action$="/complete"] button[type="submit"]'),
  ]);

  // Assert: the case holds one photo, from the arrival task, upright, shrunk, without metadata
  const view = await waitFor('the photo on the case', async () => {
    const res = await bed.app.http<{
      attachments: Array<{
        id: string;
        taskId: string;
        stepId: string;
        width: number;
        height: number;
        url: string;
      }>;
      currentStep: { id: string } | null;
    }>('GET', `/api/v1/cases/${caseId}`, { token: bed.app.adminKey });
    return res.body.attachments.length > 0 && res.body.currentStep?.id !== 'arrive'
      ? res.body
      : undefined;
  });
  expect(view.attachments).toEqual([
    expect.objectContaining({
      taskId: `${caseId}.arrive.1`,
      stepId: 'arrive',
      width: 1200,
      height: 1600,
    }),
  ]);
  const stored = await fetch(`${bed.url}${view.attachments[0]!.url}`, {
    headers: { authorization: `Bearer ${bed.app.adminKey}` },
  });
  const facts = await photoFacts(Buffer.from(await stored.arrayBuffer()));
  expect(facts.gps).toBe(false);
  expect(facts.exif).toBeUndefined();

  // …and the case page on the phone shows the thumbnail and a photo attached on its timeline
  await page.goto(`${bed.url}/console/cases/${caseId}`);
  const thumb = page.locator(`.photo-grid li[data-photo="${view.attachments[0]!.id}"] img`);
  await thumb.scrollIntoViewIfNeeded();
  // The thumbnail loaded (the browser decoded it: its natural size is the stored thumbnail's)
  const naturalWidth = () =>
    thumb.evaluate((img) => {
      const image = img as unknown as { complete: boolean; naturalWidth: number };
      return image.complete ? image.naturalWidth : 0;
    });
  await waitFor('the thumbnail loaded', async () => (await naturalWidth()) > 0);
  expect(await naturalWidth()).toBe(240);
  expect(
    await page.locator(`.timeline li[data-photo="${view.attachments[0]!.id}"]`).innerText(),
  ).toContain('上传照片');
  await screenshot(page, 'phone-case-photo');
});

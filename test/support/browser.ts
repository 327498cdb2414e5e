import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { PROJECT_ROOT } from '../../stack/paths';

const run = promisify(execFile);

/** Debian's Chromium: the browser tests drive it; nothing downloads a browser of its own. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots of the main pages, for people to look at (git-ignored). */
export const SCREENSHOT_DIR = path.join(PROJECT_ROOT, '.artifacts', 'screenshots');

/** A CJK font, so screenshots show Chinese rather than empty boxes (the pages are zh-CN). */
const CJK_FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';

/**
 * Installs Debian's `chromium` (and a Chinese font) with apt when missing; the test setup does,
 * once per run. Needs root, as on CI machines; elsewhere it says what to install.
 */
export async function ensureChromium(log: (line: string) => void): Promise<string> {
  const missing = [
    ...(existsSync(CHROMIUM_PATH) ? [] : ['chromium']),
    ...(existsSync(CJK_FONT) ? [] : ['fonts-wqy-microhei']),
  ];
  if (missing.length === 0) return CHROMIUM_PATH;
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!asRoot) {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `Chromium is missing at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install chromium fonts-wqy-microhei) or set CHROMIUM_PATH`,
      );
    }
    log(`No Chinese font: screenshots will show boxes (apt-get install ${missing.join(' ')})`);
    return CHROMIUM_PATH;
  }
  log(`Installing ${missing.join(' ')} with apt-get (browser tests)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
  try {
    await install();
  } catch {
    // A fresh machine may not have package lists yet.
    await run('apt-get', ['update'], { env, maxBuffer: 64 * 1024 * 1024 });
    await install();
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`apt-get installed chromium, but ${CHROMIUM_PATH} is missing`);
  }
  return CHROMIUM_PATH;
}

/** Headless Chromium as this machine allows it: no sandbox (root), no GPU, no calls home. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/** Saves a full-page screenshot as `<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/**
 * Headless Chromium for the page tests (the system's, driven by playwright-core; nothing downloaded).
 * No Chromium (/usr/bin/chromium or $CHROMIUM_PATH): the tests are skipped with a message, except under CI,
 * where they fail.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
export const chromiumSkip: string | false = haveChromium || process.env.CI ? false : `no Chromium at ${CHROMIUM} (install Debian's chromium or set CHROMIUM_PATH); CI runs this test`;

/** Launch Chromium and open one page whose console and errors go to `logs`. */
export async function launchPage(viewport: { width: number; height: number }, logs: string[]): Promise<{ browser: Browser; page: Page }> {
  if (!haveChromium) assert.fail(`CI must run the browser test, but there is no Chromium at ${CHROMIUM}`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport });
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  return { browser, page };
}

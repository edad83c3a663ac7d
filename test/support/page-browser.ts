import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Debian's chromium (playwright cannot download browsers here) with a page the size the web page is
 * designed for; autoplay allowed, so hls.js playback starts without a gesture; page errors logged.
 */
export async function openPageBrowser(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (err) => console.error('page error:', err));
  return { browser, page };
}

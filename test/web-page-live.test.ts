import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishTestPattern, startTestLiveIngest, type TestPublisher } from './support/live.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import type { RunningLiveIngest } from '../workers/live/live-ingest.ts';

/**
 * The page's live view in a real browser (Debian's chromium driven by playwright-core) against the real
 * pipeline: ffmpeg publishes to a channel made through the API, the live toast offers Watch, and hls.js plays
 * the live ladder through playback tokens. REELAY_UPDATE_SCREENSHOTS=1 copies the screenshot it takes into the
 * README's folder.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(import.meta.dirname, '../api/web/screenshots');
const API_KEY = 'web-live-key-0123456789';

let stack: TestStack;
let ingest: RunningLiveIngest & { url: string };
let browser: Browser;
let page: Page;
let work: string;
let publisher: TestPublisher | undefined;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'reelay-web-live-'));
  stack = await startTestStack({
    withWorker: false,
    env: { REELAY_AUTH: 'keys', REELAY_API_KEYS: API_KEY, REELAY_TOKEN_SECRET: 'web-live-token-secret-0123456789abcdef' },
  });
  ingest = await startTestLiveIngest(stack);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (err) => console.error('page error:', err));
}, 120_000);

afterAll(async () => {
  publisher?.child.kill('SIGKILL');
  await browser?.close();
  await ingest?.stop();
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('web page: live view in chromium', () => {
  it('a channel going live shows a toast with Watch; hls.js plays the live ladder with playback tokens', async () => {
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(stack.baseUrl);
    await expect.poll(() => page.isVisible('#auth'), { timeout: 20_000 }).toBe(true);
    await page.fill('#api-key', API_KEY);
    await page.click('#auth-form button');
    await expect.poll(() => page.isVisible('#auth'), { timeout: 20_000 }).toBe(false);
    await expect.poll(() => page.textContent('[data-testid=transport]'), { timeout: 20_000 }).toMatch(/WebSocket|Server-Sent Events/);
    expect(await page.isVisible('#no-channels')).toBe(true);

    const created = await fetch(`${stack.baseUrl}/v1/channels`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ id: 'rooftop', name: 'Rooftop camera' }),
    });
    const { streamKey } = (await created.json()) as { streamKey: string };
    publisher = publishTestPattern(`${ingest.url}/${streamKey}`, { seconds: 40 });

    // The toast links to the stream; so does the list of live channels.
    const toast = page.locator('.toast', { hasText: 'Rooftop camera is live' });
    await expect.poll(() => toast.count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.locator('#channels li[data-channel=rooftop] button').textContent(), { timeout: 10_000 }).toBe('Watch');
    await toast.getByRole('button', { name: 'Watch' }).click();

    await expect
      .poll(() => page.evaluate(`document.getElementById('player').currentTime`) as Promise<number>, { timeout: 40_000 })
      .toBeGreaterThan(2);
    expect(await page.textContent('#player-title')).toContain('LIVE');
    expect(await page.evaluate(`window.reelay.hls.levels.map((l) => l.height).sort((a, b) => a - b).join(',')`)).toBe('360,720');
    expect(await page.evaluate(`window.reelay.hls.levels[0].details?.live ?? window.reelay.hls.levels.some((l) => l.details?.live)`)).toBe(
      true,
    );
    // Played through the API's live routes, every URL carrying a playback token, never the key.
    expect(requests.some((u) => /\/v1\/channels\/rooftop\/live\/master\.m3u8\?token=/.test(u))).toBe(true);
    expect(requests.some((u) => /\/v1\/channels\/rooftop\/live\/\d+p\/\d+\.m4s\?token=/.test(u))).toBe(true);
    expect(requests.filter((u) => u.includes(API_KEY))).toEqual([]);

    const shot = path.join(work, 'page-live.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.REELAY_UPDATE_SCREENSHOTS) {
      await mkdir(SCREENSHOTS, { recursive: true });
      await copyFile(shot, path.join(SCREENSHOTS, 'page-live.png'));
    }

    // The stream ends: the channel leaves the list.
    publisher.child.kill('SIGINT');
    await publisher.exited;
    await expect.poll(() => page.locator('#channels li[data-channel=rooftop]').count(), { timeout: 20_000 }).toBe(0);
  }, 180_000);
});

import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * Captions on the page (#24 part 1), in Debian's chromium against the real pipeline: a caption track
 * uploaded to a ready video shows in the CC select (hls.js full build, the master's SUBTITLES group), and
 * once picked its cue is an active cue of the video's text track, drawn on the picture.
 * REELAY_UPDATE_SCREENSHOTS=1 copies the screenshot into the README's folder.
 */
const run = promisify(execFile);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(import.meta.dirname, '../api/web/screenshots');
const API_KEY = 'web-captions-key-0123456789';
const auth = { authorization: `Bearer ${API_KEY}` };
const CUE = 'Hello from reelay: captions in any language';

let stack: TestStack;
let browser: Browser;
let work: string;
let videoId: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'reelay-web-captions-'));
  stack = await startTestStack({
    env: { REELAY_AUTH: 'keys', REELAY_API_KEYS: API_KEY, REELAY_TOKEN_SECRET: 'web-captions-token-secret-0123456789abcdef' },
  });
  const clip = path.join(work, 'harbour.mp4');
  await run(stack.binaries.ffmpeg.path, [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-t', '8'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clip],
  ]);
  videoId = await upload(stack.baseUrl, await readFile(clip), { headers: auth, params: { title: 'Harbour tour' } });
  expect((await waitForFinalStatus(stack.baseUrl, videoId, undefined, auth)).status).toBe('ready');
  const res = await fetch(`${stack.baseUrl}/v1/videos/${videoId}/captions?language=en&label=English`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'text/vtt' },
    body: `WEBVTT\n\n00:00.000 --> 00:08.000\n${CUE}\n`,
  });
  expect(res.status).toBe(201);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('captions on the page', () => {
  it('lists the uploaded track in the CC select and shows its cue on the picture', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(stack.baseUrl);
    await expect.poll(() => page.isVisible('#auth'), { timeout: 20_000 }).toBe(true);
    await page.fill('#api-key', API_KEY);
    await page.click('#auth-form button');
    const row = page.locator('#videos li', { hasText: 'Harbour tour' });
    await row.getByRole('button', { name: 'Play' }).click();

    const select = page.locator('[data-testid=captions]');
    await expect.poll(() => select.locator('option').allTextContents(), { timeout: 30_000 }).toEqual(['Off', 'English']);
    await page.selectOption('[data-testid=captions]', { label: 'English' });
    // (Functions run in the page are strings: this file is type-checked for Node, without the DOM's types.)
    const activeCue = `(() => {
      const tracks = Array.from(document.getElementById('player').textTracks).filter((t) => t.mode === 'showing');
      return tracks.flatMap((t) => Array.from(t.activeCues || [])).map((c) => c.text).join('|');
    })()`;
    await expect.poll(() => page.evaluate(activeCue) as Promise<string>, { timeout: 30_000 }).toBe(CUE);
    await expect
      .poll(() => page.evaluate(`document.getElementById('player').currentTime`) as Promise<number>, { timeout: 20_000 })
      .toBeGreaterThan(2);
    await page.evaluate(`document.getElementById('player').pause()`);
    const shot = path.join(work, 'page-captions.png');
    await page.locator('#player-section').screenshot({ path: shot });
    if (process.env.REELAY_UPDATE_SCREENSHOTS) {
      await mkdir(SCREENSHOTS, { recursive: true });
      await copyFile(shot, path.join(SCREENSHOTS, 'page-captions.png'));
    }
    expect(errors).toEqual([]);
  }, 180_000);
});

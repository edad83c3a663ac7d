import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clipArgv } from '../testkit/clip.ts';
import { openPageBrowser } from './support/page-browser.ts';
import { parseMediaPlaylist } from '../core/hls-playlist.ts';
import { startTestStack, startTestWorker, waitFor, type TestStack } from './support/stack.ts';
import { timeScale } from './support/test-emulator.ts';
import type { TranscodeWorker } from '../workers/transcode/worker.ts';

/**
 * Playable while encoding, in a real browser (Debian's chromium, hls.js from the page): the page offers
 * "Watch now" while the video is processing, hls.js starts from 0 on the EVENT playlists, and keeps
 * playing through the switch to VOD to the very end. The source (60 s of 720p, encoded by the worker at
 * the default `veryfast`) takes tens of seconds to encode and 60 s to watch, so playback starts before
 * `ready` and ends after it; every wait is on a condition.
 */
const SOURCE_SECONDS = 60;
/**
 * "Watch now" is clicked once this much is listed: hls.js joins a playlist without ENDLIST at 3 target
 * durations (12 s) from its end, so from here on only `startPosition: 0` makes it start at the beginning.
 */
const LISTED_BEFORE_CLICK = 20;

let stack: TestStack;
let worker: TranscodeWorker;
let browser: Browser;
let page: Page;
let work: string;
let clip: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'reelay-playable-web-'));
  clip = path.join(work, 'harbour.mp4');
  stack = await startTestStack({ withWorker: false });
  worker = startTestWorker(stack, { preset: 'veryfast' });
  await promisify(execFile)(stack.binaries.ffmpeg.path, clipArgv(clip, { seconds: SOURCE_SECONDS, width: 1280, height: 720, fps: 30 }));
  ({ browser, page } = await openPageBrowser());
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop({ graceMs: 5000 });
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('watch while encoding, in chromium', () => {
  it('plays from the start before video.ready and reaches the end after it', async () => {
    // Every variant playlist hls.js loads, as served: EVENT while processing, then VOD.
    const playlists: string[] = [];
    page.on('response', (r) => {
      if (/\/hls\/\d+p\/index\.m3u8/.test(r.url()))
        void r.text().then(
          (t) => playlists.push(t),
          () => undefined,
        );
    });
    await page.goto(stack.baseUrl);
    await expect
      .poll(() => page.textContent('[data-testid=transport]'), { timeout: 20_000 })
      .toMatch(/WebSocket \/v1\/ws|Server-Sent Events \/v1\/events/);

    await page.setInputFiles('#file', clip);
    const row = page.locator('#videos li', { hasText: 'harbour' });
    const watch = row.getByRole('button', { name: 'Watch now' });
    await watch.waitFor({ timeout: 120_000 * timeScale });
    const id = (await row.getAttribute('data-video'))!;
    // "Watch now" sits beside the progress of a processing video.
    expect(await row.getAttribute('data-status')).toBe('processing');
    expect(await row.locator('progress').count()).toBe(1);
    await waitFor(
      'enough of the video listed to tell the start from the live edge',
      async () => {
        const res = await fetch(`${stack.baseUrl}/v1/videos/${id}/hls/720p/index.m3u8`);
        const listed = res.ok ? parseMediaPlaylist(await res.text()).segments.reduce((sum, seg) => sum + seg.duration, 0) : 0;
        return listed >= LISTED_BEFORE_CLICK;
      },
      120_000 * timeScale,
    );
    await watch.click();

    const player = `document.getElementById('player')`;
    await expect
      .poll(() => page.evaluate(`${player}.currentTime`) as Promise<number>, { timeout: 30_000 * timeScale })
      .toBeGreaterThan(0.5);
    const startedWhile = (await stack.store.get(id))!.status;
    // hls.js started at 0, not at the live edge of the growing playlist.
    const played = (await page.evaluate(`${player}.played.start(0)`)) as number;
    expect(played).toBeLessThan(0.5);
    expect(startedWhile).toBe('processing');
    expect(playlists.some((t) => t.includes('#EXT-X-PLAYLIST-TYPE:EVENT') && !t.includes('#EXT-X-ENDLIST'))).toBe(true);

    // The page learns of ready by push (the button turns to Play), and the player goes on to the end.
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 180_000 * timeScale }).toBe('ready');
    const readyAt = Date.parse((await stack.store.get(id))!.finishedAt!);
    await expect
      .poll(() => page.evaluate(`${player}.ended`) as Promise<boolean>, { timeout: (SOURCE_SECONDS + 60) * 1000 * timeScale })
      .toBe(true);
    const endedAt = Date.now();
    expect(endedAt).toBeGreaterThan(readyAt);
    const end = (await page.evaluate(`${player}.currentTime`)) as number;
    expect(end).toBeGreaterThan(SOURCE_SECONDS - 1);
    expect(playlists.some((t) => t.includes('#EXT-X-PLAYLIST-TYPE:VOD') && t.includes('#EXT-X-ENDLIST'))).toBe(true);
  }, 400_000);
});

import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servePage } from '../samples/browser/serve.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

/**
 * samples/browser in a real browser (Debian's chromium), on its own origin:
 * with only an upload token and a watch token in its URL it uploads a clip
 * through tus (CORS on the API) and shows the video's status from the
 * WebSocket until it is ready.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const KEY = 'k'.repeat(24);
let stack: TestStack;
let page: { url: string; server: Server };
let browser: Browser;

async function mint(scope: string): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scope }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH`);
  page = await servePage(0);
  stack = await startTestStack({ env: { REELAY_API_KEYS: KEY, REELAY_CORS_ORIGINS: page.url } });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await new Promise((resolve) => page?.server.close(resolve));
});

describe('samples/browser', () => {
  it('uploads with an upload token over tus and follows the video to ready over the WebSocket', async () => {
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (err) => errors.push(err.message));
    const query = new URLSearchParams({ api: stack.baseUrl, upload: await mint('upload'), watch: await mint('watch') });
    await tab.goto(`${page.url}/index.html?${query}`);
    // (Functions run in the page, given as source: this file is type-checked without the DOM library.)
    await tab.waitForFunction("document.getElementById('log').textContent.includes('websocket open')");
    await tab.setInputFiles('#file', path.resolve(import.meta.dirname, '../samples/small-480p.mkv'));
    await tab.click('#go');
    await tab.waitForFunction("['ready', 'failed'].includes(document.getElementById('status').textContent)", undefined, {
      timeout: 90_000,
    });
    const log = await tab.textContent('#log');
    expect(await tab.textContent('#status'), log ?? '').toBe('ready');
    expect(log).toMatch(/upload complete/);
    expect(log).toMatch(/event video\.queued[\s\S]*event video\.processing[\s\S]*event video\.ready: .*360p/);
    expect(errors).toEqual([]);
    const id = /uploading as video ([0-9A-Z]{26})/.exec(log ?? '')![1]!;
    const video = (await (await fetch(`${stack.baseUrl}/v1/videos/${id}`, { headers: { authorization: `Bearer ${KEY}` } })).json()) as {
      status: string;
      source: { filename: string };
    };
    expect(video).toMatchObject({ status: 'ready', source: { filename: 'small-480p.mkv' } });
  }, 120_000);
});

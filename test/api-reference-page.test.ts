import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiReferenceRoutes } from '../api/api-reference.ts';

/**
 * `/docs` in a real browser (Debian's chromium) as on a machine without internet: every request to another
 * host is refused, and the reference must still render the API's operations (#23 item 11: it was blank).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let server: ServerType;
let base: string;
let browser: Browser;

beforeAll(async () => {
  const app = new Hono();
  app.get('/openapi.json', (c) =>
    c.json({
      openapi: '3.1.0',
      info: { title: 'reelay', version: '1' },
      paths: { '/v1/videos': { post: { summary: 'Upload a video offline', responses: { '202': { description: 'queued' } } } } },
    }),
  );
  app.route('/', apiReferenceRoutes());
  server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('GET /docs in chromium, offline', () => {
  it('renders the reference from the script this API serves, with every other host unreachable', async () => {
    const page = await browser.newPage();
    const refused: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(base) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      refused.push(url);
      return route.abort('internetdisconnected');
    });
    await page.goto(`${base}/docs`);
    await page.getByText('Upload a video offline').first().waitFor({ timeout: 30_000 });
    // What it would have fetched from elsewhere, if anything, was not needed to render.
    expect(refused.filter((url) => /\.js(\?|$)/.test(url))).toEqual([]);
    await page.close();
  }, 60_000);
});

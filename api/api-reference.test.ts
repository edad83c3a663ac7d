import { describe, expect, it } from 'vitest';
import { apiReferenceRoutes, API_REFERENCE_SCRIPT_PATH } from './api-reference.ts';

describe('GET /docs (#23 item 11)', () => {
  it('loads the API reference script from this API, not a CDN, and serves it from the installed package', async () => {
    const app = apiReferenceRoutes();
    const page = await app.request('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`src="${API_REFERENCE_SCRIPT_PATH}"`);
    // Nothing from another host: no script (jsDelivr was the default), no web fonts.
    expect(html).not.toMatch(/src="https?:/);
    expect(html).not.toContain('cdn.jsdelivr.net');
    expect(html).toContain('"withDefaultFonts": false');

    const script = await app.request(API_REFERENCE_SCRIPT_PATH);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const body = await script.text();
    expect(body.length).toBeGreaterThan(1_000_000);
    expect(body).toContain('createApiReference');
  });
});

import { readFile } from 'node:fs/promises';
import { Scalar } from '@scalar/hono-api-reference';
import { Hono } from 'hono';
import type { AppEnv } from './app-env.ts';
import type { OperationDocs } from './openapi.ts';

/** Where the page loads the API reference script from: this API, not a CDN. */
export const API_REFERENCE_SCRIPT_PATH = '/docs/scalar.js';

/**
 * @scalar/api-reference's standalone browser build (one file, no further requests), as installed. The
 * package does not export it, so it is found next to its main entry point.
 */
const STANDALONE_URL = new URL('./browser/standalone.js', import.meta.resolve('@scalar/api-reference'));

let script: Promise<Uint8Array> | undefined;

/**
 * `GET /docs`, the API reference page (Scalar) for `/openapi.json`, and the script it runs, served from the
 * installed package: the page works on a machine without internet (it was blank there when the script came
 * from jsDelivr). Scalar's default web fonts (fonts.scalar.com) are off for the same reason: the page uses
 * the system's.
 */
export function apiReferenceRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get(
    '/docs',
    Scalar({ url: '/openapi.json', pageTitle: 'reelay API reference', cdn: API_REFERENCE_SCRIPT_PATH, withDefaultFonts: false }),
  );
  app.get(API_REFERENCE_SCRIPT_PATH, async (c) => {
    // Read once per process (about 5 MB), on the first request.
    script ??= readFile(STANDALONE_URL).catch((err: unknown) => {
      script = undefined;
      throw err;
    });
    return c.body((await script) as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      // The same file until reelay's dependencies change: a day in the browser is plenty.
      'cache-control': 'public, max-age=86400',
    });
  });
  return app;
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const API_REFERENCE_OPERATIONS: OperationDocs = {
  'GET /docs': { summary: 'API reference page', tag: 'operations', success: [200, 'HTML', 'text/html'], errors: [], public: true },
  'GET /docs/scalar.js': {
    summary: 'The API reference page’s script (Scalar, from the installed package)',
    tag: 'operations',
    success: [200, 'JavaScript', 'text/javascript'],
    errors: [],
    public: true,
  },
};

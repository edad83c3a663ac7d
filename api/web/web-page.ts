import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import type { AppEnv } from '../app-env.ts';
import type { OperationDocs } from '../openapi.ts';

const WEB_DIR = fileURLToPath(new URL('./', import.meta.url));

/** The page's paths: anyone may load them (the page asks for credentials itself; it holds none). */
export const WEB_PAGE_PATHS: ReadonlySet<string> = new Set(['/', '/assets/app.js', '/assets/app.css']);

interface Asset {
  body: Uint8Array;
  type: string;
}

let bundle: Promise<Map<string, Asset>> | undefined;

/**
 * Builds the page once per process with esbuild (TypeScript → one minified
 * ES module with hls.js and tus-js-client, and one stylesheet), in memory:
 * no build step to forget and nothing stale on disk. About a second, on the
 * first request for the page.
 */
export function webAssets(): Promise<Map<string, Asset>> {
  bundle ??= (async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: { app: `${WEB_DIR}src/main.ts` },
      bundle: true,
      minify: true,
      format: 'esm',
      target: ['chrome111', 'firefox115', 'safari16'],
      outdir: '/assets',
      write: false,
      legalComments: 'none',
      logLevel: 'silent',
    });
    const assets = new Map<string, Asset>();
    for (const file of result.outputFiles) {
      assets.set(file.path, {
        body: file.contents,
        type: file.path.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
      });
    }
    assets.set('/', { body: await readFile(`${WEB_DIR}index.html`), type: 'text/html; charset=utf-8' });
    return assets;
  })().catch((err: unknown) => {
    bundle = undefined;
    throw err;
  });
  return bundle;
}

/** `GET /` and its assets. */
export function webPageRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', (c) => serve(c.req.path));
  app.get('/assets/:file', (c) => serve(c.req.path));
  return app;
}

async function serve(path: string): Promise<Response> {
  const asset = (await webAssets()).get(path);
  if (!asset) return new Response(null, { status: 404 });
  return new Response(asset.body, {
    headers: {
      'content-type': asset.type,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      // https: for segments and sprites redirected to presigned S3 URLs (REELAY_PLAYBACK_DELIVERY=redirect).
      ...(path === '/'
        ? {
            'content-security-policy':
              "default-src 'self'; img-src 'self' blob: data: https:; media-src 'self' blob: https:; connect-src 'self' ws: wss: https:; worker-src 'self' blob:",
          }
        : {}),
    },
  });
}

/** The OpenAPI description of these routes (see openapi.ts). */
export const WEB_PAGE_OPERATIONS: OperationDocs = {
  'GET /': {
    summary: 'The web page: upload, live states, playback',
    tag: 'operations',
    success: [200, 'HTML', 'text/html'],
    errors: [],
    public: true,
  },
  'GET /assets/{file}': {
    summary: "The web page's script and stylesheet",
    tag: 'operations',
    success: [200, 'JavaScript or CSS', 'text/javascript'],
    errors: [404],
    public: true,
  },
};

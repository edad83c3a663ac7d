import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/** Serves this folder's page on its own origin (not the API's): `node samples/browser/serve.ts [port]`. */
const FILES: Record<string, string> = { '/': 'index.html', '/index.html': 'index.html', '/app.js': 'app.js' };
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

export async function servePage(port = 8080, host = '127.0.0.1'): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const file = FILES[new URL(req.url ?? '/', 'http://x').pathname];
    if (!file) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)]! }).end(await readFile(path.join(import.meta.dirname, file)));
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, server };
}

if (import.meta.filename === process.argv[1]) {
  const { url } = await servePage(Number(process.argv[2] ?? 8080));
  console.log(`page on ${url}/index.html — start the API with REELAY_CORS_ORIGINS=${url}`);
}

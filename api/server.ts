import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './app-env.ts';

export interface RunningServer {
  server: ServerType;
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the app. Uploads may take long, so there is no limit on a whole
 * request; instead a client that sends nothing for `idleTimeoutMs` (a stalled
 * or malicious slow client) is disconnected, which aborts its upload.
 */
export async function startApiServer(
  app: Hono<AppEnv>,
  { host, port, idleTimeoutMs }: { host: string; port: number; idleTimeoutMs: number },
): Promise<RunningServer> {
  const server = serve({
    fetch: app.fetch,
    hostname: host,
    port,
    serverOptions: { requestTimeout: 0, headersTimeout: Math.min(60_000, idleTimeoutMs) },
  });
  server.setTimeout(idleTimeoutMs);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import { WebSocketServer } from 'ws';
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
    // `GET /v1/ws` (upgradeWebSocket from @hono/node-server): upgrades are handed to this `ws` server.
    websocket: { server: new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 }) },
  });
  server.setTimeout(idleTimeoutMs);
  answerCompleteRequestsOnParseErrors(server);
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

/** What Node answers a connection it cannot parse (its own defaults). */
function parseErrorAnswer(code: string | undefined): string {
  const status =
    code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`;
}

/**
 * Bytes after a complete request that cannot be parsed (a body longer than its
 * Content-Length, data after `Connection: close`) make Node answer `400` at
 * once and drop the connection, while the complete request is still being
 * handled: an upload would be stored and queued while its client was told it
 * failed. Here a request that arrived whole is answered first (its real
 * status), then the connection is closed; an incomplete one is cut off as
 * before, which aborts its upload.
 */
function answerCompleteRequestsOnParseErrors(server: ServerType): void {
  const inFlight = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, { req, res });
    res.once('close', () => {
      if (inFlight.get(socket)?.res === res) inFlight.delete(socket);
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const current = inFlight.get(socket);
    if (current && current.req.complete && !current.res.headersSent) {
      current.res.shouldKeepAlive = false;
      current.res.once('close', () => socket.destroy());
      return;
    }
    if (socket.writable && !current?.res.headersSent) socket.write(parseErrorAnswer(err.code));
    socket.destroy();
  });
}

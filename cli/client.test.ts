import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, type ReelayEventView } from './client.ts';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const sse = (id: string) => `id: ${id}\nevent: video.processing\ndata: ${JSON.stringify({ id, type: 'video.processing' })}\n\n`;

describe('ApiClient.events', () => {
  it('hands each event on once when a resume replays some again (a Last-Event-ID resume goes by time)', async () => {
    const resumedWith: (string | undefined)[] = [];
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'close' });
      const last = req.headers['last-event-id'] as string | undefined;
      resumedWith.push(last);
      // First stream: a, b, then the connection drops. The resume replays a and b (within the margin) and c.
      res.end(last ? sse('a') + sse('b') + sse('c') : sse('a') + sse('b'));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const client = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, undefined);
    const seen: string[] = [];
    const abort = new AbortController();
    let gotC!: () => void;
    const done = new Promise<void>((resolve) => (gotC = resolve));
    await client.events(
      {},
      (event: ReelayEventView) => {
        seen.push(event.id);
        if (event.id === 'c') gotC();
      },
      abort.signal,
    );
    await done;
    abort.abort();
    expect(resumedWith.slice(0, 2)).toEqual([undefined, 'b']);
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
  /** What the receiver answered: a status, or `hang` (no answer). */
  answered: number | 'hang';
}

/** Decides the answer to the n-th request (1-based) on a path. */
export type Responder = (nth: number) => number | 'hang';

/**
 * A real HTTP server on 127.0.0.1 standing in for a customer's endpoint:
 * records every request and answers per path (default 204).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly responders = new Map<string, Responder>();
  private readonly server: Server;
  private readonly hanging = new Set<import('node:http').ServerResponse>();
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        const nth = this.received.filter((r) => r.path === path).length + 1;
        const answer = (this.responders.get(path) ?? (() => 204))(nth);
        this.received.push({ path, headers: req.headers, body, at: Date.now(), answered: answer });
        if (answer === 'hang') {
          this.hanging.add(res);
          return;
        }
        res.writeHead(answer).end();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  on(path: string, responder: Responder): this {
    this.responders.set(path, responder);
    return this;
  }

  requests(path: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

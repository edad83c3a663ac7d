import WebSocket from 'ws';

/** A WebSocket client for tests: keeps every JSON message, the pings and the close code, and lets a test wait. */
export class WsClient {
  readonly messages: Record<string, any>[] = [];
  pings = 0;
  closeCode: number | undefined;
  closeReason = '';
  readonly socket: WebSocket;
  private changed: (() => void) | undefined;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as Record<string, any>);
      this.changed?.();
    });
    socket.on('ping', () => {
      this.pings++;
      this.changed?.();
    });
    socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.changed?.();
    });
  }

  /** Opens `url` (http(s) is turned into ws(s)); rejects with the HTTP status when the upgrade is refused. */
  static connect(url: string, headers: Record<string, string> = {}): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url.replace(/^http/, 'ws'), { headers });
      const client = new WsClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })),
      );
      socket.once('error', reject);
    });
  }

  send(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  /** The CloudEvents received (not the acks). */
  get events(): Record<string, any>[] {
    return this.messages.filter((m) => m.specversion === '1.0');
  }

  async waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages.map((m) => m.id ?? m.type))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.changed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.terminate();
  }
}

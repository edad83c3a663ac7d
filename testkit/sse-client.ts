import { createParser } from 'eventsource-parser';

/** One dispatched Server-Sent Event. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * A minimal EventSource over fetch (parsed by eventsource-parser, as the CLI
 * does), for the tests and the bench: keeps every event and comment it reads,
 * and lets a caller wait for one.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Called for every event as it is parsed (e.g. to time it). */
  onEvent: ((event: SseEvent) => void) | undefined;
  private readonly abort = new AbortController();
  private reading: Promise<void> | undefined;
  private changed: (() => void) | undefined;
  ended = false;

  static async connect(url: string, { headers = {} }: { headers?: Record<string, string> } = {}): Promise<SseClient> {
    const client = new SseClient();
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: client.abort.signal });
    if (res.status !== 200 || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
      throw new Error(`GET ${url} → ${res.status} ${res.headers.get('content-type')}: ${await res.text()}`);
    }
    client.reading = client.read(res.body!);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const parser = createParser({
      onEvent: ({ id, event = 'message', data }) => {
        const parsed: SseEvent = { ...(id !== undefined ? { id } : {}), event, data };
        this.events.push(parsed);
        this.onEvent?.(parsed);
        this.changed?.();
      },
      onComment: (comment) => {
        this.comments.push(comment.trim());
        this.changed?.();
      },
    });
    try {
      for await (const chunk of body.pipeThrough(new TextDecoderStream())) parser.feed(chunk);
    } catch {
      // aborted by close()
    } finally {
      this.ended = true;
      this.changed?.();
    }
  }

  /** Resolves with the first event (already read or to come) that matches; rejects after `timeoutMs`. */
  async waitFor(what: string, match: (event: SseEvent) => boolean, timeoutMs = 15_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (this.ended) throw new Error(`the stream ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.events.map((e) => e.id).join(', ') || 'nothing'}`);
      await this.until(left);
    }
  }

  /** Waits until the stream ends (the server closed it). */
  async waitForEnd(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('the stream did not end');
      await this.until(left);
    }
  }

  private until(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.changed = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.reading;
  }
}

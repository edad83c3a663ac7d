import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** A failure the CLI reports in one sentence; `exitCode` 1 (it failed) or 2 (it was used wrongly). */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: 1 | 2;
  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export interface VideoView {
  id: string;
  status: 'queued' | 'processing' | 'ready' | 'failed';
  priority: string;
  title?: string;
  progress?: number;
  outputs?: Record<string, { bytes: number; width: number; height: number; contentType: string }>;
  skipped?: { name: string; reason: string }[];
  error?: { code: string; message: string };
  createdAt: string;
  [key: string]: unknown;
}

/** Event ids a stream remembers to drop repeats (a `Last-Event-ID` resume may replay what it had). */
const SEEN_IDS = 10_000;

export interface ReelayEventView {
  id: string;
  type: string;
  time: string;
  subject: string;
  data: Record<string, unknown>;
}

/**
 * The reelay HTTP API as the CLI uses it: JSON calls with the API key as a
 * Bearer token, problem+json errors turned into one sentence, and the
 * Server-Sent Events stream of `GET /v1/events` (parsed by eventsource-parser).
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly key: string | undefined;

  constructor(baseUrl: string, key: string | undefined) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new CliError(`--api must be a URL such as http://localhost:3000, not ${JSON.stringify(baseUrl)}`, 2);
    }
    this.baseUrl = url.href.replace(/\/$/, '');
    this.key = key || undefined;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.key ? { authorization: `Bearer ${this.key}` } : {}), ...extra };
  }

  async fetch(path: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.url(path), { ...init, headers: this.headers(init.headers as Record<string, string> | undefined) });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the reelay API at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}); is it running? (--api / REELAY_API_URL)`,
      );
    }
    const redirected = init.redirect === 'manual' && res.status >= 300 && res.status < 400;
    if (!res.ok && !redirected) throw await problem(res);
    return res;
  }

  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    return (await (await this.fetch(path, init)).json()) as T;
  }

  /**
   * Reads `GET /v1/events` (optionally filtered) and calls `onEvent` for each
   * event until `signal` aborts; reconnects with Last-Event-ID if the stream
   * drops, and hands each event on once. Resolves once the stream is open (the server has answered).
   */
  async events(query: Record<string, string>, onEvent: (event: ReelayEventView) => void, signal: AbortSignal): Promise<void> {
    let lastEventId: string | undefined;
    const seen = new Set<string>();
    const open = async (): Promise<ReadableStream<Uint8Array>> => {
      const res = await this.fetch(`/v1/events?${new URLSearchParams(query)}`, {
        headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        signal,
      });
      return res.body!;
    };
    const read = async (body: ReadableStream<Uint8Array>): Promise<void> => {
      const parser = createParser({
        onEvent(message: EventSourceMessage) {
          if (message.id) lastEventId = message.id;
          if (!message.event || message.data === '') return;
          try {
            const event = JSON.parse(message.data) as ReelayEventView;
            // A resume replays by time, so it may repeat events: ids are stable, drop what was seen.
            if (seen.has(event.id)) return;
            seen.add(event.id);
            if (seen.size > SEEN_IDS) seen.delete(seen.values().next().value!);
            onEvent(event);
          } catch {
            // not an event of ours: ignore
          }
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
    };
    const first = await open();
    void (async () => {
      let body: ReadableStream<Uint8Array> | undefined = first;
      while (!signal.aborted) {
        try {
          body ??= await open();
          await read(body);
        } catch {
          if (signal.aborted) return;
        }
        body = undefined;
        if (!signal.aborted) await new Promise((r) => setTimeout(r, 1000));
      }
    })();
  }
}

/** An error answer as one sentence: problem+json's title and detail, or the status line. */
async function problem(res: Response): Promise<CliError> {
  const text = await res.text().catch(() => '');
  let detail = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as { title?: string; detail?: string };
    detail = [body.title, body.detail].filter(Boolean).join(': ');
  } catch {
    // not JSON
  }
  const hint = res.status === 401 ? ' (set --key or REELAY_API_KEY)' : '';
  return new CliError(`the API answered ${res.status}${detail ? ` ${detail}` : ''}${hint}`);
}

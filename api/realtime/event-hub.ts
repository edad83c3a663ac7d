import type { ReelayEvent } from '../../core/events.ts';

/**
 * How far before the last-seen event's publish time a `Last-Event-ID` resume reaches back, ms: more than
 * SNS → SQS reordering (milliseconds to seconds) plus the clock skew between the processes that publish.
 */
export const RESUME_MARGIN_MS = 30_000;

/** Someone who wants every new event (an SSE connection); `close` ends it. */
export interface HubListener {
  event(event: ReelayEvent): void;
  close(): void;
}

/**
 * The events this API process received, in arrival order: a bounded buffer
 * (for `Last-Event-ID` resumption and `GET /v1/notifications`) plus the open
 * SSE connections. Delivery through SQS is at least once, so an id already in
 * the buffer is dropped.
 */
export class EventHub {
  readonly capacity: number;
  private readonly buffer: ReelayEvent[] = [];
  private readonly ids = new Set<string>();
  private readonly listeners = new Set<HubListener>();
  private closed = false;

  constructor({ capacity }: { capacity: number }) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.buffer.length;
  }

  get connections(): number {
    return this.listeners.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Adds a new event and hands it to every listener; false for a duplicate. */
  add(event: ReelayEvent): boolean {
    if (this.ids.has(event.id)) return false;
    this.buffer.push(event);
    this.ids.add(event.id);
    if (this.buffer.length > this.capacity) this.ids.delete(this.buffer.shift()!.id);
    for (const listener of this.listeners) listener.event(event);
    return true;
  }

  /** Everything buffered, oldest first. */
  all(): ReelayEvent[] {
    return [...this.buffer];
  }

  /**
   * What a client of `tenant` that last saw `id` may have missed, oldest first; undefined when no event of
   * this tenant with that id is buffered (so another tenant's id looks exactly like an unknown one).
   *
   * Never by position alone: SNS → SQS does not keep order, and each API process receives events in its own
   * order, so an event published just before `id` can arrive here after it, or before it on this instance
   * while the client (connected elsewhere) saw it later. So the replay is every buffered event of the tenant
   * published within `RESUME_MARGIN_MS` before `id` or at any time after it, plus every one that arrived here
   * after it (a late delivery). It may repeat events the client has: ids are stable, clients drop them.
   */
  since(id: string, tenant: string): ReelayEvent[] | undefined {
    const index = this.buffer.findLastIndex((event) => event.id === id && event.tenant === tenant);
    if (index < 0) return undefined;
    const from = Date.parse(this.buffer[index]!.time) - RESUME_MARGIN_MS;
    return this.buffer.filter((event, i) => {
      if (i === index || event.tenant !== tenant) return false;
      const time = Date.parse(event.time);
      // An unreadable time (ours or the event's) cannot prove the client saw it: replay it.
      return i > index || Number.isNaN(from) || Number.isNaN(time) || time >= from;
    });
  }

  /**
   * Registers a listener; returns the function that removes it. Call it in
   * the same tick as `since`/`all` so that no event falls between the replay
   * and the live feed.
   */
  subscribe(listener: HubListener): () => void {
    if (this.closed) {
      listener.close();
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ends every connection (shutdown) and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const listener of this.listeners) listener.close();
    this.listeners.clear();
  }
}

import type { ReelayEvent } from '../../core/events.ts';

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

  /** The events after `id`, oldest first; undefined when `id` is not (or no longer) in the buffer. */
  after(id: string): ReelayEvent[] | undefined {
    if (!this.ids.has(id)) return undefined;
    const index = this.buffer.findLastIndex((event) => event.id === id);
    return this.buffer.slice(index + 1);
  }

  /**
   * Registers a listener; returns the function that removes it. Call it in
   * the same tick as `after`/`all` so that no event falls between the replay
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

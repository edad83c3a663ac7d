import type { ReelayEvent } from '../../core/events.ts';
import { matchesFilter, type EventFilter } from './event-filter.ts';
import type { HubListener } from './event-hub.ts';

/**
 * The events waiting to be written to one SSE connection. A client that
 * falls more than `maxPending` events behind is disconnected; it reconnects
 * with `Last-Event-ID` and resumes from the buffer instead of growing memory.
 */
export class EventInbox implements HubListener {
  private readonly filter: EventFilter;
  private readonly maxPending: number;
  private readonly pending: ReelayEvent[] = [];
  private wake: (() => void) | undefined;
  closed = false;
  overflowed = false;

  constructor(filter: EventFilter, { maxPending }: { maxPending: number }) {
    this.filter = filter;
    this.maxPending = maxPending;
  }

  event(event: ReelayEvent): void {
    if (this.closed || !matchesFilter(this.filter, event)) return;
    if (this.pending.length >= this.maxPending) {
      this.overflowed = true;
      this.close();
      return;
    }
    this.pending.push(event);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  /** The next event; `idle` when none came within `timeoutMs`; `closed` once closed. */
  async next(timeoutMs: number): Promise<ReelayEvent | 'idle' | 'closed'> {
    if (this.closed) return 'closed';
    const ready = this.pending.shift();
    if (ready) return ready;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.wake = undefined;
    }
    if (this.closed) return 'closed';
    return this.pending.shift() ?? 'idle';
  }
}

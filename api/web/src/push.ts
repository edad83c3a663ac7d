/**
 * Live events, pushed: a WebSocket to /v1/ws where the API has one, else
 * Server-Sent Events from /v1/events. Both reconnect by themselves; SSE resumes
 * with Last-Event-ID, the WebSocket by resubscribing.
 */
import { token, withToken } from './api.ts';

export interface PushEvent {
  id: string;
  type: string;
  subject: string;
  data: Record<string, unknown>;
}

const TYPES = [
  'video.queued',
  'video.processing',
  'video.progress',
  'video.playable',
  'video.ready',
  'video.failed',
  'video.captions.added',
  'video.captions.removed',
  'live.started',
  'live.ended',
];

export async function connectPush(onEvent: (e: PushEvent) => void, onTransport: (name: string) => void): Promise<void> {
  const seen = new Set<string>();
  const deliver = (e: PushEvent) => {
    if (seen.has(e.id)) return;
    seen.add(e.id);
    onEvent(e);
  };
  if (await tryWebSocket(deliver, onTransport)) return;
  await sse(deliver, onTransport);
}

/** Resolves true once a WebSocket is open and subscribed; false when /v1/ws is not there. */
async function tryWebSocket(deliver: (e: PushEvent) => void, onTransport: (name: string) => void): Promise<boolean> {
  const url = new URL(withToken('/v1/ws', await token('watch')), location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return new Promise((resolve) => {
    let opened = false;
    const ws = new WebSocket(url);
    ws.onopen = () => {
      opened = true;
      ws.send(JSON.stringify({ type: 'subscribe', all: true }));
      onTransport('WebSocket /v1/ws');
      resolve(true);
    };
    ws.onmessage = (m) => {
      try {
        const event = JSON.parse(String(m.data)) as PushEvent;
        if (typeof event.type === 'string' && TYPES.includes(event.type)) deliver(event);
      } catch {
        /* not an event (pong, ack) */
      }
    };
    ws.onclose = () => {
      if (!opened) return resolve(false);
      onTransport('WebSocket closed, reconnecting…');
      setTimeout(() => void connectPushAgain(deliver, onTransport), 2000);
    };
  });
}

async function connectPushAgain(deliver: (e: PushEvent) => void, onTransport: (name: string) => void): Promise<void> {
  if (!(await tryWebSocket(deliver, onTransport))) await sse(deliver, onTransport);
}

async function sse(deliver: (e: PushEvent) => void, onTransport: (name: string) => void): Promise<void> {
  const source = new EventSource(withToken('/v1/events', await token('watch')));
  source.onopen = () => onTransport('Server-Sent Events /v1/events');
  source.onerror = () => {
    onTransport('events: reconnecting…');
    // A refused reconnect (an expired token) closes the stream for good: open a new one with a fresh token.
    if (source.readyState === EventSource.CLOSED) setTimeout(() => void sse(deliver, onTransport), 2000);
  };
  for (const type of TYPES) {
    source.addEventListener(type, (m) => deliver(JSON.parse((m as MessageEvent<string>).data) as PushEvent));
  }
}

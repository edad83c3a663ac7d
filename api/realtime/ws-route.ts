import { upgradeWebSocket } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import type { WSContext } from 'hono/ws';
import { z } from 'zod';
import type { ReelayEvent } from '../../core/events.ts';
import { isChannelId, isVideoId } from '../../core/ids.ts';
import type { Logger } from '../../core/logger.ts';
import type { IncomingMessage } from 'node:http';
import type { AppEnv } from '../app-env.ts';
import { tooManyAtOnce, type ConcurrencyLimit } from '../middleware/concurrency-limit.ts';
import { callerEventFilter, matchesFilter, type EventFilter } from './event-filter.ts';
import type { EventHub, HubListener } from './event-hub.ts';
import type { TokenClaims } from '../auth/tokens.ts';

export interface WsRouteDeps {
  hub: EventHub;
  /** A WebSocket ping this often, ms (REELAY_SSE_HEARTBEAT_SECONDS); a client that missed the last pong is dropped. */
  heartbeatMs: number;
  /** Bytes a connection may have waiting to be sent before it is closed with 1013 (it cannot keep up). */
  maxBufferedBytes?: number;
  /** Open streams per API key (REELAY_MAX_STREAMS_PER_KEY), shared with `/v1/events`. */
  streams?: ConcurrencyLimit;
  logger: Logger;
}

export const DEFAULT_WS_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Subscriptions one connection may hold: each is checked against every event this process receives. */
export const MAX_SUBSCRIPTIONS = 100;
/**
 * Client messages: a burst of this many, then this many a second (a token bucket). A client subscribing to
 * its hundred channels at once fits; a flood of tiny frames is closed with 1008 instead of being parsed and
 * answered without end.
 */
export const MESSAGE_BURST = 200;
export const MESSAGES_PER_SECOND = 20;
/** RFC 6455 close codes used here. */
export const CLOSE = { goingAway: 1001, policy: 1008, tryAgainLater: 1013 } as const;

const target = z.union([
  z.strictObject({ videoId: z.string().refine(isVideoId, 'not a video id') }),
  z.strictObject({ channelId: z.string().refine(isChannelId, 'not a channel id') }),
  z.strictObject({ all: z.literal(true) }),
]);
const clientMessage = z.intersection(z.object({ type: z.enum(['subscribe', 'unsubscribe']) }), z.record(z.string(), z.unknown()));

type Target = z.infer<typeof target>;
const targetKey = (t: Target) => ('videoId' in t ? `video:${t.videoId}` : 'channelId' in t ? `channel:${t.channelId}` : 'all');

/**
 * One WebSocket connection's subscriptions. Every event this API process
 * receives (the hub) is checked against the connection's base filter (tenant,
 * the reach of a `watch` token, the query's `type`) and then against its
 * subscriptions. A client whose unsent data (events and replies) grows past
 * the bound is closed with 1013 rather than buffered without end; one that
 * sends faster than the message rate is closed with 1008; subscriptions are
 * capped (MAX_SUBSCRIPTIONS).
 */
class WsConnection implements HubListener {
  private readonly subscriptions = new Map<string, EventFilter>();
  private readonly base: EventFilter;
  private readonly token: TokenClaims | undefined;
  private readonly ws: WSContext;
  private readonly hub: EventHub;
  private readonly maxBufferedBytes: number;
  private closed = false;
  private allowance = MESSAGE_BURST;
  private lastMessageAt = performance.now();

  constructor({
    base,
    token,
    ws,
    hub,
    maxBufferedBytes,
  }: {
    base: EventFilter;
    token: TokenClaims | undefined;
    ws: WSContext;
    hub: EventHub;
    maxBufferedBytes: number;
  }) {
    this.base = base;
    this.token = token;
    this.ws = ws;
    this.hub = hub;
    this.maxBufferedBytes = maxBufferedBytes;
  }

  event(event: ReelayEvent): void {
    if (this.closed || !matchesFilter(this.base, event)) return;
    for (const filter of this.subscriptions.values()) {
      if (matchesFilter(filter, event)) {
        this.send(event);
        return;
      }
    }
  }

  close(code: number = CLOSE.goingAway, reason = 'the server is shutting down; reconnect'): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.close(code, reason);
  }

  /** Closing or closed: the close frame is queued behind what the peer has yet to read. */
  get closing(): boolean {
    return this.closed;
  }

  /** The peer closed (or the socket died): nothing more is sent. */
  ended(): void {
    this.closed = true;
  }

  /** Whether one more client message fits the rate (MESSAGE_BURST, then MESSAGES_PER_SECOND). */
  private withinRate(): boolean {
    const now = performance.now();
    this.allowance = Math.min(MESSAGE_BURST, this.allowance + ((now - this.lastMessageAt) / 1000) * MESSAGES_PER_SECOND);
    this.lastMessageAt = now;
    if (this.allowance < 1) return false;
    this.allowance -= 1;
    return true;
  }

  /** Handles one client message; answers `subscribed` / `unsubscribed`, or `error` saying what was wrong. */
  message(text: string): void {
    if (this.closed) return;
    if (!this.withinRate()) {
      this.close(CLOSE.policy, `too many messages: at most ${MESSAGES_PER_SECOND} a second`);
      return;
    }
    let parsed: { type: 'subscribe' | 'unsubscribe'; t: Target };
    try {
      const { type, ...rest } = clientMessage.parse(JSON.parse(text)) as { type: 'subscribe' | 'unsubscribe' };
      parsed = { type, t: target.parse(rest) };
    } catch {
      this.reply({
        type: 'error',
        message: 'expected {"type":"subscribe"|"unsubscribe", and one of "videoId": "<id>", "channelId": "<id>", "all": true}',
      });
      return;
    }
    const { type, t } = parsed;
    const key = targetKey(t);
    if (type === 'unsubscribe') {
      this.subscriptions.delete(key);
      this.reply({ type: 'unsubscribed', ...t });
      return;
    }
    if (!this.subscriptions.has(key) && this.subscriptions.size >= MAX_SUBSCRIPTIONS) {
      this.reply({ type: 'error', message: `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection; unsubscribe first`, ...t });
      return;
    }
    const filter = this.narrow(t);
    if (!filter) {
      this.reply({ type: 'error', message: `this watch token does not reach ${key}`, ...t });
      return;
    }
    this.subscriptions.set(key, filter);
    this.reply({ type: 'subscribed', ...t });
    // A video's or channel's events already buffered come first (a client subscribing right after its upload
    // would otherwise miss `video.queued`); hub delivery is synchronous, so nothing falls in between.
    if (!('all' in t))
      for (const event of this.hub.all()) if (matchesFilter(this.base, event) && matchesFilter(filter, event)) this.send(event);
  }

  /** The filter of a subscription, or undefined when the token does not allow it. */
  private narrow(t: Target): EventFilter | undefined {
    const filter: EventFilter = { ...this.base };
    if ('videoId' in t) filter.videoId = t.videoId;
    if ('channelId' in t) filter.channelId = t.channelId;
    for (const field of ['videoId', 'channelId'] as const) {
      const allowed = this.token?.[field];
      if (allowed === undefined) continue;
      // A token for one video or channel: "all" means all of it; anything else must be it.
      if ('all' in t) filter[field] = allowed;
      else if (filter[field] !== allowed) return undefined;
    }
    return filter;
  }

  private reply(message: Record<string, unknown>): void {
    if (!this.closed) this.send(message);
  }

  /** Every frame to the client, replies and events alike, counts against the buffer bound. */
  private send(message: ReelayEvent | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
    const raw = this.ws.raw as { bufferedAmount?: number } | undefined;
    if ((raw?.bufferedAmount ?? 0) > this.maxBufferedBytes) {
      this.close(CLOSE.tryAgainLater, 'too far behind: reconnect and subscribe again');
    }
  }
}

/**
 * `GET /v1/ws`: WebSocket push of the same CloudEvents as `/v1/events`.
 * Client messages: `{"type":"subscribe","videoId"|"channelId":"…"}` or
 * `{"type":"subscribe","all":true}`, and `unsubscribe` alike; the query takes
 * the `/v1/events` filters (`videoId`, `channelId`, `type`) as a first
 * subscription. Authenticated like `/v1/events` (API key, or a `watch` token
 * as `?token=`, since browsers cannot set headers on a WebSocket).
 */
export function wsRoute({
  hub,
  heartbeatMs,
  maxBufferedBytes = DEFAULT_WS_MAX_BUFFERED_BYTES,
  streams,
  logger,
}: WsRouteDeps): MiddlewareHandler<AppEnv> {
  return upgradeWebSocket((c: Context<AppEnv>) => {
    const token = c.get('token');
    const { videoId, channelId, type } = c.req.query();
    // Validates the query (400 before the upgrade) and applies the token's reach.
    const initial = callerEventFilter(c.get('tenant'), token, { videoId, channelId, type });
    let release: (() => void) | undefined;
    if (streams && c.req.header('upgrade')?.toLowerCase() === 'websocket') {
      release = streams.tryAcquire(c.get('caller') ?? 'anonymous');
      if (!release) throw tooManyAtOnce('event streams open', streams.max, 'REELAY_MAX_STREAMS_PER_KEY');
      // Given back when the connection ends, whether or not the upgrade completed.
      (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.once('close', release);
    }
    const base: EventFilter = { tenant: initial.tenant, ...(initial.types ? { types: initial.types } : {}) };
    let connection: WsConnection | undefined;
    let unsubscribe: (() => void) | undefined;
    let pinger: NodeJS.Timeout | undefined;
    let alive = true;
    return {
      onOpen(_event, ws) {
        connection = new WsConnection({ base, token, ws, hub, maxBufferedBytes });
        unsubscribe = hub.subscribe(connection);
        if (initial.videoId) connection.message(JSON.stringify({ type: 'subscribe', videoId: initial.videoId }));
        else if (initial.channelId) connection.message(JSON.stringify({ type: 'subscribe', channelId: initial.channelId }));
        const raw = ws.raw as { ping?: () => void; on?: (event: 'pong', listener: () => void) => void; terminate?: () => void } | undefined;
        raw?.on?.('pong', () => (alive = true));
        pinger = setInterval(() => {
          // Closing (e.g. 1013): the close frame waits behind the data the peer has yet to read, and so would its
          // pongs; `ws` destroys the socket itself if the closing handshake never completes.
          if (connection?.closing) return;
          // No pong since the last ping: the peer is gone without a close (a dropped network).
          if (!alive) {
            raw?.terminate?.();
            return;
          }
          alive = false;
          raw?.ping?.();
        }, heartbeatMs);
      },
      onMessage(event) {
        if (typeof event.data !== 'string') {
          connection?.close(CLOSE.policy, 'send JSON text messages');
          return;
        }
        if (event.data.length > 4096) {
          connection?.close(CLOSE.policy, 'message too large');
          return;
        }
        connection?.message(event.data);
      },
      onClose() {
        release?.();
        clearInterval(pinger);
        unsubscribe?.();
        connection?.ended();
      },
      onError(event) {
        logger.debug({ err: (event as Event & { error?: unknown }).error }, 'websocket error');
      },
    };
  });
}

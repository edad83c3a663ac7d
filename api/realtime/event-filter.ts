import { EVENT_TYPES, type EventType, type ReelayEvent } from '../../core/events.ts';
import { isChannelId, isVideoId } from '../../core/ids.ts';
import { badRequest } from '../middleware/problem.ts';
import { outOfScope, type TokenClaims } from '../auth/tokens.ts';

/** Which events a client wants: all given conditions must hold. */
export interface EventFilter {
  /** The caller's tenant: no stream ever carries another tenant's events. */
  tenant: string;
  videoId?: string;
  /** Live events of the channel, and the video events of its recordings. */
  channelId?: string;
  types?: ReadonlySet<EventType>;
}

/** The caller's `tenant` and `?videoId=&channelId=&type=video.ready,video.failed`; a malformed value is a 400. */
export function parseEventFilter(tenant: string, query: Record<string, string | undefined>): EventFilter {
  const filter: EventFilter = { tenant };
  const { videoId, channelId, type } = query;
  if (videoId !== undefined) {
    if (!isVideoId(videoId)) throw badRequest(`videoId ${JSON.stringify(videoId.slice(0, 50))} is not a video id`);
    filter.videoId = videoId;
  }
  if (channelId !== undefined) {
    if (!isChannelId(channelId)) throw badRequest(`channelId ${JSON.stringify(channelId.slice(0, 80))} is not a channel id`);
    filter.channelId = channelId;
  }
  if (type !== undefined) {
    const types = type
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const unknown = types.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t));
    if (types.length === 0 || unknown.length > 0) {
      throw badRequest(`type must list event types among ${EVENT_TYPES.join(', ')}; got ${JSON.stringify(type.slice(0, 100))}`);
    }
    filter.types = new Set(types as EventType[]);
  }
  return filter;
}

/**
 * The filter of a request: the caller's tenant, its query, and the reach of a
 * `watch` token (one video, one channel, or the whole tenant). A query asking
 * for more than the token allows is a 403.
 */
export function callerEventFilter(tenant: string, token: TokenClaims | undefined, query: Record<string, string | undefined>): EventFilter {
  const filter = parseEventFilter(tenant, query);
  if (!token) return filter;
  for (const field of ['videoId', 'channelId'] as const) {
    const allowed = token[field];
    if (allowed === undefined) continue;
    if (filter[field] !== undefined && filter[field] !== allowed) throw outOfScope(`this watch token is for ${field} ${allowed} only`);
    filter[field] = allowed;
  }
  return filter;
}

export function matchesFilter(filter: EventFilter, event: ReelayEvent): boolean {
  const data = event.data as { videoId?: string; channelId?: string };
  if (event.tenant !== filter.tenant) return false;
  if (filter.videoId !== undefined && data.videoId !== filter.videoId) return false;
  if (filter.channelId !== undefined && data.channelId !== filter.channelId) return false;
  if (filter.types !== undefined && !filter.types.has(event.type)) return false;
  return true;
}

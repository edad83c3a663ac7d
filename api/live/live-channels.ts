import type { S3Client } from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import { HttpProblem } from '../../core/errors.ts';
import { makeEvent, type EventPublisher } from '../../core/events.ts';
import { JsonDocuments } from '../../core/json-documents.ts';
import type { Logger } from '../../core/logger.ts';
import { tenantFolder } from '../../core/tenants.ts';
import { EVENT_SOURCE } from '../event-source.ts';

export interface LiveSession {
  sessionId: string;
  title?: string;
  startedAt: string;
  endedAt?: string;
}

/**
 * `channels/<channelId>.json` in the media bucket (`tenants/<tenant>/channels/…` for tenants other than
 * `default`): the session in progress, or the last one. Channel ids are chosen by clients, so each
 * tenant has its own namespace of them.
 */
interface StoredChannel {
  channelId: string;
  status: 'live' | 'offline';
  session?: LiveSession & {
    /** Set once `live.started` / `live.ended` is on SNS; a repeated request publishes what is still missing. */
    startedAnnounced: boolean;
    endedAnnounced: boolean;
  };
  sessionCount: number;
  updatedAt: string;
}

/** The public JSON of a channel. */
export interface ChannelView {
  channelId: string;
  status: 'live' | 'offline';
  /** The session in progress, while live. */
  session?: LiveSession;
  /** The last session, while offline. */
  lastSession?: LiveSession;
  sessionCount: number;
  links: { self: string };
}

/**
 * Live sessions of channels. Starting a live channel or ending an offline one
 * changes nothing and publishes nothing; each transition is written with a
 * conditional S3 write (two API processes cannot both start a session) and
 * announced once, with an id stable per session (`live.started:<channel>:<session>`).
 */
export class LiveChannels {
  private readonly s3: S3Client;
  private readonly mediaBucket: string;
  private readonly events: EventPublisher;
  private readonly logger: Logger;
  constructor({ s3, mediaBucket, events, logger }: { s3: S3Client; mediaBucket: string; events: EventPublisher; logger: Logger }) {
    this.s3 = s3;
    this.mediaBucket = mediaBucket;
    this.events = events;
    this.logger = logger;
  }

  private docs(tenant: string): JsonDocuments<StoredChannel> {
    return new JsonDocuments(this.s3, this.mediaBucket, tenantFolder(tenant, 'channels'));
  }

  async get(tenant: string, channelId: string): Promise<ChannelView> {
    return view(channelId, await this.docs(tenant).get(channelId));
  }

  /** True once the tenant's channel has had a live session: its recordings are queued at `high`. */
  async exists(tenant: string, channelId: string): Promise<boolean> {
    return (await this.docs(tenant).get(channelId)) !== undefined;
  }

  /** Starts a session unless one is in progress; `started` says whether this call started it. */
  async start(tenant: string, channelId: string, { title }: { title?: string } = {}): Promise<{ channel: ChannelView; started: boolean }> {
    // The previous session's events still unpublished (a failed publish) go out first, always: once a new
    // session replaces it in the document, nothing would remember them.
    const previous = await this.docs(tenant).get(channelId);
    let announcedNow: string | undefined;
    if (previous?.status === 'offline' && previous.session && !(previous.session.startedAnnounced && previous.session.endedAnnounced)) {
      await this.announcePending(tenant, previous);
      announcedNow = previous.session.sessionId;
    }
    const now = new Date().toISOString();
    const { doc, changed } = await this.docs(tenant).update(channelId, (current) => {
      if (current?.status === 'live') return undefined;
      // Ended by another API process since the read above, its live.ended not out yet: never replace it.
      const pendingEnd = current?.session?.endedAt !== undefined && !current.session.endedAnnounced;
      if (pendingEnd && current.session!.sessionId !== announcedNow) {
        throw new HttpProblem(
          409,
          'Conflict',
          `channel ${channelId} has just ended and its live.ended is not published yet; repeat the request`,
        );
      }
      return {
        channelId,
        status: 'live',
        session: { sessionId: ulid(), ...(title ? { title } : {}), startedAt: now, startedAnnounced: false, endedAnnounced: false },
        sessionCount: (current?.sessionCount ?? 0) + 1,
        updatedAt: now,
      };
    });
    return { channel: view(channelId, await this.announcePending(tenant, doc!)), started: changed };
  }

  /** Ends the session in progress, if any; `ended` says whether this call ended it. */
  async end(tenant: string, channelId: string): Promise<{ channel: ChannelView; ended: boolean }> {
    const now = new Date().toISOString();
    const { doc, changed } = await this.docs(tenant).update(channelId, (current) => {
      if (current?.status !== 'live' || !current.session) return undefined;
      return { ...current, status: 'offline', session: { ...current.session, endedAt: now }, updatedAt: now };
    });
    return { channel: view(channelId, doc && (await this.announcePending(tenant, doc))), ended: changed };
  }

  /**
   * Publishes the session's events not yet announced (normally the one just
   * caused; after a failed publish, also the earlier one), in order.
   */
  private async announcePending(tenant: string, doc: StoredChannel): Promise<StoredChannel> {
    const session = doc.session;
    if (!session) return doc;
    const { channelId } = doc;
    const { sessionId } = session;
    const options = (type: string) => ({ id: `${type}:${channelId}:${sessionId}`, source: EVENT_SOURCE, subject: channelId, tenant });
    const pending = [
      !session.startedAnnounced &&
        makeEvent('live.started', { channelId, sessionId, ...(session.title ? { title: session.title } : {}) }, options('live.started')),
      session.endedAt !== undefined && !session.endedAnnounced && makeEvent('live.ended', { channelId, sessionId }, options('live.ended')),
    ].filter((event) => event !== false);
    if (pending.length === 0) return doc;

    for (const event of pending) {
      try {
        await this.events.publish(event);
      } catch (err) {
        throw new HttpProblem(
          503,
          'Service Unavailable',
          `channel ${channelId} is ${doc.status}, but ${event.type} could not be published (${(err as Error).message}); repeat the request to publish it`,
          { cause: err },
        );
      }
    }
    const announced = (s: NonNullable<StoredChannel['session']>) => ({
      ...s,
      startedAnnounced: true,
      endedAnnounced: s.endedAt !== undefined,
    });
    try {
      const { doc: marked } = await this.docs(tenant).update(channelId, (current) =>
        current?.session?.sessionId === sessionId ? { ...current, session: announced(current.session) } : undefined,
      );
      return marked ?? doc;
    } catch (err) {
      // The events are out; at worst a repeated request publishes them again under the same ids.
      this.logger.warn({ err, channelId, sessionId }, 'could not record that the live events were published');
      return { ...doc, session: announced(session) };
    }
  }
}

function view(channelId: string, doc: StoredChannel | undefined): ChannelView {
  const base = { channelId, links: { self: `/v1/channels/${channelId}/live` } };
  if (!doc?.session) return { ...base, status: 'offline', sessionCount: 0 };
  const { startedAnnounced: _s, endedAnnounced: _e, ...session } = doc.session;
  return doc.status === 'live'
    ? { ...base, status: 'live', session, sessionCount: doc.sessionCount }
    : { ...base, status: 'offline', lastSession: session, sessionCount: doc.sessionCount };
}

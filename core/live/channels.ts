import type { S3Client } from '@aws-sdk/client-s3';
import { ulid } from 'ulid';
import { HttpProblem } from '../errors.ts';
import { makeEvent, type EventPublisher } from '../events.ts';
import { JsonDocuments, isWriteConflict } from '../json-documents.ts';
import type { Logger } from '../logger.ts';
import { tenantFolder } from '../tenants.ts';
import { looksLikeStreamKey, newStreamKey, StreamKeyIndex, streamKeyHash } from './stream-keys.ts';

export interface LiveSession {
  sessionId: string;
  title?: string;
  startedAt: string;
  endedAt?: string;
  /** `ingest`: the stream came to reelay's RTMP ingest; absent: started with POST /v1/channels/:id/live. */
  origin?: 'ingest';
  /** The video the ingest makes of the session's recording once it ends. */
  recordingVideoId?: string;
}

/**
 * `channels/<channelId>.json` in the media bucket (`tenants/<tenant>/channels/…` for tenants other than
 * `default`): the channel's name and stream key hash, and the session in progress, or the last one. Channel ids
 * are chosen by clients or made by POST /v1/channels, so each tenant has its own namespace of them.
 */
interface StoredChannel {
  channelId: string;
  name?: string;
  status: 'live' | 'offline';
  session?: LiveSession & {
    /** Set once `live.started` / `live.ended` is on SNS; the next transition publishes what is still missing. */
    startedAnnounced: boolean;
    endedAnnounced: boolean;
  };
  sessionCount: number;
  /** SHA-256 of the stream key the ingest accepts for this channel now (none: not publishable over RTMP). */
  streamKey?: { hash: string; createdAt: string };
  createdAt?: string;
  updatedAt: string;
}

/** The public JSON of a channel (never its stream key: that is shown once, when made). */
export interface ChannelView {
  channelId: string;
  name?: string;
  status: 'live' | 'offline';
  /** The session in progress, while live. */
  session?: LiveSession;
  /** The last session, while offline. */
  lastSession?: LiveSession;
  sessionCount: number;
  /** When the current stream key was made; absent when the channel has none. */
  streamKey?: { createdAt: string };
  links: { self: string; hls?: string };
}

/** Where a stream key is shown: the channel and its fresh key (only in the answer that made it). */
export interface ChannelWithKey {
  channel: ChannelView;
  streamKey: string;
}

export interface LiveChannelsDeps {
  s3: S3Client;
  mediaBucket: string;
  events: EventPublisher;
  logger: Logger;
  /** CloudEvents `source` of the live events this process publishes (`/reelay/api`, `/reelay/live`). */
  source: string;
}

/**
 * Live channels and their sessions, shared by the API (channels, keys, manual start and end) and the live ingest
 * (sessions started and ended by the stream). Starting a live channel or ending an offline one changes nothing
 * and publishes nothing; each transition is written with a conditional S3 write (two processes cannot both start
 * a session) and announced once, with an id stable per session (`live.started:<channel>:<session>`): the event
 * is marked on the session once published, and a transition that finds an unmarked one publishes it first.
 */
export class LiveChannels {
  private readonly deps: LiveChannelsDeps;
  private readonly keys: StreamKeyIndex;
  constructor(deps: LiveChannelsDeps) {
    this.deps = deps;
    this.keys = new StreamKeyIndex(deps.s3, deps.mediaBucket);
  }

  private docs(tenant: string): JsonDocuments<StoredChannel> {
    return new JsonDocuments(this.deps.s3, this.deps.mediaBucket, tenantFolder(tenant, 'channels'));
  }

  async get(tenant: string, channelId: string): Promise<ChannelView> {
    return view(channelId, await this.docs(tenant).get(channelId));
  }

  /** True once the tenant's channel exists (made, or live once): its recordings are queued at `high`. */
  async exists(tenant: string, channelId: string): Promise<boolean> {
    return (await this.docs(tenant).get(channelId)) !== undefined;
  }

  async list(tenant: string): Promise<ChannelView[]> {
    const docs = await this.docs(tenant).list();
    return docs.map((doc) => view(doc.channelId, doc)).sort((a, b) => a.channelId.localeCompare(b.channelId));
  }

  /** Makes a channel with a stream key; 409 when the id is taken. */
  async create(tenant: string, { channelId = `ch_${ulid()}`, name }: { channelId?: string; name?: string }): Promise<ChannelWithKey> {
    const taken = () =>
      new HttpProblem(
        409,
        'Conflict',
        `channel ${channelId} exists; give it a new stream key with POST /v1/channels/${channelId}/stream-key`,
      );
    // Checked first (and again by the conditional create below, which closes the race on S3 itself).
    if (await this.exists(tenant, channelId)) throw taken();
    const streamKey = newStreamKey();
    const hash = streamKeyHash(streamKey);
    const now = new Date().toISOString();
    // The lookup first: a channel document never names a key that cannot be found.
    await this.keys.register(hash, { tenant, channelId, createdAt: now });
    const doc: StoredChannel = {
      channelId,
      ...(name ? { name } : {}),
      status: 'offline',
      sessionCount: 0,
      streamKey: { hash, createdAt: now },
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.docs(tenant).create(channelId, doc);
    } catch (err) {
      await this.keys.remove(hash).catch(() => undefined);
      if (isWriteConflict(err)) throw taken();
      throw err;
    }
    return { channel: view(channelId, doc), streamKey };
  }

  /** A new stream key for an existing channel; the old one stops working at once (a stream already going on is not cut). */
  async rotateStreamKey(tenant: string, channelId: string): Promise<ChannelWithKey> {
    if (!(await this.exists(tenant, channelId))) throw new HttpProblem(404, 'Not Found', `no channel ${channelId}`);
    const streamKey = newStreamKey();
    const hash = streamKeyHash(streamKey);
    const now = new Date().toISOString();
    await this.keys.register(hash, { tenant, channelId, createdAt: now });
    let previous: string | undefined;
    const { doc } = await this.docs(tenant).update(channelId, (current) => {
      if (!current) return undefined;
      previous = current.streamKey?.hash;
      return { ...current, streamKey: { hash, createdAt: now }, updatedAt: now };
    });
    if (!doc || doc.streamKey?.hash !== hash) {
      await this.keys.remove(hash).catch(() => undefined);
      throw new HttpProblem(404, 'Not Found', `no channel ${channelId}`);
    }
    if (previous) {
      // Refused from now on either way (the channel names the new hash); the stale lookup is only clutter.
      await this.keys
        .remove(previous)
        .catch((err: unknown) => this.deps.logger.warn({ err, channelId }, 'could not remove a replaced stream key'));
    }
    return { channel: view(channelId, doc), streamKey };
  }

  /** The channel a stream key publishes to, or undefined for a key that is malformed, unknown or replaced. */
  async resolveStreamKey(streamKey: string): Promise<{ tenant: string; channelId: string; name?: string } | undefined> {
    if (!looksLikeStreamKey(streamKey)) return undefined;
    const hash = streamKeyHash(streamKey);
    const owner = await this.keys.owner(hash);
    if (!owner) return undefined;
    const doc = await this.docs(owner.tenant).get(owner.channelId);
    if (doc?.streamKey?.hash !== hash) return undefined;
    return { tenant: owner.tenant, channelId: owner.channelId, ...(doc.name ? { name: doc.name } : {}) };
  }

  /** Starts a session unless one is in progress; `started` says whether this call started it. */
  async start(tenant: string, channelId: string, { title }: { title?: string } = {}): Promise<{ channel: ChannelView; started: boolean }> {
    const { doc, changed } = await this.beginSession(tenant, channelId, (current) =>
      current?.status === 'live' ? undefined : { sessionId: ulid(), ...(title ? { title } : {}), startedAt: new Date().toISOString() },
    );
    return { channel: view(channelId, doc), started: changed };
  }

  /** Ends the session in progress, if any; `ended` says whether this call ended it. */
  async end(tenant: string, channelId: string): Promise<{ channel: ChannelView; ended: boolean }> {
    return this.endSession(tenant, channelId, () => true);
  }

  /**
   * The ingest's start: a stream's first keyframe arrived. Continues the channel's session in progress (a
   * reconnect, or a channel started by hand, which the stream then carries on), else starts one. Returns the
   * session and whether this call started it.
   */
  async startIngest(
    tenant: string,
    channelId: string,
    { recordingVideoId, title }: { recordingVideoId: string; title?: string },
  ): Promise<{ session: LiveSession; started: boolean }> {
    const { doc, fresh } = await this.beginSession(
      tenant,
      channelId,
      (current) =>
        current?.status === 'live'
          ? undefined
          : { sessionId: ulid(), ...(title ? { title } : {}), startedAt: new Date().toISOString(), origin: 'ingest', recordingVideoId },
      // A session started by hand: from now on the stream carries it, and its recording is this video.
      (session) =>
        session.origin === 'ingest' && session.recordingVideoId
          ? undefined
          : { ...session, origin: 'ingest', recordingVideoId: session.recordingVideoId ?? recordingVideoId },
    );
    const { startedAnnounced: _s, endedAnnounced: _e, ...session } = doc.session!;
    return { session, started: fresh };
  }

  /** The ingest's end: the grace window after the stream stopped has passed. Ends only that session. */
  async endIngest(tenant: string, channelId: string, sessionId: string): Promise<{ ended: boolean }> {
    const { ended } = await this.endSession(tenant, channelId, (session) => session.sessionId === sessionId);
    return { ended };
  }

  /** Whether the session is the channel's live one (the ingest stops a stream whose session was ended by hand). */
  async isLive(tenant: string, channelId: string, sessionId: string): Promise<boolean> {
    const doc = await this.docs(tenant).get(channelId);
    return doc?.status === 'live' && doc.session?.sessionId === sessionId;
  }

  private async beginSession(
    tenant: string,
    channelId: string,
    freshSession: (current: StoredChannel | undefined) => LiveSession | undefined,
    adopt?: (session: LiveSession) => LiveSession | undefined,
  ): Promise<{ doc: StoredChannel; changed: boolean; fresh: boolean }> {
    // The previous session's events still unpublished (a failed publish) go out first, always: once a new
    // session replaces it in the document, nothing would remember them.
    const previous = await this.docs(tenant).get(channelId);
    let announcedNow: string | undefined;
    if (previous?.status === 'offline' && previous.session && !(previous.session.startedAnnounced && previous.session.endedAnnounced)) {
      await this.announcePending(tenant, previous);
      announcedNow = previous.session.sessionId;
    }
    const now = new Date().toISOString();
    let fresh = false;
    const { doc, changed } = await this.docs(tenant).update(channelId, (current) => {
      fresh = false;
      if (current?.status === 'live' && current.session) {
        const adopted = adopt?.(current.session);
        return adopted ? { ...current, session: { ...current.session, ...adopted }, updatedAt: now } : undefined;
      }
      const session = freshSession(current);
      if (!session) return undefined;
      fresh = true;
      // Ended by another process since the read above, its live.ended not out yet: never replace it.
      const pendingEnd = current?.session?.endedAt !== undefined && !current.session.endedAnnounced;
      if (pendingEnd && current.session!.sessionId !== announcedNow) {
        throw new HttpProblem(
          409,
          'Conflict',
          `channel ${channelId} has just ended and its live.ended is not published yet; repeat the request`,
        );
      }
      return {
        ...current,
        channelId,
        status: 'live',
        session: { ...session, startedAnnounced: false, endedAnnounced: false },
        sessionCount: (current?.sessionCount ?? 0) + 1,
        updatedAt: now,
      };
    });
    return { doc: await this.announcePending(tenant, doc!), changed, fresh: changed && fresh };
  }

  private async endSession(
    tenant: string,
    channelId: string,
    matches: (session: LiveSession) => boolean,
  ): Promise<{ channel: ChannelView; ended: boolean }> {
    const now = new Date().toISOString();
    const { doc, changed } = await this.docs(tenant).update(channelId, (current) => {
      if (current?.status !== 'live' || !current.session || !matches(current.session)) return undefined;
      return { ...current, status: 'offline', session: { ...current.session, endedAt: now }, updatedAt: now };
    });
    // Also an end already written whose live.ended is not out yet (a failed publish) is published now.
    const announced = doc?.session && matches(doc.session) ? await this.announcePending(tenant, doc) : doc;
    return { channel: view(channelId, announced), ended: changed };
  }

  /**
   * Publishes the session's events not yet announced (normally the one just caused; after a failed publish,
   * also the earlier one), in order, then marks them on the session.
   */
  private async announcePending(tenant: string, doc: StoredChannel): Promise<StoredChannel> {
    const session = doc.session;
    if (!session) return doc;
    const { channelId } = doc;
    const { sessionId } = session;
    const options = (type: string) => ({ id: `${type}:${channelId}:${sessionId}`, source: this.deps.source, subject: channelId, tenant });
    const pending = [
      !session.startedAnnounced &&
        makeEvent('live.started', { channelId, sessionId, ...(session.title ? { title: session.title } : {}) }, options('live.started')),
      session.endedAt !== undefined && !session.endedAnnounced && makeEvent('live.ended', { channelId, sessionId }, options('live.ended')),
    ].filter((event) => event !== false);
    if (pending.length === 0) return doc;

    for (const event of pending) {
      try {
        await this.deps.events.publish(event);
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
      // The events are out; at worst a repeated transition publishes them again under the same ids.
      this.deps.logger.warn({ err, channelId, sessionId }, 'could not record that the live events were published');
      return { ...doc, session: announced(session) };
    }
  }
}

function view(channelId: string, doc: StoredChannel | undefined): ChannelView {
  const links = { self: `/v1/channels/${channelId}/live` };
  const base = {
    channelId,
    ...(doc?.name ? { name: doc.name } : {}),
    ...(doc?.streamKey ? { streamKey: { createdAt: doc.streamKey.createdAt } } : {}),
  };
  if (!doc?.session) return { ...base, status: 'offline', sessionCount: doc?.sessionCount ?? 0, links };
  const { startedAnnounced: _s, endedAnnounced: _e, ...session } = doc.session;
  if (doc.status !== 'live') return { ...base, status: 'offline', lastSession: session, sessionCount: doc.sessionCount, links };
  const hls = session.origin === 'ingest' ? { hls: `/v1/channels/${channelId}/live/master.m3u8` } : {};
  return { ...base, status: 'live', session, sessionCount: doc.sessionCount, links: { ...links, ...hls } };
}

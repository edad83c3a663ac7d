import { GetObjectCommand } from '@aws-sdk/client-s3';
import type AVPacket from 'node-media-server/src/core/avpacket.js';
import Flv from 'node-media-server/src/protocol/flv.js';
import { ulid } from 'ulid';
import type { LiveSettings } from '../../../core/config/index.ts';
import { makeEvent } from '../../../core/events.ts';
import { newVideoId } from '../../../core/ids.ts';
import { LIVE_MEDIA_PLAYLIST, livePresentationPrefix, recordingPartEndMs, recordingPrefix } from '../../../core/live/live-paths.ts';
import type { Logger } from '../../../core/logger.ts';
import { LiveRun } from '../live-run.ts';
import { checkStream, planLiveLadder, type LiveRendition } from '../media/live-ladder.ts';
import {
  AUDIO_SEQUENCE_HEADER,
  FLV_AUDIO,
  FLV_SCRIPT,
  FLV_VIDEO,
  StreamInfoReader,
  isKeyframe,
  VIDEO_SEQUENCE_HEADER,
  type StreamRefusal,
} from '../media/stream-info.ts';
import { LivePlaylist } from '../publish/live-playlist.ts';
import type { ListedSegment } from '../publish/hls-uploader.ts';
import type { RtmpPublisher } from '../rtmp/rtmp-server.ts';
import { finishSession, type FinishDeps } from './finish-session.ts';
import { listRecordingParts } from './recording-video.ts';
import type { IngestLease } from './ingest-lease.ts';

export interface ChannelStreamDeps extends FinishDeps {
  settings: LiveSettings;
  rawBucket: string;
  ffmpegPath: string;
  tmpDir: string;
  eventSource: string;
  /** Called once the stream is over here (finished, or its lease lost to another process). */
  onDone: () => void;
  onListed?: (segment: ListedSegment & { latencyMs?: number }) => void;
  onFailed?: (code: string) => void;
  /** No keyframe this long after the publish was accepted: refused (default 10 s). */
  keyframeDeadlineMs?: number;
}

const KEYFRAME_DEADLINE_MS = 10_000;
/** Header tags (sequence headers, metadata) kept before the first keyframe. */
const MAX_HEADER_TAGS = 16;
/** Bytes held while the session starts (the first keyframe and what follows it, before ffmpeg runs). */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
/** The bit rate is judged over this window, ms. */
const BITRATE_WINDOW_MS = 10_000;

type State = 'waiting' | 'live' | 'grace' | 'finishing' | 'done';

/**
 * One channel's stream in this process, across reconnects: waits for the first keyframe (checking codecs, size
 * and frame rate on the way), starts or continues the session (`live.started`), runs ffmpeg for as long as the
 * publisher stays, and when it goes, holds the session for the reconnect grace before finishing it
 * (`live.ended`, the recording queued). Its lease is renewed all along; losing it to another process stops
 * everything here at once, that process carries on.
 */
export class ChannelStream {
  readonly tenant: string;
  readonly channelId: string;
  private readonly name: string | undefined;
  private readonly deps: ChannelStreamDeps;
  private lease: IngestLease;
  private state: State = 'waiting';
  private publisher: RtmpPublisher | undefined;
  private run: LiveRun | undefined;
  private playlists = new Map<string, LivePlaylist>();
  private graceTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Transitions run one after another. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    deps: ChannelStreamDeps,
    { tenant, channelId, name, lease }: { tenant: string; channelId: string; name?: string; lease: IngestLease },
  ) {
    this.deps = deps;
    this.tenant = tenant;
    this.channelId = channelId;
    this.name = name;
    this.lease = lease;
    this.scheduleHeartbeat();
  }

  /** An encoder publishes now (none does): the stream takes it. */
  get publishing(): boolean {
    return this.publisher !== undefined;
  }

  get sessionId(): string | undefined {
    return this.lease.sessionId;
  }

  /** A new publisher (the first, or one back within the grace window) with the lease claimed for it. */
  attach(publisher: RtmpPublisher, lease: IngestLease): void {
    clearTimeout(this.graceTimer);
    this.lease = lease;
    this.publisher = publisher;
    this.state = 'waiting';
    const log = this.deps.logger.child({ channelId: this.channelId, connection: publisher.id });
    const attemptId = ulid();
    const reader = new StreamInfoReader();
    const headers: Buffer[] = [];
    let pending: Buffer[] | undefined;
    let pendingBytes = 0;
    let lastPacketAt = Date.now();
    let failed = false;
    const bytesSamples: { at: number; bytes: number }[] = [];
    const frames = { windowStart: -1, count: 0 };

    const fail = (refusal: StreamRefusal) => {
      if (failed) return;
      failed = true;
      log.warn({ code: refusal.code, reason: refusal.reason }, 'live stream refused');
      this.deps.onFailed?.(refusal.code);
      void this.publishFailed(attemptId, refusal);
      publisher.close(refusal.code);
    };
    const keyframeDeadlineMs = this.deps.keyframeDeadlineMs ?? KEYFRAME_DEADLINE_MS;
    const keyframeDeadline = setTimeout(
      () =>
        fail({
          code: 'no_keyframe',
          reason: `no keyframe arrived within ${keyframeDeadlineMs / 1000} s of publishing; set a keyframe interval (2 s) in the encoder`,
        }),
      keyframeDeadlineMs,
    );
    const watch = setInterval(() => {
      const now = Date.now();
      if (now - lastPacketAt > this.deps.settings.stallMs) {
        log.info({ silentMs: now - lastPacketAt }, 'publisher stalled; disconnecting it');
        publisher.close('stalled');
        return;
      }
      bytesSamples.push({ at: now, bytes: publisher.bytesIn });
      while (bytesSamples.length > 0 && now - bytesSamples[0]!.at > BITRATE_WINDOW_MS) bytesSamples.shift();
      const first = bytesSamples[0]!;
      if (now - first.at >= BITRATE_WINDOW_MS - 1000) {
        const kbps = ((publisher.bytesIn - first.bytes) * 8) / (now - first.at);
        if (kbps > this.deps.settings.maxBitrateKbps) {
          fail({
            code: 'bitrate_too_high',
            reason: `the stream sends ${Math.round(kbps)} kbit/s; this ingest takes at most ${this.deps.settings.maxBitrateKbps} kbit/s: lower the encoder's bit rate`,
          });
        }
      }
    }, 500);

    const onPacket = (packet: AVPacket) => {
      lastPacketAt = Date.now();
      if (failed) return;
      const refusal = reader.read(packet);
      if (refusal) return fail(refusal);
      const isVideo = packet.codec_type === FLV_VIDEO;
      if (isVideo && (isKeyframe(packet) || packet.flags === 4)) countFrame(packet.dts);
      // A copy: the packet's buffer is reused by the parser for the next message.
      const tag = Flv.createMessage(packet);
      if (pending === undefined) {
        const isHeader =
          packet.codec_type === FLV_SCRIPT ||
          (isVideo && packet.flags === VIDEO_SEQUENCE_HEADER) ||
          (packet.codec_type === FLV_AUDIO && packet.flags === AUDIO_SEQUENCE_HEADER);
        if (isHeader) {
          if (headers.length >= MAX_HEADER_TAGS)
            return fail({ code: 'unreadable_stream', reason: 'the stream sent header after header without media' });
          headers.push(tag);
        } else if (isKeyframe(packet)) {
          clearTimeout(keyframeDeadline);
          pending = [tag];
          pendingBytes = tag.length;
          this.enqueue(() => this.begin({ reader, headers, pending: () => pending!, log, fail, dts: packet.dts }));
        }
        // Anything before the first keyframe cannot start a segment: dropped.
        return;
      }
      if (this.run && pending.length === 0) {
        if (isKeyframe(packet)) this.run.noteKeyframe(packet.dts);
        if (!this.run.write(tag)) publisher.pause();
        return;
      }
      pending.push(tag);
      pendingBytes += tag.length;
      if (pendingBytes > MAX_PENDING_BYTES) publisher.pause();
    };
    const countFrame = (dts: number) => {
      if (frames.windowStart < 0 || dts < frames.windowStart) Object.assign(frames, { windowStart: dts, count: 0 });
      frames.count++;
      if (dts - frames.windowStart >= 5000) {
        const fps = (frames.count - 1) / ((dts - frames.windowStart) / 1000);
        if (fps > this.deps.settings.maxFrameRate * 1.1 + 1) {
          fail({
            code: 'frame_rate_too_high',
            reason: `the stream runs at ${Math.round(fps)} fps; this ingest takes at most ${this.deps.settings.maxFrameRate}`,
          });
        }
        Object.assign(frames, { windowStart: dts, count: 1 });
      }
    };

    publisher.accept(onPacket);
    log.info({ remoteAddress: publisher.remoteAddress }, 'publisher accepted');
    publisher.onGone((reason) => {
      clearTimeout(keyframeDeadline);
      clearInterval(watch);
      log.info({ reason, bytesIn: publisher.bytesIn }, 'publisher gone');
      this.enqueue(() => this.detach(publisher));
    });
    // Once ffmpeg runs: the held tags go in, and backpressure is on the pipe.
    this.afterBegin = () => {
      const run = this.run;
      if (!run || !pending) return;
      for (const tag of pending) if (!run.write(tag)) publisher.pause();
      pending = [];
      run.onDrain(() => publisher.resume());
      publisher.resume();
    };
  }

  private afterBegin: () => void = () => {};

  /** The first keyframe arrived: check the stream, start or continue the session, start ffmpeg. */
  private async begin({
    reader,
    headers,
    log,
    fail,
    dts,
  }: {
    reader: StreamInfoReader;
    headers: Buffer[];
    pending: () => Buffer[];
    log: Logger;
    fail: (refusal: StreamRefusal) => void;
    dts: number;
  }): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) return;
    const { settings } = this.deps;
    const refusal = checkStream(reader.info, settings);
    if (refusal) return fail(refusal);
    try {
      await this.settlePreviousSession();
      const recordingVideoId = this.lease.recordingVideoId ?? newVideoId();
      const title = this.name;
      const { session, started } = await this.deps.channels.startIngest(this.tenant, this.channelId, {
        recordingVideoId,
        ...(title ? { title } : {}),
      });
      const continuing = this.lease.sessionId === session.sessionId;
      const ladder = planLiveLadder(reader.info, settings, continuing ? (this.lease.ladder as LiveRendition[] | undefined) : undefined);
      const run = (continuing ? this.lease.runs : 0) + 1;
      const renewed = await this.renewLease(() => ({
        sessionId: session.sessionId,
        recordingVideoId: session.recordingVideoId ?? recordingVideoId,
        ...(session.title ? { title: session.title } : {}),
        ladder,
        runs: run,
        state: 'publishing',
      }));
      if (!renewed) return this.lost();
      this.lease = renewed;
      if (!continuing) this.playlists = new Map();
      await this.loadPlaylists(session.sessionId, ladder);
      if (this.publisher !== publisher) return; // gone while starting: detach handles the rest
      const audio = reader.info.audio;
      this.run = await LiveRun.start({
        ffmpegPath: this.deps.ffmpegPath,
        tmpDir: this.deps.tmpDir,
        renditions: ladder,
        hasAudio: audio !== undefined,
        ...(audio ? { audioCodecs: audio.codecs } : {}),
        frameRate: reader.info.metadata.frameRate ?? 30,
        preset: settings.preset,
        s3: this.deps.s3,
        mediaBucket: this.deps.mediaBucket,
        rawBucket: this.deps.rawBucket,
        presentationPrefix: livePresentationPrefix(this.tenant, this.channelId, session.sessionId),
        recordingPrefix: recordingPrefix(this.tenant, this.channelId, session.sessionId),
        run,
        recordingOffsetSeconds: continuing ? await this.recordedSeconds(session.sessionId) : 0,
        playlists: this.playlists,
        logger: log,
        onFailure: fail,
        ...(this.deps.onListed ? { onListed: this.deps.onListed } : {}),
      });
      this.state = 'live';
      this.run.noteKeyframe(dts);
      this.run.write(Flv.createHeader(audio !== undefined, true));
      for (const tag of headers) this.run.write(tag);
      this.afterBegin();
      log.info(
        {
          sessionId: session.sessionId,
          started,
          run,
          renditions: ladder.map((r) => `${r.name}${r.passthrough ? ' (passthrough)' : ''}`),
          source: reader.info.video,
        },
        started ? 'live session started' : 'live session continues',
      );
    } catch (err) {
      log.error({ err }, 'could not start the live session');
      // Storage or events unreachable: the encoder is disconnected and will reconnect; nothing half-started stays.
      fail({ code: 'ingest_unavailable', reason: 'the ingest could not start the session (storage unreachable); reconnect in a moment' });
    }
  }

  /** The lease names a session the channel no longer has live (ended by hand meanwhile): finish it before a new one. */
  private async settlePreviousSession(): Promise<void> {
    const { sessionId } = this.lease;
    if (!sessionId || (await this.deps.channels.isLive(this.tenant, this.channelId, sessionId))) return;
    const previous = this.lease;
    await finishSessionWithoutRelease(this.deps, previous);
    const renewed = await this.renewLease(() => ({
      sessionId: undefined,
      recordingVideoId: undefined,
      ladder: undefined,
      runs: 0,
    }));
    if (!renewed) throw new Error('lease lost');
    this.lease = renewed;
    this.playlists = new Map();
  }

  /** How long the session's recording is so far (its last stored part's end): where a continuing run's starts. */
  private async recordedSeconds(sessionId: string): Promise<number> {
    const parts = await listRecordingParts(this.deps.s3, this.deps.rawBucket, recordingPrefix(this.tenant, this.channelId, sessionId));
    const endMs = Math.max(0, ...parts.map((p) => recordingPartEndMs(p.key) ?? 0));
    // One frame's worth after it, so the joined parts never share a timestamp.
    return endMs > 0 ? endMs / 1000 + 0.05 : 0;
  }

  /** A run continuing a session on a process that did not run it before: its playlists continue from storage. */
  private async loadPlaylists(sessionId: string, ladder: readonly LiveRendition[]): Promise<void> {
    const windowSeconds = Math.max(this.deps.settings.dvrWindowMs / 1000, 12);
    for (const r of ladder) {
      if (this.playlists.has(r.name)) continue;
      const key = `${livePresentationPrefix(this.tenant, this.channelId, sessionId)}${r.name}/${LIVE_MEDIA_PLAYLIST}`;
      const text = await this.deps.s3
        .send(new GetObjectCommand({ Bucket: this.deps.mediaBucket, Key: key }))
        .then((res) => res.Body!.transformToString('utf-8'))
        .catch(() => undefined);
      this.playlists.set(r.name, text ? LivePlaylist.continueFrom(text, { windowSeconds }) : new LivePlaylist({ windowSeconds }));
    }
  }

  /** The publisher went: ffmpeg finishes its last segments; then the grace window (or, with no session, the end). */
  private async detach(publisher: RtmpPublisher): Promise<void> {
    if (this.publisher !== publisher) return;
    this.publisher = undefined;
    const run = this.run;
    this.run = undefined;
    await run?.stop();
    if (this.state === 'done' || this.state === 'finishing') return;
    if (!this.lease.sessionId) {
      // Never started a session (refused before the first keyframe): nothing to hold or finish.
      this.state = 'done';
      await this.deps.leases
        .release(this.tenant, this.channelId)
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'could not release a lease'));
      this.stop();
      return;
    }
    if (run) await run.endPlaylists().catch(() => undefined);
    const graceMs = this.deps.settings.reconnectGraceMs;
    const renewed = await this.renewLease(() => ({ state: 'grace', graceEndsAt: new Date(Date.now() + graceMs).toISOString() })).catch(
      () => this.lease,
    );
    if (!renewed) return this.lost();
    this.lease = renewed;
    this.state = 'grace';
    this.graceTimer = setTimeout(() => this.enqueue(() => this.finish()), graceMs);
  }

  /** The grace window passed without a reconnect (or the session was ended by hand): finish the session. */
  private async finish(): Promise<void> {
    if (this.state !== 'grace') return;
    this.state = 'finishing';
    for (let attempt = 1; this.state === 'finishing'; attempt++) {
      try {
        const renewed = await this.renewLease(() => ({ state: 'finishing' }));
        if (!renewed) return this.lost();
        this.lease = renewed;
        await finishSession(this.deps, this.lease);
        this.state = 'done';
      } catch (err) {
        this.deps.logger.warn({ err, channelId: this.channelId, attempt }, 'finishing the live session failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5))));
      }
    }
    this.stop();
  }

  /** Another process holds the lease now: it carries the session on; this one lets go of everything. */
  private lost(): void {
    this.deps.logger.warn({ channelId: this.channelId }, 'lease taken over by another ingest process; letting go of the stream');
    this.state = 'done';
    this.publisher?.close('lease lost');
    void this.run?.stop();
    this.stop();
  }

  private stop(): void {
    clearTimeout(this.graceTimer);
    clearTimeout(this.heartbeat);
    this.deps.onDone();
  }

  /** Renews the lease every third of its length; stops a stream whose session was ended by hand. */
  private scheduleHeartbeat(): void {
    // Not on the transition chain: a long step (starting a session, finishing one) must not let the lease lapse.
    this.heartbeat = setTimeout(() => {
      void this.beat().finally(() => {
        if (this.state !== 'done') this.scheduleHeartbeat();
      });
    }, this.deps.settings.leaseMs / 3);
  }

  private async beat(): Promise<void> {
    if (this.state === 'done') return;
    try {
      const renewed = await this.renewLease();
      if (!renewed) return this.lost();
      this.lease = renewed;
      const { sessionId } = this.lease;
      if (this.state === 'live' && sessionId && !(await this.deps.channels.isLive(this.tenant, this.channelId, sessionId))) {
        this.deps.logger.info({ channelId: this.channelId, sessionId }, 'session ended by hand; disconnecting the publisher');
        this.publisher?.close('ended');
      }
    } catch (err) {
      // Storage away: the stream goes on; the next heartbeat tries again.
      this.deps.logger.warn({ err, channelId: this.channelId }, 'could not renew the stream lease');
    }
  }

  /**
   * Renews (and changes) this stream's lease, one write at a time within this process: a heartbeat never
   * writes back a copy read before a transition's change (the emulator does not enforce If-Match).
   */
  private renewLease(change?: (lease: IngestLease) => Partial<IngestLease>): Promise<IngestLease | undefined> {
    const write = this.leaseWrites.then(() => this.deps.leases.renew(this.tenant, this.channelId, change));
    this.leaseWrites = write.catch(() => undefined);
    return write;
  }

  private leaseWrites: Promise<unknown> = Promise.resolve();

  /** Process stopping: the publisher is disconnected and ffmpeg's last segments stored; the lease stays for the sweep. */
  async shutdown(): Promise<void> {
    clearTimeout(this.graceTimer);
    clearTimeout(this.heartbeat);
    this.publisher?.close('ingest stopping');
    await this.chain;
    await this.run?.stop();
    this.state = 'done';
  }

  private enqueue(step: () => Promise<void> | void): void {
    this.chain = this.chain
      .then(step)
      .catch((err: unknown) => this.deps.logger.error({ err, channelId: this.channelId }, 'live stream step failed'));
  }

  private async publishFailed(attemptId: string, { code, reason }: StreamRefusal): Promise<void> {
    const data = {
      channelId: this.channelId,
      attemptId,
      ...(this.lease.sessionId ? { sessionId: this.lease.sessionId } : {}),
      code,
      reason,
    };
    const event = makeEvent('live.failed', data, {
      id: `live.failed:${this.channelId}:${attemptId}`,
      source: this.deps.eventSource,
      subject: this.channelId,
      tenant: this.tenant,
    });
    await this.deps.queue.events
      .publish(event)
      .catch((err: unknown) => this.deps.logger.warn({ err, channelId: this.channelId }, 'could not publish live.failed'));
  }
}

/** finishSession's steps for a session the channel already ended, keeping the lease for the session that follows. */
async function finishSessionWithoutRelease(deps: FinishDeps, lease: IngestLease): Promise<void> {
  await finishSession({ ...deps, leases: { release: async () => undefined } as unknown as FinishDeps['leases'] }, lease);
}

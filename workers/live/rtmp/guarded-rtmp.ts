import Rtmp from 'node-media-server/src/protocol/rtmp.js';

/** Bytes or commands that break the RTMP rules or reelay's limits: the connection is closed, nothing else happens. */
export class RtmpProtocolError extends Error {
  override name = 'RtmpProtocolError';
}

export interface PublishRequest {
  /** The application of the connect URL (`live` in `rtmp://host/live`). */
  app: string;
  /** The stream name of the publish command: the stream key (anything after `?` dropped). */
  streamName: string;
}

export interface RtmpLimits {
  /** Largest message before the publish is accepted: commands only (connect, createStream, publish). */
  maxCommandBytes: number;
  /** Largest message once publishing (a keyframe of a large picture). */
  maxMediaBytes: number;
}

const RTMP_TYPE_SET_CHUNK_SIZE = 1;
/** Encoders use four to six chunk streams (control, commands, audio, video, data); each one holds a message buffer. */
const MAX_CHUNK_STREAMS = 10;
/** RTMP chunk sizes run from 1 to 2^31 − 1; anything above the largest message is pointless and refused. */
const MIN_CHUNK_SIZE = 1;

/**
 * node-media-server's RTMP protocol state machine (handshake, chunk stream, AMF commands) with the checks an
 * open port needs: a bounded message size (small before the publish is accepted), a bounded number of chunk
 * streams, a valid connect command, and a publish that is answered only once the stream key is checked. Until
 * then no `NetStream.Publish.Start` is sent and any media a client sends anyway is dropped. Playback is not
 * served. Every violation throws RtmpProtocolError out of `parserData`, and the caller closes the connection.
 */
export class GuardedRtmp extends Rtmp {
  /** Called once, on the publish command; answer with `acceptPublish` or `refusePublish`. */
  onPublishRequest: (request: PublishRequest) => void = () => {};
  /** The publisher said it stops (deleteStream) after its publish was accepted. */
  onUnpublish: () => void = () => {};
  private readonly limits: RtmpLimits;
  private maxMessageBytes: number;
  private publishRequested = false;
  private accepted = false;

  constructor(limits: RtmpLimits) {
    super();
    this.limits = limits;
    this.maxMessageBytes = limits.maxCommandBytes;
  }

  get publishing(): boolean {
    return this.accepted;
  }

  acceptPublish(): void {
    this.accepted = true;
    this.maxMessageBytes = this.limits.maxMediaBytes;
    this.respondPublish();
  }

  /** Tells the encoder why (`NetStream.Publish.BadName`, shown by OBS and ffmpeg); the caller then closes. */
  refusePublish(description: string): void {
    this.sendStatusMessage(this.streamId ?? 0, 'error', 'NetStream.Publish.BadName', description);
  }

  override packetParse(): void {
    super.packetParse();
    if (this.inPackets.size > MAX_CHUNK_STREAMS) throw new RtmpProtocolError(`more than ${MAX_CHUNK_STREAMS} chunk streams`);
  }

  override packetAlloc(): void {
    const { length } = this.parserPacket.header;
    if (length > this.maxMessageBytes) {
      throw new RtmpProtocolError(
        `a message of ${length} bytes (at most ${this.maxMessageBytes} ${this.accepted ? 'while publishing' : 'before publishing'})`,
      );
    }
    super.packetAlloc();
  }

  override controlHandler(): void {
    if (this.parserPacket.header.type === RTMP_TYPE_SET_CHUNK_SIZE) {
      const size = this.parserPacket.header.length >= 4 ? this.parserPacket.payload.readUInt32BE(0) : 0;
      if (size < MIN_CHUNK_SIZE || size > this.limits.maxMediaBytes) throw new RtmpProtocolError(`chunk size ${size}`);
    }
    super.controlHandler();
  }

  override onConnect(message: { cmd: string; transId: number; cmdObj: Record<string, unknown> }): void {
    const cmdObj = message.cmdObj as Record<string, unknown> | null | undefined;
    if (typeof cmdObj !== 'object' || cmdObj === null || typeof cmdObj.app !== 'string' || typeof cmdObj.tcUrl !== 'string') {
      throw new RtmpProtocolError('a connect command without app or tcUrl');
    }
    if (!URL.canParse(cmdObj.tcUrl)) throw new RtmpProtocolError('a connect command whose tcUrl is not a URL');
    super.onConnect(message);
  }

  override onPublish(message: { streamName?: unknown }): void {
    if (this.publishRequested) throw new RtmpProtocolError('a second publish on one connection');
    if (typeof message.streamName !== 'string' || this.streamApp === undefined)
      throw new RtmpProtocolError('a publish without a stream name, or before connect');
    this.publishRequested = true;
    this.streamName = message.streamName.split('?')[0] ?? '';
    this.streamId = this.parserPacket.header.stream_id;
    this.onPublishRequest({ app: String(this.streamApp), streamName: this.streamName });
  }

  override onPlay(): void {
    throw new RtmpProtocolError('playback over RTMP is not served (watch the HLS at /v1/channels/:id/live/master.m3u8)');
  }

  override onDeleteStream(): void {
    if (this.accepted) this.onUnpublish();
  }

  override dataHandler(): void {
    // Media before the key was checked (a client that did not wait for NetStream.Publish.Start) is not accepted.
    if (this.accepted) super.dataHandler();
  }
}

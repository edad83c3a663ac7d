// Types for the parts of node-media-server 4.4.3 (plain JavaScript) that the live ingest uses: its RTMP protocol
// state machine, FLV tag helpers, AMF decoding and its logger. The package's server classes are not used.

declare module 'node-media-server/src/core/avpacket.js' {
  class AVPacket {
    codec_id: number;
    /** 8 audio, 9 video, 18 script data. */
    codec_type: number;
    /** 0 sequence header (audio), 1 frame (audio); video: 2 sequence header, 3 keyframe, 4 inter frame; 5 script data. */
    flags: number;
    pts: number;
    dts: number;
    size: number;
    /** The message payload; NOTE: a buffer the parser reuses for the next message, valid only during the callback. */
    data: Buffer;
  }
  export = AVPacket;
}

declare module 'node-media-server/src/protocol/rtmp.js' {
  import AVPacket = require('node-media-server/src/core/avpacket.js');
  interface RtmpPacketHeader {
    fmt: number;
    cid: number;
    timestamp: number;
    length: number;
    type: number;
    stream_id: number;
  }
  class Rtmp {
    parserPacket: { header: RtmpPacketHeader; payload: Buffer; capacity: number; bytes: number; clock: number };
    inPackets: Map<number, unknown>;
    inChunkSize: number;
    streamApp: string;
    streamName: string;
    streamId: number;
    streamQuery: Record<string, unknown>;
    connectCmdObj: Record<string, unknown> | undefined;
    objectEncoding: number;
    onConnectCallback: (req: { app: string; name: string; host: string; query: Record<string, unknown> }) => void;
    onPlayCallback: () => void;
    onPushCallback: () => void;
    onPacketCallback: (packet: AVPacket) => void;
    onOutputCallback: (buffer: Buffer) => void;
    /** Feeds received bytes; returns an error text or null. Throws on some malformed input. */
    parserData(buffer: Buffer): string | null;
    packetParse(): void;
    packetAlloc(): void;
    packetHandler(): void;
    controlHandler(): void;
    invokeHandler(): void;
    dataHandler(): void;
    onConnect(invokeMessage: { cmd: string; transId: number; cmdObj: Record<string, unknown> }): void;
    onCreateStream(invokeMessage: { transId: number }): void;
    onPublish(invokeMessage: { streamName?: unknown }): void;
    onPlay(invokeMessage: { streamName?: unknown }): void;
    onDeleteStream(invokeMessage: unknown): void;
    sendStatusMessage(sid: number, level: string, code: string, description: string): void;
    respondPublish(): void;
  }
  export = Rtmp;
}

declare module 'node-media-server/src/protocol/flv.js' {
  import AVPacket = require('node-media-server/src/core/avpacket.js');
  class Flv {
    static createHeader(hasAudio: boolean, hasVideo: boolean): Buffer;
    /** One FLV tag (11-byte header, payload, previous-tag-size) holding a copy of the packet's data. */
    static createMessage(packet: AVPacket): Buffer;
  }
  export = Flv;
}

declare module 'node-media-server/src/protocol/amf.js' {
  export function decodeAmf0Data(buffer: Buffer): Record<string, unknown>;
}

declare module 'node-media-server/src/protocol/sps_info.js' {
  export function parseH264Sps(sps: Buffer): { width: number; height: number } | null;
}

declare module 'node-media-server/src/core/logger.js' {
  const logger: { level: string; log(message: string, level?: string): void };
  export = logger;
}

declare module 'node-media-server/src/protocol/rtmp_client.js' {
  import Rtmp = require('node-media-server/src/protocol/rtmp.js');
  import AVPacket = require('node-media-server/src/core/avpacket.js');
  /** node-media-server's RTMP client (tests publish crafted streams with it). */
  class RtmpClient extends Rtmp {
    onCloseCallback: (hadError: boolean) => void;
    connect(url: string): Promise<void>;
    sendConnect(): Promise<unknown>;
    sendCreateStream(): Promise<number>;
    sendPublish(streamName: string): Promise<unknown>;
    sendPacket(packet: AVPacket): void;
    disconnect(): void;
  }
  export = RtmpClient;
}

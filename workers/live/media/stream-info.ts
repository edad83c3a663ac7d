import type AVPacket from 'node-media-server/src/core/avpacket.js';
import { decodeAmf0Data } from 'node-media-server/src/protocol/amf.js';
import { parseH264Sps } from 'node-media-server/src/protocol/sps_info.js';

/** FLV tag types and codec ids (Adobe FLV spec; `codec_id` of node-media-server's packets). */
export const FLV_AUDIO = 8;
export const FLV_VIDEO = 9;
export const FLV_SCRIPT = 18;
const FLV_CODEC_H264 = 7;
const FLV_CODEC_AAC = 10;
/** node-media-server's `flags`: video sequence header, keyframe, inter frame. */
export const VIDEO_SEQUENCE_HEADER = 2;
export const VIDEO_KEYFRAME = 3;
export const AUDIO_SEQUENCE_HEADER = 0;

const VIDEO_CODEC_NAMES: Record<number, string> = {
  2: 'Sorenson H.263',
  3: 'Screen video',
  4: 'VP6',
  5: 'VP6 with alpha',
  6: 'Screen video 2',
  8: 'RealVideo H.263',
  9: 'MPEG-4 Part 2',
};
const AUDIO_CODEC_NAMES: Record<number, string> = {
  0: 'PCM',
  1: 'ADPCM',
  2: 'MP3',
  3: 'PCM',
  4: 'Nellymoser',
  5: 'Nellymoser',
  6: 'Nellymoser',
  7: 'G.711 A-law',
  8: 'G.711 µ-law',
  11: 'Speex',
  14: 'MP3 8 kHz',
};

/** A video keyframe carrying picture data (not the AVC end-of-sequence marker, which FLV also marks as key). */
export function isKeyframe(packet: AVPacket): boolean {
  return packet.codec_type === FLV_VIDEO && packet.flags === VIDEO_KEYFRAME && packet.size > 1 && packet.data[1] === 1;
}

/** What the ingest knows of a stream from its sequence headers and metadata, before anything is decoded. */
export interface StreamInfo {
  video?: {
    width: number;
    height: number;
    /** H.264 profile_idc: 66 Baseline, 77 Main, 100 High, 110 High 10, 122 High 4:2:2, 244 High 4:4:4. */
    profile: number;
    /** level_idc × 10 (31 = 3.1). */
    level: number;
    /** `avc1.PPCCLL` (RFC 6381) as the decoder configuration gives it. */
    codecs: string;
  };
  audio?: { objectType: number; sampleRate: number; channels: number; codecs: string };
  /** From the encoder's `onMetaData`, when it sent one: frames per second and bit rates, kbit/s. */
  metadata: { frameRate?: number; videoKbps?: number; audioKbps?: number };
}

/** Why a stream cannot be taken: a code for programs and a sentence for people. */
export interface StreamRefusal {
  code: string;
  reason: string;
}

const AAC_SAMPLE_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/**
 * Reads the stream's description from the packets that carry it: the AVC decoder configuration (SPS: size,
 * profile, level), the AAC AudioSpecificConfig and `onMetaData`. Returns a refusal for a codec reelay does not
 * take (anything but H.264 video and AAC audio, including Enhanced RTMP's HEVC, AV1 and VP9).
 */
export class StreamInfoReader {
  readonly info: StreamInfo = { metadata: {} };

  /** Looks at one packet; a refusal when it shows an unsupported codec, else undefined. */
  read(packet: AVPacket): StreamRefusal | undefined {
    if (packet.codec_type === FLV_VIDEO) return this.readVideo(packet);
    if (packet.codec_type === FLV_AUDIO) return this.readAudio(packet);
    if (packet.codec_type === FLV_SCRIPT) this.readMetadata(packet);
    return undefined;
  }

  private readVideo(packet: AVPacket): StreamRefusal | undefined {
    const data = packet.data.subarray(0, packet.size);
    if (data.length < 1) return undefined;
    const exHeader = (data[0]! & 0x80) !== 0;
    if (exHeader) {
      const fourCc = data.subarray(1, 5).toString('latin1');
      return unsupportedVideo(fourCc === 'hvc1' ? 'HEVC (H.265)' : fourCc === 'av01' ? 'AV1' : fourCc === 'vp09' ? 'VP9' : `"${fourCc}"`);
    }
    const codecId = data[0]! & 0x0f;
    if (codecId !== FLV_CODEC_H264) return unsupportedVideo(VIDEO_CODEC_NAMES[codecId] ?? `FLV video codec ${codecId}`);
    if (packet.flags === VIDEO_SEQUENCE_HEADER) return this.readAvcConfig(data.subarray(5));
    return undefined;
  }

  private readAvcConfig(record: Buffer): StreamRefusal | undefined {
    // AVCDecoderConfigurationRecord (ISO/IEC 14496-15): version, profile, compatibility, level, length size, SPS count.
    const unreadable = { code: 'unreadable_video', reason: 'the H.264 decoder configuration the encoder sent cannot be read' };
    if (record.length < 8 || record[0] !== 1) return unreadable;
    const spsCount = record[5]! & 0x1f;
    const spsLength = record.readUInt16BE(6);
    if (spsCount < 1 || spsLength < 4 || 8 + spsLength > record.length) return unreadable;
    const size = parseH264Sps(record.subarray(8, 8 + spsLength));
    if (!size) return unreadable;
    const hex = (n: number) => n.toString(16).padStart(2, '0');
    this.info.video = {
      width: size.width,
      height: size.height,
      profile: record[1]!,
      level: record[3]!,
      codecs: `avc1.${hex(record[1]!)}${hex(record[2]!)}${hex(record[3]!)}`,
    };
    return undefined;
  }

  private readAudio(packet: AVPacket): StreamRefusal | undefined {
    const data = packet.data.subarray(0, packet.size);
    if (data.length < 1) return undefined;
    const format = data[0]! >> 4;
    if (format === 9) return unsupportedAudio('an Enhanced RTMP audio codec (Opus, FLAC, AC-3…)');
    if (format !== FLV_CODEC_AAC) return unsupportedAudio(AUDIO_CODEC_NAMES[format] ?? `FLV audio codec ${format}`);
    if (packet.flags !== AUDIO_SEQUENCE_HEADER || data.length < 4) return undefined;
    // AudioSpecificConfig (ISO/IEC 14496-3): 5 bits object type, 4 bits sampling frequency index, 4 bits channels.
    const objectType = data[2]! >> 3;
    const rateIndex = ((data[2]! & 0x07) << 1) | (data[3]! >> 7);
    const channels = (data[3]! >> 3) & 0x0f;
    const sampleRate = AAC_SAMPLE_RATES[rateIndex];
    if (objectType === 0 || objectType === 31 || !sampleRate) {
      return { code: 'unreadable_audio', reason: 'the AAC configuration the encoder sent cannot be read' };
    }
    this.info.audio = { objectType, sampleRate, channels, codecs: `mp4a.40.${objectType}` };
    return undefined;
  }

  private readMetadata(packet: AVPacket): void {
    if (packet.size > 64 * 1024) return;
    try {
      const decoded = decodeAmf0Data(Buffer.from(packet.data.subarray(0, packet.size))) as Record<string, unknown>;
      const meta = (decoded.dataObj ?? decoded.cmdObj) as Record<string, unknown> | undefined;
      if (!meta || typeof meta !== 'object') return;
      const number = (key: string) => {
        const value = meta[key];
        return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
      };
      this.info.metadata = { frameRate: number('framerate'), videoKbps: number('videodatarate'), audioKbps: number('audiodatarate') };
    } catch {
      // Metadata is advisory: unreadable metadata changes nothing.
    }
  }
}

function unsupportedVideo(name: string): StreamRefusal {
  return {
    code: 'unsupported_video_codec',
    reason: `the stream's video is ${name}; reelay takes H.264 video (choose x264 or H.264 in the encoder)`,
  };
}

function unsupportedAudio(name: string): StreamRefusal {
  return { code: 'unsupported_audio_codec', reason: `the stream's audio is ${name}; reelay takes AAC audio (choose AAC in the encoder)` };
}

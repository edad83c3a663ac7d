import type { PriorityTier } from './resources.ts';
import type { StoryboardPlan } from './storyboard.ts';

/** `queued → processing → ready`, or `→ failed` with `error` saying why. */
export type VideoState = 'queued' | 'processing' | 'ready' | 'failed';

/** What we know of the uploaded file; the probe fills in the media fields. */
export interface SourceInfo {
  key: string;
  bytes: number;
  contentType: string;
  filename?: string;
  format?: string;
  duration?: number;
  width?: number;
  height?: number;
  rotation?: number;
  /** Pixel aspect ratio, when not square. */
  sampleAspectRatio?: number;
  frameRate?: number;
  videoCodec?: string;
  audioCodec?: string;
  hasAudio?: boolean;
  /** Set for HDR sources (`smpte2084` = PQ, `arib-std-b67` = HLG); outputs are tone-mapped to SDR BT.709. */
  colorTransfer?: string;
  /** Set for interlaced sources; outputs are deinterlaced. */
  interlaced?: boolean;
  /** The raw upload was deleted once the outputs were ready (REELAY_KEEP_SOURCE=false). */
  deleted?: boolean;
}

/** One file the worker wrote to the media bucket, as ffprobe measured it. */
export interface OutputInfo {
  key: string;
  contentType: string;
  bytes: number;
  width: number;
  height: number;
  duration?: number;
  videoCodec?: string;
  audioCodec?: string;
}

/** One HLS variant (a rendition), as measured from what ffmpeg wrote. */
export interface HlsVariantInfo {
  name: string;
  /** Media playlist, relative to the master: `360p/index.m3u8`. */
  playlist: string;
  width: number;
  height: number;
  /** Peak segment bit rate, bits/s (the master's BANDWIDTH). */
  bandwidth: number;
  /** Measured once the video is ready; absent while it encodes (the bandwidth is then the rung's cap). */
  averageBandwidth?: number;
  codecs: string;
  frameRate: number;
  segments: number;
  duration: number;
}

/** The HLS presentation: fMP4 variants from the same encode as the MP4s, and their master playlist. */
export interface HlsInfo {
  /** Key prefix in the media bucket, ending in `/`; every file of the presentation is below it. */
  prefix: string;
  master: string;
  segmentSeconds: number;
  variants: HlsVariantInfo[];
  /** Files and bytes stored, all variants together. */
  files: number;
  bytes: number;
}

/** Timeline previews: a sprite of tiles and the WebVTT that maps time ranges to them, as planned and stored. */
export interface StoryboardInfo extends StoryboardPlan {
  /** Key prefix in the media bucket, ending in `/`. */
  prefix: string;
  spriteBytes: number;
}

/**
 * A caption track of the HLS presentation, from a text subtitle track of the source (`embedded`) or
 * uploaded to `POST /v1/videos/:id/captions`. Its WebVTT file is `subs/<id>.vtt` below the HLS prefix and
 * its subtitles playlist `subs/<id>.m3u8`; the master lists it in the `SUBTITLES` group.
 */
export interface CaptionTrack {
  /** Letters, digits and `-`: `1-en` for the source's first text track, `u…` for an uploaded one. */
  id: string;
  /** BCP 47 (`fr`, `pt-BR`); absent when the source did not say. */
  language?: string;
  /** The name players show (the master's NAME), unique among the video's tracks. */
  label: string;
  source: 'embedded' | 'uploaded';
  /** Shown on start (the source flagged the track default); at most one track. */
  default?: boolean;
  /** Forced narrative (translations of on-screen text). */
  forced?: boolean;
  cues: number;
  bytes: number;
  addedAt: string;
}

export interface VideoStatus {
  id: string;
  /** The tenant the video belongs to; absent on documents written before tenants existed (`default`'s). */
  tenant?: string;
  status: VideoState;
  priority: PriorityTier;
  title?: string;
  /** The live channel this video is a recording of (uploaded with `channelId`; queued at `high` by default). */
  channelId?: string;
  /** The live session this video recorded (queued by the live ingest when the session ended). */
  sessionId?: string;
  source: SourceInfo;
  outputs: Record<string, OutputInfo>;
  /**
   * Adaptive streaming of the renditions (absent on videos made before HLS existed). Set while the video
   * is still `processing` as soon as every rendition has its first segment (`playable`); its variants and
   * counts are then those of that moment, and the finished video's replace them.
   */
  hls?: HlsInfo;
  /** The HLS presentation can be played: set while `processing` once every rendition has a segment, and kept. */
  playable?: boolean;
  /** When the video became playable (ISO 8601). */
  playableAt?: string;
  /** False between marking the video playable and publishing `video.playable` (the same outbox rule as `announced`). */
  playableAnnounced?: boolean;
  storyboard?: StoryboardInfo;
  /** Caption tracks in the HLS master (absent when there are none). */
  captions?: CaptionTrack[];
  /** Renditions not produced, and why (e.g. no upscaling of a 480p source to 720p). */
  skipped: { name: string; reason: string }[];
  /** What the user should know of a ready video: an empty audio track dropped, HDR not tone-mapped … */
  notes?: string[];
  /** Why the video failed; set only when `status` is `failed`. */
  error?: { code: string; message: string };
  /**
   * False between marking the video `ready`/`failed` and publishing that event. A redelivered job
   * finds it false and publishes the event then, so a failed publish never loses the announcement.
   */
  announced?: boolean;
  /** Why the last attempt did not finish, while a retry is pending. */
  lastError?: { code: string; message: string };
  attempts: number;
  /** Attempts interrupted by their worker process dying (not counted in `attempts`; see REELAY_MAX_STALLS). */
  stalls?: number;
  /** Transcode progress, 0–100, while `processing`. */
  progress?: number;
  worker?: string;
  createdAt: string;
  updatedAt: string;
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** The status document of a video just stored and about to be queued. */
export function queuedVideo(
  id: string,
  tenant: string,
  priority: PriorityTier,
  source: SourceInfo,
  now = new Date().toISOString(),
): VideoStatus {
  return {
    id,
    tenant,
    status: 'queued',
    priority,
    source,
    outputs: {},
    skipped: [],
    attempts: 0,
    createdAt: now,
    updatedAt: now,
    queuedAt: now,
  };
}

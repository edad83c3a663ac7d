import { open, readFile } from 'node:fs/promises';
import { imageSize } from 'image-size';
import { createFile, MP4BoxBuffer, type Movie } from 'mp4box';
import { probeMedia } from './ffmpeg/probe/index.ts';

/** What was measured of one output file. */
export interface Measured {
  width: number;
  height: number;
  videoCodec: string;
  duration?: number;
  audioCodec?: string;
}

/**
 * One output as it was written (what the status reports is what was written, not what was asked for). Read
 * in this process (the MP4 header with mp4box, the JPEG's with image-size) rather than with one ffprobe
 * process per file, which cost about 0.1 s of CPU each at the end of every job (issue 12); ffprobe remains
 * the fallback for a file those cannot read.
 */
export async function measureOutputFile(file: string, ffprobePath: string): Promise<Measured> {
  return (await readInProcess(file).catch(() => undefined)) ?? (await withFfprobe(file, ffprobePath));
}

async function withFfprobe(file: string, ffprobePath: string): Promise<Measured> {
  const probe = await probeMedia(file, { ffprobePath, untrusted: false });
  return {
    width: probe.video.width,
    height: probe.video.height,
    videoCodec: probe.video.codec,
    duration: probe.duration,
    ...(probe.audio ? { audioCodec: probe.audio.codec } : {}),
  };
}

/** The output measured in this process; undefined where it cannot be (then ffprobe measures it). */
export async function readInProcess(file: string): Promise<Measured | undefined> {
  if (file.endsWith('.jpg')) {
    const { width, height, type } = imageSize(await readFile(file));
    return type === 'jpg' && width && height ? { width, height, videoCodec: 'mjpeg' } : undefined;
  }
  if (file.endsWith('.mp4')) return readMp4(file);
  return undefined;
}

/** ffprobe's codec names for the sample entries reelay writes. */
const CODECS: Record<string, string> = {
  avc1: 'h264',
  avc3: 'h264',
  hvc1: 'hevc',
  hev1: 'hevc',
  av01: 'av1',
  vp09: 'vp9',
  mp4a: 'aac',
  Opus: 'opus',
};
const codecName = (codec: string) => CODECS[codec.split('.')[0]!] ?? codec;

/** The movie header of an MP4 (at the front with +faststart): read in chunks until mp4box has it. */
async function readMp4(file: string): Promise<Measured | undefined> {
  const mp4 = createFile();
  let movie: Movie | undefined;
  mp4.onReady = (info) => {
    movie = info;
  };
  const handle = await open(file, 'r');
  try {
    let position = 0;
    while (!movie) {
      const chunk = Buffer.alloc(512 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) break;
      const next = mp4.appendBuffer(MP4BoxBuffer.fromArrayBuffer(chunk.buffer.slice(0, bytesRead), position));
      position = next > position ? next : position + bytesRead;
    }
  } finally {
    await handle.close();
  }
  const video = movie?.videoTracks[0];
  if (!movie || !video) return undefined;
  const audio = movie.audioTracks[0];
  // The movie header's duration, as ffprobe reports it; the longest track where the header has none.
  const movieSeconds = movie.timescale > 0 ? movie.duration / movie.timescale : 0;
  const duration =
    movieSeconds > 0 ? movieSeconds : Math.max(0, ...movie.tracks.map((t) => (t.timescale > 0 ? t.duration / t.timescale : 0)));
  return {
    width: video.video?.width ?? video.track_width,
    height: video.video?.height ?? video.track_height,
    videoCodec: codecName(video.codec),
    duration,
    ...(audio ? { audioCodec: codecName(audio.codec) } : {}),
  };
}

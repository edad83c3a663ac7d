import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One hostile upload and the permanent failure it must end in. */
export interface HostileInput {
  name: string;
  file: string;
  code: string;
  /** What the failure reason must say, so a human understands it. */
  reason: RegExp;
}

/**
 * Builds the corpus of hostile inputs in `dir`, with real ffmpeg where a valid
 * file is the starting point. `canaryFifo` is a named pipe: if ffmpeg ever
 * opened it for reading it would block, so a job that fails fast proves the
 * reference was not followed. `canaryUrl` is served by the test, which counts
 * requests.
 */
export async function buildHostileCorpus(dir: string, ffmpeg: string, { canaryFifo, canaryUrl }: { canaryFifo: string; canaryUrl: string }) {
  const at = (name: string) => path.join(dir, name);
  const ff = (...args: string[]) => run(ffmpeg, ['-v', 'error', '-y', ...args]);

  await writeFile(at('random.mp4'), randomBytes(64 * 1024));
  await writeFile(at('text.mp4'), 'this is a text file named .mp4\n'.repeat(50));

  // moov at the end (no faststart), then cut in half: the index never arrives.
  await ff('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=3', '-c:v', 'libx264', '-preset', 'ultrafast', at('whole.mp4'));
  const whole = await readFile(at('whole.mp4'));
  await writeFile(at('truncated.mp4'), whole.subarray(0, Math.floor(whole.length / 2)));

  // A header claiming a 49-day duration (mvhd, mdhd and tkhd patched).
  await writeFile(at('long-claim.mp4'), patchMp4Durations(whole));

  const playlist = (uri: string) => `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n${uri}\n#EXT-X-ENDLIST\n`;
  await writeFile(at('hls-local-file.mp4'), playlist(`file://${canaryFifo}`));
  await writeFile(at('hls-url.mp4'), playlist(canaryUrl));
  await writeFile(at('concat-list.mp4'), `ffconcat version 1.0\nfile '${canaryFifo}'\n`);

  await ff('-f', 'lavfi', '-i', 'testsrc=size=320x240', '-frames:v', '1', '-f', 'image2', '-c:v', 'png', at('image.mp4'));
  await ff('-f', 'lavfi', '-i', 'sine=duration=2', '-c:a', 'aac', '-f', 'mp4', at('audio-only.mp4'));
  await ff('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=240:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast', at('fps240.mkv'));

  // Raw video in AVI whose headers claim huge pictures: one ffmpeg itself refuses, one it accepts.
  await ff('-f', 'lavfi', '-i', 'testsrc=size=16x16:rate=1:duration=1', '-c:v', 'rawvideo', '-pix_fmt', 'bgr24', at('tiny.avi'));
  const tiny = await readFile(at('tiny.avi'));
  await writeFile(at('claims-100000x100000.avi'), patchAviSize(tiny, 100_000, 100_000));
  await writeFile(at('claims-12000x12000.avi'), patchAviSize(tiny, 12_000, 12_000));

  const corpus: HostileInput[] = [
    { name: 'random bytes', file: at('random.mp4'), code: 'unreadable_input', reason: /ffprobe could not read the upload/ },
    { name: 'a text file named .mp4', file: at('text.mp4'), code: 'unreadable_input', reason: /Invalid data/i },
    { name: 'a truncated MP4 (moov missing)', file: at('truncated.mp4'), code: 'unreadable_input', reason: /moov atom not found/ },
    { name: 'an HLS playlist pointing at a local file', file: at('hls-local-file.mp4'), code: 'unsupported_format', reason: /HLS playlist.*not opened/ },
    { name: 'an HLS playlist pointing at a URL', file: at('hls-url.mp4'), code: 'unsupported_format', reason: /HLS playlist/ },
    { name: 'a concat list referencing a local file', file: at('concat-list.mp4'), code: 'unsupported_format', reason: /concat list/ },
    { name: 'an image', file: at('image.mp4'), code: 'unsupported_format', reason: /an image/ },
    { name: 'an audio-only file', file: at('audio-only.mp4'), code: 'no_video_stream', reason: /only audio/ },
    { name: 'a header claiming 100000x100000', file: at('claims-100000x100000.avi'), code: 'invalid_video', reason: /no valid picture size/ },
    { name: 'a header claiming 12000x12000', file: at('claims-12000x12000.avi'), code: 'too_large', reason: /12000x12000.*REELAY_MAX_PIXELS/ },
    { name: 'a header claiming a 49-day duration', file: at('long-claim.mp4'), code: 'too_long', reason: /REELAY_MAX_DURATION_SECONDS/ },
    { name: 'a 240 fps video', file: at('fps240.mkv'), code: 'frame_rate_too_high', reason: /240 frames per second/ },
  ];
  return corpus;
}

/** Sets the duration fields of mvhd, mdhd and tkhd (version 0 boxes) to about 2^32 ticks. */
function patchMp4Durations(mp4: Buffer): Buffer {
  const out = Buffer.from(mp4);
  const set = (box: string, offset: number) => {
    for (let i = out.indexOf(box); i >= 0; i = out.indexOf(box, i + 4)) out.writeUInt32BE(0xffffff00, i + offset);
  };
  set('mvhd', 4 + 4 + 4 + 4 + 4); // version/flags, creation, modification, timescale → duration
  set('mdhd', 4 + 4 + 4 + 4 + 4);
  set('tkhd', 4 + 4 + 4 + 4 + 4 + 4); // … track id, reserved → duration
  return out;
}

/** Rewrites the picture size in the AVI main header (avih) and the stream format (strf). */
function patchAviSize(avi: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(avi);
  const avih = out.indexOf('avih') + 8;
  out.writeUInt32LE(width, avih + 32);
  out.writeUInt32LE(height, avih + 36);
  const strf = out.indexOf('strf') + 8;
  out.writeUInt32LE(width, strf + 4);
  out.writeInt32LE(height, strf + 8);
  return out;
}

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
export async function buildHostileCorpus(
  dir: string,
  ffmpeg: string,
  { canaryFifo, canaryUrl }: { canaryFifo: string; canaryUrl: string },
) {
  const at = (name: string) => path.join(dir, name);
  const ff = (...args: string[]) => run(ffmpeg, ['-v', 'error', '-y', ...args]);

  await writeFile(at('random.mp4'), randomBytes(64 * 1024));
  await writeFile(at('text.mp4'), 'this is a text file named .mp4\n'.repeat(50));

  // moov at the end (no faststart), then cut in half: the index never arrives.
  await ff('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25:duration=3', '-c:v', 'libx264', '-preset', 'ultrafast', at('whole.mp4'));
  const whole = await readFile(at('whole.mp4'));
  await writeFile(at('truncated.mp4'), whole.subarray(0, Math.floor(whole.length / 2)));

  // Really longer than the test stack's REELAY_MAX_DURATION_SECONDS (3600): 3700 frames of 16x16 at 1 fps.
  await ff('-f', 'lavfi', '-i', 'testsrc=size=16x16:rate=1:duration=3700', '-c:v', 'libx264', '-preset', 'ultrafast', at('long.mp4'));

  const playlist = (uri: string) => `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n${uri}\n#EXT-X-ENDLIST\n`;
  await writeFile(at('hls-local-file.mp4'), playlist(`file://${canaryFifo}`));
  await writeFile(at('hls-url.mp4'), playlist(canaryUrl));
  await writeFile(at('concat-list.mp4'), `ffconcat version 1.0\nfile '${canaryFifo}'\n`);

  await ff('-f', 'lavfi', '-i', 'testsrc=size=320x240', '-frames:v', '1', '-f', 'image2', '-c:v', 'png', at('image.mp4'));
  await ff('-f', 'lavfi', '-i', 'sine=duration=2', '-c:a', 'aac', '-f', 'mp4', at('audio-only.mp4'));
  await ff('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=1200:duration=0.5', '-c:v', 'libx264', '-preset', 'ultrafast', at('fps1200.mp4'));
  // A decoder reelay does not accept (-codec_whitelist): JPEG 2000 in a QuickTime file.
  await ff('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=5:duration=1', '-c:v', 'jpeg2000', at('jpeg2000.mov'));
  // A GIF of one frame is a picture, not a video.
  await ff('-f', 'lavfi', '-i', 'testsrc=size=64x64', '-frames:v', '1', '-f', 'gif', at('still.gif'));

  // Raw video in AVI whose headers claim huge pictures: one ffmpeg itself refuses, one it accepts.
  await ff('-f', 'lavfi', '-i', 'testsrc=size=16x16:rate=1:duration=1', '-c:v', 'rawvideo', '-pix_fmt', 'bgr24', at('tiny.avi'));
  const tiny = await readFile(at('tiny.avi'));
  await writeFile(at('claims-100000x100000.avi'), patchAviSize(tiny, 100_000, 100_000));
  await writeFile(at('claims-12000x12000.avi'), patchAviSize(tiny, 12_000, 12_000));

  const corpus: HostileInput[] = [
    { name: 'random bytes', file: at('random.mp4'), code: 'unreadable_input', reason: /could not be read as a video/ },
    { name: 'a text file named .mp4', file: at('text.mp4'), code: 'unreadable_input', reason: /damaged or not a media file/ },
    { name: 'a truncated MP4 (moov missing)', file: at('truncated.mp4'), code: 'truncated_input', reason: /incomplete.*cut off/ },
    {
      name: 'an HLS playlist pointing at a local file',
      file: at('hls-local-file.mp4'),
      code: 'unsupported_format',
      reason: /HLS playlist.*not opened/,
    },
    { name: 'an HLS playlist pointing at a URL', file: at('hls-url.mp4'), code: 'unsupported_format', reason: /HLS playlist/ },
    { name: 'a concat list referencing a local file', file: at('concat-list.mp4'), code: 'unsupported_format', reason: /concat list/ },
    { name: 'an image', file: at('image.mp4'), code: 'not_a_video', reason: /still image/ },
    { name: 'a one-frame GIF', file: at('still.gif'), code: 'not_a_video', reason: /single gif picture/ },
    {
      name: 'a decoder reelay does not accept (JPEG 2000)',
      file: at('jpeg2000.mov'),
      code: 'unsupported_codec',
      reason: /jpeg2000.*does not accept/,
    },
    { name: 'an audio-only file', file: at('audio-only.mp4'), code: 'no_video_stream', reason: /only audio/ },
    {
      name: 'a header claiming 100000x100000',
      file: at('claims-100000x100000.avi'),
      code: 'invalid_video',
      reason: /no valid picture size/,
    },
    {
      name: 'a header claiming 12000x12000',
      file: at('claims-12000x12000.avi'),
      code: 'too_large',
      reason: /12000x12000.*REELAY_MAX_PIXELS/,
    },
    { name: 'a video longer than the limit', file: at('long.mp4'), code: 'too_long', reason: /3700s.*REELAY_MAX_DURATION_SECONDS/ },
    { name: 'a 1200 fps video', file: at('fps1200.mp4'), code: 'frame_rate_too_high', reason: /1200 frames per second/ },
  ];
  return corpus;
}

/** Sets the duration fields of mvhd, mdhd and tkhd (version 0 boxes) to about 2^32 ticks. */
export function patchMp4Durations(mp4: Buffer): Buffer {
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

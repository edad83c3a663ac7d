import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TransientJobError } from '../../core/errors.ts';
import {
  AAC_LC_CODEC,
  avcCodecFromInit,
  parseMediaPlaylist,
  variantBitrates,
  writeMasterPlaylist,
  writeMediaPlaylist,
} from '../../core/hls-playlist.ts';
import { rational } from './segment-publisher.ts';
import type { TranscodePlan } from './renditions.ts';
import { outputKey } from '../../core/status-store.ts';
import { storyboardVtt } from '../../core/storyboard.ts';
import type { HlsInfo, HlsVariantInfo, StoryboardInfo } from '../../core/video-status.ts';
import { HLS_DIR, HLS_SEGMENT_SECONDS, STORYBOARD_DIR } from './ffmpeg/playback-outputs.ts';

/**
 * After the single ffmpeg pass: reads each HLS variant ffmpeg wrote, measures
 * its segments (peak and average bit rate), reads the codec profile and level
 * from its init segment, and writes `hls/master.m3u8` and
 * `storyboard/storyboard.vtt` beside them in `outDir` (stored with every other
 * file there). Throws TransientJobError if ffmpeg left out any part of HLS; a
 * missing storyboard sprite is a note instead.
 */
export async function preparePlayback(
  plan: TranscodePlan,
  { outDir, videoId, duration }: { outDir: string; videoId: string; duration: number },
): Promise<{ hls: HlsInfo; storyboard?: StoryboardInfo; notes: string[] }> {
  const hlsDir = path.join(outDir, HLS_DIR);
  const frameRate = rational(plan.frameRate);
  const variants: HlsVariantInfo[] = [];
  let files = 1; // the master
  let bytes = 0;
  for (const r of plan.renditions) {
    const dir = path.join(hlsDir, r.name);
    const playlist = parseMediaPlaylist(
      await readFile(path.join(dir, 'index.m3u8'), 'utf8').catch(() => missing(`${r.name} HLS playlist`)),
    );
    if (!playlist.endList || playlist.segments.length === 0 || !playlist.map)
      throw new TransientJobError(`ffmpeg wrote an incomplete ${r.name} HLS playlist`);
    const init = await readFile(path.join(dir, playlist.map)).catch(() => missing(`${r.name} HLS init segment`));
    // ffmpeg wrote an EVENT playlist (it grew while the video encoded); finished, it is stored as VOD.
    await writeFile(
      path.join(dir, 'index.m3u8'),
      writeMediaPlaylist({ type: 'VOD', map: playlist.map, segments: playlist.segments, minTargetDuration: HLS_SEGMENT_SECONDS }),
    );
    const segments = await Promise.all(playlist.segments.map(async (s) => ({ ...s, bytes: await size(path.join(dir, s.uri)) })));
    const { peak, average } = variantBitrates(segments, init.length);
    const codec = avcCodecFromInit(init);
    variants.push({
      name: r.name,
      playlist: `${r.name}/index.m3u8`,
      width: r.width,
      height: r.height,
      bandwidth: peak,
      averageBandwidth: average,
      codecs: plan.hasAudio ? `${codec},${AAC_LC_CODEC}` : codec,
      frameRate,
      segments: segments.length,
      duration: Math.round(segments.reduce((sum, s) => sum + s.duration, 0) * 1000) / 1000,
    });
    files += 2 + segments.length;
    bytes += init.length + segments.reduce((sum, s) => sum + s.bytes, 0);
  }
  await writeFile(path.join(hlsDir, 'master.m3u8'), writeMasterPlaylist(variants.map((v) => ({ ...v, uri: v.playlist }))));

  const hls: HlsInfo = {
    prefix: outputKey(videoId, `${HLS_DIR}/`),
    master: 'master.m3u8',
    segmentSeconds: HLS_SEGMENT_SECONDS,
    variants,
    files,
    bytes,
  };

  // The storyboard is a preview aid: without its sprite the video is still ready, with a note (#23 item 12:
  // a missing sprite failed the whole video after three attempts).
  const sb = plan.storyboard;
  const sprite = path.join(outDir, STORYBOARD_DIR, sb.sprite);
  const spriteBytes = await stat(sprite).then(
    (s) => s.size,
    () => 0,
  );
  if (spriteBytes === 0) {
    await rm(path.join(outDir, STORYBOARD_DIR), { recursive: true, force: true });
    return { hls, notes: ['the timeline preview (storyboard) could not be made; the video plays without it'] };
  }
  await writeFile(path.join(outDir, STORYBOARD_DIR, sb.vtt), storyboardVtt(sb, duration));
  return { hls, storyboard: { ...sb, prefix: outputKey(videoId, `${STORYBOARD_DIR}/`), spriteBytes }, notes: [] };
}

function missing(what: string): never {
  throw new TransientJobError(`ffmpeg did not write the ${what}`);
}

async function size(file: string): Promise<number> {
  const s = await stat(file).catch(() => missing(path.basename(file)));
  if (s.size === 0) throw new TransientJobError(`ffmpeg wrote an empty ${path.basename(file)}`);
  return s.size;
}

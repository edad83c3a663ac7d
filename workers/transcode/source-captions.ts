import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  captionFiles,
  presentationMaster,
  languageFromTrackTag,
  languageName,
  parseCaptions,
  subtitlePlaylist,
  uniqueLabel,
  writeVtt,
} from '../../core/captions.ts';
import { cleanClientText } from '../../core/client-text.ts';
import type { CaptionTrack, HlsInfo } from '../../core/video-status.ts';
import { HLS_DIR } from './ffmpeg/playback-outputs.ts';
import type { SubtitleStream } from './ffmpeg/probe/parse.ts';

/** A text subtitle track of the source as the pass writes it: ffmpeg's WebVTT goes to `file` below the output folder. */
export interface PlannedCaption extends Omit<CaptionTrack, 'cues' | 'bytes' | 'addedAt' | 'source'> {
  index: number;
  /** Below the output folder: `hls/subs/<id>.vtt`. */
  file: string;
}

/** What ffmpeg's WebVTT of a source track may be before it is dropped with a note (never a failed video). */
const SOURCE_TRACK_LIMITS = { maxBytes: 2 * 1024 * 1024, maxCues: 20_000, maxCueChars: 2000 };

/** Ids, labels and files of the source's text subtitle tracks: `1-en`, `2-fr`, `3` (no language). */
export function planSourceCaptions(subtitles: readonly SubtitleStream[]): PlannedCaption[] {
  const planned: PlannedCaption[] = [];
  let defaultTaken = false;
  for (const [i, s] of subtitles.entries()) {
    const language = languageFromTrackTag(s.language);
    const id = `${i + 1}${language ? `-${language}` : ''}`;
    const title = s.title ? cleanClientText(s.title, 100) : undefined;
    const label = uniqueLabel(
      title ?? languageName(language),
      planned.map((p) => p.label),
    );
    const isDefault: boolean = s.default && !defaultTaken;
    defaultTaken ||= isDefault;
    planned.push({
      index: s.index,
      id,
      ...(language ? { language } : {}),
      label,
      ...(isDefault ? { default: true } : {}),
      ...(s.forced ? { forced: true } : {}),
      file: `${HLS_DIR}/${captionFiles(id).vtt}`,
    });
  }
  return planned;
}

/**
 * After the pass: each WebVTT ffmpeg wrote is parsed and rewritten by the caption rule (core/captions.ts),
 * and gets its subtitles playlist beside it. A track that came out empty, broken or over the limits is
 * removed with a note; the video is ready either way.
 */
export async function finishSourceCaptions(
  planned: readonly PlannedCaption[],
  { outDir, duration, now = new Date().toISOString() }: { outDir: string; duration: number; now?: string },
): Promise<{ captions: CaptionTrack[]; notes: string[] }> {
  const captions: CaptionTrack[] = [];
  const notes: string[] = [];
  for (const p of planned) {
    const file = path.join(outDir, p.file);
    const drop = async (why: string) => {
      notes.push(`the subtitle track "${p.label}" was left out: ${why}`);
      await rm(file, { force: true });
    };
    const size = await stat(file).then(
      (s) => s.size,
      () => 0,
    );
    if (size === 0) {
      await drop('ffmpeg could not convert it');
      continue;
    }
    if (size > SOURCE_TRACK_LIMITS.maxBytes) {
      await drop(`it is larger than ${SOURCE_TRACK_LIMITS.maxBytes / 1024 / 1024} MiB as WebVTT`);
      continue;
    }
    const parsed = parseCaptions(await readFile(file, 'utf8'), 'vtt', SOURCE_TRACK_LIMITS);
    if (!parsed.ok) {
      await drop(parsed.problems[0] ?? 'it could not be read');
      continue;
    }
    const vtt = writeVtt(parsed.cues);
    await writeFile(file, vtt);
    await writeFile(path.join(outDir, HLS_DIR, captionFiles(p.id).playlist), subtitlePlaylist(path.basename(p.file), duration));
    const { index: _index, file: _file, ...track } = p;
    captions.push({ ...track, source: 'embedded', cues: parsed.cues.length, bytes: Buffer.byteLength(vtt), addedAt: now });
  }
  return { captions, notes };
}

/**
 * The source's caption tracks made final (finishSourceCaptions) and added to the presentation: the master is
 * rewritten with its SUBTITLES group, and `hls` counts the new files.
 */
export async function addSourceCaptions(
  planned: readonly PlannedCaption[],
  hls: HlsInfo,
  { outDir, duration }: { outDir: string; duration: number },
): Promise<{ captions: CaptionTrack[]; notes: string[] }> {
  if (planned.length === 0) return { captions: [], notes: [] };
  const result = await finishSourceCaptions(planned, { outDir, duration });
  if (result.captions.length === 0) return result;
  await writeFile(path.join(outDir, HLS_DIR, hls.master), presentationMaster(hls, result.captions));
  hls.files += 2 * result.captions.length;
  hls.bytes += result.captions.reduce((sum, c) => sum + c.bytes, 0);
  return result;
}

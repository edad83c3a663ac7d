import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProbedFile {
  format: string;
  duration: number;
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; pix_fmt?: string; side_data_list?: unknown[] }[];
}

/** Independent check of a file with ffprobe: what a client would see. */
export async function ffprobe(ffprobePath: string, file: string): Promise<ProbedFile> {
  const { stdout } = await run(ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  const raw = JSON.parse(stdout) as { format: { format_name: string; duration?: string }; streams: ProbedFile['streams'] };
  return { format: raw.format.format_name, duration: Number(raw.format.duration ?? 0), streams: raw.streams };
}

/** Mean luma (0–255) of an image: a black frame is under ~20. */
export async function meanLuma(ffmpegPath: string, file: string): Promise<number> {
  const { stderr } = await run(ffmpegPath, [
    '-hide_banner',
    '-i',
    file,
    '-vf',
    'signalstats,metadata=print:key=lavfi.signalstats.YAVG',
    '-f',
    'null',
    '-',
  ]);
  const match = /lavfi\.signalstats\.YAVG=([\d.]+)/.exec(stderr);
  if (!match) throw new Error(`no luma measurement for ${file}`);
  return Number(match[1]);
}

/** Whether the file has an MP4 `moov` atom before `mdat` (+faststart). */
export function isFastStart(bytes: Buffer): boolean {
  const moov = bytes.indexOf('moov');
  const mdat = bytes.indexOf('mdat');
  return moov >= 0 && mdat >= 0 && moov < mdat;
}

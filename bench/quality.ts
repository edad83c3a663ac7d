/**
 * Quality per bit per CPU second: reelay's one-pass command (VBV caps and all)
 * over x264 presets × CRF values, on two kinds of 1080p30 source — camera-like
 * (moving shapes, softened, with temporal sensor-like noise: motion and entropy) and
 * screen-recording-like (flat colours, sharp edges, a counter, little motion).
 * Every rendition is compared with the source scaled to its size by the same
 * bicubic scaler (ffmpeg's `ssim` and `psnr` filters; the installed ffmpeg
 * has no libvmaf, so no VMAF), and its video bitrate read with ffprobe. A
 * point is Pareto-optimal when no other point of the same clip is at once no
 * slower (CPU), no bigger (720p bitrate) and no worse (720p SSIM).
 *
 *   node bench/quality.ts [--quick]
 */
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config/index.ts';
import { RENDITION_LADDER } from '../workers/transcode/renditions.ts';
import { locateFfmpeg, type FfmpegBinaries } from '../core/ffmpeg/locate.ts';
import { withCleanup } from './lib/cleanup.ts';
import { runFfmpegArgv } from './lib/ffmpeg.ts';
import { fixed, markdownTable } from './lib/markdown.ts';
import { measure } from './lib/measure.ts';
import { progress } from './lib/progress.ts';
import { reelaySource } from './lib/reelay-command.ts';
import { makeTempDir } from './lib/temp-dir.ts';

const execFileAsync = promisify(execFile);

export const PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'] as const;

const CLIP_KINDS = {
  // testsrc2's moving shapes, softened as a lens would, with temporal sensor-like noise.
  camera: 'testsrc2=s=1920x1080:r=30,boxblur=2:1,noise=alls=5:allf=t+u,format=yuv420p',
  screen: 'testsrc=s=1920x1080:r=30,format=yuv420p',
} as const;
type ClipKind = keyof typeof CLIP_KINDS;

export interface RenditionQuality {
  name: string;
  width: number;
  height: number;
  crf: number;
  videoKbps: number;
  ssim: number;
  /** -10·log10(1 − SSIM): SSIM on a scale where equal steps look alike. */
  ssimDb: number;
  psnr: number;
}

export interface QualityPoint {
  clip: ClipKind;
  preset: string;
  /** CRF of the 720p rendition; the 360p one keeps the ladder's offset. */
  crf: number;
  wallSeconds: number;
  cpuSeconds: number;
  renditions: RenditionQuality[];
  pareto: boolean;
}

export interface QualityResult {
  clipSeconds: number;
  vmaf: false;
  presets: string[];
  crfs: number[];
  points: QualityPoint[];
}

export async function runQuality({
  clipSeconds,
  presets,
  crfs,
  binaries,
}: {
  clipSeconds: number;
  presets: readonly string[];
  crfs: readonly number[];
  binaries: FfmpegBinaries;
}): Promise<QualityResult> {
  return withCleanup(async (cleanup) => {
    const dir = await makeTempDir(cleanup, 'quality');
    const points: QualityPoint[] = [];
    const ladder720 = RENDITION_LADDER.find((r) => r.name === '720p')!.crf;
    for (const clip of Object.keys(CLIP_KINDS) as ClipKind[]) {
      const source = path.join(dir, `${clip}.mkv`);
      progress(`quality: generating the ${clip}-like ${clipSeconds} s 1080p30 source`);
      // Near-lossless, so the source's own coding barely colours the comparison.
      await runFfmpegArgv(binaries.ffmpeg.path, [
        '-hide_banner',
        '-nostdin',
        '-y',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        CLIP_KINDS[clip],
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=48000',
        '-t',
        String(clipSeconds),
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-qp',
        '4',
        '-c:a',
        'aac',
        '-b:a',
        '192k',
        source,
      ]);
      const reelay = await reelaySource(source, binaries);
      const basePlan = reelay.plan;
      for (const preset of presets) {
        for (const crf of crfs) {
          const plan = { ...basePlan, renditions: basePlan.renditions.map((r) => ({ ...r, crf: r.crf - ladder720 + crf })) };
          const out = path.join(dir, `${clip}-${preset}-${crf}`);
          await mkdir(out, { recursive: true });
          const argv = reelay.argv(out, { preset, threads: 0, plan });
          const { timing } = await measure(() => runFfmpegArgv(binaries.ffmpeg.path, argv));
          const renditions: RenditionQuality[] = [];
          for (const r of plan.renditions) {
            const file = path.join(out, r.file);
            const scores = await compare(binaries.ffmpeg.path, file, source, r.width, r.height);
            renditions.push({
              name: r.name,
              width: r.width,
              height: r.height,
              crf: r.crf,
              videoKbps: await videoKbps(binaries.ffprobe.path, file),
              ...scores,
            });
          }
          await rm(out, { recursive: true, force: true });
          points.push({ clip, preset, crf, wallSeconds: timing.wallSeconds, cpuSeconds: timing.cpuSeconds, renditions, pareto: false });
          const top = renditions.at(-1)!;
          progress(
            `quality: ${clip} ${preset} crf ${crf}: ${timing.cpuSeconds.toFixed(1)} s CPU, ${top.name} ${top.videoKbps.toFixed(0)} kb/s, ` +
              `SSIM ${top.ssim.toFixed(4)} (${top.ssimDb.toFixed(2)} dB), PSNR ${top.psnr.toFixed(2)} dB`,
          );
        }
      }
    }
    markPareto(points);
    return { clipSeconds, vmaf: false, presets: [...presets], crfs: [...crfs], points };
  });
}

/** Pareto on (CPU ↓, 720p bitrate ↓, 720p SSIM dB ↑) within each clip. */
function markPareto(points: QualityPoint[]): void {
  const top = (p: QualityPoint) => p.renditions.at(-1)!;
  for (const p of points) {
    p.pareto = !points.some(
      (q) =>
        q !== p &&
        q.clip === p.clip &&
        q.cpuSeconds <= p.cpuSeconds &&
        top(q).videoKbps <= top(p).videoKbps &&
        top(q).ssimDb >= top(p).ssimDb &&
        (q.cpuSeconds < p.cpuSeconds || top(q).videoKbps < top(p).videoKbps || top(q).ssimDb > top(p).ssimDb),
    );
  }
}

/** SSIM and PSNR of a rendition against the source scaled to its size. */
async function compare(ffmpeg: string, rendition: string, source: string, width: number, height: number) {
  const graph =
    `[1:v]scale=${width}:${height}:flags=bicubic,setsar=1,format=yuv420p,split[r1][r2];` +
    '[0:v]setsar=1,format=yuv420p,split[d1][d2];[d1][r1]ssim;[d2][r2]psnr';
  const { stderr } = await execFileAsync(
    ffmpeg,
    ['-hide_banner', '-nostdin', '-i', rendition, '-i', source, '-lavfi', graph, '-an', '-f', 'null', '-'],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const ssim = Number(/SSIM .*All:([\d.]+)/.exec(stderr)?.[1]);
  const psnr = Number(/PSNR .*average:([\d.]+|inf)/.exec(stderr)?.[1]);
  if (!Number.isFinite(ssim) || Number.isNaN(psnr)) throw new Error(`no SSIM/PSNR in ffmpeg's output:\n${stderr.slice(-2000)}`);
  return { ssim, ssimDb: -10 * Math.log10(Math.max(1e-10, 1 - ssim)), psnr };
}

async function videoKbps(ffprobe: string, file: string): Promise<number> {
  const { stdout } = await execFileAsync(ffprobe, [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=bit_rate',
    '-of',
    'csv=p=0',
    file,
  ]);
  return Number(stdout.trim()) / 1000;
}

export function renderQuality(r: QualityResult): string {
  const sections = [
    `## Quality per bit: x264 presets × CRF (${r.clipSeconds} s 1080p30 sources; reelay's one pass with its VBV caps; no VMAF in this ffmpeg)`,
    '',
    'CPU: the whole pass (both renditions and the thumbnail). SSIM dB = −10·log10(1 − SSIM). ★: Pareto-optimal within its clip (no other point is at once no slower, no bigger and no worse at 720p).',
    '',
  ];
  for (const clip of Object.keys(CLIP_KINDS) as ClipKind[]) {
    const rows = r.points
      .filter((p) => p.clip === clip)
      .map((p) => {
        const [low, high] = [p.renditions[0]!, p.renditions.at(-1)!];
        return [
          `${p.preset} / ${p.crf}${p.pareto ? ' ★' : ''}`,
          fixed(p.cpuSeconds, 1),
          fixed(high.videoKbps, 0),
          fixed(high.ssimDb, 2),
          fixed(high.psnr, 2),
          fixed(low.videoKbps, 0),
          fixed(low.ssimDb, 2),
          fixed(low.psnr, 2),
        ];
      });
    sections.push(
      `### ${clip}-like source`,
      '',
      markdownTable(
        ['preset / CRF (720p)', 'CPU s', '720p kb/s', '720p SSIM dB', '720p PSNR', '360p kb/s', '360p SSIM dB', '360p PSNR'],
        rows,
      ),
      '',
    );
  }
  return sections.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  const result = await runQuality(
    values.quick
      ? { clipSeconds: 2, presets: ['ultrafast', 'veryfast', 'medium'], crfs: [23, 27], binaries: locateFfmpeg(loadConfig().ffmpeg) }
      : { clipSeconds: 2, presets: PRESETS, crfs: [20, 23, 26], binaries: locateFfmpeg(loadConfig().ffmpeg) },
  );
  process.stdout.write(renderQuality(result));
  process.exit(0);
}

/**
 * Where reelay's own ffmpeg command stands against the hand-written one, and
 * what each of its differences costs: the command the worker runs, and the
 * same with one choice undone at a time (`-threads`, the VBV caps, niceness),
 * each run in turn with the hand-written reference (round robin, the order
 * rotated every round) so machine load hits every variant alike. Ratios are
 * per round, to the reference of the same round.
 *
 *   node bench/ffmpeg-variants.ts [--quick] [--rounds N] [--seconds S]
 */
import { mkdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config/index.ts';
import { locateFfmpeg, type FfmpegBinaries } from '../core/ffmpeg/locate.ts';
import { withCleanup } from './lib/cleanup.ts';
import { generateClip, runFfmpegArgv } from './lib/ffmpeg.ts';
import { fixed, markdownTable } from './lib/markdown.ts';
import { measure } from './lib/measure.ts';
import { progress } from './lib/progress.ts';
import { referenceArgv } from './lib/reference-command.ts';
import { reelaySource } from './lib/reelay-command.ts';
import { describeSpread, spread, type Spread } from './lib/spread.ts';
import { makeTempDir } from './lib/temp-dir.ts';

export interface VariantResult {
  name: string;
  niceness: number;
  argv: string[];
  wallSeconds: Spread;
  cpuSeconds: Spread;
  /** Per round, ÷ the reference of that round. */
  wallRatio: Spread;
  cpuRatio: Spread;
}

export interface FfmpegVariantsResult {
  clipSeconds: number;
  rounds: number;
  loadAverageBefore: number;
  settings: { preset: string; threads: number; niceness: number };
  variants: VariantResult[];
}

interface Variant {
  name: string;
  niceness: number;
  argv: (out: string) => string[];
}

/** Drops `flag value` pairs from an argv. */
function without(argv: string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (flags.includes(argv[i]!)) i++;
    else out.push(argv[i]!);
  }
  return out;
}

export async function runFfmpegVariants({
  clipSeconds,
  rounds,
  binaries,
  preset,
  threads,
  niceness,
}: {
  clipSeconds: number;
  rounds: number;
  binaries: FfmpegBinaries;
  preset: string;
  threads: number;
  niceness: number;
}): Promise<FfmpegVariantsResult> {
  return withCleanup(async (cleanup) => {
    const loadAverageBefore = loadavg()[0] ?? 0;
    const dir = await makeTempDir(cleanup, 'variants');
    const clip = path.join(dir, 'clip.mp4');
    progress(`variants: generating a ${clipSeconds} s 1080p30 clip`);
    await generateClip(binaries.ffmpeg.path, clip, { seconds: clipSeconds });
    const source = await reelaySource(clip, binaries);
    const reelay = (out: string, t: number) => source.argv(out, { preset, threads: t });

    const variants: Variant[] = [
      { name: 'hand-written reference', niceness: 0, argv: (out) => referenceArgv(clip, out) },
      { name: `reelay (threads ${threads}, nice ${niceness})`, niceness, argv: (out) => reelay(out, threads) },
      { name: `reelay, threads ${threads}, nice 0`, niceness: 0, argv: (out) => reelay(out, threads) },
      { name: 'reelay, no -threads, nice 0', niceness: 0, argv: (out) => reelay(out, 0) },
      { name: 'reelay, no -threads, no VBV caps, nice 0', niceness: 0, argv: (out) => without(reelay(out, 0), ['-maxrate', '-bufsize']) },
    ];
    const wall = variants.map((): number[] => []);
    const cpu = variants.map((): number[] => []);
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < variants.length; k++) {
        const index = (k + round) % variants.length;
        const variant = variants[index]!;
        const out = path.join(dir, `out-${index}`);
        await rm(out, { recursive: true, force: true });
        await mkdir(out);
        const { timing } = await measure(() => runFfmpegArgv(binaries.ffmpeg.path, variant.argv(out), { niceness: variant.niceness }));
        wall[index]!.push(timing.wallSeconds);
        cpu[index]!.push(timing.cpuSeconds);
      }
      progress(`variants: round ${round + 1}/${rounds}: ${variants.map((_, i) => wall[i]!.at(-1)!.toFixed(2)).join(' / ')} s`);
    }
    const ratios = (series: number[][], i: number) => series[i]!.map((v, round) => v / series[0]![round]!);
    return {
      clipSeconds,
      rounds,
      loadAverageBefore,
      settings: { preset, threads, niceness },
      variants: variants.map((v, i) => ({
        name: v.name,
        niceness: v.niceness,
        argv: v.argv('<out>'),
        wallSeconds: spread(wall[i]!),
        cpuSeconds: spread(cpu[i]!),
        wallRatio: spread(ratios(wall, i)),
        cpuRatio: spread(ratios(cpu, i)),
      })),
    };
  });
}

export function renderFfmpegVariants(r: FfmpegVariantsResult): string {
  return [
    `## reelay's ffmpeg command vs the hand-written one (${r.clipSeconds} s 1080p30 clip, ${r.rounds} rounds, load average before ${r.loadAverageBefore.toFixed(2)})`,
    '',
    markdownTable(
      ['variant', 'wall s', 'CPU s', 'wall ÷ reference', 'CPU ÷ reference'],
      r.variants.map((v) => [
        v.name,
        fixed(v.wallSeconds.median),
        fixed(v.cpuSeconds.median),
        describeSpread(v.wallRatio, 3),
        describeSpread(v.cpuRatio, 3),
      ]),
    ),
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' }, seconds: { type: 'string' } },
  });
  const config = loadConfig();
  const result = await runFfmpegVariants({
    clipSeconds: Number(values.seconds ?? (values.quick ? 6 : 20)),
    rounds: Number(values.rounds ?? (values.quick ? 3 : 5)),
    binaries: locateFfmpeg(config.ffmpeg),
    preset: config.ffmpeg.preset,
    threads: config.ffmpeg.threads,
    niceness: config.ffmpeg.niceness,
  });
  process.stdout.write(renderFfmpegVariants(result));
  process.exit(0);
}

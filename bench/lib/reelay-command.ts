import { mkdirSync } from 'node:fs';
import type { TranscodePlan } from '../../workers/transcode/renditions.ts';
import { buildTranscodeCommand, commandArgv, outputDirs } from '../../workers/transcode/ffmpeg/command.ts';
import { probeMedia, type ProbeResult } from '../../workers/transcode/ffmpeg/probe/index.ts';
import { filterSupport, sourceChain } from '../../workers/transcode/ffmpeg/source-filters.ts';
import type { FfmpegBinaries } from '../../core/ffmpeg/locate.ts';
import { demuxerFor } from '../../workers/transcode/media-limits.ts';
import { planFromProbe } from '../../workers/transcode/transcode-file.ts';

/** A probed source and what reelay's worker would run for it (as transcodeFile builds it, first variant). */
export interface ReelaySource {
  probe: ProbeResult;
  plan: TranscodePlan;
  /** reelay's one-pass argv writing into `outDir` (its HLS and storyboard folders made), with `preset`, `-threads` and, optionally, other CRFs. */
  argv(outDir: string, options: { preset: string; threads: number; plan?: TranscodePlan }): string[];
}

export async function reelaySource(file: string, binaries: FfmpegBinaries): Promise<ReelaySource> {
  const probe = await probeMedia(file, { ffprobePath: binaries.ffprobe.path });
  const plan = planFromProbe(probe);
  const support = await filterSupport(binaries.ffmpeg.path);
  const inputFormat = demuxerFor(probe.format);
  return {
    probe,
    plan,
    argv: (outDir, { preset, threads, plan: planned = plan }) => {
      const chain = sourceChain(probe, planned, support);
      // The command also writes the HLS variants and the storyboard into folders of their own, which ffmpeg does not create.
      for (const dir of outputDirs(planned, outDir)) mkdirSync(dir, { recursive: true });
      return commandArgv(
        buildTranscodeCommand(planned, {
          input: file,
          outDir,
          preset,
          threads,
          inputFormat,
          video: { index: probe.video.index, filters: chain.filters, inputMatrix: chain.inputMatrix },
          ...(planned.hasAudio && probe.audio ? { audio: { index: probe.audio.index, sampleRate: probe.audio.sampleRate } } : {}),
        }),
      );
    },
  };
}

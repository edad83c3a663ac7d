import path from 'node:path';
import type { FfmpegCommand } from '../../workers/transcode/ffmpeg/command.ts';

export interface NaiveCommand {
  /** The output's file name, e.g. `360p.mp4`. */
  output: string;
  command: FfmpegCommand;
}

/**
 * Splits the worker's one-pass command into one command per output, each
 * decoding the source itself: the naive way the one-pass design replaces.
 * Every output keeps its own filter branch and encoder options exactly as the
 * worker builds them, so only the decoding is repeated. Expects the graph
 * shape of buildTranscodeCommand: `[0:v:0]split=N[a][b]…;[a]…[out];[b]…[out]`.
 */
export function naiveCommands(onePass: FfmpegCommand): NaiveCommand[] {
  const [splitter, ...branches] = onePass.complexFilter.split(';');
  const source = /^(\[[^\]]+\])split=\d+/.exec(splitter ?? '')?.[1];
  if (!source) throw new Error(`unexpected filter graph (no leading split): ${onePass.complexFilter}`);

  const branchByOutput = new Map<string, string>();
  for (const branch of branches) {
    const match = /^\[[^\]]+\](.+)(\[[^\]]+\])$/.exec(branch);
    if (!match) throw new Error(`unexpected filter branch: ${branch}`);
    branchByOutput.set(match[2]!, match[1]!);
  }

  return onePass.outputs.map((output) => {
    const mapIndex = output.options.indexOf('-map');
    const label = output.options[mapIndex + 1];
    const filters = label === undefined ? undefined : branchByOutput.get(label);
    if (mapIndex < 0 || filters === undefined) throw new Error(`output ${output.path} maps no branch of the graph`);
    return {
      // A teed output (`[f=mp4…]a.mp4|[f=hls…]b.m3u8`) is named by its first file.
      output: path.basename(output.path.split('|')[0]!.replace(/^\[[^\]]*\]/, '')),
      command: { ...onePass, complexFilter: `${source}${filters}${label}`, outputs: [output] },
    };
  });
}

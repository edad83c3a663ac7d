/**
 * `npm run bench [-- [--quick] [--only transcode|ingest]]`: the markdown
 * report on stdout, progress on stderr, every figure as JSON in
 * bench/results/<date>-<commit>[-quick][-<only>].json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../core/config.ts';
import { ConfigError, describeError } from '../core/errors.ts';
import { locateFfmpeg } from '../workers/transcode/ffmpeg/locate.ts';
import { runIngestMemory } from './ingest-memory.ts';
import { parseBenchArgs, type BenchArgs } from './lib/args.ts';
import { GiB, MiB } from './lib/byte-source.ts';
import { runAllCleanups } from './lib/cleanup.ts';
import { gitInfo, machineInfo } from './lib/machine.ts';
import { progress } from './lib/progress.ts';
import { renderReport, type BenchResults } from './report.ts';
import { runTranscodeOverhead } from './transcode-overhead.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

const SIZES = {
  full: { clipSeconds: 30, bigUploadBytes: GiB },
  quick: { clipSeconds: 8, bigUploadBytes: 256 * MiB },
} as const;
const SMALL_UPLOAD_BYTES = 10 * MiB;

async function main(args: BenchArgs): Promise<void> {
  const startedAt = new Date();
  const started = performance.now();
  const mode = args.quick ? 'quick' : 'full';
  const sizes = SIZES[mode];
  const config = loadConfig();
  const binaries = locateFfmpeg(config.ffmpeg);
  const [machine, git] = await Promise.all([machineInfo(binaries), gitInfo(REPO_ROOT)]);
  progress(`${mode} run on ${machine.cores} cores, node ${machine.node}, ffmpeg ${machine.ffmpeg.version} (${machine.ffmpeg.path})`);

  const transcode =
    args.only === 'ingest'
      ? undefined
      : await runTranscodeOverhead({
          clipSeconds: sizes.clipSeconds,
          binaries,
          preset: config.ffmpeg.preset,
          threads: config.ffmpeg.threads,
          niceness: config.ffmpeg.niceness,
        });
  const ingest =
    args.only === 'transcode' ? undefined : await runIngestMemory({ bigBytes: sizes.bigUploadBytes, smallBytes: SMALL_UPLOAD_BYTES });

  const results: BenchResults = {
    schema: 1,
    startedAt: startedAt.toISOString(),
    durationSeconds: (performance.now() - started) / 1000,
    mode,
    git,
    machine: { ...machine, loadAverageAtEnd: loadavg()[0] ?? 0 },
    ...(transcode ? { transcode } : {}),
    ...(ingest ? { ingest } : {}),
  };
  const file = path.join(
    RESULTS_DIR,
    `${results.startedAt.slice(0, 10)}-${git.commit}${args.quick ? '-quick' : ''}${args.only ? `-${args.only}` : ''}.json`,
  );
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(renderReport(results));
  progress(`results written to ${path.relative(process.cwd(), file)}`);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    progress(`${signal}: cleaning up`);
    void runAllCleanups().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

let args: BenchArgs;
try {
  args = parseBenchArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${describeError(err)}\n`);
  process.exit(2);
}

try {
  await main(args);
} catch (err) {
  // A bad setting needs no stack trace; anything else does.
  const detail = err instanceof ConfigError || !(err instanceof Error) ? describeError(err) : (err.stack ?? err.message);
  process.stderr.write(`bench failed: ${detail}\n`);
  await runAllCleanups();
  // Whatever the failure left pending (a long poll, a timer) must not keep the bench alive.
  process.exit(1);
}

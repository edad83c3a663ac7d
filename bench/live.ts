/**
 * Live ingest capacity and latency:
 *
 *   node bench/live.ts [--seconds 30] [--max-streams 8]
 *
 * The embedded emulator runs as its own process; this process provisions a unique prefix and runs the live
 * ingest (workers/live/live-ingest.ts) on a free RTMP port. A 720p30 H.264/AAC FLV (x264 veryfast, keyframe
 * every 2 s, made once) is published by N ffmpeg processes at once, each `-re -c copy` (copying costs the
 * publishers next to nothing, so the host's cores go to the ingest), for `--seconds`, with N = 1, 2, … until a
 * step is not real time, once with passthrough (the 720p rung is the source) and once without (720p and 360p
 * both encoded). A step is real time when every segment after the first two of each stream is listed in its
 * live playlist no later than its own duration after its last frame went into ffmpeg (latency from its first
 * frame ≤ 2 × its duration) and no stream fell short of segments. (The segments each stream's end closes are not
 * judged: they wait for the publisher to go, not for time.) Latency: from the moment a segment's first
 * frame (its keyframe) is written to ffmpeg's stdin to the moment the playlist naming the segment is stored.
 */
import { execFile, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { EventPublisher } from '../core/events.ts';
import { loadConfig } from '../core/config/index.ts';
import { locateFfmpeg, type FfmpegBinaries } from '../core/ffmpeg/locate.ts';
import { LiveChannels } from '../core/live/channels.ts';
import { silentLogger } from '../core/logger.ts';
import { resolveResources } from '../core/resources.ts';
import { startLiveIngest } from '../workers/live/live-ingest.ts';
import { exited, ownChild } from './lib/child-process.ts';
import { withCleanup, type Cleanup } from './lib/cleanup.ts';
import { startEmulatorProcess } from './lib/emulator.ts';
import { latencyStats, type LatencyStats } from './lib/latency.ts';
import { fixed, markdownTable } from './lib/markdown.ts';
import { cpuSecondsWithChildren } from './lib/proc-stats.ts';
import { benchConfig, benchLogger, provisionedClients, uniquePrefix } from './lib/reelay-setup.ts';
import { makeTempDir } from './lib/temp-dir.ts';
import { testPatternArgs } from '../testkit/test-pattern.ts';

const progress = (message: string) => process.stderr.write(`live: ${message}\n`);
/** The first segments of a stream include start-up (ffmpeg probing, the first upload); they are not judged. */
const WARM_UP_SEGMENTS = 2;

export interface LiveStep {
  streams: number;
  realTime: boolean;
  /** Segments (after warm-up) listed later than 2 × their duration after their first frame went in. */
  late: number;
  /** Segments listed, all streams and renditions, after warm-up. */
  segments: number;
  /** Streams that listed fewer segments of a rendition than the run's length allows. */
  short: number;
  /** Per rendition, ms. */
  latency: Record<string, LatencyStats>;
  /** Cores the ingest (this process and its ffmpegs) kept busy. */
  cores: number;
}

export interface LiveBenchResult {
  seconds: number;
  source: string;
  passthrough: { maxStreams: number; steps: LiveStep[] };
  encoded: { maxStreams: number; steps: LiveStep[] };
}

async function sourceFlv(ffmpeg: string, dir: string): Promise<string> {
  const file = path.join(dir, 'source-720p30.flv');
  const video = ['-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '3000k', '-maxrate', '3000k', '-bufsize', '6000k'];
  const keyframes = ['-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p'];
  await promisify(execFile)(ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error'],
    ...testPatternArgs({ seconds: 60, videoArgs: [...video, ...keyframes], audioArgs: ['-c:a', 'aac', '-b:a', '128k'] }),
    ...['-f', 'flv', file],
  ]);
  return file;
}

async function runStep(
  cleanup: Cleanup,
  {
    endpoint,
    source,
    streams,
    seconds,
    passthrough,
    ffmpeg,
  }: { endpoint: string; source: string; streams: number; seconds: number; passthrough: boolean; ffmpeg: string },
): Promise<LiveStep> {
  const prefix = uniquePrefix('live');
  const config = benchConfig(endpoint, prefix, {
    REELAY_LIVE_PASSTHROUGH: String(passthrough),
    REELAY_LIVE_RTMP_PORT: '0',
    REELAY_LIVE_MAX_STREAMS: String(streams),
    REELAY_LIVE_RECONNECT_GRACE_SECONDS: '0.5',
  });
  const logger = benchLogger('live');
  const clients = await provisionedClients(cleanup, config, logger);
  const resources = await resolveResources(clients, prefix);
  const channels = new LiveChannels({
    s3: clients.s3,
    mediaBucket: resources.names.mediaBucket,
    events: new EventPublisher(clients.sns, resources),
    logger: silentLogger(),
    source: '/reelay/bench',
  });
  const listed: { rendition: string; sequence: number; duration: number; listedAt: number; latencyMs?: number }[] = [];
  const ingest = await startLiveIngest({
    config,
    clients,
    resources,
    ffmpegPath: ffmpeg,
    logger,
    hooks: { onListed: (s) => listed.push(s) },
  });
  try {
    const keys = await Promise.all(
      Array.from({ length: streams }, async (_, i) => (await channels.create('default', { channelId: `bench-${i}` })).streamKey),
    );
    const cpuBefore = cpuSecondsWithChildren();
    const started = performance.now();
    const publishers = keys.map((key) =>
      ownChild(
        cleanup,
        spawn(
          ffmpeg,
          [
            '-hide_banner',
            '-loglevel',
            'error',
            '-re',
            '-stream_loop',
            '-1',
            '-i',
            source,
            '-t',
            String(seconds),
            '-c',
            'copy',
            '-f',
            'flv',
            `rtmp://127.0.0.1:${ingest.rtmp.port}/live/${key}`,
          ],
          {
            stdio: ['ignore', 'ignore', 'inherit'],
          },
        ),
        'a bench publisher',
      ),
    );
    await Promise.all(publishers.map((p) => exited(p)));
    // Segments listed from here on were closed by the publishers' end, not by time: their latency says nothing.
    const publishersDoneAt = Date.now() - 250;
    // The last segments are listed once each stream's ffmpeg closed them.
    const deadline = Date.now() + 30_000;
    while (ingest.streams > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const cores = (cpuSecondsWithChildren() - cpuBefore) / ((performance.now() - started) / 1000);

    const byRendition = new Map<string, number[]>();
    let late = 0;
    let segments = 0;
    const counts = new Map<string, number>();
    for (const s of listed) {
      counts.set(`${s.rendition}`, (counts.get(s.rendition) ?? 0) + 1);
      if (s.sequence < WARM_UP_SEGMENTS || s.latencyMs === undefined || s.listedAt >= publishersDoneAt) continue;
      segments++;
      if (s.latencyMs > 2 * s.duration * 1000) late++;
      byRendition.set(s.rendition, [...(byRendition.get(s.rendition) ?? []), s.latencyMs]);
    }
    // Each stream lists about seconds / 2 segments per rendition; one fewer is the last partial one.
    const expected = streams * (Math.floor(seconds / 2) - 1);
    const short = [...counts.values()].filter((n) => n < expected).length;
    const latency = Object.fromEntries([...byRendition].map(([r, v]) => [r, latencyStats(v)]));
    return { streams, realTime: late === 0 && short === 0 && segments > 0, late, segments, short, latency, cores };
  } finally {
    await ingest.stop();
  }
}

export async function runLiveBench({
  seconds,
  maxStreams,
  binaries,
}: {
  seconds: number;
  maxStreams: number;
  binaries: FfmpegBinaries;
}): Promise<LiveBenchResult> {
  return withCleanup(async (cleanup) => {
    const { ffmpeg } = binaries;
    const dir = await makeTempDir(cleanup, 'live');
    progress('making the 720p30 source');
    const source = await sourceFlv(ffmpeg.path, dir);
    const { endpoint } = await startEmulatorProcess(cleanup);
    const mode = async (passthrough: boolean) => {
      const steps: LiveStep[] = [];
      for (let streams = 1; streams <= maxStreams; streams++) {
        progress(`${passthrough ? 'passthrough' : 'all encoded'}: ${streams} stream(s) for ${seconds} s`);
        const step = await withCleanup((stepCleanup) =>
          runStep(stepCleanup, { endpoint, source, streams, seconds, passthrough, ffmpeg: ffmpeg.path }),
        );
        steps.push(step);
        progress(
          `  ${step.realTime ? 'real time' : 'NOT real time'}: ${step.late} late of ${step.segments}, ${step.short} short, ${step.cores.toFixed(2)} cores`,
        );
        if (!step.realTime) break;
      }
      return { maxStreams: Math.max(0, ...steps.filter((s) => s.realTime).map((s) => s.streams)), steps };
    };
    const passthrough = await mode(true);
    const encoded = await mode(false);
    return {
      seconds,
      source: '1280×720 30 fps H.264 (x264 veryfast, 3 Mbit/s, keyframe every 2 s) + AAC 128 kbit/s',
      passthrough,
      encoded,
    };
  });
}

export function renderLiveBench(r: LiveBenchResult): string {
  const rows = (name: string, m: LiveBenchResult['passthrough']) =>
    m.steps.map((s) => [
      name,
      String(s.streams),
      s.realTime ? 'yes' : '**no**',
      `${s.late}/${s.segments}`,
      fixed(s.cores),
      ...['720p', '360p'].map((rendition) => {
        const l = s.latency[rendition];
        return l ? `${fixed(l.p50Ms / 1000, 2)} / ${fixed(l.p90Ms / 1000, 2)} / ${fixed(l.maxMs / 1000, 2)}` : '—';
      }),
    ]);
  return [
    `## Live ingest: 720p30 streams per host, segment latency (${cpus().length} cores)`,
    '',
    `Each step publishes N copies of ${r.source} for ${r.seconds} s. Real time: every segment (after each stream's first two) listed within 2 × its duration of its first frame entering ffmpeg, and none missing.`,
    `**Streams kept in real time: ${r.passthrough.maxStreams} with passthrough, ${r.encoded.maxStreams} with every rung encoded.**`,
    '',
    markdownTable(
      ['mode', 'streams', 'real time', 'late/segments', 'cores', '720p latency s (p50 / p90 / max)', '360p latency s (p50 / p90 / max)'],
      [...rows('passthrough', r.passthrough), ...rows('all encoded', r.encoded)],
      { textColumns: 3 },
    ),
    '',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '30' }, 'max-streams': { type: 'string', default: '8' } },
  });
  const binaries = locateFfmpeg(loadConfig().ffmpeg);
  const result = await runLiveBench({ seconds: Number(values.seconds), maxStreams: Number(values['max-streams']), binaries });
  process.stdout.write(renderLiveBench(result));
}

import { hostname } from 'node:os';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startApi } from '../../api/start-api.ts';
import { eventFromSqsBody, type ReelayEvent } from '../../core/events.ts';
import { resolveResources } from '../../core/resources.ts';
import type { VideoStatus } from '../../core/video-status.ts';
import { ensureSubscriberQueue } from '../../infra/provision.ts';
import { parentDeathLauncher } from '../../workers/transcode/ffmpeg/death-signal.ts';
import type { FfmpegBinaries } from '../../core/ffmpeg/locate.ts';
import { createTranscodeWorker } from '../../workers/transcode/create-worker.ts';
import type { Cleanup } from './cleanup.ts';
import { startEmbeddedEmulator } from './emulator.ts';
import { LogMarks } from './log-marks.ts';
import { BENCH_API_KEY, benchConfig, provisionedClients, uniquePrefix } from './reelay-setup.ts';
import { makeTempDir } from './temp-dir.ts';

export interface VideoOutcome {
  event: ReelayEvent;
  /** performance.now() and Date.now() when the event was received. */
  receivedAt: number;
  receivedAtEpochMs: number;
}

export interface PipelineStack {
  apiUrl: string;
  marks: LogMarks;
  /** Waits for `video.ready` of one video on the bench's subscriber queue; throws on `video.failed`. */
  waitForReady(videoId: string, options: { timeoutMs: number }): Promise<VideoOutcome>;
  /** The video as `GET /v1/videos/:id` shows it. */
  status(videoId: string): Promise<VideoStatus>;
}

/**
 * The whole pipeline in this process, wired as api/main.ts and
 * workers/transcode/main.ts wire it: the embedded emulator on a free port,
 * provisioning under a unique prefix, the hono API served over HTTP, one
 * TranscodeWorker with the configured defaults, and a subscriber queue on the
 * video-events topic that receives `video.ready`/`video.failed`. `niceness`
 * is given rather than read from the configuration so the caller can run its
 * own ffmpeg at the very same one.
 */
export async function startPipelineStack(
  cleanup: Cleanup,
  { binaries, niceness }: { binaries: FfmpegBinaries; niceness: number },
): Promise<PipelineStack> {
  const emulator = await startEmbeddedEmulator(cleanup);
  // Long polls return as soon as a job arrives whatever their length; a short one only bounds the worker's stop().
  const config = benchConfig(emulator.endpoint, uniquePrefix('transcode'), { REELAY_POLL_WAIT_SECONDS: '2' });
  const marks = new LogMarks('bench-pipeline');
  const logger = marks.logger;
  const clients = await provisionedClients(cleanup, config, logger);
  const resources = await resolveResources(clients, config.prefix);
  const api = await startApi({ config, clients, resources, logger, listen: { host: '127.0.0.1', port: 0 } });
  cleanup.defer('stop the API', () => api.stop());
  const apiUrl = api.url;

  const workDir = await makeTempDir(cleanup, 'worker');
  // As workers/transcode/main.ts: ffmpeg through the launcher that makes the kernel kill it with its parent.
  const launcher = await parentDeathLauncher(binaries.ffmpeg.path, workDir, config.ffmpeg.searchPath);
  const runBinaries = launcher ? { ...binaries, ffmpeg: { ...binaries.ffmpeg, path: launcher.path } } : binaries;
  const worker = createTranscodeWorker({
    config: { ...config, worker: { ...config.worker, tmpDir: workDir }, ffmpeg: { ...config.ffmpeg, niceness } },
    clients,
    resources,
    binaries: runBinaries,
    workerId: `${hostname()}:${process.pid}:bench`,
    logger,
  }).start();
  cleanup.defer('stop the worker', () => worker.stop({ graceMs: 5000 }));

  const subscriber = await ensureSubscriberQueue(clients, {
    name: `${config.prefix}-bench`,
    topicArns: [resources.videoTopicArn],
    eventTypes: ['video.ready', 'video.failed'],
  });

  async function waitForReady(videoId: string, { timeoutMs }: { timeoutMs: number }): Promise<VideoOutcome> {
    const deadline = performance.now() + timeoutMs;
    for (let left = timeoutMs; left > 0; left = deadline - performance.now()) {
      const res = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: subscriber.url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: Math.max(1, Math.min(5, Math.ceil(left / 1000))),
        }),
      );
      const receivedAt = performance.now();
      const receivedAtEpochMs = Date.now();
      for (const message of res.Messages ?? []) {
        await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: subscriber.url, ReceiptHandle: message.ReceiptHandle }));
        const event = eventFromSqsBody(message.Body ?? '');
        if (event.subject !== videoId) continue;
        if (event.type === 'video.failed') throw new Error(`video ${videoId} failed in the pipeline: ${JSON.stringify(event.data)}`);
        if (event.type === 'video.ready') return { event, receivedAt, receivedAtEpochMs };
      }
    }
    throw new Error(`video ${videoId} was not ready within ${timeoutMs / 1000} s`);
  }

  async function status(videoId: string): Promise<VideoStatus> {
    const res = await fetch(`${apiUrl}/v1/videos/${videoId}`, { headers: { authorization: `Bearer ${BENCH_API_KEY}` } });
    if (!res.ok) throw new Error(`GET /v1/videos/${videoId} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as VideoStatus;
  }

  return { apiUrl, marks, waitForReady, status };
}

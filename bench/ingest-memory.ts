import { Upload } from '@aws-sdk/lib-storage';
import { UPLOAD_PART_BYTES, UPLOAD_QUEUE_SIZE } from '../api/uploads/ingest.ts';
import { resourceNames } from '../core/resources.ts';
import { startApiProcess } from './lib/api-process.ts';
import { generatedBytes, MiB } from './lib/byte-source.ts';
import { benchStopping, withCleanup } from './lib/cleanup.ts';
import { startEmulatorProcess, type BenchEmulator } from './lib/emulator.ts';
import { postVideo } from './lib/http-upload.ts';
import { LoadWindow, round } from './lib/measure.ts';
import { cpuSeconds } from './lib/proc-stats.ts';
import { progress } from './lib/progress.ts';
import { BENCH_API_KEY, benchConfig, benchEnv, benchLogger, provisionedClients, uniquePrefix } from './lib/reelay-setup.ts';
import { RssSampler, type RssSummary } from './lib/rss-sampler.ts';

export interface IngestMemoryOptions {
  /** The large upload, bytes (1 GiB; 256 MiB with --quick). */
  bigBytes: number;
  smallBytes: number;
}

export interface UploadRun {
  bytes: number;
  seconds: number;
  mibPerSecond: number;
  /** CPU used during the upload, in percent of one core. */
  cpuPercent: { api: number | undefined; emulator: number; client: number };
  /** Peak RSS of the emulator process during the upload, bytes (fauxqs keeps every part of an upload in memory). */
  emulatorPeakRss: number;
  /** Cores kept busy meanwhile by the rest of the machine (other tenants, hypervisor steal). */
  otherLoadCores: number;
}

export interface ApiUploadRun extends UploadRun {
  /** VmRSS of the API process right before the upload (after start-up and one 1 MiB warm-up upload), bytes. */
  baselineRss: number;
  peakRss: number;
  peakGrowth: number;
  rssSamples: number;
  /** True when VmHWM could be reset, so the peak includes what fell between samples. */
  peakFromHwm: boolean;
}

export interface IngestMemoryResult {
  partBytes: number;
  queueSize: number;
  api: { small: ApiUploadRun; big: ApiUploadRun };
  direct: UploadRun;
  /** API throughput / direct lib-storage throughput for the large upload. */
  apiToDirectThroughput: number;
}

const API_MAX_UPLOAD = '2GiB';
const WARMUP_BYTES = MiB;

/**
 * Does streaming ingest keep the API's memory flat? Uploads a small and a
 * large generated body through `POST /v1/videos` of a real API process, each
 * time in a fresh process, sampling its RSS; then uploads the large body
 * straight to S3 with lib-storage (same part size and queue) for the ceiling
 * the emulator allows. The emulator runs in its own process.
 */
export async function runIngestMemory({ bigBytes, smallBytes }: IngestMemoryOptions): Promise<IngestMemoryResult> {
  return withCleanup(async (cleanup) => {
    progress('ingest: starting the emulator process');
    const emulator = await startEmulatorProcess(cleanup);
    const prefix = uniquePrefix('ingest');
    const config = benchConfig(emulator.endpoint, prefix);
    const clients = await provisionedClients(cleanup, config, benchLogger('bench-ingest'));
    const apiEnv = benchEnv(emulator.endpoint, prefix, { REELAY_MAX_UPLOAD_BYTES: API_MAX_UPLOAD });
    const upload = (url: string, bytes: number) =>
      postVideo(url, generatedBytes(bytes), { bytes, apiKey: BENCH_API_KEY, signal: benchStopping });

    const viaApi = (bytes: number) =>
      withCleanup(async (apiCleanup) => {
        progress(`ingest: API process for the ${formatMiB(bytes)} upload`);
        const api = await startApiProcess(apiCleanup, { env: apiEnv });
        const warmup = await upload(api.url, WARMUP_BYTES);
        if (warmup.status !== 202) throw new Error(`warm-up upload answered ${warmup.status}: ${JSON.stringify(warmup.body)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        progress(`ingest: uploading ${formatMiB(bytes)} through POST /v1/videos`);
        const { result, run, apiRss } = await observe(emulator, api.pid, bytes, () => upload(api.url, bytes));
        if (result.status !== 202)
          throw new Error(`upload of ${formatMiB(bytes)} answered ${result.status}: ${JSON.stringify(result.body)}`);
        const rss = apiRss!;
        return {
          ...run,
          baselineRss: rss.startRss,
          peakRss: rss.peakRss,
          peakGrowth: rss.peakRss - rss.startRss,
          rssSamples: rss.samples,
          peakFromHwm: rss.usedHwm,
        } satisfies ApiUploadRun;
      });

    const small = await viaApi(smallBytes);
    const big = await viaApi(bigBytes);

    progress(`ingest: uploading ${formatMiB(bigBytes)} straight to S3 with lib-storage`);
    const { run: direct } = await observe(emulator, undefined, bigBytes, () =>
      new Upload({
        client: clients.s3,
        params: {
          Bucket: resourceNames(prefix).rawBucket,
          Key: `bench/direct-${bigBytes}`,
          Body: generatedBytes(bigBytes),
          ContentType: 'application/octet-stream',
        },
        partSize: UPLOAD_PART_BYTES,
        queueSize: UPLOAD_QUEUE_SIZE,
        leavePartsOnError: false,
        abortController: abortWith(benchStopping),
      }).done(),
    );

    return {
      partBytes: UPLOAD_PART_BYTES,
      queueSize: UPLOAD_QUEUE_SIZE,
      api: { small, big },
      direct,
      apiToDirectThroughput: big.mibPerSecond / direct.mibPerSecond,
    };
  });
}

/**
 * Times one upload and measures, meanwhile, the CPU of the API (if any), the
 * emulator and this process, and the RSS of the API and the emulator.
 */
async function observe<T>(
  emulator: BenchEmulator,
  apiPid: number | undefined,
  bytes: number,
  upload: () => Promise<T>,
): Promise<{ result: T; run: UploadRun; apiRss: RssSummary | undefined }> {
  const emulatorRss = new RssSampler(emulator.pid).start();
  const apiRss = apiPid === undefined ? undefined : new RssSampler(apiPid).start();
  const cpuBefore = { emulator: cpuSeconds(emulator.pid), api: apiPid === undefined ? 0 : cpuSeconds(apiPid), client: process.cpuUsage() };
  const load = new LoadWindow();
  const started = performance.now();
  let result: T;
  let emulatorMemory: RssSummary;
  let apiMemory: RssSummary | undefined;
  try {
    result = await upload();
  } finally {
    emulatorMemory = emulatorRss.stop();
    apiMemory = apiRss?.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const clientUsage = process.cpuUsage(cpuBefore.client);
  const used = {
    api: apiPid === undefined ? undefined : cpuSeconds(apiPid) - cpuBefore.api,
    emulator: cpuSeconds(emulator.pid) - cpuBefore.emulator,
    client: (clientUsage.user + clientUsage.system) / 1e6,
  };
  const percent = (cpu: number) => round((100 * cpu) / seconds);
  return {
    result,
    apiRss: apiMemory,
    run: {
      bytes,
      seconds,
      mibPerSecond: bytes / MiB / seconds,
      cpuPercent: {
        api: used.api === undefined ? undefined : percent(used.api),
        emulator: percent(used.emulator),
        client: percent(used.client),
      },
      emulatorPeakRss: emulatorMemory.peakRss,
      otherLoadCores: load.otherLoadCores((used.api ?? 0) + used.emulator + used.client),
    },
  };
}

function abortWith(signal: AbortSignal): AbortController {
  const controller = new AbortController();
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  return controller;
}

function formatMiB(bytes: number): string {
  return bytes >= 1024 * MiB ? `${bytes / (1024 * MiB)} GiB` : `${bytes / MiB} MiB`;
}

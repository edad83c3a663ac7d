import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../core/config/index.ts';
import { freePort } from '../../testkit/free-port.ts';
import { exited, ownChild } from './child-process.ts';
import type { Cleanup } from './cleanup.ts';
import { BENCH_API_KEY, BENCH_SECRETS_KEY } from './reelay-setup.ts';

const DEV_STACK = fileURLToPath(new URL('../../infra/dev-stack.ts', import.meta.url));

export interface DevStackProcess {
  apiUrl: string;
  config: Config;
  child: ChildProcess;
  log: StackLog;
  /** Rejects when `npm start` exits (it never should while the bench runs). */
  exited: Promise<never>;
}

/**
 * `npm start` (infra/dev-stack.ts: emulator, API, supervisor with its workers, notifier, webhooks, each its
 * own process) on free ports with its data and temp files under `workDir`, API keys on; resolves once
 * `/healthz` answers. `env` adds or overrides settings (e.g. REELAY_WORKERS_MAX). Stopped by `cleanup`.
 */
export async function startDevStack(cleanup: Cleanup, workDir: string, env: Record<string, string> = {}): Promise<DevStackProcess> {
  const [apiPort, emulatorPort] = [await freePort(), await freePort()];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const full: Record<string, string | undefined> = {
    ...process.env,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    REELAY_EMULATOR_PORT: String(emulatorPort),
    REELAY_SUPERVISOR_PORT: '0',
    // The live ingest role's RTMP and metrics ports: free ones, so the bench never meets another stack's.
    REELAY_LIVE_RTMP_PORT: '0',
    REELAY_LIVE_METRICS_PORT: '0',
    REELAY_DATA_DIR: path.join(workDir, 'data'),
    REELAY_TMP_DIR: path.join(workDir, 'tmp'),
    REELAY_API_KEYS: BENCH_API_KEY,
    REELAY_SECRETS_KEY: BENCH_SECRETS_KEY,
    REELAY_LOG_LEVEL: 'info',
    ...env,
  };
  delete full.AWS_ENDPOINT_URL;
  const config = loadConfig(full);
  const child = ownChild(
    cleanup,
    spawn(process.execPath, ['--disable-warning=ExperimentalWarning', DEV_STACK], { env: full, stdio: ['ignore', 'pipe', 'pipe'] }),
    'npm start',
  );
  const log = new StackLog();
  createInterface({ input: child.stdout! }).on('line', (line) => log.add(line));
  createInterface({ input: child.stderr! }).on('line', (line) => log.add(line));
  const stackExited = exited(child).then(() => {
    throw new Error(`npm start exited early (${child.exitCode ?? child.signalCode}):\n${log.tail()}`);
  });
  stackExited.catch(() => undefined);
  await Promise.race([waitForHealthy(apiUrl), stackExited]);
  return { apiUrl, config, child, log, exited: stackExited };
}

/** The roles' JSON log lines, read for milestones: the worker's `transcoding` line and its `video ready` timings. */
export class StackLog {
  private readonly lines: string[] = [];
  private readonly marks = new Map<string, number>();
  private readonly workerTimings = new Map<string, Record<string, number>>();

  add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 200) this.lines.shift();
    if (!line.startsWith('{')) return;
    try {
      const parsed = JSON.parse(line) as { videoId?: string; msg?: string; time?: number | string; timingsMs?: Record<string, number> };
      // The roles log ISO times (core/logger.ts).
      const time = typeof parsed.time === 'string' ? Date.parse(parsed.time) : parsed.time;
      if (!parsed.videoId || !parsed.msg || time === undefined || !Number.isFinite(time)) return;
      const key = `${parsed.videoId} ${parsed.msg}`;
      if (!this.marks.has(key)) this.marks.set(key, time);
      if (parsed.timingsMs) {
        this.workerTimings.set(parsed.videoId, parsed.timingsMs);
        this.workerTimings.set(key, parsed.timingsMs);
      }
    } catch {
      // Not a log line.
    }
  }

  mark(videoId: string, msg: string): number | undefined {
    return this.marks.get(`${videoId} ${msg}`);
  }

  /** The stage timings of the video's latest log line that had them (`video ready`). */
  timings(videoId: string): Record<string, number> | undefined {
    return this.workerTimings.get(videoId);
  }

  /** The stage timings of one log line of the video, e.g. `video playable`. */
  timingsOf(videoId: string, msg: string): Record<string, number> | undefined {
    return this.workerTimings.get(`${videoId} ${msg}`);
  }

  tail(): string {
    return this.lines.slice(-30).join('\n');
  }
}

async function waitForHealthy(apiUrl: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${apiUrl}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the API at ${apiUrl} did not become healthy within ${timeoutMs / 1000} s`);
}

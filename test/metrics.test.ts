import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';
import { WebhookReceiver } from './support/webhook-receiver.ts';
import { spawnRole, type RoleProcess } from './support/role-process.ts';

/**
 * Every long-running role serves Prometheus metrics (prom-client): the API on
 * its own port, the worker, webhook dispatcher and notifier as their real
 * processes on a port of their own (0 here: any free one, read from the log
 * line that announces it). One upload through the whole pipeline, then each
 * role is scraped for what it did. (The supervisor's are in supervisor.test.ts.)
 */
const root = path.resolve(import.meta.dirname, '..');
const clip = path.join(root, 'samples/small-480p.mkv');

interface MetricsRole extends RoleProcess {
  /** The URL of its /metrics, from the log line that announces it. */
  metricsUrl: Promise<string>;
}

function spawnMetricsRole(stack: TestStack, script: string, env: Record<string, string>): MetricsRole {
  const role = spawnRole(stack, script, {
    REELAY_LOG_FORMAT: 'json',
    // The stack's key: the dispatcher decrypts the webhook secrets the API stored with it.
    ...(stack.config.secretsKey ? { REELAY_SECRETS_KEY: stack.config.secretsKey.toString('hex') } : {}),
    ...env,
  });
  const metricsUrl = new Promise<string>((resolve, reject) => {
    role.child.stdout!.on('data', () => {
      const line = role
        .output()
        .split('\n')
        .find((l) => l.includes('"serving Prometheus metrics"'));
      if (line) resolve((JSON.parse(line) as { metrics: string }).metrics);
    });
    void role.exited.then((code) => reject(new Error(`${script} exited with ${code}: ${role.output()}`)));
  });
  return { ...role, metricsUrl };
}

async function scrape(url: string, init?: RequestInit): Promise<string> {
  const res = await fetch(url, init);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample, by metric name and (a subset of) its labels; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

let stack: TestStack;
let receiver: WebhookReceiver;
const roles: MetricsRole[] = [];
let worker: MetricsRole;
let webhooks: MetricsRole;
let notifier: MetricsRole;

beforeAll(async () => {
  stack = await startTestStack({ withWorker: false, withNotifier: false, env: { REELAY_WEBHOOK_ALLOW_PRIVATE: 'true' } });
  receiver = await new WebhookReceiver().start();
  const common = { REELAY_WEBHOOK_ALLOW_PRIVATE: 'true', REELAY_X264_PRESET: 'ultrafast', REELAY_FFMPEG_NICENESS: '0' };
  worker = spawnMetricsRole(stack, 'workers/transcode/main.ts', { ...common, REELAY_WORKER_METRICS_PORT: '0' });
  webhooks = spawnMetricsRole(stack, 'workers/webhooks/main.ts', { ...common, REELAY_WEBHOOKS_METRICS_PORT: '0' });
  notifier = spawnMetricsRole(stack, 'workers/notifier/main.ts', { ...common, REELAY_NOTIFIER_METRICS_PORT: '0' });
  roles.push(worker, webhooks, notifier);
  await Promise.all(roles.map((r) => r.metricsUrl));
});
afterAll(async () => {
  await Promise.all(
    roles.map((r) =>
      r.child.exitCode === null ? new Promise((resolve) => (r.child.once('exit', resolve), r.child.kill('SIGTERM'))) : undefined,
    ),
  );
  await receiver?.stop();
  await stack?.stop();
});

describe('Prometheus metrics on every role', () => {
  it('after one upload becomes ready, each role reports its part of it', async () => {
    const hook = await fetch(`${stack.baseUrl}/v1/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${receiver.url}/hook`, events: ['video.ready'] }),
    });
    expect(hook.status).toBe(201);
    const bytes = await readFile(clip);
    const id = await upload(stack.baseUrl, bytes, { contentType: 'video/x-matroska', params: { priority: 'high' } });
    expect((await waitForFinalStatus(stack.baseUrl, id)).status).toBe('ready');
    await waitFor('the webhook delivery', () => (receiver.requests('/hook').length > 0 ? true : undefined), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; the dispatcher said:\n${webhooks.output().slice(-3000)}`);
    });

    // API: requests by route pattern (not by id), the upload's bytes, realtime clients, process metrics.
    const api = await scrape(`${stack.baseUrl}/metrics`);
    expect(sample(api, 'reelay_http_requests_total', { method: 'POST', route: '/v1/videos', status: '202' })).toBe(1);
    expect(sample(api, 'reelay_http_requests_total', { method: 'GET', route: '/v1/videos/:id', status: '200' })).toBeGreaterThanOrEqual(1);
    expect(api).not.toContain(id);
    expect(sample(api, 'reelay_upload_bytes_total')).toBe(bytes.length);
    expect(sample(api, 'reelay_upload_duration_seconds_count', { result: 'stored' })).toBe(1);
    expect(sample(api, 'reelay_uploads_in_flight')).toBe(0);
    expect(sample(api, 'reelay_realtime_clients', { transport: 'sse' })).toBe(0);
    expect(sample(api, 'reelay_role_info', { role: 'api' })).toBe(1);
    expect(sample(api, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    // Worker: one ready job at high, its duration and queue wait, ffmpeg time, bytes in and out.
    const w = await scrape(await worker.metricsUrl);
    expect(sample(w, 'reelay_jobs_total', { tier: 'high', outcome: 'ready' })).toBe(1);
    expect(sample(w, 'reelay_job_duration_seconds_count', { tier: 'high', outcome: 'ready' })).toBe(1);
    expect(sample(w, 'reelay_job_queue_wait_seconds_count', { tier: 'high' })).toBe(1);
    expect(sample(w, 'reelay_ffmpeg_seconds_total')).toBeGreaterThan(0);
    expect(sample(w, 'reelay_transcode_bytes_total', { direction: 'in' })).toBe(bytes.length);
    const video = (await (await fetch(`${stack.baseUrl}/v1/videos/${id}`)).json()) as { outputs: Record<string, { bytes: number }> };
    const outBytes = Object.values(video.outputs).reduce((sum, o) => sum + o.bytes, 0);
    // Every file uploaded: the outputs the status lists, and any HLS segments or storyboard beside them.
    expect(sample(w, 'reelay_transcode_bytes_total', { direction: 'out' })).toBeGreaterThanOrEqual(outBytes);
    expect(sample(w, 'reelay_role_info', { role: 'worker' })).toBe(1);
    expect(sample(w, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);

    // Webhook dispatcher: one delivery, delivered on the first attempt.
    const wh = await waitFor('the delivery to be counted', async () => {
      const text = await scrape(await webhooks.metricsUrl);
      return sample(text, 'reelay_webhook_deliveries_total', { outcome: 'delivered' }) === 1 ? text : undefined;
    });
    expect(sample(wh, 'reelay_webhook_delivery_attempts_count')).toBe(1);
    expect(sample(wh, 'reelay_webhook_delivery_attempts_sum')).toBe(1);
    expect(sample(wh, 'reelay_webhook_request_duration_seconds_count', { result: 'ok' })).toBe(1);
    expect(sample(wh, 'reelay_role_info', { role: 'webhooks' })).toBe(1);
    expect(sample(wh, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    // Notifier: the video's queued, processing and ready events, once each.
    const n = await waitFor('the notifier to count video.ready', async () => {
      const text = await scrape(await notifier.metricsUrl);
      return sample(text, 'reelay_notifier_events_total', { type: 'video.ready', duplicate: 'false' }) === 1 ? text : undefined;
    });
    expect(sample(n, 'reelay_role_info', { role: 'notifier' })).toBe(1);
    for (const type of ['video.queued', 'video.processing']) {
      expect(
        sample(n, 'reelay_notifier_events_total', { type, duplicate: 'false' }),
        n
          .split('\n')
          .filter((l) => l.startsWith('reelay_'))
          .join('\n'),
      ).toBe(1);
    }
  }, 150_000);

  it('a role serves /healthz next to /metrics and 404s anything else', async () => {
    const base = (await notifier.metricsUrl).replace(/\/metrics$/, '');
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/other`)).status).toBe(404);
  });
});

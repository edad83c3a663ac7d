import { describe, expect, it } from 'vitest';
import { loadConfig } from './index.ts';

describe('loadConfig: webhooks and realtime', () => {
  it('has sane defaults', () => {
    const { webhooks, realtime } = loadConfig({});
    expect(webhooks).toEqual({
      allowPrivate: false,
      maxAttempts: 8,
      retryBaseDelayMs: 30_000,
      timeoutMs: 10_000,
      maxEndpoints: 20,
      redeliverPerMinute: 6,
      disableAfterMs: 5 * 86_400_000,
    });
    expect(realtime).toEqual({ heartbeatMs: 15_000, bufferSize: 1000, orphanAfterMs: 15 * 60_000 });
  });

  it('parses and converts the variables', () => {
    const config = loadConfig({
      REELAY_WEBHOOK_ALLOW_PRIVATE: 'true',
      REELAY_WEBHOOK_MAX_ATTEMPTS: '3',
      REELAY_WEBHOOK_RETRY_BASE_SECONDS: '2',
      REELAY_WEBHOOK_TIMEOUT_SECONDS: '5',
      REELAY_SSE_HEARTBEAT_SECONDS: '1',
      REELAY_EVENT_BUFFER_SIZE: '50',
      REELAY_REALTIME_ORPHAN_MINUTES: '5',
    });
    expect(config.webhooks).toEqual({
      allowPrivate: true,
      maxAttempts: 3,
      retryBaseDelayMs: 2000,
      timeoutMs: 5000,
      maxEndpoints: 20,
      redeliverPerMinute: 6,
      disableAfterMs: 5 * 86_400_000,
    });
    expect(config.realtime).toEqual({ heartbeatMs: 1000, bufferSize: 50, orphanAfterMs: 300_000 });
  });

  it('names bad values, and a heartbeat that the idle timeout would cut', () => {
    expect(() => loadConfig({ REELAY_WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(/REELAY_WEBHOOK_ALLOW_PRIVATE/);
    expect(() => loadConfig({ REELAY_WEBHOOK_MAX_ATTEMPTS: '0' })).toThrow(/REELAY_WEBHOOK_MAX_ATTEMPTS/);
    expect(() => loadConfig({ REELAY_SSE_HEARTBEAT_SECONDS: '90', REELAY_IDLE_TIMEOUT_SECONDS: '60' })).toThrow(
      /must be shorter than REELAY_IDLE_TIMEOUT_SECONDS/,
    );
  });

  it('keeps the default heartbeat within a short idle timeout', () => {
    expect(loadConfig({ REELAY_IDLE_TIMEOUT_SECONDS: '1' }).realtime.heartbeatMs).toBe(500);
    expect(loadConfig({ REELAY_IDLE_TIMEOUT_SECONDS: '20' }).realtime.heartbeatMs).toBe(10_000);
  });
});

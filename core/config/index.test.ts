import { describe, expect, it } from 'vitest';
import { loadConfig, parseBytes } from './index.ts';
import { ConfigError } from '../errors.ts';

describe('loadConfig', () => {
  it('has a sane default for every knob', () => {
    const config = loadConfig({});
    expect(config.prefix).toBe('reelay');
    expect(config.aws).toEqual({ endpoint: undefined, region: 'us-east-1', localCredentials: undefined });
    expect(config.api.port).toBe(3000);
    expect(config.api.maxUploadBytes).toBe(5 * 1024 ** 3);
    expect(config.worker.heartbeatMs).toBeLessThan(config.worker.visibilityTimeoutMs);
    expect(config.ffmpeg.preset).toBe('veryfast');
  });

  it('uses test credentials for a local endpoint only when none are configured', () => {
    expect(loadConfig({ AWS_ENDPOINT_URL: 'http://localhost:4566/' }).aws).toMatchObject({
      endpoint: 'http://localhost:4566',
      localCredentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    expect(loadConfig({ AWS_ENDPOINT_URL: 'http://localhost:4566', AWS_ACCESS_KEY_ID: 'x' }).aws.localCredentials).toBeUndefined();
  });

  it('converts units once: seconds to ms, sizes to bytes', () => {
    const config = loadConfig({ REELAY_VISIBILITY_TIMEOUT_SECONDS: '90', REELAY_MAX_UPLOAD_BYTES: '2GiB' });
    expect(config.worker.visibilityTimeoutMs).toBe(90_000);
    expect(config.worker.heartbeatMs).toBe(30_000);
    expect(config.api.maxUploadBytes).toBe(2 * 1024 ** 3);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', REELAY_PREFIX: 'Bad_Prefix', AWS_ENDPOINT_URL: 'ftp://x', REELAY_X264_PRESET: 'ludicrous' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['PORT', 'REELAY_PREFIX', 'AWS_ENDPOINT_URL', 'REELAY_X264_PRESET']) expect(message).toContain(name);
    expect((error as ConfigError).problems).toHaveLength(4);
  });

  it('checks related options together', () => {
    expect(() => loadConfig({ REELAY_VISIBILITY_TIMEOUT_SECONDS: '30', REELAY_HEARTBEAT_SECONDS: '30' })).toThrow(
      /REELAY_HEARTBEAT_SECONDS \(30\) must be shorter than REELAY_VISIBILITY_TIMEOUT_SECONDS \(30\)/,
    );
  });

  it('rejects out-of-range numbers', () => {
    expect(() => loadConfig({ REELAY_POLL_WAIT_SECONDS: '21' })).toThrow(/REELAY_POLL_WAIT_SECONDS/);
    expect(() => loadConfig({ REELAY_MAX_UPLOAD_BYTES: 'lots' })).toThrow(/REELAY_MAX_UPLOAD_BYTES/);
  });
});

describe('loadConfig: the supervisor', () => {
  it('has defaults that suit a 2-core machine', () => {
    expect(loadConfig({}).supervisor).toEqual({
      minWorkers: 1,
      maxWorkers: 2,
      jobsPerWorker: 2,
      standbyWorkers: 1,
      pollMs: 5000,
      scaleDownCooldownMs: 60_000,
      port: 9464,
    });
  });

  it('converts seconds to ms and accepts fractions of a second for the loop timings', () => {
    const { supervisor } = loadConfig({ REELAY_SUPERVISOR_POLL_SECONDS: '0.5', REELAY_SCALE_DOWN_COOLDOWN_SECONDS: '2' });
    expect(supervisor.pollMs).toBe(500);
    expect(supervisor.scaleDownCooldownMs).toBe(2000);
  });

  it('names every bad variable, and checks min against max', () => {
    const bad = () =>
      loadConfig({ REELAY_WORKERS_MIN: '3', REELAY_WORKERS_MAX: '2', REELAY_JOBS_PER_WORKER: 'two', REELAY_SUPERVISOR_PORT: '70000' });
    expect(bad).toThrow(ConfigError);
    const problems = (() => {
      try {
        bad();
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    })();
    expect(problems).toEqual([
      'REELAY_JOBS_PER_WORKER="two" is invalid: expected a whole number from 1 to 1000',
      'REELAY_SUPERVISOR_PORT="70000" is invalid: expected a whole number from 0 to 65535',
      'REELAY_WORKERS_MIN (3) must not be greater than REELAY_WORKERS_MAX (2)',
    ]);
    expect(() => loadConfig({ REELAY_WORKERS_MAX: '0' })).toThrow(/REELAY_WORKERS_MAX="0"/);
    expect(() => loadConfig({ REELAY_SUPERVISOR_POLL_SECONDS: '0' })).toThrow(/REELAY_SUPERVISOR_POLL_SECONDS/);
  });
});

describe('loadConfig: what roles used to read from the environment themselves', () => {
  it('log format: auto by default, json or pretty in any case, anything else an error', () => {
    expect(loadConfig({}).log).toEqual({ level: 'info', format: 'auto' });
    expect(loadConfig({ REELAY_LOG_FORMAT: 'JSON', REELAY_LOG_LEVEL: 'warn' }).log).toEqual({ level: 'warn', format: 'json' });
    expect(() => loadConfig({ REELAY_LOG_FORMAT: 'xml' })).toThrow(
      'REELAY_LOG_FORMAT="xml" is invalid: expected one of auto, json, pretty',
    );
  });

  it("each role's metrics port: its default, 0, off, or an error naming the variable", () => {
    expect(loadConfig({}).metrics).toEqual({ host: '127.0.0.1', ports: { worker: 9465, webhooks: 9466, notifier: 9467, live: 9468 } });
    const set = loadConfig({
      REELAY_METRICS_HOST: '0.0.0.0',
      REELAY_WORKER_METRICS_PORT: '0',
      REELAY_NOTIFIER_METRICS_PORT: 'off',
      REELAY_LIVE_METRICS_PORT: '0',
    });
    expect(set.metrics).toEqual({ host: '0.0.0.0', ports: { worker: 0, webhooks: 9466, notifier: 'off', live: 0 } });
    expect(() => loadConfig({ REELAY_WEBHOOKS_METRICS_PORT: '65536' })).toThrow(
      'REELAY_WEBHOOKS_METRICS_PORT="65536" is invalid: expected a port number (0 picks a free one) or off',
    );
  });

  it('the live ingest: its defaults, and every bad value named', () => {
    expect(loadConfig({}).live).toMatchObject({
      host: '127.0.0.1',
      rtmpPort: 1935,
      rtmpUrl: 'rtmp://localhost:1935/live',
      reconnectGraceMs: 10_000,
      stallMs: 5000,
      dvrWindowMs: 120_000,
      passthrough: true,
      maxPixels: 1920 * 1080,
      leaseMs: 15_000,
    });
    expect(loadConfig({ REELAY_LIVE_RTMP_PORT: '1936' }).live.rtmpUrl).toBe('rtmp://localhost:1936/live');
    const bad = () =>
      loadConfig({ REELAY_LIVE_RTMP_URL: 'http://x/live', REELAY_LIVE_PASSTHROUGH: 'maybe', REELAY_LIVE_STALL_SECONDS: '0' });
    for (const name of ['REELAY_LIVE_RTMP_URL', 'REELAY_LIVE_PASSTHROUGH', 'REELAY_LIVE_STALL_SECONDS']) expect(bad).toThrow(name);
  });

  it('where ffmpeg is looked for, and what the CDK app deploys', () => {
    expect(loadConfig({ PATH: '/opt/ffmpeg/bin:/usr/bin' }).ffmpeg.searchPath).toBe('/opt/ffmpeg/bin:/usr/bin');
    expect(loadConfig({ AWS_REGION: 'eu-west-1' }).cdk).toEqual({ image: 'reelay:latest', account: undefined, region: 'eu-west-1' });
    const cdk = loadConfig({ REELAY_IMAGE: 'registry/reelay:1', CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'us-west-2' }).cdk;
    expect(cdk).toEqual({ image: 'registry/reelay:1', account: '123456789012', region: 'us-west-2' });
  });
});

describe('parseBytes', () => {
  it.each([
    ['1048576', 1048576],
    ['10k', 10240],
    ['500MB', 500_000_000],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['2 gib', 2 * 1024 ** 3],
  ])('%s → %d', (text, bytes) => expect(parseBytes(text)).toBe(bytes));

  it.each(['', 'abc', '-1', '10 parsecs'])('rejects %j', (text) => expect(parseBytes(text)).toBeUndefined());
});

describe('API keys', () => {
  const key = 'k'.repeat(16);
  it('no keys and no choice: unconfigured (the API refuses to start)', () => {
    expect(loadConfig({}).api.auth).toEqual({ mode: 'unconfigured', keys: [] });
  });

  it('keys from REELAY_API_KEYS and REELAY_API_KEYS_FILE', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/reelay-keys-`);
    const file = `${dir}/keys`;
    writeFileSync(file, `# ops keys\n${'f'.repeat(20)}\nglobex:${'g'.repeat(20)}\n\n`);
    const secretsKey = 'ab'.repeat(32);
    expect(
      loadConfig({ REELAY_API_KEYS: ` ${key} , acme-2:${'x'.repeat(32)}`, REELAY_API_KEYS_FILE: file, REELAY_SECRETS_KEY: secretsKey }).api
        .auth,
    ).toEqual({
      mode: 'keys',
      keys: [
        { tenant: 'default', key },
        { tenant: 'acme-2', key: 'x'.repeat(32) },
        { tenant: 'default', key: 'f'.repeat(20) },
        { tenant: 'globex', key: 'g'.repeat(20) },
      ],
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('API keys without REELAY_SECRETS_KEY are a valid configuration (only webhook registration needs the key)', () => {
    const config = loadConfig({ REELAY_API_KEYS: key });
    expect(config.api.auth).toEqual({ mode: 'keys', keys: [{ tenant: 'default', key }] });
    expect(config.secretsKey).toBeUndefined();
    expect(loadConfig({ REELAY_API_KEYS: key, REELAY_SECRETS_KEY: 'ab'.repeat(32) }).secretsKey).toEqual(Buffer.alloc(32, 0xab));
    expect(() => loadConfig({ REELAY_API_KEYS: key, REELAY_SECRETS_KEY: 'ab'.repeat(31) })).toThrow(/REELAY_SECRETS_KEY is invalid/);
  });

  it('REELAY_AUTH=none opens the API on purpose', () => {
    expect(loadConfig({ REELAY_AUTH: 'none' }).api.auth).toEqual({ mode: 'none', keys: [] });
  });

  it.each([
    [{ REELAY_API_KEYS: 'short' }, /shorter than 16/],
    [{ REELAY_API_KEYS: `Acme:${'k'.repeat(16)}` }, /tenant name\(s\) "Acme" invalid/],
    [{ REELAY_API_KEYS: `${'t'.repeat(33)}:${'k'.repeat(16)}` }, /tenant name/],
    [{ REELAY_API_KEYS: `a:${'k'.repeat(16)},b:${'k'.repeat(16)}` }, /one key is given to two tenants/],
    [{ REELAY_AUTH: 'keys' }, /REELAY_AUTH=keys needs REELAY_API_KEYS/],
    [{ REELAY_AUTH: 'none', REELAY_API_KEYS: 'k'.repeat(16) }, /contradicts/],
    [{ REELAY_AUTH: 'maybe' }, /REELAY_AUTH="maybe" is invalid/],
    [{ REELAY_API_KEYS_FILE: '/nonexistent/keys' }, /REELAY_API_KEYS_FILE.*cannot be read/],
    [{ REELAY_AUTH: 'none', REELAY_SECRETS_KEY: 'not-hex' }, /REELAY_SECRETS_KEY is invalid: expected 64 hex characters/],
  ])('rejects %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

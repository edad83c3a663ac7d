import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * A start with many bad variables names every one of them in its first
 * (and only) round: no role starts, the process exits 2, and the next run is
 * not the first to mention a variable that was already wrong.
 */
const root = path.resolve(import.meta.dirname, '..');

const BAD: Record<string, string> = {
  PORT: 'eighty',
  REELAY_PREFIX: 'Bad_Prefix',
  AWS_ENDPOINT_URL: 'ftp://x',
  REELAY_X264_PRESET: 'ludicrous',
  REELAY_POLL_WAIT_SECONDS: '21',
  REELAY_MAX_UPLOAD_BYTES: 'lots',
  REELAY_LOG_LEVEL: 'loud',
  REELAY_WORKER_CONCURRENCY: '0',
  REELAY_MAX_ATTEMPTS: 'zero',
  REELAY_WEBHOOK_TIMEOUT_SECONDS: '600',
  REELAY_WORKERS_MAX: '0',
  REELAY_JOBS_PER_WORKER: 'two',
  REELAY_SUPERVISOR_POLL_SECONDS: 'fast',
  REELAY_SCALE_DOWN_COOLDOWN_SECONDS: '-1',
};

function run(script: string, env: Record<string, string> = BAD): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(root, script)], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('configuration errors', () => {
  it.each(['infra/dev-stack.ts', 'workers/supervisor/main.ts', 'api/main.ts'])(
    '%s names all 14 bad variables at once and exits 2',
    async (script) => {
      const { code, stdout, stderr } = await run(script);
      expect(code).toBe(2);
      // Nothing started: no log line, no emulator.
      expect(stdout).toBe('');
      const named = Object.keys(BAD).filter((name) => stderr.includes(`${name}=${JSON.stringify(BAD[name])} is invalid`));
      expect(named).toEqual(Object.keys(BAD));
      expect(stderr.match(/invalid configuration/g)).toHaveLength(1);
    },
  );
});

describe('a command beside the local stack run without AWS_ENDPOINT_URL', () => {
  it('says to set AWS_ENDPOINT_URL for the local stack, not only to provision AWS (#23 item 17)', async () => {
    // No endpoint and no credentials anywhere: the SDK gives up at once, as it does on a laptop without AWS.
    const { code, stdout } = await run('workers/transcode/redrive-main.ts', {
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
      REELAY_LOG_FORMAT: 'json',
    });
    expect(code).toBe(1);
    const fatal = stdout.split('\n').find((line) => line.includes('"level":"fatal"'));
    expect(fatal).toContain('set AWS_ENDPOINT_URL=http://localhost:4566');
  });
});

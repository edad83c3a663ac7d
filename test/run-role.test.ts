import { fork, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * core/run-role.ts with a role whose start-up the test holds open (test/support/slow-start-role.ts): a
 * signal that comes while a role starts (a supervisor stopping a standby worker that is still loading) must
 * not kill it half-made, leaving what start-up made behind.
 */
const script = path.resolve(import.meta.dirname, 'support/slow-start-role.ts');
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'reelay-run-role-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function startRole(): { child: ChildProcess; starting: Promise<string>; exited: Promise<number | null>; output: () => string } {
  const child = fork(script, [], {
    execArgv: ['--disable-warning=ExperimentalWarning'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SLOW_ROLE_DIR: scratch, REELAY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const starting = new Promise<string>((resolve) =>
    child.on('message', (m: { type?: string; dir?: string }) => m.type === 'starting' && resolve(m.dir!)),
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, starting, exited, output: () => output };
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('runRole: a signal while starting', () => {
  it('is acted on once started: the role stops cleanly and releases what start-up made', async () => {
    const role = startRole();
    const dir = await role.starting;
    role.child.kill('SIGTERM');
    await expect.poll(role.output, { timeout: 5000 }).toContain('asked to stop while starting');
    // Still alive (the signal did not kill it), and what start-up made is still there.
    expect(role.child.exitCode).toBeNull();
    expect(await exists(dir)).toBe(true);
    role.child.send({ type: 'finish' });
    expect(await role.exited).toBe(0);
    expect(await exists(dir)).toBe(false);
    expect(role.output()).toContain('slow-start shutting down');
  });

  it('a second signal while starting exits at once', async () => {
    const role = startRole();
    await role.starting;
    role.child.kill('SIGTERM');
    await expect.poll(role.output, { timeout: 5000 }).toContain('asked to stop while starting');
    role.child.kill('SIGINT');
    expect(await role.exited).toBe(1);
    expect(role.output()).toContain('asked again to stop while starting');
  });
});

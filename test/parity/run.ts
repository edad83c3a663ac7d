/**
 * `npm run test:parity`: start a second, independent AWS implementation
 * (LocalStack's Python runtime without Docker, else moto's server), run the
 * parity subset of the integration suite against it with the endpoint in
 * REELAY_PARITY_ENDPOINT, stop it, exit with vitest's code.
 *
 * Python is only the emulator's runtime here: it lives in a venv under
 * ~/.cache/reelay-parity (REELAY_PARITY_CACHE), created on first use.
 * REELAY_PARITY_IMPL=localstack|moto picks one; the default tries LocalStack
 * and falls back to moto when LocalStack will not start (e.g. it asks for an
 * auth token). Extra arguments go to vitest (e.g. a file filter).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../testkit/free-port.ts';

interface Implementation {
  name: 'localstack' | 'moto';
  /** pip requirements, pinned so a run is repeatable. */
  requirements: string[];
  /** A module the venv has once the requirement is installed. */
  probeModule: string;
  /** The oldest Python it runs on (LocalStack 2026 uses 3.12 syntax). */
  minPython: [number, number];
  command(python: string, port: number): { args: string[]; env: NodeJS.ProcessEnv };
  healthPath: string;
}

const IMPLEMENTATIONS: Record<Implementation['name'], Implementation> = {
  localstack: {
    name: 'localstack',
    // Its unpinned dependencies moved on: cbor2 6 dropped cbor2._decoder, pyOpenSSL 24.3 X509.add_extensions;
    // twisted's TLS wants service_identity, which it does not pull in.
    requirements: ['localstack-core[runtime]==2026.3.0', 'cbor2<6', 'pyopenssl<24.3', 'service_identity'],
    probeModule: 'localstack.aws.components',
    minPython: [3, 12],
    command: (python, port) => ({
      args: [python, '-m', 'localstack.runtime.main'],
      // No DNS server (it would look for an upstream), no certificate download, no analytics: loopback only.
      env: {
        GATEWAY_LISTEN: `127.0.0.1:${port}`,
        SERVICES: 's3,sqs,sns',
        EAGER_SERVICE_LOADING: '1',
        DNS_ADDRESS: '0',
        SKIP_SSL_CERT_DOWNLOAD: '1',
        DISABLE_EVENTS: '1',
        LOCALSTACK_VOLUME_DIR: path.join(cache, 'localstack-volume'),
      },
    }),
    healthPath: '/_localstack/health',
  },
  moto: {
    name: 'moto',
    requirements: ['moto[server]==5.2.5'],
    probeModule: 'moto.server',
    minPython: [3, 9],
    command: (python, port) => ({ args: [python, '-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], env: {} }),
    healthPath: '/moto-api/',
  },
};

const root = path.resolve(import.meta.dirname, '../..');
const cache = process.env.REELAY_PARITY_CACHE ?? path.join(homedir(), '.cache', 'reelay-parity');
const log = (line: string) => process.stdout.write(`parity: ${line}\n`);

function ensureVenv(impl: Implementation): string {
  const venv = path.join(cache, `${impl.name}-venv`);
  const python = path.join(venv, 'bin', 'python');
  const probe = () => existsSync(python) && spawnSync(python, ['-c', `import ${impl.probeModule}`], { stdio: 'ignore' }).status === 0;
  if (probe()) return python;
  log(`installing ${impl.requirements.join(' ')} into ${venv}`);
  mkdirSync(cache, { recursive: true });
  run(findPython(impl.minPython), ['-m', 'venv', venv]);
  run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...impl.requirements]);
  if (!probe()) throw new Error(`${impl.requirements.join(' ')} installed, but python cannot import ${impl.probeModule}`);
  return python;
}

/**
 * REELAY_PARITY_PYTHON, else the first of python3.13, python3.12, pyenv's
 * installed 3.1x versions and python3 that is new enough.
 */
function findPython([major, minor]: [number, number]): string {
  const pyenvRoot = process.env.PYENV_ROOT ?? path.join(homedir(), '.pyenv');
  const pyenv = existsSync(path.join(pyenvRoot, 'versions'))
    ? readdirSync(path.join(pyenvRoot, 'versions'))
        .filter((v) => /^3\.\d+\.\d+$/.test(v))
        .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }))
        .map((v) => path.join(pyenvRoot, 'versions', v, 'bin', 'python'))
    : [];
  const candidates = process.env.REELAY_PARITY_PYTHON
    ? [process.env.REELAY_PARITY_PYTHON]
    : ['python3.13', 'python3.12', ...pyenv, 'python3'];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', `import sys; sys.exit(0 if sys.version_info >= (${major}, ${minor}) else 1)`], {
      stdio: 'ignore',
    });
    if (probe.status === 0) return python;
  }
  throw new Error(`no Python >= ${major}.${minor} found (tried ${candidates.join(', ')}); set REELAY_PARITY_PYTHON`);
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

interface Running {
  impl: Implementation;
  endpoint: string;
  child: ChildProcess;
  logFile: string;
}

async function start(impl: Implementation): Promise<Running> {
  const python = ensureVenv(impl);
  const port = await freePort();
  const { args, env } = impl.command(python, port);
  const logFile = path.join(cache, `${impl.name}-${port}.log`);
  const out = openSync(logFile, 'w');
  // Its own process group, so stopping it also stops anything it spawned.
  const child = spawn(args[0]!, args.slice(1), {
    env: { ...process.env, ...env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' },
    stdio: ['ignore', out, out],
    detached: true,
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${impl.name} exited (${child.exitCode ?? child.signalCode}) before it was ready; see ${logFile}`);
    }
    try {
      const res = await fetch(endpoint + impl.healthPath);
      if (res.ok && (await ready(impl, res))) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      stop({ impl, endpoint, child, logFile });
      throw new Error(`${impl.name} did not become ready within 120 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { impl, endpoint, child, logFile };
}

/** LocalStack answers its health check before every service is up; moto is ready once it answers. */
async function ready(impl: Implementation, res: Response): Promise<boolean> {
  if (impl.name !== 'localstack') return true;
  const body = (await res.json()) as { services?: Record<string, string> };
  return ['s3', 'sqs', 'sns'].every((s) => ['available', 'running'].includes(body.services?.[s] ?? ''));
}

function stop(running: Running): Promise<void> {
  return new Promise((resolve) => {
    if (running.child.exitCode !== null || running.child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      try {
        process.kill(-running.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 10_000);
    running.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      process.kill(-running.child.pid!, 'SIGTERM');
    } catch {
      resolve();
    }
  });
}

async function startAny(): Promise<Running> {
  const wanted = process.env.REELAY_PARITY_IMPL ?? 'auto';
  if (wanted === 'localstack' || wanted === 'moto') return start(IMPLEMENTATIONS[wanted]);
  if (wanted !== 'auto') throw new Error(`REELAY_PARITY_IMPL must be localstack, moto or auto, not ${wanted}`);
  try {
    return await start(IMPLEMENTATIONS.localstack);
  } catch (err) {
    log(`LocalStack did not start (${(err as Error).message}); falling back to moto`);
    return start(IMPLEMENTATIONS.moto);
  }
}

const running = await startAny();
log(`${running.impl.name} ready at ${running.endpoint} (log: ${running.logFile})`);
let code = 1;
try {
  const vitest = spawn(
    process.execPath,
    [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/parity/vitest.config.ts', ...process.argv.slice(2)],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, REELAY_PARITY_ENDPOINT: running.endpoint, REELAY_PARITY_IMPLEMENTATION: running.impl.name },
    },
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => vitest.kill(signal));
  code = await new Promise<number>((resolve) => vitest.once('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
} finally {
  await stop(running);
  log(`${running.impl.name} stopped`);
}
process.exit(code);

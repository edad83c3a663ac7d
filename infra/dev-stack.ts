import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createAwsClients, destroyAwsClients } from '../core/aws.ts';
import { childEnvironment, loadConfig, loadConfigOrExit, METRICS_PORTS, workerStopTimeoutMs } from '../core/config/index.ts';
import { createLogger } from '../core/logger.ts';
import { startEmulator, type RunningEmulator } from './emulator.ts';
import { provision, provisionSettings } from './provision.ts';
import { describeTakenPorts, takenPorts, type StackPort } from './port-check.ts';
import { nextRestart } from './restart-policy.ts';

/**
 * `npm start`: the whole stack on one machine. Starts the embedded emulator
 * (unless AWS_ENDPOINT_URL points elsewhere), provisions, then runs every role
 * as its own process, exactly as they run in production, talking only through
 * S3/SQS/SNS. The supervisor starts and stops the transcode workers with the
 * queue depth. A role that crashes is restarted; Ctrl-C stops them in order.
 */
const ROLES = [
  { role: 'notifier', script: '../workers/notifier/main.ts' },
  { role: 'webhooks', script: '../workers/webhooks/main.ts' },
  { role: 'supervisor', script: '../workers/supervisor/main.ts' },
  { role: 'api', script: '../api/main.ts' },
  { role: 'live', script: '../workers/live/main.ts' },
] as const;

// Every role's variables are checked here, so a bad value stops `npm start` at once (all of them named)
// instead of one role restarting in a loop.
const config = loadConfigOrExit('reelay');
const logger = createLogger('dev-stack', config.log);
// The supervisor bounds its own stop; killing it earlier would orphan its workers.
const supervisorStopMs = workerStopTimeoutMs(config.worker) + 10_000;

let emulator: RunningEmulator | undefined;
// The roles inherit this process's environment, plus what the stack decides below.
const env = childEnvironment();
if (config.api.auth.mode === 'unconfigured') {
  // The all-in-one dev stack may run open, but then only on this machine.
  if (!isLoopback(config.api.host)) {
    logger.fatal(
      { host: config.api.host },
      `HOST=${config.api.host} without API keys: set REELAY_API_KEYS, or keep the default HOST=127.0.0.1`,
    );
    process.exit(2);
  }
  env.REELAY_AUTH = 'none';
  logger.warn(
    { host: config.api.host },
    'no REELAY_API_KEYS: the API runs without authentication, listening on this machine only (the embedded emulator, unauthenticated too, listens on all interfaces: firewall its port). Set REELAY_API_KEYS before exposing it',
  );
}
if (!config.api.tokenSecret) {
  // Every role of this one stack shares the environment, so a secret made up now signs and checks alike.
  env.REELAY_TOKEN_SECRET = randomBytes(32).toString('hex');
  logger.info('REELAY_TOKEN_SECRET not set: scoped tokens use a random secret for this run (they stop working on restart)');
}
// Short long polls on the local stack (2 s, not the default 10): a stopping role waits its poll out rather than
// abort it (an aborted poll can still take a message server-side and hide it for its visibility timeout), so
// an idle stack stops in about 2 s (#23 item 15). A few more requests a second to the local emulator.
if (env.REELAY_POLL_WAIT_SECONDS === undefined) env.REELAY_POLL_WAIT_SECONDS = '2';
// Every port the stack listens on, checked before anything starts: one message, then exit, instead of roles
// restarting in a loop behind a green API (#23 item 16).
const stackPorts: StackPort[] = [
  { port: config.api.port, host: config.api.host, variable: 'PORT', what: 'the API' },
  { port: config.supervisor.port, host: '127.0.0.1', variable: 'REELAY_SUPERVISOR_PORT', what: 'the supervisor' },
  { port: config.live.rtmpPort, host: config.live.host, variable: 'REELAY_LIVE_RTMP_PORT', what: 'the live ingest (RTMP)' },
  ...(['notifier', 'webhooks', 'live'] as const).flatMap((role) => {
    const port = config.metrics.ports[role];
    return port === 'off' ? [] : [{ port, host: config.metrics.host, variable: METRICS_PORTS[role].variable, what: `the ${role} metrics` }];
  }),
  ...(config.aws.endpoint ? [] : [{ port: config.emulatorPort, host: '0.0.0.0', variable: 'REELAY_EMULATOR_PORT', what: 'the emulator' }]),
];
const taken = await takenPorts(stackPorts);
if (taken.length > 0) {
  logger.fatal({ ports: taken.map((p) => p.port) }, describeTakenPorts(taken));
  process.exit(2);
}
try {
  if (!config.aws.endpoint) {
    emulator = await startEmulator({ port: config.emulatorPort, dataDir: config.dataDir });
    env.AWS_ENDPOINT_URL = emulator.endpoint;
    // The embedded emulator reads stored objects whole (readFileSync), which stops just short of 2 GiB.
    if (!config.api.maxUploadBytesSet) {
      env.REELAY_MAX_UPLOAD_BYTES = '2000MiB';
      logger.info('uploads limited to 2000 MiB on the embedded emulator (set REELAY_MAX_UPLOAD_BYTES to change)');
    }
    logger.info({ endpoint: emulator.endpoint, dataDir: config.dataDir }, 'embedded emulator (fauxqs) started');
  } else {
    logger.info({ endpoint: config.aws.endpoint }, 'using the AWS endpoint from AWS_ENDPOINT_URL');
  }
  const endpoint = env.AWS_ENDPOINT_URL!;
  const awsConfig = loadConfig(env).aws;
  const clients = createAwsClients(awsConfig);
  await provision(clients, provisionSettings(config), logger);
  destroyAwsClients(clients);
  if (awsConfig.localCredentials) {
    env.AWS_ACCESS_KEY_ID = awsConfig.localCredentials.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = awsConfig.localCredentials.secretAccessKey;
  }
  logger.info({ endpoint }, 'resources provisioned');
} catch (err) {
  logger.fatal({ err }, 'could not start the stack');
  await emulator?.stop();
  process.exit(1);
}

const children = new Map<string, ChildProcess>();
let stopping = false;

function startRole(role: string, script: string, crashesInARow = 0): void {
  // Out of the terminal's signal path: Ctrl-C sends SIGINT to every process of the foreground process group,
  // so each role gets a session of its own (detached) and hears only what stopAll() sends it, in order. The IPC
  // channel is how a role notices this process is gone (even SIGKILLed) and stops gracefully (core/run-role.ts).
  const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url))], {
    env,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  const startedAt = performance.now();
  children.set(role, child);
  child.on('exit', (code, signal) => {
    children.delete(role);
    if (stopping) return;
    const next = nextRestart(crashesInARow, performance.now() - startedAt);
    // `child`, not `role`: this line's role is the dev stack's own.
    logger.error({ child: role, code, signal, restartInMs: next.delayMs }, `${role} exited; restarting`);
    setTimeout(() => startRole(role, script, next.crashesInARow), next.delayMs).unref();
  });
}

for (const { role, script } of ROLES) startRole(role, script);
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

logger.info(
  { api: `http://${config.api.host}:${config.api.port}` },
  `reelay is starting: try  curl -F file=@samples/landscape-720p-audio.mp4 http://localhost:${config.api.port}/v1/videos`,
);

async function stopAll(signal: string): Promise<void> {
  if (stopping) {
    // A second Ctrl-C: no more waiting. Each role's whole process group (the supervisor's workers too; ffmpeg
    // dies with its worker through its parent-death signal).
    logger.warn({ signal }, 'second signal: killing every role now (jobs in progress become failed attempts)');
    for (const child of children.values()) killGroup(child, 'SIGKILL');
    await emulator?.stop();
    process.exit(130);
  }
  stopping = true;
  logger.info({ signal }, 'stopping the stack (Ctrl-C again to kill at once)');
  // The API first (no new uploads); then the live ingest (publishers disconnected, their last segments stored;
  // the sessions are finished by the next start's sweep), the supervisor (its workers finish or hand back their
  // jobs), the webhook dispatcher (deliveries in hand finish) and the notifier together: they share nothing.
  const waiting = setInterval(() => {
    logger.info({ roles: [...children.keys()] }, `waiting for ${[...children.keys()].join(', ')} to stop (Ctrl-C again to kill at once)`);
  }, 2000);
  await stopRole('api');
  await Promise.all(['live', 'supervisor', 'webhooks', 'notifier'].map(stopRole));
  clearInterval(waiting);
  await emulator?.stop();
  logger.info('stopped');
  process.exit(0);
}
/** SIGTERM, then SIGKILL if the role has not exited in time (the supervisor gets its workers' stop time). */
function stopRole(role: string): Promise<void> {
  const child = children.get(role);
  if (!child || child.exitCode !== null) return Promise.resolve();
  const killAfterMs = role === 'supervisor' ? supervisorStopMs : 45_000;
  return new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}
process.on('SIGINT', () => void stopAll('SIGINT'));
process.on('SIGTERM', () => void stopAll('SIGTERM'));

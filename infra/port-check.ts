import { createServer } from 'node:net';

/** A port the stack will listen on, and the variable that moves it. */
export interface StackPort {
  port: number;
  host: string;
  variable: string;
  /** What listens there, for the message. */
  what: string;
}

/** Whether `port` can be listened on at `host` now (it is released again at once). */
export function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The ports among `ports` that are taken (port 0 is skipped: any free one). `npm start` checks them all
 * before starting a role (#23 item 16): with the metrics ports of a second stack taken, the API answered
 * /healthz while the supervisor, notifier and webhooks crash-looped, and uploads queued with no worker.
 */
export async function takenPorts(ports: readonly StackPort[]): Promise<StackPort[]> {
  const checked = await Promise.all(ports.map(async (p) => ({ p, free: p.port === 0 || (await portFree(p.port, p.host)) })));
  return checked.filter((c) => !c.free).map((c) => c.p);
}

/** One sentence naming every taken port and what to set instead. */
export function describeTakenPorts(taken: readonly StackPort[]): string {
  const list = taken.map((p) => `${p.port} (${p.what}, ${p.variable})`).join(', ');
  const moves = taken.map((p) => `${p.variable}=0`).join(' ');
  return `port${taken.length > 1 ? 's' : ''} ${list} ${taken.length > 1 ? 'are' : 'is'} in use, perhaps by another reelay stack: stop it, or start this one with other ports, e.g. ${moves} (0 picks any free port; for PORT and REELAY_EMULATOR_PORT give a number)`;
}

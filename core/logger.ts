import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs: one JSON object a line on stdout, every line naming the role
 * (api, worker, notifier, …). Callers add `videoId`, `jobId`, `requestId` with
 * `logger.child({...})`.
 */
export function createLogger(role: string, level: string = 'info'): Logger {
  return pino({
    level,
    base: { role, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A logger that drops everything: for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

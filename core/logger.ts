import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { LogFormat } from './config/index.ts';

export type { Logger };

export interface LoggerOptions {
  /** pino's level name (default `info`); a role takes `config.log.level`. */
  level?: string;
  /** Default `auto` (see LogFormat); a role takes `config.log.format`. Ignored with a `destination`. */
  format?: LogFormat;
  /** Where JSON lines go instead of stdout (tests). */
  destination?: DestinationStream;
}

/**
 * Structured logs, every line naming the role (api, worker, notifier, …).
 * Callers add `videoId`, `jobId`, `requestId` with `logger.child({...})`.
 * On a terminal they are printed as coloured one-liners (pino-pretty, in this
 * thread, so nothing is lost on exit); otherwise, or with
 * REELAY_LOG_FORMAT=json, one JSON object a line on stdout, for log shippers.
 */
export function createLogger(role: string, { level = 'info', format = 'auto', destination }: LoggerOptions = {}): Logger {
  const options = {
    level,
    base: { role, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: { err: serializeError },
  };
  // A given destination (tests) gets JSON lines.
  if (destination) return pino(options, destination);
  if (format === 'json' || (format === 'auto' && !process.stdout.isTTY)) return pino(options);
  // Loaded only for a terminal: JSON logging (services, tests) does not pay for it.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pino(
    options,
    pretty({
      colorize: true,
      singleLine: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,role',
      messageFormat: '{role} {msg}',
      // Our level is a label (formatters.level above), not pino's number.
      customLevels: 'trace:10,debug:20,info:30,warn:40,error:50,fatal:60',
      useOnlyCustomProps: false,
      destination: 1,
      sync: true,
    }),
  );
}

/**
 * pino's error serializer, with each message said once: it appends every
 * cause's message to the error's own, but our errors already quote their
 * cause ("could not download the upload: <cause>"), which printed it twice.
 * A cause's message is appended only when the message does not contain it.
 * The stack keeps every cause ("caused by: …").
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return pino.stdSerializers.err(err as Error);
  let message = err.message;
  for (let cause = err.cause; cause instanceof Error; cause = cause.cause) {
    if (cause.message && !message.includes(cause.message)) message += `: ${cause.message}`;
  }
  return { ...pino.stdSerializers.err(err), message };
}

/** A child logger that adds only the fields its parent does not carry yet: one key once per line. */
export function childLogger(logger: Logger, fields: Record<string, unknown>): Logger {
  const bound = logger.bindings();
  return logger.child(Object.fromEntries(Object.entries(fields).filter(([key]) => !(key in bound))));
}

/** A logger that drops everything: for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

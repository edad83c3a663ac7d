import { z } from 'zod';

/**
 * What a transcode worker and the supervisor that forked it say to each other over Node's IPC channel
 * (`process.send` in the worker, `child.send` in the supervisor). Both roles import this module, not
 * each other. Every type is named `reelay.worker.*`; anything else on the channel is ignored.
 */
const workerMessageSchema = z.discriminatedUnion('type', [
  /** Jobs in hand and how many it takes at once: when it starts polling, and whenever `busy` changes. */
  z.object({ type: z.literal('reelay.worker.state'), busy: z.number().int().min(0), concurrency: z.number().int().min(1) }),
  /** A standby worker is ready (clients, ffmpeg located) and waits for `reelay.worker.go`. */
  z.object({ type: z.literal('reelay.worker.standby') }),
]);

/** Worker → supervisor. */
export type WorkerMessage = z.infer<typeof workerMessageSchema>;
export type WorkerState = Omit<Extract<WorkerMessage, { type: 'reelay.worker.state' }>, 'type'>;

/** Supervisor → worker: a standby starts polling. */
export interface GoMessage {
  type: 'reelay.worker.go';
}
export const GO: GoMessage = { type: 'reelay.worker.go' };

/** On a worker's command line: start as a standby (get ready, say so, take no job until `GO`). */
export const STANDBY_ARG = '--standby';

/** A message from a worker, or undefined when it is not one of ours. */
export function parseWorkerMessage(message: unknown): WorkerMessage | undefined {
  const parsed = workerMessageSchema.safeParse(message);
  return parsed.success ? parsed.data : undefined;
}

export function isGo(message: unknown): message is GoMessage {
  return (message as { type?: unknown } | null)?.type === GO.type;
}

/** Tells the supervisor, when this process was forked by one (a worker run on its own has no channel). */
export function tellSupervisor(message: WorkerMessage): void {
  if (process.send && process.connected) process.send(message);
}

import type { VideoState } from './video-status.ts';

/**
 * Every change of a video's `status` is one of these named steps, and each
 * step may start only from the statuses listed. `ready` is final; `failed`
 * is final for the workers and the API, and only an operator's redrive may
 * take it back to `queued`. Anything else is an illegal transition and is
 * refused before it is written (a duplicate worker finishing second cannot
 * reopen a finished video).
 */
export const VIDEO_STEPS = {
  /** A worker starts an attempt (also over a `processing` left by a worker that died). */
  start: { from: ['queued', 'processing'], to: 'processing' },
  /** An attempt failed and will be retried, or was handed back on shutdown. */
  requeue: { from: ['queued', 'processing'], to: 'queued' },
  /** Every output is written. */
  finish: { from: ['queued', 'processing'], to: 'ready' },
  /** A permanent failure, attempts exhausted, or the job could not be queued. */
  fail: { from: ['queued', 'processing'], to: 'failed' },
  /** An operator gives a failed video a fresh start (`npm run redrive`). */
  redrive: { from: ['failed'], to: 'queued' },
} as const satisfies Record<string, { from: readonly VideoState[]; to: VideoState }>;

export type VideoStep = keyof typeof VIDEO_STEPS;

/** Whether `step` may be taken by a video whose status is `from`. */
export function mayTake(step: VideoStep, from: VideoState): boolean {
  return (VIDEO_STEPS[step].from as readonly VideoState[]).includes(from);
}

/** Which statuses may follow `from`, over every step. */
export function nextStates(from: VideoState): VideoState[] {
  return [
    ...new Set(
      Object.values(VIDEO_STEPS)
        .filter((s) => (s.from as readonly VideoState[]).includes(from))
        .map((s) => s.to),
    ),
  ];
}

/** A status change refused by the table above. */
export class IllegalTransition extends Error {
  override name = 'IllegalTransition';
  readonly step: VideoStep;
  readonly from: VideoState;
  constructor(step: VideoStep, from: VideoState) {
    super(`a ${from} video cannot ${step} (to ${VIDEO_STEPS[step].to})`);
    this.step = step;
    this.from = from;
  }
}

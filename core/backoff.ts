/**
 * Exponential back-off with full jitter for retries through an SQS visibility
 * timeout: a random delay between 0 and min(maxSeconds, base × 2^(attempt−1)),
 * in whole seconds, at least 1 s (fauxqs loses a message whose visibility is
 * set to 0). Retries of jobs or deliveries that failed together (an outage)
 * spread over the window instead of arriving again in lockstep.
 */
export function backoffSeconds(attempt: number, baseMs: number, maxSeconds: number, random: () => number = Math.random): number {
  return Math.max(1, Math.ceil(random() * backoffCapSeconds(attempt, baseMs, maxSeconds)));
}

/** The upper end of attempt `attempt`'s back-off window, seconds. */
export function backoffCapSeconds(attempt: number, baseMs: number, maxSeconds: number): number {
  return Math.max(1, Math.min(maxSeconds, Math.ceil((baseMs * 2 ** (attempt - 1)) / 1000)));
}

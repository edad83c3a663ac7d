/**
 * Exponential back-off for retries through an SQS visibility timeout:
 * base × 2^(attempt−1), in whole seconds, at least 1 s (fauxqs loses a
 * message whose visibility is set to 0) and at most `maxSeconds`.
 */
export function backoffSeconds(attempt: number, baseMs: number, maxSeconds: number): number {
  return Math.max(1, Math.min(maxSeconds, Math.ceil((baseMs * 2 ** (attempt - 1)) / 1000)));
}

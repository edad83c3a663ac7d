import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../core/logger.ts';

/**
 * Runs `attempt` until it succeeds or `until` says stop: S3 (or the emulator) may be away for a while, and a live
 * stream does not stop for it. Waits 250 ms, doubling to 5 s, between tries; logs the first failure and the
 * recovery, not every try. Returns false when it gave up.
 */
export async function retryUntil(
  what: string,
  attempt: () => Promise<unknown>,
  { until, logger }: { until: () => boolean; logger: Logger },
): Promise<boolean> {
  let delay = 250;
  let failures = 0;
  for (;;) {
    try {
      await attempt();
      if (failures > 0) logger.info({ what, failures }, 'storage reachable again');
      return true;
    } catch (err) {
      failures++;
      if (failures === 1) logger.warn({ err, what }, 'storage write failed; retrying');
      if (until()) {
        logger.error({ err, what, failures }, 'storage write given up');
        return false;
      }
      await sleep(delay);
      delay = Math.min(5000, delay * 2);
    }
  }
}

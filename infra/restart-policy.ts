/** A role that ran this long before it exited was healthy: its next restart starts the back-off again. */
export const HEALTHY_RUN_MS = 60_000;
/** The longest wait before a restart. */
export const MAX_RESTART_DELAY_MS = 30_000;

/**
 * How `npm start` restarts a role that exited: after 1, 2, 4 … 30 s for a role that keeps crashing, but
 * from 1 s again once it had run healthily for a minute (#23 item 10: the back-off never reset, so after
 * five crashes over a day every later crash cost 30 s of downtime). Returns the delay and the crash count
 * to carry to the next exit.
 */
export function nextRestart(crashesInARow: number, ranMs: number): { delayMs: number; crashesInARow: number } {
  const count = ranMs >= HEALTHY_RUN_MS ? 0 : crashesInARow;
  return { delayMs: Math.min(MAX_RESTART_DELAY_MS, 1000 * 2 ** count), crashesInARow: count + 1 };
}

import type { Logger } from '../../../core/logger.ts';
import { finishSession, type FinishDeps } from './finish-session.ts';
import { sweepable, type IngestLease } from './ingest-lease.ts';

export interface LiveSweepOptions extends FinishDeps {
  graceMs: number;
  everyMs: number;
  /** Streams this process holds itself are never swept here. */
  isHeldHere: (tenant: string, channelId: string) => boolean;
}

/**
 * Finds what dead ingest processes left: leases not renewed past their expiry and past the reconnect grace after
 * it. Each is taken over (a conditional write: of several processes sweeping, one wins) and its session finished
 * (`live.ended`, the recording queued as a video), so a crash mid-stream loses at most the recording's last part.
 * Every ingest process sweeps, at start and then every `everyMs`.
 */
export class LiveSweep {
  private readonly options: LiveSweepOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(options: LiveSweepOptions) {
    this.options = options;
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweepOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.options.logger.warn({ err }, 'live sweep failed; trying again later'))
        .finally(() => this.schedule(this.options.everyMs));
    }, delayMs);
  }

  /** One pass; returns the channels finished. */
  async sweepOnce(now = Date.now()): Promise<string[]> {
    const finished: string[] = [];
    for (const lease of await this.options.leases.list()) {
      if (this.stopped) break;
      if (this.options.isHeldHere(lease.tenant, lease.channelId) || !sweepable(lease, this.options.graceMs, now)) continue;
      if (await this.finishLeft(lease)) finished.push(lease.channelId);
    }
    return finished;
  }

  /** Takes over one left lease and finishes its session; false when another process took it first. */
  async finishLeft(lease: IngestLease, logger: Logger = this.options.logger): Promise<boolean> {
    const taken = await this.options.leases.takeOver(lease);
    if (!taken) return false;
    logger.warn(
      { channelId: taken.channelId, sessionId: taken.sessionId, previousOwner: lease.owner },
      'finishing a live session left by a stopped ingest process',
    );
    await finishSession({ ...this.options, presentationLingerMs: 0 }, taken);
    return true;
  }
}

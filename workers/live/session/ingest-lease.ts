import type { S3Client } from '@aws-sdk/client-s3';
import { JsonDocuments } from '../../../core/json-documents.ts';

/**
 * `ingest-leases/<tenant>.<channelId>.json`: which ingest process holds a channel's stream, renewed every third of
 * its length. It exists from the publish until the session is over (ended, announced, recording queued, files
 * removed), so whatever a dead process left unfinished is found by the sweep of another (or of itself restarted):
 * a lease not renewed past `expiresAt`, and past the reconnect grace after that, is taken over and finished.
 */
export interface IngestLease {
  tenant: string;
  channelId: string;
  /** The process that holds it (`host:pid:random`). */
  owner: string;
  /** `publishing`: an encoder is connected (or the process died with one); `grace`: waiting for a reconnect until `graceEndsAt`; `finishing`: ending. */
  state: 'publishing' | 'grace' | 'finishing';
  /** Set once the first keyframe started (or continued) a session. */
  sessionId?: string;
  recordingVideoId?: string;
  title?: string;
  /** Runs (connections) of the session so far: each names its recording parts and init segments. */
  runs: number;
  /** The session's renditions, fixed by its first run (name, size, settings), for a run that continues it. */
  ladder?: { name: string; width: number; height: number; passthrough: boolean; crf: number; maxrateKbps: number }[];
  graceEndsAt?: string;
  renewedAt: string;
  expiresAt: string;
}

export const leaseId = (tenant: string, channelId: string): string => `${tenant}.${channelId}`;

export class IngestLeases {
  private readonly docs: JsonDocuments<IngestLease>;
  private readonly owner: string;
  private readonly leaseMs: number;
  constructor({ s3, mediaBucket, owner, leaseMs }: { s3: S3Client; mediaBucket: string; owner: string; leaseMs: number }) {
    this.docs = new JsonDocuments(s3, mediaBucket, 'ingest-leases');
    this.owner = owner;
    this.leaseMs = leaseMs;
  }

  get instance(): string {
    return this.owner;
  }

  private stamp(now = Date.now()): Pick<IngestLease, 'owner' | 'renewedAt' | 'expiresAt'> {
    return { owner: this.owner, renewedAt: new Date(now).toISOString(), expiresAt: new Date(now + this.leaseMs).toISOString() };
  }

  /**
   * Takes the channel for a new publisher: free, in its grace window (a reconnect: the session continues), or
   * left by a dead process within the grace after its lease lapsed. Refused while another encoder publishes it
   * (`busy`), while its session is being finished (`finishing`), or when a dead process's session is past its
   * grace (`stale`: finish that session first, then claim again).
   */
  async claim(
    tenant: string,
    channelId: string,
    graceMs: number,
    now = Date.now(),
  ): Promise<{ lease: IngestLease } | { refused: 'busy' | 'finishing' | 'stale'; current: IngestLease }> {
    let refused: { refused: 'busy' | 'finishing' | 'stale'; current: IngestLease } | undefined;
    const { doc } = await this.docs.update(leaseId(tenant, channelId), (current) => {
      refused = undefined;
      if (current) {
        const lapsed = Date.parse(current.expiresAt) <= now;
        const stale = sweepable(current, graceMs, now) && current.sessionId !== undefined;
        if (stale) refused = { refused: 'stale', current };
        else if (current.state === 'finishing') refused = { refused: 'finishing', current };
        else if (current.state === 'publishing' && !lapsed) refused = { refused: 'busy', current };
        if (refused) return undefined;
      }
      const { graceEndsAt: _g, ...kept } = current ?? { tenant, channelId, runs: 0 };
      return { ...kept, tenant, channelId, state: 'publishing', ...this.stamp(now) } as IngestLease;
    });
    return refused ?? { lease: doc! };
  }

  /** Renews and changes a lease this process holds; undefined when another process has taken it (stop at once). */
  async renew(
    tenant: string,
    channelId: string,
    change: (lease: IngestLease) => Partial<IngestLease> = () => ({}),
  ): Promise<IngestLease | undefined> {
    let lost = false;
    const { doc } = await this.docs.update(leaseId(tenant, channelId), (current) => {
      lost = !current || current.owner !== this.owner;
      if (lost) return undefined;
      return { ...current!, ...change(current!), ...this.stamp() };
    });
    return lost ? undefined : doc;
  }

  /** Takes over a lease its owner left (see `sweepable`) to finish it. */
  async takeOver(lease: IngestLease, now = Date.now()): Promise<IngestLease | undefined> {
    let taken = false;
    const { doc } = await this.docs.update(leaseId(lease.tenant, lease.channelId), (current) => {
      taken = current !== undefined && current.owner === lease.owner && current.renewedAt === lease.renewedAt;
      return taken ? { ...current!, state: 'finishing', ...this.stamp(now) } : undefined;
    });
    return taken ? doc : undefined;
  }

  async release(tenant: string, channelId: string): Promise<void> {
    const current = await this.docs.get(leaseId(tenant, channelId));
    if (current && current.owner === this.owner) await this.docs.delete(leaseId(tenant, channelId));
  }

  async list(): Promise<IngestLease[]> {
    return this.docs.list();
  }
}

/**
 * A lease whose owner stopped renewing it (dead, or cut off) and whose encoder had the reconnect grace to come
 * back and did not: the session is over and nobody is finishing it.
 */
export function sweepable(lease: IngestLease, graceMs: number, now = Date.now()): boolean {
  const expires = Date.parse(lease.expiresAt);
  if (expires > now) return false;
  const graceEnds = lease.state === 'grace' && lease.graceEndsAt ? Date.parse(lease.graceEndsAt) : expires + graceMs;
  return Math.max(graceEnds, expires) <= now;
}

/** One segment of a live media playlist as players see it. */
export interface LiveEntry {
  sequence: number;
  /** Seconds. */
  duration: number;
  /** The init segment it needs (`init-<run>.mp4`). */
  map: string;
  /** Starts a new run (the encoder reconnected): timestamps and codec settings may change here. */
  discontinuity: boolean;
}

/** The segment's object name beside its playlist. */
export const segmentName = (sequence: number): string => `${sequence}.m4s`;

/**
 * A sliding-window live media playlist (RFC 8216 §6.2.2): the segments of the last `windowSeconds` (the DVR window,
 * at least a few segments), media and discontinuity sequence numbers that only grow, `#EXT-X-MAP` wherever the init
 * segment changes, `#EXT-X-DISCONTINUITY` at each reconnect, `#EXT-X-ENDLIST` when the session ended. It can be
 * read back from its own text, so a session that continues on another ingest process continues its numbering.
 */
export class LivePlaylist {
  private entries: LiveEntry[] = [];
  private nextSequence = 0;
  private discontinuitySequence = 0;
  private maxDuration = 0;
  private ended = false;
  /** Segments that slid out of the window so far. */
  private removedCount = 0;
  private readonly windowSeconds: number;

  constructor({ windowSeconds }: { windowSeconds: number }) {
    this.windowSeconds = windowSeconds;
  }

  /** Continues a playlist this class wrote; the next segment added after it starts a discontinuity. */
  static continueFrom(text: string, options: { windowSeconds: number }): LivePlaylist {
    const playlist = new LivePlaylist(options);
    let map = '';
    let discontinuity = false;
    let duration: number | undefined;
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE:')) playlist.discontinuitySequence = Number(line.slice(30)) || 0;
      else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
      else if (line.startsWith('#EXT-X-MAP:')) map = /URI="([^"]*)"/.exec(line)?.[1] ?? map;
      else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
      else if (line && !line.startsWith('#') && duration !== undefined) {
        const sequence = Number.parseInt(line, 10);
        if (Number.isInteger(sequence) && Number.isFinite(duration)) {
          playlist.entries.push({ sequence, duration, map, discontinuity });
          playlist.nextSequence = sequence + 1;
          playlist.maxDuration = Math.max(playlist.maxDuration, duration);
        }
        duration = undefined;
        discontinuity = false;
      }
    }
    return playlist;
  }

  get segments(): readonly LiveEntry[] {
    return this.entries;
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** The sequence number the next segment gets. */
  get next(): number {
    return this.nextSequence;
  }

  /** Adds a segment; returns the entries that slid out of the window (their objects can be removed). */
  add({ duration, map, discontinuity }: { duration: number; map: string; discontinuity: boolean }): {
    entry: LiveEntry;
    removed: LiveEntry[];
  } {
    const entry: LiveEntry = {
      sequence: this.nextSequence++,
      duration,
      map,
      discontinuity: discontinuity && this.entries.length + this.removedCount > 0,
    };
    this.entries.push(entry);
    this.maxDuration = Math.max(this.maxDuration, duration);
    const removed: LiveEntry[] = [];
    // Keep at least three segments (players start three from the end) and the window's worth after the first.
    while (this.entries.length > 3 && this.total() - this.entries[0]!.duration >= this.windowSeconds) {
      const gone = this.entries.shift()!;
      removed.push(gone);
      this.removedCount++;
      // RFC 8216 §4.3.3.3: each EXT-X-DISCONTINUITY that leaves the playlist counts.
      if (gone.discontinuity) this.discontinuitySequence++;
    }
    return { entry, removed };
  }

  private total(): number {
    return this.entries.reduce((sum, e) => sum + e.duration, 0);
  }

  end(): void {
    this.ended = true;
  }

  render(): string {
    const first = this.entries[0];
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:7',
      `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(this.maxDuration - 0.001))}`,
      `#EXT-X-MEDIA-SEQUENCE:${first?.sequence ?? this.nextSequence}`,
      `#EXT-X-DISCONTINUITY-SEQUENCE:${this.discontinuitySequence}`,
      '#EXT-X-INDEPENDENT-SEGMENTS',
    ];
    let map: string | undefined;
    for (const e of this.entries) {
      if (e.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
      if (e.map !== map) lines.push(`#EXT-X-MAP:URI="${e.map}"`);
      map = e.map;
      lines.push(`#EXTINF:${e.duration.toFixed(6)},`, segmentName(e.sequence));
    }
    if (this.ended) lines.push('#EXT-X-ENDLIST');
    return `${lines.join('\n')}\n`;
  }
}

import { describe, expect, it } from 'vitest';
import { LivePlaylist } from './live-playlist.ts';

const add = (p: LivePlaylist, n: number, { map = 'init-1.mp4', discontinuity = false, duration = 2 } = {}) => {
  const removed = [];
  for (let i = 0; i < n; i++) removed.push(...p.add({ duration, map, discontinuity: discontinuity && i === 0 }).removed);
  return removed;
};

describe('LivePlaylist', () => {
  it('slides a window of the DVR length, keeping sequence numbers growing', () => {
    const p = new LivePlaylist({ windowSeconds: 10 });
    const removed = add(p, 10);
    expect(p.segments.map((s) => s.sequence)).toEqual([5, 6, 7, 8, 9]);
    expect(removed.map((s) => s.sequence)).toEqual([0, 1, 2, 3, 4]);
    const text = p.render();
    expect(text).toContain('#EXT-X-MEDIA-SEQUENCE:5\n');
    expect(text).toContain('#EXT-X-TARGETDURATION:2\n');
    expect(text.match(/#EXT-X-MAP:URI="init-1.mp4"/g)).toHaveLength(1);
    expect(text).not.toContain('#EXT-X-ENDLIST');
    expect(text).not.toContain('#EXT-X-DISCONTINUITY\n');
  });

  it('keeps at least three segments whatever the window', () => {
    const p = new LivePlaylist({ windowSeconds: 0 });
    add(p, 6);
    expect(p.segments).toHaveLength(3);
  });

  it('marks a reconnect with a discontinuity and its own init segment, and counts discontinuities that slide out', () => {
    const p = new LivePlaylist({ windowSeconds: 6 });
    add(p, 3);
    add(p, 3, { map: 'init-2.mp4', discontinuity: true });
    let text = p.render();
    expect(text).toMatch(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-2.mp4"\n#EXTINF:2.000000,\n3.m4s/);
    expect(text).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:0\n');
    add(p, 4, { map: 'init-2.mp4' });
    text = p.render();
    expect(text).toContain('#EXT-X-DISCONTINUITY-SEQUENCE:1\n');
    expect(text).not.toContain('#EXT-X-DISCONTINUITY\n');
  });

  it('continues from its own text (another ingest process carries the session on)', () => {
    const p = new LivePlaylist({ windowSeconds: 8 });
    add(p, 7);
    add(p, 2, { map: 'init-2.mp4', discontinuity: true });
    const q = LivePlaylist.continueFrom(p.render(), { windowSeconds: 8 });
    expect(q.segments).toEqual(p.segments);
    expect(q.next).toBe(9);
    q.add({ duration: 2, map: 'init-3.mp4', discontinuity: true });
    expect(q.render()).toContain('#EXT-X-MAP:URI="init-3.mp4"\n#EXTINF:2.000000,\n9.m4s');
  });

  it('ends with ENDLIST', () => {
    const p = new LivePlaylist({ windowSeconds: 10 });
    add(p, 2);
    p.end();
    expect(p.render().trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
  });
});

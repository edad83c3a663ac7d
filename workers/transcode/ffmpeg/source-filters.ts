import { execFile } from 'node:child_process';
import type { TranscodePlan } from '../renditions.ts';
import type { ProbeResult } from './probe/index.ts';

/** The filters of one ffmpeg build that the source chain may use. */
export interface FilterSupport {
  zscale: boolean;
  tonemap: boolean;
  bwdif: boolean;
  yadif: boolean;
}

const supportCache = new Map<string, Promise<FilterSupport>>();

/** Which of the optional filters this ffmpeg has (`ffmpeg -filters`), asked once per binary. */
export function filterSupport(ffmpegPath: string): Promise<FilterSupport> {
  let known = supportCache.get(ffmpegPath);
  if (!known) {
    known = new Promise((resolve) => {
      execFile(ffmpegPath, ['-hide_banner', '-filters'], { timeout: 15_000 }, (_err, stdout) => {
        const has = (name: string) => new RegExp(`^\\s*\\S+\\s+${name}\\s`, 'm').test(stdout ?? '');
        resolve({ zscale: has('zscale'), tonemap: has('tonemap'), bwdif: has('bwdif'), yadif: has('yadif') });
      });
    });
    supportCache.set(ffmpegPath, known);
  }
  return known;
}

/** The high-dynamic-range transfer of a source, if any: PQ (HDR10, Dolby Vision 5/8.1) or HLG. */
export function hdrTransfer(colour: ProbeResult['video']['colour']): 'pq' | 'hlg' | undefined {
  if (colour.transfer === 'smpte2084') return 'pq';
  if (colour.transfer === 'arib-std-b67') return 'hlg';
  return undefined;
}

const INTERLACED = new Set(['tt', 'bb', 'tb', 'bt']);

/** What the decoded picture goes through before the renditions split off, and what the user should know of it. */
export interface SourceChain {
  /** Filters between the decoder (after ffmpeg's autorotate) and the split, in order. */
  filters: string[];
  /** The colour matrix to read the chain's output with (`scale`'s in_color_matrix), when the frames do not say. */
  inputMatrix?: 'bt709' | 'bt601';
  notes: string[];
}

/**
 * Normalises any source to progressive, constant-rate SDR BT.709:
 *  - interlaced (field order tt/bb/tb/bt) → `bwdif` (else `yadif`), one frame per frame;
 *  - any rate → `fps=<plan.frameRate>` (constant, ≤ 60; see outputFrameRate), before the
 *    expensive steps so dropped frames cost nothing;
 *  - PQ/HLG → resized to the largest rendition, linearised, BT.2020 → BT.709 primaries,
 *    Hable tone curve, BT.709 transfer and matrix (zscale + tonemap). A build without them
 *    keeps the picture as is (washed out, but playable) and says so in a note.
 */
export function sourceChain(probe: ProbeResult, plan: TranscodePlan, support: FilterSupport): SourceChain {
  const filters: string[] = [];
  const notes: string[] = [];
  if (INTERLACED.has(probe.video.fieldOrder)) {
    if (support.bwdif) filters.push('bwdif=mode=send_frame:parity=auto:deint=all');
    else if (support.yadif) filters.push('yadif=mode=send_frame:parity=auto:deint=all');
    else notes.push('the video is interlaced and this server has no deinterlacer; it was kept interlaced');
  }
  // eof_action=pass keeps the last frame (a one-frame clip would otherwise lose its only picture).
  filters.push(`fps=${plan.frameRate}:eof_action=pass`);
  const hdr = hdrTransfer(probe.video.colour);
  if (hdr) {
    if (support.zscale && support.tonemap) {
      const top = plan.renditions.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
      filters.push(
        `zscale=w=${top.width}:h=${top.height}:f=bicubic:t=linear:npl=100`,
        'format=gbrpf32le',
        'zscale=p=bt709',
        'tonemap=tonemap=hable:desat=0',
        'zscale=t=bt709:m=bt709:r=tv',
        'format=yuv420p',
        'setsar=1',
      );
    } else {
      notes.push(
        `the video is HDR (${hdr === 'pq' ? 'PQ' : 'HLG'}) and this server's ffmpeg cannot tone-map it; colours may look washed out`,
      );
    }
  }
  const chain: SourceChain = { filters, notes };
  // Untagged video: ffmpeg would read it as BT.601 whatever its size; HD is BT.709 in practice.
  if (!hdr && !probe.video.colour.matrix) chain.inputMatrix = Math.min(probe.video.width, probe.video.height) >= 720 ? 'bt709' : 'bt601';
  return chain;
}

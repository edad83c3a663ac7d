import { open } from 'node:fs/promises';
import { TransientJobError } from '../../../../core/errors.ts';
import { jobError } from '../../../../core/job-errors.ts';
import { AUDIO_DEMUXERS } from '../hardening.ts';
import type { ProbeFailure } from './run.ts';

/*
 * What a failed ffprobe means for the upload, from its stderr (and, for a missing moov box, the
 * file's first bytes): a job error from the table, in words a user can act on.
 */

/** The permanent (or, when aborted, transient) error for an ffprobe that did not succeed; stderr stays in `cause`. */
export async function explainProbeFailure(file: string, err: ProbeFailure): Promise<Error> {
  if (err.aborted) return new TransientJobError('probe aborted', { cause: err });
  if (err.timedOut) return jobError('PROBE_TIMEOUT').causedBy(err);
  const stderr = err.stderr ?? '';
  const refused = /\[(\w+) @ [^\]]*\] Format not on whitelist/.exec(stderr);
  if (refused) return refusedFormat(refused[1]!, err);
  const codec = /Codec \((\w+)\) not on whitelist/.exec(stderr);
  if (codec) return jobError('CODEC_REFUSED', codec[1]!).causedBy(err);
  if (/moov atom not found/.test(stderr)) {
    return (await isHeifImage(file)) ? jobError('HEIF_PHOTO').causedBy(err) : jobError('MOOV_MISSING').causedBy(err);
  }
  return jobError('UNREADABLE').causedBy(err);
}

/** Major brands of HEIF/AVIF still images: an MP4-like box layout, but a photo. */
const HEIF_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'mif1', 'msf1', 'avif', 'avis']);

async function isHeifImage(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(12);
    await handle.read(head, 0, 12, 0);
    return head.toString('latin1', 4, 8) === 'ftyp' && HEIF_BRANDS.has(head.toString('latin1', 8, 12));
  } finally {
    await handle.close();
  }
}

function refusedFormat(demuxer: string, cause: Error): Error {
  if (demuxer === 'image2' || demuxer.endsWith('_pipe')) return jobError('STILL_IMAGE', demuxer.replace(/_pipe$/, '')).causedBy(cause);
  if (AUDIO_DEMUXERS.has(demuxer)) return jobError('AUDIO_FILE', demuxer).causedBy(cause);
  return jobError('FORMAT_REFUSED', describeFormat(demuxer)).causedBy(cause);
}

/** Names the demuxers an attacker would use, so the reason reads as what happened. */
function describeFormat(demuxer: string): string {
  const known: Record<string, string> = {
    hls: 'an HLS playlist (hls)',
    concat: 'a concat list (concat)',
    dash: 'a DASH manifest (dash)',
  };
  if (known[demuxer]) return known[demuxer];
  return `in the ${demuxer} format`;
}

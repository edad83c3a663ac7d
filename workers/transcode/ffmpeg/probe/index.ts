import { explainProbeFailure } from './classify.ts';
import { parseProbe, type ProbeResult, type RawProbe } from './parse.ts';
import { runProbe, scanPackets, type ProbeFailure } from './run.ts';
import { fileInput, INPUT_HARDENING } from '../hardening.ts';

export type { ProbeResult } from './parse.ts';
export type { PacketScan } from './run.ts';

/*
 * What an upload holds, said by ffprobe: run.ts runs it, classify.ts turns a failure into the job
 * error a user reads, parse.ts turns its answer into a ProbeResult judged on the packets really there.
 */

/**
 * Probes an uploaded file with ffprobe (JSON output) under the input hardening
 * rules, then (`scan`, the default for uploads) reads every packet's timestamp
 * without decoding, so the duration, the frame rate and empty streams are
 * judged on what the file holds rather than on what its header claims. A file
 * ffprobe cannot read, or without a video stream, is a PermanentJobError.
 */
export async function probeMedia(
  file: string,
  {
    ffprobePath,
    signal,
    timeoutMs = 60_000,
    untrusted = true,
    scan = untrusted,
  }: {
    ffprobePath: string;
    signal?: AbortSignal;
    timeoutMs?: number;
    /** False only for files reelay wrote itself. */
    untrusted?: boolean;
    /** Read every packet's timestamps (no decoding); defaults to `untrusted`. */
    scan?: boolean;
  },
): Promise<ProbeResult> {
  const hardening = untrusted ? INPUT_HARDENING : ['-protocol_whitelist', 'file'];
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...hardening, '-i', fileInput(file)];
  // The packet scan runs beside the header probe (each is mostly ffprobe starting up and reading the file),
  // and is stopped if the header probe refuses the file.
  const stopScan = new AbortController();
  const scanning = scan
    ? scanPackets(file, {
        ffprobePath,
        signal: signal ? AbortSignal.any([signal, stopScan.signal]) : stopScan.signal,
        timeoutMs: timeoutMs * 4,
      })
    : undefined;
  try {
    const { stdout } = await runProbe(ffprobePath, args, { signal, timeoutMs }).catch(async (err: ProbeFailure) => {
      throw await explainProbeFailure(file, err);
    });
    const raw = JSON.parse(stdout) as RawProbe;
    return parseProbe(raw, await scanning);
  } finally {
    stopScan.abort();
    await scanning;
  }
}

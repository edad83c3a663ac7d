import { execFile, spawn } from 'node:child_process';
import { fileInput, INPUT_HARDENING } from '../hardening.ts';

/*
 * Running ffprobe: the header probe (JSON, bounded in time and output) and the packet scan (every
 * packet's timestamp, streamed). Neither decides what a failure means: classify.ts does.
 */

/** What a scan of every packet found, per stream index. */
export interface PacketScan {
  streams: Map<number, { packets: number; first: number; end: number }>;
  /** The demuxer hit the end of the file before the container said it would. */
  endedEarly: boolean;
}

/** An ffprobe that did not succeed: its stderr, and whether it ran out of time or was stopped. */
export interface ProbeFailure extends Error {
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
}

/** ffprobe with `args`, killed after `timeoutMs` or on `signal`: its output, or a ProbeFailure. */
export function runProbe(
  ffprobePath: string,
  args: string[],
  { signal, timeoutMs }: { signal?: AbortSignal | undefined; timeoutMs: number },
) {
  return new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      ffprobePath,
      args,
      { signal, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (!err) return resolve({ stdout, stderr });
        reject(
          Object.assign(err, {
            stderr,
            timedOut: (err as { killed?: boolean }).killed === true && !signal?.aborted,
            aborted: signal?.aborted === true,
          }),
        );
      },
    );
  });
}

/**
 * Reads every packet's stream, timestamp and duration (demuxing only, no decoding), streamed
 * line by line so a long file costs no memory. Fails soft: a scan that cannot run leaves the
 * header's word standing.
 */
export function scanPackets(
  file: string,
  { ffprobePath, signal, timeoutMs }: { ffprobePath: string; signal?: AbortSignal | undefined; timeoutMs: number },
): Promise<PacketScan | undefined> {
  const args = [
    '-v',
    'warning',
    '-of',
    'csv=p=0',
    '-show_entries',
    'packet=stream_index,pts_time,dts_time,duration_time,flags',
    ...INPUT_HARDENING,
    '-i',
    fileInput(file),
  ];
  return new Promise((resolve) => {
    const child = spawn(ffprobePath, args, { stdio: ['ignore', 'pipe', 'pipe'], signal, timeout: timeoutMs, killSignal: 'SIGKILL' });
    const streams: PacketScan['streams'] = new Map();
    let stderr = '';
    let pending = '';
    const take = (line: string) => {
      const [index, pts, dts, dur, flags] = line.split(',');
      // `D`: dropped by an edit list (a frame before the start); it is never shown.
      if (!index || flags?.includes('D')) return;
      const i = Number(index);
      if (!Number.isInteger(i)) return;
      const s = streams.get(i) ?? { packets: 0, first: Number.POSITIVE_INFINITY, end: 0 };
      s.packets++;
      streams.set(i, s);
      // Elementary streams (raw .h264, .m2v) have packets without timestamps: counted, not timed.
      const t = Number(pts !== 'N/A' && pts ? pts : dts);
      if (!Number.isFinite(t)) return;
      const d = Number(dur);
      s.first = Math.min(s.first, t);
      s.end = Math.max(s.end, t + (Number.isFinite(d) && d > 0 ? d : 0));
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(take);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 64 * 1024) stderr += chunk;
    });
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => {
      if (pending) take(pending);
      if (code !== 0 && streams.size === 0) return resolve(undefined);
      resolve({ streams, endedEarly: /File ended prematurely|truncat|Truncat|partial file|EOF inside/i.test(stderr) });
    });
  });
}

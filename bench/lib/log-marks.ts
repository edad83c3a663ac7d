import { pino } from 'pino';
import type { Logger } from '../../core/logger.ts';

interface LogLine {
  level?: number;
  time?: number;
  msg?: string;
  videoId?: string;
}

/**
 * A logger for the in-process roles that remembers when each video reached a
 * logged milestone (e.g. the worker's `transcoding` line, written after the
 * download and probe, right before ffmpeg starts). Lines at or above
 * REELAY_LOG_LEVEL (default warn) still go to stderr.
 */
export class LogMarks {
  readonly logger: Logger;
  private readonly marks = new Map<string, Map<string, number>>();

  constructor(role: string) {
    const echoLevel = pino.levels.values[process.env.REELAY_LOG_LEVEL ?? 'warn'] ?? pino.levels.values.warn!;
    const destination = {
      write: (line: string) => {
        const parsed = parseLine(line);
        if (parsed?.videoId && parsed.msg && typeof parsed.time === 'number') {
          const forVideo = this.marks.get(parsed.videoId) ?? new Map<string, number>();
          if (!forVideo.has(parsed.msg)) forVideo.set(parsed.msg, parsed.time);
          this.marks.set(parsed.videoId, forVideo);
        }
        if ((parsed?.level ?? Infinity) >= echoLevel) process.stderr.write(line);
      },
    };
    this.logger = pino({ level: 'info', base: { role } }, destination);
  }

  /** Epoch ms of the first `msg` line logged for `videoId`, if any. */
  at(videoId: string, msg: string): number | undefined {
    return this.marks.get(videoId)?.get(msg);
  }
}

function parseLine(line: string): LogLine | undefined {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
}

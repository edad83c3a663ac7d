import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { recordingPartName } from '../../../core/live/live-paths.ts';
import type { Logger } from '../../../core/logger.ts';
import { retryUntil } from './s3-retry.ts';

/**
 * Moves the recording's parts (the source as it came, MPEG-TS, cut by ffmpeg's segment muxer) to the raw bucket as
 * each one is complete: ffmpeg appends a part to its CSV list only once the part is closed. What is stored survives
 * the ingest process; the session's end joins the parts into the recording's video.
 */
export class RecordingUploader {
  private readonly options: {
    s3: S3Client;
    rawBucket: string;
    prefix: string;
    run: number;
    dir: string;
    list: string;
    logger: Logger;
    giveUp: () => boolean;
  };
  private taken = 0;
  /** Bytes stored so far in this run. */
  bytes = 0;

  constructor(options: RecordingUploader['options']) {
    this.options = options;
  }

  get parts(): number {
    return this.taken;
  }

  async poll(): Promise<void> {
    const { s3, rawBucket, prefix, run, dir, list, logger, giveUp } = this.options;
    const text = await readFile(path.join(dir, list), 'utf8').catch(() => '');
    // `000003.ts,12.523000,14.523000`: name, start and end on the recording timeline (the run's offset included).
    const parts = text
      .split('\n')
      .map((line) => line.split(','))
      .filter(([name, , end]) => /^\d{6}\.ts$/.test(name?.trim() ?? '') && Number.isFinite(Number(end)))
      .map(([name, , end]) => ({ name: name!.trim(), endMs: Number(end) * 1000 }));
    while (this.taken < parts.length) {
      const { name, endMs } = parts[this.taken]!;
      const file = path.join(dir, name);
      const body = await readFile(file).catch(() => undefined);
      if (body) {
        const Key = `${prefix}${recordingPartName(run, this.taken, endMs)}`;
        const stored = await retryUntil(
          `recording part ${Key}`,
          () => s3.send(new PutObjectCommand({ Bucket: rawBucket, Key, Body: body, ContentType: 'video/mp2t' })),
          {
            until: giveUp,
            logger,
          },
        );
        if (!stored) return;
        this.bytes += body.length;
        await rm(file, { force: true });
      }
      this.taken++;
    }
  }
}

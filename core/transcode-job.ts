import { z } from 'zod';
import { isVideoId } from './ids.ts';
import { PRIORITY_TIERS } from './resources.ts';

/** The SQS message body of a transcode job. The status document holds everything else. */
export const transcodeJobSchema = z.object({
  // A ULID, checked before it becomes part of an S3 key or a temp path.
  videoId: z.string().refine(isVideoId, 'videoId must be a ULID'),
  priority: z.enum(PRIORITY_TIERS),
  sourceKey: z.string().min(1),
  enqueuedAt: z.string(),
});
export type TranscodeJob = z.infer<typeof transcodeJobSchema>;

/** The job in an SQS message body, or undefined when the body is not a reelay transcode job. */
export function parseTranscodeJob(body: string | undefined): TranscodeJob | undefined {
  try {
    const parsed = transcodeJobSchema.safeParse(JSON.parse(body ?? ''));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

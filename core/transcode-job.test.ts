import { describe, expect, it } from 'vitest';
import { newVideoId } from './ids.ts';
import { parseTranscodeJob } from './transcode-job.ts';

describe('parseTranscodeJob', () => {
  const job = { videoId: newVideoId(), priority: 'low', sourceKey: 'uploads/x', enqueuedAt: new Date().toISOString() };

  it('accepts a job whose videoId is a ULID', () => {
    expect(parseTranscodeJob(JSON.stringify(job))).toEqual(job);
  });

  it('refuses a videoId that is not a ULID before it can become part of a path or key', () => {
    for (const videoId of ['../../etc/passwd', '01ARZ3NDEKTSV4RRFFQ69G5FA/', '01arz3ndektsv4rrffq69g5fav', 'x', '']) {
      expect(parseTranscodeJob(JSON.stringify({ ...job, videoId })), videoId).toBeUndefined();
    }
  });
});

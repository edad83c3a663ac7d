import { describe, expect, it } from 'vitest';
import { newVideoId } from './ids.ts';
import { jobMessage, parseJob, transcodeJob } from './job-queue.ts';

describe('parseJob', () => {
  const job = transcodeJob({ videoId: newVideoId(), priority: 'low', sourceKey: 'uploads/x' });

  it('reads back what jobMessage wrote', () => {
    expect(parseJob(jobMessage(job).MessageBody)).toEqual(job);
  });

  it('reads a message written before jobs had a kind as a transcode job', () => {
    const { kind: _, ...old } = job;
    expect(parseJob(JSON.stringify(old))).toEqual({ ...old, kind: 'transcode' });
  });

  it('refuses a kind it does not know, and what is not a job at all', () => {
    for (const body of [JSON.stringify({ ...job, kind: 'stitch' }), '{"videoId":', 'null', '', undefined]) {
      expect(parseJob(body), body).toBeUndefined();
    }
  });

  it('refuses a videoId that is not a ULID before it can become part of a path or key', () => {
    for (const videoId of ['../../etc/passwd', '01ARZ3NDEKTSV4RRFFQ69G5FA/', '01arz3ndektsv4rrffq69g5fav', 'x', '']) {
      expect(parseJob(JSON.stringify({ ...job, videoId })), videoId).toBeUndefined();
    }
  });
});

describe('jobMessage', () => {
  it('always names the video in the attributes, beside any extra ones', () => {
    const job = transcodeJob({ videoId: newVideoId(), priority: 'high', sourceKey: 'uploads/y' });
    expect(jobMessage(job).MessageAttributes).toEqual({ videoId: { DataType: 'String', StringValue: job.videoId } });
    expect(jobMessage(job, { code: 'too_long', videoId: 'not this one' }).MessageAttributes).toEqual({
      code: { DataType: 'String', StringValue: 'too_long' },
      videoId: { DataType: 'String', StringValue: job.videoId },
    });
  });
});

import { describe, expect, it } from 'vitest';
import { PermanentJobError } from './errors.ts';
import { JOB_ERRORS, jobError, jobFailure } from './job-errors.ts';

describe('the job errors table', () => {
  it('gives a fixed sentence, or builds one from the details', () => {
    expect(jobFailure('PROBE_TIMEOUT')).toEqual({
      code: 'probe_timeout',
      message: 'the file could not be read in time; it is probably damaged',
    });
    expect(jobFailure('TOO_LONG', { seconds: 7201.4, limit: 7200 })).toEqual({
      code: 'too_long',
      message: 'the video lasts 7201s; the limit is 7200s (REELAY_MAX_DURATION_SECONDS)',
    });
  });

  it('makes a permanent error that keeps its cause for the logs', () => {
    const cause = new Error('ffprobe exited with code 1');
    const err = jobError('STILL_IMAGE', 'png').causedBy(cause);
    expect(err).toBeInstanceOf(PermanentJobError);
    expect(err).toMatchObject({ code: 'not_a_video', message: 'the upload is a still image (png), not a video; it was not opened', cause });
  });

  it('names codes in snake case, and says sentences without a capital or a full stop (they are quoted in others)', () => {
    for (const [name, { code, message }] of Object.entries(JOB_ERRORS)) {
      expect(code, name).toMatch(/^[a-z]+(_[a-z]+)*$/);
      if (typeof message === 'string') expect(message, name).toMatch(/^[a-z].*[^.]$/);
    }
  });
});

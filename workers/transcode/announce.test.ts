import { describe, expect, it } from 'vitest';
import { queuedVideo } from '../../core/video-status.ts';
import { finalEvent } from './announce.ts';

describe('finalEvent', () => {
  it("carries the status's notes in video.ready, so a subscriber learns what the user should know (#23 item 12)", () => {
    const doc = queuedVideo(
      '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      'default',
      'normal',
      { key: 'uploads/x', bytes: 1, contentType: 'video/mp4' },
      '2026-12-07T00:00:00.000Z',
    );
    const ready = { ...doc, status: 'ready' as const, notes: ['the audio track could not be decoded and was left out'] };
    expect(finalEvent(ready).data).toMatchObject({ notes: ['the audio track could not be decoded and was left out'] });
    expect(finalEvent({ ...ready, notes: undefined }).data).not.toHaveProperty('notes');
  });
});

import { describe, expect, it } from 'vitest';
import { GO, isGo, parseWorkerMessage } from './worker-ipc.ts';

describe('worker IPC', () => {
  it('reads what a worker says', () => {
    expect(parseWorkerMessage({ type: 'reelay.worker.state', busy: 1, concurrency: 2 })).toEqual({
      type: 'reelay.worker.state',
      busy: 1,
      concurrency: 2,
    });
    expect(parseWorkerMessage({ type: 'reelay.worker.standby' })).toEqual({ type: 'reelay.worker.standby' });
  });

  it('ignores what is not one of its messages, or is malformed', () => {
    for (const message of [null, 'reelay.worker.state', { type: 'other' }, { type: 'reelay.worker.state', busy: '1', concurrency: 1 }]) {
      expect(parseWorkerMessage(message)).toBeUndefined();
    }
  });

  it('knows the go signal', () => {
    expect(isGo(structuredClone(GO))).toBe(true);
    expect(isGo({ type: 'reelay.worker.standby' })).toBe(false);
    expect(isGo(undefined)).toBe(false);
  });
});

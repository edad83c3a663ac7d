import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { loadSupervisorSettings } from './settings.ts';

describe('loadSupervisorSettings', () => {
  it('has defaults that suit a 2-core machine', () => {
    expect(loadSupervisorSettings({})).toEqual({
      minWorkers: 1,
      maxWorkers: 2,
      jobsPerWorker: 2,
      pollMs: 5000,
      scaleDownCooldownMs: 60_000,
      port: 9464,
    });
  });

  it('converts seconds to ms and accepts fractions of a second for the loop timings', () => {
    const settings = loadSupervisorSettings({ REELAY_SUPERVISOR_POLL_SECONDS: '0.5', REELAY_SCALE_DOWN_COOLDOWN_SECONDS: '2' });
    expect(settings.pollMs).toBe(500);
    expect(settings.scaleDownCooldownMs).toBe(2000);
  });

  it('names every bad variable, and checks min against max', () => {
    const bad = () =>
      loadSupervisorSettings({ REELAY_WORKERS_MIN: '3', REELAY_WORKERS_MAX: '2', REELAY_JOBS_PER_WORKER: 'two', REELAY_SUPERVISOR_PORT: '70000' });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (err) {
      const message = (err as ConfigError).message;
      expect(message).toContain('REELAY_WORKERS_MIN (3) must not be greater than REELAY_WORKERS_MAX (2)');
      expect(message).toContain('REELAY_JOBS_PER_WORKER="two" is invalid');
      expect(message).toContain('REELAY_SUPERVISOR_PORT="70000" is invalid');
    }
    expect(() => loadSupervisorSettings({ REELAY_WORKERS_MAX: '0' })).toThrow(/REELAY_WORKERS_MAX="0"/);
    expect(() => loadSupervisorSettings({ REELAY_SUPERVISOR_POLL_SECONDS: '0' })).toThrow(/REELAY_SUPERVISOR_POLL_SECONDS/);
  });
});

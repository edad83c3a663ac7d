import { defineConfig } from 'vitest/config';

/**
 * `npm run test:parity`: a representative subset of the integration suite,
 * plus the conditional-write checks, against the second AWS implementation
 * that test/parity/run.ts starts (it sets REELAY_PARITY_ENDPOINT). Every file
 * uses its own resource prefix on the one shared endpoint.
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: [
      'test/parity/*.test.ts',
      'test/pipeline.test.ts',
      'test/events.test.ts',
      'test/live.test.ts',
      'test/realtime.test.ts',
      'test/provision.test.ts',
      'test/worker-reliability.test.ts',
    ],
    // The representative subset: every test of the small files, and from the long ones upload → ready
    // (multipart), a file that cannot become a video, duplicate delivery, DLQ and redrive.
    testNamePattern: new RegExp(
      [
        'S3 conditional writes',
        'provisioning',
        'published events',
        'live channels',
        'uploads of live recordings',
        'GET /v1/events across API instances',
        'realtime queues',
        'landscape-720p-audio.mp4 uploaded as multipart',
        'a text file named .mp4',
        'a duplicate delivery of a finished job',
        'ends in the DLQ',
      ]
        .map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
    ),
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // One Python emulator process serves every file: one file at a time keeps it responsive.
    maxWorkers: 1,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});

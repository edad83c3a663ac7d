import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // test/parity/ needs a second AWS implementation: `npm run test:parity` runs it.
    exclude: ['node_modules/**', '.reelay/**', 'test/parity/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration files each start their own emulator and ffmpeg processes; two at a time suits 2 cores.
    maxWorkers: 2,
    // The embedded emulator uses node:sqlite: without this every test process printed its ExperimentalWarning.
    execArgv: ['--disable-warning=ExperimentalWarning'],
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});

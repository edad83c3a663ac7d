import { runRole } from '../core/run-role.ts';
import { startEmulator } from './emulator.ts';

/** `npm run emulator`: the embedded emulator alone, for running roles by hand against it. */
await runRole('emulator', async ({ config, logger }) => {
  const emulator = await startEmulator({ port: config.emulatorPort, dataDir: config.dataDir });
  logger.info({ endpoint: emulator.endpoint, dataDir: config.dataDir }, 'emulator listening; use AWS_ENDPOINT_URL=' + emulator.endpoint);
  return emulator;
});

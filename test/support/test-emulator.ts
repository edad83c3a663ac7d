import { startEmulator, type RunningEmulator } from '../../infra/emulator.ts';

/**
 * The AWS implementation a test stack talks to. Normally a fresh embedded
 * emulator (fauxqs) per stack; under `npm run test:parity` every stack shares
 * the second, independent implementation that test/parity/run.ts started
 * (LocalStack or moto), named by REELAY_PARITY_ENDPOINT. Each stack still has
 * its own resource prefix, so test files do not see each other's queues.
 */
export const parityEndpoint: string | undefined = process.env.REELAY_PARITY_ENDPOINT || undefined;
/** Which implementation the parity run started ('localstack' | 'moto'), for the few known differences. */
export const parityImplementation: string | undefined = parityEndpoint
  ? (process.env.REELAY_PARITY_IMPLEMENTATION ?? 'unknown')
  : undefined;

/**
 * How much longer a test may wait for the pipeline: 3 under the parity run,
 * whose Python emulator answers several times slower than the embedded one.
 */
export const timeScale = parityEndpoint ? 3 : 1;

export async function startTestEmulator(dataDir: string): Promise<RunningEmulator> {
  if (!parityEndpoint) return startEmulator({ port: 0, dataDir });
  const port = Number(new URL(parityEndpoint).port);
  return { endpoint: parityEndpoint, port, stop: async () => undefined };
}

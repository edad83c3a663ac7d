/**
 * The embedded emulator in a process of its own, for benchmarks that must not
 * share an event loop (or a heap) with it. Forked by bench/lib/emulator.ts:
 * argv[2] is the data dir; the endpoint goes back over IPC. Stops on SIGTERM
 * or when the parent goes away (the IPC channel closes).
 */
import { startEmulator } from '../../infra/emulator.ts';

const dataDir = process.argv[2];
if (!dataDir || !process.send) {
  process.stderr.write('usage: fork(emulator-process.ts, [dataDir]) with an IPC channel\n');
  process.exit(2);
}

const emulator = await startEmulator({ port: 0, dataDir });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  emulator.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
process.send({ endpoint: emulator.endpoint });

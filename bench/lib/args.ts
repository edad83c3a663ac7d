import { parseArgs } from 'node:util';

export const BENCH_NAMES = [
  'e2e',
  'variants',
  'quality',
  'transcode',
  'ingest',
  'dispatch',
  'priority',
  'scaling',
  'events',
  'live',
  'ttw',
] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

export interface BenchArgs {
  quick: boolean;
  /** The benchmarks to run (in the bench's own order, whatever the order given); undefined runs them all. */
  only: BenchName[] | undefined;
  /** Time to watch also for a 20-minute source (about 15 minutes more). */
  long: boolean;
}

export const USAGE = `usage: npm run bench [-- [--quick] [--long] [--only ${BENCH_NAMES.join('|')}[,…]]]
  --quick   reduced run (8 s clip, 256 MiB upload, fewer jobs), under about two minutes
  --only    run only these benchmarks (comma-separated)
  --long    time to watch (ttw) also for a 20-minute source`;

export function parseBenchArgs(argv: string[]): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        long: { type: 'boolean', default: false },
        only: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (values.only === undefined) return { quick: values.quick, long: values.long, only: undefined };
  const names = values.only.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(BENCH_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`--only takes ${BENCH_NAMES.join(', ')} (comma-separated), not ${JSON.stringify(values.only)}\n${USAGE}`);
  }
  return { quick: values.quick, long: values.long, only: [...new Set(names as BenchName[])] };
}

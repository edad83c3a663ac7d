import { parseArgs } from 'node:util';

export type BenchName = 'transcode' | 'ingest';

export interface BenchArgs {
  quick: boolean;
  only: BenchName | undefined;
}

export const USAGE = `usage: npm run bench [-- [--quick] [--only transcode|ingest]]
  --quick   reduced run (8 s clip, 256 MiB upload), under about two minutes
  --only    run one of the two benchmarks`;

export function parseBenchArgs(argv: string[]): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, help: { type: 'boolean', default: false } },
      strict: true,
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (values.only !== undefined && values.only !== 'transcode' && values.only !== 'ingest') {
    throw new Error(`--only must be transcode or ingest, not ${JSON.stringify(values.only)}\n${USAGE}`);
  }
  return { quick: values.quick, only: values.only };
}

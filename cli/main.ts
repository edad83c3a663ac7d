import { createWriteStream, readFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import cliProgress from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ApiClient, CliError, type ReelayEventView, type VideoView } from './client.ts';
import { describeOutcome, describeVideo } from './describe.ts';
import { BarsDisplay, formatBytes, LinesDisplay, SilentDisplay, type Display } from './display.ts';
import { uploadFiles } from './upload.ts';

/**
 * `reelay`: the command-line client of the reelay HTTP API (commander for the
 * arguments, cli-progress for the bars). Exit codes: 0 done (every video
 * ready), 1 failed (the reason is printed), 2 used wrongly.
 */
interface GlobalOptions {
  api: string;
  key?: string;
  json?: boolean;
}

const OUTPUTS = ['360p', '720p', 'thumbnail'];
const tty = Boolean(process.stdout.isTTY) && Boolean(process.stderr.isTTY);

const program = new Command('reelay')
  .description('Upload videos to reelay, follow their transcoding, and fetch the results.')
  .addOption(new Option('--api <url>', 'the reelay API').env('REELAY_API_URL').default('http://localhost:3000'))
  .addOption(new Option('--key <key>', 'API key (sent as a Bearer token)').env('REELAY_API_KEY'))
  .option('--json', 'print JSON for scripts instead of text')
  .version((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version)
  .showHelpAfterError()
  .exitOverride();

function client(): { api: ApiClient; opts: GlobalOptions } {
  const opts = program.opts<GlobalOptions>();
  return { api: new ApiClient(opts.api, opts.key), opts };
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function parsePriority(value: string): string {
  if (!['high', 'normal', 'low'].includes(value)) throw new InvalidArgumentError('must be high, normal or low');
  return value;
}

program
  .command('upload')
  .description('upload one or more files (in parallel); --wait follows each to ready or failed')
  .argument('<files...>', 'video files')
  .option('-p, --priority <tier>', 'high, normal or low (default: the server decides)', parsePriority)
  .option('-t, --title <title>', 'title (default: the file name)')
  .option('-w, --wait', 'wait for each video to be ready or failed, showing the transcode progress')
  .action(async (files: string[], options: { priority?: string; title?: string; wait?: boolean }) => {
    const { api, opts } = client();
    if (options.title && files.length > 1) throw new CliError('--title names one video: upload one file at a time with it', 2);
    const display: Display = opts.json ? new SilentDisplay() : tty ? new BarsDisplay(files) : new LinesDisplay();
    const results = await uploadFiles(api, files, { ...options, wait: Boolean(options.wait) }, display);
    if (opts.json) printJson(results.map((r) => ({ file: r.file, ...r.video })));
    else if (!options.wait)
      for (const r of results) process.stdout.write(`${r.file}: ${r.video.id} ${r.video.status} (${r.video.priority})\n`);
    if (results.some((r) => r.video.status === 'failed')) process.exitCode = 1;
  });

program
  .command('status')
  .description("show one video's status and outputs")
  .argument('<id>', 'video id')
  .action(async (id: string) => {
    const { api, opts } = client();
    const video = await api.json<VideoView>(`/v1/videos/${encodeURIComponent(id)}`);
    if (opts.json) printJson(video);
    else process.stdout.write(`${describeVideo(video, api)}\n`);
    if (video.status === 'failed') process.exitCode = 1;
  });

program
  .command('list')
  .description('list videos, newest first')
  .option(
    '-n, --limit <n>',
    'how many (1-100)',
    (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('must be a whole number from 1 to 100');
      return n;
    },
    20,
  )
  .action(async (options: { limit: number }) => {
    const { api, opts } = client();
    const page = await api.json<{ items: VideoView[]; nextCursor?: string }>(`/v1/videos?limit=${options.limit}`);
    if (opts.json) return printJson(page);
    if (page.items.length === 0) return void process.stdout.write('no videos yet\n');
    for (const v of page.items) {
      const status = v.status === 'processing' && v.progress !== undefined ? `processing ${Math.floor(v.progress)}%` : v.status;
      process.stdout.write(`${v.id}  ${status.padEnd(15)} ${v.priority.padEnd(6)}  ${v.createdAt}  ${v.title ?? ''}\n`);
    }
  });

program
  .command('watch')
  .description('print events as the server pushes them; with an id, until that video is ready or failed')
  .argument('[id]', 'video id')
  .action(async (id: string | undefined) => {
    const { api, opts } = client();
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    let finish: (code: number) => void = () => undefined;
    const done = new Promise<number>((resolve) => (finish = resolve));
    abort.signal.addEventListener('abort', () => finish(0));
    const print = (event: ReelayEventView) => {
      if (opts.json) process.stdout.write(`${JSON.stringify(event)}\n`);
      else process.stdout.write(`${event.time.slice(11, 19)}  ${event.type.padEnd(16)} ${event.subject}${eventDetail(event)}\n`);
      if (id && (event.type === 'video.ready' || event.type === 'video.failed')) finish(event.type === 'video.ready' ? 0 : 1);
    };
    await api.events(id ? { videoId: id } : {}, print, abort.signal);
    if (id) {
      // Already finished before we listened: say so instead of waiting for ever.
      const video = await api.json<VideoView>(`/v1/videos/${encodeURIComponent(id)}`);
      if (video.status === 'ready' || video.status === 'failed') {
        if (!opts.json) process.stdout.write(`${describeOutcome(id, video, api)}\n`);
        else printJson(video);
        finish(video.status === 'ready' ? 0 : 1);
      }
    } else if (!opts.json) process.stderr.write(`watching ${api.baseUrl}/v1/events (Ctrl-C to stop)\n`);
    process.exitCode = await done;
    abort.abort();
  });

function eventDetail(event: ReelayEventView): string {
  const d = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'video.queued':
      return `  ${String(d.priority)}${d.title ? ` "${String(d.title)}"` : ''} ${formatBytes(Number(d.sourceBytes ?? 0))}`;
    case 'video.processing':
      return `  attempt ${String(d.attempt)}`;
    case 'video.progress':
      return `  ${String(d.percent)}%`;
    case 'video.playable':
      return `  ${String((d.hls as { url?: string } | undefined)?.url ?? '')}`;
    case 'video.ready':
      return `  ${Object.keys((d.outputs as object) ?? {}).join(', ')}`;
    case 'video.failed':
      return `  ${String(d.code)}: ${String(d.reason)}`;
    default:
      return d.sessionId ? `  session ${String(d.sessionId)}` : '';
  }
}

program
  .command('download')
  .description('download an output: 360p, 720p (default) or thumbnail')
  .argument('<id>', 'video id')
  .argument('[output]', '360p, 720p or thumbnail', '720p')
  .option('-o, --output <file>', 'where to write it (default: <id>-<output>.mp4 or .jpg)')
  .action(async (id: string, output: string, options: { output?: string }) => {
    const { api, opts } = client();
    if (!OUTPUTS.includes(output)) throw new CliError(`output must be one of ${OUTPUTS.join(', ')}, not ${JSON.stringify(output)}`, 2);
    // The API answers with a redirect to a short-lived S3 URL (or streams it): follow it without the API key.
    let res = await api.fetch(`/v1/videos/${encodeURIComponent(id)}/outputs/${output}`, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      res = await fetch(new URL(location, api.baseUrl));
      if (!res.ok) throw new CliError(`downloading ${output} failed: the storage answered ${res.status}`);
    }
    const file = options.output ?? `${id}-${output}${output === 'thumbnail' ? '.jpg' : '.mp4'}`;
    const total = Number(res.headers.get('content-length') ?? 0);
    const bar =
      tty && !opts.json && total > 0
        ? new cliProgress.SingleBar(
            {
              stream: process.stderr,
              format: `${file} {bar} {percentage}% {value_h}/{total_h}`,
              formatValue: (v, _o, type) => (type === 'value' || type === 'total' ? formatBytes(v) : String(v)),
            },
            cliProgress.Presets.shades_grey,
          )
        : undefined;
    bar?.start(total, 0);
    let received = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        bar?.update(received);
        done(null, chunk);
      },
    });
    const partial = `${file}.part`;
    try {
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), count, createWriteStream(partial));
      await rename(partial, file);
    } catch (err) {
      await rm(partial, { force: true });
      throw new CliError(`downloading ${output} failed: ${(err as Error).message}`);
    } finally {
      bar?.stop();
    }
    if (opts.json) printJson({ id, output, file, bytes: received });
    else process.stdout.write(`${file}: ${formatBytes(received)}\n`);
  });

const channels = program.command('channels').description('start or stop a live channel');
for (const [verb, method, past] of [
  ['start', 'POST', 'live'],
  ['stop', 'DELETE', 'offline'],
] as const) {
  channels
    .command(verb)
    .description(`${verb} channel ID (publishes live.${verb === 'start' ? 'started' : 'ended'})`)
    .argument('<id>', 'channel id')
    .action(async (id: string) => {
      const { api, opts } = client();
      const body = await api.json<Record<string, unknown>>(`/v1/channels/${encodeURIComponent(id)}/live`, { method });
      if (opts.json) printJson(body);
      else
        process.stdout.write(
          `channel ${id}: ${past}${body.session ? ` (session ${String((body.session as { sessionId?: string }).sessionId)})` : ''}\n`,
        );
    });
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version are not errors; every other parse failure is a usage error (commander printed it).
    process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof CliError) {
    process.stderr.write(`reelay: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`reelay: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}

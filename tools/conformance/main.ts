import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../core/logger.ts';
import { locateFfmpeg } from '../../core/ffmpeg/locate.ts';
import { checkRendition, checkThumbnail, type SourceFacts } from './checks.ts';
import { startEmbeddedStack } from './embedded-stack.ts';
import { writeGeneratedCorpus } from './generated.ts';
import { expectedOutcomes, readManifest } from './manifest.ts';
import { formatTable, type Row } from './report.ts';

/**
 * `npm run conformance -- DIR [--generated] [--api URL] [--key KEY] [--json FILE] [--timeout SECONDS]`
 *
 * "Will my files work?": uploads every file of DIR through the real pipeline (an embedded
 * stack in this process, or a running one with --api), waits for each to end, checks every
 * output of a ready video like a strict client would, prints a table and writes JSON. With a
 * `manifest.tsv` (filename + expected columns) in DIR, an outcome other than the expected one,
 * a failed check, or a failure that took more than one attempt exits 1. `--generated` adds the
 * files of generated.ts (made with ffmpeg's test sources: what the corpus lacks) to DIR's.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    api: { type: 'string' },
    key: { type: 'string', default: process.env.REELAY_API_KEY },
    json: { type: 'string', default: '.reelay/conformance.json' },
    timeout: { type: 'string', default: '900' },
    'skip-missing': { type: 'boolean', default: false },
    generated: { type: 'boolean', default: false },
  },
});
const dir = positionals[0];
if (!dir) {
  process.stderr.write(
    'usage: npm run conformance -- DIR [--generated] [--api URL] [--key KEY] [--json FILE] [--timeout SECONDS] [--skip-missing]\n',
  );
  process.exit(2);
}
if (!existsSync(dir)) {
  if (values['skip-missing']) {
    process.stdout.write(`conformance: ${dir} does not exist; skipped (the shared corpus is not on this machine)\n`);
    process.exit(0);
  }
  process.stderr.write(`conformance: ${dir} does not exist\n`);
  process.exit(2);
}

// The worker's own log lines (failures included) would drown the table: LOG_LEVEL=info shows them.
const logger = createLogger('conformance', { level: process.env.LOG_LEVEL ?? 'fatal' });
const stack = values.api ? undefined : await startEmbeddedStack(logger);
const baseUrl = values.api ?? stack!.baseUrl;
const binaries =
  stack?.binaries ??
  locateFfmpeg({ ffmpegPath: process.env.FFMPEG_PATH, ffprobePath: process.env.FFPROBE_PATH, searchPath: process.env.PATH });
const headers: Record<string, string> = values.key ? { authorization: `Bearer ${values.key}` } : {};
const work = await mkdtemp(path.join(tmpdir(), 'reelay-conformance-out-'));
const dirs = [dir];
if (values.generated) {
  const generated = path.join(work, 'generated');
  await mkdir(generated);
  process.stdout.write('conformance: generating the files the corpus lacks (generated.ts)\n');
  await writeGeneratedCorpus(binaries.ffmpeg.path, generated);
  dirs.push(generated);
}
const manifest = new Map<string, string>();
const files: { dir: string; file: string }[] = [];
for (const d of dirs) {
  for (const [file, expected] of await readManifest(d)) manifest.set(file, expected);
  for (const file of (await readdir(d)).sort())
    if (!file.startsWith('.') && !['manifest.tsv', 'README.md'].includes(file) && !/\.(png|md|tsv|json)$/i.test(file))
      files.push({ dir: d, file });
}
// Ctrl-C: stop the embedded worker (and its ffmpeg) and the emulator before leaving.
process.once('SIGINT', () => {
  process.stderr.write('conformance: interrupted; stopping\n');
  void Promise.resolve(stack?.stop()).finally(() => rm(work, { recursive: true, force: true }).finally(() => process.exit(130)));
});
const deadline = Date.now() + Number(values.timeout) * 1000;

try {
  process.stdout.write(
    `conformance: ${files.length} files from ${dirs.join(' and ')} through ${values.api ? baseUrl : 'an embedded stack'}\n`,
  );
  const uploads: { file: string; id?: string; error?: string; started: number }[] = [];
  for (const { dir: from, file } of files) {
    const started = Date.now();
    const full = path.join(from, file);
    if (!(await stat(full)).isFile()) continue;
    const res = await fetch(`${baseUrl}/v1/videos?priority=normal&title=${encodeURIComponent(file)}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/octet-stream', 'x-filename': file },
      body: await readFile(full),
    });
    const body = (await res.json().catch(() => ({}))) as { id?: string; detail?: string; title?: string };
    uploads.push(
      res.status === 202 && body.id
        ? { file, id: body.id, started }
        : { file, error: `HTTP ${res.status}: ${body.detail ?? body.title ?? ''}`, started },
    );
  }

  const rows: Row[] = [];
  for (const upload of uploads) {
    const expected = expectedOutcomes(manifest.get(upload.file));
    if (!upload.id) {
      rows.push({ file: upload.file, outcome: 'rejected', detail: upload.error ?? '', seconds: 0, expected, problems: ['upload refused'] });
      continue;
    }
    const video = await waitForEnd(upload.id);
    const seconds =
      video.startedAt && video.finishedAt
        ? (Date.parse(video.finishedAt) - Date.parse(video.startedAt)) / 1000
        : (Date.now() - upload.started) / 1000;
    const row: Row = {
      file: upload.file,
      id: upload.id,
      outcome: video.status,
      detail: '',
      seconds,
      attempts: video.attempts,
      expected,
      problems: [],
    };
    if (video.status === 'ready') {
      row.outputs = video.outputs;
      row.notes = video.notes;
      row.detail = Object.entries(video.outputs as Record<string, { width: number; height: number }>)
        .map(([name, o]) => `${name} ${o.width}x${o.height}`)
        .join(', ');
      row.problems.push(...(await checkOutputs(upload.id, video.outputs, video.source)));
    } else if (video.status === 'failed') {
      row.code = video.error?.code;
      row.detail = `${video.error?.code}: ${video.error?.message}`;
      if (video.attempts !== 1) row.problems.push(`failed after ${video.attempts} attempts`);
      if (/ @ 0x|Lavf|Conversion failed|ffmpeg|ffprobe/.test(video.error?.message ?? '')) row.problems.push('the reason quotes ffmpeg');
    } else {
      row.problems.push(`still ${video.status}`);
    }
    if (expected && !expected.includes(row.outcome)) row.problems.push(`expected ${expected.join(' or ')}`);
    rows.push(row);
    process.stdout.write(
      `  ${row.problems.length ? 'FAIL' : 'ok  '} ${row.file}: ${row.outcome}${row.problems.length ? ` (${row.problems.join('; ')})` : ''}\n`,
    );
  }

  process.stdout.write(`\n${formatTable(rows)}\n`);
  await mkdir(path.dirname(values.json!), { recursive: true });
  await writeFile(
    values.json!,
    `${JSON.stringify({ dir, api: values.api ?? 'embedded', finishedAt: new Date().toISOString(), rows }, null, 2)}\n`,
  );
  process.stdout.write(`conformance: JSON written to ${values.json}\n`);
  process.exitCode = rows.some((r) => r.problems.length > 0) ? 1 : 0;
} finally {
  await rm(work, { recursive: true, force: true });
  await stack?.stop();
}

async function waitForEnd(id: string): Promise<Record<string, any>> {
  for (;;) {
    const res = await fetch(`${baseUrl}/v1/videos/${id}`, { headers });
    const body = (await res.json()) as Record<string, any>;
    if (body.status === 'ready' || body.status === 'failed' || Date.now() > deadline) return body;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The 360p rendition, downloaded for the thumbnail check of a video whose thumbnail is flat. */
async function smallestRendition(id: string, outputs: Record<string, { contentType: string }>): Promise<string | undefined> {
  if (!outputs['360p']) return undefined;
  const res = await fetch(`${baseUrl}/v1/videos/${id}/outputs/360p`, { headers });
  if (res.status !== 200) return undefined;
  const file = path.join(work, `${id}-360p-ref.mp4`);
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

async function checkOutputs(id: string, outputs: Record<string, { contentType: string }>, source: SourceFacts): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, output] of Object.entries(outputs)) {
    const res = await fetch(`${baseUrl}/v1/videos/${id}/outputs/${name}`, { headers });
    if (res.status !== 200) {
      problems.push(`${name}: HTTP ${res.status}`);
      continue;
    }
    const file = path.join(work, `${id}-${name}${output.contentType === 'image/jpeg' ? '.jpg' : '.mp4'}`);
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const found =
      name === 'thumbnail'
        ? await checkThumbnail(binaries.ffmpeg.path, binaries.ffprobe.path, file, await smallestRendition(id, outputs))
        : output.contentType === 'video/mp4'
          ? await checkRendition(binaries.ffprobe.path, file, name, source)
          : [];
    problems.push(...found.map((p) => `${name}: ${p}`));
    await rm(file, { force: true });
  }
  return problems;
}

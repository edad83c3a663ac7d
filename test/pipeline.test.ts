import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ffprobe, isFastStart, meanLuma } from './support/media.ts';
import { typesInPublishOrder } from './support/event-order.ts';
import { startTestStack, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { postVideo } from './support/upload.ts';
import { PRIVATE_OUTPUT_CACHE_CONTROL } from '../core/cache-control.ts';

/**
 * The whole pipeline against the real emulator and real ffmpeg: HTTP upload →
 * S3 → tier queue → worker (one ffmpeg pass) → S3 → SNS → notifier queue.
 * Every output is checked with ffprobe, as a client would see it.
 */
const samples = path.resolve(import.meta.dirname, '../samples');

interface Sample {
  file: string;
  contentType: string;
  renditions: Record<string, [number, number]>;
  thumbnail: [number, number];
  audio: boolean;
  duration: number;
  skipped: string[];
}

const SAMPLES: Sample[] = [
  {
    file: 'landscape-720p-audio.mp4',
    contentType: 'video/mp4',
    renditions: { '360p': [640, 360], '720p': [1280, 720] },
    thumbnail: [640, 360],
    audio: true,
    duration: 4,
    skipped: [],
  },
  {
    file: 'portrait-rotated-silent.mp4',
    contentType: 'video/mp4',
    renditions: { '360p': [360, 640], '720p': [720, 1280] },
    thumbnail: [360, 640],
    audio: false,
    duration: 3,
    skipped: [],
  },
  {
    file: 'small-480p.mkv',
    contentType: 'video/x-matroska',
    renditions: { '360p': [640, 360] },
    thumbnail: [640, 360],
    audio: true,
    duration: 3,
    skipped: ['720p'],
  },
];

let stack: TestStack;
let downloads: string;

beforeAll(async () => {
  stack = await startTestStack();
  downloads = await mkdtemp(path.join(tmpdir(), 'reelay-downloads-'));
});
afterAll(async () => {
  await stack?.stop();
  if (downloads) await rm(downloads, { recursive: true, force: true });
});

/** Multipart: the title comes after the file part. Raw: both in the query. */
function uploadSample(sample: Sample, mode: 'multipart' | 'raw', priority: string): Promise<Response> {
  const title = `${sample.file} (${mode})`;
  return postVideo(stack.baseUrl, path.join(samples, sample.file), {
    contentType: sample.contentType,
    ...(mode === 'multipart'
      ? { params: { priority }, multipart: { filename: sample.file, fieldsAfterFile: { title } } }
      : { params: { priority, title } }),
  });
}

async function download(id: string, name: string, ext: string): Promise<string> {
  const res = await fetch(`${stack.baseUrl}/v1/videos/${id}/outputs/${name}`);
  expect(res.status).toBe(200);
  // Outputs are access-controlled: no shared cache may keep them past their link's expiry.
  expect(res.headers.get('cache-control')).toBe(PRIVATE_OUTPUT_CACHE_CONTROL);
  const file = path.join(downloads, `${id}-${name}${ext}`);
  await writeFile(file, Buffer.from(await res.arrayBuffer()));
  return file;
}

describe.concurrent('pipeline end to end', () => {
  for (const sample of SAMPLES) {
    for (const [mode, priority] of [
      ['multipart', 'high'],
      ['raw', 'low'],
    ] as const) {
      it(`${sample.file} uploaded as ${mode} becomes ready with every output checked by ffprobe`, async () => {
        const res = await uploadSample(sample, mode, priority);
        expect(res.status).toBe(202);
        const accepted = (await res.json()) as { id: string; status: string; priority: string; title: string };
        expect(accepted).toMatchObject({ status: 'queued', priority, title: `${sample.file} (${mode})` });
        expect(res.headers.get('location')).toBe(`/v1/videos/${accepted.id}`);

        const video = await waitForFinalStatus(stack.baseUrl, accepted.id);
        expect(video.error).toBeUndefined();
        expect(video.status).toBe('ready');
        expect(video.attempts).toBe(1);
        expect(Object.keys(video.outputs).sort()).toEqual([...Object.keys(sample.renditions), 'thumbnail'].sort());
        expect(video.skipped.map((s: { name: string }) => s.name)).toEqual(sample.skipped);
        expect(video.source).toMatchObject({ hasAudio: sample.audio });
        expect(video.source.duration).toBeCloseTo(sample.duration, 0);

        for (const [name, [width, height]] of Object.entries(sample.renditions)) {
          const file = await download(accepted.id, name, '.mp4');
          const probed = await ffprobe(stack.binaries.ffprobe.path, file);
          const v = probed.streams.find((s) => s.codec_type === 'video');
          const a = probed.streams.find((s) => s.codec_type === 'audio');
          expect(probed.format).toContain('mp4');
          expect(v).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width, height });
          // Rotation is applied to the pixels; the output must not be tagged as rotated again.
          expect(JSON.stringify(v?.side_data_list ?? [])).not.toMatch(/rotation"?:\s*-?(90|270)/);
          if (sample.audio) expect(a?.codec_name).toBe('aac');
          else expect(a).toBeUndefined();
          expect(probed.duration).toBeGreaterThan(sample.duration - 0.3);
          expect(probed.duration).toBeLessThan(sample.duration + 0.3);
          expect(isFastStart(await readFile(file))).toBe(true);
          expect(video.outputs[name]).toMatchObject({ width, height, contentType: 'video/mp4' });
        }

        const thumb = await download(accepted.id, 'thumbnail', '.jpg');
        const probedThumb = await ffprobe(stack.binaries.ffprobe.path, thumb);
        expect(probedThumb.streams[0]).toMatchObject({ codec_name: 'mjpeg', width: sample.thumbnail[0], height: sample.thumbnail[1] });
        // Not a black frame (the landscape sample fades in from black).
        expect(await meanLuma(stack.binaries.ffmpeg.path, thumb)).toBeGreaterThan(40);

        const types = await waitFor('video.ready to reach the notifier', () => {
          const seen = stack.notifier.recent.filter((e) => e.subject === accepted.id);
          return seen.some((e) => e.type === 'video.ready') ? typesInPublishOrder(seen) : undefined;
        });
        // video.playable: the first HLS segments of every rendition were stored while ffmpeg still ran (#21).
        expect(types).toEqual(['video.queued', 'video.processing', 'video.playable', 'video.ready']);
        const ready = stack.notifier.recent.find((e) => e.subject === accepted.id && e.type === 'video.ready')!;
        expect(ready.id).toBe(`video.ready:${accepted.id}`);
        expect(Object.keys((ready.data as { outputs: object }).outputs).sort()).toEqual(Object.keys(video.outputs).sort());
      });
    }
  }

  it('a text file named .mp4 ends failed with a readable reason, a video.failed event and a DLQ entry', async () => {
    const form = new FormData();
    form.set('file', new Blob(['this is not a video, just some text\n'.repeat(20)], { type: 'video/mp4' }), 'notes.mp4');
    const res = await fetch(`${stack.baseUrl}/v1/videos?priority=normal`, { method: 'POST', body: form });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    const video = await waitForFinalStatus(stack.baseUrl, id);
    expect(video.status).toBe('failed');
    expect(video.error.code).toBe('unreadable_input');
    expect(video.error.message).toMatch(/could not be read as a video: it is damaged or not a media file/);
    expect(video.attempts).toBe(1);

    const failed = await waitFor('video.failed to reach the notifier', () =>
      stack.notifier.recent.find((e) => e.subject === id && e.type === 'video.failed'),
    );
    expect(failed.data).toMatchObject({ videoId: id, code: 'unreadable_input', priority: 'normal' });

    // The job reaches the DLQ just after the event is out.
    const entry = await waitFor('the DLQ entry', async () => {
      const dlq = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.resources.tierDlqUrl.normal,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          VisibilityTimeout: 1,
        }),
      );
      return dlq.Messages?.find((m) => JSON.parse(m.Body ?? '{}').videoId === id);
    });
    expect(entry.MessageAttributes?.code?.StringValue).toBe('unreadable_input');

    const output = await fetch(`${stack.baseUrl}/v1/videos/${id}/outputs/720p`);
    expect(output.status).toBe(404);
    expect(((await output.json()) as { detail: string }).detail).toMatch(/failed \(unreadable_input\)/);
  });
});

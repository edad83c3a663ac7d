import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TranscodeWorker } from '../workers/transcode/worker.ts';
import { probeMedia } from '../workers/transcode/ffmpeg/probe/index.ts';
import { startTestStack, startTestWorker, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * What an operator reaches for, against the real emulator, worker and ffmpeg:
 * the status document without internals, seeking in streamed outputs, and
 * one rotation convention.
 */
const run = promisify(execFile);
const samples = path.resolve(import.meta.dirname, '../samples');
let stack: TestStack;
let dir: string;

beforeAll(async () => {
  stack = await startTestStack({ env: { REELAY_OUTPUT_DELIVERY: 'stream' } });
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-manage-'));
});
let replacement: TranscodeWorker | undefined;
afterAll(async () => {
  await replacement?.stop({ graceMs: 5000 });
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the status document', () => {
  it('does not expose the workers’ bookkeeping (`announced`)', async () => {
    const id = await upload(stack.baseUrl, path.join(samples, 'landscape-720p-audio.mp4'), { params: { priority: 'high' } });
    const video = await waitForFinalStatus(stack.baseUrl, id);
    expect(video.status).toBe('ready');
    // The document holds it (true once video.ready went out); the API does not show it.
    await waitFor('video.ready to be announced', async () => (await stack.store.get(id))?.announced || undefined);
    expect(video).not.toHaveProperty('announced');
    expect(await (await fetch(`${stack.baseUrl}/v1/videos/${id}`)).json()).not.toHaveProperty('announced');
    const list = (await (await fetch(`${stack.baseUrl}/v1/videos?limit=5`)).json()) as { items: object[] };
    for (const item of list.items) expect(item).not.toHaveProperty('announced');
  });

  it('rotation is the clockwise turn a player gives the stored frames, as ffmpeg itself displays them', async () => {
    // A white block in the top-left corner of 160x90 frames, then a display rotation written as MP4's rotate tag.
    const still = path.join(dir, 'block.mp4');
    const rotated = path.join(dir, 'block-rotated.mp4');
    await run(stack.binaries.ffmpeg.path, [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=black:size=160x90:duration=1,drawbox=x=0:y=0:w=40:h=30:color=white:t=fill',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      still,
    ]);
    await run(stack.binaries.ffmpeg.path, ['-v', 'error', '-i', still, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated]);
    const { video } = await probeMedia(rotated, { ffprobePath: stack.binaries.ffprobe.path });
    // Where ffmpeg (autorotate, as the worker and players display it) puts the block: one corner of the 90x160 frame.
    const { stdout } = await run(
      stack.binaries.ffmpeg.path,
      ['-v', 'error', '-i', rotated, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
      {
        encoding: 'buffer',
      },
    );
    const [w, h] = [90, 160];
    const corner = (
      [
        ['top-left', 5, 5],
        ['top-right', w - 5, 5],
        ['bottom-right', w - 5, h - 5],
        ['bottom-left', 5, h - 5],
      ] as const
    ).find(([, x, y]) => stdout[y * w + x]! > 128)?.[0];
    // Turning a frame clockwise moves its top-left corner to: 90 → top-right, 180 → bottom-right, 270 → bottom-left.
    const clockwise = { 'top-right': 90, 'bottom-right': 180, 'bottom-left': 270 } as Record<string, number>;
    expect(corner).toBeDefined();
    expect(video.rotation).toBe(clockwise[corner!]);
    // The portrait sample reads the same way through the API.
    const id = await upload(stack.baseUrl, path.join(samples, 'portrait-rotated-silent.mp4'));
    const portrait = await waitForFinalStatus(stack.baseUrl, id);
    expect(portrait.source.rotation).toBe(
      (await probeMedia(path.join(samples, 'portrait-rotated-silent.mp4'), { ffprobePath: stack.binaries.ffprobe.path })).video.rotation,
    );
    expect([portrait.outputs['720p'].width, portrait.outputs['720p'].height]).toEqual([720, 1280]);
  });
});

describe('REELAY_OUTPUT_DELIVERY=stream', () => {
  it('answers Range with 206 and Content-Range, so a player can seek; past the end is 416', async () => {
    const id = await upload(stack.baseUrl, path.join(samples, 'landscape-720p-audio.mp4'));
    const video = await waitForFinalStatus(stack.baseUrl, id);
    const url = `${stack.baseUrl}/v1/videos/${id}/outputs/720p`;
    const size = video.outputs['720p'].bytes as number;
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect(bytes.length).toBe(size);

    const part = await fetch(url, { headers: { range: 'bytes=100-1123' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-1123/${size}`);
    expect(part.headers.get('content-length')).toBe('1024');
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 1124))).toBe(true);

    const tail = await fetch(url, { headers: { range: 'bytes=-500' } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe(`bytes ${size - 500}-${size - 1}/${size}`);
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(size - 500))).toBe(true);

    const past = await fetch(url, { headers: { range: `bytes=${size + 10}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`);
    expect(past.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('GET /v1/videos filters', () => {
  it('status, priority, channelId, createdAfter/createdBefore, carried through pagination; a bad one is 400', async () => {
    const list = async (query: string) => {
      const res = await fetch(`${stack.baseUrl}/v1/videos?${query}`);
      expect(res.status).toBe(200);
      return (await res.json()) as {
        items: Array<{ id: string; status: string; priority: string; channelId?: string; createdAt: string }>;
        next?: string;
      };
    };
    const garbage = path.join(dir, 'garbage.mp4');
    await (await import('node:fs/promises')).writeFile(garbage, Buffer.alloc(4096, 7));
    const failed = await upload(stack.baseUrl, garbage, { params: { priority: 'low' } });
    expect((await fetch(`${stack.baseUrl}/v1/channels/show-1/live`, { method: 'POST' })).status).toBe(201);
    const recording = await upload(stack.baseUrl, path.join(samples, 'landscape-720p-audio.mp4'), { params: { channelId: 'show-1' } });
    const low = await upload(stack.baseUrl, path.join(samples, 'landscape-720p-audio.mp4'), { params: { priority: 'low' } });
    await Promise.all([failed, recording, low].map((id) => waitForFinalStatus(stack.baseUrl, id)));

    const failedOnes = await list('status=failed');
    expect(failedOnes.items.map((v) => v.id)).toEqual([failed]);
    const lows = await list('priority=low');
    expect(lows.items.map((v) => v.id)).toEqual([low, failed]);
    expect((await list('priority=low&status=ready')).items.map((v) => v.id)).toEqual([low]);
    expect((await list('channelId=show-1')).items.map((v) => [v.id, v.priority])).toEqual([[recording, 'high']]);

    const all = (await list('limit=100')).items;
    const created = (id: string) => all.find((v) => v.id === id)!.createdAt;
    // Exclusive bounds on createdAt.
    expect((await list(`createdAfter=${created(recording)}`)).items.map((v) => v.id)).toEqual([low]);
    expect((await list(`createdBefore=${created(recording)}&createdAfter=${created(failed)}`)).items).toEqual([]);
    expect((await list(`createdBefore=${created(recording)}&limit=100`)).items.map((v) => v.id)).toEqual(
      all.filter((v) => v.createdAt < created(recording)).map((v) => v.id),
    );

    // Page by page with a filter: the next link keeps it.
    const ready = all.filter((v) => v.status === 'ready').map((v) => v.id);
    expect(ready.length).toBeGreaterThanOrEqual(2);
    const seen: string[] = [];
    let page = await list('status=ready&limit=1');
    for (;;) {
      seen.push(...page.items.map((v) => v.id));
      if (!page.next) break;
      expect(page.next).toContain('status=ready');
      page = await list(page.next.split('?')[1]!);
    }
    expect(seen).toEqual(ready);

    for (const bad of ['status=done', 'priority=urgent', 'channelId=a%20b', 'createdAfter=yesterday', 'createdBefore=2026-13-45']) {
      const res = await fetch(`${stack.baseUrl}/v1/videos?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(new RegExp(bad.split('=')[0]!.replace('channelId', 'channel id')));
    }
  });
});

describe('DELETE /v1/videos/:id', () => {
  const objectsOf = async (bucket: string, prefix: string) =>
    ((await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key);
  const depth = async (url: string) => {
    const { Attributes = {} } = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
  };

  it('removes the upload, every output and the status document, publishes video.deleted, then 404', async () => {
    const id = await upload(stack.baseUrl, path.join(samples, 'small-480p.mkv'));
    const video = await waitForFinalStatus(stack.baseUrl, id);
    expect(video.status).toBe('ready');
    const { rawBucket, mediaBucket } = stack.resources.names;
    expect(await objectsOf(rawBucket, video.source.key)).toEqual([video.source.key]);
    expect((await objectsOf(mediaBucket, `videos/${id}/`)).length).toBeGreaterThanOrEqual(2);

    const res = await fetch(`${stack.baseUrl}/v1/videos/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await objectsOf(rawBucket, video.source.key)).toEqual([]);
    expect(await objectsOf(mediaBucket, `videos/${id}/`)).toEqual([]);
    expect(await stack.store.get(id)).toBeUndefined();
    expect((await fetch(`${stack.baseUrl}/v1/videos/${id}`)).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/v1/videos/${id}/outputs/720p`)).status).toBe(404);
    expect((await fetch(`${stack.baseUrl}/v1/videos/${id}`, { method: 'DELETE' })).status).toBe(404);
    const list = (await (await fetch(`${stack.baseUrl}/v1/videos?limit=100`)).json()) as { items: Array<{ id: string }> };
    expect(list.items.map((v) => v.id)).not.toContain(id);
    const deleted = await waitFor('video.deleted', () => stack.notifier.recent.find((e) => e.type === 'video.deleted' && e.subject === id));
    expect(deleted).toMatchObject({ id: `video.deleted:${id}`, data: { videoId: id, priority: 'normal' } });
  });

  it("leaves no byte of a tus or direct upload's bookkeeping, only a marker without user text; the token stays spent (issue #23)", async () => {
    const { rawBucket, mediaBucket } = stack.resources.names;
    const clip = await readFile(path.join(samples, 'small-480p.mkv'));
    const secret = { title: 'Secret Title 7f3a', filename: 'secret-name-7f3a.mkv' };
    const token = async () => {
      const res = await fetch(`${stack.baseUrl}/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scope: 'upload' }),
      });
      return ((await res.json()) as { token: string }).token;
    };
    const tusToken = await token();
    const tus = await fetch(`${stack.baseUrl}/v1/tus/`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tusToken}`,
        'tus-resumable': '1.0.0',
        'upload-length': String(clip.length),
        'upload-metadata': Object.entries({ filetype: 'video/x-matroska', ...secret })
          .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
          .join(','),
        'content-type': 'application/offset+octet-stream',
      },
      body: new Uint8Array(clip),
    });
    expect(tus.status).toBe(201);
    const tusId = tus.headers.get('location')!.split('/').pop()!;
    const directToken = await token();
    const started = await fetch(`${stack.baseUrl}/v1/uploads?token=${directToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...secret, size: clip.length, contentType: 'video/x-matroska' }),
    });
    expect(started.status).toBe(201);
    const { id: directId, parts } = (await started.json()) as { id: string; parts: { url: string }[] };
    const put = await fetch(parts[0]!.url, { method: 'PUT', body: new Uint8Array(clip) });
    expect(put.status).toBe(200);
    const done = await fetch(`${stack.baseUrl}/v1/uploads/${directId}/complete?token=${directToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ parts: [{ partNumber: 1, etag: put.headers.get('etag') }] }),
    });
    expect(done.status).toBe(202);
    expect(await objectsOf(rawBucket, `tus/${tusId}.`)).not.toEqual([]);
    expect(await objectsOf(mediaBucket, `direct-uploads/${directId}`)).not.toEqual([]);

    // A video being processed cannot be deleted (409): wait until both are done.
    for (const id of [tusId, directId]) expect((await waitForFinalStatus(stack.baseUrl, id)).status).toBe('ready');
    for (const id of [tusId, directId]) expect((await fetch(`${stack.baseUrl}/v1/videos/${id}`, { method: 'DELETE' })).status).toBe(204);

    // Every object of both buckets: the ids name only the deletion markers, and no object holds the title or file name.
    const everything = async (bucket: string) => {
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return keys;
    };
    for (const bucket of [rawBucket, mediaBucket]) {
      const keys = await everything(bucket);
      for (const id of [tusId, directId]) {
        expect(keys.filter((k) => k.includes(id))).toEqual(bucket === mediaBucket ? [`deleted/${id}.json`] : []);
      }
      for (const key of keys.filter((k) => k.startsWith('token-uses/') || k.startsWith('deleted/'))) {
        const body = await (await stack.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
        for (const text of [tusId, directId, secret.title, secret.filename]) {
          if (key !== `deleted/${tusId}.json` && key !== `deleted/${directId}.json`) expect(body, key).not.toContain(text);
        }
        expect(body, key).not.toContain(secret.title);
        expect(body, key).not.toContain('secret-name');
      }
    }
    // The tokens stay spent.
    const again = await fetch(`${stack.baseUrl}/v1/videos?token=${tusToken}`, {
      method: 'POST',
      headers: { 'content-type': 'video/mp4' },
      body: new Uint8Array(clip),
    });
    expect(again.status).toBe(403);
  });

  it('a job still queued for a deleted video is dropped by the worker that meets it, not retried or dead-lettered', async () => {
    await stack.worker!.stop({ graceMs: 5000 });
    const id = await upload(stack.baseUrl, path.join(samples, 'small-480p.mkv'), { params: { priority: 'low' } });
    expect(await depth(stack.resources.tierQueueUrl.low)).toBe(1);
    expect((await fetch(`${stack.baseUrl}/v1/videos/${id}`, { method: 'DELETE' })).status).toBe(204);
    // A worker again (it stays on for the tests after this one; afterAll stops it).
    replacement = startTestWorker(stack);
    await waitFor('the job to be consumed', async () => ((await depth(stack.resources.tierQueueUrl.low)) === 0 ? true : undefined), 30_000);
    // Not dead-lettered (other tests' failed videos may sit in this DLQ: look for this one's job).
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.resources.tierDlqUrl.low,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 1,
        WaitTimeSeconds: 1,
      }),
    );
    expect(Messages.filter((m) => m.Body?.includes(id))).toEqual([]);
    expect(await stack.store.get(id)).toBeUndefined();
  });
});

describe('the original upload', () => {
  it('GET /v1/videos/:id/source gives the bytes uploaded (Range too); kept by default', async () => {
    const file = path.join(samples, 'small-480p.mkv');
    const id = await upload(stack.baseUrl, file);
    expect((await waitForFinalStatus(stack.baseUrl, id)).status).toBe('ready');
    const original = await readFile(file);
    const res = await fetch(`${stack.baseUrl}/v1/videos/${id}/source`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(original)).toBe(true);
    const part = await fetch(`${stack.baseUrl}/v1/videos/${id}/source`, { headers: { range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(original.subarray(0, 100))).toBe(true);
  });

  it('REELAY_KEEP_SOURCE=false deletes it once the outputs are ready; /source then says why', async () => {
    const other = await startTestStack({ env: { REELAY_KEEP_SOURCE: 'false', REELAY_OUTPUT_DELIVERY: 'stream' } });
    try {
      const id = await upload(other.baseUrl, path.join(samples, 'small-480p.mkv'), { contentType: 'video/x-matroska' });
      const video = await waitForFinalStatus(other.baseUrl, id);
      expect(video.status).toBe('ready');
      await waitFor('the source to be deleted', async () => ((await other.store.get(id))?.source.deleted ? true : undefined));
      const listed = await other.clients.s3.send(
        new ListObjectsV2Command({ Bucket: other.resources.names.rawBucket, Prefix: video.source.key }),
      );
      expect(listed.Contents ?? []).toEqual([]);
      const source = await fetch(`${other.baseUrl}/v1/videos/${id}/source`);
      expect(source.status).toBe(404);
      expect(((await source.json()) as { detail: string }).detail).toMatch(
        /deleted once its outputs were ready \(REELAY_KEEP_SOURCE=false\)/,
      );
      // The outputs are untouched.
      expect((await fetch(`${other.baseUrl}/v1/videos/${id}/outputs/360p`)).status).toBe(200);
    } finally {
      await other.stop();
    }
  });
});

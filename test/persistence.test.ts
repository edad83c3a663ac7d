import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ffprobe } from './support/media.ts';
import { startTestStack, uniquePrefix, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * Restarting the emulator on the same data dir keeps every video, status and
 * output (SQLite state + file-backed S3), as `npm start` promises.
 */
let stack: TestStack | undefined;
afterAll(async () => {
  await stack?.stop();
});

describe('emulator persistence', () => {
  it('a ready video, a queued video and their files survive a restart', async () => {
    const prefix = uniquePrefix('p');
    stack = await startTestStack({ prefix });
    const clip = path.resolve(import.meta.dirname, '../samples/small-480p.mkv');
    const mkv = { contentType: 'video/x-matroska', params: { priority: 'normal' } };
    const readyId = await upload(stack.baseUrl, clip, mkv);
    expect((await waitForFinalStatus(stack.baseUrl, readyId)).status).toBe('ready');
    const { dataDir } = stack;
    await stack.stop({ keepData: true });

    // Same data dir, no worker: a job queued now must still be waiting after the restart.
    stack = await startTestStack({ prefix, dataDir, withWorker: false });
    const queuedId = await upload(stack.baseUrl, clip, mkv);
    await stack.stop({ keepData: true });

    stack = await startTestStack({ prefix, dataDir, withWorker: false });
    const ready = (await (await fetch(`${stack.baseUrl}/v1/videos/${readyId}`)).json()) as { status: string; outputs: object };
    expect(ready.status).toBe('ready');
    const res = await fetch(`${stack.baseUrl}/v1/videos/${readyId}/outputs/360p`);
    expect(res.status).toBe(200);
    const file = path.join(dataDir, 'downloaded-360p.mp4');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const probed = await ffprobe(stack.binaries.ffprobe.path, file);
    expect(probed.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 640, height: 360 });

    const list = (await (await fetch(`${stack.baseUrl}/v1/videos`)).json()) as { items: { id: string; status: string }[] };
    expect(list.items.map((v) => v.id)).toEqual([queuedId, readyId]);
    expect(list.items[0]?.status).toBe('queued');
    await stack.stop({ keepData: true });

    // With a worker again, the job queued before the restart is picked up and finished.
    stack = await startTestStack({ prefix, dataDir });
    expect((await waitForFinalStatus(stack.baseUrl, queuedId)).status).toBe('ready');
  });
});

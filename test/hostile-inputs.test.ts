import { execFile } from 'node:child_process';
import { constants, openSync, closeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHostileCorpus, type HostileInput } from './support/hostile-corpus.ts';
import { startTestStack, waitFor, waitForFinalStatus, type TestStack } from './support/stack.ts';
import { upload } from './support/upload.ts';

/**
 * Hostile uploads through the real API and a real worker with real ffmpeg.
 * Each must end in a clear permanent failure: status `failed` with a code and
 * a readable reason, a `video.failed` event and a DLQ entry — never a crashed
 * worker, a hung job, or a file or URL read on the attacker's behalf.
 */
let stack: TestStack;
let dir: string;
let canaryHits = 0;
let canary: Server;
let corpus: HostileInput[];
let fifo: string;

beforeAll(async () => {
  stack = await startTestStack({ env: { REELAY_MAX_DURATION_SECONDS: '3600' } });
  dir = await mkdtemp(path.join(tmpdir(), 'reelay-hostile-'));
  fifo = path.join(dir, 'canary.fifo');
  await promisify(execFile)('mkfifo', [fifo]);
  canary = createServer((_req, res) => {
    canaryHits++;
    res.end('#EXTM3U\n');
  });
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  const canaryUrl = `http://127.0.0.1:${(canary.address() as AddressInfo).port}/segment.ts`;
  corpus = await buildHostileCorpus(dir, stack.binaries.ffmpeg.path, { canaryFifo: fifo, canaryUrl });
});
afterAll(async () => {
  await stack?.stop();
  await new Promise((resolve) => canary?.close(resolve));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('hostile uploads', () => {
  it('each ends failed with a clear reason, video.failed and a DLQ entry; nothing referenced is read', async () => {
    const ids = new Map<string, HostileInput>();
    for (const input of corpus) {
      const params = { priority: 'low', title: input.name };
      ids.set(await upload(stack.baseUrl, input.file, { contentType: 'application/octet-stream', params }), input);
    }

    const dlqVideoIds = new Set<string>();
    for (const [id, input] of ids) {
      const video = await waitForFinalStatus(stack.baseUrl, id, 30_000);
      expect({ name: input.name, status: video.status, code: video.error?.code }).toEqual({
        name: input.name,
        status: 'failed',
        code: input.code,
      });
      expect(video.error.message, input.name).toMatch(input.reason);
      expect(video.error.message.length, input.name).toBeLessThan(1200);
      expect(video.attempts, input.name).toBe(1);
      const failed = await waitFor(`video.failed for ${input.name}`, () =>
        stack.notifier.recent.find((e) => e.subject === id && e.type === 'video.failed'),
      );
      expect(failed.data).toMatchObject({ code: input.code });
      await waitFor(`the DLQ entry of ${input.name}`, async () => {
        const { Messages = [] } = await stack.clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: stack.resources.tierDlqUrl.low, MaxNumberOfMessages: 10, VisibilityTimeout: 1 }),
        );
        for (const m of Messages) dlqVideoIds.add(JSON.parse(m.Body ?? '{}').videoId);
        return dlqVideoIds.has(id) || undefined;
      });
    }

    // Nothing was fetched from the canary URL, and nobody holds the canary pipe open for reading.
    expect(canaryHits).toBe(0);
    expect(() => closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK))).toThrow(/ENXIO/);
    // The worker survived it all and still transcodes.
    const ok = await upload(stack.baseUrl, path.resolve(import.meta.dirname, '../samples/small-480p.mkv'), {
      contentType: 'video/x-matroska',
    });
    expect((await waitForFinalStatus(stack.baseUrl, ok)).status).toBe('ready');
    // 15 uploads one after the other through one worker: over a minute on a busy 2-core machine.
  }, 180_000);
});

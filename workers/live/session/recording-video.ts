import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { recordingPrefix } from '../../../core/live/live-paths.ts';
import { queueVideo, type VideoQueueDeps } from '../../../core/queue-video.ts';

export interface RecordingSession {
  tenant: string;
  channelId: string;
  sessionId: string;
  videoId: string;
  title?: string;
}

/** Keys of the session's recording parts, in recording order. */
export async function listRecordingParts(s3: S3Client, rawBucket: string, prefix: string): Promise<{ key: string; bytes: number }[]> {
  const parts: { key: string; bytes: number }[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: rawBucket, Prefix: prefix, ContinuationToken }));
    for (const o of page.Contents ?? []) if (o.Key?.endsWith('.ts')) parts.push({ key: o.Key, bytes: o.Size ?? 0 });
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return parts.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * The session's recording becomes a video like any upload: its parts (MPEG-TS, which joins by concatenation) are
 * streamed one after another into `uploads/<videoId>` in the raw bucket, the video is queued at `high` with its
 * channel and session, and the parts are removed. Idempotent: a video that exists already is left as it is (a
 * finish interrupted after queueing), so the sweep can repeat a finish that a dead process began.
 */
export async function queueRecording(deps: VideoQueueDeps, session: RecordingSession): Promise<'queued' | 'exists' | 'empty'> {
  const { s3, rawBucket, store } = deps;
  const prefix = recordingPrefix(session.tenant, session.channelId, session.sessionId);
  const removeParts = async (keys: string[]) => {
    for (let i = 0; i < keys.length; i += 1000) {
      await s3.send(
        new DeleteObjectsCommand({ Bucket: rawBucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }),
      );
    }
  };
  const parts = await listRecordingParts(s3, rawBucket, prefix);
  if (await store.get(session.videoId)) {
    await removeParts(parts.map((p) => p.key));
    return 'exists';
  }
  if (parts.length === 0) return 'empty';

  const key = `uploads/${session.videoId}`;
  const body = new PassThrough();
  const upload = new Upload({
    client: s3,
    params: {
      Bucket: rawBucket,
      Key: key,
      Body: body,
      ContentType: 'video/mp2t',
      Metadata: { 'video-id': session.videoId, 'live-session': session.sessionId },
    },
    partSize: 5 * 1024 * 1024,
    queueSize: 2,
    leavePartsOnError: false,
  });
  const done = upload.done();
  try {
    for (const part of parts) {
      const res = await s3.send(new GetObjectCommand({ Bucket: rawBucket, Key: part.key }));
      // One part after another into the one upload stream, at the pace the upload takes them.
      for await (const chunk of res.Body as AsyncIterable<Uint8Array>) {
        if (!body.write(chunk)) await once(body, 'drain');
      }
    }
    body.end();
    await done;
  } catch (err) {
    body.destroy(err as Error);
    await upload.abort().catch(() => undefined);
    await done.catch(() => undefined);
    throw err;
  }
  const bytes = parts.reduce((sum, p) => sum + p.bytes, 0);
  await queueVideo(
    deps,
    session.videoId,
    { key, bytes, contentType: 'video/mp2t', filename: `${session.channelId}-${session.sessionId}.ts` },
    {
      tenant: session.tenant,
      priority: 'high',
      channelId: session.channelId,
      sessionId: session.sessionId,
      ...(session.title ? { title: session.title } : {}),
    },
  );
  await removeParts(parts.map((p) => p.key));
  return 'queued';
}

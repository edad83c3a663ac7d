import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { JsonDocuments } from '../../core/json-documents.ts';
import type { TokenUses } from './token-uses.ts';

/**
 * What the upload doors keep about a video besides its raw object, removed when the video is deleted
 * (issue #23): the tus upload's `.info` (file name, title), `.part` and part ledger (`tus/<id>.*` in the
 * raw bucket), the direct upload's `direct-uploads/<id>.json` (file name, title) and the pointer from
 * the video to its upload token's record (the record stays, naming no video, so the token stays spent).
 */
export class UploadTraces {
  private readonly s3: S3Client;
  private readonly rawBucket: string;
  private readonly directUploads: JsonDocuments<unknown>;
  private readonly tokenUses: TokenUses;
  constructor({ s3, rawBucket, mediaBucket, tokenUses }: { s3: S3Client; rawBucket: string; mediaBucket: string; tokenUses: TokenUses }) {
    this.s3 = s3;
    this.rawBucket = rawBucket;
    this.directUploads = new JsonDocuments(s3, mediaBucket, 'direct-uploads');
    this.tokenUses = tokenUses;
  }

  async forgetVideo(videoId: string): Promise<void> {
    // `tus/<id>` itself is the source (deleted with it); `tus/<id>.info`, `.part`, `.parts/…` are the store's.
    const { Contents = [] } = await this.s3.send(new ListObjectsV2Command({ Bucket: this.rawBucket, Prefix: `tus/${videoId}.` }));
    if (Contents.length > 0)
      await this.s3.send(new DeleteObjectsCommand({ Bucket: this.rawBucket, Delete: { Objects: Contents.map((o) => ({ Key: o.Key! })) } }));
    await this.directUploads.delete(videoId);
    await this.tokenUses.forgetVideo(videoId);
  }
}

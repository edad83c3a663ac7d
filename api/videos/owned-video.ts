import { isVideoId } from '../../core/ids.ts';
import type { StatusStore } from '../../core/status-store.ts';
import type { VideoStatus } from '../../core/video-status.ts';
import { notFound } from '../middleware/problem.ts';

/** The caller's video; another tenant's is a 404 like an unknown id (its existence is not revealed). */
export async function getOwnedVideo(store: StatusStore, id: string, tenant: string): Promise<VideoStatus> {
  if (!isVideoId(id)) throw notFound(`no video with id ${JSON.stringify(id.slice(0, 50))}`);
  const doc = await store.getOwned(id, tenant);
  if (!doc) throw notFound(`no video with id ${id}`);
  return doc;
}

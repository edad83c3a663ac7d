import { cleanFilename, titleFromFilename } from '../../core/client-text.ts';
import type { PriorityTier } from '../../core/resources.ts';
import { parseChannelId } from '../live/channel-id.ts';
import type { LiveChannels } from '../../core/live/channels.ts';
import { badRequest } from '../middleware/problem.ts';
import { spentToken, type TokenUses } from './token-uses.ts';
import { outOfScope, type TokenClaims } from '../auth/tokens.ts';
import { tooLarge } from './upload-stream.ts';

/** Who is uploading: the request's tenant and, when it came with one instead of an API key, its upload token. */
export interface Uploader {
  tenant: string;
  token: TokenClaims | undefined;
}

/** What an upload asks for, as its door read it (each field's syntax already checked there). */
export interface UploadRequest {
  priority?: PriorityTier | undefined;
  title?: string | undefined;
  /** The live channel this upload is a recording of, as the client wrote it. */
  channelId?: string | undefined;
  /** The client's name of the file, as sent. */
  filename?: string | undefined;
  /** The file's size in bytes, when known (announced, or counted once stored). */
  size?: number | undefined;
}

/** What reelay decided for an admitted upload. */
export interface Admitted {
  priority: PriorityTier;
  title?: string;
  channelId?: string;
  /** The file name as reelay keeps it (cleanFilename). */
  filename?: string;
}

/**
 * The one place that decides whether an upload comes in and how: every door
 * (`POST /v1/videos`, `/v1/uploads`, `/v1/tus/`) calls it, so the rules
 * cannot drift apart.
 * - size: at most REELAY_MAX_UPLOAD_BYTES, or the upload token's `maxBytes` if smaller; never empty;
 * - a `channelId` names one of the tenant's channels that has been live (the upload is its recording);
 * - priority: the token's, if it fixes one (asking for another is a 403); else the one asked for; else
 *   `high` for a live recording and `normal` for anything else;
 * - title: the one asked for, else one made from the file name;
 * - an upload token is spent on the new video, as the last step, once everything else passed: an upload
 *   refused (empty, too large, a bad field) leaves it unspent for the retry.
 */
export class UploadAdmission {
  private readonly maxUploadBytes: number;
  private readonly tokenUses: TokenUses;
  private readonly channels: LiveChannels | undefined;
  constructor({ maxUploadBytes, tokenUses, channels }: { maxUploadBytes: number; tokenUses: TokenUses; channels?: LiveChannels }) {
    this.maxUploadBytes = maxUploadBytes;
    this.tokenUses = tokenUses;
    this.channels = channels;
  }

  /** The most bytes this uploader may send. */
  maxBytes(uploader: Uploader): number {
    return Math.min(this.maxUploadBytes, uploader.token?.maxBytes ?? Infinity);
  }

  /**
   * For a door that has to read a body before it knows everything: what can be decided already (a spent
   * token, the fields known so far), before any byte is read. Returns the size limit. Spends nothing.
   */
  async precheck(uploader: Uploader, request: UploadRequest): Promise<number> {
    if (uploader.token && (await this.tokenUses.isSpent(uploader.token))) throw spentToken();
    await this.decide(uploader, request);
    return this.maxBytes(uploader);
  }

  /** Admits the upload that becomes video `videoId` (or refuses it with a 4xx problem), spending its token. */
  async admit(uploader: Uploader, request: UploadRequest, videoId: string): Promise<Admitted> {
    const admitted = await this.decide(uploader, request);
    if (uploader.token) await this.tokenUses.spend(uploader.token, videoId);
    return admitted;
  }

  /** Whether the uploader may go on with the upload of `videoId`: a token only the upload it was spent on. */
  async mayContinue(uploader: Uploader, videoId: string): Promise<boolean> {
    return !uploader.token || (await this.tokenUses.spentOn(uploader.token, videoId));
  }

  private async decide({ tenant, token }: Uploader, request: UploadRequest): Promise<Admitted> {
    const limit = this.maxBytes({ tenant, token });
    if (request.size === 0) throw badRequest('the file is empty');
    if (request.size !== undefined && request.size > limit) throw tooLarge(limit);
    const channelId = await this.recordingChannel(tenant, request.channelId);
    if (token?.priority && request.priority !== undefined && request.priority !== token.priority)
      throw outOfScope(`this upload token fixes priority ${token.priority}`);
    // DESIGN: live recordings → high.
    const priority = token?.priority ?? request.priority ?? (channelId ? 'high' : 'normal');
    const filename = request.filename ? cleanFilename(request.filename) : undefined;
    const title = request.title ?? (filename ? titleFromFilename(filename) : undefined);
    return { priority, ...(title ? { title } : {}), ...(channelId ? { channelId } : {}), ...(filename ? { filename } : {}) };
  }

  /**
   * The channel an upload is the recording of: the caller tenant's, and it must have been live. Without a
   * channel registry (an app built without the event features) only the syntax is checked.
   */
  private async recordingChannel(tenant: string, value: string | undefined): Promise<string | undefined> {
    if (value === undefined || value === '') return undefined;
    const channelId = parseChannelId(value);
    if (this.channels && !(await this.channels.exists(tenant, channelId))) {
      throw badRequest(
        `channel ${channelId} has never been live: start it with POST /v1/channels/${channelId}/live before uploading its recording`,
      );
    }
    return channelId;
  }
}

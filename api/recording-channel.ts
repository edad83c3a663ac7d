import { parseChannelId } from './channel-id.ts';
import type { LiveChannels } from './live-channels.ts';
import { badRequest } from './problem.ts';

/**
 * An upload's `channelId` (form field or query): the upload is the recording
 * of that channel's live session, so the channel (the caller tenant's) must have been live. Returns
 * undefined when none was given. Without a channel registry (an app built
 * without the event features) only the syntax is checked.
 */
export async function recordingChannel(
  channels: LiveChannels | undefined,
  tenant: string,
  value: string | undefined,
): Promise<string | undefined> {
  if (value === undefined || value === '') return undefined;
  const channelId = parseChannelId(value);
  if (channels && !(await channels.exists(tenant, channelId))) {
    throw badRequest(
      `channel ${channelId} has never been live: start it with POST /v1/channels/${channelId}/live before uploading its recording`,
    );
  }
  return channelId;
}

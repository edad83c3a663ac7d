import { ulid } from 'ulid';

/** Video ids are ULIDs: 26 Crockford base32 characters, sortable by creation time. */
const VIDEO_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function newVideoId(): string {
  return ulid();
}

export function isVideoId(value: string): boolean {
  return VIDEO_ID.test(value);
}

/** Channel ids are chosen by the client: letters, digits, `_` and `-`, up to 64 characters. */
const CHANNEL_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isChannelId(value: string): boolean {
  return CHANNEL_ID.test(value);
}

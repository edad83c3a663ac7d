import { ulid } from 'ulid';

/** Video ids are ULIDs: 26 Crockford base32 characters, sortable by creation time. */
const VIDEO_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export function newVideoId(): string {
  return ulid();
}

export function isVideoId(value: string): boolean {
  return VIDEO_ID.test(value);
}

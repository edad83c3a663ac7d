/** RFC 6838 restricted-name: what a media type's type and subtype may be made of. */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/**
 * The bare `type/subtype` of a Content-Type header, lowercased, or undefined
 * when it is not a well-formed media type (`video/`, `*\/*`, junk). Only a
 * well-formed type is ever passed on to S3.
 */
export function mediaType(contentType: string | undefined): string | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return MEDIA_TYPE.test(type) ? type : undefined;
}

/** Raw upload bodies and multipart file parts must be video, or unlabelled bytes. */
export function isVideoMediaType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type !== undefined && (type.startsWith('video/') || type === 'application/octet-stream');
}

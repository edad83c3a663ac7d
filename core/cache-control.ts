/**
 * `Cache-Control` of what reelay serves. Every output today is access-controlled
 * (a short-lived presigned link, or the API behind a key): a browser may keep
 * its own copy, a shared cache (CDN, proxy) must not, or it would go on serving
 * a link after it expired. Stored on each output object and forced again on
 * every presigned link (`response-cache-control`), so objects written before
 * this rule are served with it too.
 *
 * Long `public, max-age=31536000, immutable` caching is only for what is meant
 * to be public and content-addressed (its URL changes when its bytes do):
 * nothing reelay stores is, yet.
 */
export const PRIVATE_OUTPUT_CACHE_CONTROL = 'private, max-age=86400';

/**
 * How large one request to S3 may be, and how a failed one is described. AWS takes parts of 5 MiB to
 * 5 GiB, but the embedded emulator (fauxqs) refuses any request body over 11 MiB with a JSON 413, not
 * S3 XML: every multipart part reelay sends stays under that, so the one-command local run stores
 * outputs of any size. (#23 item 0: 16 MiB parts failed every output larger than 11 MiB.)
 */

/** The largest request body the embedded emulator accepts (its `bodyLimit`). */
export const EMULATOR_MAX_BODY_BYTES = 11 * 1024 * 1024;

/** S3's smallest part (all but the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** Parts of the outputs a worker stores: fewer requests than the minimum, still under EMULATOR_MAX_BODY_BYTES. */
export const OUTPUT_PART_BYTES = 8 * 1024 * 1024;

interface SdkFailure {
  message?: string;
  name?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; reason?: string; body?: unknown };
  $responseBodyText?: string;
}

/**
 * What the store answered, in one line: `HTTP 413 Payload Too Large: Request body is too large` rather than
 * the SDK's "XML parse error: unexpected content" when the answer was not S3 XML (an emulator's or a proxy's
 * own error page). Falls back to the error's message.
 */
export function describeS3Failure(err: unknown): string {
  const e = (err ?? {}) as SdkFailure;
  const status = e.$response?.statusCode ?? e.$metadata?.httpStatusCode;
  if (status === undefined) return e.message ?? String(err);
  const reason = e.$response?.reason ? ` ${e.$response.reason}` : '';
  const text = answerText(e);
  // S3's own XML error (or no body): the SDK has parsed its code into `name` and its words into `message`.
  const code = e.name && e.name !== 'Error' ? e.name : undefined;
  const words = e.message && e.message !== code ? e.message : undefined;
  const said = text ?? [code, words].filter(Boolean).join(': ');
  return `the store answered HTTP ${status}${reason}${said ? `: ${said}` : ''}`;
}

/** The answer's own words: a JSON `message`, or the first 200 characters of the body; none when it was S3 XML. */
function answerText(e: SdkFailure): string | undefined {
  const body = e.$responseBodyText ?? (typeof e.$response?.body === 'string' ? e.$response.body : undefined);
  if (!body || body.trimStart().startsWith('<')) return undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message.slice(0, 200);
  } catch {
    // not JSON: the text itself
  }
  return body.replace(/\s+/g, ' ').trim().slice(0, 200);
}

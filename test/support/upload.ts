import { readFile } from 'node:fs/promises';

export interface UploadOptions {
  /** Content-Type of the video (of the form's file part when `multipart`). Default `video/mp4`. */
  contentType?: string;
  /** `priority`, `title`, `channelId`, `token`…: in the query of a raw upload, as form fields of a multipart one. */
  params?: Record<string, string>;
  /** Extra request headers (e.g. `authorization`). */
  headers?: Record<string, string>;
  /**
   * Send `multipart/form-data` instead of a raw body: `params` first, then the video as field `file` named
   * `filename`, then `fieldsAfterFile` (the API reads fields on both sides of the file).
   */
  multipart?: { filename: string; fieldsAfterFile?: Record<string, string> };
}

/**
 * `POST /v1/videos` with a video (a file to read, or its bytes), answered as it is: for tests of what the
 * API refuses. Most tests want `upload()`.
 */
export async function postVideo(
  baseUrl: string,
  video: string | URL | Uint8Array,
  { contentType = 'video/mp4', params = {}, headers = {}, multipart }: UploadOptions = {},
): Promise<Response> {
  const bytes = typeof video === 'string' || video instanceof URL ? await readFile(video) : video;
  if (multipart) {
    const form = new FormData();
    for (const [name, value] of Object.entries(params)) form.set(name, value);
    form.set('file', new Blob([bytes], { type: contentType }), multipart.filename);
    for (const [name, value] of Object.entries(multipart.fieldsAfterFile ?? {})) form.set(name, value);
    return fetch(`${baseUrl}/v1/videos`, { method: 'POST', headers, body: form });
  }
  const query = new URLSearchParams(params).toString();
  return fetch(`${baseUrl}/v1/videos${query ? `?${query}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body: bytes,
  });
}

/** An upload that must be accepted (202): resolves with the new video's id; otherwise throws with the API's answer. */
export async function upload(baseUrl: string, video: string | URL | Uint8Array, options: UploadOptions = {}): Promise<string> {
  const res = await postVideo(baseUrl, video, options);
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST /v1/videos answered ${res.status}, not 202: ${text}`);
  return (JSON.parse(text) as { id: string }).id;
}

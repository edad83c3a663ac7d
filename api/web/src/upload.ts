/**
 * Uploads with a real byte progress bar: resumable through tus (tus-js-client)
 * where the API serves /v1/tus/, otherwise one multipart POST /v1/videos
 * through XMLHttpRequest, whose upload progress events count bytes sent.
 */
import { Upload } from 'tus-js-client';
import { ApiError, authHeaders, token, type Video } from './api.ts';

export interface UploadCallbacks {
  onProgress(sent: number, total: number): void;
}

let tusAvailable: Promise<boolean> | undefined;

/** True when the API answers a tus OPTIONS request (tus 1.0 discovery). */
export function hasTus(): Promise<boolean> {
  tusAvailable ??= fetch('/v1/tus/', { method: 'OPTIONS' })
    .then((res) => res.ok && res.headers.has('tus-version'))
    .catch(() => false);
  return tusAvailable;
}

export async function uploadFile(file: File, cb: UploadCallbacks): Promise<{ id: string }> {
  return (await hasTus()) ? viaTus(file, cb) : viaMultipart(file, cb);
}

async function viaMultipart(file: File, cb: UploadCallbacks): Promise<Video> {
  // No title: the API makes the default one from the file's name (without its extension), the one rule for
  // every way in (core/client-text.ts titleFromFilename), as for curl and the CLI.
  const form = new FormData();
  form.set('file', file, file.name);
  const t = await token('upload');
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/videos');
    const headers = t ? { authorization: `Bearer ${t}` } : authHeaders();
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => cb.onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      const body = JSON.parse(xhr.responseText || '{}') as Video & { detail?: string };
      if (xhr.status === 202) {
        cb.onProgress(file.size, file.size);
        resolve(body);
      } else reject(new ApiError(xhr.status, body.detail ?? `upload failed with ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error('the upload was interrupted (network error)'));
    xhr.send(form);
  });
}

async function viaTus(file: File, cb: UploadCallbacks): Promise<{ id: string }> {
  const t = await token('upload');
  return new Promise((resolve, reject) => {
    const upload = new Upload(file, {
      endpoint: '/v1/tus/',
      retryDelays: [0, 1000, 3000, 5000],
      chunkSize: 8 * 1024 * 1024,
      // No title, as above: the API makes it from `filename`.
      metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
      headers: t ? { authorization: `Bearer ${t}` } : authHeaders(),
      // Resume an interrupted upload of the same file after a reload.
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => cb.onProgress(sent, total),
      onError: (err) => reject(err),
      onSuccess: () => {
        // The upload's URL is /v1/tus/<video id>: the video it becomes has the same id.
        const id = /\/v1\/tus\/([^/?#]+)/.exec(new URL(upload.url!, location.href).pathname)?.[1];
        if (id) resolve({ id });
        else reject(new Error('the upload finished but its URL names no video'));
      },
    });
    void upload.findPreviousUploads().then((previous) => {
      // A token creates one upload: resuming one another token created would be refused, so only without keys.
      if (previous[0] && !t) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    });
  });
}

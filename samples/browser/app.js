// A browser uploading to reelay with scoped tokens only: a resumable tus upload (plain fetch, no library)
// with an `upload` token, and live status over the WebSocket with a `watch` token.
const params = new URLSearchParams(location.search);
const api = (params.get('api') ?? 'http://localhost:3000').replace(/\/$/, '');
const uploadToken = params.get('upload');
const watchToken = params.get('watch');
const CHUNK = 5 * 1024 * 1024;

const $ = (id) => document.getElementById(id);
const log = (line) => ($('log').textContent += `${new Date().toLocaleTimeString()} ${line}\n`);
const setStatus = (text) => ($('status').textContent = text);

if (!uploadToken || !watchToken) log('missing ?upload= and ?watch= tokens: run mint-tokens.sh');
$('file').addEventListener('change', () => ($('go').disabled = !$('file').files[0]));
$('go').addEventListener('click', () => upload($('file').files[0]).catch((err) => log(`upload failed: ${err.message}`)));

// Events of the whole tenant (a watch token without videoId): we subscribe to our video once we know it.
const ws = new WebSocket(`${api.replace(/^http/, 'ws')}/v1/ws?token=${encodeURIComponent(watchToken ?? '')}`);
ws.onopen = () => log('websocket open');
ws.onclose = (e) => log(`websocket closed (${e.code})`);
ws.onmessage = (message) => {
  const msg = JSON.parse(message.data);
  if (!msg.specversion) return log(`ws: ${message.data}`);
  const state = msg.type.replace('video.', '');
  setStatus(state);
  log(`event ${msg.type}${msg.type === 'video.ready' ? `: ${Object.keys(msg.data.outputs).join(', ')}` : ''}`);
  if (msg.type === 'video.failed') log(`reason: ${msg.data.reason}`);
};

const tusHeaders = (extra = {}) => ({ 'tus-resumable': '1.0.0', authorization: `Bearer ${uploadToken}`, ...extra });
const b64 = (text) => btoa(String.fromCharCode(...new TextEncoder().encode(text)));

async function upload(file) {
  // Resume the same file after a reload or a dropped connection: the upload URL is kept per file.
  const key = `reelay-tus:${file.name}:${file.size}:${file.lastModified}`;
  let url = localStorage.getItem(key);
  let offset = 0;
  if (url) {
    const head = await fetch(url, { method: 'HEAD', headers: tusHeaders() });
    if (head.ok) offset = Number(head.headers.get('upload-offset'));
    else url = null;
  }
  if (!url) {
    const metadata = [`filename ${b64(file.name)}`, `filetype ${b64(file.type || 'application/octet-stream')}`].join(',');
    const created = await fetch(`${api}/v1/tus/`, {
      method: 'POST',
      headers: tusHeaders({ 'upload-length': String(file.size), 'upload-metadata': metadata }),
    });
    if (created.status !== 201) throw new Error(`creating the upload: ${created.status} ${await created.text()}`);
    url = new URL(created.headers.get('location'), api).href;
    localStorage.setItem(key, url);
  }
  const videoId = url.split('/').pop();
  log(`uploading as video ${videoId}${offset ? `, resuming at ${offset} bytes` : ''}`);
  ws.send(JSON.stringify({ type: 'subscribe', videoId }));
  while (offset < file.size) {
    const body = file.slice(offset, offset + CHUNK);
    const res = await fetch(url, {
      method: 'PATCH',
      headers: tusHeaders({ 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }),
      body,
    });
    if (res.status !== 204) throw new Error(`PATCH at ${offset}: ${res.status} ${await res.text()}`);
    offset = Number(res.headers.get('upload-offset'));
    $('progress').value = offset / file.size;
    $('percent').textContent = `${Math.floor((100 * offset) / file.size)} %`;
  }
  localStorage.removeItem(key);
  log('upload complete');
}

// Vireo's upload page.
//
// Sends the chosen (or dropped) file with PeerTube's resumable upload protocol: a POST with
// the metadata answers the upload's URL, then PUTs of 8 MiB chunks with Content-Range, each
// answered 308 with the Range received until the last answers the video. The upload's URL
// and progress are kept in localStorage, so after a reload (or a crash, or a lost network)
// the page shows how far it got, and choosing the same file again continues from the bytes
// the server has. Then it follows processing (GET /api/v1/videos/{id}: state and progress)
// until the video is watchable, and on while more qualities are being made.
//
// Requests carry the session cookie and the page's CSRF token (X-CSRF-Token).

const KEY = 'vireo.upload';
const CHUNK = 8 * 1024 * 1024;
const RETRIES = 6;

const $ = (id) => document.getElementById(id);
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';
const form = $('upload-form');
const fileInput = $('file');

let current = null; // {file, url, sent, xhr, paused, started, lastSent, lastTime, speed}

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || 'null');
  } catch {
    return null;
  }
}

function save(v) {
  try {
    if (v) localStorage.setItem(KEY, JSON.stringify(v));
    else localStorage.removeItem(KEY);
  } catch {
    // Without storage the upload still works; it just cannot be resumed after a reload.
  }
}

function size(bytes) {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} bytes` : `${v.toFixed(v >= 10 ? 0 : 1)} ${units[u]}`;
}

function duration(secs) {
  if (!Number.isFinite(secs)) return '';
  const s = Math.max(1, Math.round(secs));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function showError(text) {
  const e = $('upload-error');
  e.textContent = text;
  e.hidden = !text;
}

async function problem(res) {
  try {
    const j = await res.json();
    return j.detail || j.error || `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

function sameFile(saved, file) {
  return saved && file && saved.name === file.name && saved.size === file.size && saved.lastModified === file.lastModified;
}

// ---- the form ------------------------------------------------------------------------------

const drop = $('drop');
for (const type of ['dragenter', 'dragover']) {
  drop.addEventListener(type, (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
}
for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  if (e.dataTransfer?.files?.length) {
    fileInput.files = e.dataTransfer.files;
    fileInput.dispatchEvent(new Event('change'));
  }
});

fileInput.addEventListener('change', () => {
  const f = fileInput.files[0];
  if (!f) return;
  drop.querySelector('.drop-title').textContent = `${f.name} (${size(f.size)})`;
  if (!$('name').value) $('name').value = f.name.replace(/\.[^.]+$/, '').slice(0, 120);
});

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const file = fileInput.files[0];
  if (!file) return showError('Choose a video file first.');
  const max = Number($('upload').dataset.maxBytes);
  if (max && file.size > max) return showError(`This file is ${size(file.size)}; this instance takes files up to ${size(max)}.`);
  showError('');
  const saved = load();
  if (saved && saved.url && !saved.video && sameFile(saved, file)) return resume(file, saved);
  begin(file).catch((err) => fault(err));
});

$('resume-forget').addEventListener('click', () => {
  const saved = load();
  if (saved && saved.url && !saved.video) fetch(saved.url, { method: 'DELETE', headers: { 'X-CSRF-Token': csrf } }).catch(() => {});
  save(null);
  $('resume').hidden = true;
  $('sending').hidden = true;
});

$('pause').addEventListener('click', () => {
  if (!current) return;
  if (current.paused) {
    current.paused = false;
    $('pause').textContent = 'Pause';
    send().catch((err) => fault(err));
  } else {
    current.paused = true;
    $('pause').textContent = 'Resume';
    if (current.xhr) current.xhr.abort();
    $('sending-text').textContent = `Paused at ${size(current.sent)} of ${size(current.file.size)}.`;
  }
});

$('cancel').addEventListener('click', () => {
  if (!current) return;
  current.paused = true;
  if (current.xhr) current.xhr.abort();
  fetch(current.url, { method: 'DELETE', headers: { 'X-CSRF-Token': csrf } }).catch(() => {});
  save(null);
  current = null;
  $('sending').hidden = true;
  form.hidden = false;
});

// ---- sending -------------------------------------------------------------------------------

async function begin(file) {
  const body = {
    name: $('name').value.trim(),
    channelId: Number($('channel').value),
    privacy: Number($('privacy').value),
    filename: file.name,
  };
  const description = $('description').value.trim();
  if (description) body.description = description;
  const res = await fetch('/api/v1/videos/upload-resumable', {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'Content-Type': 'application/json',
      'X-Upload-Content-Length': String(file.size),
      'X-Upload-Content-Type': file.type || 'application/octet-stream',
      'X-CSRF-Token': csrf,
    },
    body: JSON.stringify(body),
  });
  if (res.status === 401) throw new Error('Your session has ended: log in again, then choose the file again.');
  if (!res.ok) throw new Error(await problem(res));
  const location = res.headers.get('Location');
  if (!location) throw new Error('The server did not say where to send the file.');
  const u = new URL(location, window.location.href);
  const url = u.pathname + u.search; // the page's own origin, whatever the public URL says
  save({ url, name: file.name, size: file.size, lastModified: file.lastModified, title: body.name, sent: 0 });
  startSending(file, url, 0);
  await send();
}

async function resume(file, saved) {
  const res = await fetch(saved.url, {
    method: 'PUT',
    credentials: 'same-origin',
    headers: { 'Content-Range': `bytes */${file.size}`, 'X-CSRF-Token': csrf },
  });
  if (res.status === 404) {
    save(null);
    showError('That upload has expired on the server; starting it again.');
    return begin(file).catch((err) => fault(err));
  }
  if (res.ok) return finished(await res.json());
  if (res.status !== 308) return fault(new Error(await problem(res)));
  startSending(file, saved.url, received(res));
  await send().catch((err) => fault(err));
}

/// The next byte to send, from a 308's Range (`bytes=0-N`): N + 1, or 0 when none arrived.
function received(res) {
  const m = /bytes=0-(\d+)/.exec(res.headers.get('Range') || '');
  return m ? Number(m[1]) + 1 : 0;
}

function startSending(file, url, sent) {
  current = { file, url, sent, xhr: null, paused: false, lastSent: sent, lastTime: performance.now(), speed: 0 };
  form.hidden = true;
  $('resume').hidden = true;
  $('sending').hidden = false;
  $('sending-name').textContent = file.name;
  $('pause').hidden = false;
  $('pause').textContent = 'Pause';
  $('cancel').hidden = false;
  progress(sent);
}

function progress(sentNow) {
  const c = current;
  const total = c.file.size;
  const now = performance.now();
  const dt = (now - c.lastTime) / 1000;
  if (dt >= 0.5) {
    const rate = (sentNow - c.lastSent) / dt;
    c.speed = c.speed ? c.speed * 0.7 + rate * 0.3 : rate;
    c.lastSent = sentNow;
    c.lastTime = now;
  }
  const pct = total ? Math.floor((sentNow / total) * 100) : 100;
  $('sending-bar').value = pct;
  const left = c.speed > 0 ? ` · about ${duration((total - sentNow) / c.speed)} left` : '';
  const speed = c.speed > 0 ? ` · ${size(Math.round(c.speed))}/s` : '';
  $('sending-text').textContent = `${pct} % · ${size(sentNow)} of ${size(total)}${speed}${left}`;
}

function putChunk(c, start, end) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    c.xhr = xhr;
    xhr.open('PUT', c.url);
    xhr.setRequestHeader('Content-Range', `bytes ${start}-${end - 1}/${c.file.size}`);
    xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (e) => progress(start + e.loaded);
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(Object.assign(new Error('network'), { transient: true }));
    xhr.onabort = () => reject(Object.assign(new Error('aborted'), { aborted: true }));
    xhr.send(c.file.slice(start, end));
  });
}

async function send() {
  const c = current;
  let failures = 0;
  while (c && !c.paused && c.sent < c.file.size) {
    const end = Math.min(c.sent + CHUNK, c.file.size);
    let xhr;
    try {
      xhr = await putChunk(c, c.sent, end);
    } catch (e) {
      if (e.aborted) return;
      if (++failures > RETRIES) throw new Error('The connection keeps failing. Choose the file again later to continue where it stopped.');
      $('sending-text').textContent = `Connection lost; trying again in ${2 ** failures} s…`;
      await new Promise((r) => setTimeout(r, 1000 * 2 ** failures));
      // Ask how much arrived before the connection dropped.
      const res = await fetch(c.url, { method: 'PUT', headers: { 'Content-Range': `bytes */${c.file.size}`, 'X-CSRF-Token': csrf } }).catch(() => null);
      if (res && res.status === 308) c.sent = received(res);
      continue;
    }
    failures = 0;
    if (xhr.status === 308) {
      c.sent = received({ headers: { get: (h) => xhr.getResponseHeader(h) } });
      const saved = load();
      if (saved) save({ ...saved, sent: c.sent });
      progress(c.sent);
      continue;
    }
    if (xhr.status === 200 || xhr.status === 201) {
      progress(c.file.size);
      return finished(JSON.parse(xhr.responseText));
    }
    let detail = `HTTP ${xhr.status}`;
    try {
      detail = JSON.parse(xhr.responseText).detail || detail;
    } catch {
      // Not a problem document; the status says enough.
    }
    throw new Error(detail);
  }
}

function fault(err) {
  showError(err.message || String(err));
  if (current) {
    current.paused = true;
    $('pause').textContent = 'Resume';
  }
}

// ---- processing ----------------------------------------------------------------------------

function finished(body) {
  const v = body.video || body;
  const saved = load() || {};
  save({ ...saved, video: v.uuid, shortUUID: v.shortUUID, sent: saved.size || 0 });
  current = null;
  $('sending-bar').value = 100;
  $('pause').hidden = true;
  $('cancel').hidden = true;
  follow(v.uuid, v.shortUUID);
}

async function follow(uuid, shortUUID) {
  $('processing').hidden = false;
  $('watch-link').href = `/w/${shortUUID}`;
  const bar = $('processing-bar');
  const text = $('processing-text');
  for (;;) {
    let v;
    try {
      const res = await fetch(`/api/v1/videos/${uuid}`, { credentials: 'same-origin' });
      if (res.status === 404) {
        text.textContent = 'This video was deleted.';
        save(null);
        return;
      }
      if (!res.ok) throw new Error(await problem(res));
      v = await res.json();
    } catch (e) {
      text.textContent = `Waiting for the server… (${e.message})`;
      await new Promise((r) => setTimeout(r, 3000));
      continue;
    }
    const published = v.state && v.state.id === 1;
    const p = v.progress;
    if (v.state && v.state.id === 7) {
      bar.hidden = true;
      text.textContent = `Processing failed: ${v.stateReason || 'the file could not be read'}.`;
      save(null);
      return;
    }
    if (published) $('ready').hidden = false;
    if (p) {
      bar.value = p.percent;
      const eta = p.etaSeconds ? ` · about ${duration(p.etaSeconds)} left` : '';
      text.textContent = published
        ? `Your video is watchable. More qualities are being prepared: ${Math.floor(p.percent)} %${eta}.`
        : `${Math.floor(p.percent)} %${eta}`;
    } else if (published) {
      bar.value = 100;
      text.textContent = 'Your video is ready in every quality.';
      save(null);
      return;
    } else {
      bar.removeAttribute('value');
      text.textContent = 'Waiting to be processed…';
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// ---- after a reload ------------------------------------------------------------------------

const saved = load();
if (saved && saved.video) {
  form.hidden = true;
  $('sending').hidden = false;
  $('sending-name').textContent = saved.name || '';
  $('sending-bar').value = 100;
  $('sending-text').textContent = `100 % · ${size(saved.size || 0)} sent`;
  $('pause').hidden = true;
  $('cancel').hidden = true;
  follow(saved.video, saved.shortUUID);
} else if (saved && saved.url) {
  const pct = saved.size ? Math.floor((saved.sent / saved.size) * 100) : 0;
  $('resume').hidden = false;
  $('resume-text').textContent = `The upload of “${saved.name}” stopped at ${pct} % (${size(saved.sent)} of ${size(saved.size)}). Choose the same file again to continue from there.`;
  $('sending').hidden = false;
  $('sending-name').textContent = saved.name;
  $('sending-bar').value = pct;
  $('sending-text').textContent = `${pct} % · ${size(saved.sent)} of ${size(saved.size)} · paused`;
  $('pause').hidden = true;
  $('cancel').hidden = true;
  if (saved.title) $('name').value = saved.title;
}

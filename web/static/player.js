// Vireo's video player.
//
// It plays the HLS that Vireo (and PeerTube) write: one fragmented MP4 per rendition,
// addressed by byte ranges from its media playlist. Three ways to play, tried in order:
// 1. Media Source Extensions (Chrome, Firefox, Edge, Safari 17+): this file fetches the
//    byte ranges and appends them to a SourceBuffer. Of the renditions in the master
//    playlist it keeps those MediaSource.isTypeSupported() accepts, prefers AV1 when the
//    browser decodes it (H.264 otherwise), and switches between them, by the quality menu
//    or automatically from the measured bandwidth.
// 2. Native HLS (Safari on iOS without MSE): the master playlist as the video's src.
// 3. A progressive MP4 as the video's src.
// When none works it says so, naming the codecs offered.
//
// Written by hand rather than using hls.js: hls.js is about 400 KB minified, four times the
// player's whole budget, for the many HLS flavours this one format does not use.
//
// Keyboard: space/k play-pause, j/l ∓10 s, ←/→ ∓5 s, ↑/↓ volume, f full screen, m mute.
// The volume is remembered (localStorage). The page's data-config gives: hls (master
// playlist URL), files (progressive MP4s), poster, duration, start (seconds), title, and
// views (where to report what is watched: every few seconds while playing, and after a seek,
// as PeerTube's player does; the server decides when that makes a view).
//
// For tests and curious users, the player element carries data-state (loading, paused,
// playing, ended, error), data-mode (mse, native, progressive), data-levels (heights on
// offer), data-level (the height being played) and data-codec (its codec family).

const AHEAD_SECS = 30; // how much is buffered ahead of the playhead
const BEHIND_SECS = 30; // how much played media is kept for seeking back
const SWITCH_MARGIN_SECS = 0.5; // a manual switch takes effect at a segment boundary after this
const SAFETY = 0.8; // a rendition is chosen if its bandwidth is under this share of the estimate
const REPORT_EVERY_MS = 5000; // PeerTube's watching interval, as /api/v1/config announces it

function start(root) {
  let cfg;
  try {
    cfg = JSON.parse(root.dataset.config || '{}');
  } catch {
    cfg = {};
  }
  const ui = buildUi(root, cfg);
  const video = ui.video;
  restoreVolume(video);
  wireControls(root, ui, cfg);
  reportWatching(video, cfg);
  choosePlayback(root, ui, cfg).catch((e) => fail(ui, root, `The video could not be loaded: ${e.message || e}`));
}

// Tell the server where playback is while it plays. A failed report is not retried: the next
// one carries the position anyway.
function reportWatching(video, cfg) {
  if (!cfg.views) return;
  const token = document.querySelector('meta[name="csrf-token"]');
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers['X-CSRF-Token'] = token.content;
  const send = (extra = {}) => {
    const body = JSON.stringify({ currentTime: Math.max(0, video.currentTime || 0), ...extra });
    fetch(cfg.views, { method: 'POST', headers, body, keepalive: true, credentials: 'same-origin' }).catch(() => {});
  };
  let timer = null;
  const stop = () => {
    clearInterval(timer);
    timer = null;
  };
  video.addEventListener('playing', () => {
    if (timer === null) {
      send();
      timer = setInterval(send, REPORT_EVERY_MS);
    }
  });
  video.addEventListener('pause', () => {
    stop();
    send();
  });
  video.addEventListener('ended', stop);
  video.addEventListener('seeked', () => send({ viewEvent: 'seek' }));
}

// ---- the DOM -------------------------------------------------------------------------------

function el(tag, attrs = {}, text = '') {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function buildUi(root, cfg) {
  root.replaceChildren();
  root.dataset.state = 'loading';
  const video = el('video', { playsinline: '', preload: 'metadata' });
  if (cfg.poster) video.poster = cfg.poster;
  if (cfg.title) video.setAttribute('aria-label', cfg.title);
  const spinner = el('div', { class: 'vp-spinner', hidden: '' });
  const bigPlay = el('button', { class: 'vp-big-play', type: 'button', 'aria-label': 'Play' });
  icon(bigPlay, 'play');
  const message = el('div', { class: 'vp-message', role: 'alert', hidden: '' });
  const bar = el('div', { class: 'vp-bar' });
  const play = el('button', { class: 'vp-btn vp-play', type: 'button', 'aria-label': 'Play (k)' });
  icon(play, 'play');
  const seek = el('input', { class: 'vp-seek', type: 'range', min: '0', max: String(cfg.duration || 0), step: '0.1', value: '0', 'aria-label': 'Seek' });
  const time = el('span', { class: 'vp-time' }, `0:00 / ${clock(cfg.duration || 0)}`);
  const mute = el('button', { class: 'vp-btn vp-mute', type: 'button', 'aria-label': 'Mute (m)' });
  const volume = el('input', { class: 'vp-volume', type: 'range', min: '0', max: '1', step: '0.05', 'aria-label': 'Volume' });
  const quality = el('button', { class: 'vp-btn vp-quality', type: 'button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', hidden: '' }, 'Auto');
  const full = el('button', { class: 'vp-btn vp-full', type: 'button', 'aria-label': 'Full screen (f)' });
  icon(full, 'full');
  const menu = el('ul', { class: 'vp-menu', role: 'menu', hidden: '' });
  bar.append(play, seek, time, mute, volume, quality, full);
  root.append(video, spinner, bigPlay, message, bar, menu);
  return { video, spinner, bigPlay, message, play, seek, time, mute, volume, quality, full, menu };
}

// Icons as SVG paths (24×24): fonts on many systems lack the media symbols.
const ICONS = {
  play: 'M8 5v14l11-7z',
  pause: 'M6 5h4v14H6zm8 0h4v14h-4z',
  volume: 'M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4z',
  muted: 'M3 9v6h4l5 5V4L7 9H3zm13.6 3 2.7-2.7-1.4-1.4-2.7 2.7-2.7-2.7-1.4 1.4 2.7 2.7-2.7 2.7 1.4 1.4 2.7-2.7 2.7 2.7 1.4-1.4z',
  full: 'M7 14H5v5h5v-2H7v-3zm-2-4h2V7h3V5H5v5zm12 7h-3v2h5v-5h-2v3zM14 5v2h3v3h2V5h-5z',
};

function icon(button, name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '22');
  svg.setAttribute('height', '22');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  button.replaceChildren(svg);
}

function clock(secs) {
  const s = Math.max(0, Math.floor(secs || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

function fail(ui, root, text) {
  ui.message.textContent = text;
  ui.message.hidden = false;
  ui.bigPlay.hidden = true;
  ui.spinner.hidden = true;
  root.dataset.state = 'error';
}

// ---- volume, controls, keyboard --------------------------------------------------------------

function restoreVolume(video) {
  try {
    const v = parseFloat(localStorage.getItem('vireo.volume'));
    if (v >= 0 && v <= 1) video.volume = v;
    video.muted = localStorage.getItem('vireo.muted') === '1';
  } catch {
    // Storage may be refused (private windows, sandboxed embeds): the defaults stay.
  }
}

function saveVolume(video) {
  try {
    localStorage.setItem('vireo.volume', String(video.volume));
    localStorage.setItem('vireo.muted', video.muted ? '1' : '0');
  } catch {
    // As above: not remembering is the only consequence.
  }
}

function wireControls(root, ui, cfg) {
  const { video } = ui;
  const toggle = () => (video.paused || video.ended ? playNow(video, ui, root) : video.pause());
  ui.play.addEventListener('click', toggle);
  ui.bigPlay.addEventListener('click', toggle);
  video.addEventListener('click', toggle);
  video.addEventListener('play', () => {
    icon(ui.play, 'pause');
    ui.play.setAttribute('aria-label', 'Pause (k)');
    ui.bigPlay.hidden = true;
  });
  video.addEventListener('playing', () => {
    root.dataset.state = 'playing';
    ui.spinner.hidden = true;
  });
  video.addEventListener('pause', () => {
    icon(ui.play, 'play');
    ui.play.setAttribute('aria-label', 'Play (k)');
    if (root.dataset.state !== 'error') root.dataset.state = 'paused';
  });
  video.addEventListener('ended', () => (root.dataset.state = 'ended'));
  video.addEventListener('waiting', () => (ui.spinner.hidden = false));
  video.addEventListener('canplay', () => (ui.spinner.hidden = true));
  video.addEventListener('seeked', () => (ui.spinner.hidden = true));
  video.addEventListener('error', () => {
    const e = video.error;
    if (e) fail(ui, root, `Playback failed (${e.code}${e.message ? ': ' + e.message : ''}).`);
  });
  let dragging = false;
  ui.seek.addEventListener('input', () => {
    dragging = true;
    ui.time.textContent = `${clock(+ui.seek.value)} / ${clock(duration(video, cfg))}`;
  });
  ui.seek.addEventListener('change', () => {
    dragging = false;
    video.currentTime = +ui.seek.value;
  });
  video.addEventListener('timeupdate', () => {
    if (dragging) return;
    const d = duration(video, cfg);
    ui.seek.max = String(d);
    ui.seek.value = String(video.currentTime);
    ui.time.textContent = `${clock(video.currentTime)} / ${clock(d)}`;
  });
  const showVolume = () => {
    ui.volume.value = String(video.muted ? 0 : video.volume);
    icon(ui.mute, video.muted || video.volume === 0 ? 'muted' : 'volume');
    ui.mute.setAttribute('aria-label', video.muted ? 'Unmute (m)' : 'Mute (m)');
  };
  showVolume();
  video.addEventListener('volumechange', () => {
    showVolume();
    saveVolume(video);
  });
  ui.mute.addEventListener('click', () => (video.muted = !video.muted));
  ui.volume.addEventListener('input', () => {
    video.volume = +ui.volume.value;
    video.muted = video.volume === 0;
  });
  ui.full.addEventListener('click', () => toggleFullscreen(root));
  ui.quality.addEventListener('click', () => {
    const open = ui.menu.hidden;
    ui.menu.hidden = !open;
    ui.quality.setAttribute('aria-expanded', String(open));
    if (open) ui.menu.querySelector('button')?.focus();
  });
  document.addEventListener('keydown', (e) => shortcut(e, root, ui, toggle));
  let idle;
  const awake = () => {
    root.classList.remove('vp-idle');
    clearTimeout(idle);
    idle = setTimeout(() => !video.paused && ui.menu.hidden && root.classList.add('vp-idle'), 2500);
  };
  root.addEventListener('mousemove', awake);
  root.addEventListener('focusin', awake);
}

function duration(video, cfg) {
  return Number.isFinite(video.duration) && video.duration > 0 ? video.duration : cfg.duration || 0;
}

function playNow(video, ui, root) {
  const p = video.play();
  if (p && p.catch) p.catch((e) => e.name !== 'AbortError' && fail(ui, root, `The browser refused to play: ${e.message}`));
}

function toggleFullscreen(root) {
  if (document.fullscreenElement) document.exitFullscreen();
  else if (root.requestFullscreen) root.requestFullscreen().catch(() => {});
}

function shortcut(e, root, ui, toggle) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  if (t instanceof HTMLButtonElement && (e.key === ' ' || e.key === 'Enter')) return;
  const v = ui.video;
  const seekBy = (d) => (v.currentTime = Math.max(0, Math.min(v.currentTime + d, duration(v, {}) || Infinity)));
  const volumeBy = (d) => {
    v.volume = Math.round(Math.max(0, Math.min(1, v.volume + d)) * 100) / 100;
    v.muted = false;
  };
  const actions = {
    ' ': toggle,
    k: toggle,
    j: () => seekBy(-10),
    l: () => seekBy(10),
    ArrowLeft: () => seekBy(-5),
    ArrowRight: () => seekBy(5),
    ArrowUp: () => volumeBy(0.05),
    ArrowDown: () => volumeBy(-0.05),
    f: () => toggleFullscreen(root),
    m: () => (v.muted = !v.muted),
  };
  const action = actions[e.key.length === 1 ? e.key.toLowerCase() : e.key];
  if (!action) return;
  e.preventDefault();
  action();
}

// ---- choosing how to play ------------------------------------------------------------------

const MediaSourceImpl = window.ManagedMediaSource || window.MediaSource;

function mimeOf(level) {
  return `video/mp4; codecs="${level.codecs}"`;
}

function family(codecs) {
  if (codecs.startsWith('av01')) return 'AV1';
  if (codecs.startsWith('avc1') || codecs.startsWith('avc3')) return 'H.264';
  if (codecs.startsWith('vp09')) return 'VP9';
  if (codecs.startsWith('hvc1') || codecs.startsWith('hev1')) return 'H.265';
  return codecs.split('.')[0];
}

async function choosePlayback(root, ui, cfg) {
  const { video } = ui;
  if (cfg.hls && MediaSourceImpl) {
    const variants = parseMaster(await fetchText(cfg.hls), cfg.hls);
    const levels = pickLevels(variants);
    if (levels.length) return playMse(root, ui, cfg, levels);
    if (!video.canPlayType('application/vnd.apple.mpegurl')) {
      const offered = [...new Set(variants.map((v) => family(v.codecs)))].join(' and ');
      return fail(ui, root, `This browser cannot play this video: it is offered as ${offered || 'nothing yet'}, and this browser decodes none of them. A recent Firefox, Chrome, Edge or Safari plays it.`);
    }
  }
  if (cfg.hls && video.canPlayType('application/vnd.apple.mpegurl')) {
    root.dataset.mode = 'native';
    video.src = cfg.hls;
    return startAt(video, cfg);
  }
  const file = (cfg.files || []).find((f) => f.height <= 720) || (cfg.files || [])[0];
  if (file && video.canPlayType('video/mp4')) {
    root.dataset.mode = 'progressive';
    video.src = file.url;
    return startAt(video, cfg);
  }
  fail(ui, root, cfg.hls || (cfg.files || []).length ? 'This browser cannot play videos in MP4. A recent Firefox, Chrome, Edge or Safari plays them.' : 'This video has no playable file yet. Come back when it has been processed.');
}

function startAt(video, cfg) {
  if (cfg.start > 0) video.addEventListener('loadedmetadata', () => (video.currentTime = cfg.start), { once: true });
}

/// The renditions to offer: the browser's decodable ones, AV1 where it decodes AV1 (plus other
/// codecs' heights that AV1 lacks, such as the upload itself while the ladder runs), one per
/// height, smallest first. Without SourceBuffer.changeType a player cannot change codec, so it
/// then keeps to one family.
function pickLevels(variants) {
  const ok = variants.filter((v) => v.codecs && MediaSourceImpl.isTypeSupported(mimeOf(v)));
  const av1 = ok.filter((v) => family(v.codecs) === 'AV1');
  let chosen = ok;
  if (av1.length) {
    const heights = new Set(av1.map((v) => v.height));
    const canChange = typeof SourceBuffer !== 'undefined' && 'changeType' in SourceBuffer.prototype;
    chosen = canChange ? av1.concat(ok.filter((v) => family(v.codecs) !== 'AV1' && !heights.has(v.height))) : av1;
  }
  const byHeight = new Map();
  for (const v of chosen) if (!byHeight.has(v.height)) byHeight.set(v.height, v);
  return [...byHeight.values()].sort((a, b) => a.height - b.height || a.bandwidth - b.bandwidth);
}

// ---- playlists -----------------------------------------------------------------------------

async function fetchText(url) {
  const r = await fetch(url, { credentials: 'same-origin' });
  if (!r.ok) throw new Error(`HTTP ${r.status} for ${url}`);
  return r.text();
}

function attributes(list) {
  const out = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  let m;
  while ((m = re.exec(list))) out[m[1]] = m[2].replace(/^"|"$/g, '');
  return out;
}

function parseMaster(text, base) {
  const lines = text.split(/\r?\n/);
  const variants = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('#EXT-X-STREAM-INF:')) continue;
    const a = attributes(lines[i].slice(18));
    let uri = '';
    while (++i < lines.length && (!(uri = lines[i].trim()) || uri.startsWith('#')));
    if (!uri || uri.startsWith('#')) break;
    const [w, h] = (a.RESOLUTION || '0x0').split('x').map(Number);
    variants.push({ url: new URL(uri, new URL(base, location.href)).href, bandwidth: +a.BANDWIDTH || 0, codecs: a.CODECS || '', width: w, height: h, media: null, init: null });
  }
  return variants;
}

function byteRange(spec, defaultOffset) {
  const [len, off] = spec.split('@');
  const start = off === undefined ? defaultOffset : +off;
  return { start, end: start + +len - 1 };
}

function parseMedia(text, base) {
  const baseUrl = new URL(base, location.href);
  const segments = [];
  let init = null;
  let extinf = 0;
  let range = null;
  let nextOffset = 0;
  let t = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MAP:')) {
      const a = attributes(line.slice(11));
      init = { url: new URL(a.URI, baseUrl).href, ...(a.BYTERANGE ? byteRange(a.BYTERANGE, 0) : { start: 0, end: null }) };
    } else if (line.startsWith('#EXTINF:')) {
      extinf = parseFloat(line.slice(8)) || 0;
    } else if (line.startsWith('#EXT-X-BYTERANGE:')) {
      range = byteRange(line.slice(17), nextOffset);
    } else if (line && !line.startsWith('#')) {
      const seg = { url: new URL(line, baseUrl).href, t0: t, t1: t + extinf, ...(range || { start: 0, end: null }) };
      segments.push(seg);
      if (range) nextOffset = range.end + 1;
      t += extinf;
      range = null;
    }
  }
  if (!init || !segments.length) throw new Error('the playlist has no fragmented MP4 to play');
  return { init, segments, duration: t };
}

// ---- MSE playback --------------------------------------------------------------------------

async function fetchBytes(r, signal) {
  const headers = r.end === null ? {} : { Range: `bytes=${r.start}-${r.end}` };
  const started = performance.now();
  const res = await fetch(r.url, { headers, signal, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const data = await res.arrayBuffer();
  return { data, ms: Math.max(1, performance.now() - started) };
}

function playMse(root, ui, cfg, levels) {
  const { video } = ui;
  root.dataset.mode = 'mse';
  root.dataset.levels = levels.map((l) => l.height).join(',');
  const ms = new MediaSourceImpl();
  if (window.ManagedMediaSource && ms instanceof window.ManagedMediaSource) video.disableRemotePlayback = true;
  video.src = URL.createObjectURL(ms);
  const s = {
    levels,
    manual: -1, // -1: automatic
    bandwidth: 2_000_000, // bits per second, until measured
    sb: null,
    sbLevel: null, // the level whose init segment the buffer has
    sbCodecs: '',
    next: null, // {level, idx}: the segment to fetch next
    pendingSwitch: false,
    seeking: false,
    abort: null,
    wake: null,
    appended: [], // {level, t0, t1}, to tell which level is playing
    ended: false,
  };
  buildMenu(root, ui, s);
  const wake = () => s.wake && s.wake();
  video.addEventListener('seeking', () => {
    s.seeking = true;
    if (s.abort) s.abort.abort();
    wake();
  });
  video.addEventListener('timeupdate', () => {
    showPlaying(root, s, video.currentTime);
    wake();
  });
  ms.addEventListener('sourceopen', () => run(root, ui, cfg, s, ms).catch((e) => fail(ui, root, `Playback stopped: ${e.message || e}`)), { once: true });
}

function showPlaying(root, s, t) {
  for (let i = s.appended.length - 1; i >= 0; i--) {
    const a = s.appended[i];
    if (a.t0 - 0.05 <= t && t < a.t1) {
      root.dataset.level = String(a.level.height);
      root.dataset.codec = family(a.level.codecs);
      return;
    }
  }
}

function buildMenu(root, ui, s) {
  ui.quality.hidden = s.levels.length < 2;
  const several = new Set(s.levels.map((l) => family(l.codecs))).size > 1;
  const items = [{ label: 'Auto', index: -1 }].concat(
    [...s.levels.keys()].reverse().map((i) => ({ label: `${s.levels[i].height}p${several ? ' ' + family(s.levels[i].codecs) : ''}`, index: i })),
  );
  ui.menu.replaceChildren();
  for (const item of items) {
    const li = el('li', { role: 'none' });
    const b = el('button', { type: 'button', role: 'menuitemradio', 'aria-checked': String(item.index === s.manual), 'data-height': item.index < 0 ? 'auto' : String(s.levels[item.index].height) }, item.label);
    b.addEventListener('click', () => {
      s.manual = item.index;
      s.pendingSwitch = true;
      for (const other of ui.menu.querySelectorAll('button')) other.setAttribute('aria-checked', String(other === b));
      ui.quality.textContent = item.index < 0 ? 'Auto' : item.label;
      ui.menu.hidden = true;
      ui.quality.setAttribute('aria-expanded', 'false');
      if (s.wake) s.wake();
    });
    li.append(b);
    ui.menu.append(li);
  }
}

/// The level automatic mode wants: the best one the bandwidth carries, no taller than the
/// player shows (in device pixels), never below the smallest.
function autoLevel(s, video) {
  const shown = Math.max(240, (video.clientHeight || 360) * (window.devicePixelRatio || 1));
  let best = 0;
  s.levels.forEach((l, i) => {
    const fits = l.bandwidth <= s.bandwidth * SAFETY;
    const smallEnough = i === 0 || s.levels[i - 1].height < shown;
    if (fits && smallEnough) best = i;
  });
  return best;
}

async function media(level) {
  if (!level.media) level.media = parseMedia(await fetchText(level.url), level.url);
  return level.media;
}

function segmentAt(m, t) {
  const i = m.segments.findIndex((g) => g.t0 <= t && t < g.t1);
  if (i >= 0) return i;
  return t < 0 ? 0 : -1;
}

function bufferedEnd(video, t) {
  const b = video.buffered;
  for (let i = 0; i < b.length; i++) if (b.start(i) - 0.3 <= t && t <= b.end(i)) return b.end(i);
  return null;
}

function whenUpdated(sb) {
  return new Promise((resolve, reject) => {
    const done = () => {
      sb.removeEventListener('updateend', done);
      sb.removeEventListener('error', failed);
      resolve();
    };
    const failed = () => {
      sb.removeEventListener('updateend', done);
      sb.removeEventListener('error', failed);
      reject(new Error('the browser could not decode a segment'));
    };
    sb.addEventListener('updateend', done);
    sb.addEventListener('error', failed);
  });
}

async function append(s, video, data) {
  for (let attempt = 0; ; attempt++) {
    try {
      const done = whenUpdated(s.sb);
      s.sb.appendBuffer(data);
      return await done;
    } catch (e) {
      // A full buffer: drop what was played and try once more.
      if (e.name !== 'QuotaExceededError' || attempt > 0) throw e;
      await removeRange(s, 0, Math.max(0, video.currentTime - 2));
    }
  }
}

async function removeRange(s, from, to) {
  if (to <= from) return;
  const done = whenUpdated(s.sb);
  s.sb.remove(from, to);
  await done;
}

function sleep(s, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    s.wake = () => {
      clearTimeout(timer);
      s.wake = null;
      resolve();
    };
  });
}

async function run(root, ui, cfg, s, ms) {
  const { video } = ui;
  const first = s.levels[autoLevel(s, video)];
  const firstMedia = await media(first);
  ms.duration = firstMedia.duration;
  s.sb = ms.addSourceBuffer(mimeOf(first));
  s.sbCodecs = first.codecs;
  if (cfg.start > 0) video.currentTime = Math.min(cfg.start, firstMedia.duration - 0.5);
  s.next = { level: first, idx: Math.max(0, segmentAt(firstMedia, video.currentTime)) };
  root.dataset.state = 'paused';
  let failures = 0;
  for (;;) {
    const t = video.currentTime;
    const target = s.levels[s.manual >= 0 ? s.manual : autoLevel(s, video)];
    if (s.seeking) {
      s.seeking = false;
      const end = bufferedEnd(video, t);
      const at = end !== null && end > t + 0.5 ? end + 0.05 : t;
      const m = await media(end !== null && end > t + 0.5 ? s.next.level : target);
      const idx = segmentAt(m, at);
      s.next = { level: end !== null && end > t + 0.5 ? s.next.level : target, idx: idx < 0 ? m.segments.length : idx };
      s.ended = false;
    }
    if (s.pendingSwitch || target !== s.next.level) s.next = await switchTo(s, video, target);
    const m = await media(s.next.level);
    if (s.next.idx >= m.segments.length) {
      if (!s.ended && !s.sb.updating && ms.readyState === 'open') {
        s.ended = true;
        ms.endOfStream();
      }
      await sleep(s, 1000);
      continue;
    }
    const seg = m.segments[s.next.idx];
    if (seg.t0 > t + AHEAD_SECS) {
      await evict(s, video);
      await sleep(s, 1000);
      continue;
    }
    try {
      await ensureInit(s, video, s.next.level);
      s.abort = new AbortController();
      const { data, ms: took } = await fetchBytes(seg, s.abort.signal);
      s.abort = null;
      if (s.seeking) continue; // a seek arrived while fetching: this segment may be the wrong one
      if (s.ended && ms.readyState === 'ended') s.ended = false;
      await append(s, video, data);
      measure(s, data.byteLength, took);
      s.appended.push({ level: s.next.level, t0: seg.t0, t1: seg.t1 });
      if (s.appended.length > 400) s.appended.splice(0, 200);
      showPlaying(root, s, video.currentTime);
      s.next = { level: s.next.level, idx: s.next.idx + 1 };
      failures = 0;
    } catch (e) {
      s.abort = null;
      if (e.name === 'AbortError') continue;
      if (++failures > 4) throw e;
      await sleep(s, 500 * 2 ** failures);
    }
  }
}

/// Move the next fetch to `target`. A switch the viewer asked for shows from the first segment
/// boundary after the playhead (the buffer beyond it is dropped); an automatic one continues
/// from the end of what is buffered, overlapping when the renditions' segments do not align.
async function switchTo(s, video, target) {
  const m = await media(target);
  if (s.pendingSwitch) {
    s.pendingSwitch = false;
    const from = video.currentTime + SWITCH_MARGIN_SECS;
    const idx = m.segments.findIndex((g) => g.t0 >= from);
    if (idx < 0) return { level: target, idx: m.segments.length };
    await removeRange(s, m.segments[idx].t0, Infinity);
    return { level: target, idx };
  }
  const end = bufferedEnd(video, video.currentTime);
  const idx = segmentAt(m, end === null ? video.currentTime : end + 0.05);
  return { level: target, idx: idx < 0 ? m.segments.length : idx };
}

async function ensureInit(s, video, level) {
  if (s.sbLevel === level) return;
  if (!level.init) level.init = (await fetchBytes((await media(level)).init)).data;
  if (s.sbCodecs !== level.codecs) {
    s.sb.changeType(mimeOf(level));
    s.sbCodecs = level.codecs;
  }
  await append(s, video, level.init);
  s.sbLevel = level;
}

function measure(s, bytes, ms) {
  // Tiny responses say more about latency than bandwidth.
  if (bytes < 16_384) return;
  const bps = (bytes * 8 * 1000) / ms;
  s.bandwidth = s.bandwidth * 0.6 + bps * 0.4;
}

async function evict(s, video) {
  const keepFrom = video.currentTime - BEHIND_SECS;
  const b = video.buffered;
  if (b.length && b.start(0) < keepFrom - 5 && !s.sb.updating) await removeRange(s, 0, keepFrom);
}

const playerRoot = document.getElementById('player');
if (playerRoot) start(playerRoot);

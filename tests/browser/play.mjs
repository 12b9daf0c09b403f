// Vireo browser playback checker.
//
// Plays an HLS master playlist in headless Debian Chromium through MSE with
// hls.js (both from this folder's node_modules, pinned in package.json) and
// reports, as one JSON object on stdout, whether playback really happened:
// success = video.currentTime passed --min-time (default 1.0 s) with no fatal
// hls.js error and no <video> element error (and, with --level N, while the
// fragment being played came from level N). Exit code: 0 ok, 1 failure,
// 2 bad usage. It always lists the levels (renditions) hls.js parsed and
// MediaSource.isTypeSupported() for a few codec strings. With --progressive the
// URL is a progressive MP4, given to the <video> element as its src (no hls.js,
// no MSE): how browsers play PeerTube's web videos and downloads.
//
//   node play.mjs <masterUrl> [--level N] [--timeout-ms 20000] [--min-time 1.0]
//                 [--screenshot out.png] [--codec 'video/mp4; codecs="..."']...
//                 [--progressive]
//
// The page and hls.js are served by a throwaway HTTP server that this script
// starts on 127.0.0.1 (random port); the playlist and segments are fetched
// cross-origin, so the server under test must send Access-Control-Allow-Origin.
// Only loopback URLs are accepted, and Chromium is pointed at a dead proxy
// for every non-loopback host, so nothing leaves the machine.
// Setup on a fresh Debian: `apt-get install -y chromium nodejs npm` then
// `npm ci` in this folder (playwright-core downloads no browser).
// Env: CHROMIUM_PATH (default /usr/bin/chromium).

import http from 'node:http';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const t0 = Date.now();
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const HLS_JS = here('./node_modules/hls.js/dist/hls.min.js');
const HLS_JS_VERSION = JSON.parse(fs.readFileSync(here('./node_modules/hls.js/package.json'), 'utf8')).version;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const DEFAULT_CODECS = [
  'video/mp4; codecs="avc1.4d401f,mp4a.40.2"', // H.264 Main 3.1 + AAC-LC
  'video/mp4; codecs="avc1.42e01e"', // H.264 Baseline 3.0
  'video/mp4; codecs="avc1.640028"', // H.264 High 4.0
  'audio/mp4; codecs="mp4a.40.2"', // AAC-LC
  'video/mp4; codecs="av01.0.05M.08"', // AV1 Main 8-bit level 3.1
  'video/mp4; codecs="av01.0.05M.08,opus"',
  'audio/mp4; codecs="opus"',
  'video/mp4; codecs="vp09.00.10.08"', // VP9 in fMP4
  'video/mp4; codecs="hvc1.1.6.L93.B0"', // HEVC Main
];

function usage(msg) {
  if (msg) process.stderr.write(`play.mjs: ${msg}\n`);
  process.stderr.write(
    'usage: node play.mjs <masterUrl> [--level N] [--timeout-ms 20000] [--min-time 1.0] ' +
      '[--screenshot out.png] [--codec TYPE]...\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = { url: null, level: null, timeoutMs: 20000, minTime: 1.0, screenshot: null, codecs: [], progressive: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--level') o.level = Number(val());
    else if (a === '--timeout-ms') o.timeoutMs = Number(val());
    else if (a === '--min-time') o.minTime = Number(val());
    else if (a === '--screenshot') o.screenshot = val();
    else if (a === '--codec') o.codecs.push(val());
    else if (a === '--progressive') o.progressive = true;
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (o.url === null) o.url = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!o.url) usage('missing <masterUrl>');
  if (o.level !== null && !(Number.isInteger(o.level) && o.level >= 0)) usage('--level must be an integer >= 0');
  if (o.level !== null && o.progressive) usage('--level is for HLS, not --progressive');
  if (!(o.timeoutMs > 0)) usage('--timeout-ms must be > 0');
  if (!(o.minTime >= 0)) usage('--min-time must be >= 0');
  let u;
  try {
    u = new URL(o.url);
  } catch {
    usage(`not a URL: ${o.url}`);
  }
  const h = u.hostname;
  if (!/^https?:$/.test(u.protocol) || !(h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h))) {
    usage(`only http(s) URLs on loopback (127.0.0.0/8, localhost, [::1]) are allowed: ${o.url}`);
  }
  return o;
}

// ---- the page (runs inside Chromium) ---------------------------------------
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>vireo play check</title>
<style>body{margin:0;background:#222;color:#eee;font:12px monospace}video{width:640px;height:360px;background:#000;display:block}</style>
<script src="/hls.min.js"></script></head>
<body><video id="v" muted playsinline autoplay></video><pre id="log"></pre>
<script>
(() => {
  const q = new URLSearchParams(location.search);
  const src = q.get('src');
  const level = q.has('level') ? Number(q.get('level')) : null;
  const progressive = q.has('progressive');
  const minTime = Number(q.get('minTime'));
  const codecs = JSON.parse(q.get('codecs'));
  const video = document.getElementById('v');
  const S = (window.__vireo = {
    done: false, ok: false, reason: null,
    hlsjsVersion: typeof Hls !== 'undefined' ? Hls.version : null,
    hlsSupported: typeof Hls !== 'undefined' && Hls.isSupported(),
    codecSupport: {}, levels: [], audioTracks: [], requestedLevel: level,
    playingLevel: null, playedLevels: [], levelSwitches: [], fragsBuffered: 0,
    hlsErrors: [], videoError: null, firstProgressMs: null,
  });
  for (const c of codecs) {
    S.codecSupport[c] = typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported(c);
  }
  const t0 = performance.now();
  const finish = (ok, reason) => {
    if (S.done) return;
    S.ok = ok; S.reason = reason; S.done = true;
    document.getElementById('log').textContent = (ok ? 'OK ' : 'FAIL ') + reason;
  };
  const check = () => {
    if (S.done) return;
    if (video.currentTime > 0 && S.firstProgressMs === null) S.firstProgressMs = Math.round(performance.now() - t0);
    if (video.currentTime > minTime) {
      if (level !== null && S.playingLevel !== level) {
        return finish(false, 'played past ' + minTime + ' s but from level ' + S.playingLevel + ', not requested level ' + level);
      }
      finish(true, 'currentTime ' + video.currentTime.toFixed(3) + ' s > ' + minTime + ' s');
    }
  };
  video.addEventListener('error', () => {
    const e = video.error;
    S.videoError = e ? { code: e.code, message: e.message } : { code: null, message: 'unknown' };
    finish(false, 'video element error code ' + S.videoError.code + ': ' + S.videoError.message);
  });
  video.addEventListener('timeupdate', check);
  video.addEventListener('ended', () => {
    check();
    finish(false, 'media ended at ' + video.currentTime.toFixed(3) + ' s, before ' + minTime + ' s');
  });
  if (progressive) {
    video.src = src;
    const p = video.play();
    if (p && p.catch) p.catch((e) => S.hlsErrors.push({ type: 'play()', details: String(e), fatal: false }));
    return;
  }
  if (!S.hlsSupported) return finish(false, 'hls.js not loaded or MSE not supported');

  const hls = (window.__hls = new Hls({ startLevel: level === null ? -1 : level, capLevelToPlayerSize: false }));
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, d) => {
    S.levels = d.levels.map((l, index) => ({
      index, bitrate: l.bitrate, width: l.width, height: l.height, frameRate: l.frameRate || null,
      codecs: [l.videoCodec, l.audioCodec].filter(Boolean).join(',') || l.codecSet || null,
      videoCodec: l.videoCodec || null, audioCodec: l.audioCodec || null, name: l.name || null,
      url: l.uri || (Array.isArray(l.url) ? l.url[0] : l.url),
    }));
    if (level !== null) {
      if (level >= d.levels.length) {
        return finish(false, 'requested level ' + level + ' but hls.js parsed ' + d.levels.length + ' level(s)');
      }
      hls.loadLevel = level; // manual mode: ABR off, every fragment from this level
    }
    const p = video.play();
    if (p && p.catch) p.catch((e) => S.hlsErrors.push({ type: 'play()', details: String(e), fatal: false }));
  });
  hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, (_e, d) => {
    S.audioTracks = d.audioTracks.map((t) => ({ id: t.id, name: t.name, lang: t.lang || null, groupId: t.groupId, default: t.default }));
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_e, d) => S.levelSwitches.push(d.level));
  hls.on(Hls.Events.FRAG_BUFFERED, () => S.fragsBuffered++);
  hls.on(Hls.Events.FRAG_CHANGED, (_e, d) => {
    S.playingLevel = d.frag.level;
    if (!S.playedLevels.includes(d.frag.level)) S.playedLevels.push(d.frag.level);
  });
  hls.on(Hls.Events.ERROR, (_e, d) => {
    const err = {
      type: d.type, details: d.details, fatal: !!d.fatal,
      url: (d.context && d.context.url) || (d.frag && d.frag.url) || (d.url) || null,
      httpStatus: (d.response && d.response.code) || null,
      reason: d.reason || (d.error && String(d.error.message || d.error)) || null,
    };
    if (S.hlsErrors.length < 50) S.hlsErrors.push(err);
    if (d.fatal) {
      finish(false, 'hls.js fatal ' + d.type + '/' + d.details +
        (err.httpStatus ? ' HTTP ' + err.httpStatus : '') + (err.url ? ' ' + err.url : '') +
        (err.reason ? ': ' + err.reason : ''));
    }
  });
  hls.attachMedia(video);
  hls.loadSource(src);
})();
</script></body></html>`;

// ---- static server for the page and hls.js ---------------------------------
function startServer() {
  const hlsJs = fs.readFileSync(HLS_JS);
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(PAGE);
    } else if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
    } else if (path === '/hls.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(hlsJs);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// ---- main ------------------------------------------------------------------
const opts = parseArgs(process.argv.slice(2));
const codecs = [...DEFAULT_CODECS, ...opts.codecs];
const out = {
  ok: false, reason: null, url: opts.url, requestedLevel: opts.level, minTime: opts.minTime,
  timeoutMs: opts.timeoutMs, currentTime: null, playingLevel: null, playedLevels: [], levelSwitches: [],
  videoWidth: null, videoHeight: null, levels: [], audioTracks: [], codecSupport: {},
  hlsErrors: [], videoError: null, media: null, failedRequests: [], consoleErrors: [], pageErrors: [],
  versions: { hlsjs: HLS_JS_VERSION, chromium: null, playwrightCore: null },
  timings: {}, screenshot: null,
};
try {
  out.versions.playwrightCore = JSON.parse(
    fs.readFileSync(here('./node_modules/playwright-core/package.json'), 'utf8'),
  ).version;
} catch {}

let browser = null;
let server = null;
// Last resort if something hangs outside the page-level timeout.
const watchdog = setTimeout(() => {
  out.reason = out.reason || `watchdog: checker did not finish within ${opts.timeoutMs + 60000} ms`;
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  process.exit(1);
}, opts.timeoutMs + 60000);
watchdog.unref();

try {
  server = await startServer();
  const pageOrigin = `http://127.0.0.1:${server.address().port}`;

  const tLaunch = Date.now();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    args: [
      // playwright-core itself adds --headless, --no-sandbox (fine as root),
      // --disable-dev-shm-usage, --enable-unsafe-swiftshader, --mute-audio.
      '--autoplay-policy=no-user-gesture-required',
      // Any non-loopback request goes to a closed port (loopback is implicitly bypassed).
      '--proxy-server=http://127.0.0.1:9',
      '--disable-domain-reliability',
    ],
  });
  out.versions.chromium = browser.version();
  out.timings.launchMs = Date.now() - tLaunch;

  const page = await browser.newPage({ viewport: { width: 660, height: 400 } });
  page.on('requestfailed', (r) => {
    if (out.failedRequests.length < 20) out.failedRequests.push({ url: r.url(), error: r.failure()?.errorText });
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && out.failedRequests.length < 20) out.failedRequests.push({ url: r.url(), status: r.status() });
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && out.consoleErrors.length < 20) out.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => {
    if (out.pageErrors.length < 20) out.pageErrors.push(String(e));
  });

  const q = new URLSearchParams({ src: opts.url, minTime: String(opts.minTime), codecs: JSON.stringify(codecs) });
  if (opts.level !== null) q.set('level', String(opts.level));
  if (opts.progressive) q.set('progressive', '1');
  const tPlay = Date.now();
  await page.goto(`${pageOrigin}/?${q}`, { waitUntil: 'load', timeout: 15000 });

  let timedOut = false;
  try {
    await page.waitForFunction(() => window.__vireo && window.__vireo.done, null, {
      timeout: opts.timeoutMs,
      polling: 100,
    });
  } catch (e) {
    if (!/Timeout/i.test(String(e))) throw e;
    timedOut = true;
  }
  out.timings.playMs = Date.now() - tPlay;

  const st = await page.evaluate(() => {
    const v = document.getElementById('v');
    const S = window.__vireo || {};
    const buffered = [];
    for (let i = 0; v && i < v.buffered.length; i++) buffered.push([v.buffered.start(i), v.buffered.end(i)]);
    const qv = v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null;
    return {
      ...S,
      currentTime: v ? v.currentTime : null,
      videoWidth: v ? v.videoWidth : null,
      videoHeight: v ? v.videoHeight : null,
      readyState: v ? v.readyState : null,
      networkState: v ? v.networkState : null,
      paused: v ? v.paused : null,
      buffered,
      frames: qv ? { total: qv.totalVideoFrames, dropped: qv.droppedVideoFrames } : null,
    };
  });
  Object.assign(out, {
    ok: !!st.ok && !timedOut,
    reason: timedOut
      ? `timeout after ${opts.timeoutMs} ms: currentTime ${Number(st.currentTime).toFixed(3)} s, ` +
        `readyState ${st.readyState}, ${st.fragsBuffered ?? 0} fragment(s) buffered` +
        (st.hlsSupported === false ? ', hls.js/MSE unavailable' : '')
      : st.reason,
    currentTime: st.currentTime,
    playingLevel: st.playingLevel ?? null,
    playedLevels: st.playedLevels || [],
    levelSwitches: st.levelSwitches || [],
    videoWidth: st.videoWidth,
    videoHeight: st.videoHeight,
    levels: st.levels || [],
    audioTracks: st.audioTracks || [],
    codecSupport: st.codecSupport || {},
    hlsErrors: st.hlsErrors || [],
    videoError: st.videoError || null,
    media: {
      readyState: st.readyState, networkState: st.networkState, paused: st.paused,
      buffered: st.buffered, frames: st.frames, fragsBuffered: st.fragsBuffered, firstProgressMs: st.firstProgressMs,
    },
  });
  if (st.hlsjsVersion) out.versions.hlsjs = st.hlsjsVersion;
  if (!out.ok) {
    const cors = out.consoleErrors.find((m) => /CORS policy/.test(m));
    if (cors) out.reason += ` [CORS: ${cors}]`;
    if (out.videoError && !/video element error/.test(out.reason)) {
      out.reason += ` [video error ${out.videoError.code}: ${out.videoError.message}]`;
    }
  }

  if (opts.screenshot) {
    await page.screenshot({ path: opts.screenshot });
    out.screenshot = opts.screenshot;
  }
} catch (e) {
  out.ok = false;
  out.reason = `checker error: ${e && e.message ? e.message.split('\n').slice(0, 6).join(' | ') : e}`;
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) server.close();
  out.timings.totalMs = Date.now() - t0;
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
process.exit(out.ok ? 0 : 1);

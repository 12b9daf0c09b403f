// Vireo web UI end-to-end check, in headless Debian Chromium (playwright-core).
//
// Against a running Vireo, as a user would: log in through the form, upload a video file
// through the upload page and wait for its progress bar to reach 100 % and for processing to
// make it watchable (and then every quality), open its watch page, play it in Vireo's own
// player at each quality its menu offers (currentTime must advance by --min-play seconds
// while the player says that quality is playing, with no media error), search for it with
// the search box, then log out. Screenshots of the main pages at desktop and phone widths
// go to --out. Prints one JSON report; exit code 0 when every step passed, 1 otherwise.
//
//   node ui.mjs <baseUrl> --user U --password P --file video.mp4 --title T --search WORD
//               --out DIR [--big-file bigger.mp4] [--min-play 1.0] [--timeout-ms 240000]
//
// With --big-file (more than one 8 MiB chunk), an upload of it is cut off after its first chunk
// by a reload, must show where it stopped, and must finish once the file is chosen again.
//
// Only loopback base URLs are accepted, and Chromium is pointed at a dead proxy for any
// other host, so nothing leaves the machine. Env: CHROMIUM_PATH (default /usr/bin/chromium).

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { waitPlayer } from './player.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function usage(msg) {
  process.stderr.write(`ui.mjs: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { base: null, user: null, password: null, file: null, bigFile: null, title: null, search: null, out: null, minPlay: 1.0, timeoutMs: 240000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--user') o.user = val();
    else if (a === '--password') o.password = val();
    else if (a === '--file') o.file = val();
    else if (a === '--big-file') o.bigFile = val();
    else if (a === '--title') o.title = val();
    else if (a === '--search') o.search = val();
    else if (a === '--out') o.out = val();
    else if (a === '--min-play') o.minPlay = Number(val());
    else if (a === '--timeout-ms') o.timeoutMs = Number(val());
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (!o.base) o.base = a.replace(/\/$/, '');
    else usage(`unexpected argument ${a}`);
  }
  for (const k of ['base', 'user', 'password', 'file', 'title', 'search', 'out']) if (!o[k]) usage(`missing --${k}`);
  const h = new URL(o.base).hostname;
  if (!(h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h))) usage(`only loopback URLs: ${o.base}`);
  return o;
}

const o = parseArgs(process.argv.slice(2));
fs.mkdirSync(o.out, { recursive: true });
const report = { ok: false, steps: [], screenshots: [], levels: [], played: [], consoleErrors: [], cspViolations: [], failedRequests: [], viewReports: [] };
const step = (name, detail = {}) => report.steps.push({ name, ms: Date.now() - t0, ...detail });
const t0 = Date.now();

// Set while the test itself cuts a connection (the browser logs the reset it causes).
let cutting = false;

function watchPage(page) {
  page.on('console', (m) => {
    if (cutting && m.text().includes('ERR_CONNECTION_RESET')) return;
    if (m.type() === 'error' && report.consoleErrors.length < 30) report.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => report.consoleErrors.push(`pageerror: ${e.message}`));
  // The player's reports of what is watched (view counting).
  page.on('response', (r) => {
    if (r.request().method() === 'POST' && /\/api\/v1\/videos\/[^/]+\/views$/.test(r.url())) report.viewReports.push(r.status());
  });
  page.on('requestfailed', (r) => {
    // Aborted segment fetches after a seek or a switch are the player's own doing.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED' && report.failedRequests.length < 20) report.failedRequests.push({ url: r.url(), error: r.failure()?.errorText });
  });
}

async function shot(page, name) {
  const file = path.join(o.out, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  report.screenshots.push(file);
}

/// Collect CSP violations the page reports (they are events in the page, not console lines).
async function trackCsp(page) {
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

async function cspOf(page) {
  const v = await page.evaluate(() => window.__csp || []);
  report.cspViolations.push(...v);
}


let browser;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--autoplay-policy=no-user-gesture-required', '--proxy-server=http://127.0.0.1:9', '--disable-domain-reliability'],
  });
  report.chromium = browser.version();
  const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await desktop.newPage();
  watchPage(page);
  await trackCsp(page);

  // Log in.
  await page.goto(`${o.base}/login?next=/videos/upload`);
  await shot(page, 'desktop-login');
  await page.fill('input[name="username"]', o.user);
  await page.fill('input[name="password"]', o.password);
  await Promise.all([page.waitForURL(`${o.base}/videos/upload`), page.click('form.stack button[type="submit"]')]);
  if (!(await page.isVisible('text=Log out'))) throw new Error('not logged in after the login form');
  step('logged in');

  // Upload through the page.
  await page.setInputFiles('#file', o.file);
  await page.fill('#name', o.title);
  await page.fill('#description', 'Uploaded by the **browser** test.');
  await page.click('#start');
  await page.waitForFunction(() => document.getElementById('sending-bar').value === 100, null, { timeout: o.timeoutMs });
  report.uploadText = await page.textContent('#sending-text');
  step('upload bar at 100 %', { text: report.uploadText });
  await page.waitForSelector('#ready:not([hidden])', { timeout: o.timeoutMs });
  step('watchable');
  await page.waitForFunction(() => /every quality/.test(document.getElementById('processing-text').textContent), null, { timeout: o.timeoutMs });
  report.processingText = await page.textContent('#processing-text');
  step('every quality ready', { text: report.processingText });
  await shot(page, 'desktop-upload');
  await cspOf(page);

  // Watch it at each quality.
  await Promise.all([page.waitForURL(/\/w\//), page.click('#watch-link')]);
  report.watchUrl = page.url();
  await waitPlayer(page, (s) => s.state === 'paused' && s.levels, 15000);
  await page.click('.vp-big-play');
  let s = await waitPlayer(page, (x) => x.state === 'playing' && x.t > 0.2, 20000);
  report.levels = s.levels.split(',').map(Number);
  step('playing', { level: s.level, codec: s.codec });
  if (report.levels.length < 2) throw new Error(`only ${report.levels.length} quality offered: ${s.levels}`);
  for (const height of [...report.levels].reverse()) {
    // Start from the beginning each time so every quality has the whole video to play.
    await page.evaluate(() => {
      const v = document.querySelector('#player video');
      v.currentTime = 0;
      return v.play();
    });
    await page.click('.vp-quality');
    await page.click(`.vp-menu button[data-height="${height}"]`);
    const at = await waitPlayer(page, (x) => x.level === String(height) && !x.paused, 20000);
    const done = await waitPlayer(page, (x) => x.level === String(height) && x.t >= at.t + o.minPlay, 20000);
    report.played.push({ height, codec: done.codec, from: at.t, to: done.t });
    step(`played ${height}p`, { codec: done.codec, from: at.t, to: done.t });
  }
  await page.mouse.move(640, 300);
  await page.mouse.move(600, 320);
  await page.waitForTimeout(300);
  await shot(page, 'desktop-watch');
  await cspOf(page);

  // Keyboard: k pauses, m mutes (and is remembered).
  await page.keyboard.press('k');
  await page.waitForFunction(() => document.querySelector('#player video').paused, null, { timeout: 5000 });
  await page.keyboard.press('m');
  await page.waitForFunction(() => localStorage.getItem('vireo.muted') === '1', null, { timeout: 5000 });
  report.mutedRemembered = await page.evaluate(() => localStorage.getItem('vireo.muted'));
  await page.keyboard.press('m');
  step('keyboard', { muted: report.mutedRemembered });
  // Playing, seeking and pausing were reported, and the server took every report.
  if (report.viewReports.length < 3 || report.viewReports.some((st) => st !== 204)) throw new Error(`view reports: ${JSON.stringify(report.viewReports)}`);
  step('views reported', { reports: report.viewReports.length });

  // Like it, as the logged-in user: the button shows it at once, the server keeps it (the
  // page reloaded shows it pressed), and pressing it again takes it back.
  const likeButton = '.rating button[data-kind="like"]';
  const likedNow = () => page.waitForFunction(
    (sel) => document.querySelector(sel)?.getAttribute('aria-pressed') === 'true' && document.querySelector(`${sel} .n`).textContent === '1',
    likeButton, { timeout: 5000 });
  await page.click(likeButton);
  await likedNow();
  await page.reload();
  await likedNow();
  report.likeAfterReload = await page.textContent(`${likeButton} .n`);
  await page.click(likeButton);
  await page.waitForFunction(
    (sel) => document.querySelector(sel).getAttribute('aria-pressed') === 'false' && document.querySelector(`${sel} .n`).textContent === '0',
    likeButton, { timeout: 5000 });
  const uuid = await page.evaluate(() => document.querySelector('.rating').dataset.rate.split('/')[4]);
  report.ratingAfterUnlike = await page.evaluate(async (id) => (await (await fetch(`/api/v1/users/me/videos/${id}/rating`)).json()).rating, uuid);
  if (report.ratingAfterUnlike !== 'none') throw new Error(`rating after taking the like back: ${report.ratingAfterUnlike}`);
  step('liked, kept, taken back');

  // Search for it.
  await page.fill('#q', o.search);
  await Promise.all([page.waitForURL(/\/search\?/), page.press('#q', 'Enter')]);
  const found = await page.$$eval('.cards .card .title', (as) => as.map((a) => ({ text: a.textContent, href: a.getAttribute('href') })));
  report.searchResults = found;
  const watchPath = new URL(report.watchUrl).pathname;
  if (!found.some((f) => f.href === watchPath)) throw new Error(`search for "${o.search}" did not find ${watchPath}: ${JSON.stringify(found)}`);
  step('search finds it');
  await shot(page, 'desktop-search');
  await page.goto(`${o.base}/admin/settings`);
  await shot(page, 'desktop-settings');
  await cspOf(page);

  // A start time in the link: playback starts there.
  await page.goto(`${o.base}${watchPath}?start=0m5s`);
  await waitPlayer(page, (x) => x.state === 'paused' && x.levels, 15000);
  await page.click('.vp-big-play');
  const started = await waitPlayer(page, (x) => x.state === 'playing' && x.t > 5, 20000);
  step('start=0m5s', { t: started.t });

  // A browser that decodes none of the renditions is told so, with the codecs on offer.
  const blind = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await blind.addInitScript(() => {
    const no = () => false;
    if (window.MediaSource) window.MediaSource.isTypeSupported = no;
    HTMLMediaElement.prototype.canPlayType = () => '';
  });
  const bpage = await blind.newPage();
  await bpage.goto(`${o.base}${watchPath}`);
  await bpage.waitForSelector('#player .vp-message:not([hidden])', { timeout: 15000 });
  report.unsupportedMessage = await bpage.textContent('#player .vp-message');
  if (!/cannot play/.test(report.unsupportedMessage) || !/AV1/.test(report.unsupportedMessage) || !/H\.264/.test(report.unsupportedMessage)) {
    throw new Error(`unclear message for a browser without the codecs: ${report.unsupportedMessage}`);
  }
  await shot(bpage, 'desktop-unsupported');
  await blind.close();
  step('unsupported browser told why');

  await page.goto(`${o.base}/`);
  await shot(page, 'desktop-home');
  await cspOf(page);
  const channel = await page.getAttribute('.card .channel', 'href');
  await page.goto(`${o.base}${channel}`);
  await shot(page, 'desktop-channel');
  await cspOf(page);

  // Phone width, logged in (the header holds the most then).
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, storageState: await desktop.storageState() });
  const ppage = await phone.newPage();
  watchPage(ppage);
  await trackCsp(ppage);
  for (const [name, url] of [['phone-home', '/'], ['phone-watch', watchPath], ['phone-search', `/search?search=${encodeURIComponent(o.search)}`]]) {
    await ppage.goto(`${o.base}${url}`);
    await ppage.waitForTimeout(300);
    await shot(ppage, name);
    await cspOf(ppage);
  }
  for (const url of ['/', watchPath, '/my-library/videos', '/videos/upload', '/admin/users', '/admin/settings']) {
    await ppage.goto(`${o.base}${url}`);
    const overflow = await ppage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) throw new Error(`the phone page ${url} is ${overflow} px wider than the screen`);
  }
  await shot(ppage, 'phone-admin');
  step('phone pages');

  // An upload cut off by a reload continues from where it stopped once the file is chosen again.
  if (o.bigFile) {
    await page.goto(`${o.base}/videos/upload`);
    await page.setInputFiles('#file', o.bigFile);
    await page.fill('#name', 'Resumed after a reload');
    let puts = 0;
    let cut;
    const wasCut = new Promise((resolve) => (cut = resolve));
    await page.route('**/api/v1/videos/upload-resumable?upload_id=*', async (route) => {
      if (route.request().method() !== 'PUT') return route.continue();
      puts += 1;
      if (puts === 1) return route.continue();
      // The second chunk never arrives: the page is reloaded meanwhile.
      await route.abort('connectionreset');
      cut();
    });
    cutting = true;
    await page.click('#start');
    await wasCut;
    await page.unroute('**/api/v1/videos/upload-resumable?upload_id=*');
    await page.reload();
    cutting = false;
    await page.waitForSelector('#resume:not([hidden])', { timeout: 10000 });
    report.resumeText = await page.textContent('#resume-text');
    const kept = await page.evaluate(() => document.getElementById('sending-bar').value);
    if (!(kept > 0 && kept < 100)) throw new Error(`after the reload the bar shows ${kept} %`);
    await shot(page, 'desktop-upload-resume');
    await page.setInputFiles('#file', o.bigFile);
    await page.click('#start');
    await page.waitForFunction(() => document.getElementById('sending-bar').value === 100, null, { timeout: o.timeoutMs });
    await page.waitForSelector('#ready:not([hidden])', { timeout: o.timeoutMs });
    report.resumedPuts = puts;
    step('upload resumed after a reload', { kept, text: report.resumeText });
  }

  // Log out.
  await page.goto(`${o.base}/`);
  await Promise.all([page.waitForURL(`${o.base}/`), page.click('text=Log out')]);
  if (!(await page.isVisible('a.button:has-text("Log in")'))) throw new Error('still logged in after logging out');
  step('logged out');

  if (report.cspViolations.length) throw new Error(`CSP violations: ${report.cspViolations.join('; ')}`);
  if (report.consoleErrors.length) throw new Error(`console errors: ${report.consoleErrors.join('; ')}`);
  report.ok = true;
} catch (e) {
  report.error = String(e && e.stack ? e.stack : e);
} finally {
  if (browser) await browser.close().catch(() => {});
  report.ms = Date.now() - t0;
  process.stdout.write(JSON.stringify(report, null, 1) + '\n');
  process.exit(report.ok ? 0 : 1);
}

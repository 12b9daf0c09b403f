// Plays one video on a Vireo watch page in headless Debian Chromium (playwright-core), as a
// visitor would: open the page, press the big play button, and wait until the player has
// played --min-play seconds with no media error, no CSP violation and no failed request.
// Reports which hosts the media came from (a remote video's come from its origin).
//
//   node watch.mjs <watchPageUrl> [--min-play 1.0] [--timeout-ms 60000] [--screenshot FILE]
//
// Only loopback URLs are accepted, and Chromium is pointed at a dead proxy for any other
// host, so nothing leaves the machine. Prints one JSON report; exit code 0 when it played.
// Env: CHROMIUM_PATH (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { waitPlayer } from './player.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function usage(msg) {
  process.stderr.write(`watch.mjs: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { url: null, minPlay: 1.0, timeoutMs: 60000, screenshot: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--min-play') o.minPlay = Number(val());
    else if (a === '--timeout-ms') o.timeoutMs = Number(val());
    else if (a === '--screenshot') o.screenshot = val();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (!o.url) o.url = a;
    else usage(`unexpected argument ${a}`);
  }
  if (!o.url) usage('missing the watch page URL');
  const h = new URL(o.url).hostname;
  if (!(h === 'localhost' || h === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(h))) usage(`only loopback URLs: ${o.url}`);
  return o;
}

const o = parseArgs(process.argv.slice(2));
const report = { ok: false, url: o.url, consoleErrors: [], cspViolations: [], failedRequests: [], mediaHosts: [] };


let browser;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--autoplay-policy=no-user-gesture-required', '--proxy-server=http://127.0.0.1:9', '--disable-domain-reliability'],
  });
  report.chromium = browser.version();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && report.consoleErrors.length < 30) report.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => report.consoleErrors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED' && report.failedRequests.length < 20) report.failedRequests.push({ url: r.url(), error: r.failure()?.errorText });
  });
  page.on('response', (r) => {
    if (/\.(m3u8|mp4)(\?|$)/.test(r.url())) {
      const host = new URL(r.url()).host;
      if (!report.mediaHosts.includes(host)) report.mediaHosts.push(host);
    }
  });
  const res = await page.goto(o.url, { waitUntil: 'load', timeout: o.timeoutMs });
  report.status = res.status();
  await waitPlayer(page, (s) => s.state === 'paused' && s.levels, o.timeoutMs);
  await page.click('.vp-big-play');
  const at = await waitPlayer(page, (s) => s.state === 'playing' && s.t > 0.1, o.timeoutMs);
  const done = await waitPlayer(page, (s) => s.t >= at.t + o.minPlay, o.timeoutMs);
  report.played = { from: at.t, to: done.t, level: done.level, levels: done.levels, codec: done.codec };
  if (o.screenshot) await page.screenshot({ path: o.screenshot });
  report.cspViolations = await page.evaluate(() => window.__csp || []);
  report.ok = report.cspViolations.length === 0 && report.failedRequests.length === 0;
} catch (e) {
  report.error = String(e && e.stack ? e.stack : e);
} finally {
  if (browser) await browser.close();
}
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(report.ok ? 0 : 1);

// Records videos the way a browser user does, with MediaRecorder in headless Debian Chromium,
// for the upload tests (tests/integration/hostile_media.rs): a canvas drawn every frame and an
// oscillator, captured together, for each MIME type asked for. The files are what Chromium
// writes: live-style Matroska/WebM (unknown-size Segment and Clusters, no Duration, no Cues).
//
//   node record.mjs <outDir> <seconds> <mimeType>...
//
// Prints one JSON object: for each MIME type, the file written (or why not: unsupported).
// Nothing leaves the machine: the page is about:blank and every non-loopback host goes to a
// closed proxy port.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const [outDir, seconds, ...types] = process.argv.slice(2);
if (!outDir || !seconds || types.length === 0) {
  process.stderr.write('usage: node record.mjs <outDir> <seconds> <mimeType>...\n');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  timeout: 30000,
  args: [
    '--autoplay-policy=no-user-gesture-required',
    '--proxy-server=http://127.0.0.1:9',
    '--disable-background-networking',
    '--disable-component-update',
  ],
});
const page = await browser.newPage();
const result = {};
try {
  for (const [i, type] of types.entries()) {
    const recorded = await page.evaluate(
      async ({ type, ms }) => {
        if (!MediaRecorder.isTypeSupported(type)) return { unsupported: true };
        const canvas = document.createElement('canvas');
        canvas.width = 320;
        canvas.height = 240;
        document.body.appendChild(canvas);
        const g = canvas.getContext('2d');
        let n = 0;
        const draw = () => {
          g.fillStyle = `hsl(${(n * 7) % 360} 70% 50%)`;
          g.fillRect(0, 0, 320, 240);
          g.fillStyle = '#fff';
          g.font = '48px sans-serif';
          g.fillText(String(n), 40 + (n % 100), 140);
          n += 1;
        };
        draw();
        const timer = setInterval(draw, 40);
        const audio = new AudioContext();
        const osc = audio.createOscillator();
        osc.frequency.value = 440;
        const dest = audio.createMediaStreamDestination();
        osc.connect(dest);
        osc.start();
        const stream = canvas.captureStream(25);
        for (const t of dest.stream.getAudioTracks()) stream.addTrack(t);
        const rec = new MediaRecorder(stream, { mimeType: type });
        const parts = [];
        rec.ondataavailable = (e) => e.data.size && parts.push(e.data);
        const stopped = new Promise((resolve) => (rec.onstop = resolve));
        rec.start(500);
        await new Promise((r) => setTimeout(r, ms));
        rec.stop();
        await stopped;
        clearInterval(timer);
        osc.stop();
        await audio.close();
        canvas.remove();
        const bytes = new Uint8Array(await new Blob(parts, { type }).arrayBuffer());
        let binary = '';
        for (let k = 0; k < bytes.length; k += 0x8000) {
          binary += String.fromCharCode(...bytes.subarray(k, k + 0x8000));
        }
        return { base64: btoa(binary) };
      },
      { type, ms: Number(seconds) * 1000 },
    );
    if (recorded.unsupported) {
      result[type] = { unsupported: true };
      continue;
    }
    const ext = type.startsWith('video/x-matroska') ? 'mkv' : 'webm';
    const file = path.join(outDir, `recording-${i}.${ext}`);
    fs.writeFileSync(file, Buffer.from(recorded.base64, 'base64'));
    result[type] = { file, bytes: fs.statSync(file).size };
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');

#!/usr/bin/env node
// Regenerates docs/demo.png, the README's picture of the demo during one
// recorded call (the settings, the Pause button offered, the recording):
// starts `tests/demo/server.mjs`, clicks through an inbound call in headless
// Chromium and takes a screenshot.
// Usage: node tests/demo/screenshot.mjs (after `make build`).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, launchChromium } from '../harness/processes.mjs';

const port = 18080 + Math.floor(Math.random() * 1000);
const server = spawn(process.execPath, [path.join(REPO_ROOT, 'tests/demo/server.mjs')], {
  env: { ...process.env, DEMO_PORT: String(port) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('demo server did not start in 30 s')), 30_000);
  server.stdout.on('data', (chunk) => {
    const m = /Demo page: (\S+)/.exec(String(chunk));
    if (m) {
      clearTimeout(timer);
      resolve(m[1]);
    }
  });
});
const { browser, close } = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.waitForTimeout(1500);
  for (const id of ['ring', 'accept', 'connect']) {
    await page.click(`#${id}`);
    await page.waitForTimeout(700);
  }
  await page.waitForFunction(() => document.querySelectorAll('#recordings tbody tr code').length > 0, null, { timeout: 10_000 });
  // Pause is offered once the plugin reads the recording's state (it records).
  await page.waitForFunction(() => !document.getElementById('pause').disabled, null, { timeout: 15_000 });
  await page.waitForTimeout(1200);
  const out = path.join(REPO_ROOT, 'docs/demo.png');
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${path.relative(REPO_ROOT, out)}`);
} finally {
  await close();
  server.kill('SIGTERM');
}

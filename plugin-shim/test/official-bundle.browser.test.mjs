// node --test plugin-shim/test/
// The bundle a Flex developer deploys (build/, from `flex-plugin build`) in
// real headless Chromium, loaded by a <script> tag into the simulated Flex:
// - it is one file: the page fetches nothing but it (no .wasm or chunk), and
//   it records an inbound call end to end (simulator + backend);
// - under a Content-Security-Policy that forbids compiling WebAssembly (no
//   'wasm-unsafe-eval'), Flex keeps working, nothing is shown, one error line.
// The Node and browser replays of every public scenario against this bundle
// run in `make test` (PLUGIN_BUNDLE=plugin-shim/build/...).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import {
  SIM_ACCOUNT, launchChromium, missingParts, startBackend, startSim, startStaticServer,
} from '../../tests/harness/processes.mjs';
import { createSimClient } from '../../tests/harness/sim-client.js';

const SHIM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(SHIM, '..');
const BUILD_DIR = path.join(SHIM, 'build');
const BUNDLE = path.join(BUILD_DIR, 'plugin-dual-channel-recording.js');
const OUT = path.join(REPO, 'tests/.out/plugin-official');
const PREFIX = '[dual-channel-recording]';

const WK = 'WK0000000000000000000000000000f001';
const IDENTITY = `worker_${WK}`;
const QUEUE = { queueName: 'Sales', queueSid: 'WQ0000000000000000000000000000f001' };
const WT = 'WT0000000000000000000000000000f001';
const WR = 'WR0000000000000000000000000000f001';
const CF = 'CF0000000000000000000000000000f001';
const CUSTOMER = 'CA0000000000000000000000000000c0f1';
const WORKER_LEG = 'CA0000000000000000000000000000a0f1';

let sim; let backend; let files; let chromium; let simClient;

// The Flex configuration the backend reads (its policy): recording enabled,
// no exclusions. Put before the backend starts (it reads it then) and after
// every simulator reset (which empties it).
const BACKEND_FEATURE = { enabled: true, channel: 'customer' };

before(async () => {
  assert.ok(existsSync(BUNDLE), `${BUNDLE} is missing: run make bundle-official`);
  const missing = missingParts({ bundle: false });
  if (missing.length) throw new Error(`missing:\n  ${missing.join('\n  ')}`);
  sim = await startSim({ logFile: path.join(OUT, 'twilio-sim.log') });
  await createSimClient(sim.url).putRecordingFeature(BACKEND_FEATURE);
  backend = await startBackend({ simUrl: sim.url, logFile: path.join(OUT, 'recording-backend.log') });
  const harnessHtml = readFileSync(path.join(REPO, 'tests/harness/harness.html'));
  files = await startStaticServer({
    routes: {
      '/bundle.js': BUNDLE,
      // The harness page under a policy that allows scripts from this origin
      // but not compiling WebAssembly.
      '/harness/no-wasm.html': (_req, res) => {
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': "default-src 'self'; script-src 'self'; connect-src *",
        });
        res.end(harnessHtml);
      },
    },
    dirs: { '/harness/': path.join(REPO, 'tests/harness') },
  });
  chromium = await launchChromium();
  simClient = createSimClient(sim.url);
});

after(async () => {
  if (chromium) await chromium.close();
  if (files) await files.close();
  if (backend) await backend.stop();
  if (sim) await sim.stop();
});

const flexOptions = (token) => ({
  workerSid: WK,
  accountSid: SIM_ACCOUNT.accountSid,
  token,
  identity: IDENTITY,
  customData: {
    features: { dual_channel_recording: { enabled: true, channel: 'customer', exclude_attributes: [], exclude_queues: [] } },
    serverless_functions_domain: `127.0.0.1:${backend.port}`,
    serverless_functions_protocol: 'http',
  },
});

async function openHarness(page, url, token) {
  const log = [];
  const requests = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.stack || e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url);
  await page.waitForFunction(() => window.__harness !== undefined);
  await page.evaluate((opts) => window.__harness.setup(opts), { bundleUrl: `${files.url}/bundle.js`, flexOptions: flexOptions(token) });
  return { log, requests };
}

async function poll(what, fn, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await fn();
    if (last.ok) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last seen: ${JSON.stringify(last.seen)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the official build is one JavaScript file (its source map beside it, which flex-plugin deploy uploads)', () => {
  assert.deepEqual(readdirSync(BUILD_DIR).sort(), ['plugin-dual-channel-recording.js', 'plugin-dual-channel-recording.js.map']);
  const text = readFileSync(BUNDLE, 'utf8');
  assert.ok(!text.includes('import.meta'), 'a classic script: no import.meta');
  for (const marker of ['__SECRET_INTERNALS_DO_NOT_USE_OR_YOU_WILL_BE_FIRED', 'react.production.min', 'twilio-flex.prod']) {
    assert.ok(!text.includes(marker), `Flex's own React / Flex UI is not bundled (${marker})`);
  }
});

test('the official bundle records an inbound call in headless Chromium, fetching nothing else', async () => {
  const token = `official-bundle-token-${process.pid}`;
  await simClient.reset();
  await simClient.putRecordingFeature(BACKEND_FEATURE);
  // A fresh backend reads it anew: one started earlier may have read the
  // configuration while the reset had emptied it (and caches what it read).
  await backend.stop();
  await backend.start();
  await simClient.registerToken({ token, workerSid: WK, identity: IDENTITY });
  const page = await chromium.browser.newPage();
  try {
    const { log, requests } = await openHarness(page, `${files.url}/harness/harness.html`, token);
    assert.equal(await page.evaluate(() => window.DualChannelRecording.ready), true, 'the core is ready');

    const attributes = { call_sid: CUSTOMER, direction: 'inbound', from: '+15550100001', to: '+15550199999' };
    await simClient.upsertCall({ callSid: CUSTOMER, from: attributes.from, to: attributes.to });
    await simClient.upsertCall({ callSid: WORKER_LEG, from: attributes.to, to: `client:${IDENTITY}` });
    await simClient.putTask(WT, attributes, { ...QUEUE, channel: 'voice' });
    await simClient.upsertReservation({ taskSid: WT, reservationSid: WR, workerSid: WK, status: 'accepted' });
    await page.evaluate((spec) => window.__harness.call('acceptTask', [spec]), { taskSid: WT, sid: WR, ...QUEUE, channel: 'voice', attributes });
    const participants = [
      { participantType: 'customer', status: 'joined', callSid: CUSTOMER },
      { participantType: 'worker', status: 'joined', callSid: WORKER_LEG, workerSid: WK, reservationSid: WR },
    ];
    await simClient.putConference(CF, { taskSid: WT, participants });
    await page.evaluate((args) => window.__harness.call('setConference', args), [WT, CF, participants]);

    const { state } = await poll('a dual recording of the customer leg and its media entry', async () => {
      const s = await simClient.state();
      const media = s.tasks[WT]?.attributes?.conversations?.media;
      return { ok: s.recordings.length > 0 && Array.isArray(media) && media.length > 0, state: s, seen: { s, log } };
    });
    assert.equal(state.recordings.length, 1);
    assert.equal(state.recordings[0].callSid, CUSTOMER);
    assert.equal(state.recordings[0].channels, 'dual');
    assert.deepEqual(state.tasks[WT].attributes.conversations.media.map((m) => m.type), ['VoiceRecording']);

    const fromFiles = requests.filter((u) => u.startsWith(files.url)).map((u) => new URL(u).pathname);
    assert.deepEqual(fromFiles.filter((p) => !p.startsWith('/harness/')), ['/bundle.js'], `the plugin fetched only its bundle: ${fromFiles}`);
    assert.ok(!requests.some((u) => /\.wasm(\?|$)/.test(u)), `no .wasm fetched: ${requests}`);
    assert.ok(!log.some((l) => l.startsWith('error:') || l.startsWith('pageerror:')), log.join('\n'));
  } finally {
    await page.close();
  }
});

test('the official bundle under a CSP that forbids WebAssembly: Flex works, nothing shown, one error line', async () => {
  const token = `official-bundle-csp-${process.pid}`;
  await simClient.reset();
  await simClient.putRecordingFeature(BACKEND_FEATURE);
  // A fresh backend reads it anew: one started earlier may have read the
  // configuration while the reset had emptied it (and caches what it read).
  await backend.stop();
  await backend.start();
  await simClient.registerToken({ token, workerSid: WK, identity: IDENTITY });
  const page = await chromium.browser.newPage();
  try {
    const { log } = await openHarness(page, `${files.url}/harness/no-wasm.html`, token);
    assert.equal(await page.evaluate(() => window.DualChannelRecording.ready), false, 'the core did not load');
    await page.evaluate((spec) => window.__harness.call('acceptTask', [spec]), {
      taskSid: WT, sid: WR, ...QUEUE, channel: 'voice', attributes: { call_sid: CUSTOMER, direction: 'inbound' },
    });
    await page.evaluate((args) => window.__harness.call('setConference', args), [WT, CF, [
      { participantType: 'customer', status: 'joined', callSid: CUSTOMER },
    ]]);
    await page.evaluate((t) => window.__harness.call('complete', [t]), WT);
    assert.equal(await page.evaluate((t) => window.__harness.hasTask(t), WT), false, 'the task completed in Flex');
    assert.deepEqual(await page.evaluate(() => window.__sim.errors()), [], 'no exception reached Flex');
    assert.deepEqual(await page.evaluate(() => window.__harness.notificationsShown()), [], 'nothing shown to the agent');
    const ours = log.filter((l) => l.includes(PREFIX));
    assert.equal(ours.length, 1, log.join('\n'));
    assert.ok(ours[0].startsWith(`error: ${PREFIX} could not load the recording core`), ours[0]);
    assert.ok(!log.some((l) => l.startsWith('pageerror:')), log.join('\n'));
    assert.equal((await simClient.state()).recordings.length, 0);
  } finally {
    await page.close();
  }
});

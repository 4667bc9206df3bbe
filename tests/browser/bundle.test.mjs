// node --test tests/browser/bundle.test.mjs
// In real headless Chromium: the harness page loads the built plugin bundle
// into a simulated Flex; one inbound call is accepted and its conference
// appears; the simulator must then hold one dual recording of the customer's
// leg, and the task's attributes its Flex Insights media entry.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  REPO_ROOT, SIM_ACCOUNT, bundlePath, launchChromium, missingParts, startBackend, startSim, startStaticServer,
} from '../harness/processes.mjs';
import { createSimClient, recordingUrl } from '../harness/sim-client.js';

const OUT = path.join(REPO_ROOT, 'tests/.out/browser');
const WK = 'WK00000000000000000000000000000001';
const WT = 'WT0000000000000000000000000000b001';
const WR = 'WR0000000000000000000000000000b001';
const CF = 'CF0000000000000000000000000000b001';
const CUSTOMER = 'CA0000000000000000000000000000c001';
const WORKER_LEG = 'CA0000000000000000000000000000a001';
const IDENTITY = `worker_${WK}`;

let sim; let backend; let files; let chromium; let simClient;
/** The Flex configuration the backend reads its recording policy from. */
const FLEX_CONFIGURATION = {
  uiAttributes: { custom_data: { features: { dual_channel_recording: { enabled: true, channel: 'customer', exclude_attributes: [], exclude_queues: [] } } } },
  callRecordingEnabled: false,
};
const pageLog = [];

before(async () => {
  const missing = missingParts();
  if (missing.length) throw new Error(`cannot run the browser test, missing:\n  ${missing.join('\n  ')}`);
  sim = await startSim({ logFile: path.join(OUT, 'twilio-sim.log') });
  simClient = createSimClient(sim.url);
  // Before the backend starts: it reads its recording policy at start.
  await simClient.putFlexConfiguration(FLEX_CONFIGURATION);
  backend = await startBackend({ simUrl: sim.url, logFile: path.join(OUT, 'recording-backend.log') });
  files = await startStaticServer({
    routes: { '/bundle.js': bundlePath() },
    dirs: { '/harness/': path.join(REPO_ROOT, 'tests/harness') },
  });
  chromium = await launchChromium();
});

after(async () => {
  if (chromium) await chromium.close();
  if (files) await files.close();
  if (backend) await backend.stop();
  if (sim) await sim.stop();
});

async function poll(what, fn, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last.ok) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last seen: ${JSON.stringify(last.seen)}\npage log:\n${pageLog.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the built bundle records an inbound call in headless Chromium', async () => {
  const token = `browser-test-token-${process.pid}`;
  await simClient.reset();
  await simClient.putFlexConfiguration(FLEX_CONFIGURATION);
  // A fresh backend reads it anew: one started earlier may have read the
  // configuration while the reset had emptied it (and caches what it read).
  await backend.stop();
  await backend.start();
  await simClient.registerToken({ token, workerSid: WK, identity: IDENTITY });

  const page = await chromium.browser.newPage();
  page.on('console', (m) => pageLog.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => pageLog.push(`pageerror: ${e.stack || e.message}`));
  await page.goto(`${files.url}/harness/harness.html`);
  await page.waitForFunction(() => window.__harness !== undefined);
  await page.evaluate((opts) => window.__harness.setup(opts), {
    bundleUrl: `${files.url}/bundle.js`,
    flexOptions: {
      workerSid: WK,
      accountSid: SIM_ACCOUNT.accountSid,
      token,
      identity: IDENTITY,
      customData: {
        features: { dual_channel_recording: { enabled: true, channel: 'customer', exclude_attributes: [], exclude_queues: [] } },
        serverless_functions_domain: `127.0.0.1:${backend.port}`,
        serverless_functions_protocol: 'http',
      },
    },
  });
  assert.equal(await page.evaluate(() => typeof window.DualChannelRecording.idle), 'function');

  // The call rings, the agent accepts it, the conference comes up.
  const attributes = { call_sid: CUSTOMER, direction: 'inbound', from: '+15550100001', to: '+15550199999' };
  await simClient.upsertCall({ callSid: CUSTOMER, from: attributes.from, to: attributes.to });
  await simClient.putTask(WT, attributes, { queueName: 'Sales', queueSid: 'WQ00000000000000000000000000000001', channel: 'voice' });
  await simClient.upsertReservation({ taskSid: WT, reservationSid: WR, workerSid: WK, status: 'accepted' });
  await page.evaluate((spec) => window.__harness.call('acceptTask', [spec]), {
    taskSid: WT, sid: WR, queueName: 'Sales', queueSid: 'WQ00000000000000000000000000000001', channel: 'voice', attributes,
  });
  const participants = [
    { participantType: 'customer', status: 'joined', callSid: CUSTOMER },
    { participantType: 'worker', status: 'joined', callSid: WORKER_LEG, workerSid: WK, reservationSid: WR },
  ];
  await simClient.upsertCall({ callSid: WORKER_LEG, from: '+15550199999', to: `client:${IDENTITY}` });
  await simClient.putConference(CF, { taskSid: WT, participants });
  await page.evaluate((args) => window.__harness.call('setConference', args), [WT, CF, participants]);

  const { state } = await poll('a dual recording of the customer leg and its media entry', async () => {
    const s = await simClient.state();
    const recs = s.recordings.filter((r) => r.callSid === CUSTOMER);
    const media = s.tasks[WT] && s.tasks[WT].attributes.conversations && s.tasks[WT].attributes.conversations.media;
    return { ok: recs.length > 0 && Array.isArray(media) && media.length > 0, state: s, seen: { recordings: s.recordings, attributes: s.tasks[WT] && s.tasks[WT].attributes } };
  });

  assert.equal(state.recordings.length, 1, `exactly one recording: ${JSON.stringify(state.recordings)}`);
  const [rec] = state.recordings;
  assert.equal(rec.callSid, CUSTOMER);
  assert.equal(rec.channels, 'dual');
  const media = state.tasks[WT].attributes.conversations.media;
  assert.equal(media.length, 1);
  assert.equal(media[0].type, 'VoiceRecording');
  assert.equal(media[0].url, recordingUrl(state.accountSid, rec.sid));
  assert.deepEqual(media[0].channels, ['customer', 'others']);
  assert.equal(typeof media[0].start_time, 'number');
  // The backend writes the media entry before its answer reaches the plugin.
  const { status } = await poll('the plugin to see the backend\'s answer', async () => {
    const st = await page.evaluate((t) => window.__harness.status(t), WT);
    return { ok: st.state !== 'starting', status: st, seen: st };
  });
  assert.equal(status.state, 'recording', `plugin status: ${JSON.stringify(status)}`);
  assert.deepEqual(status.recordings, [rec.sid]);
  await page.close();
});

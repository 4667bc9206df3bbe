// node --test tests/replay/pause.test.mjs (after `make build`)
// Pause and resume end to end with `features.pause_recording` set, which a
// scenario cannot express (its `config` is `dual_channel_recording` only):
// the real bundle in a Node Flex instance, the real backend, the simulator.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SIM_ACCOUNT } from '../harness/processes.mjs';
import { NodeInstance } from './node-instance.mjs';
import { closeEnvironment, createEnvironment } from './runner.mjs';

const WK = 'WK00000000000000000000000000000001';
const WT = 'WT00000000000000000000000000000e14';
const WR = 'WR00000000000000000000000000000e14';
const CF = 'CF00000000000000000000000000000e14';
const CUSTOMER = 'CA000000000000000000000000000e14c1';
const AGENT = 'CA000000000000000000000000000e14a1';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let env;
before(async () => { env = await createEnvironment(); });
after(async () => { if (env) await closeEnvironment(env); });

/** One instance with this `pause_recording`, an accepted inbound call recorded on the customer leg. */
async function recordedCall(pauseRecording) {
  const { sim, backend } = env;
  await sim.reset();
  // The backend enforces the Flex configuration it reads (a reset empties
  // it); a fresh backend reads it anew, as the runner does per scenario.
  await sim.putFlexConfiguration({
    uiAttributes: { custom_data: { features: { dual_channel_recording: { enabled: true, channel: 'customer' } } } },
    callRecordingEnabled: false,
  });
  if (backend.running) await backend.stop();
  await backend.start();
  const identity = `worker_${WK}`;
  const token = `pause-test-${Date.now()}`;
  await sim.registerToken({ token, workerSid: WK, identity });
  const attributes = { call_sid: CUSTOMER, direction: 'inbound' };
  await sim.putTask(WT, attributes, { queueName: 'Sales', channel: 'voice' });
  await sim.upsertReservation({ taskSid: WT, reservationSid: WR, workerSid: WK, status: 'accepted' });
  await sim.upsertCall({ callSid: CUSTOMER, from: '+15550100000', to: '+15550199999' });
  await sim.upsertCall({ callSid: AGENT, from: '+15550199999', to: `client:${identity}` });
  const participants = [
    { participantType: 'customer', status: 'joined', callSid: CUSTOMER },
    { participantType: 'worker', status: 'joined', callSid: AGENT, workerSid: WK, reservationSid: WR },
  ];
  await sim.putConference(CF, { taskSid: WT, participants });
  const lines = [];
  const inst = new NodeInstance('A', {
    bundleFile: env.bundleFile,
    log: (l) => lines.push(l),
    flexOptions: {
      workerSid: WK, accountSid: SIM_ACCOUNT.accountSid, token, identity, locale: 'en-US',
      customData: {
        features: {
          dual_channel_recording: { enabled: true, channel: 'customer' },
          pause_recording: pauseRecording,
        },
        serverless_functions_domain: `127.0.0.1:${backend.port}`,
        serverless_functions_protocol: 'http',
      },
    },
  });
  await inst.start();
  await inst.call('acceptTask', { taskSid: WT, sid: WR, queueName: 'Sales', channel: 'voice', attributes });
  await inst.call('setConference', WT, CF, participants);
  await inst.call('setActiveCall', AGENT);
  return { inst, lines };
}

async function recordingStatus() {
  const rec = (await env.sim.state()).recordings.filter((r) => r.callSid === CUSTOMER);
  return rec.length ? rec[rec.length - 1].status : 'absent';
}

async function until(what, fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await sleep(50);
  }
}

test('max_pause_seconds resumes a forgotten pause; the banner shows while paused', async () => {
  const { inst } = await recordedCall({ enabled: true, indicator_banner: true, include_silence: true, max_pause_seconds: 0.8 });
  try {
    await until('the recording', async () => (await recordingStatus()) === 'in-progress');
    const paused = await inst.invokeAction('PauseDualChannelRecording', { taskSid: WT });
    assert.equal(paused.ok, true, paused.error);
    assert.equal(paused.value.state, 'paused');
    assert.equal(await recordingStatus(), 'paused');
    const rec = (await env.sim.state()).recordings.find((r) => r.callSid === CUSTOMER);
    assert.equal(rec.pauseBehavior, 'silence', 'include_silence: true');
    assert.ok((await inst.notificationsShown()).includes('PSDualChannelRecordingPaused'), 'the banner');
    await sleep(300);
    assert.equal(await recordingStatus(), 'paused', 'not before max_pause_seconds');
    await until('the automatic resume', async () => (await recordingStatus()) === 'in-progress', 3000);
    await until('the plugin idle', async () => (await inst.idle()).idle, 3000);
  } finally {
    await inst.dispose();
  }
});

test('an invalid pause_recording: the usual notification, recording goes on, the actions reject and say why', async () => {
  const { inst, lines } = await recordedCall({ enabled: 'yes' });
  try {
    await until('the recording', async () => (await recordingStatus()) === 'in-progress');
    assert.deepEqual(await inst.notificationsShown(), ['PSDualChannelBroken']);
    assert.ok(lines.some((l) => l.includes('features.pause_recording.enabled')), lines.join('\n'));
    const r = await inst.invokeAction('PauseDualChannelRecording', { task: { taskSid: WT } });
    assert.equal(r.ok, false);
    assert.match(r.error, /pause_recording is invalid/);
    assert.equal(await recordingStatus(), 'in-progress');
  } finally {
    await inst.dispose();
  }
});

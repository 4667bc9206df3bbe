// node --test plugin-shim/test/real-actions.test.mjs
// The plugin's `before*` listeners driven by Flex's own Actions framework:
// the published @twilio/flex-ui module, loaded in Node under jsdom
// (tests/harness/real-flex-actions.mjs), gives each simulated Flex tab its
// Actions; hang-up and completion are invoked through it, so payloads are the
// ones Flex's payload update functions make, and before-listeners are run and
// awaited as Flex runs them. The action bodies that would talk to Twilio are
// replaced (`replaceAction`) by the simulator's. Each real bundle (esbuild's
// dist/ and the official build/) runs against the real backend and simulator.
//
// What the shim does on hang-up and completion of a call nobody answered: the
// core links the conference (`conference.sid` in the task attributes, written
// by the backend), which is what these tests watch for.
//
// Needs: both bundles built (make bundle bundle-official), the simulator and
// backend binaries (cargo build -p twilio-sim -p recording-backend).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { NodeInstance } from '../../tests/replay/node-instance.mjs';
import { SIM_ACCOUNT, missingParts, startBackend, startSim } from '../../tests/harness/processes.mjs';
import { createSimClient } from '../../tests/harness/sim-client.js';
import { createFlexActions, loadFlexUi, refusedRequests } from '../../tests/harness/real-flex-actions.mjs';

const SHIM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(SHIM, '..');
const OUT = path.join(REPO, 'tests/.out/real-actions');

const BUNDLES = (process.env.PLUGIN_BUNDLES
  ? process.env.PLUGIN_BUNDLES.split(',').map((f) => path.resolve(REPO, f))
  : [
    path.join(SHIM, 'dist/plugin-dual-channel-recording.js'),
    path.join(SHIM, 'build/plugin-dual-channel-recording.js'),
  ]);

const WK = 'WK0000000000000000000000000000f001';
const IDENTITY = `worker_${WK}`;
const QUEUE = { queueName: 'Sales', queueSid: 'WQ0000000000000000000000000000f001' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function poll(what, fn, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await fn();
    if (last.ok) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last seen: ${JSON.stringify(last.seen)}`);
    await sleep(50);
  }
}

/** A promise the test settles by hand. */
function gate() {
  let open;
  const opened = new Promise((resolve) => { open = resolve; });
  return { opened, open };
}

// The Flex configuration the backend reads (its policy): recording enabled,
// no exclusions. Put before the backend starts (it reads it then) and after
// every simulator reset (which empties it).
const BACKEND_FEATURE = { enabled: true, channel: 'customer' };

describe("the shim's before-listeners through Flex's own Actions", () => {
  let sim; let backend; let simClient; let run = 0;

  before(async () => {
    const missing = missingParts({ bundle: false });
    for (const b of BUNDLES) if (!existsSync(b)) missing.push(`${path.relative(REPO, b)} (make bundle bundle-official)`);
    if (missing.length) throw new Error(`missing:\n  ${missing.join('\n  ')}`);
    loadFlexUi();
    sim = await startSim({ logFile: path.join(OUT, 'twilio-sim.log') });
    simClient = createSimClient(sim.url);
    await simClient.putRecordingFeature(BACKEND_FEATURE);
    backend = await startBackend({ simUrl: sim.url, logFile: path.join(OUT, 'recording-backend.log') });
  });
  after(async () => {
    if (backend) await backend.stop();
    if (sim) await sim.stop();
  });

  test('the module is Flex 2.17+, loaded offline: the only requests it tried (Flex assets) were refused', () => {
    const flex = loadFlexUi();
    assert.match(flex.VERSION, /^2\.1[7-9]\.|^2\.[2-9]\d\./);
    assert.ok(refusedRequests().every((u) => u.startsWith('https://assets.flex.twilio.com/')), refusedRequests().join(', '));
  });

  // Where Flex's own action bodies stop offline: the reason the harness
  // replaces them. Should a later Flex run one of them offline, this says so.
  test("how far Flex's own bodies run offline (without Flex initialised)", async () => {
    const actions = createFlexActions();
    const called = [];
    for (const name of ['AcceptTask', 'HangupCall', 'CompleteTask']) {
      actions.addListener(`before${name}`, (payload) => called.push([name, Object.keys(payload).sort()]));
    }
    const task = () => ({ taskSid: 'WT0000000000000000000000000000f0ff', sid: 'WR0000000000000000000000000000f0ff', attributes: {}, taskChannelUniqueName: 'voice' });
    await assert.rejects(actions.invokeAction('AcceptTask', { task: task() }), /FlexModule not initialized/);
    await assert.rejects(actions.invokeAction('HangupCall', { task: task() }), /FlexModule not initialized/);
    // CompleteTask's body calls task.complete() (TaskRouter), which a plain
    // object lacks: Flex swallows that error and the action resolves.
    await actions.invokeAction('CompleteTask', { task: task() });
    assert.deepEqual(called, [
      ['AcceptTask', ['conferenceOptions', 'sid', 'task']],
      ['HangupCall', ['sid', 'task']],
      ['CompleteTask', ['sid', 'task']],
    ], 'the payload update functions and the before-listeners ran');
    // With a reservation SID only, the update function looks the task up in
    // Flex's store: refused before any listener runs.
    called.length = 0;
    await assert.rejects(actions.invokeAction('CompleteTask', { sid: 'WR0000000000000000000000000000f0ff' }), /FlexModule not initialized/);
    await assert.rejects(actions.invokeAction('HangupCall', { sid: 'WR0000000000000000000000000000f0ff' }), /FlexModule not initialized/);
    assert.deepEqual(called, []);
  });

  /**
   * One Flex tab with Flex's Actions and the bundle loaded (core ready), an
   * outbound call that nobody answers yet, and `prepare(actions)` run before
   * the plugin registers its listeners.
   */
  async function start(bundleFile, { prepare } = {}) {
    run += 1;
    const n = String(run);
    const sid = (prefix, tag) => `${prefix}${`${tag}${n}`.padStart(32, '0')}`;
    const ids = { WT: sid('WT', 'f'), WR: sid('WR', 'f'), CF: sid('CF', 'f'), WORKER_LEG: sid('CA', 'a') };
    const token = `flex-token-real-actions-${process.pid}-${n}`;
    await simClient.reset();
    await simClient.putRecordingFeature(BACKEND_FEATURE);
    // A fresh backend reads it anew: one started earlier may have read the
    // configuration while the reset had emptied it (and caches what it read).
    await backend.stop();
    await backend.start();
    await simClient.registerToken({ token, workerSid: WK, identity: IDENTITY });
    const actions = createFlexActions();
    if (prepare) prepare(actions);
    const lines = [];
    const customData = {
      features: { dual_channel_recording: { enabled: true, channel: 'customer', exclude_attributes: [], exclude_queues: [] } },
      serverless_functions_domain: `127.0.0.1:${backend.port}`,
      serverless_functions_protocol: 'http',
    };
    const inst = new NodeInstance('A', {
      bundleFile,
      flexOptions: { customData, workerSid: WK, accountSid: SIM_ACCOUNT.accountSid, token, identity: IDENTITY, locale: 'en-US' },
      log: (line) => lines.push(line),
      actions,
    });
    await inst.start();
    assert.equal(vm.runInContext('Twilio.Flex.Actions', inst.context), actions, "the plugin was given Flex's Actions");

    // Flex placed the outbound call: only the agent is in the conference.
    const attributes = { direction: 'outbound', from: '+15550199999', outbound_to: '+15550101999' };
    await simClient.putTask(ids.WT, attributes, { ...QUEUE, channel: 'voice' });
    await simClient.upsertReservation({ taskSid: ids.WT, reservationSid: ids.WR, workerSid: WK, status: 'accepted' });
    await simClient.upsertCall({ callSid: ids.WORKER_LEG, from: attributes.from, to: `client:${IDENTITY}` });
    await inst.call('acceptTask', { taskSid: ids.WT, sid: ids.WR, ...QUEUE, channel: 'voice', attributes });
    const participants = [{ participantType: 'worker', status: 'joined', callSid: ids.WORKER_LEG, workerSid: WK, reservationSid: ids.WR }];
    await simClient.putConference(ids.CF, { taskSid: ids.WT, participants });
    await inst.call('setConference', ids.WT, ids.CF, participants);
    return { inst, actions, lines, ids };
  }

  const conferenceLinked = (ids) => poll(`conference.sid ${ids.CF} on ${ids.WT}`, async () => {
    const s = await simClient.state();
    const attrs = s.tasks[ids.WT]?.attributes;
    return { ok: attrs?.conference?.sid === ids.CF, seen: attrs };
  });

  /** Nothing of the plugin reached Flex, nothing ran uncaught, the agent saw nothing. */
  async function assertQuiet(inst, lines, { errorLines = [] } = {}) {
    assert.deepEqual(JSON.parse(vm.runInContext('JSON.stringify(__sim.errors())', inst.context)), []);
    assert.deepEqual(inst.uncaught.map(String), []);
    assert.deepEqual(await inst.notificationsShown(), []);
    const errors = lines.filter((l) => l.startsWith('[A] error: '));
    assert.equal(errors.length, errorLines.length, `error lines:\n${lines.join('\n')}`);
    errorLines.forEach((re, i) => assert.match(errors[i], re));
  }

  const settled = (inst) => poll('the plugin idle', async () => {
    const s = await inst.idle();
    return { ok: s.idle, seen: s };
  });

  for (const bundleFile of BUNDLES) {
    const label = path.relative(REPO, bundleFile);

    test(`${label}: HangupCall with Flex's payload; the shim acts while Flex awaits another plugin's before-listener`, async () => {
      const payloads = [];
      const held = gate();
      let bodyRan = false;
      const { inst, actions, lines, ids } = await start(bundleFile);
      try {
        // Another plugin's before-listener, registered after ours: Flex
        // awaits its promise before the action's body.
        actions.addListener('beforeHangupCall', (payload) => {
          payloads.push({ keys: Object.keys(payload).sort(), sid: payload.sid, taskSid: payload.task?.taskSid });
          return held.opened;
        });
        actions.addListener('afterHangupCall', () => { bodyRan = true; });

        const hangup = inst.call('hangup', ids.WT);
        // The shim forwarded the hang-up: the conference is linked while
        // Flex is still holding the action.
        await conferenceLinked(ids);
        assert.equal(bodyRan, false, 'the action is still held by the pending before-listener');
        held.open();
        await hangup;
        assert.equal(bodyRan, true, 'the action ran once the before-listener resolved');

        // Flex's payload update function (updateVoiceActionPayload) added the reservation SID.
        assert.deepEqual(payloads, [{ keys: ['sid', 'task'], sid: ids.WR, taskSid: ids.WT }]);
        await assertQuiet(inst, lines);
      } finally {
        await inst.dispose();
      }
    });

    test(`${label}: the template's PauseCallRecording, ResumeCallRecording, ToggleCallRecording and the earlier names, through Flex's Actions, reach the customer's recording`, async () => {
      const { inst, actions, lines, ids } = await start(bundleFile);
      try {
        // The customer answers: the customer's leg joins and is recorded.
        const CUSTOMER = ids.WORKER_LEG.replace(/a(\d+)$/, 'c$1');
        await simClient.upsertCall({ callSid: CUSTOMER, from: '+15550199999', to: '+15550101999' });
        const participants = [
          { participantType: 'worker', status: 'joined', callSid: ids.WORKER_LEG, workerSid: WK, reservationSid: ids.WR },
          { participantType: 'customer', status: 'joined', callSid: CUSTOMER },
        ];
        await simClient.putConference(ids.CF, { taskSid: ids.WT, participants });
        await inst.call('setConference', ids.WT, ids.CF, participants);
        const status = async () => (await simClient.state()).recordings.find((r) => r.callSid === CUSTOMER)?.status;
        await poll('the customer leg recorded', async () => ({ ok: (await status()) === 'in-progress', seen: await status() }));
        const task = { taskSid: ids.WT };
        // (action, payload, the recording's status after it)
        const steps = [
          ['PauseCallRecording', { task }, 'paused'],
          ['ResumeCallRecording', { taskSid: ids.WT }, 'in-progress'],
          ['ToggleCallRecording', { task }, 'paused'],
          ['ToggleCallRecording', { taskSid: ids.WT }, 'in-progress'],
          ['PauseDualChannelRecording', { taskSid: ids.WT }, 'paused'],
          ['ResumeDualChannelRecording', { task }, 'in-progress'],
        ];
        for (const [name, payload, want] of steps) {
          const answer = await actions.invokeAction(name, payload);
          assert.equal(answer.state, want === 'paused' ? 'paused' : 'recording', `${name}: ${JSON.stringify(answer)}`);
          assert.equal(await status(), want, name);
        }
        await settled(inst);
        await assertQuiet(inst, lines);
      } finally {
        await inst.dispose();
      }
    });

    test(`${label}: CompleteTask completes although another plugin's listeners throw; the shim's had already run`, async () => {
      const afterward = [];
      const { inst, actions, lines, ids } = await start(bundleFile);
      try {
        actions.addListener('beforeCompleteTask', async () => { throw new Error('another plugin failed (async)'); });
        actions.addListener('beforeCompleteTask', () => { throw new Error('another plugin failed (sync)'); });
        actions.addListener('afterCompleteTask', (payload) => afterward.push({ keys: Object.keys(payload).sort(), sid: payload.sid }));

        await inst.call('complete', ids.WT);
        assert.equal(await inst.hasTask(ids.WT), false, 'the task was completed and left Flex');
        assert.deepEqual(afterward, [{ keys: ['sid', 'task'], sid: ids.WR }]);
        await conferenceLinked(ids);
        await assertQuiet(inst, lines);
      } finally {
        await inst.dispose();
      }
    });

    test(`${label}: the shim never throws into Flex, so listeners after it still run (a payload without a task)`, async () => {
      const later = [];
      const { inst, actions, lines, ids } = await start(bundleFile);
      try {
        actions.addListener('beforeHangupCall', (payload) => later.push(Object.keys(payload).sort()));
        actions.addListener('beforeCompleteTask', (payload) => later.push(Object.keys(payload).sort()));
        // Payloads Flex passes on as they are: a task without SIDs, and none.
        await actions.invokeAction('HangupCall', { task: {} });
        await actions.invokeAction('CompleteTask', { task: { attributes: null } });
        assert.deepEqual(later, [['sid', 'task'], ['sid', 'task']]);
        assert.equal(await inst.hasTask(ids.WT), true, 'the real task is untouched');
        // The core says once per event that it could not read it; Flex saw nothing.
        const unreadable = /\[dual-channel-recording\] ignored an unreadable event from the shim \((hangup|complete) without "taskSid"/;
        await assertQuiet(inst, lines, { errorLines: [unreadable, unreadable] });
        const status = await inst.status(ids.WT);
        assert.notEqual(status.state, 'unknown', `the core still follows the task: ${JSON.stringify(status)}`);
      } finally {
        await inst.dispose();
      }
    });
  }

  // Flex's framework: a before-listener may cancel the action; the shim's,
  // called before it, has already acted, and what it did (linking the
  // conference of a call nobody answered) holds whether or not the agent
  // completes the task later.
  test("Flex's framework: another plugin cancels CompleteTask; Flex rejects it, the task stays, the shim's link holds", async () => {
    const { inst, actions, lines, ids } = await start(BUNDLES[0]);
    try {
      actions.addListener('beforeCompleteTask', (_payload, cancel) => cancel());
      await assert.rejects(inst.call('complete', ids.WT), /Action CompleteTask cancelled by before event/);
      assert.equal(await inst.hasTask(ids.WT), true, 'the task is still in Flex');
      await conferenceLinked(ids);
      await assertQuiet(inst, lines);
    } finally {
      await inst.dispose();
    }
  });

  // A fact of Flex 2.17's framework, not of the plugin: before-listeners are
  // called in registration order within one synchronous map, so one that
  // throws synchronously keeps the listeners registered after it from being
  // called (Flex logs the error and runs the action). A plugin registered
  // later than such a listener misses that action; the next one reaches it.
  test("Flex's framework: a listener registered before the shim's that throws synchronously keeps the shim's from running", async () => {
    const { inst, lines, ids } = await start(BUNDLES[0], {
      prepare: (actions) => actions.addListener('beforeHangupCall', () => { throw new Error('registered first, fails'); }),
    });
    try {
      await inst.call('hangup', ids.WT);
      await settled(inst);
      const attrs = (await simClient.state()).tasks[ids.WT]?.attributes;
      assert.equal(attrs?.conference, undefined, 'the hang-up did not reach the shim: nothing was linked');
      await inst.call('complete', ids.WT);
      await conferenceLinked(ids);
      await assertQuiet(inst, lines);
    } finally {
      await inst.dispose();
    }
  });
});

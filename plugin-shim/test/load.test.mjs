// node --test plugin-shim/test/
// How the plugin loads, for each bundle a user can ship (the esbuild one in
// dist/ and the official `flex-plugin build` one in build/), each evaluated as
// Flex evaluates a plugin: a classic script in a fresh realm (a Node vm
// context) holding the simulated Flex (tests/harness/flex-sim.js).
//
// - a broken WebAssembly (compile refused, as under a CSP without
//   'wasm-unsafe-eval', or no WebAssembly at all): no exception reaches Flex,
//   no notification is shown, exactly one error line is logged, and Flex keeps
//   accepting, hanging up and completing tasks;
// - the core compiled asynchronously: while the wasm is still compiling, a
//   task is accepted and its conference comes up; once the core is ready the
//   customer's leg is recorded all the same (with the simulator and backend);
// - beforeAcceptTask (method conference) while the core compiles: the accept
//   waits for it at most `accept_wait_ms`, then goes on with conferenceOptions
//   untouched and one warning; a core that becomes ready in time decides.
//
// Needs: both bundles built (make bundle bundle-official), the simulator and
// backend binaries (cargo build -p twilio-sim -p recording-backend).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { transformSync } from 'esbuild';
import { NodeInstance } from '../../tests/replay/node-instance.mjs';
import { SIM_ACCOUNT, missingParts, startBackend, startSim } from '../../tests/harness/processes.mjs';
import { createSimClient } from '../../tests/harness/sim-client.js';

// The Flex configuration the backend reads (its policy): recording enabled,
// no exclusions. Put before the backend starts (it reads it then) and after
// every simulator reset (which empties it).
const BACKEND_FEATURE = { enabled: true, channel: 'customer' };

const SHIM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(SHIM, '..');
const PREFIX = '[dual-channel-recording]';

const BUNDLES = (process.env.PLUGIN_BUNDLES
  ? process.env.PLUGIN_BUNDLES.split(',').map((f) => path.resolve(REPO, f))
  : [
    path.join(SHIM, 'dist/plugin-dual-channel-recording.js'),
    path.join(SHIM, 'build/plugin-dual-channel-recording.js'),
  ]);

const WK = 'WK0000000000000000000000000000d001';
const IDENTITY = `worker_${WK}`;
const QUEUE = { queueName: 'Sales', queueSid: 'WQ0000000000000000000000000000d001' };

let flexSimIife;
function flexSimScript() {
  if (!flexSimIife) {
    const file = path.join(REPO, 'tests/harness/flex-sim.js');
    flexSimIife = transformSync(readFileSync(file, 'utf8'), { format: 'iife', globalName: 'FlexSim', target: 'es2022' }).code;
  }
  return flexSimIife;
}

/**
 * A NodeInstance (the replay runner's simulated Flex tab) whose realm can be
 * altered before the bundle runs, and whose loading does not wait for `ready`.
 */
class PreparedInstance extends NodeInstance {
  /** @param {string} prelude JavaScript run in the realm before Flex and the bundle */
  load(prelude) {
    this.context = vm.createContext(this._globals(), { name: `flex-${this.name}` });
    vm.runInContext('globalThis.window = globalThis; globalThis.self = globalThis;', this.context);
    vm.runInContext(prelude, this.context);
    vm.runInContext(flexSimScript(), this.context);
    this.context.__flexOptions = JSON.stringify(this.flexOptions);
    vm.runInContext(`
      globalThis.__sim = FlexSim.createFlex(JSON.parse(__flexOptions));
      __sim.install(globalThis);
      globalThis.__call = (method, json) => {
        const result = __sim[method](...JSON.parse(json));
        return result && typeof result.then === 'function' ? result.then(() => undefined) : undefined;
      };
    `, this.context);
    // Flex runs the plugin's script; anything it throws would reach Flex.
    new vm.Script(readFileSync(this.bundleFile, 'utf8'), { filename: this.bundleFile }).runInContext(this.context);
    const api = this.context.DualChannelRecording;
    assert.ok(api, 'the bundle published DualChannelRecording');
    return api;
  }

  eval(js) {
    return vm.runInContext(js, this.context);
  }

  /** Errors the simulated Flex caught from plugin code (constructor, init, listeners). */
  flexErrors() {
    return JSON.parse(this.eval('JSON.stringify(__sim.errors())'));
  }
}

function makeInstance(bundleFile, customData, token = 'flex-token-load-test', flexExtra = {}) {
  const lines = [];
  const inst = new PreparedInstance('A', {
    bundleFile,
    flexOptions: { customData, workerSid: WK, accountSid: SIM_ACCOUNT.accountSid, token, identity: IDENTITY, locale: 'en-US', ...flexExtra },
    log: (line) => lines.push(line),
  });
  return { inst, lines };
}

const config = (backendPort) => ({
  features: { dual_channel_recording: { enabled: true, channel: 'customer', exclude_attributes: [], exclude_queues: [] } },
  serverless_functions_domain: `127.0.0.1:${backendPort}`,
  serverless_functions_protocol: 'http',
});

/** Realms in which the core cannot load. */
const BROKEN = {
  'WebAssembly.instantiate rejects (a CSP without wasm-unsafe-eval)': `
    WebAssembly.instantiate = () => Promise.reject(new WebAssembly.CompileError("WebAssembly.instantiate(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' is not an allowed source of script"));
    WebAssembly.compile = WebAssembly.instantiate;
    WebAssembly.instantiateStreaming = WebAssembly.instantiate;
  `,
  'no WebAssembly at all': 'delete globalThis.WebAssembly;',
};

async function settled(promise, ms = 10000) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

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

for (const bundleFile of BUNDLES) {
  const label = path.relative(REPO, bundleFile);

  describe(`loading ${label}`, () => {
    before(() => {
      assert.ok(existsSync(bundleFile), `${label} is missing: run make bundle bundle-official`);
    });

    for (const [how, prelude] of Object.entries(BROKEN)) {
      test(`core cannot load (${how}): nothing shown, one error line, Flex keeps working`, async () => {
        const { inst, lines } = makeInstance(bundleFile, config(9));
        try {
          const api = inst.load(prelude);
          // Flex goes on while the core fails to load: a task is accepted now.
          await inst.call('acceptTask', { taskSid: 'WT0000000000000000000000000000d101', sid: 'WR0000000000000000000000000000d101', ...QUEUE, attributes: { direction: 'inbound' } });
          assert.equal(await settled(api.ready), false, 'ready settles to false');
          // ...and later ones too, through their whole life.
          await inst.call('acceptTask', { taskSid: 'WT0000000000000000000000000000d102', sid: 'WR0000000000000000000000000000d102', ...QUEUE, attributes: { direction: 'inbound' } });
          await inst.call('setConference', 'WT0000000000000000000000000000d102', 'CF0000000000000000000000000000d102', [
            { participantType: 'customer', status: 'joined', callSid: 'CA0000000000000000000000000000d102' },
          ]);
          await inst.call('hangup', 'WT0000000000000000000000000000d102');
          await inst.call('complete', 'WT0000000000000000000000000000d102');
          await inst.call('cancel', 'WT0000000000000000000000000000d101');
          // An accept with the AcceptTask action: the listener leaves conferenceOptions alone.
          assert.deepEqual(
            await settled(inst.invokeAcceptTask({ taskSid: 'WT0000000000000000000000000000d103', sid: 'WR0000000000000000000000000000d103', ...QUEUE, channel: 'voice', attributes: {} })),
            { conferenceRecord: null },
          );
          await sleep(50);

          assert.equal(await inst.hasTask('WT0000000000000000000000000000d102'), false, 'the completed task left Flex');
          assert.deepEqual(inst.flexErrors(), [], 'no exception reached Flex');
          assert.deepEqual(inst.uncaught.map(String), [], 'no uncaught exception in timers or microtasks');
          assert.deepEqual(await inst.notificationsShown(), [], 'no notification shown to the agent');
          const ours = lines.filter((l) => l.includes(PREFIX));
          const errors = ours.filter((l) => l.startsWith('[A] error: '));
          assert.equal(errors.length, 1, `exactly one error line:\n${lines.join('\n')}`);
          assert.ok(errors[0].startsWith(`[A] error: ${PREFIX} `), errors[0]);
          assert.deepEqual(ours.filter((l) => !l.startsWith('[A] error: ')), [], 'no other line of ours');
          assert.ok(!lines.some((l) => /\] error: /.test(l) && !l.includes(PREFIX)), `no other error line:\n${lines.join('\n')}`);
          assert.equal(api.idle(), true);
          if (process.env.SHOW_LOG) console.log(lines.join('\n'));
          assert.deepEqual(await inst.status('WT0000000000000000000000000000d101'), { state: 'unknown', recordings: [] });
        } finally {
          await inst.dispose();
        }
      });
    }
  });
}

describe('a task accepted while the core is still compiling is recorded', () => {
  let sim; let backend; let simClient;
  const OUT = path.join(REPO, 'tests/.out/plugin-load');

  before(async () => {
    const missing = missingParts({ bundle: false });
    if (missing.length) throw new Error(`missing:\n  ${missing.join('\n  ')}`);
    sim = await startSim({ logFile: path.join(OUT, 'twilio-sim.log') });
    simClient = createSimClient(sim.url);
    await simClient.putRecordingFeature(BACKEND_FEATURE);
    backend = await startBackend({ simUrl: sim.url, logFile: path.join(OUT, 'recording-backend.log') });
  });
  after(async () => {
    if (backend) await backend.stop();
    if (sim) await sim.stop();
  });

  // Holds the wasm compilation until the test releases it, and counts how it
  // was asked for: only the asynchronous API may be used.
  const GATE = `
    (() => {
      const real = WebAssembly.instantiate;
      let release;
      const gate = new Promise((resolve) => { release = resolve; });
      globalThis.__wasm = { instantiate: 0, syncCompile: 0, release: () => release() };
      WebAssembly.instantiate = (...args) => { __wasm.instantiate += 1; return gate.then(() => real.apply(WebAssembly, args)); };
      const RealModule = WebAssembly.Module;
      WebAssembly.Module = new Proxy(RealModule, { construct(target, args) { __wasm.syncCompile += 1; return Reflect.construct(target, args); } });
    })();
  `;

  BUNDLES.forEach((bundleFile, i) => {
    const label = path.relative(REPO, bundleFile);
    test(label, async () => {
      const n = String(i + 1);
      const sid = (prefix, tag) => `${prefix}${`${tag}${n}`.padStart(32, '0')}`;
      const [WT, WR, CF, CUSTOMER, WORKER_LEG] = [sid('WT', 'e'), sid('WR', 'e'), sid('CF', 'e'), sid('CA', 'c'), sid('CA', 'a')];
      const token = `flex-token-load-${process.pid}-${n}`;
      await simClient.reset();
      await simClient.putRecordingFeature(BACKEND_FEATURE);
      // A fresh backend reads it anew: one started earlier may have read the
      // configuration while the reset had emptied it (and caches what it read).
      await backend.stop();
      await backend.start();
      await simClient.registerToken({ token, workerSid: WK, identity: IDENTITY });
      const { inst, lines } = makeInstance(bundleFile, config(backend.port), token);
      try {
        const api = inst.load(GATE);
        let isReady = false;
        api.ready.then(() => { isReady = true; });

        // The call rings and the agent accepts it while the wasm compiles.
        const attributes = { call_sid: CUSTOMER, direction: 'inbound', from: '+15550100001', to: '+15550199999' };
        await simClient.upsertCall({ callSid: CUSTOMER, from: attributes.from, to: attributes.to });
        await simClient.upsertCall({ callSid: WORKER_LEG, from: attributes.to, to: `client:${IDENTITY}` });
        await simClient.putTask(WT, attributes, { ...QUEUE, channel: 'voice' });
        await simClient.upsertReservation({ taskSid: WT, reservationSid: WR, workerSid: WK, status: 'accepted' });
        await inst.call('acceptTask', { taskSid: WT, sid: WR, ...QUEUE, channel: 'voice', attributes });
        const participants = [
          { participantType: 'customer', status: 'joined', callSid: CUSTOMER },
          { participantType: 'worker', status: 'joined', callSid: WORKER_LEG, workerSid: WK, reservationSid: WR },
        ];
        await simClient.putConference(CF, { taskSid: WT, participants });
        await inst.call('setConference', WT, CF, participants);
        await inst.call('setActiveCall', WORKER_LEG);
        await sleep(100);

        assert.equal(isReady, false, 'the core is still compiling');
        assert.equal(await inst.hasTask(WT), true, 'Flex accepted the task without waiting for the core');
        assert.equal((await simClient.state()).recordings.length, 0, 'nothing recorded yet');

        inst.eval('__wasm.release()');
        assert.equal(await settled(api.ready), true, 'the core is ready and records');
        const wasmUse = JSON.parse(inst.eval('JSON.stringify(__wasm)'));
        assert.equal(wasmUse.instantiate, 1, 'compiled once, with WebAssembly.instantiate');
        assert.equal(wasmUse.syncCompile, 0, 'never compiled synchronously');

        const { state } = await poll('a dual recording of the customer leg and its media entry', async () => {
          const s = await simClient.state();
          const media = s.tasks[WT]?.attributes?.conversations?.media;
          return { ok: s.recordings.length > 0 && Array.isArray(media) && media.length > 0, state: s, seen: s };
        });
        assert.equal(state.recordings.length, 1, JSON.stringify(state.recordings));
        assert.equal(state.recordings[0].callSid, CUSTOMER);
        assert.equal(state.recordings[0].channels, 'dual');
        const status = await inst.status(WT);
        assert.equal(status.state, 'recording', JSON.stringify(status));
        assert.deepEqual(status.recordings, [state.recordings[0].sid]);
        assert.deepEqual(inst.flexErrors(), []);
        assert.deepEqual(await inst.notificationsShown(), []);
        assert.ok(!lines.some((l) => l.startsWith('[A] error: ')), `no error line:\n${lines.join('\n')}`);
      } finally {
        await inst.dispose();
      }
    });
  });
});

describe('beforeAcceptTask while the core is still compiling (method conference)', () => {
  // The same gate as above: the wasm compiles only when the test says so.
  const GATE = `
    (() => {
      const real = WebAssembly.instantiate;
      let release;
      const gate = new Promise((resolve) => { release = resolve; });
      globalThis.__wasm = { release: () => release() };
      WebAssembly.instantiate = (...args) => gate.then(() => real.apply(WebAssembly, args));
    })();
  `;
  const conference = (extra = {}) => ({
    features: { dual_channel_recording: { enabled: true, method: 'conference', exclude_queues: ['Billing'], ...extra } },
  });
  // Flex's own Call Recording on, as the conference method wants it (off,
  // the plugin warns once at start that Insights cannot reach the recordings:
  // admin-notice.test.mjs), so the only warnings here are the accept's.
  const CALL_RECORDING_ON = { callRecordingEnabled: true };
  const spec = (n, queueName = 'Sales') => ({
    taskSid: `WT0000000000000000000000000000f${n}`.padEnd(34, '0'),
    sid: `WR0000000000000000000000000000f${n}`.padEnd(34, '0'),
    queueName,
    queueSid: QUEUE.queueSid,
    channel: 'voice',
    attributes: { direction: 'inbound' },
  });

  for (const bundleFile of BUNDLES) {
    const label = path.relative(REPO, bundleFile);

    test(`${label}: not ready within accept_wait_ms: untouched, one warning; ready later: decided`, async () => {
      const { inst, lines } = makeInstance(bundleFile, conference({ accept_wait_ms: 40 }), undefined, CALL_RECORDING_ON);
      try {
        const api = inst.load(GATE);
        // Never settles while the gate is closed: the bound alone ends the wait.
        assert.deepEqual(await settled(inst.invokeAcceptTask(spec(1)), 5000), { conferenceRecord: null });
        const warnings = lines.filter((l) => l.startsWith(`[A] warn: ${PREFIX}`));
        assert.equal(warnings.length, 1, lines.join('\n'));
        assert.match(warnings[0], /not ready within accept_wait_ms \(40 ms\).*WT0000000000000000000000000000f1/);

        inst.eval('__wasm.release()');
        assert.equal(await settled(api.ready), true);
        assert.deepEqual(await inst.invokeAcceptTask(spec(2)), { conferenceRecord: true });
        assert.deepEqual(await inst.invokeAcceptTask(spec(3, 'Billing')), { conferenceRecord: false });
        assert.deepEqual(inst.flexErrors(), []);
        assert.deepEqual(inst.uncaught.map(String), []);
        assert.deepEqual(await inst.notificationsShown(), []);
        assert.equal(lines.filter((l) => l.startsWith(`[A] warn: ${PREFIX}`)).length, 1, 'no further warning');
      } finally {
        await inst.dispose();
      }
    });

    test(`${label}: the core becomes ready during the wait: the accept is decided`, async () => {
      const { inst, lines } = makeInstance(bundleFile, conference({ accept_wait_ms: 1000 }), undefined, CALL_RECORDING_ON);
      try {
        const api = inst.load(GATE);
        const accepting = inst.invokeAcceptTask(spec(4, 'Billing'));
        await sleep(20);
        inst.eval('__wasm.release()');
        assert.deepEqual(await settled(accepting, 5000), { conferenceRecord: false });
        assert.equal(await settled(api.ready), true);
        assert.ok(!lines.some((l) => l.startsWith(`[A] warn: ${PREFIX}`)), lines.join('\n'));
        assert.deepEqual(inst.flexErrors(), []);
      } finally {
        await inst.dispose();
      }
    });

    test(`${label}: accept_wait_ms 0: the accept never waits for the core`, async () => {
      const { inst } = makeInstance(bundleFile, conference({ accept_wait_ms: 0 }), undefined, CALL_RECORDING_ON);
      try {
        inst.load(GATE);
        assert.deepEqual(await settled(inst.invokeAcceptTask(spec(5)), 5000), { conferenceRecord: null });
      } finally {
        await inst.dispose();
      }
    });
  }
});


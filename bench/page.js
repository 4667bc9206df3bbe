// The benchmark page: one simulated Flex instance (tests/harness/flex-sim.js)
// with instruments installed before any plugin script loads:
// - WebAssembly.instantiate/compile/instantiateStreaming are wrapped to time
//   the core's compile + instantiate;
// - fetch is wrapped: the time it is called is "the request leaving the browser";
// - Twilio.Flex.Plugins.init is wrapped to time init -> DualChannelRecording.ready;
// - manager.store.subscribe is wrapped so each subscriber can be switched off
//   (the notification-cost benchmark) or called directly.
// Driven from bench/browser.mjs through page.evaluate(window.__bench...).
import { createFlex } from '../tests/harness/flex-sim.js';

const now = () => performance.now();
const marks = {};

// ---- WebAssembly ----------------------------------------------------------
const wasmTimes = [];
for (const name of ['instantiate', 'compile', 'instantiateStreaming', 'compileStreaming']) {
  const original = WebAssembly[name];
  if (typeof original !== 'function') continue;
  WebAssembly[name] = function wrapped(...args) {
    const start = now();
    const p = original.apply(this, args);
    return p.then((v) => { wasmTimes.push({ api: name, start, end: now() }); return v; });
  };
}

// ---- fetch ----------------------------------------------------------------
// The time fetch is called is taken first, before anything else runs; the
// call SID is read from the body afterwards (gloo-net passes a Request whose
// body can only be read asynchronously, from a clone).
const nativeFetch = window.fetch.bind(window);
const sent = []; // {t, url, callSid, status}
const waiters = new Map(); // callSid -> resolve(record)
let inflight = 0;
function matched(record) {
  const w = waiters.get(record.callSid);
  if (w) { waiters.delete(record.callSid); w(record); }
}
window.fetch = (input, init) => {
  const t = now();
  const record = { t, url: '', callSid: null, status: null, done: null };
  sent.push(record);
  let bodyText;
  if (input instanceof Request) {
    record.url = input.url;
    bodyText = input.clone().text();
  } else {
    record.url = String(input);
    bodyText = Promise.resolve(init && typeof init.body === 'string' ? init.body : '');
  }
  bodyText.then((text) => { record.callSid = new URLSearchParams(text).get('callSid'); matched(record); }, () => {});
  inflight += 1;
  let p;
  try {
    p = nativeFetch(input, init);
  } catch (err) {
    inflight -= 1;
    return Promise.reject(err);
  }
  record.done = p.then((r) => { record.status = r.status; }, () => { record.status = 'error'; }).finally(() => { inflight -= 1; });
  return p;
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setTimeout(r, 0));

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(s);
  });
}

let sim = null;
const subscribers = []; // {listener, on}
const actionListeners = new Map(); // name -> [listener] the plugin added

/**
 * Task attributes for the accept bench: `keys` top-level keys, the first of
 * which nests `depth - 1` objects (`depth` levels in all), so that every rule
 * looking further has the deep value to read past.
 */
function acceptAttributes(i, keys, depth) {
  let deep = { leaf: 'go' };
  for (let d = 2; d < depth; d += 1) deep = { n: deep };
  const a = { history: deep, call_sid: `CA${i.toString(16).padStart(32, '0')}`, direction: 'inbound' };
  for (let k = 1; Object.keys(a).length < keys; k += 1) {
    a[`field_${k}`] = k % 3 === 0 ? `value ${k} of task ${i}` : (k % 3 === 1 ? k * 1.5 : [`tag-${k}`, `tag-${k + 1}`]);
  }
  return a;
}

window.__bench = {
  crossOriginIsolated: () => window.crossOriginIsolated === true,

  /** Simulated Flex, then each script in order (as Flex loads plugins). */
  async setup({ flexOptions, scripts, readyTimeoutMs = 20000, quietConsole = false }) {
    if (quietConsole) {
      // What the plugin logs below warn goes nowhere (a console call costs
      // most when an inspector is attached, as here under Playwright).
      console.debug = () => {};
      console.info = () => {};
      console.log = () => {};
    }
    sim = createFlex(flexOptions);
    const store = sim.manager.store;
    const subscribe = store.subscribe;
    store.subscribe = (listener) => {
      const entry = { listener, on: true };
      subscribers.push(entry);
      return subscribe((...a) => { if (entry.on) entry.listener(...a); });
    };
    const init = sim.flex.Plugins.init;
    sim.flex.Plugins.init = (PluginClass) => {
      marks.initStart = now();
      const plugin = init(PluginClass);
      marks.initReturned = now();
      return plugin;
    };
    const addListener = sim.flex.Actions.addListener;
    sim.flex.Actions.addListener = (name, listener) => {
      actionListeners.set(name, [...(actionListeners.get(name) || []), listener]);
      return addListener(name, listener);
    };
    sim.install(window);
    window.__sim = sim;
    for (const src of scripts) {
      marks.scriptStart ??= now();
      await loadScript(src);
      marks.scriptLoaded = now();
    }
    const api = window.DualChannelRecording;
    if (api) {
      let timer;
      const ok = await Promise.race([
        Promise.resolve(api.ready),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('ready did not settle')), readyTimeoutMs); }),
      ]).finally(() => clearTimeout(timer));
      marks.ready = now();
      if (ok !== true) throw new Error(`DualChannelRecording.ready settled with ${ok}`);
    }
    return true;
  },

  /** Times of one page load (bench 5). */
  loadTimes() {
    const wasm = wasmTimes.map((w) => ({ api: w.api, ms: w.end - w.start }));
    return {
      wasm,
      compileInstantiateMs: wasmTimes.reduce((a, w) => a + (w.end - w.start), 0),
      scriptMs: marks.scriptLoaded - marks.scriptStart,
      initToReadyMs: marks.ready - marks.initStart,
      scriptStartToReadyMs: marks.ready - marks.scriptStart,
    };
  },

  /**
   * Bench 1: plays `calls` one after another. For each: the task is accepted
   * and this instance's call is active; after `delayMs` the conference shows
   * the worker and the customer joined (the store change that makes the leg
   * recordable). Returns, per call, the time from just before that dispatch
   * to the plugin calling fetch for that call.
   */
  async runCalls(calls, { withActiveCall = true, waitMs = 2000, settleMs = 3000 } = {}) {
    const results = [];
    const workerSid = sim.workerSid;
    for (const c of calls) {
      sim.acceptTask({
        taskSid: c.taskSid, sid: c.reservationSid, channel: 'voice', queueName: 'Sales', queueSid: c.queueSid,
        attributes: { call_sid: c.customerCall, conference: { sid: c.conferenceSid }, direction: 'inbound' },
        dateUpdated: new Date(),
      });
      if (withActiveCall) sim.setActiveCall(c.workerCall);
      await sleep(c.delayMs);
      const seen = new Promise((resolve) => {
        waiters.set(c.customerCall, resolve);
        setTimeout(() => { if (waiters.delete(c.customerCall)) resolve(null); }, waitMs);
      });
      const t0 = now();
      sim.setConference(c.taskSid, c.conferenceSid, [
        { participantType: 'worker', status: 'joined', callSid: c.workerCall, workerSid, reservationSid: c.reservationSid },
        { participantType: 'customer', status: 'joined', callSid: c.customerCall },
      ]);
      const rec = await seen;
      const r = { callSid: c.customerCall, ms: rec ? rec.t - t0 : null, status: null };
      if (rec) {
        await Promise.race([rec.done, sleep(settleMs)]);
        r.status = rec.status;
      }
      // Let the plugin take the answer in before the task ends.
      const api = window.DualChannelRecording;
      const until = now() + settleMs;
      while (api && !api.idle() && now() < until) await sleep(1);
      if (withActiveCall) sim.setActiveCall(null);
      await sim.complete(c.taskSid);
      await tick();
      results.push(r);
    }
    return results;
  },

  /**
   * Start delay (issue 11): plays `calls` one after another. For each: a
   * fresh Flex token when `freshTokens` lists one (the template checks the
   * token on every request), the task accepted with this instance's call
   * active, `leadMs` later the conference showing both legs joined (the
   * store change that makes the leg recordable; `leads[i]` instead when
 * given). Returns, per call, that
   * moment in µs since the Unix epoch, to compare with the simulator's
   * `receivedUs` of the recording create.
   */
  async startDelayCalls(calls, { leadMs = 0, leads = null, freshTokens = null, settleMs = 3000 } = {}) {
    const results = [];
    const workerSid = sim.workerSid;
    const epochUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
    for (const [i, c] of calls.entries()) {
      if (freshTokens) sim.manager.user.token = freshTokens[i];
      const before = sent.length;
      sim.acceptTask({
        taskSid: c.taskSid, sid: c.reservationSid, channel: 'voice', queueName: 'Sales', queueSid: c.queueSid,
        attributes: { call_sid: c.customerCall, conference: { sid: c.conferenceSid }, direction: 'inbound' },
        dateUpdated: new Date(),
      });
      sim.setActiveCall(c.workerCall);
      await sleep(leads ? leads[i] : leadMs);
      const seen = new Promise((resolve) => {
        waiters.set(c.customerCall, resolve);
        setTimeout(() => { if (waiters.delete(c.customerCall)) resolve(null); }, settleMs);
      });
      const t0Us = epochUs();
      sim.setConference(c.taskSid, c.conferenceSid, [
        { participantType: 'worker', status: 'joined', callSid: c.workerCall, workerSid, reservationSid: c.reservationSid },
        { participantType: 'customer', status: 'joined', callSid: c.customerCall },
      ]);
      const rec = await seen;
      if (rec) await Promise.race([rec.done, sleep(settleMs)]);
      const api = window.DualChannelRecording;
      const until = now() + settleMs;
      while (api && !api.idle() && now() < until) await sleep(1);
      await Promise.race([Promise.all(sent.slice(before).map((s) => s.done)), sleep(settleMs)]);
      const fetches = sent.length - before;
      sim.setActiveCall(null);
      await sim.complete(c.taskSid);
      await tick();
      results.push({ callSid: c.customerCall, t0Us, fetches });
    }
    return results;
  },

  /** Every fetch the page made: count by URL. */
  fetchCount: () => sent.length,
  fetches: () => sent.map((s) => ({ url: s.url, callSid: s.callSid, status: s.status })),
  inflight: () => inflight,

  /** Bench 2 setup: `n` accepted tasks whose customer has not joined yet (waiting, followed). */
  async followTasks(tasks) {
    for (const c of tasks) {
      sim.acceptTask({
        taskSid: c.taskSid, sid: c.reservationSid, channel: 'voice', queueName: 'Sales', queueSid: c.queueSid,
        attributes: { call_sid: c.customerCall, direction: 'inbound' }, dateUpdated: new Date(),
      });
      sim.setConference(c.taskSid, c.conferenceSid, [
        { participantType: 'worker', status: 'joined', callSid: c.workerCall, workerSid: sim.workerSid, reservationSid: c.reservationSid },
        { participantType: 'customer', status: 'connecting' },
      ]);
    }
    sim.setActiveCall(tasks[0] && tasks[0].workerCall);
    await sleep(50);
    return tasks.map((c) => window.DualChannelRecording.status(c.taskSid).state);
  },

  subscriberCount: () => subscribers.length,

  /**
   * Bench 6: `n` accepts (after `warmup`) of voice tasks whose attributes
   * have `keys` keys and `depth` levels. Per accept, timed apart: the
   * plugin's beforeAcceptTask listener called directly (the core's decision
   * included), and the whole AcceptTask action (Actions.invokeAction: every
   * before-listener awaited, the action, the after-listeners). Payloads are
   * built before the clock starts.
   */
  async acceptCost({ n = 1000, warmup = 50, keys = 110, depth = 150 } = {}) {
    const listeners = actionListeners.get('beforeAcceptTask') || [];
    const listener = listeners[listeners.length - 1];
    const payload = (i, tag) => {
      const taskSid = `WT${tag}${i.toString(16).padStart(30, '0')}`;
      return {
        task: {
          sid: `WR${taskSid.slice(2)}`, taskSid, status: 'pending', taskStatus: 'reserved', attributes: acceptAttributes(i, keys, depth),
          queueName: 'Sales', queueSid: 'WQ00000000000000000000000000000001', taskChannelUniqueName: 'voice',
          dateCreated: new Date(), dateUpdated: new Date(), workerSid: sim.workerSid,
        },
        sid: `WR${taskSid.slice(2)}`,
        conferenceOptions: {},
      };
    };
    const rows = [];
    const decided = { true: 0, false: 0, unset: 0 };
    for (let i = 0; i < warmup + n; i += 1) {
      const direct = payload(i, 'd0');
      const invoked = payload(i, 'a0');
      let listenerMs = null;
      const timeListener = async () => {
        if (!listener) return;
        const t = now();
        const r = listener(direct, () => {});
        listenerMs = now() - t;
        if (r && typeof r.then === 'function') await r;
      };
      let actionMs;
      const timeAction = async () => {
        const t = now();
        await sim.flex.Actions.invokeAction('AcceptTask', invoked);
        actionMs = now() - t;
      };
      // Alternate which goes first, so neither always finds the caches warm.
      if (i % 2 === 0) { await timeListener(); await timeAction(); } else { await timeAction(); await timeListener(); }
      if (i < warmup) continue;
      const record = invoked.conferenceOptions.conferenceRecord;
      decided[record === undefined ? 'unset' : String(record)] += 1;
      rows.push({ listenerMs, actionMs });
    }
    return { rows, decided, keysSeen: Object.keys(acceptAttributes(0, keys, depth)).length, listeners: listeners.length };
  },

  /**
   * Bench 2: per round, N unrelated store dispatches with the plugin's
   * listener on, and N with it off (order alternating), then N direct calls
   * of the listener. Returns per-round ns per notification.
   */
  notifyCost({ n = 20000, rounds = 30 } = {}) {
    const plugin = subscribers[subscribers.length - 1];
    const timeDispatches = () => {
      const t = now();
      for (let i = 0; i < n; i += 1) sim.unrelatedChange();
      return now() - t;
    };
    const out = [];
    // warm-up (JIT)
    for (let w = 0; w < 3; w += 1) { plugin.on = true; timeDispatches(); plugin.on = false; timeDispatches(); }
    for (let r = 0; r < rounds; r += 1) {
      let on;
      let off;
      if (r % 2 === 0) {
        plugin.on = true; on = timeDispatches();
        plugin.on = false; off = timeDispatches();
      } else {
        plugin.on = false; off = timeDispatches();
        plugin.on = true; on = timeDispatches();
      }
      plugin.on = true;
      const t = now();
      for (let i = 0; i < n; i += 1) plugin.listener();
      const direct = now() - t;
      out.push({ onNs: (on * 1e6) / n, offNs: (off * 1e6) / n, diffNs: ((on - off) * 1e6) / n, directNs: (direct * 1e6) / n });
    }
    plugin.on = true;
    return out;
  },
};
document.documentElement.dataset.bench = 'ready';

// The harness page's script: one simulated Flex instance in this window,
// the plugin bundle loaded by a <script> tag as Flex loads it. Tests drive it
// through `window.__harness` (page.evaluate).
import { createFlex } from './flex-sim.js';

let sim = null;
let inflight = 0;

// Count open requests, as the Node harness does, so "settled" means the same.
const nativeFetch = window.fetch.bind(window);
window.fetch = (...args) => {
  inflight += 1;
  let p;
  try { p = nativeFetch(...args); } catch (err) { inflight -= 1; return Promise.reject(err); }
  return p.finally(() => { inflight -= 1; });
};

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(s);
  });
}

window.__harness = {
  /**
   * Create the simulated Flex, install it, load the bundle and wait for the
   * core; without `bundleUrl`, Flex runs without the plugin.
   */
  async setup({ flexOptions, bundleUrl, readyTimeoutMs = 20000 }) {
    if (sim) throw new Error('harness already set up');
    sim = createFlex(flexOptions);
    sim.install(window);
    window.__sim = sim;
    if (!bundleUrl) return true;
    await loadScript(bundleUrl);
    const api = window.DualChannelRecording;
    if (!api) throw new Error('the bundle did not publish DualChannelRecording (did it call Twilio.Flex.Plugins.init?)');
    let timer;
    await Promise.race([
      Promise.resolve(api.ready),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`DualChannelRecording.ready did not settle within ${readyTimeoutMs} ms`)), readyTimeoutMs); }),
    ]).finally(() => clearTimeout(timer));
    return true;
  },
  async call(method, args) {
    const result = sim[method](...args);
    if (result && typeof result.then === 'function') await result;
    return undefined;
  },
  /** `flex.Actions.invokeAction` with its outcome: `{ok, value}` or `{ok: false, error}`. */
  async invokeAction(name, payloadJson) {
    const outcome = await sim.invokeAction(name, JSON.parse(payloadJson));
    return JSON.stringify(outcome, (k, v) => (k === 'task' ? undefined : v));
  },
  idle() {
    const api = window.DualChannelRecording;
    const pluginIdle = api ? !!api.idle() : true;
    return { idle: pluginIdle && inflight === 0, pluginIdle, inflight };
  },
  invokeAcceptTask: (spec) => sim.invokeAcceptTask(spec),
  hasTask: (taskSid) => sim.getTask(taskSid) !== undefined,
  notificationsShown: () => sim.notificationsShown(),
  status: (taskSid) => window.DualChannelRecording.status(taskSid),
};
document.documentElement.dataset.harness = 'ready';

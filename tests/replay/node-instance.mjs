// One simulated Flex instance (one browser tab) in Node: a fresh vm context
// with its own browser-like globals, the simulated Flex installed in it, and
// the plugin bundle evaluated as a classic script, as Flex loads it.
//
// Everything the plugin touches lives in the context's own realm (flex-sim is
// evaluated there too, turned into an IIFE by esbuild), so `instanceof Map`,
// `instanceof Date` and the like behave as in a browser. Host objects (fetch,
// Response, TextEncoder...) are Node's, as in Node itself.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { transformSync } from 'esbuild';
import { REPO_ROOT } from '../harness/processes.mjs';

let flexSimIife = null;
function flexSimScript() {
  if (!flexSimIife) {
    const file = path.join(REPO_ROOT, 'tests/harness/flex-sim.js');
    flexSimIife = transformSync(readFileSync(file, 'utf8'), { format: 'iife', globalName: 'FlexSim', target: 'es2022', sourcefile: file }).code;
  }
  return flexSimIife;
}

const bundleScripts = new Map();
function bundleScript(file) {
  if (!bundleScripts.has(file)) bundleScripts.set(file, new vm.Script(readFileSync(file, 'utf8'), { filename: file }));
  return bundleScripts.get(file);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

export class NodeInstance {
  /**
   * @param {string} name instance name (A, B...)
   * @param {object} opts
   * @param {string} opts.bundleFile the plugin bundle
   * @param {object} opts.flexOptions createFlex options (JSON-serialisable)
   * @param {(line: string) => void} opts.log where the instance's console goes
   * @param {object} [opts.actions] Flex's own Actions for this instance (real-flex-actions.mjs),
   *   in place of the simulated one; it lives in the host realm
   * @param {boolean} [opts.plugin] false: Flex runs without the plugin (it failed to load)
   */
  constructor(name, { bundleFile, flexOptions, log, actions, plugin = true }) {
    this.name = name;
    this.plugin = plugin;
    this.bundleFile = bundleFile;
    this.flexOptions = flexOptions;
    this.log = log;
    this.actions = actions;
    this.timers = new Map();
    this.controllers = new Set();
    this.inflight = 0;
    this.disposed = false;
    this.uncaught = [];
  }

  _globals() {
    const log = (level) => (...args) => this.log(`[${this.name}] ${level}: ${args.map(formatArg).join(' ')}`);
    const consoleObj = {
      log: log('log'), info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug'), trace: log('trace'),
      group: log('group'), groupCollapsed: log('group'), groupEnd: () => {}, table: log('table'), dir: log('dir'),
      time: () => {}, timeEnd: () => {}, assert: (cond, ...a) => { if (!cond) log('assert')(...a); },
    };
    let nextId = 1;
    const self = this;
    const guard = (fn, where) => (...args) => {
      if (self.disposed) return undefined;
      try {
        return fn(...args);
      } catch (err) {
        self.uncaught.push(err);
        self.log(`[${self.name}] uncaught in ${where}: ${err && err.stack ? err.stack : err}`);
        return undefined;
      }
    };
    const addTimer = (kind, fn, ms, args) => {
      if (this.disposed || typeof fn !== 'function') return 0;
      const id = nextId++;
      const run = guard(() => fn(...args), kind);
      const handle = kind === 'setInterval'
        ? setInterval(run, ms)
        : setTimeout(() => { this.timers.delete(id); run(); }, ms);
      this.timers.set(id, { kind, handle });
      return id;
    };
    const clearTimer = (id) => {
      const t = this.timers.get(id);
      if (!t) return;
      if (t.kind === 'setInterval') clearInterval(t.handle); else clearTimeout(t.handle);
      this.timers.delete(id);
    };
    const trackedFetch = (input, init = {}) => {
      if (this.disposed) return Promise.reject(new TypeError('Failed to fetch (instance disposed)'));
      const controller = new AbortController();
      if (init.signal) {
        if (init.signal.aborted) controller.abort(init.signal.reason);
        else init.signal.addEventListener('abort', () => controller.abort(init.signal.reason), { once: true });
      }
      this.controllers.add(controller);
      this.inflight += 1;
      const done = () => { this.inflight -= 1; this.controllers.delete(controller); };
      let p;
      try {
        p = fetch(input, { ...init, signal: controller.signal });
      } catch (err) {
        done();
        return Promise.reject(err);
      }
      // A fetch rejects with a TypeError in browsers when the network fails,
      // and with an AbortError DOMException (an Error too) when aborted. It
      // must be an Error of the instance's own realm, as in a browser: code
      // in the bundle tells errors apart with `instanceof Error`, and a
      // host-realm error fails that test (gloo-net then panics).
      return p.then((res) => { done(); return res; }, (err) => {
        done();
        throw this._realmError(err);
      });
    };

    return {
      console: consoleObj,
      setTimeout: (fn, ms, ...args) => addTimer('setTimeout', fn, ms, args),
      clearTimeout: clearTimer,
      setInterval: (fn, ms, ...args) => addTimer('setInterval', fn, ms, args),
      clearInterval: clearTimer,
      queueMicrotask: (fn) => { if (!this.disposed) queueMicrotask(guard(fn, 'queueMicrotask')); },
      fetch: trackedFetch,
      Headers,
      Request,
      Response,
      FormData,
      URLSearchParams,
      AbortController,
      AbortSignal,
      TextEncoder,
      TextDecoder,
      URL,
      atob,
      btoa,
      performance,
      crypto: globalThis.crypto,
      Blob,
      structuredClone,
      EventTarget,
      Event,
      navigator: { userAgent: 'flex-sim (node vm)', language: this.flexOptions.locale || 'en-US', languages: [this.flexOptions.locale || 'en-US'] },
      location: { href: 'http://127.0.0.1/flex', origin: 'http://127.0.0.1', protocol: 'http:', host: '127.0.0.1', hostname: '127.0.0.1' },
    };
  }

  /** A fetch failure as the instance's own realm would see it. */
  _realmError(err) {
    const message = err && err.message ? err.message : String(err);
    if (!this.context) return err;
    const aborted = err && err.name === 'AbortError';
    const make = vm.runInContext('(aborted, message) => { const e = aborted ? new Error(message) : new TypeError(message); if (aborted) e.name = "AbortError"; return e; }', this.context);
    return make(aborted, aborted ? message : `Failed to fetch (${message})`);
  }

  async start() {
    const sandbox = this._globals();
    this.context = vm.createContext(sandbox, { name: `flex-${this.name}` });
    // Browser-like self references, and WebAssembly from the context's own realm.
    vm.runInContext('globalThis.window = globalThis; globalThis.self = globalThis;', this.context);
    vm.runInContext(flexSimScript(), this.context, { filename: 'tests/harness/flex-sim.js' });
    this.context.__flexOptions = JSON.stringify(this.flexOptions);
    this.context.__flexActions = this.actions;
    vm.runInContext(`
      globalThis.__sim = FlexSim.createFlex({ ...JSON.parse(__flexOptions), actions: globalThis.__flexActions });
      __sim.install(globalThis);
      globalThis.__call = (method, json) => {
        const result = __sim[method](...JSON.parse(json));
        return result && typeof result.then === 'function' ? result.then(() => undefined) : undefined;
      };
    `, this.context);
    if (!this.plugin) return;
    try {
      bundleScript(this.bundleFile).runInContext(this.context);
    } catch (err) {
      throw new Error(`instance ${this.name}: the bundle threw while loading: ${err && err.stack ? err.stack : err}`);
    }
    const api = this.context.DualChannelRecording;
    if (!api) throw new Error(`instance ${this.name}: the bundle did not publish DualChannelRecording (did it call Twilio.Flex.Plugins.init?)`);
    await withTimeout(Promise.resolve(api.ready), 20000, `instance ${this.name}: DualChannelRecording.ready`);
  }

  /** Call a flex-sim driver method inside the instance (arguments are copied into its realm). */
  async call(method, ...args) {
    if (this.disposed) throw new Error(`instance ${this.name} is disposed`);
    await this.context.__call(method, JSON.stringify(args));
  }

  /** `flex.Actions.invokeAction` in this instance: `{ok, value}` or `{ok: false, error}`. */
  async invokeAction(name, payload) {
    if (this.disposed) throw new Error(`instance ${this.name} is disposed`);
    this.context.__actionArgs = JSON.stringify([name, payload]);
    const json = await vm.runInContext(
      '__sim.invokeAction(...JSON.parse(__actionArgs)).then((o) => JSON.stringify(o, (k, v) => (k === "task" ? undefined : v)))',
      this.context,
    );
    return JSON.parse(json);
  }

  /** The AcceptTask action in this tab (flex-sim invokeAcceptTask): `{conferenceRecord}`. */
  async invokeAcceptTask(spec) {
    if (this.disposed) throw new Error(`instance ${this.name} is disposed`);
    const run = vm.runInContext('(json) => __sim.invokeAcceptTask(JSON.parse(json)).then((r) => JSON.stringify(r))', this.context);
    return JSON.parse(await run(JSON.stringify(spec)));
  }

  async hasTask(taskSid) {
    return vm.runInContext(`__sim.getTask(${JSON.stringify(taskSid)}) !== undefined`, this.context) === true;
  }

  async notificationsShown() {
    return JSON.parse(vm.runInContext('JSON.stringify(__sim.notificationsShown())', this.context));
  }

  /** No work in flight: the plugin says idle and no fetch is open. */
  async idle() {
    const api = this.context.DualChannelRecording;
    let pluginIdle = true;
    if (api) try { pluginIdle = !!api.idle(); } catch (err) { this.log(`[${this.name}] idle() threw: ${err}`); pluginIdle = true; }
    return { idle: pluginIdle && this.inflight === 0, pluginIdle, inflight: this.inflight };
  }

  async status(taskSid) {
    if (!this.plugin) return null;
    return JSON.parse(vm.runInContext(`JSON.stringify(DualChannelRecording.status(${JSON.stringify(taskSid)}))`, this.context));
  }

  /** Clear its timers, abort its requests: nothing of it runs afterwards. */
  async dispose() {
    this.disposed = true;
    for (const [id, t] of this.timers) {
      if (t.kind === 'setInterval') clearInterval(t.handle); else clearTimeout(t.handle);
      this.timers.delete(id);
    }
    for (const c of this.controllers) c.abort(new Error('instance disposed'));
    this.controllers.clear();
  }
}

function formatArg(a) {
  if (typeof a === 'string') return a;
  if (a instanceof Error || (a && typeof a.stack === 'string' && typeof a.message === 'string')) return a.stack;
  try { return JSON.stringify(a); } catch { return String(a); }
}

// One Flex tab of the demo: a simulated Flex in this iframe's own window, with
// the built plugin bundle loaded by a <script> tag, as Flex loads a plugin.
// The demo page drives it through `window.__tab`.
import { createFlex } from '../harness/flex-sim.js';

const $ = (id) => document.getElementById(id);
let sim = null;
let tabName = '';
/** Recordings this tab's plugin started (the backend did not answer alreadyRecording). */
const started = [];
/** taskSid → the last status reported, so each change is reported once. */
const lastStatus = new Map();
/** taskSid → Twilio's state of its call (`in-progress`, `paused`, `none`), from the demo page. */
const twilio = new Map();
/** The demo page's "What happened" (set by setup). */
let report = () => {};

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error(`could not load ${src} (is the plugin built?)`));
    document.head.appendChild(s);
  });
}

function text(el, value) { el.textContent = value; }

function render() {
  if (!sim) return;
  const state = sim.manager.store.getState().flex;
  const active = state.phone.activeCall;
  text($('active-call'), active ? active.parameters.CallSid : 'none');
  $('active-call').classList.toggle('on', !!active);
  const now = sim.notificationsCurrent();
  text($('notifications'), now.length ? [...new Set(now)].join(', ') : 'none');
  const list = $('tasks');
  list.replaceChildren();
  const api = window.DualChannelRecording;
  const sids = sim.taskSids();
  if (sids.length === 0) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = 'no task';
    list.append(li);
  }
  for (const taskSid of sids) {
    const task = sim.getTask(taskSid);
    const li = document.createElement('li');
    let status = { state: 'unknown', recordings: [] };
    try { if (api) status = api.status(taskSid); } catch { /* plugin not ready */ }
    noteStatus(taskSid, status);
    const name = document.createElement('code');
    name.textContent = taskSid;
    const meta = document.createElement('span');
    meta.className = 'muted';
    meta.textContent = ` ${task.queueName} · ${task.status}`;
    const pill = document.createElement('span');
    const shown = shownState(status.state, twilio.get(taskSid));
    pill.className = `pill state-${shown}`;
    pill.textContent = shown + (status.recordings && status.recordings.length ? ` · ${status.recordings.length} rec` : '');
    // The pill says what the core says, reason included (status(taskSid).reason).
    const reason = document.createElement('div');
    reason.className = 'reason';
    reason.textContent = status.reason || '';
    pill.title = status.reason || '';
    li.append(name, meta, ' ', pill, reason);
    list.append(li);
  }
  const ev = $('events');
  ev.replaceChildren();
  if (started.length === 0) {
    const li = document.createElement('li');
    li.className = 'muted';
    li.textContent = 'none yet';
    ev.append(li);
  }
  for (const e of [...started].reverse()) {
    const li = document.createElement('li');
    li.innerHTML = '<code></code> on <code></code>';
    li.children[0].textContent = e.recordingSid;
    li.children[1].textContent = e.callSid;
    ev.append(li);
  }
}

/**
 * The card says what Twilio says where the core's state alone would not:
 * `paused` while Twilio holds the recording paused, and a task left out of
 * any new recording while the call's recording goes on (a customer-channel
 * transfer) as `recorded before` (the core's reason says why).
 */
function shownState(core, atTwilio) {
  if (atTwilio === 'paused' && (core === 'recording' || core === 'excluded')) return 'paused';
  if (core === 'excluded' && atTwilio === 'in-progress') return 'recorded before';
  return core;
}

/** Reports a task's status to the demo page when its state or reason changed. */
function noteStatus(taskSid, status) {
  if (!status || status.state === 'unknown') return;
  const key = `${status.state}|${status.reason || ''}|${(status.recordings || []).join(',')}`;
  if (lastStatus.get(taskSid) === key) return;
  lastStatus.set(taskSid, key);
  report({ tab: tabName, kind: 'status', taskSid, ...status });
}

function onRecording(e) {
  if (!e.alreadyRecording) started.push(e);
  report({ tab: tabName, kind: 'recording', ...e });
  render();
}

window.__tab = {
  async setup({ name, flexOptions, bundleUrl, onReport }) {
    tabName = name;
    if (typeof onReport === 'function') report = onReport;
    text($('tab-name'), `Flex tab ${name}`);
    document.title = `Flex tab ${name}`;
    text($('worker'), flexOptions.workerSid);
    sim = createFlex(flexOptions);
    sim.install(window);
    sim.manager.store.subscribe(render);
    const pill = $('plugin-state');
    try {
      await loadScript(bundleUrl);
      const api = window.DualChannelRecording;
      if (!api) throw new Error('bundle did not publish DualChannelRecording');
      await api.ready;
      api.onRecordingStarted(onRecording);
      pill.textContent = 'plugin ready';
      pill.classList.add('ok');
    } catch (err) {
      pill.textContent = `plugin failed: ${err.message}`;
      pill.classList.add('bad');
    }
    setInterval(render, 500);
    render();
  },
  /** Call a flex-sim driver method (acceptTask, setConference, setActiveCall, hangup, complete, wrapup, cancel). */
  async call(method, ...args) {
    if (!sim) throw new Error('tab not set up');
    const result = await sim[method](...args);
    render();
    return result && typeof result === 'object' ? undefined : result;
  },
  /** `flex.Actions.invokeAction` in this tab: `{ok, value}` or `{ok: false, error}`. */
  async invokeAction(name, payload) {
    if (!sim) throw new Error('tab not set up');
    const outcome = await sim.invokeAction(name, payload);
    render();
    return JSON.parse(JSON.stringify(outcome, (k, v) => (k === 'task' ? undefined : v)));
  },

  /** The agent clicks Accept in this tab: the AcceptTask action, `{conferenceRecord}` after its before-listeners. */
  async invokeAcceptTask(spec) {
    if (!sim) throw new Error('tab not set up');
    const result = await sim.invokeAcceptTask(spec);
    render();
    return result;
  },
  /** Twilio's state of the task's call, as the demo page reads it from the simulator. */
  setTwilio(taskSid, state) {
    if (twilio.get(taskSid) === state) return;
    twilio.set(taskSid, state);
    render();
  },
  /** `DualChannelRecording.recordingState(taskSid)`: `{ok, value: {state, recordings}}` or `{ok: false, error}`. */
  async recordingState(taskSid) {
    const api = window.DualChannelRecording;
    if (!api) return { ok: false, error: 'the plugin is not loaded' };
    try {
      return { ok: true, value: JSON.parse(JSON.stringify(await api.recordingState(taskSid))) };
    } catch (err) {
      return { ok: false, error: err && err.message ? err.message : String(err) };
    }
  },
  activeCall: () => {
    const a = sim && sim.manager.store.getState().flex.phone.activeCall;
    return a ? a.parameters.CallSid : null;
  },
  status: (taskSid) => (window.DualChannelRecording ? window.DualChannelRecording.status(taskSid) : null),
};

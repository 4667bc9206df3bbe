// One Flex tab of the demo: a simulated Flex in this iframe's own window, with
// the built plugin bundle loaded by a <script> tag, as Flex loads a plugin.
// The demo page drives it through `window.__tab`.
import { createFlex } from '../harness/flex-sim.js';

const $ = (id) => document.getElementById(id);
let sim = null;
const started = [];

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
  const shown = sim.notificationsShown();
  text($('notifications'), shown.length ? [...new Set(shown)].join(', ') : 'none');
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
    const name = document.createElement('code');
    name.textContent = taskSid;
    const meta = document.createElement('span');
    meta.className = 'muted';
    meta.textContent = ` ${task.queueName} · ${task.status}`;
    const pill = document.createElement('span');
    pill.className = `pill state-${status.state}`;
    pill.textContent = status.state + (status.recordings && status.recordings.length ? ` · ${status.recordings.length} rec` : '');
    li.append(name, meta, ' ', pill);
    if (status.reason) {
      const reason = document.createElement('div');
      reason.className = 'muted reason';
      reason.textContent = status.reason;
      li.append(reason);
    }
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
  for (const e of started.slice(-4)) {
    const li = document.createElement('li');
    li.innerHTML = '<code></code> on <code></code>';
    li.children[0].textContent = e.recordingSid;
    li.children[1].textContent = e.callSid;
    ev.append(li);
  }
}

window.__tab = {
  async setup({ name, flexOptions, bundleUrl }) {
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
      api.onRecordingStarted((e) => { started.push(e); render(); });
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
  /** The agent clicks Accept in this tab: the AcceptTask action, `{conferenceRecord}` after its before-listeners. */
  async invokeAcceptTask(spec) {
    if (!sim) throw new Error('tab not set up');
    const result = await sim.invokeAcceptTask(spec);
    render();
    return result;
  },
  activeCall: () => {
    const a = sim && sim.manager.store.getState().flex.phone.activeCall;
    return a ? a.parameters.CallSid : null;
  },
  status: (taskSid) => (window.DualChannelRecording ? window.DualChannelRecording.status(taskSid) : null),
};

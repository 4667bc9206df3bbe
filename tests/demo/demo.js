// The demo page: drives the Twilio simulator (control API) and the simulated
// Flex tabs (iframes that load the built plugin bundle), and shows live what
// the simulator holds: calls, conference legs, recordings, task attributes.
import { createSimClient } from '/harness/sim-client.js';

const $ = (id) => document.getElementById(id);
const FLEX_NUMBER = '+15550199999';
const QUEUES = { Sales: 'WQ00000000000000000000000000000001', Billing: 'WQ00000000000000000000000000000003' };

let cfg;
let sim;
const tabs = { A: { frame: $('tab-A'), open: true }, B: { frame: $('tab-B'), open: false } };
let call = null; // the call the buttons act on
let lastState = null;
/** The simulator's state as last polled. */
let simState = { recordings: [], conferenceRecordings: [], calls: {}, conferences: {} };

const hex32 = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
const sid = (prefix) => prefix + hex32();
const identity = () => `worker_${cfg.workerSid}`;
const short = (s) => (s ? `${s.slice(0, 2)}…${s.slice(-6)}` : '–');
const mid = (s) => (s ? `${s.slice(0, 2)}…${s.slice(-10)}` : '–');
const clock = (t) => { const d = new Date(t); return Number.isNaN(d.getTime()) ? (t || '') : d.toLocaleTimeString(); };

/** One line in "What happened" (newest first; the list is numbered in reverse, so the newest has the highest number). */
function say(message, kind = '') {
  const status = $('status');
  status.textContent = message;
  status.className = `status ${kind}`;
  const li = document.createElement('li');
  const time = document.createElement('time');
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString();
  li.append(time, ' ', message);
  if (kind) li.className = kind;
  $('log').prepend(li);
}

/**
 * What a tab's plugin reports: each status change of a task (state and the
 * core's reason, from `DualChannelRecording.status(taskSid)`) and each
 * recording event (`onRecordingStarted`, with the backend's alreadyRecording).
 */
function onReport(r) {
  if (r.kind === 'status') {
    const recs = r.recordings && r.recordings.length ? ` (${r.recordings.map(short).join(', ')})` : '';
    say(`Tab ${r.tab} · task ${short(r.taskSid)}: ${statusWords(r)}${recs}${r.reason ? ` · ${r.reason}` : ''}`, `decision state-${shownState(r)}`);
  } else if (r.kind === 'recording') {
    if (r.alreadyRecording) {
      say(`Tab ${r.tab}: the backend answered alreadyRecording: ${short(r.recordingSid)} on ${short(r.callSid)} was started by another tab, so tab ${r.tab} did not start one.`, 'decision');
    } else {
      say(`Tab ${r.tab} started recording ${short(r.recordingSid)} on ${short(r.callSid)}.`, 'decision');
    }
  }
}

/**
 * What Twilio holds for the live call now (the simulator's recordings of its
 * calls and of its conference): `paused` when any is paused, `in-progress`
 * when any records, else `none`.
 */
function twilioState() {
  if (!call || call.done) return 'none';
  const calls = new Set([call.customerCallSid, ...call.workerLegs.map((l) => l.callSid)]);
  const live = [
    ...(simState.recordings || []).filter((r) => calls.has(r.callSid)),
    ...(simState.conferenceRecordings || []).filter((r) => r.conferenceSid === call.conferenceSid),
  ].map((r) => r.status);
  if (live.includes('paused')) return 'paused';
  if (live.includes('in-progress')) return 'in-progress';
  return 'none';
}

/** Whether anything of the call was recorded at all (any status). */
function anythingRecorded() {
  if (!call) return false;
  const calls = new Set([call.customerCallSid, ...call.workerLegs.map((l) => l.callSid)]);
  return (simState.recordings || []).some((r) => calls.has(r.callSid))
    || (simState.conferenceRecordings || []).some((r) => r.conferenceSid === call.conferenceSid);
}

/**
 * A task the core leaves out of any new recording ("excluded") while the
 * call's recording goes on (a customer-channel transfer: the customer's leg
 * was recorded before it) is not shown as excluded: Twilio still records.
 */
function shownState(status) {
  const twilio = call && status.taskSid === call.taskSid ? twilioState() : 'none';
  if (status.state === 'excluded' && twilio !== 'none') return twilio === 'paused' ? 'paused' : 'continues';
  if (status.state === 'recording' && twilio === 'paused') return 'paused';
  return status.state;
}
function statusWords(status) {
  const shown = shownState(status);
  if (shown === 'continues') return 'no new recording; the call\u2019s recording continues';
  if (shown === 'paused' && status.state === 'excluded') return 'no new recording; the call\u2019s recording continues, paused';
  return shown;
}

/** Says where each open tab's plugin stands on the current task, with the core's reason. */
function sayStatuses() {
  if (!call) return;
  for (const t of openTabs()) {
    const st = t.api.status(call.taskSid);
    if (st && st.state !== 'unknown') {
      const s = { ...st, taskSid: call.taskSid };
      say(`Tab ${t.name} · task ${short(call.taskSid)}: ${statusWords(s)}${st.reason ? ` · ${st.reason}` : ''}`, `decision state-${shownState(s)}`);
    }
  }
}

/** Which buttons apply now: a button that would do nothing or the wrong thing is disabled. */
function applicable() {
  const live = call && !call.done;
  return {
    ring: !live,
    accept: !!live && !call.accepted,
    connect: !!live && call.accepted && !call.connected && !call.ended,
    join: !!live && call.connected && !call.ended,
    transfer: !!live && call.connected && !call.ended,
    hangup: !!live && call.accepted && !call.ended,
    complete: !!live && call.accepted,
    // The plugin's own answer (its recordingState, which the backend reads
    // from Twilio, as the plugin's Pause/Resume button shows it): Pause while
    // recording, Resume while paused; neither while pausing is off, as the
    // plugin then shows no button.
    pause: !!live && call.connected && !call.ended && pausingOn() && call.pauseState === 'recording',
    resume: !!live && call.connected && !call.ended && pausingOn() && call.pauseState === 'paused',
  };
}

let busy = false;
const PAUSE_TITLE = $('pause').title;
function updateButtons() {
  const ok = applicable();
  for (const [id, enabled] of Object.entries(ok)) $(id).disabled = busy || !enabled;
  // Why the plugin offers no pause, in its own words.
  const why = !pausingOn() ? 'pausing is off (features.pause_recording.enabled)' : (call && call.pauseWhyNot) || '';
  $('pause').title = why ? `Pause recording: ${why}` : PAUSE_TITLE;
  $('toggle-b').disabled = busy;
  $('reset').disabled = busy;
}

function openTabs() { return Object.entries(tabs).filter(([, t]) => t.open).map(([name, t]) => ({ name, api: t.frame.contentWindow.__tab })); }
async function inTabs(method, ...args) { for (const t of openTabs()) await t.api.call(method, ...args); }
function tab(name) { return tabs[name].frame.contentWindow.__tab; }

const pausingOn = () => $('pausing').value === 'on';

/**
 * Asks the plugin in the tab with the call what a pause would reach and its
 * state at Twilio (`DualChannelRecording.recordingState`): `recording`,
 * `paused`, `none`; or why there is nothing to pause (an excluded call).
 */
async function refreshPauseState() {
  if (!call || call.done || !call.connected || call.ended) return;
  const where = call.activeTab || openTabs()[0].name;
  const taskSid = call.taskSid;
  const r = await tab(where).recordingState(taskSid);
  if (call && call.taskSid === taskSid) {
    call.pauseState = r.ok ? r.value.state : 'none';
    call.pauseWhyNot = r.ok ? '' : r.error;
  }
  updateButtons();
}

function config() {
  return {
    enabled: true,
    method: $('method').value,
    channel: $('channel').value,
    exclude_attributes: [{ key: 'customer.preferences.privacy', value: 'no-recording' }],
    exclude_queues: ['Billing'],
  };
}

function conferenceMethod() {
  return $('method').value === 'conference';
}

async function loadTab(name) {
  const t = tabs[name];
  const token = `demo-token-${name}-${hex32().slice(0, 8)}`;
  await sim.registerToken({ token, workerSid: cfg.workerSid, identity: identity() });
  await new Promise((resolve) => {
    t.frame.onload = resolve;
    t.frame.src = `/demo/tab.html?tab=${name}`;
  });
  for (let i = 0; i < 50 && !t.frame.contentWindow.__tab; i += 1) await new Promise((r) => setTimeout(r, 20));
  await t.frame.contentWindow.__tab.setup({
    name,
    bundleUrl: '/bundle.js',
    onReport,
    flexOptions: {
      workerSid: cfg.workerSid,
      accountSid: cfg.accountSid,
      token,
      identity: identity(),
      // Flex's own Call Recording: on with the conference method, as Twilio
      // says it must be for Flex Insights to reach the recordings; off with
      // the call-leg method, or every call is recorded twice.
      callRecordingEnabled: conferenceMethod(),
      customData: {
        features: {
          dual_channel_recording: config(),
          pause_recording: { enabled: pausingOn(), indicator_banner: true },
        },
        serverless_functions_domain: cfg.backendHost,
        serverless_functions_protocol: 'http',
      },
    },
  });
  // A tab opened in the middle of a call sees the same Flex state (Flex keeps a worker's tabs in sync).
  if (call && call.accepted) {
    await t.frame.contentWindow.__tab.call('acceptTask', call.taskSpec);
    if (call.participants) await t.frame.contentWindow.__tab.call('setConference', call.taskSid, call.conferenceSid, call.participants);
  }
}

async function reset() {
  call = null;
  await sim.reset();
  // The Flex configuration as the backend reads it (its recording policy).
  await sim.putFlexConfiguration({ uiAttributes: { custom_data: { features: { dual_channel_recording: config() } } }, callRecordingEnabled: conferenceMethod() });
  $('log').replaceChildren();
  for (const [name, t] of Object.entries(tabs)) if (t.open) await loadTab(name);
  say(`Reset: method ${$('method').value}, ${$('channel').value} channel, pausing ${$('pausing').value}. Ring an inbound call to start.`);
  updateButtons();
}

/**
 * The agent clicks Accept in the first open tab: the AcceptTask action runs
 * there (the plugin's beforeAcceptTask decides conferenceRecord), then every
 * tab sees the accepted task. Returns that tab's decision and its reason.
 */
async function acceptInTabs(taskSpec) {
  const [first] = openTabs();
  const { conferenceRecord } = await first.api.invokeAcceptTask(taskSpec);
  // Flex records the conference when the accept asked for it (as the replays play it).
  await sim.putAcceptOptions(taskSpec.taskSid, conferenceRecord);
  await sim.upsertReservation({ taskSid: taskSpec.taskSid, reservationSid: taskSpec.sid, workerSid: cfg.workerSid, status: 'accepted' });
  await inTabs('acceptTask', taskSpec);
  const status = first.api.status(taskSpec.taskSid) || {};
  const decision = conferenceRecord === null
    ? `conferenceRecord left unset${$('method').value === 'call-leg' ? ' (method call-leg)' : ''}`
    : `conferenceRecord ${conferenceRecord}`;
  return `${decision}; plugin: ${status.state || 'unknown'}${status.reason ? ` (${status.reason})` : ''}`;
}

function requireCall(phase) {
  if (!call) throw new Error('ring a call first');
  if (phase && !call[phase]) throw new Error(`the call is not ${phase} yet`);
}

const actions = {
  async ring() {
    const queueName = $('queue').value;
    const from = `+1555010${String(Math.floor(Math.random() * 10000)).padStart(4, '0')}`;
    call = {
      taskSid: sid('WT'), reservationSid: sid('WR'), customerCallSid: sid('CA'), conferenceSid: sid('CF'),
      workerLegs: [], activeTab: null, accepted: false, connected: false, ended: false,
    };
    const attributes = { call_sid: call.customerCallSid, direction: 'inbound', from, to: FLEX_NUMBER, name: from };
    call.taskSpec = { taskSid: call.taskSid, sid: call.reservationSid, queueName, queueSid: QUEUES[queueName], channel: 'voice', attributes };
    await sim.upsertCall({ callSid: call.customerCallSid, status: 'in-progress', from, to: FLEX_NUMBER });
    await sim.putTask(call.taskSid, attributes, { queueName, queueSid: QUEUES[queueName], channel: 'voice' });
    await sim.upsertReservation({ taskSid: call.taskSid, reservationSid: call.reservationSid, workerSid: cfg.workerSid, status: 'pending' });
    say(`Ringing: ${from} calls ${FLEX_NUMBER}; task ${short(call.taskSid)} waits in ${queueName}.`);
  },
  async accept() {
    requireCall();
    if (call.accepted) throw new Error('already accepted');
    call.taskSpec.dateUpdated = new Date().toISOString();
    const decision = await acceptInTabs(call.taskSpec);
    call.accepted = true;
    say(`Accepted task ${short(call.taskSid)} in ${openTabs().map((t) => t.name).join(' and ')}: ${decision}.`);
  },
  async connect() {
    requireCall('accepted');
    if (call.connected) throw new Error('already connected');
    const leg = sid('CA');
    await sim.upsertCall({ callSid: leg, status: 'in-progress', from: FLEX_NUMBER, to: `client:${identity()}` });
    call.workerLegs = [{ callSid: leg, status: 'joined' }];
    await publishConference();
    await tab('A').call('setActiveCall', leg);
    call.activeTab = 'A';
    call.connected = true;
    say(`Conference ${short(call.conferenceSid)}: customer ${short(call.customerCallSid)} and worker leg ${short(leg)} (tab A).`);
  },
  async join() {
    requireCall('connected');
    if (!tabs.B.open) await toggleB();
    const from = call.activeTab || 'A';
    const to = from === 'A' ? 'B' : 'A';
    const old = call.workerLegs.find((l) => l.status === 'joined');
    const leg = sid('CA');
    await sim.upsertCall({ callSid: leg, status: 'in-progress', from: FLEX_NUMBER, to: `client:${identity()}` });
    if (old) { old.status = 'left'; await sim.endCall(old.callSid); }
    call.workerLegs.push({ callSid: leg, status: 'joined' });
    await publishConference();
    await tab(from).call('setActiveCall', null);
    await tab(to).call('setActiveCall', leg);
    call.activeTab = to;
    say(`Join Call in tab ${to}: new worker leg ${short(leg)}${old ? `, ${short(old.callSid)} left` : ''}.`);
    // On the customer channel nothing changes, so no status change reports it: say what each plugin decided.
    await new Promise((r) => setTimeout(r, 300));
    sayStatuses();
  },
  async transfer() {
    requireCall('connected');
    const prev = call;
    const state = await sim.state();
    const prevAttrs = (state.tasks[prev.taskSid] || {}).attributes || prev.taskSpec.attributes;
    const old = prev.workerLegs.find((l) => l.status === 'joined');
    if (old) { old.status = 'left'; await sim.endCall(old.callSid); }
    await publishConference();
    if (prev.activeTab) await tab(prev.activeTab).call('setActiveCall', null);
    await inTabs('hangup', prev.taskSid);
    await inTabs('complete', prev.taskSid);
    await sim.upsertReservation({ taskSid: prev.taskSid, reservationSid: prev.reservationSid, workerSid: cfg.workerSid, status: 'completed' }).catch(() => {});
    // The transferred task carries the first task's attributes (its Insights media included).
    const queueName = prev.taskSpec.queueName;
    call = {
      ...prev, taskSid: sid('WT'), reservationSid: sid('WR'), workerLegs: [...prev.workerLegs], accepted: false, pauseState: null,
    };
    const attributes = { ...JSON.parse(JSON.stringify(prevAttrs)), transferred_from: prev.taskSid };
    call.taskSpec = { ...prev.taskSpec, taskSid: call.taskSid, sid: call.reservationSid, attributes, dateUpdated: new Date().toISOString() };
    await sim.putTask(call.taskSid, attributes, { queueName, queueSid: QUEUES[queueName], channel: 'voice' });
    // What the tabs report on the new task is told against Twilio's state now.
    simState = await sim.state();
    const decision = await acceptInTabs(call.taskSpec);
    call.accepted = true;
    const leg = sid('CA');
    await sim.upsertCall({ callSid: leg, status: 'in-progress', from: FLEX_NUMBER, to: `client:${identity()}` });
    call.workerLegs.push({ callSid: leg, status: 'joined', reservationSid: call.reservationSid });
    await publishConference();
    const target = prev.activeTab || 'A';
    await tab(target).call('setActiveCall', leg);
    call.activeTab = target;
    say(`Transfer: task ${short(prev.taskSid)} completed; new task ${short(call.taskSid)} with worker leg ${short(leg)}: ${decision}.`);
  },
  async pause() {
    requireCall('connected');
    const where = call.activeTab || 'A';
    const r = await tab(where).invokeAction('PauseDualChannelRecording', { taskSid: call.taskSid });
    if (!r.ok) throw new Error(r.error);
    call.pauseState = r.value.state;
    simState = await sim.state();
    say(`Paused in tab ${where}: ${r.value.recordings.map((x) => `${short(x.recordingSid)} ${x.status}`).join(', ')}.`);
  },
  async resume() {
    requireCall('connected');
    const where = tabs.B.open && call.activeTab !== 'B' ? 'B' : 'A';
    const r = await tab(where).invokeAction('ResumeDualChannelRecording', { taskSid: call.taskSid });
    if (!r.ok) throw new Error(r.error);
    call.pauseState = r.value.state;
    simState = await sim.state();
    say(`Resumed in tab ${where}: ${r.value.recordings.map((x) => `${short(x.recordingSid)} ${x.status}`).join(', ')}.`);
  },
  async hangup() {
    requireCall('accepted');
    // The customer hangs up: the calls end (and their recordings with them),
    // Flex sees everybody leave the conference, then the task ends its call.
    for (const l of call.workerLegs) if (l.status === 'joined') { l.status = 'left'; await sim.endCall(l.callSid); }
    call.customerLeft = true;
    await sim.endCall(call.customerCallSid);
    if (call.connected) await publishConference();
    for (const t of openTabs()) await t.api.call('setActiveCall', null);
    await inTabs('hangup', call.taskSid);
    await inTabs('wrapup', call.taskSid);
    call.ended = true;
    call.activeTab = null;
    simState = await sim.state();
    say(anythingRecorded()
      ? 'Hung up: the calls ended and their recordings completed; the task is in wrap-up.'
      : 'Hung up: the calls ended; nothing was recorded; the task is in wrap-up.');
  },
  async complete() {
    requireCall('accepted');
    if (!call.ended) await actions.hangup();
    await inTabs('complete', call.taskSid);
    await sim.upsertReservation({ taskSid: call.taskSid, reservationSid: call.reservationSid, workerSid: cfg.workerSid, status: 'completed' }).catch(() => {});
    say(`Completed task ${short(call.taskSid)}.`);
    call = { ...call, accepted: false, connected: false, done: true };
  },
};

async function publishConference() {
  const participants = [
    { participantType: 'customer', status: call.customerLeft ? 'left' : 'joined', callSid: call.customerCallSid },
    ...call.workerLegs.map((l) => ({
      participantType: 'worker', status: l.status, callSid: l.callSid, workerSid: cfg.workerSid, reservationSid: l.reservationSid || call.reservationSid,
    })),
  ];
  call.participants = participants;
  await sim.putConference(call.conferenceSid, { taskSid: call.taskSid, participants });
  await inTabs('setConference', call.taskSid, call.conferenceSid, participants);
}

async function toggleB() {
  const b = tabs.B;
  b.open = !b.open;
  b.frame.hidden = !b.open;
  $('toggle-b').textContent = b.open ? 'Close second tab' : 'Open second tab';
  if (b.open) { await loadTab('B'); say('Opened Flex tab B for the same worker.'); } else { b.frame.src = 'about:blank'; say('Closed Flex tab B.'); }
}

// ---- live view -------------------------------------------------------------

function cell(tr, value, cls) {
  const td = document.createElement('td');
  if (value instanceof Node) td.append(value); else td.textContent = value;
  if (cls) td.className = cls;
  tr.append(td);
}
function code(s) { const c = document.createElement('code'); c.textContent = mid(s); c.title = s; return c; }
function pill(s) { const p = document.createElement('span'); p.className = `pill st-${s}`; p.textContent = s; return p; }

function legOf(state, callSid) {
  for (const conf of Object.values(state.conferences || {})) {
    const p = (conf.participants || []).find((x) => x.callSid === callSid);
    if (p) return p.participantType === 'worker' ? 'worker' : p.participantType;
  }
  return '–';
}

function renderState(state) {
  simState = state;
  // Each tab's card shows Twilio's state of the live call beside the core's.
  for (const t of openTabs()) if (t.api && call) t.api.setTwilio(call.taskSid, twilioState());
  const rec = $('recordings').tBodies[0];
  rec.replaceChildren();
  for (const r of state.recordings || []) {
    const tr = document.createElement('tr');
    cell(tr, code(r.sid));
    cell(tr, code(r.callSid));
    cell(tr, legOf(state, r.callSid));
    cell(tr, r.channels);
    cell(tr, pill(r.status));
    cell(tr, clock(r.startTime));
    rec.append(tr);
  }
  for (const r of state.conferenceRecordings || []) {
    const tr = document.createElement('tr');
    cell(tr, code(r.sid));
    cell(tr, code(r.conferenceSid));
    cell(tr, 'conference (Flex)');
    cell(tr, r.channels);
    cell(tr, pill(r.status));
    cell(tr, '');
    rec.append(tr);
  }
  if (!rec.rows.length) rec.innerHTML = '<tr><td colspan="6" class="muted">no recording yet</td></tr>';

  const calls = $('calls').tBodies[0];
  calls.replaceChildren();
  for (const c of Object.values(state.calls || {})) {
    const tr = document.createElement('tr');
    cell(tr, code(c.sid));
    cell(tr, legOf(state, c.sid));
    cell(tr, `${c.from || '?'} → ${(c.to || '?').replace(/^client:worker_WK0*/, 'client:worker_…')}`);
    cell(tr, pill(c.status));
    let inConf = '–';
    for (const conf of Object.values(state.conferences || {})) {
      const p = (conf.participants || []).find((x) => x.callSid === c.sid);
      if (p) inConf = p.status;
    }
    cell(tr, inConf);
    calls.append(tr);
  }
  if (!calls.rows.length) calls.innerHTML = '<tr><td colspan="5" class="muted">no call yet</td></tr>';

  const taskSid = call && call.taskSid;
  const task = taskSid && state.tasks && state.tasks[taskSid];
  $('task-label').textContent = task ? `${taskSid} · revision ${task.revision}` : '';
  $('attributes').textContent = task ? readableTimes(JSON.stringify(task.attributes, null, 2)) : 'no task yet';
}

/** Insights' start_time is epoch milliseconds, as Flex Insights wants it; the view adds the clock time beside it. */
function readableTimes(json) {
  return json.replace(/("start_time": )(\d{12,})(,?)$/gm, (_, key, ms, comma) => `${key}${ms}${comma}  // ${new Date(Number(ms)).toLocaleTimeString()}`);
}

/** Each Flex tab as tall as what it shows: nothing cut off. */
function fitFrames() {
  for (const t of Object.values(tabs)) {
    const doc = t.open && t.frame.contentDocument;
    if (!doc || !doc.body) continue;
    const h = Math.max(200, doc.documentElement.scrollHeight);
    if (t.frame.offsetHeight !== h + 2) t.frame.style.height = `${h + 2}px`;
  }
}

async function poll() {
  try {
    const state = await sim.state();
    const text = JSON.stringify(state);
    if (text !== lastState) {
      lastState = text;
      renderState(state);
      if (!busy) await refreshPauseState();
    }
    fitFrames();
  } catch (err) {
    $('status').textContent = `cannot reach the simulator: ${err.message}`;
  }
  setTimeout(poll, 500);
}

async function main() {
  cfg = await (await fetch('/demo-config.json')).json();
  sim = createSimClient(cfg.simUrl);
  for (const [name, fn] of Object.entries(actions)) {
    $(name).addEventListener('click', async (ev) => {
      const button = ev.currentTarget;
      busy = true;
      updateButtons();
      try {
        await fn();
        await refreshPauseState();
      } catch (err) { say(`${button.textContent.replace(/^\d · /, '')}: ${err.message}`, 'error'); } finally { busy = false; updateButtons(); }
    });
  }
  $('toggle-b').addEventListener('click', () => toggleB().catch((err) => say(err.message, 'error')));
  $('reset').addEventListener('click', () => reset().catch((err) => say(err.message, 'error')));
  $('channel').addEventListener('change', () => reset().catch((err) => say(err.message, 'error')));
  $('method').addEventListener('change', () => reset().catch((err) => say(err.message, 'error')));
  $('pausing').addEventListener('change', () => reset().catch((err) => say(err.message, 'error')));
  await reset();
  poll();
}

main().catch((err) => say(`demo failed to start: ${err.message}`, 'error'));

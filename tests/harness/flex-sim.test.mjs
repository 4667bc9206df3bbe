// node --test tests/harness/flex-sim.test.mjs
// Unit tests of the simulated Flex runtime and of the Node vm instance that
// hosts a bundle (with a small test plugin written here: the replay runner
// itself only ever loads the real bundle).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createFlex } from './flex-sim.js';
import { NodeInstance } from '../replay/node-instance.mjs';

const WK = 'WK00000000000000000000000000000001';
const WK2 = 'WK00000000000000000000000000000002';
const WT = 'WT00000000000000000000000000000001';
const WR = 'WR00000000000000000000000000000001';
const CF = 'CF00000000000000000000000000000001';
const CA = 'CA000000000000000000000000000000c1';
const CW = 'CA000000000000000000000000000000a1';

const taskSpec = {
  taskSid: WT, sid: WR, queueName: 'Sales', queueSid: 'WQ00000000000000000000000000000001',
  attributes: { call_sid: CA, direction: 'inbound' }, dateUpdated: '2026-01-02T03:04:05Z',
};

test('the worker\'s attributes show in workerClient and in the store (default: none)', () => {
  const cases = [
    // [workerAttributes option, attributes shown]
    [undefined, {}],
    [{ config_overrides: { dual_channel_recording: { enabled: false } } }, { config_overrides: { dual_channel_recording: { enabled: false } } }],
  ];
  for (const [workerAttributes, want] of cases) {
    const sim = createFlex({ workerSid: WK, workerAttributes });
    assert.deepEqual(sim.manager.workerClient.attributes, want);
    assert.deepEqual(sim.manager.store.getState().flex.worker.source.attributes, want);
  }
});

test('an instance without the plugin runs Flex, loads no bundle, is idle and has no status', async () => {
  const inst = new NodeInstance('A', {
    bundleFile: '/nonexistent/bundle.js', flexOptions: { workerSid: WK }, log: () => {}, plugin: false,
  });
  await inst.start();
  assert.equal(inst.context.DualChannelRecording, undefined);
  assert.deepEqual(await inst.idle(), { idle: true, pluginIdle: true, inflight: 0 });
  assert.equal(await inst.status(WT), null);
  await inst.call('acceptTask', taskSpec);
  assert.equal(await inst.hasTask(WT), true);
  await inst.dispose();
});

test('Plugins.init constructs the class and calls init(flex, manager); pluginsInitialized follows', async () => {
  const sim = createFlex({ customData: { a: 1 }, token: 'T', workerSid: WK });
  const g = sim.install({});
  const seen = [];
  class Plugin { init(flex, manager) { seen.push([flex, manager]); } }
  const initialized = new Promise((resolve) => sim.manager.events.addListener('pluginsInitialized', resolve));
  g.Twilio.Flex.Plugins.init(Plugin);
  assert.equal(seen.length, 1);
  assert.equal(seen[0][0], sim.flex);
  assert.equal(seen[0][1], sim.manager);
  assert.equal(sim.flex.Manager.getInstance(), sim.manager);
  assert.deepEqual(sim.manager.configuration.custom_data, { a: 1 });
  assert.equal(sim.manager.user.token, 'T');
  await initialized;
});

test('acceptTask: ITask shape, store, reservations, taskAccepted', () => {
  const sim = createFlex({ workerSid: WK });
  const accepted = [];
  sim.manager.events.addListener('taskAccepted', (t) => accepted.push(t));
  const before = sim.manager.store.getState();
  const task = sim.acceptTask(taskSpec);
  assert.equal(accepted[0], task);
  assert.equal(task.sid, WR);
  assert.equal(task.taskSid, WT);
  assert.equal(task.status, 'accepted');
  assert.equal(task.taskStatus, 'assigned');
  assert.equal(task.taskChannelUniqueName, 'voice');
  assert.equal(task.queueName, 'Sales');
  assert.equal(task.workerSid, WK);
  assert.ok(task.dateUpdated instanceof Date);
  assert.equal(task.dateUpdated.toISOString(), '2026-01-02T03:04:05.000Z');
  assert.equal(task.conference, undefined);
  assert.equal(typeof task.joinCall, 'function');
  assert.notEqual(task.attributes, taskSpec.attributes, 'attributes are a copy');
  const after = sim.manager.store.getState();
  assert.notEqual(after.flex.worker, before.flex.worker);
  assert.equal(after.flex.worker.tasks.get(WR), task);
  assert.equal(after.flex.conferences, before.flex.conferences, 'unchanged branch keeps its reference');
  assert.equal(after.flex.phone, before.flex.phone);
  assert.equal(sim.manager.workerClient.reservations.get(WR).status, 'accepted');
  assert.equal(after.flex.worker.source.accountSid, 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
});

test('setConference: new Map in the store, task.conference, isCurrentWorker, liveWorkers', () => {
  const sim = createFlex({ workerSid: WK });
  const task = sim.acceptTask(taskSpec);
  let notified = 0;
  sim.manager.store.subscribe(() => { notified += 1; });
  const s0 = sim.manager.store.getState();
  sim.setConference(WT, CF, [
    { participantType: 'customer', status: 'joined', callSid: CA },
    { participantType: 'worker', status: 'left', callSid: 'CA000000000000000000000000000000a0', workerSid: WK, reservationSid: WR },
    { participantType: 'worker', status: 'joined', callSid: CW, workerSid: WK, reservationSid: WR },
    { participantType: 'worker', status: 'joined', workerSid: WK2 },
  ]);
  const s1 = sim.manager.store.getState();
  assert.equal(notified, 1);
  assert.notEqual(s1.flex.conferences.states, s0.flex.conferences.states);
  assert.ok(s1.flex.conferences.states instanceof Map);
  const conf = s1.flex.conferences.states.get(WT).source;
  assert.equal(task.conference, conf);
  assert.equal(conf.conferenceSid, CF);
  assert.equal(conf.participants.length, 4);
  assert.deepEqual(conf.participants.map((p) => p.isCurrentWorker), [false, true, true, false]);
  assert.equal(conf.participants[3].callSid, undefined);
  assert.equal('callSid' in conf.participants[3], false);
  assert.deepEqual(conf.liveWorkers.map((p) => p.callSid), [CW, undefined]);
  assert.equal(s1.flex.phone, s0.flex.phone);
});

test('setActiveCall: phone.activeCall.parameters.CallSid, other branches untouched', () => {
  const sim = createFlex();
  const s0 = sim.manager.store.getState();
  sim.setActiveCall(CW);
  const s1 = sim.manager.store.getState();
  assert.deepEqual(s1.flex.phone.activeCall, { parameters: { CallSid: CW } });
  assert.equal(s1.flex.conferences, s0.flex.conferences);
  assert.equal(s1.flex.worker, s0.flex.worker);
  sim.setActiveCall(null);
  assert.equal(sim.manager.store.getState().flex.phone.activeCall, null);
});

test('hangup and complete fire before-listeners with {task}; the action waits for a listener\'s promise, as Flex does', async () => {
  const sim = createFlex();
  const task = sim.acceptTask(taskSpec);
  const calls = [];
  sim.flex.Actions.addListener('beforeHangupCall', (payload) => { calls.push(['hangup', payload.task]); });
  const completed = [];
  sim.flex.Actions.addListener('beforeCompleteTask', (payload) => {
    calls.push(['complete', payload.task]);
    return new Promise((resolve) => {
      setTimeout(() => { calls.push(['listener done', completed.length]); resolve(); }, 30);
    });
  });
  sim.manager.events.addListener('taskCompleted', (t) => completed.push(t));
  await sim.hangup(WT);
  await sim.complete(WT);
  assert.deepEqual(calls, [['hangup', task], ['complete', task], ['listener done', 0]]);
  assert.deepEqual(completed, [task]);
  assert.equal(sim.manager.store.getState().flex.worker.tasks.size, 0);
  assert.equal(sim.manager.workerClient.reservations.size, 0);
  assert.throws(() => sim.complete(WT), /no task/);
});

test('invokeAcceptTask: beforeAcceptTask gets {task, sid, conferenceOptions: {}}, is awaited, and its conferenceRecord is read back', async () => {
  const sim = createFlex({ workerSid: WK });
  const payloads = [];
  const order = [];
  sim.flex.Actions.addListener('beforeAcceptTask', (payload, abort) => {
    payloads.push(payload);
    assert.equal(typeof abort, 'function');
    order.push('slow listener starts');
    return new Promise((resolve) => setTimeout(() => {
      payload.conferenceOptions.conferenceRecord = false;
      order.push('slow listener sets false');
      resolve();
    }, 30));
  });
  sim.flex.Actions.addListener('afterAcceptTask', () => order.push('after'));
  assert.deepEqual(await sim.invokeAcceptTask({ ...taskSpec, channel: 'voice' }), { conferenceRecord: false });
  assert.deepEqual(order, ['slow listener starts', 'slow listener sets false', 'after']);
  const [p] = payloads;
  assert.equal(p.sid, WR);
  assert.equal(p.task.taskSid, WT);
  assert.equal(p.task.sid, WR);
  assert.equal(p.task.status, 'pending');
  assert.equal(p.task.taskChannelUniqueName, 'voice');
  assert.deepEqual(p.task.attributes, taskSpec.attributes);
  assert.equal(sim.getTask(WT), undefined, 'the action alone does not put the task in Flex state: acceptTask does');

  const quiet = createFlex({ workerSid: WK });
  assert.deepEqual(await quiet.invokeAcceptTask(taskSpec), { conferenceRecord: null }, 'no listener: unset');
  quiet.flex.Actions.addListener('beforeAcceptTask', (payload) => { payload.conferenceOptions.conferenceRecord = true; });
  assert.deepEqual(await quiet.invokeAcceptTask(taskSpec), { conferenceRecord: true });
});

test('a before-listener that rejects or throws is reported; the action goes on', async () => {
  const sim = createFlex();
  const orig = console.error;
  console.error = () => {};
  try {
    sim.flex.Actions.addListener('beforeAcceptTask', () => Promise.reject(new Error('late boom')));
    sim.flex.Actions.addListener('beforeAcceptTask', () => { throw new Error('boom'); });
    sim.flex.Actions.addListener('beforeAcceptTask', (payload) => { payload.conferenceOptions.conferenceRecord = true; });
    assert.deepEqual(await sim.invokeAcceptTask(taskSpec), { conferenceRecord: true });
  } finally { console.error = orig; }
  assert.deepEqual(sim.errors().map((e) => e.message).sort(), ['boom', 'late boom']);
});

test('cancel: reservation removed, task leaves, taskCanceled', () => {
  const sim = createFlex();
  const task = sim.acceptTask(taskSpec);
  sim.setConference(WT, CF, [{ participantType: 'customer', status: 'joined', callSid: CA }]);
  const canceled = [];
  sim.manager.events.addListener('taskCanceled', (t) => canceled.push(t));
  sim.cancel(WT);
  assert.deepEqual(canceled, [task]);
  assert.equal(sim.manager.workerClient.reservations.has(WR), false);
  assert.equal(sim.manager.store.getState().flex.conferences.states.has(WT), false);
});

test('TaskHelper and Notifications', () => {
  const sim = createFlex();
  const { TaskHelper, Notifications } = sim.flex;
  assert.equal(TaskHelper.isCallTask({ taskChannelUniqueName: 'voice', attributes: {} }), true);
  assert.equal(TaskHelper.isCallTask({ taskChannelUniqueName: 'chat', attributes: {} }), false);
  assert.equal(TaskHelper.isOutboundCallTask({ taskChannelUniqueName: 'voice', attributes: { direction: 'outbound' } }), true);
  assert.equal(TaskHelper.isOutboundCallTask({ taskChannelUniqueName: 'voice', attributes: { direction: 'inbound' } }), false);
  Notifications.registerNotification({ id: 'X', content: 'x', type: 'error', timeout: 0, closeButton: true });
  Notifications.showNotification('X');
  Notifications.showNotification('X');
  assert.deepEqual(sim.notificationsShown(), ['X', 'X']);
});

test('store: subscribe/unsubscribe, dispatch of an unrelated action keeps followed branches', () => {
  const sim = createFlex();
  const { store } = sim.manager;
  let n = 0;
  const unsubscribe = store.subscribe(() => { n += 1; });
  const s0 = store.getState();
  sim.unrelatedChange();
  const s1 = store.getState();
  assert.equal(n, 1);
  assert.notEqual(s1, s0);
  assert.equal(s1.flex.conferences, s0.flex.conferences);
  assert.equal(s1.flex.phone, s0.flex.phone);
  assert.equal(s1.flex.worker, s0.flex.worker);
  unsubscribe();
  sim.unrelatedChange();
  assert.equal(n, 1);
});

test('a throwing listener is reported, not propagated', () => {
  const sim = createFlex();
  const orig = console.error;
  console.error = () => {};
  try {
    sim.manager.events.addListener('taskAccepted', () => { throw new Error('boom'); });
    sim.acceptTask(taskSpec);
  } finally { console.error = orig; }
  assert.match(sim.errors()[0].message, /boom/);
});

test('NodeInstance: own realm, browser-like globals, timers cleared on dispose', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flex-sim-test-'));
  const bundle = path.join(dir, 'bundle.js');
  writeFileSync(bundle, `
    (function () {
      class TestPlugin {
        init(flex, manager) {
          const seen = { accepted: [], ticks: 0 };
          globalThis.__seen = seen;
          manager.events.addListener('taskAccepted', (t) => seen.accepted.push(t.taskSid));
          manager.store.subscribe(() => {
            const states = manager.store.getState().flex.conferences.states;
            seen.mapInRealm = states instanceof Map;
          });
          setInterval(() => { seen.ticks += 1; }, 5);
          let busy = 0;
          globalThis.DualChannelRecording = {
            ready: new Promise((r) => setTimeout(r, 10)),
            idle: () => busy === 0,
            status: () => ({ state: 'unknown', recordings: [] }),
            onRecordingStarted: () => () => {},
          };
          flex.Notifications.registerNotification({ id: 'N', content: 'n' });
          flex.Notifications.showNotification('N');
          seen.globals = ['fetch', 'Headers', 'Request', 'Response', 'AbortController', 'WebAssembly', 'TextEncoder',
            'TextDecoder', 'URL', 'queueMicrotask', 'atob', 'btoa', 'performance', 'window', 'self']
            .filter((k) => typeof globalThis[k] === 'undefined');
        }
      }
      Twilio.Flex.Plugins.init(TestPlugin);
    })();
  `);
  const lines = [];
  const inst = new NodeInstance('A', { bundleFile: bundle, flexOptions: { workerSid: WK, customData: {} }, log: (l) => lines.push(l) });
  await inst.start();
  await inst.call('acceptTask', taskSpec);
  await inst.call('setConference', WT, CF, [{ participantType: 'customer', status: 'joined', callSid: CA }]);
  const seen = inst.context.__seen;
  assert.deepEqual([...seen.accepted], [WT]);
  assert.equal(seen.mapInRealm, true, 'the store Map is of the plugin realm');
  assert.deepEqual([...seen.globals], []);
  assert.deepEqual(await inst.notificationsShown(), ['N']);
  assert.equal((await inst.idle()).idle, true);
  await new Promise((r) => setTimeout(r, 30));
  assert.ok(seen.ticks > 0);
  await inst.dispose();
  const ticks = seen.ticks;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(seen.ticks, ticks, 'no timer runs after dispose');
  assert.equal(inst.timers.size, 0);
});

test('wrap-up: the task and its reservation show wrapping and taskWrapup fires once', () => {
  const sim = createFlex({ callRecordingEnabled: true });
  const task = sim.acceptTask(taskSpec);
  const wrapped = [];
  sim.manager.events.addListener('taskWrapup', (t) => wrapped.push(t));
  sim.wrapup(WT);
  sim.wrapup(WT);
  assert.deepEqual(wrapped, [task]);
  assert.equal(task.status, 'wrapping');
  assert.equal(task.taskStatus, 'wrapping');
  assert.equal(sim.manager.workerClient.reservations.get(WR).status, 'wrapping');
  assert.equal(sim.manager.serviceConfiguration.call_recording_enabled, true);
  assert.equal(createFlex().manager.serviceConfiguration.call_recording_enabled, false);
});

test('Actions.registerAction / invokeAction: the action runs between before and after listeners, its promise is the action\'s', async () => {
  const sim = createFlex({ workerSid: WK });
  const order = [];
  sim.flex.Actions.addListener('beforeMyAction', (p) => order.push(`before ${p.n}`));
  sim.flex.Actions.addListener('afterMyAction', (p) => order.push(`after ${p.n}`));
  sim.flex.Actions.registerAction('MyAction', async (p) => { order.push(`run ${p.n}`); return p.n * 2; });
  assert.equal(await sim.flex.Actions.invokeAction('MyAction', { n: 21 }), 42);
  assert.deepEqual(order, ['before 21', 'run 21', 'after 21']);
  assert.throws(() => sim.flex.Actions.registerAction('MyAction', () => 1), /already registered/);
  sim.flex.Actions.registerAction('Failing', async () => { throw new Error('nothing recording'); });
  await assert.rejects(sim.flex.Actions.invokeAction('Failing', {}), /nothing recording/);
});

test('invokeAction driver: the task of a taskSid comes along; a rejection is an outcome', async () => {
  const sim = createFlex({ workerSid: WK });
  sim.acceptTask(taskSpec);
  let seen;
  sim.flex.Actions.registerAction('Look', (p) => { seen = p; return 'ok'; });
  assert.deepEqual(await sim.invokeAction('Look', { taskSid: WT }), { ok: true, value: 'ok' });
  assert.equal(seen.task, sim.getTask(WT));
  await sim.invokeAction('Look', { taskSid: 'WT0000000000000000000000000000ffff' });
  assert.equal(seen.task, undefined, 'no task for a SID this instance does not hold');
  sim.flex.Actions.registerAction('No', () => Promise.reject(new Error('not this worker\'s task')));
  assert.deepEqual(await sim.invokeAction('No', { taskSid: WT }), { ok: false, error: 'not this worker\'s task', errorName: 'Error' });
  // The error's name comes along (the plugin names an expected refusal).
  const named = new Error('nothing is being recorded on WT1');
  named.name = 'NothingRecordedError';
  sim.flex.Actions.registerAction('Named', () => Promise.reject(named));
  assert.deepEqual(await sim.invokeAction('Named', {}), { ok: false, error: 'nothing is being recorded on WT1', errorName: 'NothingRecordedError' });
});

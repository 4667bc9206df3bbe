// Plays scenarios (tests/scenarios/public/README.md) through the real plugin
// bundle, loaded into simulated Flex instances (Node vm contexts or Chromium
// pages), against the real backend and the Twilio simulator.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createSimClient } from '../harness/sim-client.js';
import {
  REPO_ROOT, SIM_ACCOUNT, bundlePath, launchChromium, startBackend, startSim, startStaticServer,
} from '../harness/processes.mjs';
import { checkExpect, show, stepKind } from './expect.mjs';
import { NodeInstance } from './node-instance.mjs';
import { BrowserInstance } from './browser-instance.mjs';
import { PRISM_BACKEND_ENV, createContractCheck, startBackendVia, startContractProxy } from '../contract/via-prism.mjs';
import { startRedis, startReplicaGroup } from '../harness/replicas.mjs';
import { setUpEventStreams } from './event-streams.mjs';
import { fetchAudit, safetyNetPending } from './audit.mjs';

export const DEFAULT_WORKER = 'WK00000000000000000000000000000001';
export const OUT_DIR = path.join(REPO_ROOT, 'tests/.out/replay');
const QUIET_MS = 300;
const POLL_MS = 50;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start what every scenario shares: simulator, backend, and in browser mode
 * Chromium and a file server. With `viaPrism`, the backend reaches Twilio's
 * REST API through `prism proxy --errors` (the token check goes straight to
 * the simulator, as it is not in Twilio's OpenAPI files) and every scenario
 * ends with the contract check of tests/contract/via-prism.mjs.
 * With `flexActions` (Node instances only), each instance's flex.Actions is
 * Flex's own framework from @twilio/flex-ui (tests/harness/real-flex-actions.mjs).
 */
export async function createEnvironment({ browser = false, echo = false, viaPrism = false, flexActions = false } = {}) {
  mkdirSync(OUT_DIR, { recursive: true });
  const env = { browser, viaPrism, closers: [] };
  if (flexActions) {
    if (browser) throw new Error("Flex's own Actions run in Node instances only (not with --browser)");
    env.createFlexActions = (await import('../harness/real-flex-actions.mjs')).createFlexActions;
  }
  try {
    env.simProc = await startSim({ logFile: path.join(OUT_DIR, 'twilio-sim.log'), echo });
    env.closers.push(() => env.simProc.stop());
    env.sim = createSimClient(env.simProc.url);
    const backendLog = path.join(OUT_DIR, 'recording-backend.log');
    if (viaPrism) {
      env.prism = await startContractProxy({ simUrl: env.simProc.url });
      env.closers.push(async () => {
        await env.prism.stop();
        writeFileSync(path.join(OUT_DIR, 'prism.log'), env.prism.output());
      });
      env.contract = createContractCheck(env.prism);
      env.backend = await startBackendVia({ twilioBaseUrl: env.prism.url, iamBaseUrl: env.simProc.url, logFile: backendLog, echo, lazy: true });
    } else {
      env.backend = await startBackend({ simUrl: env.simProc.url, logFile: backendLog, echo, lazy: true });
    }
    env.closers.push(() => env.backend.stop());
    // More backends configured like the first, for `backendReplicas`.
    env.launchBackend = ({ env: extra, name }) => startBackend({
      simUrl: viaPrism ? env.prism.url : env.simProc.url,
      iamBaseUrl: viaPrism ? env.simProc.url : undefined,
      logFile: path.join(OUT_DIR, `recording-backend-${name}.log`),
      echo,
      env: viaPrism ? { ...PRISM_BACKEND_ENV, ...extra } : extra,
      name,
    });
    env.scenarioClosers = [];
    env.bundleFile = bundlePath();
    if (browser) {
      env.files = await startStaticServer({
        routes: { '/bundle.js': env.bundleFile },
        dirs: { '/harness/': path.join(REPO_ROOT, 'tests/harness') },
      });
      env.closers.push(() => env.files.close());
      env.chromium = await launchChromium();
      env.closers.push(() => env.chromium.close());
    }
  } catch (err) {
    await closeEnvironment(env);
    throw err;
  }
  return env;
}

export async function closeEnvironment(env) {
  for (const close of env.closers.reverse()) {
    try { await close(); } catch { /* best effort */ }
  }
  env.closers = [];
}

function identityOf(workerSid) {
  return `worker_${workerSid}`;
}

let tokenCounter = 0;

/**
 * Play one validated scenario. Returns `{ok, why, logFile}`.
 * @param {object} scenario
 * @param {object} env from createEnvironment
 * @param {string} logName base name of this scenario's log file
 */
export async function runScenario(scenario, env, logName) {
  const logLines = [];
  const log = (line) => logLines.push(`${new Date().toISOString()} ${line}`);
  const logFile = path.join(OUT_DIR, `${logName}${env.browser ? '.browser' : ''}${env.viaPrism ? '.prism' : ''}.log`);
  runScenario.currentLog = log;
  const instances = [];
  let browserContext = null;
  try {
    let why;
    try {
      why = await play(scenario, env, log, instances, (ctx) => { browserContext = ctx; });
    } catch (err) {
      log(`error: ${err && err.stack ? err.stack : err}`);
      why = err && err.message ? err.message : String(err);
    }
    let contractLines = [];
    if (env.contract) {
      // Before the next scenario resets the simulator's log.
      let c;
      try {
        c = await env.contract.check(env.sim);
      } catch (err) {
        c = { lines: [`the contract check itself failed: ${err && err.message ? err.message : err}`], exchanges: 0, viaPrism: 0, direct: 0, byKind: new Map() };
      }
      contractLines = c.lines;
      log(`contract: ${c.exchanges} exchange(s) validated (${c.viaPrism} through prism, ${c.direct} direct: token checks, Event Streams set-up): ${[...c.byKind].map(([k, n]) => `${n}x ${k}`).join(', ') || 'none'}`);
      for (const line of contractLines) log(`contract violation: ${line}`);
      if (contractLines.length) {
        const first = `contract: ${contractLines.length} violation(s), first: ${contractLines[0]}`;
        why = why ? `${why}; ${first}` : first;
      }
    }
    return { ok: !why, why, logFile, contractLines };
  } finally {
    for (const inst of instances) await inst.dispose().catch(() => {});
    if (browserContext) await browserContext.close().catch(() => {});
    for (const close of (env.scenarioClosers || []).splice(0).reverse()) await close().catch(() => {});
    runScenario.currentLog = null;
    try {
      mkdirSync(OUT_DIR, { recursive: true });
      writeFileSync(logFile, `${logLines.join('\n')}\n`);
    } catch { /* logs are a convenience */ }
  }
}

/**
 * The backend the scenario's plugin talks to: the shared one, or for
 * `backendReplicas` > 1 that many replicas sharing a redis-server (started
 * once per run, emptied per scenario like the simulator) behind one
 * round-robin address, stopped when the scenario ends.
 */
async function backendFor(scenario, env, log) {
  const count = scenario.backendReplicas ?? 1;
  if (count === 1) return env.backend;
  if (!env.redis) {
    env.redis = await startRedis({ logFile: path.join(OUT_DIR, 'redis-server.log') });
    env.closers.push(() => env.redis.stop());
  }
  if (!env.redis.running) await env.redis.start();
  await env.redis.command('FLUSHALL');
  const group = await startReplicaGroup({ count, redis: env.redis, launch: env.launchBackend });
  env.scenarioClosers.push(() => group.stop());
  log(`backend: ${count} replicas (ports ${group.replicas.map((r) => r.port).join(', ')}) sharing ${env.redis.url} behind round robin on ${group.port}`);
  return group;
}

/** `instances` entries: a name, or `{name, plugin}`. */
export function instanceSpecs(instances) {
  return (instances || ['A']).map((i) => (typeof i === 'string' ? { name: i, plugin: true } : { name: i.name, plugin: i.plugin !== false }));
}

/**
 * The `custom_data` the browser shows (`customData`, or the one `config`
 * makes) and the one the backend's Flex configuration holds
 * (`serverCustomData`, else `serverConfig` in place of `config`, else the
 * browser's).
 */
export function customDataOf(scenario) {
  const has = (k) => Object.prototype.hasOwnProperty.call(scenario, k);
  const browser = has('customData') ? scenario.customData : { features: { dual_channel_recording: scenario.config } };
  let server = browser;
  if (has('serverCustomData')) server = scenario.serverCustomData;
  else if (has('serverConfig')) server = has('customData')
    ? { ...browser, features: { ...(browser.features || {}), dual_channel_recording: scenario.serverConfig } }
    : { features: { dual_channel_recording: scenario.serverConfig } };
  return { browser, server };
}

async function play(scenario, env, log, instances, setBrowserContext) {
  const { sim } = env;
  const startedAt = new Date();
  const workerSid = scenario.worker || DEFAULT_WORKER;
  const specs = instanceSpecs(scenario.instances);
  const names = specs.map((i) => i.name);
  const settleMs = scenario.settleMs ?? 10000;
  const identity = identityOf(workerSid);

  // Every backend of this scenario starts after the simulator is reset and
  // holds the scenario's Flex configuration: a backend reads it as it starts,
  // and a read of the last scenario's must not land in this one's log.
  if ((scenario.backendReplicas ?? 1) === 1 && env.backend.running) await env.backend.stop();
  await sim.reset();
  // What prism sees from here on is this scenario's (the backends of the
  // last one are stopped, and the first one starts below: lazily).
  if (env.contract) env.contract.begin();
  // The Flex configuration as the backend reads it from Twilio: the
  // scenario's feature, with `serverConfig` in place of `config` when the
  // scenario plays a browser whose copy differs.
  const flexCallRecording = scenario.flexCallRecording === true;
  const custom = customDataOf(scenario);
  const workerAttributes = scenario.workerAttributes || {};
  await sim.putWorker(workerSid, workerAttributes);
  await sim.putFlexConfiguration({
    uiAttributes: { custom_data: custom.server },
    callRecordingEnabled: flexCallRecording,
  });
  // A fresh backend per scenario: its caches (the policy read from the Flex
  // configuration, tokens, recordings) must not carry over from the last one.
  const backend = await backendFor(scenario, env, log);
  if (!backend.running) await backend.start();

  // Each replica on its own address: the proxy would hand every poll to one.
  const backendUrls = backend.replicas ? backend.replicas.map((r) => r.url) : [backend.url];
  if (scenario.eventStreams) {
    await setUpEventStreams({ sim, simUrl: env.simProc.url, backendUrl: backend.url, eventStreams: scenario.eventStreams, log });
  }

  const customData = {
    ...custom.browser,
    serverless_functions_domain: `127.0.0.1:${backend.port}`,
    serverless_functions_protocol: 'http',
  };

  let context = null;
  if (env.browser) {
    context = await env.chromium.browser.newContext();
    setBrowserContext(context);
  }
  tokenCounter += 1;
  for (const { name, plugin } of specs) {
    const token = `flex-token-${process.pid}-${tokenCounter}-${name}`;
    await sim.registerToken({ token, workerSid, identity, valid: true, expiresInSec: 3600, roles: ['agent'] });
    const flexOptions = {
      customData, workerSid, workerAttributes, accountSid: SIM_ACCOUNT.accountSid, token, identity, locale: 'en-US', callRecordingEnabled: flexCallRecording,
    };
    const inst = env.browser
      ? new BrowserInstance(name, {
        context, pageUrl: `${env.files.url}/harness/harness.html`, bundleUrl: `${env.files.url}/bundle.js`, flexOptions, log, plugin,
      })
      : new NodeInstance(name, { bundleFile: env.bundleFile, flexOptions, log, actions: env.createFlexActions?.(), plugin });
    instances.push(inst);
    await inst.start();
    log(`instance ${name} ready${plugin ? '' : ' (without the plugin)'}`);
  }
  const byName = new Map(instances.map((i) => [i.name, i]));

  const accepted = {}; // taskSid -> attributes as accepted
  const conferenceRecords = {}; // taskSid -> conferenceOptions.conferenceRecord after beforeAcceptTask
  const tasks = {}; // taskSid -> accept spec
  const calls = new Map(); // callSid -> status the runner gave it

  // The reservation lifecycle (scenario README, `hangup` and `complete`):
  // accepted → wrapping when the call ends → completed at CompleteTask, at
  // TaskRouter (the simulator) and in Flex state (task status, taskWrapup).
  const reservationStatus = {}; // taskSid -> 'accepted' | 'wrapping' | 'completed'
  const toWrapUp = async (taskSid, holders) => {
    if (reservationStatus[taskSid] !== 'accepted') return;
    await sim.setReservationStatus(tasks[taskSid].sid, 'wrapping');
    reservationStatus[taskSid] = 'wrapping';
    for (const inst of holders) await inst.call('wrapup', taskSid);
  };
  const playLifecycle = async (kind, taskSid, holders) => {
    if (!tasks[taskSid]) throw new Error(`task ${taskSid} was never accepted`);
    if (kind === 'hangup') {
      // beforeHangupCall runs (awaited, as Flex does), then the call is over.
      for (const inst of holders) await inst.call('hangup', taskSid);
      await toWrapUp(taskSid, holders);
      return;
    }
    // Flex completes a voice task from wrap-up.
    await toWrapUp(taskSid, holders);
    // beforeCompleteTask runs (awaited), then the task leaves Flex state and
    // TaskRouter completes the reservation and the task.
    for (const inst of holders) await inst.call('complete', taskSid);
    if (reservationStatus[taskSid] !== 'completed') {
      await sim.setReservationStatus(tasks[taskSid].sid, 'completed');
      reservationStatus[taskSid] = 'completed';
    }
  };

  const ensureCall = async (callSid, from, to) => {
    if (calls.get(callSid) === 'in-progress') return;
    await sim.upsertCall({ callSid, status: 'in-progress', from, to });
    calls.set(callSid, 'in-progress');
  };
  const endCall = async (callSid, from, to) => {
    if (calls.get(callSid) === 'completed') return;
    if (!calls.has(callSid)) await sim.upsertCall({ callSid, status: 'in-progress', from, to });
    await sim.endCall(callSid);
    calls.set(callSid, 'completed');
  };

  for (const [i, step] of scenario.steps.entries()) {
    let kind;
    try {
      kind = stepKind(step);
      let targets = instances;
      if (step.instance !== undefined) {
        const inst = byName.get(step.instance);
        if (!inst) throw new Error(`unknown instance "${step.instance}" (this scenario has ${names.join(', ')})`);
        targets = [inst];
      }
      const value = step[kind];
      log(`step ${i + 1}: ${kind} ${show(value)}${step.instance ? ` in ${step.instance}` : ''}`);
      switch (kind) {
        case 'accept': {
          const spec = { channel: 'voice', ...value };
          await sim.putTask(spec.taskSid, spec.attributes, { queueName: spec.queueName, queueSid: spec.queueSid, channel: spec.channel });
          // The AcceptTask action (its beforeAcceptTask listeners) runs in the
          // one tab where the agent clicks: the step's instance, else the first.
          const { conferenceRecord } = await targets[0].invokeAcceptTask(spec);
          conferenceRecords[spec.taskSid] = conferenceRecord;
          log(`beforeAcceptTask in ${targets[0].name}: conferenceRecord ${JSON.stringify(conferenceRecord)}`);
          // Flex records the conference when the accept asked for it (or left it to call_recording_enabled).
          await sim.putAcceptOptions(spec.taskSid, conferenceRecord);
          await sim.upsertReservation({ taskSid: spec.taskSid, reservationSid: spec.sid, workerSid, status: 'accepted' });
          accepted[spec.taskSid] = JSON.parse(JSON.stringify(spec.attributes));
          reservationStatus[spec.taskSid] = 'accepted';
          tasks[spec.taskSid] = spec;
          for (const inst of targets) await inst.call('acceptTask', spec);
          break;
        }
        case 'conference': {
          const { taskSid, conferenceSid, participants } = value;
          const attrs = (tasks[taskSid] && tasks[taskSid].attributes) || {};
          await sim.putConference(conferenceSid, { taskSid, participants });
          for (const p of participants) {
            if (!p.callSid) continue;
            const customer = p.participantType === 'customer';
            const from = customer ? (attrs.from || '+15550100000') : (attrs.to || '+15550199999');
            const to = customer ? (attrs.to || attrs.outbound_to || '+15550199999') : `client:${identityOf(p.workerSid || workerSid)}`;
            if (p.status === 'joined') await ensureCall(p.callSid, from, to);
            else await endCall(p.callSid, from, to);
          }
          for (const inst of targets) await inst.call('setConference', taskSid, conferenceSid, participants);
          break;
        }
        case 'activeCall': {
          if (value) await ensureCall(value, '+15550199999', `client:${identity}`);
          for (const inst of targets) await inst.call('setActiveCall', value);
          break;
        }
        case 'hangup':
        case 'complete':
        case 'cancel': {
          // Without `instance`: every instance that holds the task (a task accepted in one tab only is in that one).
          const holders = step.instance !== undefined ? targets : await holdersOf(targets, value);
          if (holders.length === 0) throw new Error(`task ${value} is in no Flex instance (${tasks[value] ? 'it already left' : 'it was never accepted'})`);
          if (kind === 'cancel') {
            // The reservation disappears at Twilio, then Flex learns it.
            if (!tasks[value]) throw new Error(`task ${value} was never accepted`);
            await sim.deleteReservation(tasks[value].sid);
            for (const inst of holders) await inst.call(kind, value);
          } else {
            await playLifecycle(kind, value, holders);
          }
          break;
        }
        case 'action': {
          // One instance: the step's, else the first; the runner waits for the action's promise.
          const inst = step.instance !== undefined ? targets[0] : instances[0];
          const { name, payload = {} } = value || {};
          if (typeof name !== 'string') throw new Error(`action step needs a "name", found ${show(value)}`);
          const outcome = await inst.invokeAction(name, payload);
          log(`action ${name} in ${inst.name}: ${outcome.ok ? `resolved ${show(outcome.value)}` : `rejected: ${outcome.error}`}`);
          break;
        }
        case 'endCall':
          await sim.endCall(value);
          calls.set(value, 'completed');
          break;
        case 'wait':
          await sleep(value);
          break;
        case 'twilio':
          await sim.fault(value);
          break;
        case 'backend':
          if (value === 'down') await backend.stop();
          else if (value === 'up') await backend.start();
          else throw new Error(`backend step must be "down" or "up", found ${show(value)}`);
          break;
        default:
          throw new Error(`unknown step kind "${kind}"`);
      }
    } catch (err) {
      throw new Error(`step ${i + 1}${kind ? ` (${kind})` : ''}: ${err.message}`, { cause: err });
    }
  }

  const settle = await waitSettled(instances, sim, settleMs, () => safetyNetPending(backendUrls));
  log(`settled: ${settle.settled} after ${settle.elapsedMs} ms${settle.settled ? '' : ` (${settle.busy})`}`);

  const state = await sim.state();
  const notifications = [];
  for (const inst of instances) notifications.push(...await inst.notificationsShown());
  log(`final state: ${JSON.stringify(state)}`);
  log(`notifications: ${JSON.stringify(notifications)}`);
  for (const inst of instances) {
    for (const taskSid of Object.keys(tasks)) {
      try { log(`instance ${inst.name} status(${taskSid}) = ${JSON.stringify(await inst.status(taskSid))}`); } catch { /* diagnostic only */ }
    }
  }

  let audit;
  if (scenario.expect && scenario.expect.unrecorded !== undefined) {
    try {
      audit = await fetchAudit(backend.url, new Date(startedAt.getTime() - 1000), new Date(Date.now() + 1000));
      log(`audit: ${JSON.stringify(audit)}`);
    } catch (err) {
      audit = { error: err.message };
    }
  }
  try { log(`webhooks: ${JSON.stringify(await sim.webhooks())}`); } catch { /* diagnostic only */ }

  const failures = checkExpect(scenario.expect, { state, accepted, notifications, conferenceRecords, audit });
  if (failures.length === 0) return null;
  let why = failures.join('; ');
  if (!settle.settled) why += ` (not settled within settleMs ${settleMs}: ${settle.busy})`;
  return why;
}

async function holdersOf(instances, taskSid) {
  const held = await Promise.all(instances.map((i) => i.hasTask(taskSid)));
  return instances.filter((_, k) => held[k]);
}

/**
 * Wait until every instance is idle, the simulator has nothing left to send
 * (deliveries, callbacks), the backend no safety-net check pending
 * (`backendPending`), and the simulator's log has been quiet for a moment;
 * at most `settleMs`.
 */
async function waitSettled(instances, sim, settleMs, backendPending = async () => 0) {
  const start = Date.now();
  let quietSince = null;
  let lastLogLength = null;
  let busy = '';
  for (;;) {
    const states = await Promise.all(instances.map((i) => i.idle()));
    let logLength = lastLogLength;
    try { logLength = (await sim.log()).length; } catch { /* a simulator without /_sim/log: instances only */ }
    const notIdle = states.map((s, k) => (s.idle ? null : `instance ${instances[k].name} ${s.pluginIdle ? '' : 'not idle'}${s.inflight ? ` ${s.inflight} request(s) open` : ''}`.trim())).filter(Boolean);
    let sending = 0;
    try { sending = (await sim.webhooks()).pending; } catch { /* a simulator without /_sim/webhooks sends nothing */ }
    if (sending > 0) notIdle.push(`the simulator has ${sending} delivery(ies) or callback(s) on their way`);
    const checks = await backendPending();
    if (checks > 0) notIdle.push(`the backend has ${checks} safety-net check(s) pending`);
    const quietLog = lastLogLength !== null && logLength === lastLogLength;
    lastLogLength = logLength;
    busy = notIdle.length ? notIdle.join(', ') : (quietLog ? '' : 'Twilio requests still arriving');
    const now = Date.now();
    if (notIdle.length === 0 && quietLog) {
      if (quietSince === null) quietSince = now;
      if (now - quietSince >= QUIET_MS) return { settled: true, elapsedMs: now - start };
    } else {
      quietSince = null;
    }
    if (now - start >= settleMs) return { settled: false, elapsedMs: now - start, busy: busy || 'quiet period not reached' };
    await sleep(POLL_MS);
  }
}

#!/usr/bin/env node
// A shift-long soak: node tests/soak/soak.mjs [--duration-s 600] [--calls 5000]
//   [--workers 50] [--replicas 2] [--seed N] [--out FILE] [--warmup-s 60]
//   [--sample-s 10] [--fault-cycles 1]
//
// Workers (each with two Flex instances: Node harness instances loading the
// real plugin bundle) take calls one after another against two or more
// backend replicas that share a redis-server behind a round-robin proxy, with
// the Twilio simulator standing in for Twilio. Calls mix channels (half the
// workers record the customer leg, half their own leg), tabs (call carried
// in tab A, or an agent on a phone number whose two tabs both ask), Join
// Call, transfers to the same worker, and exclusions (queue, attribute).
// Faults during the shift: 429 and 503 storms and a slow Twilio (the
// simulator's fault API), one replica restarted, Redis restarted once; with
// --fault-cycles N all of it N times (a longer run shows whether memory
// levels off once each process has been through every fault).
//
// Bounded: a fixed number of calls, paced over the duration, then at most 60 s
// to settle; every process it started is stopped. At the end it counts, from
// the simulator's state: duplicate recordings, calls that should have been
// recorded and were not, recordings on calls that should not have been,
// media entries lost or overwritten, plugin sessions still open, backend
// memory, and the start delay (leg available in Flex → the plugin's
// recordingStarted) p50/p99. Exit status 1 if any count that must be 0 is not.
//
// Memory is judged per backend process (a restarted replica is a new one) as
// an operator would: resident memory once the process has warmed up
// (`--warmup-s` after it started: code pages touched, allocator arenas and
// pools at their working size) against the end, with RssAnon (the heap:
// where a leak would show) beside VmRSS (which also counts the binary's
// file-backed pages, paged in as code paths first run). Every process is
// sampled each `--sample-s`, so the report shows whether the curve flattens.
//
// Environment: TWILIO_SIM_BIN, BACKEND_BIN (`make soak` passes the release
// builds), PLUGIN_BUNDLE, REDIS_SERVER_BIN, as for the replay runner.

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createSimClient, recordingUrl } from '../harness/sim-client.js';
import { REPO_ROOT, SIM_ACCOUNT, bundlePath, missingParts, startBackend, startSim } from '../harness/processes.mjs';
import { startRedis, startReplicaGroup } from '../harness/replicas.mjs';
import { NodeInstance } from '../replay/node-instance.mjs';

const OUT_DIR = path.join(REPO_ROOT, 'tests/.out/soak');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function parseArgs(argv) {
  const o = { durationS: 600, calls: 5000, workers: 50, replicas: 2, seed: 12, out: null, warmupS: 60, sampleS: 10, faultCycles: 1 };
  for (let i = 0; i < argv.length; i += 1) {
    const [k, v] = [argv[i], argv[i + 1]];
    const num = () => { const n = Number(v); if (!Number.isFinite(n) || n <= 0) throw new Error(`${k} needs a positive number`); i += 1; return n; };
    if (k === '--duration-s') o.durationS = num();
    else if (k === '--calls') o.calls = Math.ceil(num());
    else if (k === '--workers') o.workers = Math.ceil(num());
    else if (k === '--replicas') o.replicas = Math.ceil(num());
    else if (k === '--seed') o.seed = Math.ceil(num());
    else if (k === '--warmup-s') o.warmupS = num();
    else if (k === '--sample-s') o.sampleS = num();
    else if (k === '--fault-cycles') o.faultCycles = Math.ceil(num());
    else if (k === '--out') { o.out = v; i += 1; } else throw new Error(`unknown option ${k}`);
  }
  if (o.replicas < 2) throw new Error('--replicas: the soak needs at least 2 (one of them is restarted)');
  return o;
}

/** mulberry32: a seeded generator, so a run's mix can be played again. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let sidCounter = 0;
function newSid(prefix) {
  sidCounter += 1;
  return `${prefix}${'50a6'}${sidCounter.toString(16).padStart(28, '0')}`;
}

/** A process's resident memory in kB: total, anonymous (heap, stacks), file-backed. */
function memKb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => { const m = new RegExp(`${name}:\\s+(\\d+) kB`).exec(status); return m ? Number(m[1]) : null; };
    return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile') };
  } catch { return null; }
}

function openFds(pid) {
  try { return readdirSync(`/proc/${pid}/fd`).length; } catch { return null; }
}

/** The backend's own count of entries in each expiring cache, from /metrics. */
async function cacheEntries(url) {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) });
    const text = await res.text();
    const n = (cache) => {
      const m = new RegExp(`^recording_backend_cache_entries\\{cache="${cache}"\\} (\\d+)`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    return [n('tokens'), n('recordings'), n('grants')];
  } catch { return [null, null, null]; }
}

const MEMORY_COLUMNS = ['seconds into the shift', 'VmRSS kB', 'RssAnon kB', 'RssFile kB', 'open fds',
  'cached tokens', 'cached recordings', 'cached grants'];

/**
 * Samples every backend process of `group` each `everyS` seconds, by pid: a
 * replica restarted mid-shift is a new process with its own series.
 */
function memorySampler(group, everyS, sinceMs) {
  const procs = new Map(); // pid -> { replica, firstSeenS, samples: [MEMORY_COLUMNS] }
  const pending = new Set();
  const sample = () => {
    const tS = +((Date.now() - sinceMs()) / 1000).toFixed(1);
    group.replicas.forEach((r, i) => {
      const pid = r.pid;
      if (!pid) return;
      const m = memKb(pid);
      if (!m || m.rss === null) return;
      if (!procs.has(pid)) procs.set(pid, { replica: i + 1, pid, firstSeenS: tS, samples: [] });
      const row = [tS, m.rss, m.anon, m.file, openFds(pid), null, null, null];
      procs.get(pid).samples.push(row);
      const p = cacheEntries(r.url).then((c) => { row.splice(5, 3, ...c); });
      pending.add(p);
      p.finally(() => pending.delete(p));
    });
  };
  sample();
  const timer = setInterval(sample, everyS * 1000);
  timer.unref();
  return { sample, procs, stop: async () => { clearInterval(timer); await Promise.all([...pending]); } };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const QUEUES = { sales: ['Sales', 'WQ50a60000000000000000000000000001'], billing: ['Billing', 'WQ50a60000000000000000000000000002'] };

function featureConfig(channel) {
  return {
    enabled: true,
    channel,
    exclude_queues: ['Billing'],
    exclude_attributes: [{ key: 'customer.privacy', value: 'no-recording' }],
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const missing = missingParts();
  if (missing.length) throw new Error(`cannot run: missing ${missing.join('; ')}`);
  // Fresh logs: the report counts lines in them.
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  const random = rng(o.seed);
  const closers = [];
  const events = [];
  const note = (what) => { events.push({ atS: +((Date.now() - t0Shift) / 1000).toFixed(1), what }); console.log(`[soak] ${what}`); };
  let t0Shift = Date.now();

  try {
    const simProc = await startSim({ logFile: path.join(OUT_DIR, 'twilio-sim.log') });
    closers.push(() => simProc.stop());
    const sim = createSimClient(simProc.url);
    // The Flex configuration the replicas read their policy from, before they
    // start: the same rules every worker's plugin has (the channel is each
    // browser's own; the policy reads only enabled, method and exclusions).
    await sim.putRecordingFeature(featureConfig('customer'));
    const redis = await startRedis({ logFile: path.join(OUT_DIR, 'redis-server.log') });
    closers.push(() => redis.stop());
    const group = await startReplicaGroup({
      count: o.replicas,
      redis,
      launch: ({ env, name }) => startBackend({ simUrl: simProc.url, logFile: path.join(OUT_DIR, `recording-backend-${name}.log`), env, name }),
    });
    closers.push(() => group.stop());
    // RUST_LOG is left at info: the logs are the evidence when a count is not 0.

    // Workers and their two Flex instances each.
    const workers = [];
    const started = new Map(); // callSid -> first recordingStarted time (ms)
    for (let w = 0; w < o.workers; w += 1) {
      const workerSid = `WK50a6${(w + 1).toString(16).padStart(28, '0')}`;
      const identity = `worker_${workerSid}`;
      const channel = w % 2 === 0 ? 'customer' : 'worker';
      const customData = {
        features: { dual_channel_recording: featureConfig(channel) },
        serverless_functions_domain: `127.0.0.1:${group.port}`,
        serverless_functions_protocol: 'http',
      };
      const instances = [];
      for (const name of ['A', 'B']) {
        const token = `soak-token-${w}-${name}`;
        await sim.registerToken({ token, workerSid, identity, valid: true, expiresInSec: 4 * 3600, roles: ['agent'] });
        const inst = new NodeInstance(`${w}${name}`, {
          bundleFile: bundlePath(),
          flexOptions: { customData, workerSid, accountSid: SIM_ACCOUNT.accountSid, token, identity, locale: 'en-US' },
          log: () => {},
        });
        await inst.start();
        inst.context.__soakStarted = (callSid) => { if (!started.has(callSid)) started.set(callSid, Date.now()); };
        vm.runInContext('DualChannelRecording.onRecordingStarted((e) => __soakStarted(e.callSid))', inst.context);
        instances.push(inst);
      }
      workers.push({ w, workerSid, identity, channel, instances });
    }
    closers.push(async () => { for (const wk of workers) for (const i of wk.instances) await i.dispose(); });
    note(`${o.workers} workers x 2 Flex instances ready; ${o.replicas} replicas behind ${group.url}; redis ${redis.url}`);

    const calls = []; // what each call should leave behind
    const perWorker = Math.ceil(o.calls / o.workers);
    const slotMs = (o.durationS * 1000) / perWorker;
    t0Shift = Date.now();
    // Sampled from here on; times count from the shift's start.
    const memory = memorySampler(group, o.sampleS, () => t0Shift);

    // Faults at fixed fractions of the shift (with some randomness inside);
    // with --fault-cycles N the plan is played N times, one per Nth of it.
    const cycleS = o.durationS / o.faultCycles;
    const faultPlan = [
      [0.10, 'storm 429', () => sim.fault({ failNext: { status: 429, code: 20429, count: 40 } })],
      [0.20, 'storm 503', () => sim.fault({ failNext: { status: 503, code: 20503, count: 40 } })],
      [0.30, `slow Twilio (250 ms) for ${Math.round(cycleS * 0.08)} s`, async () => {
        await sim.fault({ latencyMs: 250 });
        if (memory.peakLoadFromS === undefined) memory.peakLoadFromS = (Date.now() - t0Shift) / 1000;
        setTimeout(() => {
          sim.fault({ latencyMs: 0 }).catch(() => {});
          note('Twilio fast again');
          // The shift's busiest stretch is over: requests and connections
          // piled up while Twilio was slow (memory's high-water mark).
          if (memory.peakLoadOverS === undefined) memory.peakLoadOverS = (Date.now() - t0Shift) / 1000;
        }, cycleS * 80).unref();
      }],
      [0.45, 'replica 2 restarted', async () => { await group.restartReplica(1); memory.sample(); }],
      [0.55, 'storm 429', () => sim.fault({ failNext: { status: 429, code: 20429, count: 40 } })],
      [0.65, 'redis restarted (no persistence: every claim lost)', () => redis.restart()],
      [0.75, 'storm 503', () => sim.fault({ failNext: { status: 503, code: 20503, count: 40 } })],
      [0.85, `slow Twilio (150 ms) for ${Math.round(cycleS * 0.05)} s`, async () => {
        await sim.fault({ latencyMs: 150 });
        setTimeout(() => { sim.fault({ latencyMs: 0 }).catch(() => {}); note('Twilio fast again'); }, cycleS * 50).unref();
      }],
    ];
    const faults = (async () => {
      for (let c = 0; c < o.faultCycles; c += 1) {
        for (const [at, what, act] of faultPlan) {
          const when = t0Shift + (c + at) * cycleS * 1000 + random() * 0.02 * cycleS * 1000;
          await sleep(Math.max(0, when - Date.now()));
          try { await act(); note(what); } catch (err) { note(`${what} FAILED: ${err.message}`); }
        }
      }
    })();

    const errors = [];
    const runWorker = async (wk) => {
      for (let k = 0; k < perWorker; k += 1) {
        const slot = t0Shift + k * slotMs + random() * slotMs * 0.2;
        await sleep(Math.max(0, slot - Date.now()));
        try {
          await oneCall(wk, sim, random, calls, slotMs);
        } catch (err) {
          errors.push(`worker ${wk.w} call ${k}: ${err.message}`);
        }
      }
    };
    await Promise.all(workers.map(runWorker));
    await faults;
    const shiftS = (Date.now() - t0Shift) / 1000;
    note(`shift over: ${calls.length} calls in ${shiftS.toFixed(0)} s (planned ${o.durationS} s)`);
    await sim.fault({ latencyMs: 0 });

    // Settle: every instance idle (no request, retry or defer timer), at most 60 s.
    const settleStart = Date.now();
    for (;;) {
      const busy = [];
      for (const wk of workers) for (const i of wk.instances) if (!(await i.idle()).idle) busy.push(i.name);
      if (busy.length === 0 || Date.now() - settleStart > 60000) {
        note(`settled after ${((Date.now() - settleStart) / 1000).toFixed(1)} s${busy.length ? `; still busy: ${busy.join(', ')}` : ''}`);
        break;
      }
      await sleep(250);
    }
    await sleep(1000);
    memory.sample();
    await memory.stop();

    const report = await check({ sim, workers, calls, started, memory, errors, events, o, shiftS });
    const text = JSON.stringify(report, null, 2);
    writeFileSync(o.out || path.join(OUT_DIR, 'report.json'), `${text}\n`);
    console.log(text);
    return report.ok ? 0 : 1;
  } finally {
    for (const close of closers.reverse()) { try { await close(); } catch { /* best effort */ } }
  }
}

/** One call of a worker, from accept to complete; records what it should leave. */
async function oneCall(wk, sim, random, calls, slotMs) {
  const [A, B] = wk.instances;
  const r = random();
  const kind = r < 0.5 ? 'plain' : r < 0.7 ? 'joinCall' : r < 0.85 ? 'transfer' : 'excluded';
  const carried = random() < 0.7; // else: an agent on a phone number, both tabs ask
  const excludedBy = kind === 'excluded' ? (random() < 0.5 ? 'queue' : 'attribute') : null;
  const [queueName, queueSid] = excludedBy === 'queue' ? QUEUES.billing : QUEUES.sales;
  const task = { taskSid: newSid('WT'), sid: newSid('WR'), queueName, queueSid, channel: 'voice' };
  const customer = newSid('CA');
  const workerLeg = newSid('CA');
  const conf = newSid('CF');
  task.attributes = { call_sid: customer, direction: 'inbound', from: '+15550100000', customer: { privacy: excludedBy === 'attribute' ? 'no-recording' : 'ok' } };
  const call = { worker: wk.w, channel: wk.channel, kind, carried, tasks: [], expectRecorded: [], availableAt: {} };
  calls.push(call);
  const both = (method, ...args) => Promise.all([A.call(method, ...args), B.call(method, ...args)]);
  const ended = new Set();
  const endCall = async (leg) => {
    if (ended.has(leg)) return;
    ended.add(leg);
    await sim.endCall(leg);
  };
  const part = (callSid, status, reservationSid, type = 'worker') => (type === 'customer'
    ? { participantType: 'customer', status, callSid }
    : { participantType: 'worker', status, callSid, workerSid: wk.workerSid, reservationSid });

  const accept = async (t) => {
    await sim.putTask(t.taskSid, t.attributes, { queueName: t.queueName, queueSid: t.queueSid, channel: 'voice' });
    await sim.upsertReservation({ taskSid: t.taskSid, reservationSid: t.sid, workerSid: wk.workerSid, status: 'accepted' });
    await both('acceptTask', t);
  };
  const conference = async (t, participants) => {
    await sim.putConference(conf, { taskSid: t.taskSid, participants });
    for (const p of participants) {
      if (p.status === 'joined') {
        const to = p.participantType === 'customer' ? '+15550199999' : `client:${wk.identity}`;
        await sim.upsertCall({ callSid: p.callSid, status: 'in-progress', from: '+15550100000', to });
      } else {
        await endCall(p.callSid);
      }
    }
    const at = Date.now();
    await both('setConference', t.taskSid, conf, participants);
    return at;
  };
  const finish = async (t, legs) => {
    await both('hangup', t.taskSid);
    for (const leg of legs) await endCall(leg);
    await sim.upsertReservation({ taskSid: t.taskSid, reservationSid: t.sid, workerSid: wk.workerSid, status: 'wrapping' });
    await both('complete', t.taskSid);
    await sim.upsertReservation({ taskSid: t.taskSid, reservationSid: t.sid, workerSid: wk.workerSid, status: 'completed' });
  };
  // Long enough for a recording to start through a fault storm (Twilio
  // retries within 8 s; the plugin's own retries) before the call ends: a
  // call that is over cannot be recorded, by anyone.
  const talk = () => sleep(slotMs * (0.25 + 0.1 * random()));

  const excluded = kind === 'excluded';
  const expect = (leg) => { if (!excluded) call.expectRecorded.push(leg); };
  const target = (t) => (wk.channel === 'customer' ? { path: ['conversations', 'media'] } : { path: ['reservation_attributes', t.sid, 'media'] });

  await accept(task);
  const at = await conference(task, [part(customer, 'joined', null, 'customer'), part(workerLeg, 'joined', task.sid)]);
  if (carried) await A.call('setActiveCall', workerLeg);
  const first = wk.channel === 'customer' ? customer : workerLeg;
  call.availableAt[first] = at;
  expect(first);
  call.tasks.push({ taskSid: task.taskSid, ...target(task), legs: excluded ? [] : [first], excluded });
  await talk();

  if (kind === 'joinCall') {
    const newLeg = newSid('CA');
    const atJoin = await conference(task, [part(customer, 'joined', null, 'customer'), part(workerLeg, 'left', task.sid), part(newLeg, 'joined', task.sid)]);
    if (carried) await A.call('setActiveCall', null);
    await B.call('setActiveCall', newLeg);
    if (wk.channel === 'worker') {
      call.availableAt[newLeg] = atJoin;
      expect(newLeg);
      call.tasks[0].legs.push(newLeg);
    }
    await talk();
    await finish(task, [newLeg, customer]);
    await both('setActiveCall', null);
    return;
  }
  if (kind === 'transfer') {
    // Transferred back to the same worker: a second task on the same
    // customer call, with the attributes the first one ended with.
    await finish(task, [workerLeg]);
    await both('setActiveCall', null);
    const attrs = await taskAttributes(sim, task.taskSid);
    const task2 = { taskSid: newSid('WT'), sid: newSid('WR'), queueName, queueSid, channel: 'voice', attributes: attrs };
    const leg2 = newSid('CA');
    await accept(task2);
    const at2 = await conference(task2, [part(customer, 'joined', null, 'customer'), part(workerLeg, 'left', task.sid), part(leg2, 'joined', task2.sid)]);
    if (carried) await A.call('setActiveCall', leg2);
    // Customer channel: already listed in the copied attributes, nothing new.
    // Worker channel: this worker's new leg, on the new reservation.
    const copied = wk.channel === 'customer' ? (call.tasks[0].legs.slice()) : [];
    if (wk.channel === 'worker') {
      call.availableAt[leg2] = at2;
      expect(leg2);
    }
    call.tasks.push({ taskSid: task2.taskSid, ...target(task2), legs: wk.channel === 'worker' ? [leg2] : copied, excluded, copiedFrom: task.taskSid });
    await talk();
    await finish(task2, [leg2, customer]);
    await both('setActiveCall', null);
    return;
  }
  await finish(task, [workerLeg, customer]);
  await both('setActiveCall', null);
}

/**
 * A task's attributes as TaskRouter has them, read as Flex would on a
 * transfer (through the REST API: the whole-world control snapshot grows with
 * the shift). A fault storm may answer this read too, so it is repeated.
 */
async function taskAttributes(sim, taskSid) {
  const url = `${sim.baseUrl}/v1/Workspaces/${SIM_ACCOUNT.workspaceSid}/Tasks/${taskSid}`;
  const auth = `Basic ${Buffer.from(`${SIM_ACCOUNT.accountSid}:${SIM_ACCOUNT.authToken}`).toString('base64')}`;
  for (let attempt = 1; ; attempt += 1) {
    const res = await fetch(url, { headers: { authorization: auth } });
    if (res.ok) return JSON.parse((await res.json()).attributes);
    if (attempt >= 30) throw new Error(`reading ${taskSid} for the transfer: HTTP ${res.status}`);
    await sleep(200);
  }
}

/**
 * Per backend process: resident memory (kB) at its first sample, after
 * warm-up (the first sample `warmupS` or more after that), after the first
 * slow-Twilio window (if the process lived through it), at the end of the
 * first fault cycle (with --fault-cycles 2 or more: the process has been
 * through every fault once) and at the end; growth to the end from each; and
 * the samples themselves.
 */
function memoryReport(procs, { warmupS, durationS, faultCycles }, { peakLoadFromS, peakLoadOverS }) {
  const cycleEndS = faultCycles > 1 ? durationS / faultCycles : null;
  const pct = (from, to) => (from && to !== null && to !== undefined ? +((100 * (to - from)) / from).toFixed(1) : null);
  return {
    columns: MEMORY_COLUMNS,
    warmupS,
    processes: [...procs.values()].map((p) => {
      const first = p.samples[0];
      const last = p.samples[p.samples.length - 1];
      const warm = p.samples.find((x) => x[0] >= p.firstSeenS + warmupS) || null;
      // Alive through the first slow-Twilio window: the first sample after it.
      const peak = peakLoadOverS === undefined || p.firstSeenS > peakLoadFromS ? null
        : p.samples.find((x) => x[0] >= peakLoadOverS) || null;
      const cycle = cycleEndS === null ? null
        : p.samples.filter((x) => x[0] <= cycleEndS && x[0] >= p.firstSeenS + warmupS).pop() || null;
      const pick = (x) => (x ? { atS: x[0], rss: x[1], anon: x[2], file: x[3], fds: x[4], tokens: x[5], recordings: x[6], grants: x[7] } : null);
      return {
        replica: p.replica,
        pid: p.pid,
        start: pick(first),
        afterWarmup: pick(warm),
        end: pick(last),
        growthPercentFromWarmup: warm ? { rss: pct(warm[1], last[1]), anon: pct(warm[2], last[2]) } : null,
        afterPeakLoad: pick(peak),
        growthPercentFromPeakLoad: peak ? { rss: pct(peak[1], last[1]), anon: pct(peak[2], last[2]) } : null,
        afterFirstFaultCycle: pick(cycle),
        growthPercentFromFirstFaultCycle: cycle ? { rss: pct(cycle[1], last[1]), anon: pct(cycle[2], last[2]) } : null,
        growthPercentFromStart: { rss: pct(first[1], last[1]), anon: pct(first[2], last[2]) },
        samples: p.samples,
      };
    }),
  };
}

function dig(obj, p) {
  let v = obj;
  for (const k of p) { if (v === null || typeof v !== 'object') return undefined; v = v[k]; }
  return v;
}

async function check({ sim, workers, calls, started, memory, errors, events, o, shiftS }) {
  const state = await sim.state();
  const byCall = new Map();
  for (const rec of state.recordings) {
    if (!byCall.has(rec.callSid)) byCall.set(rec.callSid, []);
    byCall.get(rec.callSid).push(rec);
  }
  const expected = new Set(calls.flatMap((c) => c.expectRecorded));
  const describe = (leg) => {
    const c = calls.find((x) => x.expectRecorded.includes(leg));
    return c ? `worker ${c.worker}, ${c.channel} channel, ${c.kind}, ${c.carried ? 'carried in tab A' : 'phone agent'}, tasks ${c.tasks.map((t) => t.taskSid).join(' ')}` : '?';
  };
  let duplicates = 0;
  let missed = 0;
  const examples = { duplicates: [], missed: [], unexpected: [], media: [], sessions: [] };
  for (const leg of expected) {
    const n = (byCall.get(leg) || []).length;
    if (n === 0) { missed += 1; if (examples.missed.length < 5) examples.missed.push(`${leg} (${describe(leg)})`); }
    if (n > 1) { duplicates += n - 1; if (examples.duplicates.length < 5) examples.duplicates.push(leg); }
  }
  let unexpected = 0;
  for (const [callSid, recs] of byCall) {
    if (!expected.has(callSid)) { unexpected += recs.length; if (examples.unexpected.length < 5) examples.unexpected.push(callSid); }
  }
  // Media: each task lists exactly its legs' recordings, in order, once each.
  let lostOrOverwritten = 0;
  let mediaChecked = 0;
  for (const c of calls) {
    for (const t of c.tasks) {
      const attrs = state.tasks[t.taskSid] && state.tasks[t.taskSid].attributes;
      const list = dig(attrs, t.path);
      if (t.excluded) {
        if (list !== undefined) { lostOrOverwritten += 1; if (examples.media.length < 5) examples.media.push(`${t.taskSid}: media on an excluded task`); }
        continue;
      }
      mediaChecked += 1;
      const want = t.legs.map((leg) => (byCall.get(leg) || []).map((r) => recordingUrl(state.accountSid, r.sid))[0]).filter(Boolean);
      const got = Array.isArray(list) ? list.map((e) => e && e.url) : [];
      const same = want.length === got.length && want.every((u, i) => u === got[i]);
      if (!same) {
        lostOrOverwritten += 1;
        if (examples.media.length < 5) examples.media.push(`${t.taskSid} (${c.channel}, ${c.kind}): want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
      }
    }
  }
  // Plugin sessions still open: any task any instance still reports on.
  let sessionsOpen = 0;
  for (const wk of workers) {
    const mine = calls.filter((c) => c.worker === wk.w).flatMap((c) => c.tasks.map((t) => t.taskSid));
    for (const inst of wk.instances) {
      for (const taskSid of mine) {
        // An ended session reports `done` (kept for a while) or `unknown`
        // (forgotten), a task never followed `excluded`; any other state
        // (`waiting`, `starting`, `recording`, `failed`) is a live session.
        const s = await inst.status(taskSid);
        if (!['unknown', 'done', 'excluded'].includes(s.state)) {
          sessionsOpen += 1;
          if (examples.sessions.length < 5) examples.sessions.push(`${inst.name} ${taskSid}: ${JSON.stringify(s)}`);
        }
      }
    }
  }
  const delays = [];
  for (const c of calls) {
    for (const [leg, at] of Object.entries(c.availableAt)) {
      if (!expected.has(leg)) continue;
      const s = started.get(leg);
      if (s !== undefined) delays.push(s - at);
    }
  }
  delays.sort((a, b) => a - b);
  const kinds = {};
  for (const c of calls) kinds[`${c.channel}/${c.kind}`] = (kinds[`${c.channel}/${c.kind}`] || 0) + 1;
  const backendMemory = memoryReport(memory.procs, o, memory);
  const failureLines = [];
  for (const r of ['1', '2', '3']) {
    try {
      const log = readFileSync(path.join(OUT_DIR, `recording-backend-replica-${r}.log`), 'utf8');
      failureLines.push(...log.split('\n').filter((l) => l.includes('claim store unreachable')));
    } catch { /* fewer replicas */ }
  }
  const report = {
    options: o,
    shiftSeconds: +shiftS.toFixed(1),
    calls: calls.length,
    tasks: calls.reduce((n, c) => n + c.tasks.length, 0),
    mix: kinds,
    carriedInTabA: calls.filter((c) => c.carried).length,
    expectedRecordings: expected.size,
    recordingsAtTwilio: state.recordings.length,
    duplicateRecordings: duplicates,
    missedRecordings: missed,
    unexpectedRecordings: unexpected,
    mediaListsChecked: mediaChecked,
    mediaLostOrOverwritten: lostOrOverwritten,
    pluginSessionsOpen: sessionsOpen,
    requestsWithoutClaimStore: failureLines.length,
    startDelayMs: { n: delays.length, p50: percentile(delays, 50), p99: percentile(delays, 99), max: delays.length ? delays[delays.length - 1] : null },
    backendMemory,
    driverErrors: errors.slice(0, 10),
    driverErrorCount: errors.length,
    events,
    examples,
  };
  report.ok = duplicates === 0 && missed === 0 && unexpected === 0 && lostOrOverwritten === 0 && sessionsOpen === 0 && errors.length === 0;
  return report;
}

main().then(
  (code) => { process.exitCode = code; setTimeout(() => process.exit(code), 200).unref(); },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exit(1); },
);

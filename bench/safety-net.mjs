#!/usr/bin/env node
// Issue 19: the safety net's start delay with no plugin at all, from the
// reservation's accept at TaskRouter (the simulator) to the recording create
// reaching Twilio (the simulator's log), through Event Streams. The delay is
// SAFETY_NET_SECONDS (counted from the event's time) plus the net's own work:
// the delivery, the policy and task reads, the look at the call's recordings
// and the create. Both are printed, the second as `overhead`.
//
//   node bench/safety-net.mjs [--n 20] [--wait-s 2]
//
// After `make build` (debug binaries, as the replays use). Everything listens
// on 127.0.0.1; the loop is bounded in count and each call in time.
import { SIM_ACCOUNT, startBackend, startSim } from '../tests/harness/processes.mjs';
import { createSimClient } from '../tests/harness/sim-client.js';
import { setUpEventStreams } from '../tests/replay/event-streams.mjs';
import { fmt, sid, summary } from './lib.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const N = Number(opt('--n', 20));
const WAIT_S = Number(opt('--wait-s', 2));
const PER_CALL_LIMIT_MS = WAIT_S * 1000 + 15000;
const WORKER = 'WK00000000000000000000000000000b01';
const log = (line) => process.stderr.write(`[safety-net bench] ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function safetyNetBench({ n = N, waitS = WAIT_S } = {}) {
  const sim = await startSim();
  const client = createSimClient(sim.url);
  // Before the backend starts: it reads the configuration as it starts.
  await client.putFlexConfiguration({
    uiAttributes: { custom_data: { features: { dual_channel_recording: { enabled: true, channel: 'customer' } } } },
    callRecordingEnabled: false,
  });
  const backend = await startBackend({ simUrl: sim.url, env: { SAFETY_NET_SECONDS: String(waitS) }, logFile: process.env.SAFETY_NET_BENCH_LOG });
  try {
    await setUpEventStreams({ sim: client, simUrl: sim.url, backendUrl: backend.url, eventStreams: true, log });
    const delays = [];
    for (let i = 1; i <= n; i += 1) {
      const callSid = sid('CA', 0x5afe, i);
      const taskSid = sid('WT', 0x5afe, i);
      await client.upsertCall({ callSid, status: 'in-progress', from: '+15005550006', to: '+15005550007' });
      await client.putTask(taskSid, { call_sid: callSid, direction: 'inbound' }, { queueName: 'Sales', queueSid: sid('WQ', 0x5afe, 1), channel: 'voice' });
      const t0 = performance.now();
      await client.upsertReservation({ taskSid, reservationSid: sid('WR', 0x5afe, i), workerSid: WORKER, status: 'accepted' });
      let t1 = null;
      while (t1 === null && performance.now() - t0 < PER_CALL_LIMIT_MS) {
        const entries = await client.log();
        if (entries.some((e) => e.method === 'POST' && e.path.endsWith(`/Calls/${callSid}/Recordings.json`) && e.status < 300)) t1 = performance.now();
        else await sleep(10);
      }
      if (t1 === null) throw new Error(`call ${i}: no recording within ${PER_CALL_LIMIT_MS} ms`);
      delays.push(t1 - t0);
      await client.endCall(callSid);
    }
    const total = summary(delays);
    const overhead = summary(delays.map((d) => d - waitS * 1000));
    return { n, waitS, total, overhead, account: SIM_ACCOUNT.accountSid };
  } finally {
    await backend.stop();
    await sim.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await safetyNetBench();
  const row = (name, s) => `| ${name} | ${r.n} | ${fmt(s.median, 0)} | ${fmt(s.p90, 0)} | ${fmt(s.max, 0)} |`;
  console.log(`safety net, no plugin, SAFETY_NET_SECONDS=${r.waitS}: accept at TaskRouter -> recording create at Twilio (ms)`);
  console.log('| | calls | median | p90 | max |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(row('accept -> create', r.total));
  console.log(row(`overhead (minus ${r.waitS} s)`, r.overhead));
}

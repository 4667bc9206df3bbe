// node --test tests/replay/event-streams.test.mjs
// The runner's Event Streams set-up against the real simulator, with a tiny
// local HTTP server in the backend's place: the sink is made, tested,
// validated and subscribed through Twilio's Events API, and what the
// simulator then delivers is signed as Twilio documents (checked here with
// Node's own crypto, independently of the simulator's code).
// Needs the simulator binary (cargo build -p twilio-sim, or TWILIO_SIM_BIN).
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { createSimClient } from '../harness/sim-client.js';
import { SIM_ACCOUNT, startSim } from '../harness/processes.mjs';
import { SCHEMA_VERSION, SINK_PATH, TASKROUTER_EVENT_TYPES, deliveryOptions, setUpEventStreams } from './event-streams.mjs';

const optionCases = [
  // [eventStreams, options sent to the simulator]
  [true, {}],
  [{ duplicates: true }, { duplicates: true }],
  [{ reorder: true, delayMs: 250 }, { reorder: true, delayMs: 250 }],
  [{}, {}],
];
for (const [given, want] of optionCases) {
  test(`deliveryOptions(${JSON.stringify(given)})`, () => assert.deepEqual(deliveryOptions(given), want));
}

let simProc;
let sim;
let backend;
let backendUrl;
const received = [];

before(async () => {
  simProc = await startSim();
  sim = createSimClient(simProc.url);
  backend = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200);
      res.end();
    });
  });
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  backendUrl = `http://127.0.0.1:${backend.address().port}`;
});
after(async () => {
  await new Promise((r) => { backend.closeAllConnections(); backend.close(r); });
  await simProc?.stop();
});

async function until(what, check, ms = 5000) {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - start > ms) throw new Error(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Twilio's signature of a JSON delivery: HMAC-SHA1 over the full URL, whose bodySHA256 is the body's hash. */
function checkSigned(r) {
  const url = `${backendUrl}${r.url}`;
  const hash = createHash('sha256').update(r.body).digest('hex');
  assert.equal(new URL(url).searchParams.get('bodySHA256'), hash);
  const want = createHmac('sha1', SIM_ACCOUNT.authToken).update(url).digest('base64');
  assert.equal(r.headers['x-twilio-signature'], want);
  assert.match(r.headers['content-type'], /^application\/json/);
  return JSON.parse(r.body.toString('utf8'));
}

test('the set-up makes an active sink subscribed to the TaskRouter events, which then arrive signed', async () => {
  await sim.reset();
  const { sinkSid, subscriptionSid } = await setUpEventStreams({ sim, simUrl: simProc.url, backendUrl, eventStreams: { duplicates: true } });
  const state = await sim.state();
  const sink = state.eventStreams.sinks.find((s) => s.sid === sinkSid);
  assert.equal(sink.status, 'active');
  assert.equal(sink.destination, `${backendUrl}${SINK_PATH}`);
  const sub = state.eventStreams.subscriptions.find((s) => s.sid === subscriptionSid);
  assert.deepEqual(sub.types, TASKROUTER_EVENT_TYPES.map((type) => ({ type, schemaVersion: SCHEMA_VERSION })));
  assert.deepEqual(state.eventStreams.delivery, { duplicates: true, reorder: false, delayMs: 0 });
  const test = checkSigned(await until('the test event', () => received.find((r) => r.url.startsWith(SINK_PATH))));
  assert.equal(test[0].type, 'com.twilio.eventstreams.test-event');

  received.length = 0;
  const WT = 'WT16000000000000000000000000000001';
  const WR = 'WR16000000000000000000000000000001';
  const WK = 'WK00000000000000000000000000000001';
  await sim.putTask(WT, { call_sid: 'CA16000000000000000000000000000c01' }, { queueName: 'Sales', queueSid: 'WQf1000000000000000000000000000001' });
  await sim.upsertReservation({ taskSid: WT, reservationSid: WR, workerSid: WK });
  // The task's creation, then the reservation's, each sent twice (duplicates).
  await until('four deliveries', () => received.length >= 4);
  const batches = received.map(checkSigned);
  const types = batches.map((b) => b.map((e) => e.type.replace('com.twilio.taskrouter.', '')));
  assert.deepEqual(types, [['task.created'], ['task.created'], ['reservation.created', 'reservation.accepted'], ['reservation.created', 'reservation.accepted']]);
  const accepted = batches[2][1];
  assert.equal(accepted.specversion, '1.0');
  assert.equal(accepted.data.payload.task_sid, WT);
  assert.equal(accepted.data.payload.reservation_sid, WR);
  assert.equal(accepted.data.payload.worker_sid, WK);
  assert.equal(accepted.data.payload.task_queue_name, 'Sales');
  assert.deepEqual(batches[3].map((e) => e.id), batches[2].map((e) => e.id), 'a duplicate keeps its ids');
  const log = await sim.webhooks();
  assert.equal(log.pending, 0);
  assert.ok(log.webhooks.every((w) => w.kind === 'eventStreams' && w.status === 200), JSON.stringify(log.webhooks));
});

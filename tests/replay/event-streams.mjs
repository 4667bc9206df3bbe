// The scenario format's `eventStreams` (tests/scenarios/public/README.md):
// the runner sets up Event Streams as an administrator does, through
// Twilio's Events API with the account's credentials: a webhook sink at the
// backend's sink address, Twilio's test event and its validation, and a
// subscription to the TaskRouter event types. The delivery options go to
// the simulator's control API.

import { SIM_ACCOUNT } from '../harness/processes.mjs';

/** Where the backend takes Event Streams deliveries (the project documents it). */
export const SINK_PATH = '/twilio/event-streams';

/** The TaskRouter event types the sink is subscribed to. */
export const TASKROUTER_EVENT_TYPES = [
  'reservation.created', 'reservation.accepted', 'reservation.rejected', 'reservation.timeout',
  'reservation.canceled', 'reservation.rescinded', 'reservation.wrapup', 'reservation.completed',
  'task.created', 'task.updated', 'task.canceled', 'task.wrapup', 'task.completed',
].map((t) => `com.twilio.taskrouter.${t}`);

/** The schema version subscribed (the one Twilio's Event Streams pages show for TaskRouter). */
export const SCHEMA_VERSION = 4;

/** `true` means Twilio's delivery with no option; an object names them. */
export function deliveryOptions(eventStreams) {
  if (eventStreams === true) return {};
  const { duplicates, reorder, delayMs } = eventStreams;
  const options = {};
  if (duplicates !== undefined) options.duplicates = duplicates;
  if (reorder !== undefined) options.reorder = reorder;
  if (delayMs !== undefined) options.delayMs = delayMs;
  return options;
}

const AUTH = `Basic ${Buffer.from(`${SIM_ACCOUNT.accountSid}:${SIM_ACCOUNT.authToken}`).toString('base64')}`;

/** One Events API request (form-encoded, as Twilio's clients send); its JSON answer, or an error naming the refusal. */
async function eventsApi(simUrl, method, path, pairs) {
  const init = { method, headers: { authorization: AUTH } };
  if (pairs) {
    init.headers['content-type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams(pairs).toString();
  }
  const res = await fetch(`${simUrl}${path}`, init);
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch { /* keep the text */ }
  if (!res.ok) throw new Error(`Events API ${method} ${path} answered ${res.status}: ${text}`);
  return body;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Sets up Event Streams to `backendUrl` and returns the sink's and the
 * subscription's SIDs. `sim` is the control client (for the test event's id,
 * which a real administrator reads at the receiving end).
 */
export async function setUpEventStreams({ sim, simUrl, backendUrl, eventStreams, log = () => {} }) {
  // Twilio's own test event is delivered as usual; the options are for what follows.
  await sim.putEventStreams({});
  const destination = `${backendUrl}${SINK_PATH}`;
  const sink = await eventsApi(simUrl, 'POST', '/v1/Sinks', [
    ['Description', 'recording backend safety net'],
    ['SinkType', 'webhook'],
    ['SinkConfiguration', JSON.stringify({ destination, method: 'POST', batch_events: true })],
  ]);
  await eventsApi(simUrl, 'POST', `/v1/Sinks/${sink.sid}/Test`, []);
  let testId = null;
  for (let i = 0; i < 100 && !testId; i += 1) {
    const state = await sim.state();
    testId = (state.eventStreams?.sinks || []).find((s) => s.sid === sink.sid)?.testId || null;
    if (!testId) await sleep(20);
  }
  if (!testId) throw new Error(`sink ${sink.sid}: no test event was sent`);
  await eventsApi(simUrl, 'POST', `/v1/Sinks/${sink.sid}/Validate`, [['TestId', testId]]);
  const subscription = await eventsApi(simUrl, 'POST', '/v1/Subscriptions', [
    ['Description', 'TaskRouter events for the recording safety net'],
    ['SinkSid', sink.sid],
    ...TASKROUTER_EVENT_TYPES.map((type) => ['Types', JSON.stringify({ type, schema_version: SCHEMA_VERSION })]),
  ]);
  await sim.putEventStreams(deliveryOptions(eventStreams));
  log(`event streams: sink ${sink.sid} -> ${destination}, subscription ${subscription.sid}, delivery ${JSON.stringify(deliveryOptions(eventStreams))}`);
  return { sinkSid: sink.sid, subscriptionSid: subscription.sid };
}

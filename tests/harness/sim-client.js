// Client of the Twilio simulator's control API (docs/CONTRACTS.md, `/_sim/...`).
// Plain ES module using only fetch: used by the replay runner, the browser
// test and the demo page.

export class SimError extends Error {
  constructor(method, path, status, body) {
    super(`twilio-sim ${method} ${path} answered ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`);
    this.status = status;
    this.body = body;
  }
}

export function createSimClient(baseUrl, { fetchImpl } = {}) {
  const base = baseUrl.replace(/\/$/, '');
  const doFetch = fetchImpl || ((...args) => fetch(...args));

  async function request(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await doFetch(base + path, init);
    const text = await res.text();
    let parsed = text;
    if (text) {
      try { parsed = JSON.parse(text); } catch { /* keep the text */ }
    } else {
      parsed = null;
    }
    if (!res.ok) throw new SimError(method, path, res.status, parsed);
    return parsed;
  }

  const enc = encodeURIComponent;
  return {
    baseUrl: base,
    request,
    reset: () => request('POST', '/_sim/reset'),
    state: () => request('GET', '/_sim/state'),
    log: () => request('GET', '/_sim/log'),
    registerToken: ({ token, workerSid, identity, valid = true, expiresInSec = 3600, roles = ['agent'] }) =>
      request('POST', '/_sim/tokens', { token, workerSid, identity, valid, expiresInSec, roles }),
    upsertCall: ({ callSid, status = 'in-progress', from, to }) =>
      request('POST', '/_sim/calls', { callSid, status, from, to }),
    endCall: (callSid) => request('POST', `/_sim/calls/${enc(callSid)}/end`),
    /** `extra` (optional, the simulator's own fields): queueName, queueSid, channel, assignmentStatus. */
    putTask: (taskSid, attributes, extra = {}) => {
      const body = { attributes };
      for (const k of ['queueName', 'queueSid', 'channel', 'assignmentStatus']) if (extra[k] !== undefined) body[k] = extra[k];
      return request('PUT', `/_sim/tasks/${enc(taskSid)}`, body);
    },
    /** The Flex configuration the backend reads its policy from: `feature` at `custom_data.features.dual_channel_recording`. */
    putRecordingFeature: (feature, callRecordingEnabled = false) =>
      request('PUT', '/_sim/configuration', {
        uiAttributes: { custom_data: { features: { dual_channel_recording: feature } } },
        callRecordingEnabled,
      }),
    /** What a task's accept ended with (`conferenceRecord`: true, false, null for unset): Flex's own conference recording follows it. */
    putAcceptOptions: (taskSid, conferenceRecord) =>
      request('PUT', `/_sim/tasks/${enc(taskSid)}/accept`, { conferenceRecord: conferenceRecord ?? null }),
    /** The worker's TaskRouter attributes, as `GET /v1/Workspaces/{WS}/Workers/{WK}` shows them. */
    putWorker: (workerSid, attributes) => request('PUT', `/_sim/workers/${enc(workerSid)}`, { attributes }),
    upsertReservation: ({ taskSid, reservationSid, workerSid, status = 'accepted' }) =>
      request('POST', '/_sim/reservations', { taskSid, reservationSid, workerSid, status }),
    deleteReservation: (reservationSid) => request('DELETE', `/_sim/reservations/${enc(reservationSid)}`),
    /** TaskRouter's lifecycle: `wrapping` (the call ended) or `completed`; the task's assignment status follows. */
    setReservationStatus: (reservationSid, status) =>
      request('POST', `/_sim/reservations/${enc(reservationSid)}/status`, { status }),
    putConference: (conferenceSid, { taskSid, participants }) =>
      request('PUT', `/_sim/conferences/${enc(conferenceSid)}`, { taskSid, participants }),
    fault: (fault) => request('POST', '/_sim/faults', fault),
    /** The Flex configuration the backend reads (`GET /v1/Configuration`). */
    putFlexConfiguration: ({ uiAttributes, callRecordingEnabled }) =>
      request('PUT', '/_sim/configuration', { uiAttributes, callRecordingEnabled }),
  };
}

/** The Insights URL of a recording, as `$recordingUrl(...)` in scenarios means it. */
export function recordingUrl(accountSid, recordingSid) {
  return `https://api.twilio.com/2010-04-01/Accounts/${accountSid}/Recordings/${recordingSid}`;
}

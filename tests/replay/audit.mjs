// What the runner asks the backend itself: its audit (the expect key
// `unrecorded`) and whether a safety-net check is still pending (settling).

import { AUDIT_TOKEN } from '../harness/processes.mjs';

/** The gauge the backend keeps of its safety-net checks not yet done. */
export const SAFETY_NET_GAUGE = 'recording_backend_safety_net_pending';

/**
 * The sum of `gauge` over every series in a Prometheus text exposition
 * (absent: 0).
 */
export function gaugeValue(text, gauge = SAFETY_NET_GAUGE) {
  let sum = 0;
  for (const line of String(text).split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line.trim());
    if (!m || m[1] !== gauge) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/**
 * Safety-net checks pending over the backends at `urls` (each replica asked
 * on its own address); a backend that does not answer has none.
 */
export async function safetyNetPending(urls) {
  let total = 0;
  for (const url of urls) {
    try {
      const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) total += gaugeValue(await res.text());
    } catch { /* down or gone: nothing pending there */ }
  }
  return total;
}

/**
 * `GET /audit?from&to` with the bearer token the harness gives every
 * backend: `{from, to, store, unrecorded: [{taskSid, reason}], excluded, recorded}`.
 */
export async function fetchAudit(backendUrl, from, to) {
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  const res = await fetch(`${backendUrl}/audit?${q}`, {
    headers: { authorization: `Bearer ${AUDIT_TOKEN}`, accept: 'application/json' },
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`the backend's audit answered ${res.status}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`the backend's audit answered text that is not JSON: ${text.slice(0, 200)}`);
  }
}

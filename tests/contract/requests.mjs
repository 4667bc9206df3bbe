// The requests both contract tests send: Twilio's REST API with the
// simulator's account credentials, and the simulator's control API.

import assert from 'node:assert/strict';

import { createValidator } from './openapi.mjs';
import { contractSpecPath } from './prism.mjs';

export const AC = 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
export const AUTH = `Basic ${Buffer.from(`${AC}:sim-auth-token`).toString('base64')}`;

/** An API v2010 path of the account. */
export const v2010 = (p) => `/2010-04-01/Accounts/${AC}${p}`;

/** A `/_sim` control request; anything but 2xx fails the test. */
export async function control(sim, method, path, body) {
  const res = await fetch(`${sim.url}/_sim${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `control ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** `form` is an object, or a list of [key, value] pairs for repeated keys. */
export async function twilio(base, method, path, { form, json, headers = {}, auth = true } = {}) {
  const h = { ...headers };
  if (auth) h.authorization = AUTH;
  let body;
  if (form) {
    h['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  } else if (json) {
    h['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const res = await fetch(`${base}${path}`, { method, headers: h, body });
  const text = await res.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
  return { status: res.status, headers: res.headers, body: parsed };
}

/**
 * The simulator's request log holds every exchange of `kinds` (`METHOD path
 * status`, SIDs as `{sid}`), and every answer in it matches Twilio's response
 * schemas.
 */
export async function assertLogMatchesSchemas(sim, kinds) {
  const { validateExchange } = createValidator(contractSpecPath());
  const log = await control(sim, 'GET', '/log');
  const seen = new Set(log.map((e) => `${e.method} ${e.path.replace(/[A-Z]{2}[0-9a-f]{32}/g, '{sid}')} ${e.status}`));
  for (const kind of kinds) {
    assert.ok(seen.has(kind), `log holds ${kind}; it has ${[...seen].join(', ')}`);
  }
  const failures = log.flatMap((e) => validateExchange(e).map((m) => `#${e.seq} ${m}`));
  assert.deepEqual(failures, []);
}

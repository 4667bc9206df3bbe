// The contract check of `replay.mjs --via-prism` bites: a request prism
// refuses, an answer that breaks Twilio's schema, and a Twilio request that
// went around prism each fail it with a line naming the request.
//
// Needs the simulator binary (cargo build -p twilio-sim) and prism (npm ci).
// Run: node --test tests/contract/

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createSimClient } from '../harness/sim-client.js';
import { startSim } from '../harness/processes.mjs';
import { createContractCheck, parsePrismOutput, startContractProxy } from './via-prism.mjs';

const AC = 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const AUTH = `Basic ${Buffer.from(`${AC}:sim-auth-token`).toString('base64')}`;
const CA = 'CA11111111111111111111111111111111';
const recordings = (call) => `/2010-04-01/Accounts/${AC}/Calls/${call}/Recordings.json`;

const stubSim = (log) => ({ log: async () => log });

describe('replay --via-prism contract check', () => {
  let sim;
  let simClient;
  let prism;

  before(async () => {
    sim = await startSim({});
    simClient = createSimClient(sim.url);
    prism = await startContractProxy({ simUrl: sim.url });
  });
  after(async () => {
    await prism?.stop();
    await sim?.stop();
  });

  const post = (path, body) => fetch(`${prism.url}${path}`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });

  test('a request that reaches the simulator through prism, answered within the contract, passes', async () => {
    await simClient.reset();
    await simClient.upsertCall({ callSid: CA, status: 'in-progress', from: '+15550100001', to: '+15550199999' });
    const check = createContractCheck(prism);
    check.begin();
    const res = await post(recordings(CA), 'RecordingChannels=dual');
    assert.equal(res.status, 201, await res.text());
    const result = await check.check(simClient);
    assert.deepEqual(result.lines, []);
    assert.equal(result.viaPrism, 1);
  });

  test('a request prism refuses (422) is reported with its method, path and prism\'s reason', async () => {
    await simClient.reset();
    const check = createContractCheck(prism);
    check.begin();
    const res = await post(recordings('CA-not-a-call-sid'), 'RecordingChannels=dual');
    assert.equal(res.status, 422);
    const result = await check.check(simClient);
    assert.equal(result.exchanges, 0, 'it never reached the simulator');
    assert.ok(
      result.lines.some((l) => l.startsWith(`prism refused POST ${recordings('CA-not-a-call-sid')}`) && /UNPROCESSABLE_ENTITY/.test(l)),
      result.lines.join('\n'),
    );
  });

  test('an answer that breaks the response schema is reported with the request and the schema error', async () => {
    const check = createContractCheck(prism);
    check.begin();
    const bad = {
      seq: 7, method: 'POST', path: recordings(CA), status: 201, responseBody: { sid: 'not-a-recording-sid' },
    };
    // Nothing went through prism, and the log claims one request did: two lines.
    const result = await check.check(stubSim([bad]));
    assert.ok(result.lines.some((l) => l.startsWith(`answer #7 to POST ${recordings(CA)} (201) breaks the contract:`) && /sid must match pattern/.test(l)), result.lines.join('\n'));
    assert.ok(result.lines.some((l) => /bypassed prism/.test(l)), result.lines.join('\n'));
    assert.equal(check.totals.failures, result.lines.length);
  });

  test('the token check may go straight to the simulator, and its answer is still validated', async () => {
    const check = createContractCheck(prism);
    check.begin();
    const path = `/v1/Accounts/${AC}/Tokens/validate`;
    const good = { seq: 1, method: 'POST', path, status: 200, responseBody: { valid: false, code: 20101, message: 'Invalid Access Token' } };
    assert.deepEqual((await check.check(stubSim([good]))).lines, []);
    const broken = { ...good, responseBody: { valid: true, code: 0, message: null } };
    const lines = (await check.check(stubSim([broken]))).lines;
    assert.ok(lines.some((l) => /Tokens\/validate \(200\) breaks the contract/.test(l)), lines.join('\n'));
  });
});

test('parsePrismOutput reads prism 5 log lines, colours and all', () => {
  const text = [
    '[10:03:13 AM] \u001b[90m›\u001b[39m [HTTP SERVER] post /2010-04-01/Accounts/AC1/Calls/CA-bad/Recordings.json ℹ  info      Request received',
    '[10:03:13 AM] › [HTTP SERVER] post /2010-04-01/Accounts/AC1/Calls/CA-bad/Recordings.json ✖  error     Request terminated with error: https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY: Invalid request',
    '[10:03:13 AM] ›     [VALIDATOR] ✖  error     Violation: request.path.callsid Request path parameter callsid must match pattern "^CA[0-9a-fA-F]{32}$"',
    '[10:03:13 AM] › [HTTP SERVER] get /v1/Workspaces/WS1/Tasks/WT1 ℹ  info      Request received',
    '[10:03:13 AM] ›     [VALIDATOR] ⚠  warning   Violation: response Unable to match the returned status code with those defined in the document: 200,201',
  ].join('\n');
  const { received, refused } = parsePrismOutput(text);
  assert.deepEqual(received.map((r) => `${r.method} ${r.path}`), [
    'POST /2010-04-01/Accounts/AC1/Calls/CA-bad/Recordings.json',
    'GET /v1/Workspaces/WS1/Tasks/WT1',
  ]);
  assert.equal(refused.length, 1);
  assert.match(refused[0].why, /UNPROCESSABLE_ENTITY/);
  assert.deepEqual(refused[0].violations, ['request.path.callsid Request path parameter callsid must match pattern "^CA[0-9a-fA-F]{32}$"']);
});

// Contract test of Event Streams (events.twilio.com/v1): sinks, their test
// and validation, subscriptions. Requests go through `prism proxy --errors`
// where prism can read them (a subscription's repeated `Types` cannot be,
// stoplightio/prism#2473: that one goes straight to the simulator), and
// every answer the simulator gave, an absent recording's included, is
// validated against Twilio's response schemas.
//
// Needs the simulator binary (`cargo build -p twilio-sim`). Run:
// node --test tests/contract/events.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startPrism } from './prism.mjs';
import { assertLogMatchesSchemas, control, twilio, v2010 } from './requests.mjs';
import { freePort, startSim } from '../harness/processes.mjs';

const CA = 'CA19191919191919191919191919191919';

describe('Event Streams, through prism proxy --errors', () => {
  let sim;
  let prism;

  before(async () => {
    sim = await startSim();
    prism = await startPrism({ upstream: sim.url, port: await freePort() });
    await control(sim, 'POST', '/reset');
    await control(sim, 'POST', '/calls', { callSid: CA, status: 'in-progress' });
  });

  after(async () => {
    await prism?.stop();
    await sim?.stop();
  });

  test('a webhook sink is made, tested, validated, subscribed, listed and removed', async () => {
    const p = prism.url;
    // Deliveries go nowhere here (a closed port): only the API is checked.
    const config = JSON.stringify({ destination: 'http://127.0.0.1:9/twilio/event-streams', method: 'POST' });
    const sink = await twilio(p, 'POST', '/v1/Sinks', { form: { Description: 'backend', SinkType: 'webhook', SinkConfiguration: config } });
    assert.equal(sink.status, 201, JSON.stringify(sink.body));
    assert.equal(sink.body.status, 'initialized');
    const dg = sink.body.sid;
    const type = JSON.stringify({ type: 'com.twilio.taskrouter.reservation.accepted', schema_version: 4 });
    const early = await twilio(sim.url, 'POST', '/v1/Subscriptions', { form: [['Description', 'd'], ['SinkSid', dg], ['Types', type]] });
    assert.equal(early.status, 400, 'a sink not yet active takes no subscription');
    const tested = await twilio(p, 'POST', `/v1/Sinks/${dg}/Test`);
    assert.deepEqual([tested.status, tested.body], [201, { result: 'submitted' }]);
    const testId = (await control(sim, 'GET', '/state')).eventStreams.sinks[0].testId;
    const validated = await twilio(p, 'POST', `/v1/Sinks/${dg}/Validate`, { form: { TestId: testId } });
    assert.deepEqual([validated.status, validated.body], [201, { result: 'valid' }]);
    const sub = await twilio(sim.url, 'POST', '/v1/Subscriptions', { form: [['Description', 'TaskRouter'], ['SinkSid', dg], ['Types', type]] });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    const df = sub.body.sid;
    const calls = [
      ['GET', `/v1/Sinks/${dg}`, undefined, 200],
      ['GET', '/v1/Sinks?InUse=true&PageSize=20', undefined, 200],
      ['POST', `/v1/Sinks/${dg}`, { Description: 'renamed' }, 200],
      ['GET', `/v1/Subscriptions?SinkSid=${dg}`, undefined, 200],
      ['GET', `/v1/Subscriptions/${df}`, undefined, 200],
      ['POST', `/v1/Subscriptions/${df}`, { Description: 'renamed' }, 200],
      ['GET', '/v1/Sinks/DG00000000000000000000000000000000', undefined, 404],
      ['DELETE', `/v1/Subscriptions/${df}`, undefined, 204],
      ['DELETE', `/v1/Sinks/${dg}`, undefined, 204],
    ];
    for (const [method, path, form, status] of calls) {
      const res = await twilio(p, method, path, form ? { form } : {});
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
    }
  });

  test('a recording that fails shows as Twilio shows it: absent, with its error code', async () => {
    await control(sim, 'POST', '/faults', { failRecording: { callSid: CA, status: 'failed' } });
    const created = await twilio(prism.url, 'POST', v2010(`/Calls/${CA}/Recordings.json`), { form: { RecordingChannels: 'dual' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await new Promise((r) => setTimeout(r, 700));
    const fetched = await twilio(prism.url, 'GET', v2010(`/Calls/${CA}/Recordings/${created.body.sid}.json`));
    assert.equal(fetched.body.status, 'absent');
    assert.equal(fetched.body.error_code, 16105);
  });

  test('every answer in the simulator log matches Twilio\'s response schemas', async () => {
    await assertLogMatchesSchemas(sim, [
      'POST /v1/Sinks 201',
      'POST /v1/Sinks/{sid}/Test 201',
      'POST /v1/Sinks/{sid}/Validate 201',
      'POST /v1/Subscriptions 201',
      'POST /v1/Subscriptions 400',
      'GET /v1/Sinks/{sid} 200',
      'GET /v1/Sinks 200',
      'POST /v1/Sinks/{sid} 200',
      'GET /v1/Subscriptions 200',
      'GET /v1/Subscriptions/{sid} 200',
      'POST /v1/Subscriptions/{sid} 200',
      'GET /v1/Sinks/{sid} 404',
      'DELETE /v1/Subscriptions/{sid} 204',
      'DELETE /v1/Sinks/{sid} 204',
      'GET /2010-04-01/Accounts/{sid}/Calls/{sid}/Recordings/{sid}.json 200',
    ]);
  });
});

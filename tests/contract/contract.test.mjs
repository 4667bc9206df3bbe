// Contract test: the simulator behind `prism proxy --errors`, so every request
// is checked against Twilio's published OpenAPI description, and every answer
// the simulator gave is then validated against the response schemas too
// (Prism does not check answers).
//
// Needs the simulator binary: `cargo build -p twilio-sim` first, or point
// TWILIO_SIM_BIN at one. Run: node --test tests/contract/

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { createValidator } from './openapi.mjs';
import { contractSpecPath, startPrism } from './prism.mjs';
import { AC, assertLogMatchesSchemas, control, twilio, v2010 } from './requests.mjs';
import { freePort, startSim } from '../harness/processes.mjs';

const WS = 'WSaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const CA = 'CA11111111111111111111111111111111';
const CA_AGENT = 'CA22222222222222222222222222222222';
const CA_ENDED = 'CA33333333333333333333333333333333';
const CA_UNKNOWN = 'CA0000000000000000000000000000dead';
const CF = 'CF11111111111111111111111111111111';
const WT = 'WT11111111111111111111111111111111';
const WR = 'WR11111111111111111111111111111111';
const WK = 'WK11111111111111111111111111111111';
const TOKEN = 'flex-token-for-contract-test';

const SPEC = contractSpecPath();

const tr = (p) => `/v1/Workspaces/${WS}${p}`;

describe('Twilio contract, through prism proxy --errors', () => {
  let sim;
  let prism;

  before(async () => {
    sim = await startSim();
    prism = await startPrism({ upstream: sim.url, port: await freePort() });
    await control(sim, 'POST', '/reset');
    await control(sim, 'POST', '/tokens', { token: TOKEN, workerSid: WK, identity: 'alice', valid: true, expiresInSec: 3600, roles: ['agent'] });
    await control(sim, 'POST', '/calls', { callSid: CA, status: 'in-progress', from: '+15551230000', to: '+15559870000' });
    await control(sim, 'POST', '/calls', { callSid: CA_AGENT, status: 'in-progress', from: '+15551230000', to: 'client:alice' });
    await control(sim, 'POST', '/calls', { callSid: CA_ENDED, status: 'completed', from: '+15551230000', to: '+15559870000' });
    await control(sim, 'PUT', `/tasks/${WT}`, { attributes: { call_sid: CA, conference: { sid: CF } } });
    await control(sim, 'POST', '/reservations', { taskSid: WT, reservationSid: WR, workerSid: WK, status: 'accepted' });
    await control(sim, 'PUT', `/conferences/${CF}`, {
      taskSid: WT,
      participants: [
        { callSid: CA, participantType: 'customer', status: 'joined' },
        { callSid: CA_AGENT, participantType: 'worker', status: 'joined', workerSid: WK, reservationSid: WR },
        { callSid: CA_ENDED, participantType: 'transfer', status: 'left' },
      ],
    });
  });

  after(async () => {
    await prism?.stop();
    await sim?.stop();
  });

  test('prism lets every request the backend makes through, and the simulator answers it', async () => {
    const p = prism.url;
    const created = await twilio(p, 'POST', v2010(`/Calls/${CA}/Recordings.json`), {
      form: {
        RecordingChannels: 'dual',
        RecordingTrack: 'both',
        RecordingStatusCallback: 'https://example.com/recording-status',
        Trim: 'do-not-trim',
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.sid, /^RE[0-9a-fA-F]{32}$/);
    assert.equal(created.body.channels, 2);

    const list = await twilio(p, 'GET', v2010(`/Calls/${CA}/Recordings.json?PageSize=50`));
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.recordings.map((r) => r.sid), [created.body.sid]);

    const call = await twilio(p, 'GET', v2010(`/Calls/${CA}.json`));
    assert.equal(call.status, 200, JSON.stringify(call.body));
    assert.equal(call.body.to, '+15559870000');

    const participant = await twilio(p, 'GET', v2010(`/Conferences/${CF}/Participants/${CA_AGENT}.json`));
    assert.equal(participant.status, 200, JSON.stringify(participant.body));

    const task = await twilio(p, 'GET', tr(`/Tasks/${WT}`));
    assert.equal(task.status, 200, JSON.stringify(task.body));
    assert.equal(typeof task.body.attributes, 'string');
    const etag = task.headers.get('etag');
    assert.ok(etag, 'task answer carries an ETag');

    const attributes = { ...JSON.parse(task.body.attributes), conversations: { media: [{ type: 'VoiceRecording' }] } };
    const updated = await twilio(p, 'POST', tr(`/Tasks/${WT}`), {
      form: { Attributes: JSON.stringify(attributes) },
      headers: { 'if-match': etag },
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.deepEqual(JSON.parse(updated.body.attributes), attributes);

    const stale = await twilio(p, 'POST', tr(`/Tasks/${WT}`), {
      form: { Attributes: '{}' },
      headers: { 'if-match': etag },
    });
    assert.equal(stale.status, 412, JSON.stringify(stale.body));

    const reservations = await twilio(p, 'GET', tr(`/Tasks/${WT}/Reservations?WorkerSid=${WK}&ReservationStatus=accepted`));
    assert.equal(reservations.status, 200, JSON.stringify(reservations.body));
    assert.deepEqual(reservations.body.reservations.map((r) => r.sid), [WR]);

    // The worker's attributes (where the template keeps `config_overrides`).
    await control(sim, 'PUT', `/workers/${WK}`, { attributes: { config_overrides: { dual_channel_recording: { enabled: false } } } });
    const worker = await twilio(p, 'GET', tr(`/Workers/${WK}`));
    assert.equal(worker.status, 200, JSON.stringify(worker.body));
    assert.deepEqual(JSON.parse(worker.body.attributes), { config_overrides: { dual_channel_recording: { enabled: false } } });

    const reservation = await twilio(p, 'GET', tr(`/Tasks/${WT}/Reservations/${WR}`));
    assert.equal(reservation.status, 200, JSON.stringify(reservation.body));
    assert.equal(reservation.body.sid, WR);
    assert.equal(reservation.body.worker_sid, WK);
    assert.equal(reservation.body.reservation_status, 'accepted');

    // Over TaskRouter's 4096 characters: refused with Twilio's error body, nothing changes.
    const tooLong = await twilio(p, 'POST', tr(`/Tasks/${WT}`), {
      form: { Attributes: JSON.stringify({ notes: 'x'.repeat(4100) }) },
    });
    assert.equal(tooLong.status, 400, JSON.stringify(tooLong.body));
    assert.equal(typeof tooLong.body.code, 'number');

    // The Flex configuration the backend reads its recording policy from.
    const feature = { enabled: true, channel: 'customer', exclude_queues: ['Sales'] };
    await control(sim, 'PUT', '/configuration', { uiAttributes: { custom_data: { features: { dual_channel_recording: feature } } }, callRecordingEnabled: true });
    const configuration = await twilio(p, 'GET', '/v1/Configuration');
    assert.equal(configuration.status, 200, JSON.stringify(configuration.body));
    assert.deepEqual(configuration.body.ui_attributes.custom_data.features.dual_channel_recording, feature);
    assert.equal(configuration.body.call_recording_enabled, true);

    // Error answers the backend must cope with go through prism as well.
    const notInProgress = await twilio(p, 'POST', v2010(`/Calls/${CA_ENDED}/Recordings.json`), { form: { RecordingChannels: 'dual' } });
    assert.equal(notInProgress.status, 400);
    assert.equal(notInProgress.body.code, 21220);
    const unknownCall = await twilio(p, 'POST', v2010(`/Calls/${CA_UNKNOWN}/Recordings.json`), { form: { RecordingChannels: 'dual' } });
    assert.equal(unknownCall.status, 404);
    const left = await twilio(p, 'GET', v2010(`/Conferences/${CF}/Participants/${CA_ENDED}.json`));
    assert.equal(left.status, 404);

    // Twilio's clients send list parameters as repeated keys, which prism
    // 5.16 cannot parse (see the canary test below): straight to the simulator.
    const withEvents = await twilio(sim.url, 'POST', v2010(`/Calls/${CA}/Recordings.json`), {
      form: [
        ['RecordingChannels', 'dual'],
        ['RecordingStatusCallback', 'https://example.com/recording-status'],
        ['RecordingStatusCallbackEvent', 'in-progress'],
        ['RecordingStatusCallbackEvent', 'completed'],
      ],
    });
    assert.equal(withEvents.status, 201, JSON.stringify(withEvents.body));
    const state = await control(sim, 'GET', '/state');
    assert.deepEqual(state.recordings.at(-1).statusCallbackEvent, ['in-progress', 'completed']);

    // The token check is not in Twilio's OpenAPI files: straight to the simulator.
    const token = await twilio(sim.url, 'POST', `/v1/Accounts/${AC}/Tokens/validate`, { json: { token: TOKEN } });
    assert.equal(token.status, 200);
    assert.equal(token.body.valid, true);
    assert.equal(token.body.worker_sid, WK);
    const badToken = await twilio(sim.url, 'POST', `/v1/Accounts/${AC}/Tokens/validate`, { json: { token: 'forged' } });
    assert.equal(badToken.body.valid, false);
  });

  test('prism refuses requests that break the contract before they reach the simulator', async () => {
    const before = (await control(sim, 'GET', '/log')).length;
    const badSid = await twilio(prism.url, 'POST', v2010('/Calls/CA-not-a-call-sid/Recordings.json'), { form: { RecordingChannels: 'dual' } });
    assert.equal(badSid.status, 422, JSON.stringify(badSid.body));
    const badStatus = await twilio(prism.url, 'GET', tr(`/Tasks/${WT}/Reservations?ReservationStatus=happy`));
    assert.equal(badStatus.status, 422, JSON.stringify(badStatus.body));
    const noAuth = await twilio(prism.url, 'GET', tr(`/Tasks/${WT}`), { auth: false });
    assert.equal(noAuth.status, 401);
    const after = (await control(sim, 'GET', '/log')).length;
    assert.equal(after, before, 'none of them was forwarded');
  });

  test('canary: prism 5.16 still refuses repeated form keys for an array (stoplightio/prism#2473)', async () => {
    // When this starts failing, prism understands Twilio's list encoding and
    // the create with RecordingStatusCallbackEvent above can go through it.
    const res = await twilio(prism.url, 'POST', v2010(`/Calls/${CA}/Recordings.json`), {
      form: [['RecordingStatusCallbackEvent', 'in-progress'], ['RecordingStatusCallbackEvent', 'completed']],
    });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(JSON.stringify(res.body), /RecordingStatusCallbackEvent must be array/);
  });

  test('every answer in the simulator log matches Twilio\'s response schemas', async () => {
    await assertLogMatchesSchemas(sim, [
      'POST /2010-04-01/Accounts/{sid}/Calls/{sid}/Recordings.json 201',
      'GET /2010-04-01/Accounts/{sid}/Calls/{sid}/Recordings.json 200',
      'GET /2010-04-01/Accounts/{sid}/Calls/{sid}.json 200',
      'GET /2010-04-01/Accounts/{sid}/Conferences/{sid}/Participants/{sid}.json 200',
      'GET /v1/Workspaces/{sid}/Tasks/{sid} 200',
      'POST /v1/Workspaces/{sid}/Tasks/{sid} 200',
      'POST /v1/Workspaces/{sid}/Tasks/{sid} 412',
      'GET /v1/Workspaces/{sid}/Tasks/{sid}/Reservations 200',
      'GET /v1/Workspaces/{sid}/Tasks/{sid}/Reservations/{sid} 200',
      'GET /v1/Workspaces/{sid}/Workers/{sid} 200',
      'POST /v1/Workspaces/{sid}/Tasks/{sid} 400',
      'GET /v1/Configuration 200',
      'POST /v1/Accounts/{sid}/Tokens/validate 200',
    ]);
  });
});

describe('the answer validator bites', () => {
  const { validateExchange } = createValidator(SPEC);
  const recordingPath = v2010(`/Calls/${CA}/Recordings.json`);
  const good = {
    account_sid: AC, api_version: '2010-04-01', call_sid: CA, conference_sid: null,
    date_created: 'Wed, 25 Nov 2026 09:00:00 +0000', date_updated: 'Wed, 25 Nov 2026 09:00:00 +0000',
    start_time: 'Wed, 25 Nov 2026 09:00:00 +0000', duration: null,
    sid: 'RE11111111111111111111111111111111', price: null,
    uri: `/2010-04-01/Accounts/${AC}/Calls/${CA}/Recordings/RE11111111111111111111111111111111.json`,
    encryption_details: null, price_unit: 'USD', status: 'in-progress', channels: 2,
    source: 'StartCallRecordingAPI', error_code: null, track: 'both',
  };
  const check = (responseBody, status = 201, path = recordingPath, method = 'POST') =>
    validateExchange({ method, path, status, responseBody });

  test('a well-formed recording passes', () => {
    assert.deepEqual(check(good), []);
  });

  const broken = [
    ['a recording SID that is not one', { sid: 'not-a-recording-sid' }, /sid must match pattern/],
    ['an ISO date where API v2010 writes RFC 2822', { start_time: '2026-11-25T09:00:00Z' }, /start_time must match format "date-time-rfc-2822"/],
    ['an RFC 2822 date with the wrong weekday', { date_created: 'Mon, 25 Nov 2026 09:00:00 +0000' }, /date_created must match format/],
    ['a status outside the enum', { status: 'recording' }, /status must be equal to one of the allowed values/],
    ['channels as text', { channels: 'dual' }, /channels must be integer/],
    ['null where the field is not nullable', { channels: null }, /channels must be integer/],
    ['a missing field', { track: undefined }, /must have required property 'track'/],
  ];
  for (const [what, change, expected] of broken) {
    test(`it rejects ${what}`, () => {
      const body = JSON.parse(JSON.stringify({ ...good, ...change }));
      const errors = check(body);
      assert.ok(errors.some((e) => expected.test(e)), errors.join('\n') || 'no error reported');
    });
  }

  test('it rejects task attributes as an object instead of a JSON string', () => {
    const errors = validateExchange({ method: 'GET', path: tr(`/Tasks/${WT}`), status: 200, responseBody: { attributes: { a: 1 } } });
    assert.ok(errors.some((e) => /attributes must be string/.test(e)), errors.join('\n'));
  });

  test('it rejects an error answer that is not Twilio\'s error body', () => {
    assert.deepEqual(check({ code: 21220, message: 'Call is not in-progress. Cannot create recording.', more_info: 'https://www.twilio.com/docs/errors/21220', status: 400 }, 400), []);
    assert.notDeepEqual(check({ error: 'nope' }, 400), []);
    assert.notDeepEqual(check({ code: 20404, message: 'x', more_info: 'https://www.twilio.com/docs/errors/20404', status: 400 }, 404), []);
  });

  test('it rejects paths and statuses outside the contract', () => {
    assert.match(validateExchange({ method: 'GET', path: '/2010-04-01/Accounts/AC1/Messages.json', status: 200, responseBody: {} })[0], /not in the contract/);
    assert.match(check(good, 202)[0], /status 202 not in the contract/);
    assert.match(check(good, 200, recordingPath, 'PUT')[0], /method not in the contract/);
  });

  test('it checks the token check against the documented answer', () => {
    const path = `/v1/Accounts/${AC}/Tokens/validate`;
    const ok = { valid: true, code: 0, message: null, expiration: '2026-11-25T10:00:00.000Z', realm_user_id: 'alice', identity: 'alice', roles: ['agent'], worker_sid: WK };
    assert.deepEqual(validateExchange({ method: 'POST', path, status: 200, responseBody: ok }), []);
    assert.deepEqual(validateExchange({ method: 'POST', path, status: 200, responseBody: { valid: false, code: 20101, message: 'Invalid Access Token' } }), []);
    assert.notDeepEqual(validateExchange({ method: 'POST', path, status: 200, responseBody: { ...ok, worker_sid: undefined } }), []);
    assert.notDeepEqual(validateExchange({ method: 'POST', path, status: 200, responseBody: { ...ok, roles: 'agent' } }), []);
    assert.notDeepEqual(validateExchange({ method: 'POST', path, status: 200, responseBody: { valid: false, code: 20101 } }), []);
  });

  test('it accepts Twilio\'s own examples from the spec', () => {
    const spec = JSON.parse(readFileSync(SPEC, 'utf8'));
    const failures = [];
    for (const [template, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const [status, resp] of Object.entries(op?.responses ?? {})) {
          for (const [name, example] of Object.entries(resp?.content?.['application/json']?.examples ?? {})) {
            const path = template.replace(/\{[^}]+\}/g, 'XX');
            const errors = validateExchange({ method: method.toUpperCase(), path, status: Number(status), responseBody: example.value })
              // Twilio's examples write the recording price as a string
              // ("-0.0025") where its schema says number: a known mismatch
              // inside the spec itself, not a fault of the validator.
              .filter((e) => !/\/price must be number,null$/.test(e));
            failures.push(...errors.map((e) => `${name}: ${e}`));
          }
        }
      }
    }
    assert.deepEqual(failures, []);
  });
});

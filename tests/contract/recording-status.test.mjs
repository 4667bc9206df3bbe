// Contract test of recording status updates (pause, resume) on call and
// conference recordings, and of the conference recording list: requests go
// through `prism proxy --errors` (checked against Twilio's OpenAPI), and every
// answer the simulator gave is validated against the response schemas.
//
// Needs the simulator binary (`cargo build -p twilio-sim`). Run:
// node --test tests/contract/recording-status.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startPrism } from './prism.mjs';
import { assertLogMatchesSchemas, control, twilio, v2010 } from './requests.mjs';
import { freePort, startSim } from '../harness/processes.mjs';

const CA = 'CA14141414141414141414141414141414';
const CA_AGENT = 'CA14141414141414141414141414141415';
const CF = 'CF14141414141414141414141414141414';
const WT = 'WT14141414141414141414141414141414';
const WK = 'WK14141414141414141414141414141414';

describe('recording status updates, through prism proxy --errors', () => {
  let sim;
  let prism;

  before(async () => {
    sim = await startSim();
    prism = await startPrism({ upstream: sim.url, port: await freePort() });
    await control(sim, 'POST', '/reset');
    await control(sim, 'POST', '/calls', { callSid: CA, status: 'in-progress' });
    await control(sim, 'POST', '/calls', { callSid: CA_AGENT, status: 'in-progress', to: 'client:alice' });
    await control(sim, 'PUT', `/tasks/${WT}/accept`, { conferenceRecord: true });
    await control(sim, 'PUT', `/conferences/${CF}`, {
      taskSid: WT,
      participants: [
        { callSid: CA, participantType: 'customer', status: 'joined' },
        { callSid: CA_AGENT, participantType: 'worker', status: 'joined', workerSid: WK },
      ],
    });
  });

  after(async () => {
    await prism?.stop();
    await sim?.stop();
  });

  test('pause and resume a call recording and a conference recording by SID', async () => {
    const p = prism.url;
    const created = await twilio(p, 'POST', v2010(`/Calls/${CA}/Recordings.json`), { form: { RecordingChannels: 'dual' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const re = created.body.sid;
    const paused = await twilio(p, 'POST', v2010(`/Calls/${CA}/Recordings/${re}.json`), { form: { Status: 'paused', PauseBehavior: 'skip' } });
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    assert.equal(paused.body.status, 'paused');
    const fetched = await twilio(p, 'GET', v2010(`/Calls/${CA}/Recordings/${re}.json`));
    assert.equal(fetched.body.status, 'paused');
    const resumed = await twilio(p, 'POST', v2010(`/Calls/${CA}/Recordings/${re}.json`), { form: { Status: 'in-progress' } });
    assert.equal(resumed.body.status, 'in-progress');

    const list = await twilio(p, 'GET', v2010(`/Conferences/${CF}/Recordings.json?PageSize=20`));
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.recordings.length, 1);
    const cre = list.body.recordings[0].sid;
    const cpaused = await twilio(p, 'POST', v2010(`/Conferences/${CF}/Recordings/${cre}.json`), { form: { Status: 'paused', PauseBehavior: 'silence' } });
    assert.equal(cpaused.status, 200, JSON.stringify(cpaused.body));
    assert.equal(cpaused.body.status, 'paused');
    const cfetched = await twilio(p, 'GET', v2010(`/Conferences/${CF}/Recordings/${cre}.json`));
    assert.equal(cfetched.body.status, 'paused');

    // Errors go through prism too: a stopped recording cannot resume.
    await twilio(p, 'POST', v2010(`/Calls/${CA}/Recordings/${re}.json`), { form: { Status: 'stopped' } });
    const late = await twilio(p, 'POST', v2010(`/Calls/${CA}/Recordings/${re}.json`), { form: { Status: 'in-progress' } });
    assert.equal(late.status, 400);
    assert.equal(late.body.code, 21220);
    const unknown = await twilio(p, 'POST', v2010(`/Calls/${CA}/Recordings/RE0000000000000000000000000000dead.json`), { form: { Status: 'paused' } });
    assert.equal(unknown.status, 404);
  });

  test('every answer in the simulator log matches Twilio\'s response schemas', async () => {
    await assertLogMatchesSchemas(sim, [
      'POST /2010-04-01/Accounts/{sid}/Calls/{sid}/Recordings/{sid}.json 200',
      'GET /2010-04-01/Accounts/{sid}/Calls/{sid}/Recordings/{sid}.json 200',
      'POST /2010-04-01/Accounts/{sid}/Calls/{sid}/Recordings/{sid}.json 400',
      'GET /2010-04-01/Accounts/{sid}/Conferences/{sid}/Recordings.json 200',
      'POST /2010-04-01/Accounts/{sid}/Conferences/{sid}/Recordings/{sid}.json 200',
      'GET /2010-04-01/Accounts/{sid}/Conferences/{sid}/Recordings/{sid}.json 200',
    ]);
  });
});

// node --test tests/replay/expect.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkExpect, diffJson, formatSchemaErrors, matchSubset, stepKind } from './expect.mjs';
import { loadValidator } from './scenario.mjs';

const AC = 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const C1 = 'CA000000000000000000000000000000c1';
const C2 = 'CA000000000000000000000000000000c2';
const C3 = 'CA000000000000000000000000000000c3';
const RE1 = 'RE00000000000000000000000000000001';
const RE2 = 'RE00000000000000000000000000000002';
const RE3 = 'RE00000000000000000000000000000003';
const URL1 = `https://api.twilio.com/2010-04-01/Accounts/${AC}/Recordings/${RE1}`;
const WT1 = 'WT00000000000000000000000000000001';
const WT2 = 'WT00000000000000000000000000000002';

const urls = (callSid) => ({ urls: callSid === C1 ? [URL1] : [] });

const matchCases = [
  // [name, expected, actual, mismatch count, message fragment]
  ['equal scalars', 1, 1, 0],
  ['different scalars', 'a', 'b', 1, 'expected "a", found "b"'],
  ['no coercion between "1" and 1', '1', 1, 1, 'expected "1", found 1'],
  ['null equals null', null, null, 0],
  ['missing scalar', 'x', undefined, 1, 'found missing'],
  ['$any matches a string', '$any', 'whatever', 0],
  ['$any matches null (present)', '$any', null, 0],
  ['$any matches an object', '$any', { a: 1 }, 0],
  ['$any fails on missing', { k: '$any' }, {}, 1, 'k: expected a value ("$any"), found missing'],
  ['$recordingUrl matches', `$recordingUrl(${C1})`, URL1, 0],
  ['$recordingUrl wrong url', `$recordingUrl(${C1})`, 'https://example.com/x', 1, `expected ${URL1}`],
  ['$recordingUrl of a call without recording', `$recordingUrl(${C2})`, URL1, 1, `${C2} has no recording`],
  ['subset object', { a: 1 }, { a: 1, b: 2 }, 0],
  ['nested subset object', { a: { b: { c: true } } }, { a: { b: { c: true, d: 1 }, e: [] }, f: 0 }, 0],
  ['object expected, array found', { a: 1 }, [1], 1, 'expected an object, found array'],
  ['object key missing', { a: { b: 1 } }, { a: {} }, 1, 'a.b: expected 1, found missing'],
  ['arrays element by element', [1, { x: 2 }], [1, { x: 2, y: 3 }], 0],
  ['array length mismatch (longer)', [1], [1, 2], 1, 'expected an array of 1, found 2 elements'],
  ['array length mismatch (shorter)', [1, 2], [1], 1, 'expected an array of 2, found 1 elements'],
  ['array order matters', ['customer', 'others'], ['others', 'customer'], 2, '[0]: expected "customer", found "others"'],
  ['array expected, object found', [], {}, 1, 'expected an array of 0, found object'],
  ['array expected, missing', { media: [] }, {}, 1, 'media: expected an array of 0, found missing'],
  ['media entry', {
    conversations: { media: [{ type: 'VoiceRecording', url: `$recordingUrl(${C1})`, start_time: '$any', channels: ['customer', 'others'] }] },
  }, {
    call_sid: C1,
    conversations: { media: [{ type: 'VoiceRecording', url: URL1, start_time: 1700000000000, channels: ['customer', 'others'] }] },
  }, 0],
  ['media entry without start_time', {
    conversations: { media: [{ url: `$recordingUrl(${C1})`, start_time: '$any' }] },
  }, {
    conversations: { media: [{ url: URL1 }] },
  }, 1, 'conversations.media[0].start_time'],
];

for (const [name, expected, actual, count, fragment] of matchCases) {
  test(`matchSubset: ${name}`, () => {
    const got = matchSubset(expected, actual, urls);
    assert.equal(got.length, count, `mismatches: ${JSON.stringify(got)}`);
    if (fragment) assert.ok(got.some((m) => m.includes(fragment)), `no mismatch mentions ${JSON.stringify(fragment)}: ${JSON.stringify(got)}`);
  });
}

const state = {
  accountSid: AC,
  recordings: [
    { sid: RE1, callSid: C1, channels: 'dual', status: 'in-progress' },
    { sid: RE2, callSid: C2, channels: 'dual', status: 'completed' },
  ],
  tasks: {
    [WT1]: { sid: WT1, attributes: { call_sid: C1, conversations: { media: [{ url: URL1 }] } }, revision: 2 },
    [WT2]: { sid: WT2, attributes: { call_sid: C2, a: { b: [1, 2] } }, revision: 1 },
  },
};

const expectCases = [
  ['all listed recordings', { recordings: [{ callSid: C1, channels: 'dual' }, { callSid: C2 }] }, {}, []],
  ['missing recording', { recordings: [{ callSid: C1 }, { callSid: C2 }, { callSid: C3 }] }, {}, [`expected exactly 1 recording on ${C3}, found none`]],
  ['unexpected recording', { recordings: [{ callSid: C1 }] }, {}, [`expected no recording on ${C2}, found ${RE2} dual`]],
  ['none expected', { recordings: [] }, {}, [`expected no recording on ${C1}`, `expected no recording on ${C2}`]],
  ['wrong channels', { recordings: [{ callSid: C1, channels: 'mono' }, { callSid: C2 }] }, {}, ['expected channels mono, found dual']],
  ['two recordings on one call', { recordings: [{ callSid: C1 }] }, {
    state: { ...state, recordings: [state.recordings[0], { sid: RE3, callSid: C1, channels: 'dual' }] },
  }, [`expected exactly 1 recording on ${C1}, found 2`]],
  ['taskAttributes match', { taskAttributes: { [WT1]: { conversations: { media: [{ url: `$recordingUrl(${C1})` }] } } } }, {}, []],
  ['taskAttributes mismatch names task and path', { taskAttributes: { [WT2]: { a: { b: [1] } } } }, {}, [`taskAttributes ${WT2} a.b: expected an array of 1, found 2 elements`]],
  ['taskAttributes of an unknown task', { taskAttributes: { WT0000000000000000000000000000000f: {} } }, {}, ['is not in the simulator']],
  ['unchanged attributes', { unchangedAttributes: [WT2] }, { accepted: { [WT2]: { call_sid: C2, a: { b: [1, 2] } } } }, []],
  ['changed attributes', { unchangedAttributes: [WT1] }, { accepted: { [WT1]: { call_sid: C1 } } }, [`task ${WT1} changed: conversations: added`]],
  ['unchanged but never accepted', { unchangedAttributes: [WT1] }, {}, ['was never accepted']],
  ['notifications as a set', { notifications: ['PSDualChannelBroken'] }, { notifications: ['PSDualChannelBroken', 'PSDualChannelBroken'] }, []],
  ['no notifications expected', { notifications: [] }, { notifications: ['PSDualChannelBroken'] }, ['notifications: expected [], shown ["PSDualChannelBroken"]']],
  ['missing notification', { notifications: ['X'] }, { notifications: [] }, ['expected ["X"], shown []']],
  ['unknown expect key', { recordigns: [] }, {}, ['unknown expect key "recordigns"']],
  ['conferenceRecord true, false and unset', { conferenceRecord: { [WT1]: true, [WT2]: null } }, { conferenceRecords: { [WT1]: true, [WT2]: null } }, []],
  ['conferenceRecord false', { conferenceRecord: { [WT1]: false } }, { conferenceRecords: { [WT1]: false } }, []],
  ['conferenceRecord expected set, left unset', { conferenceRecord: { [WT1]: true } }, { conferenceRecords: { [WT1]: null } }, [`conferenceRecord ${WT1}: expected true, found null (left unset)`]],
  ['conferenceRecord expected unset, set', { conferenceRecord: { [WT1]: null } }, { conferenceRecords: { [WT1]: false } }, [`conferenceRecord ${WT1}: expected null (left unset), found false`]],
  ['conferenceRecord true is not "true"', { conferenceRecord: { [WT1]: true } }, { conferenceRecords: { [WT1]: 'true' } }, ['expected true, found "true"']],
  ['conferenceRecord of a task never accepted', { conferenceRecord: { [WT2]: true } }, { conferenceRecords: { [WT1]: true } }, [`task ${WT2} was never accepted`]],
  ['unrecorded: none, none reported', { unrecorded: [] }, { accepted: { [WT1]: {} }, audit: { unrecorded: [] } }, []],
  ['unrecorded: exactly the expected tasks', { unrecorded: [WT1] }, { accepted: { [WT1]: {}, [WT2]: {} }, audit: { unrecorded: [{ taskSid: WT1, reason: 'no recording started' }] } }, []],
  ['unrecorded: another scenario\'s task is not ours', { unrecorded: [] }, { accepted: { [WT1]: {} }, audit: { unrecorded: [{ taskSid: 'WT0000000000000000000000000000000f', reason: 'x' }] } }, []],
  ['unrecorded: a miss the audit did not see', { unrecorded: [WT1] }, { accepted: { [WT1]: {} }, audit: { unrecorded: [] } }, [`unrecorded: expected ["${WT1}"], the audit reports none`]],
  ['unrecorded: a miss not expected, with its reason', { unrecorded: [] }, { accepted: { [WT2]: {} }, audit: { unrecorded: [{ taskSid: WT2, reason: 'recording absent' }] } }, [`the audit reports ${WT2} (recording absent)`]],
  ['unrecorded: the audit could not be asked', { unrecorded: [] }, { audit: { error: 'the backend\'s audit answered 401: no' } }, ['unrecorded: the backend\'s audit answered 401']],
  ['unrecorded: an answer without the list', { unrecorded: [] }, { audit: { recorded: [] } }, ['has no "unrecorded" list']],
];

for (const [name, expect, observed, fragments] of expectCases) {
  test(`checkExpect: ${name}`, () => {
    const got = checkExpect(expect, { state, accepted: {}, notifications: [], ...observed });
    assert.equal(got.length, fragments.length, `failures: ${JSON.stringify(got)}`);
    for (const f of fragments) assert.ok(got.some((g) => g.includes(f)), `no failure mentions ${JSON.stringify(f)}: ${JSON.stringify(got)}`);
  });
}

test('diffJson: equal documents have no difference', () => {
  assert.deepEqual(diffJson({ a: [1, { b: null }] }, { a: [1, { b: null }] }), []);
});

test('diffJson: reports removed, added and changed paths', () => {
  const d = diffJson({ a: 1, b: 2, c: [1] }, { a: 1, c: [2], d: 3 });
  assert.deepEqual(d, ['b: removed (was 2)', 'c[0]: was 1, now 2', 'd: added 3']);
});

test('stepKind: known kinds, instance ignored', () => {
  assert.equal(stepKind({ wait: 5 }), 'wait');
  assert.equal(stepKind({ activeCall: null, instance: 'A' }), 'activeCall');
});

test('stepKind: unknown kind fails clearly', () => {
  assert.throws(() => stepKind({ ring: {} }), /unknown step kind "ring"/);
  assert.throws(() => stepKind({ instance: 'A' }), /exactly one kind/);
});

test('schema: the shared examples validate, a bad file fails with the schema message', async () => {
  const validate = await loadValidator();
  const good = {
    name: 'x', config: { anything: true }, steps: [{ wait: 1 }, { activeCall: null, instance: 'A' }], expect: { recordings: [] },
  };
  assert.equal(validate(good), true, formatSchemaErrors(validate.errors));
  const bad = { ...good, steps: [{ ring: 1 }] };
  assert.equal(validate(bad), false);
  assert.match(formatSchemaErrors(validate.errors), /\/steps\/0 must NOT have additional properties \("ring"\)/);
  const badSid = { ...good, steps: [{ endCall: 'CA123' }] };
  assert.equal(validate(badSid), false);
  assert.match(formatSchemaErrors(validate.errors), /\/steps\/0\/endCall must match pattern/);
  const badExpect = { ...good, expect: { recording: [] } };
  assert.equal(validate(badExpect), false);
  assert.match(formatSchemaErrors(validate.errors), /\/expect must NOT have additional properties \("recording"\)/);
});

test('schema: messages for steps without a kind, with two kinds, bad activeCall', async () => {
  const validate = await loadValidator();
  const base = { name: 'x', config: {}, expect: {} };
  assert.equal(validate({ ...base, steps: [{ instance: 'A' }] }), false);
  assert.match(formatSchemaErrors(validate.errors), /\/steps\/0 must have exactly one of: accept, conference/);
  assert.equal(validate({ ...base, steps: [{ wait: 1, endCall: 'CA000000000000000000000000000000c1' }] }), false);
  assert.match(formatSchemaErrors(validate.errors), /\/steps\/0 matches more than one alternative/);
  assert.equal(validate({ ...base, steps: [{ activeCall: 5 }] }), false);
  assert.match(formatSchemaErrors(validate.errors), /\/steps\/0\/activeCall must be (string|null)/);
  assert.equal(validate({ name: 'x', steps: [], expect: {} }), false);
  assert.match(formatSchemaErrors(validate.errors), /\/ must have required property 'config'/);
});

test('recordingStatus: the latest recording of a call, the conference\'s recording, absent', () => {
  const CF = 'CF00000000000000000000000000000001';
  const state = {
    recordings: [
      { sid: RE1, callSid: C1, status: 'completed' },
      { sid: RE2, callSid: C1, status: 'paused' },
      { sid: 'RE00000000000000000000000000000003', callSid: C2, status: 'in-progress' },
    ],
    conferenceRecordings: [{ sid: 'RE00000000000000000000000000000004', conferenceSid: CF, status: 'paused' }],
  };
  const cases = [
    [{ [C1]: 'paused' }, []],
    [{ [C1]: 'completed' }, [`recordingStatus ${C1}: expected completed, found paused`]],
    [{ [C2]: 'in-progress', [CF]: 'paused' }, []],
    [{ [C3]: 'absent' }, []],
    [{ [C3]: 'in-progress' }, [`recordingStatus ${C3}: expected in-progress, found absent`]],
    [{ CF00000000000000000000000000000009: 'absent' }, []],
  ];
  for (const [want, failures] of cases) {
    assert.deepEqual(checkExpect({ recordingStatus: want }, { state }), failures, JSON.stringify(want));
  }
  // A simulator without conference recordings: every conference is absent.
  assert.deepEqual(checkExpect({ recordingStatus: { [CF]: 'absent' } }, { state: { recordings: [] } }), []);
});

test('the action step is a known step kind', () => {
  assert.equal(stepKind({ action: { name: 'PauseDualChannelRecording', payload: {} }, instance: 'B' }), 'action');
});

// The shim's copies of Flex objects: attributes that cannot be turned into
// JSON reach the core as a marker with the reason, never as an empty string
// that would read as "no attributes" (issue 9: the core fails closed on it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { taskSnapshot } from '../src/feature/snapshots.js';

const base = {
  taskSid: 'WT00000000000000000000000000000001',
  sid: 'WR00000000000000000000000000000001',
  queueName: 'Sales',
  queueSid: 'WQ00000000000000000000000000000001',
  taskChannelUniqueName: 'voice',
  dateUpdated: new Date(1_700_000_000_000),
};

test('readable attributes travel as JSON text, without a marker', () => {
  const s = taskSnapshot(/** @type {any} */ ({ ...base, attributes: { direction: 'inbound' } }));
  assert.equal(s.attributes, '{"direction":"inbound"}');
  assert.equal('attributesUnreadable' in s, false);
  assert.equal(s.dateUpdated, 1_700_000_000_000);
});

test('attributes JSON.stringify cannot handle carry the reason', () => {
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  for (const attributes of [cyclic, { n: 10n }, { get x() { throw new Error('getter failed'); } }]) {
    const s = taskSnapshot(/** @type {any} */ ({ ...base, attributes }));
    assert.equal(s.attributes, '');
    assert.equal(typeof s.attributesUnreadable, 'string');
    assert.ok(s.attributesUnreadable.length > 0);
  }
});

test('attributes that are not an object are passed as they are, for the core to judge', () => {
  assert.equal(taskSnapshot(/** @type {any} */ ({ ...base, attributes: [1, 2] })).attributes, '[1,2]');
  assert.equal(taskSnapshot(/** @type {any} */ ({ ...base, attributes: 'text' })).attributes, '"text"');
  // Missing or null attributes are not an empty object: the core fails closed on them.
  assert.equal(taskSnapshot(/** @type {any} */ ({ ...base, attributes: undefined })).attributes, '');
  assert.equal(taskSnapshot(/** @type {any} */ ({ ...base, attributes: null })).attributes, 'null');
});

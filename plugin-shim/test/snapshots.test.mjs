// The shim's copies of Flex objects: a task's attributes reach the core as
// the object Flex holds, never copied or turned into JSON; the core reads
// values in place and fails closed on what it cannot read (src/wasm/lookup.rs,
// checked in tests/wasm_cases).
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

test('attributes travel as the object Flex holds', () => {
  const attributes = { direction: 'inbound' };
  const s = taskSnapshot(/** @type {any} */ ({ ...base, attributes }));
  assert.equal(s.attributes, attributes);
  assert.equal(s.dateUpdated, 1_700_000_000_000);
});

test('attributes JSON cannot hold are passed as they are, never read by the shim', () => {
  const cyclic = { a: 1 };
  cyclic.self = cyclic;
  for (const attributes of [cyclic, { n: 10n }, { get x() { throw new Error('getter failed'); } }, [1, 2], 'text', null, undefined]) {
    const s = taskSnapshot(/** @type {any} */ ({ ...base, attributes }));
    assert.equal(s.attributes, attributes);
  }
});

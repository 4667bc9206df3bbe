// node --test plugin-shim/test/logger.test.mjs
// The shim's logger: every line carries the feature's prefix at its level,
// and an expected failure of a pause or resume is a debug line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlFailureLevel, log } from '../src/feature/logger.js';

function named(name, message = 'nothing is being recorded on WT1') {
  const e = new Error(message);
  e.name = name;
  return e;
}

test('a failed pause or resume: debug when nothing is recorded any more, else a warning', () => {
  const cases = [
    ['the core found nothing recorded', named('NothingRecordedError'), 'debug'],
    ['any other error', new Error('not this worker\'s task'), 'warn'],
    ['an error named otherwise', named('TypeError'), 'warn'],
    ['not an Error, though it says so', { name: 'NothingRecordedError' }, 'warn'],
    ['nothing at all', undefined, 'warn'],
  ];
  for (const [what, error, level] of cases) assert.equal(controlFailureLevel(error), level, what);
});

test('each level goes to its console method, with the prefix', () => {
  const original = { ...console };
  const seen = [];
  for (const level of ['debug', 'info', 'warn', 'error']) console[level] = (...parts) => seen.push([level, ...parts]);
  try {
    const cases = [['debug', 'a'], ['info', 'b'], ['warn', 'c'], ['error', 'd']];
    for (const [level, text] of cases) log(level, text);
    assert.deepEqual(seen, cases.map(([level, text]) => [level, '[dual-channel-recording]', text]));
  } finally {
    Object.assign(console, original);
  }
});

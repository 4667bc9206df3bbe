// node --test plugin-shim/test/
// Values the shim and the Rust core both define stay equal. The shim needs
// these before the core has loaded (the accept waits for the core at most
// `accept_wait_ms`, read by the shim itself), so it cannot ask the core for
// them; each side keeps its constant and this test compares them, the Rust
// one read from its source.
//
// What only one side defines has one source already: the notification ids
// (src/strings.rs) reach the shim with each notification and in `pauseUi`;
// the action names (PAUSE_ACTION, RESUME_ACTION) exist only in the shim.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import * as feature from '../src/feature/index.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The value of `pub const NAME: T = value;` in a Rust file, as JS reads it. */
function rustConst(file, name) {
  const source = readFileSync(path.join(REPO, file), 'utf8');
  const m = new RegExp(`pub const ${name}: [^=]+= ([^;]+);`).exec(source);
  assert.ok(m, `${file}: no \`pub const ${name}\``);
  const literal = m[1].trim();
  if (/^"/.test(literal)) return JSON.parse(literal);
  assert.match(literal, /^[0-9_]+$/, `${file}: ${name} is not a string or integer literal`);
  return Number(literal.replaceAll('_', ''));
}

const SHARED = [
  ['FEATURE_KEY', 'src/config.rs'],
  ['OWN_BLOCK', 'src/config.rs'],
  ['DEFAULT_ACCEPT_WAIT_MS', 'src/config.rs'],
  ['MAX_ACCEPT_WAIT_MS', 'src/config.rs'],
];

for (const [name, file] of SHARED) {
  test(`${name}: the shim's equals ${file}'s`, () => {
    assert.ok(name in feature, `plugin-shim/src/feature/index.js exports no ${name}`);
    assert.equal(feature[name], rustConst(file, name));
  });
}

// node --test plugin-shim/test/
// The size budget of each bundle a user can ship (bench/size.mjs's
// BUNDLE_BUDGETS), gzipped as bench/size.mjs measures (node's zlib, level
// 9): a change that makes the plugin a heavier download for every agent
// fails here, not in a benchmark read by hand. BENCHMARKS.md has the
// figures and what each step cut.
//
// Needs: both bundles built (make bundle bundle-official).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { BUNDLE_BUDGETS, gz } from '../../bench/size.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

for (const { file: bundle, built, maxGzip } of BUNDLE_BUDGETS) {
  test(`${bundle} is at most ${maxGzip} B gzipped`, () => {
    const file = path.join(REPO, bundle);
    assert.ok(existsSync(file), `${file} is missing: build it first (${built})`);
    const raw = readFileSync(file);
    const gzip = gz(raw);
    assert.ok(
      gzip <= maxGzip,
      `${bundle}: ${gzip} B gzipped (${raw.length} B raw), ${gzip - maxGzip} B over its budget of ${maxGzip} B; `
        + '`node bench/run.mjs --only size` shows where the bytes are',
    );
  });
}

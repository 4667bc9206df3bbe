// node --test plugin-shim/test/
// The size budget of each bundle a user can ship, gzipped (node's zlib at
// level 9, as bench/size.mjs measures it): a change that makes the plugin a
// heavier download for every agent fails here, not in a benchmark read by
// hand. BENCHMARKS.md has the figures and what each step cut.
//
// Needs: both bundles built (make bundle bundle-official).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { test } from 'node:test';

const SHIM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Issue 17's budget for the bundle Flex developers ship; the esbuild one
// (the tests' and the replays') is a little smaller and held as close.
const BUDGETS = [
  { bundle: 'build/plugin-dual-channel-recording.js', built: 'make bundle-official', maxGzip: 80_000 },
  { bundle: 'dist/plugin-dual-channel-recording.js', built: 'make bundle', maxGzip: 78_000 },
];

for (const { bundle, built, maxGzip } of BUDGETS) {
  test(`${bundle} is at most ${maxGzip} B gzipped`, () => {
    const file = path.join(SHIM, bundle);
    assert.ok(existsSync(file), `${file} is missing: build it first (${built})`);
    const raw = readFileSync(file);
    const gzip = zlib.gzipSync(raw, { level: 9 }).length;
    assert.ok(
      gzip <= maxGzip,
      `${bundle}: ${gzip} B gzipped (${raw.length} B raw), ${gzip - maxGzip} B over its budget of ${maxGzip} B; `
        + '`node bench/run.mjs --only size` shows where the bytes are',
    );
  });
}

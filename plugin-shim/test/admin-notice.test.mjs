// node --test plugin-shim/test/admin-notice.test.mjs
// The administrators' notice: with method "conference" and Flex's own Call
// Recording off, Flex Insights cannot reach the conference recordings. The
// core says so once; the shim shows it only to a user whose Flex roles
// include `admin`, never to an agent. Each real bundle, in the simulated Flex.
//
// Needs: both bundles built (make bundle bundle-official).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { NodeInstance } from '../../tests/replay/node-instance.mjs';

const SHIM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(SHIM, '..');
const BUNDLES = (process.env.PLUGIN_BUNDLES
  ? process.env.PLUGIN_BUNDLES.split(',').map((f) => path.resolve(REPO, f))
  : [
    path.join(SHIM, 'dist/plugin-dual-channel-recording.js'),
    path.join(SHIM, 'build/plugin-dual-channel-recording.js'),
  ]);
const NOTICE = 'PSDualChannelAdminNotice';

describe("the administrators' notice", () => {
  for (const bundleFile of BUNDLES) {
    const label = path.relative(REPO, bundleFile);
    test(`${label}: conference method without Flex's Call Recording: admins see it once, agents never`, async () => {
      assert.ok(existsSync(bundleFile), `${label} missing (make bundle bundle-official)`);
      // (roles, Flex's Call Recording, method, shown)
      const cases = [
        [['admin'], false, 'conference', true],
        [['agent', 'admin'], false, 'conference', true],
        [['agent'], false, 'conference', false],
        [['supervisor'], false, 'conference', false],
        [['admin'], true, 'conference', false],
        [['admin'], false, 'call-leg', false],
      ];
      for (const [roles, callRecordingEnabled, method, shown] of cases) {
        const lines = [];
        const inst = new NodeInstance('A', {
          bundleFile,
          flexOptions: {
            customData: { features: { dual_channel_recording: { enabled: true, method, channel: 'customer' } }, serverless_functions_domain: '127.0.0.1:9', serverless_functions_protocol: 'http' },
            callRecordingEnabled,
            roles,
            locale: 'en-US',
          },
          log: (line) => lines.push(line),
        });
        await inst.start();
        try {
          const ids = (await inst.notificationsShown()).filter((id) => id === NOTICE);
          const what = `${roles} ${callRecordingEnabled} ${method}`;
          assert.deepEqual(ids, shown ? [NOTICE] : [], what);
          const warned = lines.filter((l) => l.includes('Flex Insights cannot reach'));
          assert.equal(warned.length, method === 'conference' && !callRecordingEnabled ? 1 : 0, `${what}: console\n${lines.join('\n')}`);
        } finally {
          await inst.dispose();
        }
      }
    });
  }
});

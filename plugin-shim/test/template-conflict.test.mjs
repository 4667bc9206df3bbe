// node --test plugin-shim/test/
// The plugin's own block with a flex-project-template feature on as well:
// the shim hands the core the worker (`manager.workerClient.attributes`,
// `manager.user.roles`); the core logs the conflict for everyone and shows
// one notification to admins only. No backend request is needed for this.
//
// Needs: the esbuild bundle (make bundle).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { NodeInstance } from '../../tests/replay/node-instance.mjs';

const SHIM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = path.join(SHIM, 'dist/plugin-dual-channel-recording.js');
const CONFLICT = 'PSDualChannelTemplateConflict';

const both = {
  plugin_dual_channel_recording: { enabled: true, channel: 'customer', backend_url: 'http://127.0.0.1:9' },
  features: { dual_channel_recording: { enabled: true, channel: 'customer', backend_url: 'http://127.0.0.1:9' } },
};

// (what, custom_data, roles, worker attributes, notifications, conflict warnings logged)
const CASES = [
  ['an admin is shown the conflict', both, ['agent', 'admin'], {}, [CONFLICT], 1],
  ['an agent is shown nothing, the console says it', both, ['agent'], {}, [], 1],
  ['a supervisor is shown nothing', both, ['supervisor'], {}, [], 1],
  ['the template feature switched off by the worker\'s config_overrides: no conflict', both, ['admin'],
    { config_overrides: { features: { dual_channel_recording: { enabled: false } } } }, [], 0],
  ['the own block brought by the worker\'s config_overrides: a conflict for this admin', { features: both.features }, ['admin'],
    { config_overrides: { plugin_dual_channel_recording: both.plugin_dual_channel_recording } }, [CONFLICT], 1],
  ['no own block: the template\'s keys are the plugin\'s, no conflict', { features: both.features }, ['admin'], {}, [], 0],
];

for (const [what, customData, roles, workerAttributes, notifications, warnings] of CASES) {
  test(what, { skip: !existsSync(BUNDLE) && 'make bundle first' }, async () => {
    const lines = [];
    const inst = new NodeInstance('A', {
      bundleFile: BUNDLE,
      flexOptions: { customData, roles, workerAttributes },
      log: (line) => lines.push(line),
    });
    try {
      await inst.start();
      assert.deepEqual(await inst.notificationsShown(), notifications, lines.join('\n'));
      const conflicts = lines.filter((l) => l.includes('is in use and the flex-project-template'));
      assert.equal(conflicts.length, warnings, lines.join('\n'));
    } finally {
      await inst.dispose?.();
    }
  });
}

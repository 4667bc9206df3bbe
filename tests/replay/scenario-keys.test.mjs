// node --test tests/replay/scenario-keys.test.mjs
// How the runner reads the scenario keys that shape a run: instances with
// or without the plugin, and the custom_data the browser and the backend see.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { customDataOf, instanceSpecs } from './runner.mjs';

const specCases = [
  // [instances, specs]
  [undefined, [{ name: 'A', plugin: true }]],
  [['A', 'B'], [{ name: 'A', plugin: true }, { name: 'B', plugin: true }]],
  [[{ name: 'A', plugin: false }, 'B'], [{ name: 'A', plugin: false }, { name: 'B', plugin: true }]],
  [[{ name: 'C' }], [{ name: 'C', plugin: true }]],
];
for (const [instances, want] of specCases) {
  test(`instanceSpecs(${JSON.stringify(instances)})`, () => assert.deepEqual(instanceSpecs(instances), want));
}

const feature = { enabled: true, channel: 'customer' };
const other = { enabled: false };
const template = { features: { dual_channel_recording: feature, callback: { enabled: true } } };
const customCases = [
  // [name, scenario, browser custom_data, backend's custom_data]
  ['config alone', { config: feature }, { features: { dual_channel_recording: feature } }, { features: { dual_channel_recording: feature } }],
  ['config and serverConfig', { config: feature, serverConfig: other }, { features: { dual_channel_recording: feature } }, { features: { dual_channel_recording: other } }],
  ['config and serverConfig null', { config: feature, serverConfig: null }, { features: { dual_channel_recording: feature } }, { features: { dual_channel_recording: null } }],
  ['customData alone', { customData: template }, template, template],
  ['customData and serverCustomData', { customData: template, serverCustomData: { features: {} } }, template, { features: {} }],
  ['config and serverCustomData', { config: feature, serverCustomData: template }, { features: { dual_channel_recording: feature } }, template],
  ['customData and serverConfig', { customData: template, serverConfig: other }, template,
    { features: { dual_channel_recording: other, callback: { enabled: true } } }],
];
for (const [name, scenario, browser, server] of customCases) {
  test(`customDataOf: ${name}`, () => assert.deepEqual(customDataOf(scenario), { browser, server }));
}

// @ts-check
// Registers the plugin with Flex, which is all `loadPlugin` of
// @twilio/flex-plugin does (../shared/flex-facts.md).
import DualChannelRecordingPlugin from './DualChannelRecordingPlugin.js';

const plugins = /** @type {any} */ (globalThis).Twilio?.Flex?.Plugins;
if (plugins && typeof plugins.init === 'function') {
  plugins.init(DualChannelRecordingPlugin);
} else {
  console.warn('[dual-channel-recording]', 'Twilio.Flex.Plugins is missing: not running inside Flex.');
}

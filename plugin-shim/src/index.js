// @ts-check
// The plugin's entry, as in every Flex plugin project: hand the plugin class
// to Flex. `loadPlugin` calls `Twilio.Flex.Plugins.init(DualChannelRecordingPlugin)`;
// Flex then constructs it and calls `init(flex, manager)`.
import { loadPlugin } from '@twilio/flex-plugin';
import DualChannelRecordingPlugin from './DualChannelRecordingPlugin.js';

loadPlugin(DualChannelRecordingPlugin);

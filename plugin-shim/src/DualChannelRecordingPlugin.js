// @ts-check
import { FlexPlugin } from '@twilio/flex-plugin';
import { startFeature } from './feature/index.js';
import { loadCore } from './feature/core-loader.js';
import { log } from './feature/logger.js';

export const PLUGIN_NAME = 'DualChannelRecordingPlugin';

/** The Flex plugin: Flex constructs it and calls `init(flex, manager)`. */
export default class DualChannelRecordingPlugin extends FlexPlugin {
  constructor() {
    super(PLUGIN_NAME);
  }

  /**
   * Starts the feature and returns at once: the core is compiled in the
   * background, and nothing here throws into Flex.
   * @param {typeof import('@twilio/flex-ui')} flex
   * @param {import('@twilio/flex-ui').Manager} manager
   */
  init(flex, manager) {
    try {
      const api = startFeature(flex, manager, loadCore);
      /** @type {any} */ (globalThis).DualChannelRecording = api;
    } catch (error) {
      log('error', 'could not start; Flex continues without call recording.', error);
    }
  }
}

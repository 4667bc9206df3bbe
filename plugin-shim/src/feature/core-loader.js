// @ts-check
/**
 * Loads the Rust core. The wasm bytes are inside this bundle (a Flex plugin
 * deploys as one file); they are compiled asynchronously, off the path of
 * accepting a task.
 */
import initCore, { Engine } from '../../../pkg/dual_channel_recording.js';
import wasmBytes from '../../../pkg/dual_channel_recording_bg.wasm';

/** @returns {Promise<{ Engine: typeof Engine }>} */
export async function loadCore() {
  await initCore({ module_or_path: wasmBytes });
  return { Engine };
}

// @ts-check
/**
 * Loads the Rust core. The wasm bytes are inside this bundle as base64 (a Flex
 * plugin deploys as one file); `src/generated/` is written from `pkg/` by
 * scripts/gen-core.cjs before either build. The module is compiled and
 * instantiated asynchronously (`WebAssembly.instantiate`), off the path of
 * accepting a task: the feature queues what Flex says until it is ready.
 */
import initCore, { Engine } from '../generated/core.js';
import coreWasmBase64 from '../generated/core-wasm.js';

/**
 * @param {string} base64
 * @returns {Uint8Array}
 */
function decodeBase64(base64) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** @returns {Promise<{ Engine: typeof Engine }>} */
export async function loadCore() {
  // Let `init` return to Flex before the bytes are decoded.
  await Promise.resolve();
  await initCore({ module_or_path: decodeBase64(coreWasmBase64) });
  return { Engine };
}

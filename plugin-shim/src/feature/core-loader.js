// @ts-check
/**
 * Loads the Rust core. The wasm bytes are inside this bundle as a string, one
 * character per byte (a Flex plugin deploys as one file; gzip compresses that
 * better than base64); `src/generated/` is written from `pkg/` by
 * scripts/gen-core.cjs before either build. The module is compiled and
 * instantiated asynchronously (`WebAssembly.instantiate`), off the path of
 * accepting a task: the feature queues what Flex says until it is ready.
 */
import initCore, { Engine } from '../generated/core.js';
import { byteOf, text } from '../generated/core-wasm.js';

/** @returns {Uint8Array} the module's bytes (see scripts/gen-core.cjs) */
function wasmBytes() {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) bytes[i] = byteOf[text.charCodeAt(i)];
  return bytes;
}

/** @returns {Promise<{ Engine: typeof Engine }>} */
export async function loadCore() {
  // Let `init` return to Flex before the bytes are decoded.
  await Promise.resolve();
  await initCore({ module_or_path: wasmBytes() });
  return { Engine };
}

// @ts-check
/** Every line the plugin logs carries the feature's prefix, as the template's features do. */
const PREFIX = '[dual-channel-recording]';

/** @typedef {'debug' | 'info' | 'warn' | 'error'} Level */

/**
 * @param {Level} level
 * @param {...unknown} parts
 */
export function log(level, ...parts) {
  const sink = typeof console[level] === 'function' ? console[level] : console.log;
  sink.call(console, PREFIX, ...parts);
}

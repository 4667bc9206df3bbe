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

/**
 * The level for a failed pause or resume: the core names the error
 * `NothingRecordedError` when nothing is being recorded (any more) where it
 * would act, an expected outcome (another tab's hang-up came first), so it
 * is a debug line, not a warning.
 * @param {unknown} error
 * @returns {Level}
 */
export function controlFailureLevel(error) {
  return error instanceof Error && error.name === 'NothingRecordedError' ? 'debug' : 'warn';
}

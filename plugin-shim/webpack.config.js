// Customisation of the official builder's webpack configuration
// (`flex-plugin build` calls this with its generated config). It only
// (re)generates src/generated/ from ../pkg first: the core's glue without
// `import.meta` (webpack 4 cannot parse it) and the wasm bytes as a string
// module, so the build yields one JS file with the wasm inside.
const { generateCore } = require('./scripts/gen-core.cjs');

module.exports = (config) => {
  generateCore();
  // The wasm makes the one file larger than webpack's generic 244 KiB hint;
  // the plugin's own size budget (gzip) is measured by `make bench`.
  config.performance = { ...config.performance, hints: false };
  return config;
};

// Fast build of the plugin bundle with esbuild, from the same entry as the
// official build (`flex-plugin build`, see webpack.config.js): one classic
// script with the wasm inside it, at dist/plugin-dual-channel-recording.js.
// The replay runner and the tests use it; a Flex developer ships the official
// one (build/plugin-dual-channel-recording.js). Both get the core the same
// way: src/generated/, written from ../pkg by scripts/gen-core.cjs.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { generateCore } = require('./scripts/gen-core.cjs');

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = path.join(here, 'dist', 'plugin-dual-channel-recording.js');
const pkg = JSON.parse(readFileSync(path.join(here, 'package.json'), 'utf8'));

/** The installed version of a dependency, as the official builder reads it. */
function versionOf(name) {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [here] }), 'utf8')).version;
  } catch {
    return 'N/A';
  }
}

// The build-time globals that FlexPlugin reads, defined as the official
// builder (@twilio/flex-plugin-webpack) defines them.
const define = Object.fromEntries(
  Object.entries({
    __FPB_PLUGIN_UNIQUE_NAME: pkg.name,
    __FPB_PLUGIN_VERSION: pkg.version,
    __FPB_FLEX_PLUGIN_SCRIPTS_VERSION: versionOf('@twilio/flex-plugin-scripts'),
    __FPB_FLEX_PLUGIN_VERSION: versionOf('@twilio/flex-plugin'),
    __FPB_FLEX_UI_VERSION: versionOf('@twilio/flex-ui'),
    __FPB_REACT_VERSION: versionOf('react'),
    __FPB_REACT_DOM_VERSION: versionOf('react-dom'),
    __FPB_CRACO_CONFIG_FLEX_PLUGIN_VERSION: 'N/A',
  }).map(([k, v]) => [k, JSON.stringify(v)]),
);

// What Flex provides at run time is never bundled: these resolve to the
// globals Flex sets, as in the official build (its webpack `externals` and
// its `@twilio/flex-ui` shim).
const FLEX_GLOBALS = {
  '@twilio/flex-ui': 'globalThis.Twilio.Flex',
  react: 'globalThis.React',
  'react-dom': 'globalThis.ReactDOM',
  redux: 'globalThis.Redux',
  'react-redux': 'globalThis.ReactRedux',
};
const flexGlobals = {
  name: 'flex-globals',
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(FLEX_GLOBALS).map((n) => n.replace(/[/\\^$*+?.()|[\]{}-]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'flex-global' }));
    b.onLoad({ filter: /.*/, namespace: 'flex-global' }, (args) => ({
      contents: `module.exports = ${FLEX_GLOBALS[args.path]};`,
      loader: 'js',
    }));
  },
};

generateCore();
await build({
  absWorkingDir: here,
  entryPoints: [path.join(here, 'src', 'index.js')],
  bundle: true,
  format: 'iife',
  target: ['es2020'],
  minify: true,
  legalComments: 'none',
  define,
  plugins: [flexGlobals],
  outfile,
  logLevel: 'warning',
});
console.log(`built ${path.relative(process.cwd(), outfile)}`);

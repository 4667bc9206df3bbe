// Fast build of the plugin bundle with esbuild: one classic script with the
// wasm inside it. The official Flex builder (flex-plugin build) is the other
// way to build the same entry.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = path.join(here, 'dist', 'plugin-dual-channel-recording.js');

await build({
  entryPoints: [path.join(here, 'src', 'index.js')],
  bundle: true,
  format: 'iife',
  target: ['es2020'],
  minify: true,
  legalComments: 'none',
  loader: { '.wasm': 'binary' },
  // The glue's default wasm location (import.meta.url) is never used: the
  // bytes are passed in. Defining it keeps the bundle a classic script.
  define: { 'import.meta.url': '"plugin-dual-channel-recording.js"' },
  outfile,
  logLevel: 'warning',
});
console.log(`built ${path.relative(process.cwd(), outfile)}`);
